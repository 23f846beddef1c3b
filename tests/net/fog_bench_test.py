#!/usr/bin/env python3
"""`fog bench net --quick --json` runs every phase of the transport benchmark and prints one JSON
object whose figures are all there and positive.

Usage: fog_bench_test.py FOG. It asserts no speed: a slow machine passes, a missing or zero
figure (a phase that did not run or did not complete) fails.
"""
import json
import subprocess
import sys

import bench_figures

KEYS = ["small_ratio_vs_tcp", "large_ratio_vs_tcp", "large_mb_per_s", "tcp_large_mb_per_s",
        "first_contact_ms_p50", "small_msg_per_s", "tcp_small_msg_per_s", "handshake_ms_p50",
        "tcp_connect_ms_p50", "logs_held_ms_p50", "lossy_mb_per_s", "runs"]


def main():
    fog = sys.argv[1]
    run = subprocess.run([fog, "bench", "net", "--quick", "--json"], capture_output=True,
                         text=True, timeout=240)
    print(run.stderr, end="")  # the tables
    figures = bench_figures.figures(run, KEYS, "fog bench net", "a phase did not complete")
    if figures is None:
        return 1
    print(json.dumps(figures, indent=2))
    print(f"{len(KEYS)} figures present and positive")
    return 0


if __name__ == "__main__":
    sys.exit(main())
