/// \file
/// A slow-but-live leader (POOL-TESTING §5.2; RBFT's monitor, kept by each replica alone). A
/// leader that holds every proposal just under the round timeout never times out, and a stable
/// leader keeps its role while its rounds succeed: without a watch it could hold the pool at a
/// fraction of its speed for good.
///
/// A replica that does not lead the current view measures, for each round in which it had work,
/// how long it had work (from the round's start, or from the work's arrival if later, to the
/// next round) and how much of that it spent waiting for the leader's proposal. Over the last
/// kWindow of such time in the view (and only once it has kMinObserved of it), a leader that kept
/// it waiting more than three quarters of the time is slow: the replica times out of each round of
/// the view at its start while that holds (Replica::advanceRound), and once f+1 replicas time out
/// of one round, the others join and the view changes. (A verdict is not forgotten once acted on:
/// two replicas that reached it one round apart would otherwise each time out of a different round,
/// alone, and never make f+1.)
///
/// Why three quarters: a round is the wait for the proposal (a message delay, the leader's flush
/// time and work) and the vote phase after it (a message delay, every voter's checks and write),
/// so a correct leader's share is about half where message delays dominate (a WAN, or the
/// simulator's 2 ms links) and 28-35 % on loopback here at 300-3,500 tx/s (the leader's own
/// checks and scheduling on two shared cores; `fog bench pool --json`'s leader_wait_percent); a
/// leader holding its proposals just under the round timeout keeps it above 95 %. One that stays
/// under three quarters makes rounds at most four times as long as their vote phases: at most
/// twice as long as a correct leader's where delays dominate (§5.2 asks for 50 % of the
/// throughput, or the leader replaced within 10 s). A round that ends without the proposal (a
/// certificate from the others' votes came first) counts as no wait: the pool made progress without
/// it. A new view starts with an empty window. A replica that alone judges a leader slow abstains
/// from its rounds, and the others commit without it; with another replica down too, the rounds
/// time out and the view changes.
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
  /// Whether the leader of the current view is slow (see the file comment).
  bool slow() const { return worked_ >= kMinObserved && 4 * waited_ > 3 * worked_; }

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
