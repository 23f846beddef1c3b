/// core::Interruption (core/os/interruption.h): the signals that stop a daemon or a command set
/// its flag instead of ending the process, nested ones share it, and the handlers from before
/// come back.
#include "core/os/interruption.h"

#include <gtest/gtest.h>

#include <csignal>
#include <signal.h>

namespace {

using flo::core::Interruption;

/// The handler SIGNAL has now.
void (*handlerOf(int signal))(int) {
  struct sigaction now{};
  sigaction(signal, nullptr, &now);
  return now.sa_handler;
}

TEST(Interruption, EachSignalSetsTheFlagInsteadOfEndingTheProcess) {
  for (int s : {SIGINT, SIGTERM, SIGHUP}) {
    Interruption interruption;
    EXPECT_FALSE(interruption.requested());
    std::raise(s); // the process would end here without it
    EXPECT_TRUE(interruption.requested()) << s;
  }
}

TEST(Interruption, NestedOnesShareTheFlagAndTheHandlersFromBeforeComeBack) {
  auto before = std::signal(SIGHUP, SIG_IGN);
  {
    Interruption outer;
    EXPECT_NE(handlerOf(SIGHUP), SIG_IGN);
    {
      Interruption inner;
      std::raise(SIGHUP);
      EXPECT_TRUE(inner.requested());
    }
    EXPECT_TRUE(outer.requested());
    EXPECT_NE(handlerOf(SIGHUP), SIG_IGN); // still caught: the outer one lives
  }
  EXPECT_EQ(handlerOf(SIGHUP), SIG_IGN);
  std::signal(SIGHUP, before);
}

TEST(Interruption, AnInactiveOneTouchesNothing) {
  auto before = std::signal(SIGTERM, SIG_IGN);
  {
    Interruption inactive(false);
    EXPECT_EQ(handlerOf(SIGTERM), SIG_IGN);
    std::raise(SIGTERM); // ignored, as before
    EXPECT_FALSE(inactive.requested());
  }
  std::signal(SIGTERM, before);
}

} // namespace
