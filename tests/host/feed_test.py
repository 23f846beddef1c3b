#!/usr/bin/env python3
"""Feeds (docs/runtime.md, "Feeds"): one job's share writes as another job's input.

usage: feed_test.py FLOC FLO_HOST SOURCE_DIR [AARCH64_HOST QEMU...]

examples/federated_flow.flo has a producer job (`sensing`, the sensors framer) and a consumer
(`average`, the flow over their readings). Checked here, on built programs and on bundles run by
the job host (sandboxed, the feed on its stdin):
- the producer's feed lines: one per fed share written in a pass of its run, then `feed: end`;
- the consumer fed those lines ends with exactly the store of the same program in one process
  (the sensors active beside the flow, no feed): the feed changes where, not what;
- with the aarch64 host under qemu, the x86-64 producer's feed gives the aarch64 consumer the
  same store (a feed crosses architectures);
- garbage, unknown shares and fields, and malformed values are dropped with a warning and change
  nothing else; a producer given no job or a pattern matching nothing is refused.
"""
import os
import re
import subprocess
import sys
import tempfile

problems = []


def check(cond, what):
    if not cond:
        problems.append(what)
        print("FAIL:", what)


def run(cmd, stdin=None, **kw):
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120, **kw)


def store(stderr):
    """The program's own shares from `store: ` lines (not the runtime's bookkeeping)."""
    out = {}
    for line in stderr.splitlines():
        m = re.match(r"store: (\.\S+) (.*)", line)
        if m and not m.group(1).startswith((".framer.", ".meta.", ".time")):
            out[m.group(1)] = m.group(2)
    return out


def main():
    floc, host, src = sys.argv[1:4]
    aarch64 = sys.argv[4:]
    example = os.path.join(src, "examples", "federated_flow.flo")
    with tempfile.TemporaryDirectory() as tmp:
        prog = os.path.join(tmp, "fed")
        r = run([floc, "build", example, "-o", prog])
        check(r.returncode == 0, "floc build: " + r.stderr)
        # The same program in one process: the sensors active beside the flow, no producer job.
        text = open(example).read().replace("framer sensors be inactive", "framer sensors be active")
        start = text.index("\njob sensing\n")
        text = text[:start] + text[text.index("\n\n", start):]
        single_src = os.path.join(tmp, "single.flo")
        open(single_src, "w").write(text)
        single = os.path.join(tmp, "single")
        r = run([floc, "build", single_src, "-o", single])
        check(r.returncode == 0, "floc build single: " + r.stderr)
        alone = run([single, "--job", "average", "--runs", "1", "--store", "-"])
        want = store(alone.stderr)
        check(".building.tempF" in want and want[".building.tempF"] != "value=70.0",
              "the single-process flow averaged nothing: %s" % want)

        produced = run([prog, "--job", "sensing", "--runs", "1", "--feed-out", ".sensor.room.*.temp"])
        check(produced.returncode == 0, "producer: " + produced.stderr[-500:])
        feed = [l for l in produced.stderr.splitlines() if l.startswith("feed: ")]
        # 31 s of passes of 0.125 s, three sensors written in each.
        check(len(feed) == 248 * 3 + 1 and feed[-1] == "feed: end",
              "producer: %d feed lines, last %r" % (len(feed), feed[-1] if feed else None))
        check(all(re.fullmatch(r"feed: \S+ \.sensor\.room\.[abc]\.temp value=f:\S+", l)
                  for l in feed[:-1]), "producer: a malformed feed line")
        feed_text = "\n".join(feed) + "\n"

        consumed = run([prog, "--job", "average", "--runs", "1", "--feed-in", "--store", "-"],
                       stdin=feed_text)
        check(consumed.returncode == 0, "consumer: " + consumed.stderr[-500:])
        check(store(consumed.stderr) == want,
              "consumer fed != one process:\n%s\n%s" % (store(consumed.stderr), want))
        unfed = run([prog, "--job", "average", "--runs", "1", "--feed-in", "--store", "-"], stdin="")
        check(store(unfed.stderr).get(".building.tempF") == "value=70.0",
              "a consumer with no feed still averaged something")

        # Through the job host: the producer's feed on its stderr, the consumer's on its stdin.
        bundle = os.path.join(tmp, "bundle")
        r = run([floc, "build", "--bundle", example, "-o", bundle])
        check(r.returncode == 0, "floc build --bundle: " + r.stderr)
        hp = run([host, bundle, "sensing", "--runs", "1", "--feed-out", ".sensor.room.*.temp"])
        host_feed = [l for l in hp.stderr.splitlines() if l.startswith("feed: ")]
        check(hp.returncode == 0 and host_feed == feed,
              "host producer: feed differs: " + hp.stderr[-300:])
        hc = run([host, bundle, "average", "--runs", "1", "--feed-in", "--store", "-v"],
                 stdin=feed_text)
        check(hc.returncode == 0 and store(hc.stderr) == want,
              "host consumer (sandboxed): %s\n%s" % (store(hc.stderr), hc.stderr[-300:]))
        check("flo-host: sandbox: rlimits" in hc.stderr, "host consumer: not sandboxed")
        if aarch64:
            ha = run(aarch64[1].split() + [aarch64[0], bundle, "average", "--runs", "1",
                                            "--feed-in", "--store"], stdin=feed_text)
            check(ha.returncode == 0 and store(ha.stderr) == want,
                  "aarch64 consumer of the x86-64 feed: %s\n%s" % (store(ha.stderr),
                                                                 ha.stderr[-300:]))

        # Bad input: dropped with a warning, the rest taken as if it were not there.
        bad = ("garbage\nfeed: nonsense\nfeed: 1 .nowhere value=f:1\nfeed: 1 .sensor.room.a.temp "
               "nofield=f:1\nfeed: 2 .sensor.room.a.temp value=f:xyz\nfeed: -1 .a value=n\n")
        r = run([prog, "--job", "average", "--runs", "1", "--feed-in", "--store", "-"],
                stdin=bad + feed_text)
        check(r.returncode == 0, "consumer of bad lines: exit %d" % r.returncode)
        for warning in ["feed-in: no share .nowhere in this program: its items are dropped",
                        "feed-in: no field 'nofield' of .sensor.room.a.temp: its items are dropped",
                        "feed-in: a malformed line is dropped: malformed value of field 'value'",
                        "feed-in: a malformed line is dropped: expected a time, got 'nonsense'"]:
            check(warning in r.stderr, "missing warning %r in %s" % (warning, r.stderr[-600:]))
        check(store(r.stderr) == want, "bad lines changed the result")

        r = run([prog, "--feed-out", ".sensor.room.*.temp"])
        check(r.returncode == 2 and "give --job" in r.stderr, "--feed-out without --job: " + r.stderr)
        r = run([prog, "--job", "sensing", "--feed-out", ".nothing.*"])
        check(r.returncode == 2 and "no share of the program matches" in r.stderr,
              "a pattern matching nothing: " + r.stderr)
    if problems:
        print("%d problem(s)" % len(problems))
        return 1
    print("feeds: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
