/// \file
/// The job host's sandbox (sandbox.h). Everything here runs in the forked child, which is
/// single-threaded, so unsharing a user namespace is allowed, and it reports a failure by
/// returning it: the caller writes it to stderr and exits.
#include "runtime/host/sandbox.h"

#include <climits>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <linux/capability.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef FLO_HOST_SECCOMP
#include <seccomp.h>

#include <fcntl.h>
#include <sys/ioctl.h>
#endif

namespace flo::host {

namespace {

constexpr std::uint64_t kMiB = 1024 * 1024;

bool limit(int resource, rlim_t soft, rlim_t hard) {
  rlimit r{soft, hard};
  return setrlimit(resource, &r) == 0;
}

/// Closes every descriptor above 2 but `keep` (at most two): the host's own files (a fogger's
/// keystore, its sockets) stay out of the job's reach even without seccomp.
void closeAllBut(int keepA, int keepB) {
  unsigned next = 3;
  for (int k : {std::min(keepA, keepB), std::max(keepA, keepB)}) {
    if (k < int(next)) continue;
    if (unsigned(k) > next) syscall(SYS_close_range, next, unsigned(k - 1), 0u);
    next = unsigned(k) + 1;
  }
  syscall(SYS_close_range, next, UINT_MAX, 0u);
}

/// Drops every capability, in whatever user namespace the process is: root, or the owner of a
/// fresh user namespace, could otherwise leave the chroot (chroot again, `cd ..`) or remount.
void dropCapabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  syscall(SYS_capset, &header, data);
}

#ifdef FLO_HOST_SECCOMP
/// The allowlist: what the Flo runtime does once running (found by tracing the example jobs;
/// docs/bundles.md): memory, time, signals to itself, reads and writes on descriptors it
/// already has. Anything else fails with EPERM, so a job that tries to open a file or a socket
/// gets an error it can report; starting a program or a process, or tracing one, ends the job
/// at once (SIGSYS), which the host reports as a forbidden system call.
bool installFilter(std::string& error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  if (!ctx) return error = "cannot make a seccomp filter", false;
  int rc = 0;
  auto allow = [&](int nr) { rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0); };
  for (int nr : {SCMP_SYS(read),         SCMP_SYS(write),         SCMP_SYS(readv),
                 SCMP_SYS(writev),       SCMP_SYS(pread64),       SCMP_SYS(pwrite64),
                 SCMP_SYS(close),        SCMP_SYS(lseek),         SCMP_SYS(fstat),
                 SCMP_SYS(mmap),         SCMP_SYS(munmap),        SCMP_SYS(mremap),
                 SCMP_SYS(mprotect),     SCMP_SYS(brk),           SCMP_SYS(madvise),
                 SCMP_SYS(futex),        SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres),
                 SCMP_SYS(gettimeofday), SCMP_SYS(time),          SCMP_SYS(clock_nanosleep),
                 SCMP_SYS(nanosleep),    SCMP_SYS(rt_sigaction),  SCMP_SYS(rt_sigprocmask),
                 SCMP_SYS(rt_sigreturn), SCMP_SYS(sigaltstack),   SCMP_SYS(restart_syscall),
                 SCMP_SYS(exit),         SCMP_SYS(exit_group),    SCMP_SYS(getrandom),
                 SCMP_SYS(getpid),       SCMP_SYS(gettid),        SCMP_SYS(sched_yield),
                 SCMP_SYS(rseq),         SCMP_SYS(getrusage)})
    allow(nr);
  auto allowIf = [&](int nr, scmp_arg_cmp cmp) {
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, cmp);
  };
  // fstat() is newfstatat(fd, "", buf, AT_EMPTY_PATH) in glibc. The filter cannot read the
  // path, so a job could still stat (never open) a name, which the root keeps to its own.
  allowIf(SCMP_SYS(newfstatat), {3, SCMP_CMP_MASKED_EQ, AT_EMPTY_PATH, AT_EMPTY_PATH});
  allowIf(SCMP_SYS(fcntl), {1, SCMP_CMP_EQ, F_GETFL, 0});
  allowIf(SCMP_SYS(ioctl), {1, SCMP_CMP_EQ, TCGETS, 0}); // isatty
  // Signals only to itself (abort() raises SIGABRT with tgkill).
  auto self = scmp_datum_t(getpid());
  allowIf(SCMP_SYS(tgkill), {0, SCMP_CMP_EQ, self, 0});
  allowIf(SCMP_SYS(kill), {0, SCMP_CMP_EQ, self, 0});
  for (int nr : {SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(fork), SCMP_SYS(vfork),
                 SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
                 SCMP_SYS(process_vm_writev)})
    rc = rc ? rc : seccomp_rule_add(ctx, SCMP_ACT_KILL_PROCESS, nr, 0);
  if (rc == 0) rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0)
    return error = std::string("cannot install the seccomp filter: ") + strerror(-rc), false;
  return true;
}
#endif

} // namespace

std::string SandboxState::describe() const {
  std::string s = "rlimits no-new-privs workdir";
  if (userNs) s += " userns";
  if (mountNs) s += " mountns";
  if (netNs) s += " netns";
  if (rooted) s += " root";
  if (seccomp) s += " seccomp";
  return s;
}

bool enterSandbox(const SandboxLimits& l, const std::string& workDir, int keepA, int keepB,
                  SandboxState& state, std::string& error) {
  closeAllBut(keepA, keepB);
  // A job dies with the host rather than outlive it.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  rlim_t mem = l.memoryMiB ? rlim_t(l.memoryMiB * kMiB) : RLIM_INFINITY;
  rlim_t cpu = l.cpuSeconds ? rlim_t(l.cpuSeconds) : RLIM_INFINITY;
  // CPU: SIGXCPU at the soft limit, SIGKILL a second later if the job catches that.
  if (!limit(RLIMIT_AS, mem, mem) ||
      !limit(RLIMIT_CPU, cpu, cpu == RLIM_INFINITY ? cpu : cpu + 1) ||
      !limit(RLIMIT_FSIZE, rlim_t(l.fileSizeMiB * kMiB), rlim_t(l.fileSizeMiB * kMiB)) ||
      !limit(RLIMIT_NPROC, l.processes, l.processes) || !limit(RLIMIT_CORE, 0, 0))
    return error = std::string("cannot set the job's resource limits: ") + strerror(errno), false;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    return error = "cannot set no-new-privileges", false;
  if (chdir(workDir.c_str()) != 0)
    return error = "cannot enter the job's directory '" + workDir + "'", false;
  // Where the kernel allows: all three at once, else each alone (a kernel or container may
  // forbid user namespaces but, for root, allow the others).
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET) == 0) {
    state.userNs = state.mountNs = state.netNs = true;
  } else {
    state.userNs = unshare(CLONE_NEWUSER) == 0;
    state.mountNs = unshare(CLONE_NEWNS) == 0;
    state.netNs = unshare(CLONE_NEWNET) == 0;
  }
  return true;
}

bool lockSandbox(const SandboxLimits& l, SandboxState& state, std::string& error) {
  // The object and its libraries are mapped; from here the job sees only its own directory
  // (chroot needs CAP_SYS_CHROOT, which the owner of a fresh user namespace, or root, has).
  state.rooted = chroot(".") == 0 && chdir("/") == 0;
  dropCapabilities();
#ifdef FLO_HOST_SECCOMP
  if (l.seccomp) {
    if (!installFilter(error)) return false;
    state.seccomp = true;
  }
#else
  (void)l, (void)error;
#endif
  return true;
}

} // namespace flo::host
