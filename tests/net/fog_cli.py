"""What the net tests that drive `fog` on a local fog share: a failure that says what went wrong,
and a runner of fog commands on one fog folder, each bounded in time."""
import os
import subprocess


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
