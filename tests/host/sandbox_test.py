#!/usr/bin/env python3
"""The job host's sandbox (docs/bundles.md, "Sandbox"): each denial, proven with a rogue object.

usage: sandbox_test.py FLO_HOST FLOC SOURCE_DIR [AARCH64_HOST QEMU...]

Each rogue is a small C (or C++) file compiled here into a bundle of its own (a manifest with
the object's sha256 and one job) that tries one forbidden thing and exits 0 when it managed it:
read a key file outside its directory, read another job's data, connect to 127.0.0.1, touch
1 GiB, spin the CPU, start a process, run a program, write a file. Each must be denied under the
sandbox, and, as the control that keeps the test honest, each must succeed with --no-sandbox.
Then every job of the example bundles must print the same under the sandbox as without it.
With an aarch64 host and a qemu command, the layers that apply there (no seccomp) are checked
with aarch64 rogues too.
"""
import glob
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

problems = []

# Every rogue prints what it did and returns 0 only when the forbidden thing worked.
PRELUDE = r"""
#include <errno.h>
#include <stdio.h>
#include <string.h>
#define SAY(...) (printf(__VA_ARGS__), printf("\n"), fflush(stdout))
"""
# Opens and reads the file PATH names (a macro the test defines), printing what it read.
READ_FILE = r"""
int flo_bundle_main(int argc, char** argv) {
  FILE* f = fopen(PATH, "r");
  char buf[64] = {0};
  if (!f) return SAY("open: %s", strerror(errno)), 1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  SAY("read %zu bytes: %s", n, buf);
  return n > 0 ? 0 : 1;
}"""
ROGUES = {
    # The fogger's keystore, outside the job's directory.
    "key": READ_FILE.replace("PATH", "KEY"),
    # Another job's working data, by absolute path.
    "otherjob": READ_FILE.replace("PATH", "OTHER"),
    "network": r"""
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>
int flo_bundle_main(int argc, char** argv) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return SAY("socket: %s", strerror(errno)), 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons(PORT);
  a.sin_addr.s_addr = htonl(0x7f000001);
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) return SAY("connect: %s", strerror(errno)), 1;
  if (write(s, "leak", 4) != 4) return SAY("write: %s", strerror(errno)), 1;
  close(s);
  return SAY("sent"), 0;
}""",
    # C++: an allocation through operator new, as the Flo runtime makes them (built -O0, so
    # the compiler cannot elide it).
    "memory": r"""
#include <cstring>
extern "C" int flo_bundle_main(int argc, char** argv) {
  const size_t size = size_t(1) << 30;
  char* p = new char[size];
  std::memset(p, 1, size);
  SAY("touched %zu bytes (%d)", size, p[size - 1]);
  delete[] p;
  return 0;
}""",
    # Two seconds of CPU: the control finishes, a 1 s limit ends it.
    "cpu": r"""
#include <time.h>
int flo_bundle_main(int argc, char** argv) {
  volatile unsigned long spin = 0;
  while (clock() < 2 * CLOCKS_PER_SEC) ++spin;
  return SAY("spun %lu", spin), 0;
}""",
    "fork": r"""
#include <sys/wait.h>
#include <unistd.h>
int flo_bundle_main(int argc, char** argv) {
  pid_t p = fork();
  if (p < 0) return SAY("fork: %s", strerror(errno)), 1;
  if (p == 0) _exit(0);
  int st = 0;
  waitpid(p, &st, 0);
  return SAY("forked %d", (int)p), 0;
}""",
    "exec": r"""
#include <unistd.h>
int flo_bundle_main(int argc, char** argv) {
  char* args[] = {"/bin/true", NULL};
  execv("/bin/true", args);
  return SAY("execv: %s", strerror(errno)), 1;
}""",
    # Two MiB into its own directory: more than the file-size limit (none by default).
    "write": r"""
int flo_bundle_main(int argc, char** argv) {
  static char block[1 << 20];
  FILE* f = fopen("big.dat", "w");
  if (!f) return SAY("open: %s", strerror(errno)), 1;
  for (int i = 0; i < 2; ++i)
    if (fwrite(block, 1, sizeof block, f) != sizeof block) return SAY("write: %s", strerror(errno)), 1;
  if (fclose(f) != 0) return SAY("close: %s", strerror(errno)), 1;
  return SAY("wrote 2 MiB"), 0;
}""",
}


