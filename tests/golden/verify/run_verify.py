#!/usr/bin/env python3
"""Golden tests for `floc verify` (docs/verify.md): one .flo file of contracts per test.

What a file expects is written inline, as in the check goldens:

    let total = total - amt  # expect-error: 'total - amt' can underflow u64
    # expect-note: here: total = 0, amt = 1

`expect-error` matches a property that is not proven whose message contains the text, on the
comment's line (or N lines away with @+N / @-N); `expect-note` (same line rules) matches a note
of the error expected on that line. Every unproven property must be expected and every
expectation met; a file that expects no error must be proven entirely (exit 0, `verified`
true in every certificate), and one that does must make floc exit 1. The certificate must also
be well formed: the source's sha256, the compiler and Z3 versions, a verdict per property and a
cost bound for each action.

    run_verify.py --floc FLOC FILE...
"""
import argparse
import hashlib
import json
import re
import subprocess
import sys

EXPECT = re.compile(r"#\s*expect-(error|note)(?:@([+-]\d+))?:\s*(.*?)\s*$")


def expectations(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = EXPECT.search(line)
            if m:
                out.append((m.group(1), n + int(m.group(2) or 0), m.group(3)))
    return out


def extra_args(path):
    """`# verify-args: ...` in the file: options for floc verify (e.g. --timeout 1)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("# verify-args:"):
                return line.split(":", 1)[1].split()
    return []


def check(floc, path):
    p = subprocess.run([floc, "verify", "--json", *extra_args(path), path], capture_output=True,
                       text=True, timeout=300)
    problems = []
    if p.returncode not in (0, 1):
        return [f"floc exited {p.returncode}: {p.stderr.strip()}"]
    try:
        doc = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        return [f"not JSON ({e}): {p.stdout[:200]} {p.stderr[:400]}"]
    with open(path, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    failed = []
    for cert in doc["certificates"]:
        for key in ("contract", "source_sha256", "compiler", "z3", "properties", "cost", "verified"):
            if key not in cert:
                problems.append(f"certificate of {cert.get('contract')} has no '{key}'")
        if cert.get("source_sha256") != sha:
            problems.append(f"source_sha256 {cert.get('source_sha256')} is not the file's {sha}")
        actions = {p["action"] for p in cert["properties"] if p["action"]}
        for a in actions:
            if not isinstance(cert["cost"].get(a), int):
                problems.append(f"no cost bound for action '{a}'")
        unproven = [p for p in cert["properties"] if p["verdict"] != "proven"]
        if cert["verified"] != (not unproven):
            problems.append(f"'verified' is {cert['verified']} with {len(unproven)} unproven")
        failed += unproven
    want = expectations(path)
    errors = [(line, text) for kind, line, text in want if kind == "error"]
    notes = [(line, text) for kind, line, text in want if kind == "note"]
    for line, text in errors:
        if not any(f["line"] == line and text in f.get("message", "") for f in failed):
            problems.append(f"line {line}: expected error '{text}' not reported")
    for f in failed:
        if not any(f["line"] == line and text in f.get("message", "") for line, text in errors):
            problems.append(f"line {f['line']}: unexpected {f['verdict']} {f['property']}: "
                            f"{f.get('message')}\n    " + "\n    ".join(f.get("notes", [])))
    for line, text in notes:
        ok = any(f["line"] == line and any(text in n for n in f.get("notes", [])) for f in failed)
        if not ok:
            got = [n for f in failed if f["line"] == line for n in f.get("notes", [])]
            problems.append(f"line {line}: expected note '{text}' not among {got}")
    expect_code = 1 if errors else 0
    if p.returncode != expect_code:
        problems.append(f"exit status {p.returncode}, expected {expect_code}")
    if doc.get("verified") != (not errors):
        problems.append(f"top-level 'verified' is {doc.get('verified')}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--floc", required=True)
    ap.add_argument("files", nargs="+")
    args = ap.parse_args()
    bad = 0
    for path in args.files:
        problems = check(args.floc, path)
        for pr in problems:
            print(f"FAIL {path}: {pr}")
        bad += bool(problems)
        if not problems:
            print(f"ok {path}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
