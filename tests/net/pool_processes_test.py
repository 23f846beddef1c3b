#!/usr/bin/env python3
"""The pool as users run it: four `fog pool run` replica processes on loopback UDP, each with its
own SQLite file, driven only through the `fog` CLI, under process, disk and network faults.

Usage: pool_processes_test.py FOG [SCENARIO ...]. The in-process simulator (ctest -L pool) checks
the consensus core against the fault matrix (POOL-TESTING.md §5.3); this test checks what only
real processes show: the CLI's outcomes and exit codes, kill -9 of real processes, fsync and
restart from a real SQLite file, catch-up over real sockets, and datagrams from strangers. One
local fog (a temporary folder) serves every scenario in turn, and a model of every account this
test made is compared with the pool after each one (conservation: the accounts hold the whole
supply):

  happy        up, status --json, account new, transfers, stake, unstake, provider register, and
               the CLI's errors with their exit codes (none may hang).
  leader-kill  (F1) parallel clients transfer while replica 0 (the first leader) is killed with
               SIGKILL, it restarts, then replica 1 (the next leader) is killed: every transfer
               acknowledged (exit 0 with a height) is in the final balances, none applied twice,
               no two acknowledged as one transaction; the time from each kill to the next
               commit is printed, not asserted.
  catch-up     (F3/F4) one replica killed for 24 s while the others commit more than three
               checkpoint intervals of blocks (and their transports give up what they queued
               for it first); restarted under load, it restores its height from its store,
               reaches the others' by state transfer (a stable checkpoint's snapshot, then the
               blocks after it), says so in its log, and its stored chain verifies, with the gap
               the transfer left.
  all-killed   (F6) every replica killed at once right after acknowledged commits, restarted:
               every acknowledged balance is there and new transfers commit.
  torn-wal     (F16) a replica killed right after commits gets the tail of its SQLite WAL cut
               mid-frame, and restarts: it either starts and catches up (SQLite discards the torn
               tail) or refuses with the reason in its log; the pool commits either way, and
               `fog up` leaves the other replicas running. Then another replica's database has
               pages overwritten: refused (or started, with a chain that must verify), and a
               fresh store for it catches up from genesis by state transfer.
  garbage      (F13) random datagrams, transport-shaped ones, and truncated, bit-flipped and
               replayed copies of real client traffic (captured by a relay) at every replica:
               no replica dies or logs a crash, and the pool still commits.

At the end all four replicas agree on height and state root, every chain verifies, and (once the
fog is down, read with sqlite3) the stored chains hold the same block and state root at every
height they share. Every wait is bounded and a watchdog interrupts the test at 240 s; the fog is
stopped and any replica left is killed, whatever happened.
"""
import json
import os
import re
import random
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

from fog_cli import processes_naming

