#!/usr/bin/env python3
"""`fog bench pool --fault ...` kills real replica processes under load and says what followed:

* `--fault leader-crash --repeat 2`: two kills, each of the replica the others name as leader
  (a different one each time: the view moved), each with a recovery of at least 100 ms (the
  view change waits out a round's timeout, 500 ms: a kill that did nothing would show the
  few ms of a normal commit);
* `--fault restart --down 3`: one replica killed for about 3 s while the others commit
  blocks, then its first answer and its return to the chain's tip;
* `--fault restart-all`: every replica killed at once and started again: each answers,
  none at a height below the one it told the client of (0 acknowledged transactions lost),
  and a transaction sent after the last start commits, at least 100 ms after it (each
  replica opens its store first);
* `--fault slow-leader`: the leader told (SIGUSR1) to hold each proposal 450 ms, just under
  the round timeout, is replaced: no replica in a view it leads, at least a second after the
  signal (the watch observes a second of its rounds first) and within 10 s (§5.2);
* `--fault forger`: a replica that does not lead sends forged votes; the others convict it
  (at least one conviction, messages of it dropped unread) and the load commits;
* `--leaders 2` at 4 replicas (f = 1), a bad `--fault` name, and a `--hold` or `--forge-rate`
  out of range are usage errors (exit 2) naming what is allowed.

Afterwards no replica process is left and the temporary folder is gone. It asserts no speed
(§5.2's bounds are for docs/benchmarks.md): a missing figure, a kill without a recovery or a
replica that never comes back fails.

Usage: fog_bench_pool_fault_test.py FOG
"""
import json
import subprocess
import sys

import bench_figures

COMMON = ["--quick", "--json", "--rate", "300", "--warmup", "0.5"]


def run_fault(fog, args, kind, count):
    """Runs one fault benchmark in its own folder; its JSON object, of fault `kind` with `count`
    events, or None after saying why."""
    run = bench_figures.run_leaving_nothing([fog, "bench", "pool", *COMMON, *args, "--tmp"],
                                            "fog-bench-fault-test-", 170)
    if run is None:
        return None
    found = bench_figures.figures(run, ["tx_per_s"], "fog bench pool " + " ".join(args),
                                  "the fault run did not complete")
    if found is None:
        return None
    fault = found.get("fault")
    if not isinstance(fault, dict) or "error" in fault:
        print(f"FAIL: no fault figures, or an error: {json.dumps(fault)}")
        return None
    print(json.dumps(fault, indent=2))
    events = fault.get("events", [])
    if fault.get("kind") != kind or len(events) != count:
        print(f"FAIL: expected {count} {kind} event(s), got {events}")
        return None
    return fault


def positive(event, key):
    value = event.get(key)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0


def main():
    fog = sys.argv[1]
    failures = 0

    crash = run_fault(fog, ["--fault", "leader-crash", "--repeat", "2"], "leader-crash", 2)
    if crash is None:
        failures += 1
    else:
        events = crash["events"]
        victims = [e.get("replica") for e in events]
        if victims[0] == victims[1]:
            print(f"FAIL: the second kill should find another leader: {victims}")
            failures += 1
        elif not all(positive(e, "recovery_ms") and e["recovery_ms"] >= 100 for e in events) \
                or not positive(crash, "recovery_p50_ms"):
            print("FAIL: a kill without a recovery time of at least 100 ms")
            failures += 1

    restart = run_fault(fog, ["--fault", "restart", "--down", "3"], "restart", 1)
    if restart is None:
        failures += 1
    else:
        e = restart["events"][0]
        if not (positive(e, "down_s") and e["down_s"] >= 3):
            print(f"FAIL: down {e.get('down_s')} s, asked 3")
            failures += 1
        if not all(positive(e, k) for k in ("behind_blocks", "answer_ms", "tip_ms")) \
                or e["tip_ms"] < e["answer_ms"]:
            print(f"FAIL: behind, first answer and tip should be positive, tip after the "
                  f"answer: {e}")
            failures += 1

    everyone = run_fault(fog, ["--fault", "restart-all"], "restart-all", 4)
    if everyone is None:
        failures += 1
    else:
        events = everyone["events"]
        if not all(positive(e, k) for e in events for k in ("answer_ms", "told_height",
                                                               "back_height")):
            print(f"FAIL: every replica should have told a height and answered again: {events}")
            failures += 1
        elif any(e["back_height"] < e["told_height"] for e in events) or everyone.get("lost"):
            print(f"FAIL: a replica came back below a height it told: {events}")
            failures += 1
        elif not (positive(everyone, "resume_ms") and everyone["resume_ms"] >= 100):
            print(f"FAIL: commits should resume, not at once: {everyone.get('resume_ms')}")
            failures += 1

    slow = run_fault(fog, ["--fault", "slow-leader", "--seconds", "4"], "slow-leader", 1)
    if slow is None:
        failures += 1
    else:
        e = slow["events"][0]
        if not (positive(e, "replaced_ms") and 900 <= e["replaced_ms"] <= 10000):
            print(f"FAIL: the slow leader should be replaced after about a second, within 10 s: "
                  f"{e}")
            failures += 1

    forger = run_fault(fog, ["--fault", "forger", "--seconds", "2", "--forge-rate", "2000"],
                       "forger", 1)
    if forger is None:
        failures += 1
    elif not (positive(forger, "convictions") and positive(forger, "muted_messages")):
        print(f"FAIL: the forger should be convicted and muted: {forger}")
        failures += 1

    for args, named in ((["--fault", "meteor"], "restart-all"),
                        (["--fault", "leader-crash", "--leaders", "2"], "--leaders takes 1 to f = 1"),
                        (["--fault", "slow-leader", "--hold", "0"], "--hold takes"),
                        (["--fault", "forger", "--forge-rate", "100001"], "--forge-rate takes")):
        bad = subprocess.run([fog, "bench", "pool", *args], capture_output=True, text=True,
                             timeout=30)
        if bad.returncode != 2 or named not in bad.stderr:
            print(f"FAIL: {' '.join(args)}: exit {bad.returncode}, {bad.stderr!r}")
            failures += 1

    if failures:
        print(f"{failures} check(s) failed")
        return 1
    print("leader-crash, restart, restart-all, slow-leader and forger measured; no replica left, "
          "no folder left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
