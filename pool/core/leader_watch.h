/// \file
/// A slow-but-live leader (POOL-TESTING §5.2; RBFT's monitor, kept by each replica alone). A
/// leader that holds every proposal just under the round timeout never times out, and a stable
/// leader keeps its role while its rounds succeed: without a watch it could hold the pool at a
/// fraction of its speed for good.
///
/// A replica that does not lead the current view measures each round in which it had work: how
/// long it had work (from the round's start, or from the work's arrival if later, to the next
/// round), and how much of that it spent waiting for the leader's proposal (for `fog status`; the
/// verdict does not use it). Over the last kWindow of such time in the view (and only once it has
/// kMinObserved of it), rounds whose mean is above the limit the replica gives (three quarters of
/// the round timeout: Replica::advanceRound; each round counted for at most the timeout) make the
/// leader slow: the replica times out of each round of the view at its start while that holds,
/// and once f+1 replicas time out of one round, the others join and the view changes. (A verdict
/// is not forgotten once acted on: two replicas that reached it one round apart would otherwise
/// each time out of a different round, alone, and never make f+1.)
///
/// Why the rounds' length. A round ends for everyone when a quorum's votes are in, so its length
/// is the same at every replica, give or take a message delay: a leader cannot look fast to some
/// replicas by holding its proposal for the others only (it must reach a quorum), and a correct
/// leader far from some replicas does not look slow to them. (A first version judged each
/// replica's share of time spent waiting for the proposal: a review found a leader rotating which
/// follower it held back evading it, and a correct leader of a pool in two sites 40 ms apart
/// judged slow every second.)
///
/// Why three quarters of the timeout. The timeout is the genesis's statement of how long a round
/// may take on its network, and correct rounds may come close to it: a second review measured
/// rounds of a pool 130 ms apart (one way) under the default 500 ms timeout, and a limit of half
/// the timeout changed views every 1.2 s there. Three quarters catches §5.2's slow leader, one
/// that holds its proposals just under the timeout. It does not catch one that holds them a little
/// less than the limit, or proposes tiny blocks on time: rounds of three quarters of the timeout,
/// with blocks of 512, still carry 1,365 tx/s at the defaults (about a third of what this machine
/// sustains), and a throughput monitor (RBFT's) would be needed beyond that. A leader slow from
/// its view's start is judged after about three of its rounds; one that turns slow later, after
/// about five, once its fast rounds have left the window (2.5 s at 450 ms holds on real processes,
/// docs/benchmarks.md). A new view starts with an empty window. A replica that alone judges a
/// leader slow abstains from its rounds, and the others commit without it; with another replica
/// down too, the rounds time out and the view changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace flo::pool {

class LeaderWatch {
public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;
  static constexpr Clock::duration kWindow = std::chrono::seconds(2);
  static constexpr Clock::duration kMinObserved = std::chrono::seconds(1);

  /// A round of view `view` begins at `now`; `watched`: another replica leads it. Ends the
  /// round before (its record joins the window, counted for at most `cap`: a replica cut off for
  /// a while, or paused, must not charge the whole time to the leader it finds on its return)
  /// and, with a new view, empties the window.
  void enterRound(std::uint64_t view, bool watched, Time now,
                  Clock::duration cap = Clock::duration::max());
  /// The current round has work from `now` on (no effect if it had already).
  void workFrom(Time now);
  /// The leader's proposal for the current round came (the first counts).
  void proposalCame(Time now);
  /// Whether the leader of the current view is slow: its rounds with work, over the window,
  /// last longer than `limit` on average (see the file comment).
  bool slow(Clock::duration limit) const {
    return worked_ >= kMinObserved && worked_ > limit * std::int64_t(window_.size());
  }

  /// Since the start: the time this replica had work in rounds led by others, and the part of it
  /// spent waiting for the leaders' proposals (what `fog status` shows).
  Clock::duration totalWorked() const { return totalWorked_; }
  Clock::duration totalWaited() const { return totalWaited_; }

private:
  struct Round {
    Clock::duration worked, waited;
  };
  void endRound(Time now, Clock::duration cap);

  std::deque<Round> window_;
  Clock::duration worked_{}, waited_{}; ///< the window's sums
  std::optional<std::uint64_t> view_;
  bool watched_ = false;
  std::optional<Time> workSince_;
  std::optional<Clock::duration> waitedThisRound_;
  bool proposalSeen_ = false; ///< in the current round
  Clock::duration totalWorked_{}, totalWaited_{};
};

} // namespace flo::pool