SUPPLY = 1_000_000_000
CHECKPOINT_INTERVAL = 128  # the local fog's genesis (pool/wire/genesis.h default)
CLI_TIMEOUT = 40  # seconds: the CLI waits at most 15 s for the pool; more than this is a hang
WATCHDOG = 240  # seconds for the whole test (ctest's TIMEOUT is 300); about 50 s is usual
SESSION_TIMEOUT = 10  # seconds: the transport ends a silent session (TransportConfig)
CRASH_MARKS = ["invariant violated", "terminate called", "Segmentation", "Aborted",
               "AddressSanitizer", "runtime error:", "core dumped"]


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def alive(pid):
    """Whether pid runs (a zombie waiting for init to reap it does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] != "Z"


def converged(st):
    """Every replica serves, at one height or the next, with one state root per height. An idle
    pool leaves some a block ahead: the leader commits the empty block that carried the last
    block with transactions to its commit when it certifies the next one, and only a replica
    that learns that certificate (catching up from the leader, say) follows; the others would
    with the next proposal, which an idle pool does not make."""
    if any(r["height"] is None for r in st):
        return False
    low = min(r["height"] for r in st)
    roots = {}
    for r in st:
        roots.setdefault(r["height"], set()).add(r["state_root"])
    return max(roots) <= low + 1 and all(len(v) == 1 for v in roots.values())


class Fog:
    """The local fog in `dir`, its CLI and its replica processes."""

    def __init__(self, fog, dir):
        self.fog, self.dir = fog, dir

    def run(self, *args, timeout=CLI_TIMEOUT, dir=None):
        """Runs `fog ARGS --dir DIR`; a command that does not return in time is a hang."""
        cmd = [self.fog, *args, "--dir", dir or self.dir]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise Fail(f"hung: {' '.join(cmd)} did not return within {timeout} s")

    def ok(self, *args, **kw):
        r = self.run(*args, **kw)
        check(r.returncode == 0, f"fog {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
        return r

    def status(self):
        r = self.run("status", "--json")
        try:
            return json.loads(r.stdout)["replicas"]
        except (ValueError, KeyError) as e:
            raise Fail(f"fog status --json (exit {r.returncode}) is not the expected JSON: {e}: "
                       f"{r.stdout!r} {r.stderr!r}")

    def up(self):
        return self.ok("up", "--detach", "--foggers", "0", timeout=60)

    def replica_dir(self, i):
        return os.path.join(self.dir, f"replica-{i}")

    def pid(self, i):
        try:
            with open(os.path.join(self.replica_dir(i), "replica.pid")) as f:
                pid = int(f.read().strip() or 0)
        except (OSError, ValueError):
            return None
        return pid if pid > 0 and alive(pid) else None

    def kill9(self, *replicas):
        """SIGKILL, all at once, then wait until they are gone."""
        pids = [self.pid(i) for i in replicas]
        check(all(pids), f"replicas {replicas} should all be running, pids {pids}")
        for p in pids:
            os.kill(p, signal.SIGKILL)
        end = time.monotonic() + 10
        while any(alive(p) for p in pids):
            check(time.monotonic() < end, f"pids {pids} survive SIGKILL")
            time.sleep(0.01)
        return pids

    def log(self, i):
        with open(os.path.join(self.replica_dir(i), "replica.log"), errors="replace") as f:
            return f.read()

    def new_account(self, name):
        r = self.ok("account", "new", name, "--json")
        return json.loads(r.stdout)["account"]

    def account(self, name):
        r = self.ok("account", "balance", name, "--json")
        return json.loads(r.stdout)

    def transfer(self, frm, to, amount):
        """(exit code, height or None, tx id or None, the process)."""
        r = self.run("account", "transfer", "--from", frm, "--to", to, str(amount), "--json")
        height = tx = None
        if r.returncode == 0:
            out = json.loads(r.stdout)
            check(out["committed"] and out["applied"] and out["height"] > 0,
                  f"transfer exited 0 but says {out}")
            height, tx = out["height"], out["tx"]
        return r.returncode, height, tx, r

    def pay(self, frm, to, amount, model):
        rc, height, _, r = self.transfer(frm, to, amount)
        check(rc == 0, f"transfer {frm} -> {to} {amount} exited {rc}: {r.stderr.strip()}")
        model[frm] -= amount
        model[to] = model.get(to, 0) + amount
        return height

    def wait_converged(self, limit):
        """Waits until every replica serves and they agree (see converged()); returns (seconds
        waited, status)."""
        t0 = time.monotonic()
        while True:
            st = self.status()
            if converged(st):
                return time.monotonic() - t0, st
            if time.monotonic() - t0 > limit:
                raise Fail(f"replicas did not converge within {limit} s: " +
                           ", ".join(f"{r['index']}: pid {r['pid']} height {r['height']}"
                                     for r in st))
            time.sleep(0.2)

    def check_model(self, model, what):
        """Every account of the model holds what the model says (balance, stake and unbonding
        together: an unstaked amount returns to the balance after unstakeLockBlocks); the
        accounts hold the supply."""
        total = 0
        for name, want in model.items():
            a = self.account(name)
            holds = a["balance"] + a["stake"] + a["unbonding"]
            check(holds == want, f"{what}: {name} holds {holds} ({a}), expected {want}")
            total += holds
        check(total == SUPPLY, f"{what}: the accounts hold {total}, not the supply {SUPPLY}")

    def verify_chain(self, i):
        r = subprocess.run([self.fog, "pool", "verify-chain", self.replica_dir(i), "--json"],
                           capture_output=True, text=True, timeout=CLI_TIMEOUT)
        check(r.returncode == 0, f"verify-chain replica-{i} exited {r.returncode}: {r.stdout} "
                                 f"{r.stderr}")
        report = json.loads(r.stdout)
        check(report["ok"] and report["verified_height"] == report["stored_height"],
              f"verify-chain replica-{i}: {report}")
        return report

    def crashes(self, i):
        text = self.log(i)
        return [m for m in CRASH_MARKS if m in text]


class Load:
    """Client processes in parallel, each paying 1 token at a time from its own account to its
    own sink (so a sink's balance counts the applied transfers of one client exactly)."""

    def __init__(self, fog, pairs):
        self.fog, self.pairs = fog, pairs
        self.stop = threading.Event()
        self.events = {w: [] for w, _ in pairs}  # (start, end, exit code, height, tx id)
        self.threads = [threading.Thread(target=self.client, args=p, daemon=True) for p in pairs]

    def client(self, worker, sink):
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                rc, height, tx, _ = self.fog.transfer(worker, sink, 1)
            except Fail as e:  # a hang: kept as an unacknowledged attempt, reported below
                print(f"  {worker}: {e}")
                rc, height, tx = -1, None, None
            self.events[worker].append((t0, time.monotonic(), rc, height, tx))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=CLI_TIMEOUT + 5)
        check(not any(t.is_alive() for t in self.threads), "a client thread did not finish")

    def acks(self):
        return sorted((e[1], e[3], w) for w, evs in self.events.items() for e in evs if e[2] == 0)

    def acked_after(self, t):
        return sum(1 for end, _, _ in self.acks() if end > t)

    def wait_acks_after(self, t, count, limit):
        end = time.monotonic() + limit
        while self.acked_after(t) < count:
            check(time.monotonic() < end,
                  f"fewer than {count} transfers acknowledged within {limit} s of the fault")
            time.sleep(0.05)

    def first_commit_after(self, t):
        """Seconds from t to the first acknowledgement of a transfer started after t."""
        ends = [e[1] for evs in self.events.values() for e in evs if e[2] == 0 and e[0] > t]
        return min(ends) - t if ends else None

    def settle(self, model):
        """Checks every acknowledged transfer applied exactly once and brings the model up to
        date; transfers without an outcome (exit 1 after a timeout) may or may not have applied,
        and are bounded."""
        acked = failed = 0
        for worker, sink in self.pairs:
            evs = self.events[worker]
            ok = [e for e in evs if e[2] == 0]
            heights, txs = [e[3] for e in ok], [e[4] for e in ok]
            twice = sorted({(h, t[:16]) for h, t in zip(heights, txs) if txs.count(t) > 1})
            check(not twice, f"{worker}: two transfers acknowledged as one transaction (the second "
                             f"signed with the nonce of the first, so the same bytes): {twice}")
            check(heights == sorted(heights) and len(set(heights)) == len(heights),
                  f"{worker}: acknowledged heights not increasing: {heights}")
            w, s = self.fog.account(worker), self.fog.account(sink)
            applied = s["balance"] - model[sink]
            unknown = len(evs) - len(ok)
            check(applied >= len(ok), f"{worker}: {len(ok)} transfers acknowledged but {applied} "
                                      f"applied: an acknowledged transfer was lost")
            check(applied <= len(ok) + unknown,
                  f"{worker}: {applied} applied but only {len(ok)} acknowledged and {unknown} "
                  f"without outcome: a transfer applied twice")
            check(w["balance"] == model[worker] - applied,
                  f"{worker}: balance {w['balance']}, expected {model[worker] - applied}")
            model[worker] -= applied
            model[sink] += applied
            acked += len(ok)
            failed += unknown
        return acked, failed


