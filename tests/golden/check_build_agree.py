#!/usr/bin/env python3
"""`floc check` and `floc build` must reject the same programs (issue 12: meaning belongs to
the checker; a later stage never finds an error the checker let through).

Runs both over every golden file, every example and the parser's fuzz corpus, and compares
their verdicts (exit 0 or not). The constructs the code generator does not build yet are listed
in KNOWN with why: a new disagreement fails the test, and so does a listed one that went away
(remove it from the list), so the list stays what is left to do.

usage: check_build_agree.py FLOC SOURCE_DIR
"""
import concurrent.futures
import glob
import os
import subprocess
import sys
import tempfile

# file (relative to the source dir): what only `floc build` refuses today
KNOWN = {
    "tests/golden/deeds/build_errors.flo": "a deed port of type str (code generation)",
    "tests/golden/check/servers.flo": "servers (code generation)",
    "tests/golden/check/unwritten_share_server.flo": "servers (code generation)",
    "tests/golden/check/loggers.flo": "binary logs (code generation)",
    "tests/golden/check/unwritten_share_ioflo_deed.flo": "Ioflo's demonstration deeds",
    "tests/golden/check/extensions_flow_job.flo": "a job that runs a flow (flows do not run yet)",
}


def verdicts(floc, path, out):
    check = subprocess.run([floc, "check", path], capture_output=True, timeout=120)
    build = subprocess.run([floc, "build", path, "-o", out], capture_output=True, timeout=300)
    first = build.stderr.decode(errors="replace").splitlines()[:1]
    return check.returncode, build.returncode, first[0] if first else ""


def main():
    floc, root = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    files = sorted(glob.glob(f"{root}/tests/golden/**/*.flo", recursive=True) +
                   glob.glob(f"{root}/examples/*.flo") +
                   glob.glob(f"{root}/tests/fuzz/corpus/*"))
    problems, seen = [], set()
    with tempfile.TemporaryDirectory(prefix="agree-") as tmp, \
            concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        jobs = {f: pool.submit(verdicts, floc, f, os.path.join(tmp, f"x{i}"))
                for i, f in enumerate(files)}
        for f, job in jobs.items():
            rel = os.path.relpath(f, root)
            c, b, why = job.result()
            if (c == 0) == (b == 0):
                continue
            seen.add(rel)
            if rel in KNOWN:
                continue
            side = "check accepts, build refuses" if c == 0 else "check refuses, build accepts"
            problems.append(f"{rel}: {side} (check {c}, build {b}) {why}")
    for rel in sorted(set(KNOWN) - seen):
        problems.append(f"{rel}: listed in KNOWN ({KNOWN[rel]}) but check and build now agree: "
                        f"remove it from the list")
    for p in problems:
        print(p)
    print(f"{len(files)} programs, {len(seen)} disagreements ({len(seen & set(KNOWN))} known), "
          f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
