#!/usr/bin/env python3
"""What ends a fog command that started replica processes also stops them: the replicas run in
sessions of their own and outlive a parent that dies, so the command must live to stop them.

  * `fog up` in the foreground, stopped by Ctrl-C (SIGINT), SIGTERM, and SIGHUP (its terminal
    closed): it exits 0 and no replica of its fog is left;
  * `fog bench pool --quick` whose reader goes away (`| head`): it ends early with an error (it
    used to die of SIGPIPE and leave four replicas running), no replica left, no temporary fog;
  * `fog bench pool --quick` sent SIGHUP once its pool serves: the same;
  * `fog bench deploy` sent SIGINT once its fog is up: the same (it used to leave the fog's
    replicas and foggers running);
  * a replica daemon sent SIGHUP (run by hand, its terminal closed) stops as on SIGTERM: its
    log says at what height, and `fog up --detach` starts it again.

Usage: fog_signals_test.py FOG
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

from fog_cli import Fail, check, processes_naming

TIMEOUT = 60  # seconds for any one command to start or stop


def as_from_a_terminal():
    """In the child before exec: the stop signals at their defaults, as a command started from a
    terminal has them (this test may run in a background job, which starts with SIGINT ignored,
    and an ignored signal stays ignored, in fog too)."""
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, signal.SIG_DFL)


def replicas_naming(text):
    """The replica processes among processes_naming(text) (not the fog command naming it)."""
    return processes_naming(text, also="pool run")


def wait_for_line(proc, needle, what):
    """Reads proc's stdout until a line containing needle; the lines read."""
    seen = []
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return seen
    proc.kill()
    raise Fail(f"{what}: no line with {needle!r} within {TIMEOUT} s; it printed:\n" + "".join(seen))


def wait_exit(proc, what):
    try:
        return proc.wait(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise Fail(f"{what}: still running {TIMEOUT} s after it was told to stop")


def no_replicas_of(text, what):
    # The last replica may take a moment to go once its parent said it stopped.
    deadline = time.monotonic() + 10
    while processes_naming(text) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = processes_naming(text)
    check(not left, f"{what}: replica processes still running: {left}")


def up_stopped_by(fog, sig, tmp):
    d = os.path.join(tmp, f"fog-{sig.name}")
    what = f"fog up, then {sig.name}"
    env = dict(os.environ, FOG_PASSPHRASE="")
    proc = subprocess.Popen([fog, "up", "--dir", d], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=as_from_a_terminal)
    wait_for_line(proc, "serving; Ctrl-C stops the fog", what)
    check(len(replicas_naming(d)) == 4, f"{what}: not 4 replica processes serving")
    proc.send_signal(sig)
    rc = wait_exit(proc, what)
    rest = proc.stdout.read()
    check(rc == 0, f"{what}: exited {rc}:\n{rest}")
    no_replicas_of(d, what)
    print(f"ok: {what}: exit 0, every replica stopped")


def replica_hung_up(fog, tmp):
    d = os.path.join(tmp, "fog-replica-hup")
    what = "a replica sent SIGHUP"
    env = dict(os.environ, FOG_PASSPHRASE="", FOG_EXE=fog)
    up = [fog, "up", "--dir", d, "--detach", "--foggers", "0"]
    r = subprocess.run(up, capture_output=True, text=True, env=env, timeout=TIMEOUT,
                       preexec_fn=as_from_a_terminal)
    check(r.returncode == 0, f"{what}: fog up exited {r.returncode}: {r.stderr}")
    try:
        with open(os.path.join(d, "replica-1", "replica.pid")) as f:
            pid = int(f.read().split()[0])
        os.kill(pid, signal.SIGHUP)
        deadline = time.monotonic() + TIMEOUT
        while pid in processes_naming(d) and time.monotonic() < deadline:
            time.sleep(0.05)
        check(pid not in processes_naming(d), f"{what}: still running")
        with open(os.path.join(d, "replica-1", "replica.log")) as f:
            last = f.read().strip().splitlines()[-1]
        check(last.startswith("replica 1 stopped at height"),
              f"{what}: no orderly stop in its log; its last line: {last!r}")
        r = subprocess.run(up, capture_output=True, text=True, env=env, timeout=TIMEOUT,
                           preexec_fn=as_from_a_terminal)
        check(r.returncode == 0 and "1 started, 3 already running" in r.stdout + r.stderr,
              f"{what}: fog up did not start it again: {r.stdout}{r.stderr}")
    finally:
        subprocess.run([fog, "down", "--dir", d], capture_output=True, env=env, timeout=TIMEOUT)
    no_replicas_of(d, what)
    print(f"ok: {what}: {last}; started again by fog up --detach")


def bench_stopped(fog, tmp, what, prefix, stop, killed_by, bench=("pool", "--quick")):
    """`fog bench BENCH...`, stopped by `stop(proc)`; it must end with an error of its own (not
    die of `killed_by`), with no replica and no temporary fog left."""
    where = tempfile.mkdtemp(prefix=prefix, dir=tmp)
    env = dict(os.environ, FOG_EXE=fog)
    proc = subprocess.Popen([fog, "bench", *bench, "--tmp", where],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=as_from_a_terminal)
    stop(proc, where)
    rc = wait_exit(proc, what)
    err = proc.stderr.read()
    check(rc != 0 and rc != -killed_by, f"{what}: exited {rc}, not with an error of its own")
    check("interrupted" in err, f"{what}: no word of the interruption: {err!r}")
    no_replicas_of(where, what)
    check(not os.listdir(where), f"{what}: the temporary fog was left: {os.listdir(where)}")
    print(f"ok: {what}: exit {rc} ({err.strip()}), no replica left, no temporary fog")


def reader_gone(proc, where):
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as head does after its line


def signalled_once(needle, sig):
    """Sends sig once a line with needle is out and the fog's replicas run."""
    def stop(proc, where):
        wait_for_line(proc, needle, "fog bench")
        deadline = time.monotonic() + TIMEOUT
        while len(replicas_naming(where)) < 4 and time.monotonic() < deadline:
            time.sleep(0.1)
        check(len(replicas_naming(where)) == 4, "fog bench: not 4 replicas running")
        proc.send_signal(sig)
    return stop


def main():
    fog = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="fog-signals-test-") as tmp:
        try:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                up_stopped_by(fog, sig, tmp)
            replica_hung_up(fog, tmp)
            bench_stopped(fog, tmp, "fog bench pool | head -1", "bench-head-", reader_gone,
                          signal.SIGPIPE)
            bench_stopped(fog, tmp, "fog bench pool, then SIGHUP", "bench-hup-",
                          signalled_once("serving", signal.SIGHUP), signal.SIGHUP)
            bench_stopped(fog, tmp, "fog bench deploy, then SIGINT", "bench-deploy-",
                          signalled_once("starting a local fog", signal.SIGINT), signal.SIGINT,
                          bench=("deploy", "--count", "3"))
        except Fail as e:
            print(f"FAIL: {e}")
            for pid in processes_naming(tmp):
                os.kill(pid, signal.SIGKILL)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
