#!/usr/bin/env python3
"""`floc check` end to end on programs of every shape (docs/benchmarks.md, issue 12 §1).

For each shape of gen_floscript.py (`realistic` and the extreme ones: deep nesting, a wide
framer, thousands of warnings, many framers, far transitions, long paths, aux and clones) writes
a program of about N lines to /tmp, runs `floc check` on it R times with stderr to a file, and
prints the best run: wall time, CPU time (user + sys, less sensitive to a busy machine), lines
per second of each, peak RSS, the exit status and the warnings reported.

    check_shapes.py [--floc PATH] [--lines N] [--runs R] [--shapes a,b,...]
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = ["realistic", "deep", "wide", "warnings", "framers", "far", "paths", "aux"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--floc", default=os.path.join(HERE, "..", "build-bench", "bin", "floc"))
    ap.add_argument("--lines", type=int, default=100000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--shapes", default=",".join(SHAPES))
    args = ap.parse_args()
    print(f"{'shape':10} {'lines':>8} {'wall s':>7} {'lines/s':>9} {'cpu s':>7} {'lines/s':>9}"
          f" {'RSS MB':>7}  status")
    for shape in args.shapes.split(","):
        path = f"/tmp/flo_shape_{shape}_{args.lines}.flo"
        subprocess.run([sys.executable, os.path.join(HERE, "gen_floscript.py"), str(args.lines),
                        "--shape", shape, "-o", path], check=True, stderr=subprocess.DEVNULL)
        with open(path, "rb") as f:
            lines = f.read().count(b"\n")
        best = None
        for _ in range(args.runs):
            with open(path + ".err", "w") as err:
                start = time.monotonic()
                p = subprocess.Popen([args.floc, "check", path], stdout=subprocess.DEVNULL,
                                     stderr=err)
                _, status, usage = os.wait4(p.pid, 0)
                wall = time.monotonic() - start
            cpu = usage.ru_utime + usage.ru_stime
            if best is None or wall < best[0]:
                best = (wall, cpu, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status))
        wall, cpu, rss, code = best
        with open(path + ".err", errors="replace") as f:
            tail = f.read()[-200:]
        m = re.search(r"(\d+) warnings? generated", tail)
        note = f"exit {code}" + (f", {m.group(1)} warnings" if m else "")
        print(f"{shape:10} {lines:8} {wall:7.2f} {lines / wall:9.0f} {cpu:7.2f} {lines / cpu:9.0f}"
              f" {rss:7.0f}  {note}", flush=True)


if __name__ == "__main__":
    main()