# ---- scenarios -----------------------------------------------------------------------------------

def happy(f, model):
    st = f.status()
    check(len(st) == 4, f"status lists {len(st)} replicas, not 4")
    with open(os.path.join(f.dir, "genesis.json")) as g:
        genesis = json.load(g)
    for i, r in enumerate(st):
        for key in ["did", "addr", "pid", "view", "height", "state_root", "last_commit"]:
            check(key in r, f"status replica {i} lacks '{key}': {r}")
        check(r["pid"] == f.pid(i), f"replica {i}: status pid {r['pid']}, pid file {f.pid(i)}")
        g = genesis["replicas"][i]
        check(r["did"] == g["did"] and r["addr"] == f"{g['host']}:{g['port']}",
              f"replica {i}: status {r['did']} {r['addr']} is not the genesis's {g}")
        check(isinstance(r["height"], int) and len(r["state_root"]) == 64,
              f"replica {i} does not serve: {r}")
    check(len({(r["height"], r["state_root"]) for r in st}) == 1, f"replicas disagree: {st}")
    human = f.ok("status").stdout
    check("4 of 4 replicas serving" in human, f"fog status says {human!r}")

    alice, bob = f.new_account("alice"), f.new_account("bob")
    check(alice.startswith("did:key:") and alice != bob, f"accounts {alice} {bob}")
    again = f.run("account", "new", "alice")
    check(again.returncode == 1, f"a second 'account new alice' exited {again.returncode}")
    model.update(alice=0, bob=0)
    h1 = f.pay("genesis", "alice", 1000, model)
    h2 = f.pay("genesis", "bob", 500, model)
    r = f.ok("account", "transfer", "--from", "alice", "--to", bob, "250")  # to a did:key
    check(r.stdout.startswith("committed at height "), f"transfer printed {r.stdout!r}")
    h3 = int(r.stdout.split()[3])
    model["alice"] -= 250
    model["bob"] += 250
    check(h1 < h2 < h3, f"heights {h1} {h2} {h3} do not increase")
    f.check_model(model, "after the transfers")

    f.ok("stake", "--from", "alice", "100")
    f.ok("unstake", "--from", "alice", "40")
    f.ok("provider", "register", "--from", "bob", "--arch", "x86_64", "--cores", "2", "--memory",
         "1024", "--zone", "home", "--price", "3")
    a, b = f.account("alice"), f.account("bob")
    check((a["balance"], a["stake"], a["unbonding"], a["nonce"]) == (650, 60, 40, 3),
          f"alice after stake 100, unstake 40: {a}")
    check(b["provider"] and b["nonce"] == 1, f"bob after provider register: {b}")
    f.check_model(model, "after stake, unstake, provider")

    errors = [  # (args, exit code, what stderr must say)
        (["account", "transfer", "--from", "genesis", "--to", "carol", "5"], 1, "unknown account"),
        (["account", "transfer", "--from", "carol", "--to", "alice", "5"], 1, "unknown account"),
        (["account", "balance", "carol"], 1, "unknown account"),
        (["account", "transfer", "--from", "bob", "--to", "alice", "999999"], 1, "insufficient"),
        (["stake", "--from", "bob", "999999"], 1, "insufficient"),
        (["account", "transfer", "--from", "genesis", "--to", "alice", "12x"], 2, "whole number"),
        (["account", "transfer", "--from", "genesis", "--to", "alice", "-5"], 2, "whole number"),
        (["account", "transfer", "--from", "genesis", "--to", "alice", "0"], 2, "more than 0"),
        (["stake", "--from", "alice", "1.5"], 2, "whole number"),
    ]
    for args, code, says in errors:
        t0 = time.monotonic()
        r = f.run(*args)
        took = time.monotonic() - t0
        check(r.returncode == code and says in r.stderr,
              f"fog {' '.join(args)}: exit {r.returncode} (expected {code}), stderr "
              f"{r.stderr.strip()!r} (expected to say '{says}')")
        check(took < 10, f"fog {' '.join(args)} took {took:.1f} s to fail")
    nofog = os.path.join(f.dir, "no-such-fog")
    r = f.run("account", "transfer", "--from", "genesis", "--to", "alice", "5", dir=nofog)
    check(r.returncode == 1 and "no fog" in r.stderr,
          f"a transfer without a fog: exit {r.returncode}, {r.stderr.strip()!r}")
    check(not os.path.exists(nofog), "a transfer without a fog made its folder")
    f.check_model(model, "after the refused commands")
    check(f.account("bob")["nonce"] == 1, "a refused transfer used bob's nonce")
    # Each client signature checked once per replica (POOL-TESTING S7), whether the daemon's
    # signature worker checked it or a proposal needed it first: every transaction sent so far
    # committed, and the refused ones were refused before their signature was looked at.
    _, st = f.wait_converged(30)
    for i, r in enumerate(st):
        check(r["signatures_verified"] == r["transactions_committed"] > 0,
              f"replica {i} checked {r['signatures_verified']} signatures for "
              f"{r['transactions_committed']} committed transactions: {st}")
    print(f"  heights {h1} {h2} {h3}; {len(errors) + 1} bad commands refused with their exit codes;"
          f" {st[0]['signatures_verified']} signatures checked once by each replica")


