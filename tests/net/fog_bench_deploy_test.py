#!/usr/bin/env python3
"""`fog bench deploy --count 3 --json` on a fresh local fog: it runs to the end, every figure
the issue names is present and sane (latencies positive, p50 <= p99, runs settled, the foggers'
idle memory read). No figure is asserted against its goal: speed is the benchmark's to report
(docs/benchmarks.md), not a test's.

Usage: fog_bench_deploy_test.py FOG
"""
import json
import subprocess
import sys

fog = sys.argv[1]
r = subprocess.run([fog, "bench", "deploy", "--count", "3", "--json"], capture_output=True,
                   text=True, timeout=240)
if r.returncode != 0:
    print(f"FAIL: fog bench deploy exited {r.returncode}: {r.stderr}")
    sys.exit(1)
j = json.loads(r.stdout)
problems = []
for key in ("first_result_ms_p50", "first_result_ms_p99", "job_runs_settled_per_s",
            "fogger_idle_rss_mb", "first_deploy_first_result_ms"):
    if not isinstance(j.get(key), (int, float)) or j[key] <= 0:
        problems.append(f"{key} = {j.get(key)}")
if j.get("first_result_ms_p50", 0) > j.get("first_result_ms_p99", 0):
    problems.append("p50 above p99")
if len(j.get("foggers", [])) != 2:
    problems.append(f"foggers: {j.get('foggers')}")
if problems:
    print("FAIL: " + "; ".join(problems) + f"\n{r.stdout}")
    sys.exit(1)
print(f"PASS fog bench deploy: {json.dumps(j)}")
