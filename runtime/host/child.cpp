/// \file
/// The job's process (child.h): the fork, the sandbox around the load, the pipes the host
/// copies the job's output from, and what the host says about how the job ended.
#include "runtime/host/child.h"

#include "runtime/host/sandbox.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dlfcn.h>
#include <fcntl.h>
#include <filesystem>
#include <new>
#include <poll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace flo::host {

namespace {

/// Exit statuses the child uses for the host's own failures, before the job runs.
constexpr int kLoadFailed = 3, kSandboxFailed = 124;

void closeIf(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

/// Copies all of `from` to `to` (when `to` is open; a closed reader only loses the output).
void copyOut(int from, int to) {
  char buf[1 << 14];
  ssize_t n = read(from, buf, sizeof buf);
  for (ssize_t done = 0; to >= 0 && n > 0 && done < n;) {
    ssize_t w = write(to, buf + done, std::size_t(n - done));
    if (w <= 0) break;
    done += w;
  }
}

/// The job's process, seen from both sides of the fork. With the sandbox on, its stdout and
/// stderr are pipes the host copies out (so RLIMIT_FSIZE never hits the host's own output
/// files), a third pipe tells the host which layers applied, and it runs in a fresh empty
/// directory the host removes afterwards.
struct Child {
  pid_t pid = -1;
  int out[2] = {-1, -1}, err[2] = {-1, -1}, layersPipe[2] = {-1, -1};
  std::string workDir, layers;
  int status = 0;
  rusage usage{};

  bool start(const RunOptions& o, std::string& error) {
    bool sandbox = o.limits.enabled;
    if (((sandbox || o.outFd >= 0) && pipe2(out, O_CLOEXEC) != 0) ||
        (sandbox && (pipe2(err, O_CLOEXEC) != 0 || pipe2(layersPipe, O_CLOEXEC) != 0)))
      return error = "cannot make pipes for the job", closeAll(), false;
    if (sandbox) {
      auto tmpl = (std::filesystem::temp_directory_path() / "flo-job-XXXXXX").string();
      if (!mkdtemp(tmpl.data()))
        return error = "cannot make a directory for the job", closeAll(), false;
      workDir = tmpl;
    }
    pid = fork();
    if (pid < 0) return error = "cannot start a process for the job", closeAll(), false;
    return true;
  }

  void closeAll() {
    for (int* fd : {&out[0], &out[1], &err[0], &err[1], &layersPipe[0], &layersPipe[1]})
      closeIf(*fd);
    if (!workDir.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(workDir, ec);
    }
  }

  /// The parent's side: copies the job's output until it closes it, then waits for it.
  bool finish(const RunOptions& o, std::string& error) {
    closeIf(out[1]);
    closeIf(err[1]);
    closeIf(layersPipe[1]);
    int to = o.outFd >= 0 ? o.outFd : STDOUT_FILENO;
    std::vector<pollfd> fds;
    for (int fd : {out[0], err[0]})
      if (fd >= 0) fds.push_back({fd, POLLIN, 0});
    while (!fds.empty()) {
      if (poll(fds.data(), fds.size(), -1) < 0 && errno != EINTR) break;
      for (std::size_t i = 0; i < fds.size();) {
        if (fds[i].revents & POLLIN) {
          copyOut(fds[i].fd, fds[i].fd == out[0] ? to : STDERR_FILENO);
          ++i;
        } else if (fds[i].revents & (POLLHUP | POLLERR)) {
          fds.erase(fds.begin() + std::ptrdiff_t(i));
        } else {
          ++i;
        }
      }
    }
    bool lost = false;
    while (wait4(pid, &status, 0, &usage) < 0)
      if (errno != EINTR) {
        lost = true;
        break;
      }
    if (layersPipe[0] >= 0) {
      char buf[256];
      ssize_t n = read(layersPipe[0], buf, sizeof buf);
      if (n > 0) layers.assign(buf, std::size_t(n));
    }
    closeAll();
    if (lost) return error = "lost the job's process", false;
    return true;
  }
};

[[noreturn]] void childFail(int status, const char* what, const std::string& detail) {
  std::fprintf(stderr, "error: %s%s\n", what, detail.c_str());
  std::fflush(stderr);
  _exit(status);
}

/// An allocation the job's runtime could not make (RLIMIT_AS): end with a status the host
/// reports as running out of memory, instead of a bad_alloc deep in the job.
void outOfMemory() {
  static const char msg[] = "error: the job ran out of memory\n";
  (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
  _exit(kOutOfMemoryStatus);
}

/// The child's side: sandbox, load the checked object from the memory file, lock, run.
[[noreturn]] void runChild(Child& c, int objectFd, const Manifest& m, const std::string& job,
                           const RunOptions& o) {
  if (c.out[1] >= 0) dup2(c.out[1], STDOUT_FILENO);
  if (c.err[1] >= 0) dup2(c.err[1], STDERR_FILENO);
  SandboxState state;
  std::string error;
  if (o.limits.enabled) {
    // The job reads nothing of the host's: not its terminal, not its files.
    // (With a feed in, its stdin is the feed: the host's own stdin, a fogger's pipe.)
    int null = o.feedIn ? -1 : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null >= 0) dup2(null, STDIN_FILENO);
    if (!enterSandbox(o.limits, c.workDir, objectFd, c.layersPipe[1], state, error))
      childFail(kSandboxFailed, "cannot sandbox the job: ", error);
  }
  std::string path = "/proc/self/fd/" + std::to_string(objectFd);
  void* so = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!so) childFail(kLoadFailed, "cannot load the job's object: ", dlerror());
  using Entry = int (*)(int, char**);
  auto entry = reinterpret_cast<Entry>(dlsym(so, "flo_bundle_main"));
  if (!entry) childFail(kLoadFailed, "the object has no flo_bundle_main", "");
  std::string runs = std::to_string(o.runs);
  std::vector<std::string> args = {m.source.empty() ? "job" : m.source, "--job", job, "--runs",
                                   runs};
  if (o.work) args.emplace_back("--work");
  if (o.store) args.insert(args.end(), {"--store", "-"});
  for (const auto& p : o.feedOut) args.insert(args.end(), {"--feed-out", p});
  if (o.feedIn) args.emplace_back("--feed-in");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (o.limits.enabled) {
    std::set_new_handler(outOfMemory);
    close(objectFd);
    if (!lockSandbox(o.limits, state, error))
      childFail(kSandboxFailed, "cannot sandbox the job: ", error);
    std::string layers = state.describe();
    (void)!write(c.layersPipe[1], layers.data(), layers.size());
    close(c.layersPipe[1]);
  }
  int rc = entry(int(args.size()), argv.data());
  std::fflush(stdout);
  std::fflush(stderr);
  _exit(rc);
}

/// What the host says about a child that ended: its exit status, or why it did not get one.
std::optional<int> ending(const Child& c, const SandboxLimits& l, std::string& error) {
  int st = c.status;
  if (WIFEXITED(st)) {
    int code = WEXITSTATUS(st);
    if (code == kLoadFailed) return error = "the job's object could not be loaded", std::nullopt;
    if (l.enabled && code == kSandboxFailed)
      return error = "the job's sandbox could not be applied", std::nullopt;
    if (l.enabled && code == kOutOfMemoryStatus)
      return error = "the job ran out of memory (" + std::to_string(l.memoryMiB) + " MiB)",
             std::nullopt;
    return code;
  }
  int sig = WTERMSIG(st);
  double cpu = double(c.usage.ru_utime.tv_sec + c.usage.ru_stime.tv_sec) +
               double(c.usage.ru_utime.tv_usec + c.usage.ru_stime.tv_usec) / 1e6;
  // RLIMIT_CPU sends SIGXCPU at the limit and SIGKILL a second later.
  if (l.enabled && l.cpuSeconds &&
      (sig == SIGXCPU || (sig == SIGKILL && cpu >= double(l.cpuSeconds))))
    error = "the job exceeded its CPU time (" + std::to_string(l.cpuSeconds) + " s)";
  else if (l.enabled && sig == SIGSYS)
    error = "the job made a forbidden system call";
  else if (l.enabled && sig == SIGXFSZ)
    error = "the job wrote past its file size limit (" + std::to_string(l.fileSizeMiB) + " MiB)";
  else
    error =
        "the job's process ended by signal " + std::to_string(sig) + " (" + strsignal(sig) + ")";
  return std::nullopt;
}

} // namespace

std::optional<int> runInChild(int objectFd, const Manifest& m, const std::string& job,
                              const RunOptions& o, std::string& error, RunReport* report) {
  std::fflush(stdout);
  std::fflush(stderr);
  Child c;
  if (!c.start(o, error)) return std::nullopt;
  if (c.pid == 0) runChild(c, objectFd, m, job, o);
  if (!c.finish(o, error)) return std::nullopt;
  if (report) report->sandbox = c.layers;
  return ending(c, o.limits, error);
}

} // namespace flo::host
