/// \file
/// A child program run to its end with its output captured: what a fogger runs a job's host
/// with and `fog deploy` runs the compiler with.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace flo::core {

/// What a child process printed and how it ended.
struct ProcessResult {
  int status = -1; ///< exit status; 128 + signal when it was killed; -1 when it never ran
  std::string out, err;
  bool timedOut = false;
};

/// Runs `argv` (looked up in PATH when it has no slash) with no stdin, stdout and stderr
/// captured (each cut at `cap` bytes, the rest read and dropped) and no other open descriptor
/// of this process; killed after `limit`.
ProcessResult runProcess(const std::vector<std::string>& argv, std::chrono::milliseconds limit,
                         std::size_t cap = 16u << 20);

} // namespace flo::core
