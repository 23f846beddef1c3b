/// \file
/// Child programs with captured output (see process.h).
#include "core/os/process.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace flo::core {

namespace {

void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

} // namespace

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !ended()) {
    kill();
    wait();
  }
  closeFd(in_);
  closeFd(out_);
  closeFd(err_);
}

bool ChildProcess::start(const std::vector<std::string>& argv, bool withInput, std::string& error) {
  if (argv.empty()) return error = "no program to run", false;
  int inPipe[2] = {-1, -1}, outPipe[2] = {-1, -1}, errPipe[2] = {-1, -1};
  auto closeAll = [&] {
    for (int* p : {inPipe, outPipe, errPipe}) {
      closeFd(p[0]);
      closeFd(p[1]);
    }
  };
  if ((withInput && ::pipe2(inPipe, O_CLOEXEC) != 0) || ::pipe2(outPipe, O_CLOEXEC) != 0 ||
      ::pipe2(errPipe, O_CLOEXEC) != 0)
    return closeAll(), error = "cannot make pipes for " + argv[0], false;
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    int input = withInput ? inPipe[0] : ::open("/dev/null", O_RDONLY);
    ::dup2(input, 0);
    ::dup2(outPipe[1], 1);
    ::dup2(errPipe[1], 2);
    ::close_range(3, ~0u, 0); // the child sees none of this process's sockets, keys or files
    // An ignored signal stays ignored across exec: the child starts with SIGPIPE's default
    // whatever this process does with it (the fogger ignores it, and fog's commands that start
    // daemons while they run).
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  if (child < 0) return closeAll(), error = "cannot start " + argv[0], false;
  pid_ = child;
  closeFd(inPipe[0]);
  closeFd(outPipe[1]);
  closeFd(errPipe[1]);
  in_ = inPipe[1];
  out_ = outPipe[0];
  err_ = errPipe[0];
  for (int fd : {in_, out_, err_})
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return true;
}

bool ChildProcess::read(bool fromErr, std::string& into, std::size_t max) {
  int& fd = fromErr ? err_ : out_;
  if (fd < 0) return false;
  char buf[65536];
  while (max > 0) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, max));
    if (n > 0) {
      into.append(buf, std::size_t(n));
      max -= std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    closeFd(fd); // the end (or an error, which ends it too)
    return false;
  }
  return true;
}

long ChildProcess::write(std::string_view data) {
  if (in_ < 0) return -1;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(in_, data.data() + done, data.size() - done);
    if (n > 0) {
      done += std::size_t(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    return -1; // EPIPE: the child closed its stdin
  }
  return long(done);
}

void ChildProcess::closeInput() {
  closeFd(in_);
}

namespace {

/// Reaps `pid` (waiting, or not); the exit status, 128 + the signal, or -1 while it runs.
int reap(int pid, bool block) {
  int st = 0;
  pid_t r;
  while ((r = ::waitpid(pid, &st, block ? 0 : WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == 0) return -1;
  return r < 0 ? 128 + SIGKILL : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

} // namespace

bool ChildProcess::ended() {
  if (pid_ <= 0 || status_ >= 0) return true;
  status_ = reap(pid_, false);
  return status_ >= 0;
}

int ChildProcess::wait() {
  if (pid_ > 0 && status_ < 0) status_ = reap(pid_, true);
  return status_;
}

void ChildProcess::kill() {
  if (pid_ > 0 && status_ < 0) ::kill(pid_, SIGKILL);
}

ProcessResult runProcess(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                         std::size_t cap) {
  ProcessResult e;
  ChildProcess child;
  std::string error;
  if (!child.start(argv, false, error)) return e;
  auto deadline = std::chrono::steady_clock::now() + limit;
  std::string* sinks[2] = {&e.out, &e.err};
  std::string dropped;
  for (;;) {
    pollfd fds[2] = {{child.outFd(), POLLIN, 0}, {child.errFd(), POLLIN, 0}};
    if (fds[0].fd < 0 && fds[1].fd < 0) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      e.timedOut = true;
      child.kill();
      break;
    }
    if (::poll(fds, 2, int(std::min<long long>(left.count(), 1000))) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      // What is past the cap is read (so the child is not blocked) and dropped.
      std::string& sink = sinks[i]->size() < cap ? *sinks[i] : dropped;
      child.read(i == 1, sink);
      if (sinks[i]->size() > cap) sinks[i]->resize(cap);
      dropped.clear();
    }
  }
  e.status = child.wait();
  return e;
}

} // namespace flo::core
