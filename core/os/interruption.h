/// \file
/// What stops a process that runs until it is told to (a replica or fogger daemon, `fog up` in
/// the foreground, `fog bench pool`): Ctrl-C (SIGINT), SIGTERM, and SIGHUP (its terminal went
/// away). While an active Interruption lives, those three set a flag instead of ending the
/// process, so it stops what it started (replica processes in sessions of their own outlive a
/// parent that dies) and writes what it holds before it exits. A signal the process was told to
/// ignore (`nohup`, a shell's background job) stays ignored. System calls a signal interrupts
/// are restarted where the kernel can (SA_RESTART); waits that are not (epoll_wait, poll,
/// nanosleep) return, so a loop sees the flag at once. The previous handlers come back when the
/// outermost active one ends; one made inside another shares its flag. Made and ended on one
/// thread.
#pragma once

namespace flo::core {

class Interruption {
public:
  /// Inactive: the handlers are left alone and requested() stays false (a daemon run in a
  /// test's process).
  explicit Interruption(bool active = true);
  ~Interruption();
  Interruption(const Interruption&) = delete;
  Interruption& operator=(const Interruption&) = delete;

  /// A signal came since this one began (and it is active).
  bool requested() const;

private:
  bool active_;
};

/// While it lives, a write to a pipe whose reader went away (`fog bench pool | head`) fails
/// with EPIPE instead of ending the process: for a command that must live to stop what it
/// started. The disposition from before comes back after. A child started meanwhile should set
/// SIGPIPE back to its default before exec (an ignored signal stays ignored across exec).
class PipeErrorsNotFatal {
public:
  PipeErrorsNotFatal();
  ~PipeErrorsNotFatal();
  PipeErrorsNotFatal(const PipeErrorsNotFatal&) = delete;
  PipeErrorsNotFatal& operator=(const PipeErrorsNotFatal&) = delete;

private:
  void (*previous_)(int);
};

} // namespace flo::core
