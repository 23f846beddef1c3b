#!/usr/bin/env python3
"""Fails when a C++ source of the project is not formatted by the checked-in .clang-format.

Usage: check_format.py CLANG_FORMAT SOURCE_DIR. Prints the files that differ; fix them with
`clang-format-19 -i FILE...`.
"""
import pathlib
import subprocess
import sys

FOLDERS = ["lang", "compiler", "stdlib", "runtime", "core", "sim", "pool", "relay", "fog",
           "tests", "bench"]


def main():
    clang_format, root = sys.argv[1], pathlib.Path(sys.argv[2])
    files = sorted(str(p) for folder in FOLDERS for ext in ("*.cpp", "*.h")
                   for p in (root / folder).rglob(ext) if (root / folder).exists())
    bad = []
    for f in files:
        r = subprocess.run([clang_format, "--dry-run", "-Werror", f], capture_output=True)
        if r.returncode != 0:
            bad.append(f)
    for f in bad:
        print(f"not formatted: {f}")
    print(f"{len(files) - len(bad)} of {len(files)} files formatted")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