def make_bundle(tmp, name, compiler, triple, defines, arch_dir):
    """A bundle of one job, `name`, whose object is the rogue compiled for `triple`."""
    d = os.path.join(tmp, arch_dir, name)
    os.makedirs(d)
    cpp = name == "memory"
    src = os.path.join(d, name + (".cpp" if cpp else ".c"))
    with open(src, "w") as f:
        f.write(PRELUDE + ROGUES[name] + "\n")
    obj = os.path.join(d, name + ".so")
    flags = [f"-D{k}={v}" for k, v in defines.items()]
    cc = compiler[1] if cpp else compiler[0]
    p = subprocess.run([cc, "-shared", "-fPIC", "-O0", "-w", *flags, src, "-o", obj],
                       capture_output=True, text=True)
    if p.returncode:
        problems.append(f"cannot compile rogue {name}: {p.stderr}")
        return None
    digest = hashlib.sha256(open(obj, "rb").read()).hexdigest()
    manifest = {"format": 1, "source": name, "jobs": [{"name": name}],
                "targets": {triple: {"file": name + ".so", "sha256": digest}}}
    open(os.path.join(d, "manifest.json"), "w").write(json.dumps(manifest))
    return d


def host_run(host, bundle, job, *args):
    # From the bundle's folder: what a control run without the sandbox writes stays there.
    p = subprocess.run([*host, os.path.abspath(bundle), job, "-v", *args], capture_output=True,
                       text=True, timeout=120, cwd=bundle)
    return p.returncode, p.stdout, p.stderr


class Listener:
    """A TCP listener on 127.0.0.1 that counts the connections that reached it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stopped = False
        threading.Thread(target=self.serve, daemon=True).start()

    def settle(self):
        """Gives a connection that was made time to be counted."""
        time.sleep(0.6)

    def serve(self):
        while not self.stopped:
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass


# name -> (limits for the sandboxed run, what the host must say, seccomp needed for the denial)
CASES = {
    "key": ([], None, False),
    "otherjob": ([], None, False),
    "network": ([], None, False),
    "memory": (["--memory", "64"], "the job ran out of memory (64 MiB)", False),
    "cpu": (["--cpu", "1"], "the job exceeded its CPU time (1 s)", False),
    "fork": ([], "the job made a forbidden system call", True),
    "exec": ([], "the job made a forbidden system call", True),
    "write": ([], None, False),
}


def rogues(host, compiler, triple, arch_dir, tmp, seccomp, skip=(), extra=()):
    """Every rogue denied under the sandbox (with `extra` flags for the host), and allowed
    without it (the control)."""
    keys = os.path.join(tmp, "keystore")
    os.makedirs(keys, exist_ok=True)
    key = os.path.join(keys, "secret.key")
    open(key, "w").write("SECRET-KEY-MATERIAL")
    os.chmod(key, 0o600)
    other = os.path.join(tmp, "flo-job-other")
    os.makedirs(other, exist_ok=True)
    data = os.path.join(other, "data.txt")
    open(data, "w").write("OTHER-JOB-DATA")
    listener = Listener()
    defines = {"KEY": f'"{key}"', "OTHER": f'"{data}"', "PORT": str(listener.port)}
    for name, (limits, says, needs_seccomp) in CASES.items():
        if name in skip:
            continue
        d = make_bundle(tmp, name, compiler, triple, defines, arch_dir + "".join(extra))
        if not d:
            continue
        before = listener.connections
        rc, out, err = host_run(host, d, name, "--no-sandbox")
        listener.settle()
        if rc != 0 or (name == "network" and listener.connections == before):
            problems.append(f"{arch_dir} {name}: the control (--no-sandbox) did not manage it: "
                            f"{rc} {out!r} {err!r}")
        before = listener.connections
        rc, out, err = host_run(host, d, name, *limits, *extra)
        listener.settle()
        layers = [l for l in err.splitlines() if l.startswith("flo-host: sandbox: ")]
        label = f"{arch_dir}{''.join(extra)} {name} ({layers[0][10:] if layers else '?'})"
        if rc == 0 or "SECRET" in out or "OTHER-JOB" in out or listener.connections != before:
            problems.append(f"{label}: not denied: {rc} {out!r} {err!r}")
        elif says and (seccomp or not needs_seccomp) and says not in err:
            problems.append(f"{label}: the host did not say {says!r}: {rc} {out!r} {err!r}")
        else:
            print(f"{label}: denied: {(out.strip() or err.strip().splitlines()[-1])}")
    listener.stopped = True


def processes_as_nobody(host, tmp):
    """Without seccomp, RLIMIT_NPROC is what stops a job's processes, and it binds every user
    but root: a root test runs the fork rogue as nobody (setpriv) to prove it."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        return
    d = make_bundle(tmp, "fork", ["cc", "c++"], "x86_64-linux-gnu", {}, "nobody")
    if not d:
        return
    for path in (tmp, os.path.dirname(d), d):
        os.chmod(path, 0o755)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", *host]
    rc, out, err = host_run(nobody, d, "fork", "--no-sandbox")
    if rc != 0:
        problems.append(f"nobody fork: the control (--no-sandbox) did not fork: {out!r} {err!r}")
    rc, out, err = host_run(nobody, d, "fork", "--no-seccomp")
    if rc == 0 or "fork:" not in out:
        problems.append(f"nobody fork --no-seccomp: not denied: {rc} {out!r} {err!r}")
    else:
        print(f"x86_64--no-seccomp fork as nobody: denied: {out.strip()}")


