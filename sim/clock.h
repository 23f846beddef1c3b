/// \file
/// Virtual time: a clock that moves only when the simulation moves it, and a queue of actions
/// due at virtual times. Nothing here reads a real clock; a simulated run takes as long in
/// virtual time as its events say, however fast the machine is.
#pragma once

#include "core/transport.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>

namespace flo::sim {

using Duration = core::Time::duration;

/// The virtual clock. Every run starts at the same epoch, so times in a trace replay exactly.
class Clock {
public:
  /// An hour past the steady clock's zero, so that code subtracting timeouts from `now` never
  /// goes below it.
  static constexpr core::Time kEpoch = core::Time{} + std::chrono::hours(1);

  core::Time now() const { return now_; }
  Duration elapsed() const { return now_ - kEpoch; }
  /// Moves to `t`; time never runs backwards (asserted).
  void advanceTo(core::Time t);

private:
  core::Time now_ = kEpoch;
};

/// Actions at virtual times. Actions due at the same time run in the order they were scheduled
/// (an insertion counter breaks ties), so the order never depends on addresses or hashing.
class TimerQueue {
public:
  using Action = std::function<void()>;
  using TimerId = std::uint64_t;

  TimerId schedule(core::Time at, Action action);
  /// Removes a pending action; false if it already ran or was cancelled.
  bool cancel(TimerId id);
  /// When the earliest pending action is due; nullopt when none is.
  std::optional<core::Time> nextTime() const;
  /// Removes and returns the earliest action due at or before `now`; nullopt when none is.
  /// Actions scheduled while others run are seen by the next call.
  std::optional<Action> popDue(core::Time now);
  std::size_t size() const { return queue_.size(); }
  bool empty() const { return queue_.empty(); }

private:
  using Key = std::pair<core::Time, TimerId>;
  std::map<Key, Action> queue_;
  std::map<TimerId, core::Time> due_; ///< for cancel
  TimerId next_ = 0;
};

} // namespace flo::sim
