#!/usr/bin/env python3
"""Contracts as a user runs them (issue 13, "done when"): a local fog of four replica processes;
`fog contract deploy` of examples/escrow_contract.flo, calls with tokens attached whose balances
move exactly (value in, pays out, a fee per operation of the action's cost bound), an aborted
call that returns its value and keeps its fee, `fog contract show --json` with the state and the
certificate of the source the pool holds, and `fog stake CONTRACT AMOUNT`, which stakes on the
proven escrow and refuses a contract with an underflow unless --force.

Usage: contract_cli_test.py FOG REPO. Every command is bounded in time; the fog is stopped
whatever happens.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

from fog_cli import Fail, FogCli, check

CLI_TIMEOUT = 40


def main():
    fog, repo = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="contract-cli-")
    d = os.path.join(work, "fog")

    cli = FogCli(fog, d, CLI_TIMEOUT)
    run, ok = cli.run, cli.ok

    def balance(name):
        return json.loads(ok("account", "balance", name, "--json").stdout)["balance"]

    try:
        ok("up", "--detach", "--foggers", "0")
        ok("account", "new", "alice")
        ok("account", "new", "bob")
        ok("account", "transfer", "--from", "genesis", "--to", "alice", "100000")
        ok("account", "transfer", "--from", "genesis", "--to", "bob", "50000")

        escrow = os.path.join(repo, "examples", "escrow_contract.flo")
        size = os.path.getsize(escrow)
        r = ok("contract", "deploy", escrow, "--as", "alice", "--json")
        check(json.loads(r.stdout)["applied"], f"deploy: {r.stdout}")
        check(balance("alice") == 100000 - size, "alice paid the deploy fee, one token a byte")

        show = json.loads(ok("contract", "show", "escrow", "--json").stdout)
        cert = show["certificate"]
        check(cert["verified"] and cert["contract"] == "escrow", f"certificate: {cert}")
        with open(escrow, "rb") as f:
            import hashlib
            check(show["source_sha256"] == hashlib.sha256(f.read()).hexdigest(),
                  "the pool holds the deployed source")
        fee = cert["cost"]  # tokens per call: one per operation of the cost bound

        ok("contract", "call", "escrow", "deposit", "--value", "800", "--as", "bob")
        check(balance("bob") == 50000 - 800 - fee["deposit"], "bob's deposit and its fee")
        ok("contract", "call", "escrow", "withdraw", "300", "--as", "bob")
        check(balance("bob") == 50000 - 800 - fee["deposit"] + 300 - fee["withdraw"],
              "bob's withdrawal paid out, less its fee")
        show = json.loads(ok("contract", "show", "escrow", "--json").stdout)
        bob = json.loads(ok("account", "new", "carol", "--json").stdout)  # (a did to compare)
        check(show["held"] == 500 and show["state"]["total"] == 500,
              f"the contract holds 500: {show}")
        check(len(show["state"]["balance"]) == 1 and show["state"]["balance"][0][1] == 500,
              f"one depositor with 500: {show['state']}")
        check(bob["account"] != show["state"]["balance"][0][0], "the depositor is bob, not carol")

        # An aborted call: more than bob holds. The value comes back; the fee stays.
        before = balance("bob")
        r = run("contract", "call", "escrow", "withdraw", "501", "--value", "7", "--as", "bob")
        check(r.returncode == 1 and "aborted at line" in r.stderr and "requires" in r.stderr,
              f"withdraw 501: exit {r.returncode}, {r.stderr.strip()}")
        check(balance("bob") == before - fee["withdraw"], "the aborted call kept only its fee")
        check(json.loads(ok("contract", "show", "escrow", "--json").stdout)["held"] == 500,
              "the aborted call changed nothing in the contract")

        # Bad calls: clear errors, no hang.
        for args, say in [(["contract", "call", "nope", "a", "--as", "bob"], "no contract named"),
                          (["contract", "call", "escrow", "withdraw", "x", "--as", "bob"],
                           "not a u64"),
                          (["contract", "show", "nope"], "no contract named"),
                          (["contract", "deploy", escrow, "--as", "bob"], "exists")]:
            r = run(*args)
            check(r.returncode != 0 and say in r.stderr, f"{args}: {r.returncode} {r.stderr}")

        # fog stake: on the proven escrow it stakes; on a contract that does not verify it
        # refuses, unless --force (with a warning).
        ok("stake", "escrow", "1000", "--from", "alice")
        check(json.loads(ok("contract", "show", "escrow", "--json").stdout)["held"] == 500,
              "stake is not the contract's own tokens")
        leaky = os.path.join(work, "leaky.flo")
        with open(os.path.join(repo, "tests", "golden", "verify", "bug_underflow.flo")) as f:
            src = f.read().replace("contract escrow", "contract leaky")
        with open(leaky, "w") as f:
            f.write("\n".join(line.split("  # expect")[0] for line in src.splitlines()) + "\n")
        ok("contract", "deploy", leaky, "--as", "alice")
        before = balance("alice")
        r = run("stake", "leaky", "10", "--from", "alice")
        check(r.returncode == 1 and "refusing to stake on 'leaky'" in r.stderr,
              f"stake on leaky: {r.returncode} {r.stderr.strip()}")
        check(balance("alice") == before, "a refused stake moves nothing")
        r = ok("stake", "leaky", "10", "--from", "alice", "--force")
        check("WARNING" in r.stderr, f"--force warns: {r.stderr}")
        check(balance("alice") == before - 10, "--force staked")
        ok("unstake", "leaky", "10", "--from", "alice")
        check(balance("alice") == before, "unstake returns it")
        print("ok: deploy, calls with value, fees, an abort, show, stake refused and forced")
        return 0
    except Fail as e:
        print(f"FAIL: {e}")
        return 1
    finally:
        subprocess.run([fog, "down", "--dir", d], capture_output=True, timeout=60)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
