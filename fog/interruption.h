/// \file
/// What stops a command that runs until it is told to (`fog up` in the foreground, `fog bench
/// pool`): Ctrl-C, SIGTERM, and SIGHUP (its terminal went away). While an Interruption lives,
/// those three set a flag instead of ending the process, so the command stops what it started
/// (replica processes in sessions of their own, which outlive a killed parent) before it exits.
/// One at a time; the previous handlers come back when it ends.
#pragma once

#include <csignal>

namespace flo::fog {

class Interruption {
public:
  Interruption() {
    flag() = 0;
    for (int i = 0; i < kCount; ++i) old_[i] = std::signal(kSignals[i], [](int) { flag() = 1; });
  }
  ~Interruption() {
    for (int i = 0; i < kCount; ++i) std::signal(kSignals[i], old_[i]);
  }
  Interruption(const Interruption&) = delete;
  Interruption& operator=(const Interruption&) = delete;

  static bool requested() { return flag() != 0; }

private:
  static constexpr int kCount = 3;
  static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP};
  static volatile std::sig_atomic_t& flag() {
    static volatile std::sig_atomic_t f = 0;
    return f;
  }
  using Handler = void (*)(int);
  Handler old_[kCount]{};
};

} // namespace flo::fog
