/// \file
/// The signal handlers behind Interruption (see interruption.h).
#include "core/os/interruption.h"

#include <array>
#include <csignal>
#include <signal.h>

namespace flo::core {

namespace {

volatile std::sig_atomic_t signalled = 0;

extern "C" void noteSignal(int) {
  signalled = 1;
}

constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
// The handlers before the outermost active Interruption, and which of them it replaced (an
// ignored signal is left ignored); one inside another shares its flag.
std::array<struct sigaction, kSignals.size()> previous{};
std::array<bool, kSignals.size()> replaced{};
int depth = 0;

} // namespace

Interruption::Interruption(bool active) : active_(active) {
  if (!active_ || depth++ > 0) return;
  signalled = 0;
  struct sigaction sa{};
  sa.sa_handler = noteSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (std::size_t i = 0; i < kSignals.size(); ++i) {
    sigaction(kSignals[i], nullptr, &previous[i]);
    replaced[i] = previous[i].sa_handler != SIG_IGN;
    if (replaced[i]) sigaction(kSignals[i], &sa, nullptr);
  }
}

Interruption::~Interruption() {
  if (!active_ || --depth > 0) return;
  for (std::size_t i = 0; i < kSignals.size(); ++i)
    if (replaced[i]) sigaction(kSignals[i], &previous[i], nullptr);
}

bool Interruption::requested() const {
  return active_ && signalled != 0;
}

PipeErrorsNotFatal::PipeErrorsNotFatal() : previous_(std::signal(SIGPIPE, SIG_IGN)) {}

PipeErrorsNotFatal::~PipeErrorsNotFatal() {
  std::signal(SIGPIPE, previous_);
}

} // namespace flo::core
