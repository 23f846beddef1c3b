#!/usr/bin/env python3
"""Federation on a local fog (issue 14, docs/deploy.md "Federation"): four replica processes and
two foggers. `fog deploy examples/federated_flow.flo --job average --input sensing` runs the
producer job on one fogger and the flow job on the other, fed over the transport. Checks, each
able to fail:

1. both orders settle and both foggers are paid; the supply is conserved;
2. the two jobs ran on different foggers; the consumer's output is the program's (its final
   .building.tempF as tests/golden/examples/federated_flow.store has it), its first item names
   the producer's order and the items it took, and the producer's last item the same count and
   digest (the deployer checks that too and says so);
3. the producer's fogger never had more items in flight than the consumer's window;
4. `fog results` verifies both chains, and the consumer's result item's lineage verifies;
5. a producer with many more items than its queue holds never has more in flight than the
   window, and every item arrives;
6. a job that runs no flow cannot take --input (a usage error naming why).

Usage: federation_test.py FOG REPO. Every command is bounded in time; the fog is stopped
whatever happens.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from fog_cli import FOGGER_FUNDS, SUPPLY, Fail, FogCli, check

CLI_TIMEOUT = 120


def main():
    fog, repo = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="federation-test-")
    d = os.path.join(work, "fog")
    program = os.path.join(repo, "examples", "federated_flow.flo")
    store = open(os.path.join(repo, "tests", "golden", "examples", "federated_flow.store")).read()
    temp = next(l for l in store.splitlines() if l.startswith(".building.tempF "))
    cli = FogCli(fog, d, CLI_TIMEOUT)
    run, ok = cli.run, cli.ok

    def holds(name):
        return sum(cli.holds(name))

    try:
        ok("up", "--detach")
        r = run("deploy", program, "--job", "average", "--input", "sensing", "--runs", "1",
                "--json")
        check(r.returncode == 0, f"fog deploy --input exited {r.returncode}: {r.stderr}")
        out = json.loads(r.stdout)
        producer, consumer = out["producer"], out["consumer"]
        # 1. Settled, paid, conserved.
        for side in (producer, consumer):
            order = side["order"]
            check(order["status"] == "settled", f"an order is {order['status']}")
            paid = sum(a["paid"] for a in order["assignments"])
            check(paid > 0, f"nobody was paid for {order['job']}")
        total = sum(holds(n) for n in ("genesis", "fogger-0", "fogger-1"))
        check(total == SUPPLY + 2 * FOGGER_FUNDS, f"the accounts hold {total}")
        # 2. Two foggers; the consumer's result is the program's; the feed's two ends agree.
        p, c = producer["results"][0], consumer["results"][0]
        check(p["fogger"] != c["fogger"], "both jobs ran on one fogger")
        check(p["verified"] and c["verified"], f"results did not verify: {p} {c}")
        check("share " + temp in c["lines"], f"the consumer did not average: {c['lines']}")
        m = re.fullmatch(r"feed taken from (\w+) (\d+) items sha256 (\w+)", c["lines"][0])
        check(m and m.group(1) == producer["job"], f"the consumer's first item: {c['lines'][0]}")
        check(p["lines"][-1] == f"feed sent {m.group(2)} items sha256 {m.group(3)}",
              f"the producer's last item {p['lines'][-1]!r} names other items")
        check(int(m.group(2)) == 248 * 3, f"{m.group(2)} items fed, not 744")
        check(out["feed"]["verified"], f"the deployer did not verify the feed: {out['feed']}")
        # 3. Credit: never more in flight than the window.
        logs = cli.fogger_logs()
        fed = re.search(r"fed (\d+) items to \S+ \(at most (\d+) in flight for a window of (\d+)",
                        logs)
        check(fed, "no fogger says it fed the items")
        check(int(fed.group(1)) == 744 and 0 < int(fed.group(2)) <= int(fed.group(3)),
              f"the feed went beyond its window: {fed.group(0)}")
        # 4. Results and lineage verify.
        for side in (producer, consumer):
            ok("results", side["job"][:16])
        # The consumer's last item: its lineage runs back through every item of its chain to
        # the first (the one that names the feed).
        lin = subprocess.run([fog, "provenance", "lineage", c["head"], "--db",
                              os.path.join(d, "jobs", "provenance.db")],
                             capture_output=True, text=True, timeout=CLI_TIMEOUT)
        check(lin.returncode == 0 and "lineage verified" in lin.stdout,
              f"lineage of {c['head']}: {lin.stdout} {lin.stderr}")
        # 5. A long feed: 600 s of readings (14,400 items, more than the producer's queue of
        # 1,024 and its pipe hold) never has more in flight than the window, and all arrive.
        # Whether the producer's job is held back depends on which side is faster (the one
        # under qemu is slower): the count is printed, not asserted.
        long = os.path.join(work, "long_flow.flo")
        open(long, "w").write(open(program).read().replace("limit 31s", "limit 600s"))
        r = run("deploy", long, "--job", "average", "--input", "sensing", "--runs", "1",
                "--json", "--timeout", "90", "--max-price", "3")
        check(r.returncode == 0, f"fog deploy of the long feed exited {r.returncode}: {r.stderr}")
        check(json.loads(r.stdout)["feed"]["verified"], "the long feed does not check")
        logs = cli.fogger_logs()
        long_fed = re.findall(r"fed (\d+) items to \S+ \(at most (\d+) in flight for a window of "
                         r"(\d+), the job held back (\d+) times", logs)
        # The two foggers' logs are read one after the other, and either may have been the
        # producer of either deploy: the long feed is the line with its count, wherever it is.
        long_line = [m for m in long_fed if int(m[0]) == 4800 * 3]
        check(len(long_line) == 1, f"the long feed: {long_fed}")
        items, inflight, window, held = map(int, long_line[0])
        check(0 < inflight <= window, f"the long feed went beyond its window: {long_line[0]}")

        # `fog jobs` shows which job feeds which.
        listed = ok("jobs").stdout
        check(f"fed by {producer['job'][:16]}" in listed and f"feeds {consumer['job'][:16]}" in listed,
              f"fog jobs does not show the feed: {listed}")

        # 6. Only a flow job takes --input.
        r = run("deploy", program, "--job", "sensing", "--input", "average")
        check(r.returncode == 2 and "runs no flow" in r.stderr,
              f"a framer job took --input: {r.returncode} {r.stderr}")
        print(f"PASS federation: {fed.group(1)} items fed between two foggers "
              f"(at most {fed.group(2)} in flight, window {fed.group(3)}), results verified, "
              f"both orders settled, supply conserved; {items} items held back {held} times "
              f"(at most {inflight} in flight)")
        return 0
    except Fail as e:
        print(f"FAIL: {e}")
        cli.print_fogger_logs()
        return 1
    finally:
        run("down")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
