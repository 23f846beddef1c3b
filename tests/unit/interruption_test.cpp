/// core::Interruption (core/os/interruption.h): the signals that stop a daemon or a command set
/// its flag instead of ending the process, nested ones share it, and the handlers from before
/// come back.
#include "core/os/interruption.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <csignal>
#include <signal.h>
#include <unistd.h>

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
    // As from a terminal (a test run in a background job starts with SIGINT ignored).
    auto before = std::signal(s, SIG_DFL);
    {
      Interruption interruption;
      EXPECT_FALSE(interruption.requested());
      std::raise(s); // the process would end here without it
      EXPECT_TRUE(interruption.requested()) << s;
    }
    std::signal(s, before);
  }
}

TEST(Interruption, NestedOnesShareTheFlagAndTheHandlersFromBeforeComeBack) {
  auto before = std::signal(SIGHUP, SIG_DFL);
  {
    Interruption outer;
    EXPECT_NE(handlerOf(SIGHUP), SIG_DFL);
    {
      Interruption inner;
      std::raise(SIGHUP);
      EXPECT_TRUE(inner.requested());
    }
    EXPECT_TRUE(outer.requested());
    EXPECT_NE(handlerOf(SIGHUP), SIG_DFL); // still caught: the outer one lives
  }
  EXPECT_EQ(handlerOf(SIGHUP), SIG_DFL);
  std::signal(SIGHUP, before);
}

// `nohup` (SIGHUP) and a shell's background job (SIGINT) ignore what they ignore: an
// Interruption leaves an ignored signal ignored, so it neither stops nor ends the process.
TEST(Interruption, AnIgnoredSignalStaysIgnored) {
  auto before = std::signal(SIGHUP, SIG_IGN);
  auto term = std::signal(SIGTERM, SIG_DFL);
  {
    Interruption interruption;
    EXPECT_EQ(handlerOf(SIGHUP), SIG_IGN);
    std::raise(SIGHUP);
    EXPECT_FALSE(interruption.requested());
    std::raise(SIGTERM); // not ignored: caught
    EXPECT_TRUE(interruption.requested());
  }
  EXPECT_EQ(handlerOf(SIGHUP), SIG_IGN);
  std::signal(SIGHUP, before);
  std::signal(SIGTERM, term);
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

TEST(PipeErrorsNotFatal, AWriteToAPipeWithNoReaderFailsInsteadOfEndingTheProcess) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]); // the reader went away
  {
    flo::core::PipeErrorsNotFatal pipes;
    char c = 'x';
    errno = 0;
    EXPECT_EQ(::write(fds[1], &c, 1), -1); // without it, SIGPIPE would end the test
    EXPECT_EQ(errno, EPIPE);
  }
  EXPECT_EQ(handlerOf(SIGPIPE), SIG_DFL); // as before (gtest leaves SIGPIPE at its default)
  ::close(fds[1]);
}

} // namespace
