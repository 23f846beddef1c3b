#!/usr/bin/env python3
"""The aarch64 fogger of a local fog is the aarch64 build of the fogger (issue 14;
docs/deploy.md, "The aarch64 fogger"). On a fresh `fog up`:

1. fogger 1 runs as `qemu-aarch64 -L /usr/aarch64-linux-gnu .../fogger-aarch64 --config ...`
   (its /proc cmdline), that file is an aarch64 ELF and qemu has it mapped; fogger 0 is the
   x86-64 `fogger` program;
2. a job deployed on both gives the program's output on each (the golden output of
   examples/thermostat_job.flo, as net.deploy checks it);
3. `fog down` stops both processes, the one under qemu included.

It prints the idle resident memory of each fogger. Usage: fogger_arch_test.py FOG REPO.
"""
import json
import os
import shutil
import sys
import tempfile
import time

from fog_cli import Fail, FogCli, check, golden_output

CLI_TIMEOUT = 90
EM_X86_64, EM_AARCH64 = 62, 183


def elf_machine(path):
    with open(path, "rb") as f:
        head = f.read(20)
    check(head[:4] == b"\x7fELF", f"{path} is not an ELF file")
    return int.from_bytes(head[18:20], "little")


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0") if a]


def running(pid):
    """True while the process exists and is not a zombie."""
    try:
        stat = open(f"/proc/{pid}/stat").read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def resident_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise Fail(f"no VmRSS for pid {pid}")


def main():
    fog, repo = sys.argv[1], sys.argv[2]
    work = tempfile.mkdtemp(prefix="fogger-arch-test-")
    d = os.path.join(work, "fog")
    job = os.path.join(repo, "examples", "thermostat_job.flo")
    expected = golden_output(repo, "thermostat_job")
    cli = FogCli(fog, d, CLI_TIMEOUT)
    ok = cli.ok
    pids = []
    try:
        up = ok("up", "--detach")
        check("fogger-aarch64 under qemu" in up.stdout, f"fog up said: {up.stdout}")
        foggers = {f["index"]: f for f in json.loads(ok("status", "--json").stdout)["foggers"]}
        check(len(foggers) == 2 and all(f["pid"] for f in foggers.values()),
              f"fog up did not start two foggers: {foggers}")
        pids = [foggers[0]["pid"], foggers[1]["pid"]]

        # 1. What runs.
        native, arm = cmdline(pids[0]), cmdline(pids[1])
        check(os.path.basename(native[0]) == "fogger" and elf_machine(native[0]) == EM_X86_64,
              f"fogger 0 runs {native}")
        check(foggers[0]["arch"] == "x86_64" and foggers[1]["arch"] == "aarch64",
              f"the foggers' arches: {foggers}")
        check(len(arm) >= 4 and os.path.basename(arm[0]) == "qemu-aarch64"
              and arm[1:3] == ["-L", "/usr/aarch64-linux-gnu"]
              and os.path.basename(arm[3]) == "fogger-aarch64", f"fogger 1 runs {arm}")
        check(elf_machine(arm[3]) == EM_AARCH64, f"{arm[3]} is not an aarch64 program")
        check(os.path.join(d, "fogger-1", "fogger.json") in arm, f"fogger 1's config: {arm}")
        maps = open(f"/proc/{pids[1]}/maps").read()
        check(os.path.realpath(arm[3]) in maps, f"qemu (pid {pids[1]}) has not mapped {arm[3]}")
        time.sleep(1)  # idle: registered, nothing to run
        print(f"idle resident memory: fogger 0 (x86-64 fogger) {resident_kib(pids[0])} KiB, "
              f"fogger 1 (fogger-aarch64 under qemu) {resident_kib(pids[1])} KiB")

        # 2. A job on both.
        r = cli.run("deploy", job, "--json")
        check(r.returncode == 0, f"fog deploy exited {r.returncode}: {r.stderr}")
        out = json.loads(r.stdout)
        check(out["order"]["status"] == "settled", f"the order is {out['order']['status']}")
        results = out["results"]
        check(sorted(x["arch"] for x in results) == ["aarch64", "x86_64"],
              f"the job ran on {[x['arch'] for x in results]}")
        for x in results:
            check(x["verified"], f"{x['fogger']}: {x.get('error')}")
            check(x["lines"] == expected, f"{x['arch']} printed {x['lines']}, not {expected}")

        # 3. fog down stops them.
        ok("down")
        for pid in pids:
            for _ in range(100):
                if not running(pid):
                    break
                time.sleep(0.05)
            check(not running(pid), f"fogger pid {pid} still runs after fog down")
        print("ok: fogger 1 is fogger-aarch64 under qemu, the job's output is the golden one on "
              "both, fog down stopped both")
        return 0
    except Fail as e:
        print(f"FAIL: {e}", file=sys.stderr)
        cli.print_fogger_logs()
        return 1
    finally:
        cli.run("down")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
