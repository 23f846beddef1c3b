#!/usr/bin/env python3
"""Golden test runner for floc (registered once per file by tests/CMakeLists.txt).

A golden file is a .flo program whose expected diagnostics are written inline, as comments:

    go nowhere          # expect-error: no frame named 'nowhere'
    # expect-warning@+1: deprecated
    init .x to 1

`expect-error` / `expect-warning` match a diagnostic of that severity whose message contains the
text, on the comment's own line (or N lines away with @+N / @-N). Every diagnostic must be
expected and every expectation met. Files that expect no error are also formatted: `floc fmt`
must be idempotent and keep the AST (the `--emit=ast` dump without locations).

--update rewrites the expectations of a file from what floc reports now.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

EXPECT = re.compile(r"#\s*expect-(error|warning)(?:@([+-]\d+))?:\s*(.*?)\s*$")


def run(cmd, stdin=None):
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def expectations(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            m = EXPECT.search(line)
            if m:
                out.append({"line": n + int(m.group(2) or 0), "severity": m.group(1),
                            "text": m.group(3), "source_line": n})
    return out


def diagnostics(floc, path):
    code, out, err = run([floc, "check", "--json", "--error-limit=0", path])
    if code not in (0, 1):
        raise SystemExit(f"FAIL {path}: floc exited {code}\n{err}")
    doc = json.loads(out)
    diags = []
    for d in doc["diagnostics"]:
        loc = d.get("location") or {}
        if os.path.realpath(loc.get("file", path)) != os.path.realpath(path):
            line = 0  # a diagnostic in a loaded file is matched by line 0: `@0` cannot say it
        else:
            line = loc.get("line", 0)
        diags.append({"line": line, "severity": d["severity"], "message": d["message"]})
    return code, diags


def strip_locations(dump):
    return "\n".join(re.sub(r"^(\s*)\S+:\d+:\d+-\d+:\d+ ", r"\1", l) for l in dump.splitlines()
                     if not l.startswith("module "))


def check_format(floc, path):
    code, first, err = run([floc, "fmt", path])
    if code != 0:
        return [f"floc fmt failed ({code}): {err.strip()}"]
    problems = []
    # The formatted copy sits next to the original so that relative `load` paths still resolve.
    fd, formatted = tempfile.mkstemp(prefix=".fmt-", suffix="-" + os.path.basename(path),
                                     dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(first)
        code, second, err = run([floc, "fmt", formatted])
        if code != 0:
            return [f"formatted text does not parse: {err.strip()}"]
        if second != first:
            problems.append("floc fmt is not idempotent")
        _, ast1, _ = run([floc, "--emit=ast", path])
        _, ast2, _ = run([floc, "--emit=ast", formatted])
        if strip_locations(ast1) != strip_locations(ast2):
            problems.append("formatting changed the AST")
    finally:
        os.unlink(formatted)
    return problems


def strip_expectations(path):
    """Removes every expectation comment (trailing or on a line of its own)."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    kept = []
    for l in lines:
        if EXPECT.search(l):
            if l.strip().startswith("#"):
                continue
            l = EXPECT.sub("", l).rstrip()
        kept.append(l)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(kept))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--floc", required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--canonical", action="store_true",
                    help="the file must already be in canonical form (examples)")
    ap.add_argument("file")
    args = ap.parse_args()
    path = args.file

    if args.update:
        strip_expectations(path)
        _, diags = diagnostics(args.floc, path)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        for d in diags:
            if d["severity"] == "note" or d["line"] < 1 or d["line"] > len(lines):
                continue
            lines[d["line"] - 1] += f"  # expect-{d['severity']}: {d['message']}"
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        print(f"updated {path}")
        return 0

    wanted = expectations(path)
    code, diags = diagnostics(args.floc, path)
    problems = []
    unmatched = [d for d in diags if d["severity"] in ("error", "warning")]
    for e in wanted:
        hit = next((d for d in unmatched if d["line"] == e["line"] and d["severity"] == e["severity"]
                    and e["text"] in d["message"]), None)
        if hit:
            unmatched.remove(hit)
        else:
            problems.append(f"line {e['source_line']}: expected {e['severity']} on line {e['line']} "
                            f"containing {e['text']!r}, not reported")
    for d in unmatched:
        problems.append(f"line {d['line']}: unexpected {d['severity']}: {d['message']}")
    expects_errors = any(e["severity"] == "error" for e in wanted)
    if expects_errors != (code == 1):
        problems.append(f"exit status {code}, but the file expects {'errors' if expects_errors else 'none'}")
    if not expects_errors:
        problems += check_format(args.floc, path)
    if args.canonical:
        code, _, err = run([args.floc, "fmt", "--check", path])
        if code != 0:
            problems.append("not in canonical form: " + err.strip())
    if problems:
        print(f"FAIL {path}")
        for p in problems:
            print("  " + p)
        return 1
    print(f"ok {path} ({len(wanted)} expectations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
