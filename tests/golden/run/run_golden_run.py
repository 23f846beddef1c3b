#!/usr/bin/env python3
"""Golden run tests: build each .flo program with `floc build`, run it, compare what it does.

Every test is a pair NAME.flo / NAME.expected in this directory. NAME.expected holds the exact
stdout of the built program (its `*** ... ***` print lines). Optional directives sit in the
comment block at the top of NAME.flo:

    # run-args: --period 0.1     arguments for the executable (default: none, period 0.125)
    # exit: 1                    expected exit status (default 0)
    # store: .count value=3      a line that must appear verbatim in the final store dump
                                 (repeatable; the dump is written with `--store FILE`)
    # store-absent: .framer.m_r[2-9]*
                                 no share of the final store may have this path or lie under it
                                 (a glob per dotted segment: `*`, `?`, `[...]`; repeatable)
    # file: out/a.txt NAME.a.txt  a file the program writes (relative to its working directory,
                                 a fresh temporary one) must equal NAME.a.txt beside NAME.flo
    # checks: TEXT               what the test covers, when less than the program seems to do
                                 (printed with PASS, so that it does not pose as more)
    # xfail: TEXT                the test is known to fail (a bug not fixed yet, which the
                                 comments explain) with one problem, whose report contains
                                 TEXT: it passes while it fails so, and fails otherwise, also
                                 once the bug is fixed (then the directive goes)

When NAME.store sits beside NAME.expected, the final store dump must equal it exactly: every
share and every field, nothing more (for a test about what the store holds).

Usage:
    run_golden_run.py --floc PATH [--target x86_64-linux-gnu|aarch64-linux-gnu]
                      [--qemu CMD] [--expected-dir DIR] [FILES...]

With no FILES every .flo file of this directory is run. --qemu prefixes the executable with a
command (split on spaces), e.g. --qemu 'qemu-aarch64 -L /usr/aarch64-linux-gnu'. Prints one
PASS/FAIL (or XFAIL) line per test, with details under a failure, and exits 1 if any test
failed. With --expected-dir (the examples), NAME.expected, NAME.store and NAME.directives (more
directives) are read from that directory.
"""
import argparse
import difflib
import fnmatch
import glob
import os
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD_TIMEOUT = 120  # seconds for `floc build`
RUN_TIMEOUT = 20  # seconds for the built program


@dataclass
class Directives:
    run_args: list = field(default_factory=list)
    exit_status: int = 0
    store_lines: list = field(default_factory=list)
    store_absent: list = field(default_factory=list)
    files: list = field(default_factory=list)
    xfail: str = ""
    checks: str = ""


def read_directives(path):
    """Directives of the leading comment block (the lines before the first non-comment line)."""
    found = Directives()
    with open(path, encoding="utf-8") as f:
        for line in f:
            text = line.strip()
            if not text.startswith("#"):
                break
            body = text[1:].strip()
            key, sep, value = body.partition(":")
            if not sep:
                continue
            value = value.strip()
            if key == "run-args":
                found.run_args += shlex.split(value)
            elif key == "exit":
                found.exit_status = int(value)
            elif key == "store":
                found.store_lines.append(value)
            elif key == "store-absent":
                found.store_absent.append(value)
            elif key == "checks":
                found.checks = value
            elif key == "xfail":
                found.xfail = value
            elif key == "file":
                written, expected = value.split()
                found.files.append((written, expected))
    return found


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return None


def under(path, pattern):
    """Whether share `path` matches `pattern` or lies under a path that does; the pattern is a
    glob per dotted segment (`*`, `?` and `[...]` stay within a segment)."""
    parts, wanted = path.split("."), pattern.split(".")
    return len(parts) >= len(wanted) and all(
        fnmatch.fnmatchcase(part, glob) for part, glob in zip(parts, wanted))


def indent(text):
    return "".join("    " + line + "\n" for line in text.rstrip("\n").splitlines())


def expectations_base(flo, args):
    """NAME.flo's path without .flo, or NAME in --expected-dir."""
    name = os.path.splitext(os.path.basename(flo))[0]
    return os.path.join(args.expected_dir, name) if args.expected_dir else os.path.splitext(flo)[0]


def directives_of(flo, args):
    """NAME.flo's directives, with those of NAME.directives in --expected-dir."""
    directives = read_directives(flo)
    base = expectations_base(flo, args)
    if args.expected_dir and os.path.exists(base + ".directives"):
        extra = read_directives(base + ".directives")
        directives.run_args += extra.run_args
        directives.exit_status = extra.exit_status
        directives.store_lines += extra.store_lines
        directives.store_absent += extra.store_absent
        directives.checks = extra.checks or directives.checks
        directives.xfail = extra.xfail or directives.xfail
    return directives