def examples(host, floc, root, tmp):
    """Every job of every example bundle prints the same under the sandbox as without it."""
    ran = 0
    for flo in sorted(glob.glob(os.path.join(root, "examples", "*.flo"))):
        name = os.path.splitext(os.path.basename(flo))[0]
        d = os.path.join(tmp, "examples", name)
        p = subprocess.run([floc, "build", "--bundle", flo, "-o", d, "--target",
                            "x86_64-linux-gnu"], capture_output=True, text=True)
        if p.returncode:
            continue  # no jobs, or flows (refused in bundles for now)
        for job in json.load(open(os.path.join(d, "manifest.json")))["jobs"]:
            free = host_run(host, d, job["name"], "--no-sandbox", "--runs", "2", "--work")
            boxed = host_run(host, d, job["name"], "--runs", "2", "--work")
            strip = lambda r: (r[0], r[1], r[2].replace(r[2].split("flo-host: sandbox:")[-1], ""))
            if strip(free) != strip(boxed) or free[0] != 0:
                problems.append(f"{name}: job {job['name']} differs under the sandbox:\n"
                                f"{free}\n{boxed}")
            ran += 1
            print(f"{name}: job {job['name']}: same output under the sandbox")
    if ran == 0:
        problems.append("no example bundle has a job")
    # The expected output of examples/faas_job.flo (golden/jobs/run_jobs.py checks it via fog).
    rc, out, _ = host_run(host, os.path.join(tmp, "examples", "faas_job"), "roomavg", "--runs", "2")
    if rc != 0 or out != "*** average updated ***\n" * 2:
        problems.append(f"faas_job roomavg under the sandbox: {rc} {out!r}")


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    host, floc, root = [sys.argv[1]], sys.argv[2], sys.argv[3]
    tmp = tempfile.mkdtemp(prefix="flo-sandbox-test-")
    try:
        rogues(host, ["cc", "c++"], "x86_64-linux-gnu", "x86_64", tmp, seccomp=True)
        # The layers under the filter hold alone too (root is not bound by RLIMIT_NPROC: only
        # seccomp stops its processes).
        rogues(host, ["cc", "c++"], "x86_64-linux-gnu", "x86_64", tmp, seccomp=False,
               skip=("fork",) if os.geteuid() == 0 else (), extra=("--no-seccomp",))
        processes_as_nobody(host, tmp)
        examples(host, floc, root, tmp)
        if len(sys.argv) > 5 and shutil.which("aarch64-linux-gnu-gcc"):
            # Under qemu: no seccomp and no user namespace (qemu is multi-threaded), RLIMIT_AS
            # ignored by qemu, so memory is not denied there, nor processes to root.
            arm = [*sys.argv[5].split(), sys.argv[4]]
            rogues(arm, ["aarch64-linux-gnu-gcc", "aarch64-linux-gnu-g++"], "aarch64-linux-gnu",
                   "aarch64", tmp, seccomp=False,
                   skip=("memory", "fork") if os.geteuid() == 0 else ("memory",))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for p in problems:
        print("FAIL:", p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
