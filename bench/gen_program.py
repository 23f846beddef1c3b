#!/usr/bin/env python3
"""Generates a runnable FloScript program of N lines for the `floc build` benchmark.

Unlike gen_floscript.py (front end only), the program must build and terminate when run, so
every frame has a way out and every active framer ends in `bid stop me`:

  * one house, its `init`s, then M active framers (`be active`), each a chain of groups: a parent
    frame `gK` (enter/exit/renter/rexit actions, a guard `go ... if .alarm`) with 2-4 child
    frames `gKcJ in gK`; the last group of a framer loops back to the first while `.laps < 2`;
  * child frames hold put/inc/copy/set, prints, `do doer` clauses, and leave by `timeout`,
    `repeat`, a `go ... if` with one to three needs (counters, elapsed/recurred, goals), or by
    waiting for a plain aux (`aux NAME` + `go ... if NAME is done`);
  * some parent frames carry a conditional aux (`aux NAME if .level < 0.3`) that recharges a
    level which the children drain;
  * each aux framer (`be aux`) steps through 2-3 frames (`repeat`, `timeout`) and ends `done me`;
  * optionally (`--deeds K`) K Flo deeds (`deed NAME`) called with `do NAME per ...`.

    gen_program.py N [-o FILE] [--seed S] [--deeds K] [--framers M]

The result has exactly N lines (the few missing ones are comment lines at the top) unless N is
below the smallest program of one framer.

`floc check` reports 0 errors and 0 warnings; the built program runs some tens of passes (66 for N = 1000) and exits 0.
"""
import argparse
import random
import sys


class Gen:
    def __init__(self, rng, deeds):
        self.rng = rng
        self.lines = []
        self.inits = []
        self.auxes = []  # text of aux framers, written after the active framers
        self.aux_count = 0
        self.deeds = deeds

    def emit(self, line, into=None):
        (self.lines if into is None else into).append(line)

    # ---- aux framers
    def plain_aux(self, f, k):
        """A plain aux framer; returns its name."""
        rng = self.rng
        name = f"a{self.aux_count}"
        self.aux_count += 1
        out = self.auxes
        steps = rng.randint(2, 3)
        out.append(f"  framer {name} be aux first {name}s0")
        for s in range(steps):
            out.append(f"    frame {name}s{s}")
            out.append(f"      print aux {name} step {s}")
            out.append(f"      inc .aux.{name}.steps with 1")
            out.append("      recur")
            out.append(f"        inc .aux.{name}.ticks with 1")
            if rng.random() < 0.5:
                out.append(f"      repeat {rng.randint(1, 3)}")
            else:
                out.append(f"      timeout 0.{rng.choice([25, 375, 5])}")
        out.append(f"    frame {name}s{steps}")
        out.append(f"      put true into .aux.{name}.finished")
        out.append("      done me")
        out.append("")
        self.inits.append(f"init .aux.{name}.steps with 0")
        self.inits.append(f"init .aux.{name}.ticks with 0")
        return name

    def recharge_aux(self, f):
        name = f"r{self.aux_count}"
        self.aux_count += 1
        out = self.auxes
        out.append(f"  framer {name} be aux first {name}dock")
        out.append(f"    frame {name}dock")
        out.append(f"      print recharge {name} for m{f}")
        out.append("      recur")
        out.append(f"        inc .m{f}.level with 0.25")
        out.append(f"      go {name}full if .m{f}.level >= 0.9")
        out.append(f"    frame {name}full")
        out.append(f"      inc .m{f}.charges with 1")
        out.append("      done")
        out.append("")
        return name

    # ---- one child frame
    def child(self, f, k, j, name, nxt):
        rng = self.rng
        e = self.emit
        p = f".m{f}"
        e(f"    frame {name} in g{k}")
        e("      enter")
        e(f"        put north {k}.{j} east {j}.5 into {p}.target")
        e(f"        put \"{name} of m{f}\" into {p}.label")
        e(f"        copy {p}.speed into {p}.lastspeed")
        e(f"        copy north in {p}.target into depth in {p}.fix")
        e(f"        set goal.heading with {(k * 37 + j * 11) % 360}.0")
        e(f"        print m{f} enters {name}")
        e("      recur")
        e(f"        inc {p}.count with 1")
        e(f"        inc {p}.level with -0.05")
        e(f"        inc north in {p}.target from {p}.speed")
        if rng.random() < 0.3:
            e(f"        do doer per input {p}.target")
        if self.deeds and rng.random() < 0.5:
            d = rng.randrange(self.deeds)
            e(f"        do smooth{d} per x {p}.speed prev {p}.lastspeed y {p}.smooth")
        e("      exit")
        e(f"        put false into {p}.busy")
        e(f"        copy {p}.count into {p}.lastcount")
        e("      native")
        way = rng.random()
        if way < 0.2:
            e(f"      next {nxt}")
            e(f"      timeout 0.{rng.choice([25, 375, 5, 625])}")
        elif way < 0.4:
            e(f"      next {nxt}")
            e(f"      repeat {rng.randint(1, 4)}")
        elif way < 0.6:
            aux = self.plain_aux(f, k)
            e(f"      aux {aux}")
            e(f"      go {nxt} if {aux} is done")
        elif way < 0.8:
            e(f"      go {nxt} if recurred re me >= {rng.randint(1, 4)}")
            e(f"        and {p}.count >= {rng.randint(0, 3)}")
            e(f"        and not {p}.alarm")
        else:
            e("      set elapsed with 0.25")
            e(f"      go {nxt} if elapsed re me >= goal and {p}.level > -100.0")

    # ---- one active framer
    def framer(self, f, budget):
        rng = self.rng
        e = self.emit
        p = f".m{f}"
        start = len(self.lines)
        self.inits += [
            f"init {p}.count with 0",
            f"init {p}.laps with 0",
            f"init {p}.level with 1.0",
            f"init {p}.charges with 0",
            f"init {p}.speed with {1 + f % 5}.5",
            f"init {p}.alarm with false",
            f"init {p}.fix with depth 0.0 heading 0.0",
        ]
        if self.deeds:
            self.inits.append(f"init {p}.smooth with 0.0")
        e(f"  framer m{f} be active first g0c0")
        groups = []
        k = 0
        # groups until the framer has used its budget (at least two)
        while True:
            n = rng.randint(2, 4)
            groups.append(n)
            k += 1
            est = len(self.lines) - start + sum(groups) * 24 + len(groups) * 16
            if k >= 2 and est >= budget:
                break
        for k, n in enumerate(groups):
            e(f"    frame g{k}")
            e("      enter")
            e(f"        print m{f} group {k}")
            e(f"        put true into {p}.busy")
            e("      renter")
            e(f"        inc {p}.renters with 1")
            e("      rexit")
            e(f"        inc {p}.rexits with 1")
            e("      exit")
            e(f"        print m{f} leaves group {k}")
            e("      native")
            e(f"      go m{f}abort if {p}.alarm")
            if rng.random() < 0.35:
                e(f"      aux {self.recharge_aux(f)} if {p}.level < 0.3")
            for j in range(n):
                if j + 1 < n:
                    nxt = f"g{k}c{j + 1}"
                elif k + 1 < len(groups):
                    nxt = f"g{k + 1}c0"
                else:
                    nxt = f"m{f}lap"
                self.child(f, k, j, f"g{k}c{j}", nxt)
        e(f"    frame m{f}lap")
        e(f"      inc {p}.laps with 1")
        e(f"      print m{f} lap done")
        e(f"      go g0c0 if {p}.laps < 2")
        e(f"      go m{f}end")
        e(f"    frame m{f}end")
        e(f"      print m{f} finished")
        e("      bid stop me")
        e(f"    frame m{f}abort")
        e(f"      print m{f} aborted")
        e("      bid stop me")
        e("")
        self.inits += [f"init {p}.renters with 0", f"init {p}.rexits with 0"]

    def deed_defs(self):
        out = []
        for d in range(self.deeds):
            out += [
                f"deed smooth{d}",
                "  input x as f64",
                "  input prev as f64",
                "  local d as f64",
                "  output y as f64",
                "  let d = x - prev",
                f"  let y = prev + d * 0.{d % 9 + 1} if abs(d) < 10.0 else x",
                "",
            ]
        return out


