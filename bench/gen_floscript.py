#!/usr/bin/env python3
"""Generates a large, realistic FloScript program for the front-end benchmark.

The program is made of independent houses. Each house has a few framers, each framer a chain of
frames; frames hold the declarations real Ioflo missions are made of: put/inc/copy/set, prints,
do-doer clauses, timeouts, `go ... if needs` transitions, entry/exit contexts, comments and
continuation lines. Every name is declared, so `floc check` accepts the whole file.

    gen_floscript.py N [-o FILE] [--seed S]     # about N lines (never fewer)

`--shape` writes one of the extreme shapes instead, for `floc check` on every shape
(docs/benchmarks.md; each checks with 0 errors, warnings only where the shape is about them):

    deep      framers of frames nested with `in` down to --depth levels (default 200, the limit)
    wide      one framer of N/3 frames, each with a transition to the next
    warnings  `wide` with bare `elapsed`: one -Wdeprecated warning every 3 lines
    framers   N/6 active framers of 2 frames each, in one house
    far       framers of nested chains whose frames jump to frames far away in other chains
    paths     many shares on long paths (20 segments), `of frame`/`of framer` relations
    aux       aux framers (plain, conditional and clones of moots) run from every frame
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


def shape_deep(n, depth):
    out, framer = [], 0
    while len(out) < n:
        out.append(f"house deep{framer}" if framer == 0 else "")
        out.append(f"  framer f{framer} be active first d0")
        out += ["    frame d0", '      print "x"']
        for i in range(1, depth):
            out += [f"    frame d{i} in d{i - 1}", '      print "x"']
        framer += 1
    return out


def shape_wide(n, bare):
    frames = max(2, n // 3)
    elapsed = "elapsed" if bare else "elapsed re me"
    out = ["house wide", "  framer f be active first f0"]
    for i in range(frames):
        out += [f"    frame f{i}", '      print "x"', f"      go f{(i + 1) % frames} if {elapsed} >= 1.0"]
    return out


def shape_framers(n):
    out = ["house many"]
    for i in range((n - 1) // 6 + 1):
        out += [f"  framer f{i} be active first a", "    frame a", f"      go b if .c{i} >= 1.0",
                "    frame b", f"      inc .c{i} with 1", "      go a if elapsed re me >= 2.0"]
    return out


def shape_far(n, depth):
    # chains of `depth` nested frames; every frame jumps to the deepest frame of the chain half a
    # framer away and to a frame of the next chain, so every target's outline is long
    out = ["house far"]
    chains = max(2, n // (3 * depth) // 8)
    framer = 0
    while len(out) < n:
        out.append(f"  framer f{framer} be active first c0d0")
        for c in range(chains):
            for d in range(depth):
                over = f" in c{c}d{d - 1}" if d else ""
                far = (c + chains // 2) % chains
                out += [f"    frame c{c}d{d}{over}",
                        f"      go c{far}d{depth - 1} if .x{d} >= {c}.0",
                        f"      go c{(c + 1) % chains}d{(d * 7) % depth} if elapsed re me >= 2.0"]
        framer += 1
    return out


def shape_paths(n):
    out = ["house paths", "  framer f be active first p0"]
    i = 0
    while len(out) < n:
        deep = ".".join(f"s{(i + k) % 97}" for k in range(18))
        out += [f"    frame p{i}",
                f"      put {i}.0 into .root.{deep}.leaf{i}",
                f"      copy .root.{deep}.leaf{i} into .copy.{deep}.c{i}",
                f"      inc .n{i % 1000} of frame p{i} with 1",
                f"      put 1 into .n{i % 1000} of framer f",
                f"      go p{i + 1} if .root.{deep}.leaf{i} >= 2.0"]
        i += 1
    out += [f"    frame p{i}", "      put 0 into .done"]
    return out


def shape_aux(n):
    out = ["house auxes"]
    # clones of moots on every 8th frame: a program holds at most 10,000 framers after cloning
    auxes = max(1, min(n // 200, 1000))
    for a in range(auxes):
        out += [f"  framer a{a} be aux first s0", "    frame s0", f"      inc .aux{a}.n with 1",
                "      go s1 if elapsed re me >= 1.0", "    frame s1", "      done me"]
        out += [f"  framer m{a} be moot via orig{a}", "    frame work",
                "      inc count of me with 1", "      done me"]
    out.append("  framer main be active first w0")
    i = 0
    while len(out) < n:
        a = i % auxes
        out += [f"    frame w{i}", f"      aux a{a}", f"      aux a{(a + 1) % auxes} if .fault{a}"]
        if i % 8 == 0:
            m = (i // 8) % auxes
            out += [f"      aux m{m} as c{i}", f"      go w{i + 1} if a{a} is done and aux c{i} is done"]
        else:
            out.append(f"      go w{i + 1} if a{a} is done")
        i += 1
    out += [f"    frame w{i}", "      put 0 into .done"]
    return out


SHAPES = {
    "deep": lambda a: shape_deep(a.lines, a.depth),
    "wide": lambda a: shape_wide(a.lines, False),
    "warnings": lambda a: shape_wide(a.lines, True),
    "framers": lambda a: shape_framers(a.lines),
    "far": lambda a: shape_far(a.lines, a.depth),
    "paths": lambda a: shape_paths(a.lines),
    "aux": lambda a: shape_aux(a.lines),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lines", type=int)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shape", choices=["realistic"] + sorted(SHAPES), default="realistic")
    ap.add_argument("--depth", type=int, default=200, help="nesting levels for deep and far")
    args = ap.parse_args()
    if args.shape != "realistic":
        lines = SHAPES[args.shape](args)
        text = "\n".join(lines) + "\n"
        if args.output == "-":
            sys.stdout.write(text)
        else:
            with open(args.output, "w") as out:
                out.write(text)
        print(f"{len(lines)} lines, shape {args.shape}", file=sys.stderr)
        return
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
