#!/usr/bin/env python3
"""Flow throughput: items per second per core through a flow built by floc (window + map +
filter + reduce over f64 items), beside a hand-written C++ loop doing the same work in the same
run (bench/flow_hand.cpp). Python 3 standard library only.

The flow takes a clock source of one item every --period seconds (passes are 0.125 s, so
0.125 / period items a pass), maps it through ctof, filters 32 < f < 1e12 and averages 1 s
windows. The program is run for --until seconds of simulated time and for 1 s (the fixed cost:
exec, image decoding, the first passes), each --runs times; the flow's rate is
    (items(until) - items(1)) / (t(until) - t(1))
with the items counted by the program's --stats and t the process's wall time. The hand loop
times itself. Both results must agree (the same windows and the same last mean).

    python3 bench/flow_bench.py [--floc build/bin/floc] [--hand build/bin/flo_flow_hand]
                                [--period 1e-7] [--until 8] [--runs 3] [--json]

Nothing here asserts a time; it prints figures.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

PROGRAM = """deed ctof
  input c as f64
  output f as f64
  let f = c * 9.0 / 5.0 + 32.0

flow load from every {period}
  buffer {capacity} block
  map ctof
  filter value > 32.0 and value < 1e12
  window 1s
  reduce mean into .out

house bench
  framer clock be active first run
    frame run
      timeout {until}
    frame stop
      bid stop me
"""


def flow_run(exe, until):
    store = exe + ".store"
    t0 = time.perf_counter()
    p = subprocess.run([exe, "--stats", "--store", store, "--until", str(until)],
                       capture_output=True, text=True, timeout=600)
    secs = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"flow program failed: {p.stderr}")
    m = re.search(r"flow load: (\d+) items, (\d+) filtered out.*?(\d+) windows written", p.stderr)
    if not m:
        sys.exit(f"no flow stats in: {p.stderr!r}")
    with open(store) as f:
        out = re.search(r"^\.out value=(.*)$", f.read(), re.M)
    return int(m.group(1)), int(m.group(3)), float(out.group(1)), secs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--floc", default=os.path.join(ROOT, "build", "bin", "floc"))
    ap.add_argument("--hand", default=os.path.join(ROOT, "build", "bin", "flo_flow_hand"))
    ap.add_argument("--period", type=float, default=1e-7)
    ap.add_argument("--until", type=float, default=8.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    per_pass = int(0.125 / a.period) + 2
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for until in (1.0, a.until):
            src = os.path.join(tmp, f"flow{int(until)}.flo")
            with open(src, "w") as f:
                f.write(PROGRAM.format(period=f"{a.period:.10f}".rstrip("0"), until=until,
                                       capacity=per_pass))
            exe = os.path.join(tmp, f"flow{int(until)}")
            b = subprocess.run([a.floc, "build", "-O2", src, "-o", exe], capture_output=True,
                               text=True)
            if b.returncode != 0:
                sys.exit(f"floc build failed: {b.stderr}")
            results[until] = exe
        flow_rates, hand_rates, check = [], [], None
        for _ in range(a.runs):
            i1, _, _, t1 = flow_run(results[1.0], 1.0)
            items, windows, mean, t = flow_run(results[a.until], a.until)
            flow_rates.append((items - i1) / (t - t1))
            h = subprocess.run([a.hand, str(a.period), str(a.until)], capture_output=True,
                               text=True, check=True).stdout.split()
            hand_rates.append(float(h[4]))
            check = (items, windows, mean, int(h[0]), int(h[1]), float(h[2]))
    items, windows, mean, h_items, h_windows, h_mean = check
    agree = items == h_items and windows == h_windows and abs(mean - h_mean) <= 1e-9 * abs(h_mean)
    flow, hand = statistics.median(flow_rates), statistics.median(hand_rates)
    report = {"items_per_run": items, "windows": windows, "flow_items_per_s": round(flow),
              "hand_items_per_s": round(hand), "ratio": round(flow / hand, 3),
              "results_agree": agree, "runs": a.runs, "period": a.period, "until": a.until}
    if a.json:
        print(json.dumps(report))
    else:
        print(f"flow (window + map + filter + reduce), {items:,} items in {windows} windows:")
        print(f"  floc-built flow: {flow / 1e6:8.1f} M items/s per core")
        print(f"  hand C++ loop:   {hand / 1e6:8.1f} M items/s per core")
        print(f"  ratio flow/hand: {flow / hand:.2f}   (results agree: {agree})")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())