def run_test(flo, args, workdir):
    """Build and run one program; return a list of problems (empty = pass)."""
    name = os.path.splitext(os.path.basename(flo))[0]
    base = expectations_base(flo, args)
    expected = read_text(base + ".expected")
    if expected is None:
        return [f"missing {name}.expected"]
    directives = directives_of(flo, args)
    exact_store = read_text(base + ".store")

    exe = os.path.join(workdir, name)
    build = [args.floc, "build", flo, "-o", exe]
    if args.target:
        build += ["--target", args.target]
    try:
        built = subprocess.run(build, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        return [f"floc build timed out after {BUILD_TIMEOUT} s"]
    if built.returncode != 0:
        output = (built.stderr + built.stdout).strip() or "(no output)"
        return [f"floc build exited {built.returncode}:\n" + indent(output)]

    store = exe + ".store"
    command = shlex.split(args.qemu) if args.qemu else []
    command += [exe] + directives.run_args + ["--store", store]
    try:
        ran = subprocess.run(command, capture_output=True, timeout=RUN_TIMEOUT, cwd=workdir)
    except subprocess.TimeoutExpired:
        return [f"timed out after {RUN_TIMEOUT} s (the run never ended)"]
    stdout = ran.stdout.decode("utf-8", "replace")
    stderr = ran.stderr.decode("utf-8", "replace")

    problems = []
    if stdout != expected:
        diff = difflib.unified_diff(expected.splitlines(keepends=True),
                                    stdout.splitlines(keepends=True),
                                    fromfile=f"{name}.expected", tofile=f"{name} stdout")
        problems.append("stdout differs:\n" + indent("".join(diff)))
    if ran.returncode != directives.exit_status:
        problems.append(f"exit status {ran.returncode}, expected {directives.exit_status}"
                        + (":\n" + indent(stderr) if stderr.strip() else ""))
    if directives.store_lines or directives.store_absent or exact_store is not None:
        dump = read_text(store)
        if dump is None:
            problems.append("no store dump was written")
        else:
            lines = dump.splitlines()
            if exact_store is not None and dump != exact_store:
                diff = difflib.unified_diff(exact_store.splitlines(keepends=True),
                                            dump.splitlines(keepends=True),
                                            fromfile=f"{name}.store", tofile=f"{name} store dump")
                problems.append("store differs:\n" + indent("".join(diff)))
            for pattern in directives.store_absent:
                found = [line for line in lines if under(line.split(" ", 1)[0], pattern)]
                if found:
                    problems.append(f"store holds what must be absent: {pattern}\n"
                                    + indent("\n".join(found)))
            for wanted in directives.store_lines:
                if wanted not in lines:
                    path = wanted.split(" ", 1)[0]
                    actual = [line for line in lines if line.split(" ", 1)[0] == path]
                    problems.append(f"store line missing: {wanted}\n"
                                    + indent("\n".join(actual) if actual else "(no such share)"))
    for written, expected_name in directives.files:
        actual = read_text(os.path.join(workdir, written))
        wanted = read_text(os.path.join(os.path.dirname(flo), expected_name))
        if actual is None:
            problems.append(f"the program wrote no {written}")
        elif wanted is None:
            problems.append(f"missing {expected_name}")
        elif actual != wanted:
            diff = difflib.unified_diff(wanted.splitlines(keepends=True),
                                        actual.splitlines(keepends=True),
                                        fromfile=expected_name, tofile=written)
            problems.append(f"{written} differs:\n" + indent("".join(diff)))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--floc", required=True, help="the floc executable")
    parser.add_argument("--target", choices=["x86_64-linux-gnu", "aarch64-linux-gnu"],
                        help="passed to `floc build --target`")
    parser.add_argument("--qemu", help="command prefix for the built programs (split on spaces)")
    parser.add_argument("--expected-dir",
                        help="read NAME.expected (and NAME.store and directives from "
                             "NAME.directives, if any) from this directory instead of beside "
                             "NAME.flo")
    parser.add_argument("files", nargs="*", help="the .flo tests (default: all in this directory)")
    args = parser.parse_args()

    files = [os.path.abspath(f) for f in args.files] or sorted(glob.glob(os.path.join(HERE, "*.flo")))
    if not files:
        sys.exit("no .flo tests found")

    failed = 0
    with tempfile.TemporaryDirectory(prefix="golden-run-") as workdir:
        for flo in files:
            name = os.path.splitext(os.path.basename(flo))[0]
            problems = run_test(flo, args, workdir)
            directives = directives_of(flo, args)
            xfail = directives.xfail
            if xfail:
                if len(problems) == 1 and xfail in problems[0]:
                    print(f"XFAIL {name} (known: {xfail})")
                    problems = []
                else:
                    problems = [f"marked `xfail: {xfail}`, but "
                                + ("passes: remove the directive" if not problems else
                                   "fails otherwise:")] + problems
            if problems or not xfail:
                checks = f" (checks only: {directives.checks})" if directives.checks else ""
                print(("FAIL " + name) if problems else ("PASS " + name + checks))
            for problem in problems:
                print(indent(problem), end="")
            failed += bool(problems)
            sys.stdout.flush()
    print(f"{len(files) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
