"""What the net tests that drive `fog` on a local fog share: a failure that says what went wrong,
and a runner of fog commands on one fog folder, each bounded in time."""
import json
import os
import subprocess

# A local fog's supply (the genesis account's) and what each fogger's account is given.
SUPPLY = 1_000_000_000
FOGGER_FUNDS = 1_000


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


class FogCli:
    """Runs `FOG ARGS... --dir DIR` with no passphrase asked, each within `timeout` seconds."""

    def __init__(self, fog, d, timeout):
        self.fog, self.d, self.timeout = fog, d, timeout
        self.env = dict(os.environ, FOG_PASSPHRASE="")

    def run(self, *args):
        cmd = [self.fog, *args, "--dir", self.d]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout,
                                  env=self.env)
        except subprocess.TimeoutExpired:
            raise Fail(f"hung: {' '.join(cmd)}")

    def ok(self, *args):
        r = self.run(*args)
        check(r.returncode == 0, f"fog {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def holds(self, name):
        """An account's balance and what it has staked or unbonding, as the pool reports them."""
        a = json.loads(self.ok("account", "balance", name, "--json").stdout)
        return a["balance"], a["stake"] + a["unbonding"]

    def fogger_log_paths(self):
        """Each fogger's log file, in the fog's folder order."""
        entries = sorted(os.listdir(self.d)) if os.path.isdir(self.d) else []
        return [p for p in (os.path.join(self.d, e, "fogger.log") for e in entries)
                if os.path.exists(p)]

    def fogger_logs(self):
        """Every fogger's log, one after another."""
        return "".join(open(p).read() for p in self.fogger_log_paths())

    def print_fogger_logs(self):
        """The end of each fogger's log (after a failure)."""
        for p in self.fogger_log_paths():
            print(f"--- {p}\n{open(p).read()[-2000:]}")


def processes_naming(text, also=""):
    """Pids of the live processes (other than this one) whose command line contains `text` (and
    `also`, when given; the command line's arguments joined by spaces): a test's own temporary
    folder names only the processes it started."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{entry}/stat") as f:
                zombie = f.read().rsplit(")", 1)[1].split()[0] == "Z"
        except OSError:
            continue
        if text in cmdline and also in cmdline and not zombie:
            found.append(int(entry))
    return found


def golden_output(repo, example):
    """What a fogger returns for tests/golden/examples/EXAMPLE: the lines the program prints,
    then the final value of each of its shares (not the runtime's .framer, .meta and .time
    ones), as the golden store has them."""
    golden = os.path.join(repo, "tests", "golden", "examples", example)
    return open(golden + ".expected").read().splitlines() + [
        "share " + line for line in open(golden + ".store").read().splitlines()
        if not line.startswith((".framer.", ".meta.", ".time "))]