def clients(f, model, n):
    """n (paying account, sink) pairs, made and funded the first time."""
    pairs = [(f"w{i}", f"s{i}") for i in range(n)]
    for w, s in pairs:
        if w not in model:
            f.new_account(w)
            f.new_account(s)
            model[s] = 0
            model[w] = 0
            f.pay("genesis", w, 100_000, model)
    return pairs


def find_leader(f, model):
    """The replica leading now: replica v mod n leads view v (docs/pool.md), and after a
    committed transfer a quorum of replicas report the view they are in."""
    for _ in range(3):
        f.pay("genesis", "alice", 1, model)
        st = f.status()
        views = [r["view"] for r in st if r.get("view") is not None]
        for v in set(views):
            if views.count(v) >= len(st) - (len(st) - 1) // 3:
                return v % len(st)
        time.sleep(0.2)
    raise Fail(f"no view that a quorum of replicas report after a transfer: {st}")


def leader_kill(f, model):
    pairs = clients(f, model, 4)
    first = find_leader(f, model)
    second = (first + 1) % 4  # after the timeout certificate, view + 1 leads
    with Load(f, pairs) as load:
        load.wait_acks_after(0, 8, 20)
        before = load.acks()[-1][1]
        t_kill0 = time.monotonic()
        f.kill9(first)
        load.wait_acks_after(t_kill0, 8, 30)
        f.up()  # back, under load: it must catch up before the next leader may go
        t_up = time.monotonic()
        while True:
            st = f.status()
            if st[first]["height"] is not None and \
                    st[first]["height"] + 3 >= st[(first + 2) % 4]["height"]:
                break
            check(time.monotonic() - t_up < 30,
                  f"replica {first} did not catch up within 30 s: {st}")
            time.sleep(0.1)
        caught_up = time.monotonic() - t_up
        load.wait_acks_after(t_up, 6, 30)
        t_kill1 = time.monotonic()
        f.kill9(second)
        load.wait_acks_after(t_kill1, 8, 30)
        time.sleep(0.5)
    settled, unknown = load.settle(model)
    f.up()
    waited, st = f.wait_converged(30)
    f.check_model(model, "after the leader kills")
    heights = [h for _, h, _ in load.acks()]
    print(f"  {settled} transfers acknowledged ({unknown} without outcome) by 4 clients, "
          f"heights {heights[0]}..{heights[-1]} (height {before} before the first kill)")
    for name, t in [(f"replica {first} (the leader)", t_kill0),
                    (f"replica {second} (the next leader)", t_kill1)]:
        after = load.first_commit_after(t)
        ack = min((e for e, _, _ in load.acks() if e > t), default=None)
        print(f"  kill -9 {name} -> first acknowledgement {ack - t:.2f} s, first commit of a "
              f"transfer started after the kill {after:.2f} s" if after else
              f"  kill -9 {name} -> no transfer started after it was acknowledged")
    print(f"  replica {first} restarted under load was within 3 blocks of the others "
          f"{caught_up:.2f} s later; all 4 at height {st[0]['height']} {waited:.1f} s after "
          f"restarting replica {second}")