def generate_once(target, seed, deeds, framers, per):
    rng = random.Random(seed)
    g = Gen(rng, deeds)
    head = ["# Generated by bench/gen_program.py: a runnable program for the `floc build` benchmark.", ""]
    head += g.deed_defs()
    for f in range(framers):
        g.framer(f, per)
    body = []
    body.append("house plant")
    body.append("")
    body += ["  " + i for i in g.inits]
    body.append("")
    return head + body + g.lines + g.auxes


def generate(target, seed, deeds, framers):
    """The largest program of at most `target` lines: the per-framer budget is searched upwards,
    with fewer framers when even the smallest is too long; padded with comment lines to exactly
    `target` when it is short. Returns (lines, framers used)."""
    def once(fr, per):
        lines = generate_once(target, seed, deeds, fr, per)
        while lines and lines[-1] == "":
            lines.pop()
        return lines

    best = None
    for fr in range(framers, 0, -1):
        per = 20
        while per < target:
            lines = once(fr, per)
            if len(lines) > target:
                break
            if best is None or len(lines) > len(best[0]):
                best = (lines, fr)
            per += 1
        if best:
            break
    if best is None:  # target below the smallest program: give the smallest
        return once(1, 20), 1
    lines, fr = best
    missing = target - len(lines)
    if missing > 0:
        pad = [f"# padding line {i + 1} of {missing}" for i in range(missing)]
        lines = lines[:1] + pad + lines[1:]
    return lines, fr


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lines", type=int, nargs="?", default=1000)
    ap.add_argument("-o", "--output", default="-")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deeds", type=int, default=0, help="Flo deeds to define and call")
    ap.add_argument("--framers", type=int, default=0, help="active framers (default: lines/200)")
    args = ap.parse_args()
    framers = args.framers or max(1, args.lines // 200)
    lines, framers = generate(args.lines, args.seed, args.deeds, framers)
    text = "\n".join(lines).rstrip("\n") + "\n"
    out = sys.stdout if args.output == "-" else open(args.output, "w")
    out.write(text)
    if out is not sys.stdout:
        out.close()
    print(f"{text.count(chr(10))} lines, {framers} framers, {args.deeds} deeds", file=sys.stderr)


if __name__ == "__main__":
    main()
