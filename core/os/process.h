/// \file
/// A child program run to its end with its output captured: what a fogger runs a job's host
/// with and `fog deploy` runs the compiler with.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace flo::core {

/// What a child process printed and how it ended.
struct ProcessResult {
  int status = -1; ///< exit status; 128 + signal when it was killed; -1 when it never ran
  std::string out, err;
  bool timedOut = false;
};

/// A child program running beside this process: its stdout and stderr (and, when asked, its
/// stdin) are pipes this side reads and writes without blocking, so one thread can serve the
/// network and several children at once (a fogger's job runs). It sees no other descriptor of
/// this process. A writer must ignore SIGPIPE: a child that closed its stdin gives -1 instead.
class ChildProcess {
public:
  ChildProcess() = default;
  ~ChildProcess(); ///< kills and reaps a child still running
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// Starts `argv` (looked up in PATH when it has no slash); stdin is a pipe when `withInput`,
  /// else /dev/null. False and `error` when it cannot.
  bool start(const std::vector<std::string>& argv, bool withInput, std::string& error);

  int outFd() const { return out_; }
  int errFd() const { return err_; }
  int inFd() const { return in_; }
  /// Appends what stdout (`fromErr` false) or stderr has now, up to `max` bytes, to `into`;
  /// false once that pipe has ended (it is closed then).
  bool read(bool fromErr, std::string& into, std::size_t max = 1 << 16);
  /// Writes what the stdin pipe takes now of `data`: the bytes taken (0 when it is full), or
  /// -1 when the child closed it.
  long write(std::string_view data);
  void closeInput();
  /// Whether the child has ended (reaped, without waiting); status() is then its exit status,
  /// or 128 + the signal that ended it.
  bool ended();
  /// Waits for the child to end; its status (as status()).
  int wait();
  int status() const { return status_; }
  void kill();

private:
  int pid_ = -1, in_ = -1, out_ = -1, err_ = -1, status_ = -1;
};

/// Runs `argv` (looked up in PATH when it has no slash) with no stdin, stdout and stderr
/// captured (each cut at `cap` bytes, the rest read and dropped) and no other open descriptor
/// of this process; killed after `limit`.
ProcessResult runProcess(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                         std::size_t cap = 16u << 20);

} // namespace flo::core