def restart_leader_kill(f, model):
    """F4 then F1: a follower down longer than the transport's session timeout comes back while
    the pool is idle, then the leader is killed; the three left must commit. The follower missed
    the last certified block (the messages queued for it were dropped with its sessions), whose
    certificate names the leader as its first voter."""
    leader = find_leader(f, model)
    if leader > 1:
        print(f"  skipped: replica {leader} leads; the case needs the leader to be the lowest "
              f"replica besides the follower")
        return
    victim = 3 if leader == 0 else 0
    if "carol" not in model:
        f.new_account("carol")
        model["carol"] = 0
    t0 = time.monotonic()
    f.kill9(victim)
    h = f.pay("genesis", "carol", 5, model)
    time.sleep(max(0.0, SESSION_TIMEOUT + 2 - (time.monotonic() - t0)))
    f.up()
    f.kill9(leader)
    t1 = time.monotonic()
    rc, height, _, r = f.transfer("genesis", "carol", 7)
    took = time.monotonic() - t1
    st = f.status()
    f.up()  # the old leader back: it holds the block, and with it there is a quorum without the
    for _ in range(10):  # follower; transfers from another sender take the follower along
        f.pay("alice", "carol", 1, model)
        if converged(f.status()):
            break
    carol = f.account("carol")
    if carol["balance"] == model["carol"] + 7:  # the stalled transfer went through in the end
        model["genesis"] -= 7
        model["carol"] += 7
    f.wait_converged(30)
    f.check_model(model, "after the restart and the leader kill")
    if rc != 0:
        raise Fail(
            f"replica {victim} down {SESSION_TIMEOUT + 2} s while height {h} committed, restarted; "
            f"leader {leader} killed: no commit in {took:.0f} s ({r.stderr.strip()}); the three "
            f"left at " + ", ".join(f"{x['index']}: round {x['round']} height {x['height']}"
                                    for x in st if x["pid"]) + "; it commits again once replica "
            f"{leader} is back")
    print(f"  replica {victim} down {SESSION_TIMEOUT + 2} s, restarted; leader {leader} killed: "
          f"the three left committed at height {height} {took:.2f} s later")


def catch_up(f, model):
    victim = 3
    h0 = f.status()[0]["height"]
    f.kill9(victim)
    t0 = time.monotonic()
    pairs = clients(f, model, 2)
    # Far enough for a state transfer: a peer sends one when its latest stable checkpoint is two
    # intervals above the height asked for, and checkpoints are an interval apart.
    target = h0 + 3 * CHECKPOINT_INTERVAL + 24
    with Load(f, pairs) as load:
        while True:  # (a status takes 1.5 s with a replica down: it waits for every answer)
            st = f.status()
            live = [r["height"] for i, r in enumerate(st) if i != victim]
            check(st[victim]["pid"] is None and st[victim]["height"] is None,
                  f"the killed replica still shows: {st[victim]}")
            # ... and long enough down that the others' transports gave up the first messages they
            # queued for it: a handshake times out after 10 s and fails what waits, the next one
            # starts with the next message. Back sooner, it gets every proposal it missed from
            # the queues and replays them, which is no state transfer.
            if min(h or 0 for h in live) >= target and time.monotonic() - t0 >= 24:
                break
            check(time.monotonic() - t0 < 60,
                  f"only height {live} of {target} within 60 s with one replica down")
        ahead = min(live)
        took = time.monotonic() - t0
        log_before = len(f.log(victim))
        t1 = time.monotonic()
        f.up()  # under load
        started = time.monotonic() - t1
        line = f.log(victim)[log_before:].strip().splitlines()
        check(line and " at height " in line[0], f"replica {victim} logged {line}")
        restored = int(re.search(r" at height (\d+)", line[0]).group(1))
        check(restored <= h0 + 3 and ahead - restored > 2 * CHECKPOINT_INTERVAL,
              f"replica {victim} restarted at height {restored}, not from where it stopped ({h0})")
        while True:
            st = f.status()
            if st[victim]["height"] is not None and \
                    st[victim]["height"] + 3 >= min(r["height"] or 0 for r in st):
                break
            check(time.monotonic() - t1 < 30, f"replica {victim} did not catch up under load "
                                              f"within 30 s: {st}")
            time.sleep(0.05)
        synced = time.monotonic() - t1
    settled, unknown = load.settle(model)
    _, st = f.wait_converged(30)
    report = f.verify_chain(victim)
    check(report["verified_height"] == st[victim]["height"] and
          report["state_root"] == st[victim]["state_root"],
          f"verify-chain replica-{victim}: {report}")
    transfer = [ln for ln in f.log(victim)[log_before:].splitlines() if "state transfer" in ln]
    # (the gap starts above what it restored, and above the block its probe fetched first)
    check(transfer and report["gaps"] and report["gaps"][0][0] > restored,
          f"replica {victim} did not catch up by state transfer: log {transfer}, verify-chain "
          f"gaps {report['gaps']}")
    mine, theirs = checkpoints(f, victim), checkpoints(f, 0)
    f.check_model(model, "after the catch-up")
    print(f"  replica {victim} killed at height {h0}; transfers took the others to {ahead} in "
          f"{took:.1f} s; fog up took {started:.2f} s, the replica restored height {restored} "
          f"from its store and was within 3 blocks of the others, under load, {synced:.2f} s "
          f"after fog up began, by state transfer (heights {report['gaps']} not held); "
          f"{settled} transfers ({unknown} without outcome); its chain "
          f"verifies to height {report['verified_height']}; stable checkpoints {mine} "
          f"(replica 0: {theirs})")
    if mine != theirs:  # POOL-TESTING F18; see docs/pool.md "Multi-process tests"
        print("  note: the caught-up replica lacks checkpoints its peers hold (they are not "
              "carried by sync)")


