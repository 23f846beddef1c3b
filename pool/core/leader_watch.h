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
/// kMinObserved of it), rounds whose mean is above the limit the replica gives (half the round
/// timeout: Replica::advanceRound) make the leader slow: the replica times out of each round of
/// the view at its start while that holds, and once f+1 replicas time out of one round, the
/// others join and the view changes. (A verdict is not forgotten once acted on: two replicas that
/// reached it one round apart would otherwise each time out of a different round, alone, and
/// never make f+1.)
///
/// Why the rounds' length, and why half the timeout. A round ends for everyone when a quorum's
/// votes are in, so its length is the same at every replica, give or take a message delay: a
/// leader cannot look fast to some replicas by holding its proposal for the others only (it must
/// reach a quorum), and a correct leader far from some replicas does not look slow to them. (A
/// first version judged each replica's share of time spent waiting for the proposal: a review
/// found both faults, a leader rotating which follower it held back, and a correct leader of a
/// pool in two sites 40 ms apart judged slow every second.) The round timeout is the genesis's
/// statement of how long a round may take on its network; rounds averaging half of it are slow by
/// that measure, and with blocks of up to maxBlockTxs they still carry 2 x maxBlockTxs / timeout
/// transactions a second (2,048 at the defaults: half of what this machine sustains, §5.2's bar
/// for a slow leader left in place). A leader slow from its view's start, holding its proposals
/// just under the timeout, is judged after three of its rounds; one that turns slow later, after
/// about five, once its fast rounds have left the window (2.5 s at 450 ms holds on real
/// processes, docs/benchmarks.md). A new view starts with an empty window. A replica
/// that alone judges a leader slow abstains from its rounds, and the others commit without it;
/// with another replica down too, the rounds time out and the view changes.
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
  /// round before (its record joins the window) and, with a new view, empties the window.
  void enterRound(std::uint64_t view, bool watched, Time now);
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
  void endRound(Time now);

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
