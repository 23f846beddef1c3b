#!/usr/bin/env python3
"""`fog bench pool --quick --json` starts a fresh pool of replica processes, drives transfers at
it and prints one JSON object whose figures are all there and positive, with the view changes
of every phase counted; afterwards none of its replica processes is left running and its
temporary folder is gone.

Usage: fog_bench_pool_test.py FOG. It asserts no speed: a slow machine passes, a missing or zero
figure (a phase that did not run, nothing committed) fails.
"""
import json
import sys

import bench_figures

KEYS = ["tx_per_s", "p50_ms", "p99_ms", "bound_tx_per_s", "verify_per_s", "replicas",
        "cpu_ms_per_tx", "ratio_to_bound", "half_load_rate", "max_rate", "seconds",
        "verify_all_cores_per_s", "all_cores_tx_per_s"]


def main():
    fog = sys.argv[1]
    run = bench_figures.run_leaving_nothing([fog, "bench", "pool", "--quick", "--json", "--tmp"],
                                            "fog-bench-pool-test-", 280)
    if run is None:
        return 1
    figures = bench_figures.figures(run, KEYS, "fog bench pool", "the run did not complete")
    if figures is None:
        return 1
    if figures.get("mismatched_replies") != 0:
        print("FAIL: replicas disagreed on a committed transaction")
        return 1
    # Counted, not asserted to be 0 (a loaded machine may time a round out); but every replica
    # answers, so each phase has a count.
    counts = [figures.get("view_changes"), figures.get("view_changes_at_half")] + \
        [step.get("view_changes") for step in figures.get("ramp", [])]
    if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts):
        print(f"FAIL: a phase without its count of view changes: {counts}")
        return 1
    print(json.dumps(figures, indent=2))
    print(f"{len(KEYS)} figures present and positive; no replica left, no folder left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