def all_killed(f, model):
    for k in range(3):
        f.pay("genesis", "alice", 7 + k, model)
    old = f.kill9(0, 1, 2, 3)  # right after the acknowledgement
    st = f.status()
    check(all(r["pid"] is None and r["height"] is None for r in st), f"still serving: {st}")
    t0 = time.monotonic()
    f.up()
    check(all(f.pid(i) and f.pid(i) not in old for i in range(4)), "not every replica restarted")
    f.check_model(model, "after every replica was killed and restarted")
    h = f.pay("genesis", "bob", 11, model)
    took = time.monotonic() - t0
    f.pay("alice", "bob", 3, model)
    f.check_model(model, "after the restart's transfers")
    print(f"  all 4 killed and restarted: balances intact; first commit (height {h}) {took:.2f} s "
          f"after fog up")


def torn_tail(path):
    """Cuts the WAL of a SQLite file in the middle of its last valid frame (or, without a WAL,
    the file's last few bytes); says what it did."""
    wal = path + "-wal"
    if os.path.exists(wal) and os.path.getsize(wal) > 32:
        with open(wal, "rb") as w:
            data = w.read()
        page = int.from_bytes(data[8:12], "big")
        salts = data[16:24]
        frame = 24 + page
        end = 32
        while end + frame <= len(data) and data[end + 8:end + 16] == salts:
            end += frame
        if end > 32:
            cut = end - frame + 24 + page // 2
            os.truncate(wal, cut)
            return (f"WAL cut from {len(data)} to {cut} bytes: the last of {(end - 32) // frame} "
                    f"frames of {page}-byte pages torn in half")
    size = os.path.getsize(path)
    os.truncate(path, size - 100)
    return f"no WAL frames: the database file cut from {size} to {size - 100} bytes"


