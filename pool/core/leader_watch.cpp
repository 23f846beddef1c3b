/// \file
/// The slow-leader watch (leader_watch.h).
#include "pool/core/leader_watch.h"

#include "core/check.h"

#include <algorithm>

namespace flo::pool {

void LeaderWatch::enterRound(std::uint64_t view, bool watched, Time now, Clock::duration cap) {
  endRound(now, cap);
  if (view_ != view) {
    window_.clear();
    worked_ = waited_ = {};
    view_ = view;
  }
  watched_ = watched;
}

void LeaderWatch::workFrom(Time now) {
  if (watched_ && !workSince_) workSince_ = now;
}

void LeaderWatch::proposalCame(Time now) {
  if (proposalSeen_) return;
  proposalSeen_ = true;
  if (workSince_) waitedThisRound_ = std::max(now - *workSince_, Clock::duration::zero());
}

void LeaderWatch::endRound(Time now, Clock::duration cap) {
  if (workSince_ && now > *workSince_) {
    // (A caller's `now` may be a little stale: a wait never counts for more than the round.)
    Round r{std::min(now - *workSince_, cap), waitedThisRound_.value_or(Clock::duration::zero())};
    r.waited = std::min(r.waited, r.worked);
    window_.push_back(r);
    worked_ += r.worked;
    waited_ += r.waited;
    totalWorked_ += r.worked;
    totalWaited_ += r.waited;
    // The last kWindow of rounds with work: a round leaves once the rounds after it cover it.
    while (window_.size() > 1 && worked_ - window_.front().worked >= kWindow) {
      worked_ -= window_.front().worked;
      waited_ -= window_.front().waited;
      window_.pop_front();
    }
  }
  workSince_.reset();
  waitedThisRound_.reset();
  proposalSeen_ = false;
  FLO_CHECK(waited_ <= worked_);
}

} // namespace flo::pool
