#!/usr/bin/env python3
"""Checks the Flo examples of a markdown file (docs/language.md).

Every fenced block tagged ```flo must check cleanly on its own (no error, no warning, and
`floc fmt` keeps its AST). A block tagged ```flo-error must carry inline expectations
(`# expect-error: TEXT`, see tests/golden/run_golden.py) and floc must report exactly those; a
block tagged ```flo-warning does the same with `# expect-warning: TEXT` and no error. Each block is written to a temporary .flo file and run through
run_golden.py; a failure names the block's line in the markdown file.

    python3 tests/docs/check_docs.py --floc build/bin/floc docs/language.md
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RUN_GOLDEN = os.path.join(HERE, os.pardir, "golden", "run_golden.py")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*$")
EXPECT = re.compile(r"#\s*expect-(error|warning)")
TAGS = ("flo", "flo-error", "flo-warning")


def blocks(path):
    """Yields (line of the opening fence, tag, text) for every fenced block tagged flo or flo-error."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, tag = m.group(1), m.group(2), m.group(3)
        start = i + 1
        body = []
        i += 1
        while i < len(lines):
            close = lines[i].strip()
            if close.startswith(fence[0] * len(fence)) and close.strip(fence[0]) == "":
                break
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        else:
            yield start, tag, None  # unterminated fence
        i += 1
        if tag in TAGS:
            yield start, tag, "\n".join(body) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--floc", required=True, help="path to the floc executable")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every block's result")
    ap.add_argument("markdown", nargs="+")
    args = ap.parse_args()

    failed = total = 0
    for md in args.markdown:
        for line, tag, text in blocks(md):
            total += 1
            where = f"{md}:{line}"
            if text is None:
                print(f"FAIL {where}: unterminated ``` fence")
                failed += 1
                continue
            problems = []
            if tag == "flo-error" and not re.search(r"#\s*expect-error", text):
                problems.append("a flo-error block needs at least one `# expect-error: TEXT` comment")
            if tag == "flo-warning" and not re.search(r"#\s*expect-warning", text):
                problems.append("a flo-warning block needs at least one `# expect-warning: TEXT` comment")
            if tag == "flo-warning" and re.search(r"#\s*expect-error", text):
                problems.append("a flo-warning block expects an error; tag it flo-error")
            if tag == "flo" and EXPECT.search(text):
                problems.append("a flo block must check cleanly; tag a block with expectations "
                                "flo-error or flo-warning")
            with tempfile.TemporaryDirectory() as d:
                path = os.path.join(d, f"block_{line}.flo")
                with open(path, "w", encoding="utf-8") as f:
                    f.write(text)
                p = subprocess.run([sys.executable, RUN_GOLDEN, "--floc", args.floc, path],
                                   capture_output=True, text=True, timeout=300)
                if p.returncode != 0:
                    out = (p.stdout + p.stderr).strip().splitlines()
                    problems += [l.strip() for l in out if not l.startswith("FAIL ")] or \
                        [f"run_golden.py exited {p.returncode}"]
            if problems:
                failed += 1
                print(f"FAIL {where} ({tag} block)")
                for pr in problems:
                    print("  " + pr)
            elif args.verbose:
                print(f"ok {where} ({tag} block)")
    print(f"{total - failed}/{total} blocks ok")
    return 1 if failed or total == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
