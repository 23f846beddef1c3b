#!/usr/bin/env python3
"""Generates a large, realistic FloScript program for the front-end benchmark.

The program is made of independent houses. Each house has a few framers, each framer a chain of
frames; frames hold the declarations real Ioflo missions are made of: put/inc/copy/set, prints,
do-doer clauses, timeouts, `go ... if needs` transitions, entry/exit contexts, comments and
continuation lines. Every name is declared, so `floc check` accepts the whole file.

    gen_floscript.py N [-o FILE] [--seed S]     # about N lines (never fewer)
"""
import argparse
import random
import sys


def house(out, h, rng, budget):
    """Writes one house; returns the number of lines written."""
    lines = []
    emit = lines.append
    emit(f"# ---- house {h} ----")
    emit(f"house h{h}")
    emit("")
    emit(f"init .h{h}.depth with 50.0")
    emit(f"init .h{h}.origin with north 0.0 east {h % 97}.5")
    emit(f"init .h{h}.speed with 1.5")
    emit(f"init value in .h{h}.backup from value in .h{h}.speed")
    emit("")
    framers = rng.randint(2, 4)
    for f in range(framers):
        frames = rng.randint(4, 9)
        emit(f"framer f{f} be active first s0 at 0.125  # framer {f} of house {h}")
        for k in range(frames):
            nxt = f"s{k + 1}" if k + 1 < frames else "s0"
            over = f" in s{k - 1}" if k > 0 and rng.random() < 0.2 else ""
            emit(f"  frame s{k}{over}")
            emit("    enter")
            emit(f"      put north {k}.0 east {f}.5 into .h{h}.f{f}.target")
            emit(f"      put \"frame s{k} of f{f}\" into .h{h}.f{f}.label")
            emit(f"    inc .h{h}.f{f}.count with 1")
            emit(f"    inc north in .h{h}.f{f}.target from .h{h}.speed")
            emit(f"    copy .h{h}.speed into .h{h}.f{f}.lastspeed")
            emit(f"    set goal.heading with {(k * 37) % 360}.0")
            emit(f"    print \"house {h} framer {f} frame {k}\" depth ok")
            r = rng.random()
            # `enter` owns a plain `do` too: indented under it, as -Wmisleading-indentation wants.
            if r < 0.4:
                emit(f"      do doer as mine with value {k} for .h{h}.f{f}.doer")
            elif r < 0.7:
                emit(f"      do doer with value 1")
                emit(f"        for .h{h}.f{f}.poked  # continued: the line starts with `for`")
            else:
                emit(f"    do doer at enter")
            if k + 1 == frames:
                emit("    next s0")
            if rng.random() < 0.3:
                emit(f"    timeout {rng.randint(1, 30)}.0")
            # a transition whose needs continue on the next line (it starts with a reserved word)
            emit(f"    go {nxt} if .h{h}.f{f}.count >= {k + 2}")
            emit(f"        and elapsed re me >= {rng.randint(1, 9)}.5")
            emit(f"    go {nxt} if .h{h}.depth < {10 + k}.0  # shallow: move on")
            emit("    exit")
            emit(f"      put false into .h{h}.f{f}.busy")
        emit("")
    out.write("\n".join(lines))
    out.write("\n")
    return len(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lines", type=int)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    written, h = 0, 0
    while written < args.lines:
        written += house(out, h, rng, args.lines - written)
        h += 1
    if out is not sys.stdout:
        out.close()
    print(f"{written} lines, {h} houses", file=sys.stderr)


if __name__ == "__main__":
    main()
