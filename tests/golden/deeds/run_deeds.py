#!/usr/bin/env python3
"""Golden tests for deeds written in Flo (compiler/codegen/deeds.cpp) and for flows
(tests/golden/flows: runtime/flow.cpp and the item functions codegen makes).

Every NAME.flo in this directory (or in the files' own directories) is built with `floc build`, then run with `--store`; NAME.expected
holds everything that must come out, in order:

    build: <floc's exit status>
    <floc's diagnostics, when it printed any>
    run: <the program's exit status>          (only when the build succeeded)
    stdout:
    <the program's output>
    stderr:
    <run-time errors: located, exit status 1, never a signal>
    store:
    <the final store (--store)>

A `# run-args: ARGS` line at the top of NAME.flo gives the program more arguments (`--until 31
-v --stats`); `--store FILE` is always passed.

Usage: run_deeds.py [--floc PATH] [--target aarch64-linux-gnu] [--update] [FILE...]
With --target aarch64-linux-gnu the programs are built for aarch64 and run under qemu-aarch64:
the same .expected files must match. --update rewrites them from what happens now.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def run(cmd, cwd):
    p = subprocess.run(cmd, cwd=cwd, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def run_args(path):
    """The `# run-args:` of a program (its leading comment block)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.startswith("#"):
                break
            if line.startswith("# run-args:"):
                return line.split(":", 1)[1].split()
    return []


def outcome(floc, target, path, tmp):
    here = os.path.dirname(os.path.abspath(path))
    name = os.path.splitext(os.path.basename(path))[0]
    exe = os.path.join(tmp, name)
    cmd = [floc, "build", "--color=never", name + ".flo", "-o", exe]
    if target:
        cmd += ["--target", target]
    code, out, err = run(cmd, here)
    text = f"build: {code}\n" + out + err
    if code != 0:
        return text
    store = os.path.join(tmp, name + ".store")
    cmd = [exe, "--store", store] + run_args(path)
    if target and target.startswith("aarch64"):
        cmd = ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu"] + cmd
    code, out, err = run(cmd, here)
    text += f"run: {code}\nstdout:\n{out}stderr:\n{err}store:\n"
    if os.path.exists(store):
        with open(store, encoding="utf-8") as f:
            text += f.read()
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floc", default=os.path.join(ROOT, "build", "bin", "floc"))
    ap.add_argument("--target", default="")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("files", nargs="*")
    args = ap.parse_args()
    files = args.files or sorted(glob.glob(os.path.join(HERE, "*.flo")))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="flo-deeds-") as tmp:
        for path in files:
            name = os.path.splitext(os.path.basename(path))[0]
            got = outcome(os.path.abspath(args.floc), args.target, path, tmp)
            expected_path = os.path.join(os.path.dirname(os.path.abspath(path)), name + ".expected")
            if args.update:
                with open(expected_path, "w", encoding="utf-8") as f:
                    f.write(got)
                print(f"updated {name}")
                continue
            try:
                with open(expected_path, encoding="utf-8") as f:
                    want = f.read()
            except FileNotFoundError:
                want = None
            if got == want:
                print(f"ok {name}")
                continue
            failed += 1
            print(f"FAIL {name}")
            if want is None:
                print("  no .expected file")
            else:
                import difflib
                for line in difflib.unified_diff(want.splitlines(), got.splitlines(), "expected",
                                                 "got", lineterm=""):
                    print("  " + line)
    print(f"{len(files) - failed}/{len(files)} passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