def smashed_pages(path):
    """Folds the WAL into the database file (as a clean shutdown would) and overwrites the second
    half of the file with random bytes: damage SQLite cannot discard."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    size = os.path.getsize(path)
    with open(path, "r+b") as out:
        out.seek(size // 2)
        out.write(random.Random(16).randbytes(size - size // 2))
    return f"the last {size - size // 2} of its {size} bytes overwritten with random bytes"


def disk_fault(f, model, victim, damage, what):
    """Kills `victim` right after commits, damages its store, restarts it; returns whether it
    started (else it refused, naming the problem, and was rebuilt by state transfer from a
    fresh store)."""
    for k in range(3):
        f.pay("genesis", "bob", 2 + k, model)
    f.kill9(victim)
    done = damage(os.path.join(f.replica_dir(victim), "replica.db"))
    print(f"  {what}: replica {victim}, {done}")
    log_before = len(f.log(victim))
    up = f.run("up", "--detach", "--foggers", "0", timeout=60)
    log = f.log(victim)[log_before:].strip()
    started = bool(f.pid(victim))
    if started:
        check(up.returncode == 0, f"fog up exited {up.returncode}: {up.stderr}")
        print(f"  it started: {log.splitlines()[0] if log else '(no log)'}")
    else:
        check(up.returncode == 1, f"fog up exited {up.returncode} though replica {victim} is down")
        check("fog: error:" in log and "replica.db" in log,
              f"replica {victim} refused to start and its log does not say why: {log!r}")
        check("did not start" in up.stderr, f"fog up does not say what failed: {up.stderr!r}")
        why = next(line for line in log.splitlines() if "fog: error:" in line)
        print(f"  it refused to start: {why[:240]}")
        check(all(f.pid(i) for i in range(4) if i != victim),
              "fog up stopped the running replicas when one could not start")
    f.pay("genesis", "alice", 5, model)  # the pool commits either way
    for i in range(4):
        if i != victim:
            f.verify_chain(i)
    if not started:  # repaired by state transfer: a fresh store syncs from genesis
        for suffix in ["", "-wal", "-shm"]:
            p = os.path.join(f.replica_dir(victim), "replica.db" + suffix)
            if os.path.exists(p):
                os.rename(p, p + ".refused")
        f.up()
    t0 = time.monotonic()
    _, st = f.wait_converged(60)
    report = f.verify_chain(victim)
    f.check_model(model, f"after the {what}")
    print(f"  replica {victim} at height {st[victim]['height']} with the others "
          f"{time.monotonic() - t0:.2f} s later" +
          ("" if started else f" (rebuilt by state transfer, heights not held: {report['gaps']})")
          + f"; its chain verifies ({report['blocks']} blocks)")
    return started


def torn_wal(f, model):
    torn = disk_fault(f, model, 2, torn_tail, "torn WAL tail")
    smashed = disk_fault(f, model, 1, smashed_pages, "smashed database pages")
    print(f"  torn WAL: {'started and caught up' if torn else 'refused, rebuilt'}; smashed pages: "
          f"{'started and caught up' if smashed else 'refused, rebuilt'}")


class Relay:
    """A UDP relay between the CLI and one replica that keeps every datagram it passes."""

    def __init__(self, target):
        self.target = target
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.to_replica, self.from_replica = [], []
        self.client = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.done.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            try:  # a peer that went away makes the next call fail (ICMP port unreachable)
                data, addr = self.sock.recvfrom(65535)
                if addr == self.target:
                    self.from_replica.append(data)
                    if self.client:
                        self.sock.sendto(data, self.client)
                else:
                    self.client = addr
                    self.to_replica.append(data)
                    self.sock.sendto(data, self.target)
            except OSError:
                pass

    def close(self):
        self.done.set()
        self.thread.join(timeout=5)
        self.sock.close()


def capture(f, addrs):
    """Real datagrams of a client with replica 1: its genesis (in a copy of the fog) names a relay
    instead of the replica; a status, a balance and a transfer go through it. The transfer is
    refused (the copy's chain id differs), but its datagrams are real."""
    relay = Relay(addrs[1])
    try:
        copy = os.path.join(f.dir, "relayed")
        os.makedirs(copy, exist_ok=True)
        os.symlink(os.path.join(f.dir, "home"), os.path.join(copy, "home"))
        with open(os.path.join(f.dir, "genesis.json")) as g:
            genesis = json.load(g)
        genesis["replicas"][1]["port"] = relay.port
        with open(os.path.join(copy, "genesis.json"), "w") as g:
            json.dump(genesis, g)
        f.run("status", dir=copy)
        f.run("account", "balance", "alice", dir=copy)
        f.run("account", "transfer", "--from", "alice", "--to", "bob", "1", dir=copy, timeout=30)
    finally:
        relay.close()
    return relay.to_replica, relay.from_replica


def garbage(f, model):
    with open(os.path.join(f.dir, "genesis.json")) as g:
        addrs = [(r["host"], r["port"]) for r in json.load(g)["replicas"]]
    check(all(h == "127.0.0.1" for h, _ in addrs), f"not all replicas on loopback: {addrs}")
    pids = [f.pid(i) for i in range(4)]
    height0 = f.status()[0]["height"]
    to_replica, from_replica = capture(f, addrs)
    check(to_replica and from_replica, "the relay saw no traffic")
    rnd = random.Random(13)
    sent = 0
    senders = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(3)]
    try:
        for s in senders:
            s.bind(("127.0.0.1", 0))

        def send(data, to):
            nonlocal sent
            rnd.choice(senders).sendto(bytes(data), to)
            sent += 1

        for to in addrs:
            for k in range(300):  # random bytes, every size up to 1500
                send(rnd.randbytes(rnd.choice([0, 1, 2, 13, 14, 30, 31, 148, 224, 1200, 1500])
                                   if k < 40 else rnd.randint(0, 1500)), to)
            for k in range(300):  # the transport's version byte and a type, then noise
                kind = rnd.choice([1, 2, 3, 3, 3, 0, 4, 255])
                size = {1: 224, 2: 148}.get(kind, rnd.randint(2, 1500)) if k % 3 else \
                    rnd.randint(2, 300)
                send(bytes([3, kind]) + rnd.randbytes(size - 2), to)
            for d in to_replica + from_replica:  # replayed, truncated, bit-flipped real traffic
                send(d, to)
                send(d, to)
                send(d[:rnd.randint(0, len(d) - 1)], to)
                flipped = bytearray(d)
                flipped[rnd.randrange(len(d))] ^= 1 << rnd.randrange(8)
                send(flipped, to)
                send(d + rnd.randbytes(rnd.randint(1, 64)), to)
            time.sleep(0.05)  # let the replicas drain their sockets
    finally:
        for s in senders:
            s.close()
    time.sleep(0.5)
    h = f.pay("genesis", "alice", 9, model)
    check(h > height0, f"committed at {h}, not above {height0}")
    check([f.pid(i) for i in range(4)] == pids, f"a replica died: pids {pids} -> "
                                                f"{[f.pid(i) for i in range(4)]}")
    for i in range(4):
        check(not f.crashes(i), f"replica {i}'s log shows a crash: {f.crashes(i)}")
    waited, st = f.wait_converged(20)
    f.check_model(model, "after the garbage")
    print(f"  {sent} datagrams ({len(to_replica)} + {len(from_replica)} captured ones replayed, "
          f"cut and flipped) to 4 replicas: same pids, no crash, committed at height {h}")


def checkpoints(f, i):
    """The heights of replica i's stored stable checkpoints."""
    path = os.path.join(f.replica_dir(i), "replica.db")
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return [h for (h,) in db.execute("SELECT height FROM checkpoints ORDER BY height")]
    finally:
        db.close()


