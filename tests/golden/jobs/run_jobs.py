#!/usr/bin/env python3
"""Jobs and bundles (docs/runtime.md "Jobs", docs/bundles.md), end to end.

usage: run_jobs.py bounds FLOC SOURCE_DIR
         every job of every example (and of tests/golden/jobs/*.flo: auxes, a conditional aux,
         a slave, guards) runs instrumented (`--job NAME --work`): each run's measured work must
         be at most the static bound `floc build --stats-json` reports, and every job must run
         and do work (a job that takes its items from another is fed by it)
       run_jobs.py bundle FLOC FOG SOURCE_DIR [AARCH64_HOST QEMU...]
         examples/faas_job.flo as a bundle: built twice byte-identical, canonical manifest,
         `fog job run` output, a tampered object and a missing target refused, a signed
         manifest that `fog verify` accepts and a tampered one it refuses; with an aarch64
         build of the host and a qemu command, the aarch64 object runs (same output) and a
         tampered one is refused there too
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

RUN_LINE = re.compile(r"^job (\S+): run (\d+) at \S+ s: .* after (\d+) passes, work (\d+) "
                      r"\(bound (\d+)\)$")
problems = []


def run(cmd, env=None, check=True, stdin=None):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, input=stdin)
    if check and p.returncode != 0:
        problems.append(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
    return p


def tampered(bundle_dir, dest, manifest, target, middle):
    """A copy of the bundle whose object for `target` has one bit flipped (in its middle, or
    its last byte); the copy's folder and that object's path."""
    shutil.copytree(bundle_dir, dest)
    so = os.path.join(dest, manifest["targets"][target]["file"])
    data = bytearray(open(so, "rb").read())
    data[len(data) // 2 if middle else -1] ^= 0x01
    open(so, "wb").write(bytes(data))
    return dest, so


def bounds(floc, root, tmp):
    seen_jobs = 0
    for flo in sorted(glob.glob(os.path.join(root, "examples", "*.flo")) +
                      glob.glob(os.path.join(root, "tests", "golden", "jobs", "*.flo"))):
        name = os.path.splitext(os.path.basename(flo))[0]
        exe, stats = os.path.join(tmp, name), os.path.join(tmp, name + ".json")
        if run([floc, "build", flo, "-o", exe, "--stats-json", stats], check=False).returncode:
            continue  # examples that do not build yet (flows) have their own tests
        jobs = json.load(open(stats))["jobs"]
        for job in jobs:
            seen_jobs += 1

            def measured(feed=None):
                p = run([exe, "--job", job["name"], "--runs", "3", "--work"] +
                        (["--feed-in"] if feed is not None else []), stdin=feed)
                runs = [RUN_LINE.match(l) for l in p.stderr.splitlines()]
                return p, [m for m in runs if m and m.group(1) == job["name"]]

            p, runs = measured()
            # A job whose items come from another job (a consumer: docs/runtime.md, "Feeds")
            # does nothing alone: it is measured fed by each other job of its program in turn
            # (every share that job writes), and the first feed it works on counts.
            for other in jobs if runs and all(int(m.group(4)) == 0 for m in runs) else []:
                if other["name"] == job["name"]:
                    continue
                prod = run([exe, "--job", other["name"], "--runs", "3", "--feed-out", ".**"])
                feed = "".join(l + "\n" for l in prod.stderr.splitlines()
                               if l.startswith("feed: "))
                p, fed = measured(feed)
                if fed and any(int(m.group(4)) > 0 for m in fed):
                    print(f"{name}: job {job['name']} fed by job {other['name']}")
                    runs = fed
                    break
            if not runs:
                problems.append(f"{name}: job {job['name']} never ran\n{p.stderr}")
            for m in runs:
                work, bound = int(m.group(4)), int(m.group(5))
                if bound != job["cost_bound"]:
                    problems.append(f"{name}: job {job['name']}: the program's bound {bound} is "
                                    f"not floc's {job['cost_bound']}")
                if work > bound:
                    problems.append(f"{name}: job {job['name']} run {m.group(2)}: measured "
                                    f"work {work} exceeds the bound {bound}")
                if work == 0:
                    problems.append(f"{name}: job {job['name']} run {m.group(2)} did no work")
            print(f"{name}: job {job['name']}: bound {job['cost_bound']}, measured "
                  f"{[int(m.group(4)) for m in runs]}")
    if seen_jobs == 0:
        problems.append("no example has a job")


def bundle(floc, fog, root, tmp):
    src = os.path.join(root, "examples", "faas_job.flo")
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    for d in (a, b):
        run([floc, "build", "--bundle", src, "-o", d])
    files = sorted(os.listdir(a))
    if files != sorted(os.listdir(b)):
        problems.append(f"two builds wrote different files: {files} / {sorted(os.listdir(b))}")
    for f in files:
        if open(os.path.join(a, f), "rb").read() != open(os.path.join(b, f), "rb").read():
            problems.append(f"two builds of the same source differ in {f}")
    raw = open(os.path.join(a, "manifest.json"), "rb").read()
    m = json.loads(raw)
    canonical = json.dumps(m, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if raw.decode() != canonical:
        problems.append("manifest.json is not canonical JSON")
    if sorted(m["targets"]) != ["aarch64-linux-gnu", "x86_64-linux-gnu"]:
        problems.append(f"targets: {sorted(m['targets'])}")
    jobs = {j["name"]: j for j in m["jobs"]}
    if sorted(jobs) != ["alarm", "report", "roomavg"] or not all(
            isinstance(j["cost_bound"], int) and j["cost_bound"] > 0 for j in jobs.values()):
        problems.append(f"jobs: {m['jobs']}")
    # The bounds, derived by hand (docs/language.md): watch has 8 acts and calls the deed
    # `mean` (2 statements: its `fail` and its `let`; port declarations run nothing), no
    # guards or auxes: 10 per turn, x (20 passes + the final stop); siren: 2 acts x (8 passes
    # of `limit 1s` + 1); report: the call and 2 statements.
    elif [jobs[n]["cost_bound"] for n in ("roomavg", "alarm", "report")] != [210, 18, 3]:
        problems.append(f"bounds: {[(n, j['cost_bound']) for n, j in jobs.items()]}")
    elif jobs["roomavg"]["trigger"] != "every 1.0" or jobs["roomavg"]["replicas"] != {
            "count": "3", "placement": "near"}:
        problems.append(f"roomavg: {jobs['roomavg']}")
    arm = open(os.path.join(a, m["targets"]["aarch64-linux-gnu"]["file"]), "rb").read()
    if arm[:4] != b"\x7fELF" or int.from_bytes(arm[18:20], "little") != 183:
        problems.append("the aarch64 object is not an aarch64 ELF file")

    # Runs from the bundle, with the host checking the object first.
    p = run([fog, "job", "run", a, "roomavg", "--runs", "2"])
    if p.stdout != "*** average updated ***\n" * 2:
        problems.append(f"fog job run roomavg printed {p.stdout!r}")
    p = run([fog, "job", "run", a, "alarm", "--work"])
    if p.stdout != "*** building alarm ***\n" or "job alarm: run 1" not in p.stderr:
        problems.append(f"fog job run alarm printed {p.stdout!r} / {p.stderr!r}")
    p = run([fog, "job", "run", a, "report", "--runs", "1"])
    if p.stdout != "" or p.returncode != 0:
        problems.append(f"fog job run report: {p.returncode} {p.stdout!r} {p.stderr!r}")
    p = run([fog, "job", "run", a, "nosuchjob"], check=False)
    if p.returncode == 0 or "no job 'nosuchjob'" not in p.stderr:
        problems.append(f"an unknown job was not refused: {p.stderr!r}")

    # A tampered object is refused, and so is a bundle without this machine's target.
    t, so = tampered(a, os.path.join(tmp, "tampered"), m, "x86_64-linux-gnu", middle=True)
    p = run([fog, "job", "run", t, "roomavg"], check=False)
    if p.returncode == 0 or "does not match the manifest" not in p.stderr or p.stdout:
        problems.append(f"a tampered object was not refused: {p.returncode} {p.stderr!r}")
    missing = os.path.join(tmp, "missing")
    shutil.copytree(a, missing)
    m2 = dict(m, targets={"aarch64-linux-gnu": m["targets"]["aarch64-linux-gnu"]})
    open(os.path.join(missing, "manifest.json"), "w").write(json.dumps(m2))
    p = run([fog, "job", "run", missing, "roomavg"], check=False)
    if p.returncode == 0 or "no object for x86_64-linux-gnu" not in p.stderr:
        problems.append(f"a bundle without this target was not refused: {p.stderr!r}")

    # Signed with a keystore identity; fog verify checks the signature and every object.
    env = dict(os.environ, FOG_HOME=os.path.join(tmp, "home"))
    run([fog, "id", "new", "builder", "--no-passphrase"], env=env)
    s = os.path.join(tmp, "signed")
    run([floc, "build", "--bundle", src, "-o", s, "--id", "builder"], env=env)
    p = run([fog, "verify", s], env=env)
    if "valid signature by did:" not in p.stdout or "2 objects match" not in p.stdout:
        problems.append(f"fog verify of a signed bundle: {p.stdout!r} {p.stderr!r}")
    shutil.copy(so, os.path.join(s, os.path.basename(so)))
    p = run([fog, "verify", s], env=env, check=False)
    if p.returncode == 0:
        problems.append("fog verify accepted a bundle with a tampered object")
    run([floc, "build", "--bundle", src, "-o", s, "--id", "builder"], env=env)
    with open(os.path.join(s, "manifest.json"), "a") as f:
        f.write(" ")
    p = run([fog, "verify", s], env=env, check=False)
    if p.returncode == 0 or "invalid signature" not in p.stderr:
        problems.append(f"fog verify accepted a changed manifest: {p.stderr!r}")


    return a, m


def aarch64(host, qemu, bundle_dir, manifest, tmp):
    """The aarch64 object, run by the aarch64 host under qemu, prints what x86-64 printed."""
    p = run(qemu + [host, bundle_dir, "roomavg", "--runs", "2", "--work"])
    if p.stdout != "*** average updated ***\n" * 2 or "work 19 (bound 210)" not in p.stderr:
        problems.append(f"aarch64 roomavg printed {p.stdout!r} / {p.stderr!r}")
    p = run(qemu + [host, bundle_dir, "alarm"], check=False)
    if p.returncode == 0 or "needs arch x86_64; this machine is aarch64" not in p.stderr:
        problems.append(f"aarch64: job alarm (needs arch x86_64) was not refused: {p.stderr!r}")
    t, _ = tampered(bundle_dir, os.path.join(tmp, "tampered-arm"), manifest,
                    "aarch64-linux-gnu", middle=False)
    p = run(qemu + [host, t, "roomavg"], check=False)
    if p.returncode == 0 or "does not match the manifest" not in p.stderr or p.stdout:
        problems.append(f"aarch64: a tampered object was not refused: {p.stderr!r}")


def main():
    with tempfile.TemporaryDirectory(prefix="jobs-") as tmp:
        if sys.argv[1] == "bounds":
            bounds(sys.argv[2], sys.argv[3], tmp)
        else:
            bundle_dir, manifest = bundle(sys.argv[2], sys.argv[3], sys.argv[4], tmp)
            if len(sys.argv) > 6:
                aarch64(sys.argv[5], sys.argv[6].split(), bundle_dir, manifest, tmp)
    for p in problems:
        print("FAIL:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
