#!/usr/bin/env python3
"""`fog bench pool --quick --json` starts a fresh pool of replica processes, drives transfers at
it and prints one JSON object whose figures are all there and positive; afterwards none of its
replica processes is left running and its temporary folder is gone.

Usage: fog_bench_pool_test.py FOG. It asserts no speed: a slow machine passes, a missing or zero
figure (a phase that did not run, nothing committed) fails.
"""
import json
import os
import subprocess
import sys
import tempfile

import bench_figures
from fog_cli import processes_naming

KEYS = ["tx_per_s", "p50_ms", "p99_ms", "bound_tx_per_s", "verify_per_s", "replicas",
        "cpu_ms_per_tx", "ratio_to_bound", "half_load_rate", "max_rate", "seconds",
        "verify_all_cores_per_s", "all_cores_tx_per_s"]


def main():
    fog = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="fog-bench-pool-test-") as tmp:
        run = subprocess.run([fog, "bench", "pool", "--quick", "--json", "--tmp", tmp],
                             capture_output=True, text=True, timeout=280)
        print(run.stderr, end="")  # the tables
        left = processes_naming(tmp)
        remaining = os.listdir(tmp)
    if left:
        print("FAIL: replica processes still running:\n  " + "\n  ".join(map(str, left)))
        return 1
    if remaining:
        print(f"FAIL: the temporary fog was not removed: {remaining}")
        return 1
    figures = bench_figures.figures(run, KEYS, "fog bench pool", "the run did not complete")
    if figures is None:
        return 1
    if figures.get("mismatched_replies") != 0:
        print("FAIL: replicas disagreed on a committed transaction")
        return 1
    print(json.dumps(figures, indent=2))
    print(f"{len(KEYS)} figures present and positive; no replica left, no folder left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