def compare_chains(f):
    """S1 and S2 on the stored chains (read with Python's sqlite3 once the replicas stopped): every
    replica holds blocks 1..tip but for gaps a state transfer left (the block above each is a
    checkpoint's kept with its snapshot), and at every height they share, the same block with the
    same state root. Returns the tips."""
    chains = []
    for i in range(4):
        path = os.path.join(f.replica_dir(i), "replica.db")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT height, id, state_root FROM blocks ORDER BY height")
            rows = rows.fetchall()
            bases = {h for (h,) in db.execute(
                "SELECT height FROM checkpoints WHERE snapshot IS NOT NULL")}
        finally:
            db.close()
        heights = [r[0] for r in rows]
        for below, above in zip([0] + heights, heights):
            check(above == below + 1 or above in bases,
                  f"replica {i}'s blocks skip {below + 1}..{above - 1} with no state transfer's "
                  f"base (a checkpoint with its snapshot) above the gap")
        chains.append({r[0]: r for r in rows})
    for i in range(1, 4):
        for h in sorted(set(chains[0]) & set(chains[i])):
            a, b = chains[0][h], chains[i][h]
            check(a[1] == b[1], f"replicas 0 and {i} hold different blocks at height {h}")
            check(a[2] == b[2], f"replicas 0 and {i} differ in the state root after {h}")
    return [max(c, default=0) for c in chains]


SCENARIOS = [("happy", happy), ("restart-leader-kill", restart_leader_kill),
             ("leader-kill", leader_kill), ("catch-up", catch_up), ("all-killed", all_killed),
             ("torn-wal", torn_wal), ("garbage", garbage)]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return fields[0], int(fields[11]) + int(fields[12])  # state, utime + stime


def diagnose(f):
    """After a failure: each replica's status, process state and CPU use, its log's end, and for
    one that runs but does not answer, its stacks (gdb, when installed)."""
    try:
        st = f.status()
    except Fail as e:
        print(f"  {e}")
        st = [{"height": None, "round": None}] * 4
    hz = os.sysconf("SC_CLK_TCK")
    for i in range(4):
        pid = f.pid(i)
        print(f"  replica {i}: " + (f"pid {pid}, round {st[i]['round']}, height "
                                     f"{st[i]['height']}" if pid else "not running"))
        if pid:
            try:
                state, before = cpu_ticks(pid)
                time.sleep(0.5)
                _, after = cpu_ticks(pid)
                with open(f"/proc/{pid}/wchan") as w:
                    wchan = w.read()
                print(f"    state {state}, waiting in {wchan or '-'}, "
                      f"{(after - before) / hz / 0.5:.0%} CPU")
            except OSError:
                pass
            if st[i]["height"] is None and shutil.which("gdb"):
                r = subprocess.run(["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                                   capture_output=True, text=True, timeout=60)
                frames = [line for line in r.stdout.splitlines() if line.startswith("#")]
                print("    " + "\n    ".join(frames[:40]))
        print("    log: ..." + f.log(i)[-300:].strip().replace("\n", "\n    "))


def main():
    fog = os.path.abspath(sys.argv[1])
    only = sys.argv[2:]
    passed = failed = 0
    # Past WATCHDOG seconds the main thread gets SIGINT, so that the fog is still stopped before
    # ctest's TIMEOUT would kill this script and leave the replicas running.
    watchdog = threading.Timer(WATCHDOG, lambda: os.kill(os.getpid(), signal.SIGINT))
    watchdog.daemon = True
    watchdog.start()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="pool-processes-") as tmp:
        f = Fog(fog, os.path.join(tmp, "fog"))
        model = {"genesis": SUPPLY}
        started = time.monotonic()
        try:
            f.up()
            for name, scenario in SCENARIOS:
                if only and name not in only and name != "happy":
                    continue
                t0 = time.monotonic()
                print(f"{name}:", flush=True)
                try:
                    if name != "happy":  # every replica up, and caught up, whatever came before
                        f.up()
                        f.wait_converged(30)
                    scenario(f, model)
                    passed += 1
                    print(f"  ok ({time.monotonic() - t0:.1f} s)", flush=True)
                except Fail as e:
                    failed += 1
                    print(f"  FAIL: {e}", flush=True)
                    diagnose(f)
            if failed == 0:  # S1/S2 and every stored chain, at the end
                _, st = f.wait_converged(30)
                for i in range(4):
                    r = f.verify_chain(i)
                    check(r["state_root"] == st[i]["state_root"],
                          f"verify-chain replica-{i} ends at root {r['state_root']}, status says "
                          f"{st[i]['state_root']}")
                print(f"end: all 4 replicas at height {st[0]['height']}, root "
                      f"{st[0]['state_root'][:16]}, every chain verifies")
        except Fail as e:
            failed += 1
            print(f"FAIL: {e}")
        except KeyboardInterrupt:
            failed += 1
            print(f"FAIL: interrupted after {time.monotonic() - started:.0f} s (the watchdog is "
                  f"{WATCHDOG} s)")
        finally:
            watchdog.cancel()
            try:
                subprocess.run([fog, "down", "--dir", f.dir], capture_output=True, timeout=30)
            except subprocess.TimeoutExpired:
                print("FAIL: fog down hung")
                failed += 1
            for pid in processes_naming(f.dir):
                print(f"FAIL: process {pid} outlived fog down: killed")
                failed += 1
                os.kill(pid, signal.SIGKILL)
        if failed == 0:
            try:
                tips = compare_chains(f)
                print(f"stored chains (tips {tips}): the same block and state root at every height")
            except (Fail, sqlite3.Error) as e:
                failed += 1
                print(f"FAIL: {e}")
        print(f"{passed} passed, {failed} failed "
              f"({time.monotonic() - started:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
