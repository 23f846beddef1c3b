/// \file
/// Rounds, timeouts and timeout certificates: the pacemaker (see replica.h). A round's timer
/// runs only while there is work (a transaction that can execute, or a block with transactions
/// not yet committed), so an idle pool neither makes empty blocks nor changes views.
#include "core/check.h"
#include "pool/core/replica.h"

#include <algorithm>

namespace flo::pool {

Clock::duration Replica::roundTimeout() const {
  auto base = std::chrono::milliseconds(genesis_.params.roundTimeoutMs);
  auto cap = std::chrono::milliseconds(genesis_.params.maxRoundTimeoutMs);
  auto t = base * (std::int64_t(1) << std::min(consecutiveTimeouts_, 16u));
  return std::min<Clock::duration>(t, cap);
}

Clock::duration Replica::slowRoundLimit() const {
  return std::chrono::milliseconds(genesis_.params.roundTimeoutMs) * 3 / 4;
}

bool Replica::hasWork() const {
  if (mempool_.hasExecutable(ledger_)) return true;
  return pathHasTxs(safety_.highQc.block) ||
         (tipHasTxs_ && safety_.highQc.round == tree_.tip().round + 1);
}

void Replica::armTimer(Time now) {
  if (roundDeadline_ || !hasWork()) return;
  roundDeadline_ = now + roundTimeout();
  watch_.workFrom(now); // the round's work starts (LeaderWatch)
}

void Replica::advanceRound(std::uint64_t round, std::uint64_t view, Time now) {
  if (round <= round_) return;
  round_ = round;
  view_ = view;
  roundDeadline_.reset();
  flushAt_.reset();
  watch_.enterRound(view, leaderOf(view) != self_, now,
                    std::chrono::milliseconds(genesis_.params.roundTimeoutMs));
  armTimer(now);
  // Votes and timeouts for rounds behind us will never make a certificate we need.
  votes_.erase(votes_.begin(), votes_.lower_bound(round_ - 1));
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(round_ - 1));
  // A leader whose rounds have been slow, if live: abstain from its round and time out of it at
  // once (with f+1 others doing so, the view changes). Not while the round is idle: an idle pool
  // changes no view. The timeout leaves from onTimer, not from here: advanceRound runs inside
  // handlers that go on after it (and a timeout can complete a TC that advances the round again).
  if (watch_.slow(slowRoundLimit()) && hasWork()) {
    ++metrics_.slowLeaderTimeouts;
    abstainRound_ = round_;
    roundDeadline_ = now + std::chrono::microseconds(1);
  }
}

std::optional<Time> Replica::nextTimer() const {
  std::optional<Time> t;
  for (auto x : {flushAt_, roundDeadline_, syncRetryAt(), refillAt_}) {
    if (x && (!t || *x < *t)) t = x;
  }
  return t;
}

void Replica::onTimer(Time now) {
  if (flushAt_ && now >= *flushAt_) {
    flushDue_ = true; // a partial block may go now
    flushAt_.reset();
    maybePropose(now);
    flushDue_ = false;
  }
  retrySync(now);
  if (refillAt_ && now >= *refillAt_) refillDue_ = true;
  refillIfDue(now);
  if (roundDeadline_ && now >= *roundDeadline_) {
    roundDeadline_.reset();
    if (hasWork()) onRoundTimeout(now);
  }
  armTimer(now);
  // Every timer that ran out was acted on: what is still armed lies ahead (a host loop that
  // waits until nextTimer() would otherwise spin without reading the messages it needs).
  FLO_CHECK(!nextTimer() || *nextTimer() > now);
}

/// No progress in this round: stop voting in it (persisted first), and tell everyone, with the
/// highest certificate we hold. Again each time the timer runs out while the round lasts.
void Replica::onRoundTimeout(Time now) {
  if (safety_.lastVotedRound < round_) {
    safety_.lastVotedRound = round_;
  }
  persistSafety();
  Timeout t;
  t.round = round_;
  t.view = view_;
  t.highQc = safety_.highQc;
  t.by = {self_, key_.sign(timeoutMessage(committee_.chain(), round_, t.highQc.round, view_))};
  if (lastTc_ && lastTc_->round + 1 == round_) t.lastTc = std::make_shared<TimeoutCert>(*lastTc_);
  ++metrics_.timeoutsSent;
  broadcast(TimeoutMsg{t});
  roundDeadline_ = now + roundTimeout();
  onTimeout(self_, t, now);
}

void Replica::onTimeout(ReplicaIndex from, const Timeout& t, Time now) {
  if (t.by.replica != from) return void(++metrics_.invalidMessages);
  if (from != self_) {
    // Before any signature check: a timeout that can neither count (a round we left, one too far
    // ahead, or a sender already counted in its round) nor teach us a higher certificate or a
    // round we missed is dropped unread (validly signed ones cost their sender a signature each,
    // and each receiver a check).
    bool teaches = t.highQc.round > safety_.highQc.round ||
                   (t.lastTc && t.lastTc->round >= round_ && t.lastTc->round + 1 == t.round);
    auto counted = timeouts_.find(t.round);
    if (!teaches && (t.round < round_ || t.round > round_ + 64 ||
                     (counted != timeouts_.end() && counted->second.count(from))))
      return void(++metrics_.staleMessages);
    if (!committee_.verify(t) || !verifiedQc(t.highQc))
      return void(++metrics_.invalidMessages), convict(from, now);
    processQc(t.highQc, now);                       // may carry us past the round
    if (t.lastTc && t.lastTc->round + 1 > round_) { // a round we missed: catch up to it
      if (t.lastTc->round + 1 != t.round) return void(++metrics_.invalidMessages);
      if (!committee_.verify(*t.lastTc))
        return void(++metrics_.invalidMessages), convict(from, now);
      processTc(*t.lastTc, now);
    }
  }
  if (t.round < round_) return void(++metrics_.staleMessages);
  if (t.round > round_ + 64) return void(++metrics_.staleMessages);
  auto& senders = timeouts_[t.round];
  if (!senders.emplace(from, t).second) return;
  // f+1 timeouts for a later round: a correct replica is there, so the round exists; go there
  // and join them (a restart or a partition left us behind without a certificate to follow).
  if (t.round > round_ && senders.size() >= committee_.faults() + 1) {
    std::vector<std::uint64_t> views;
    for (const auto& [r, x] : senders) views.push_back(x.view);
    std::sort(views.begin(), views.end(), std::greater<>());
    advanceRound(t.round, views[committee_.faults()], now);
  }
  // f+1 timeouts: at least one correct replica gave up on this round; join it.
  const auto* counted = &senders;
  if (t.round == round_ && senders.size() >= committee_.faults() + 1 &&
      safety_.lastVotedRound < round_) {
    onRoundTimeout(now); // our own timeout: may complete the TC, and move on, by itself
    auto still = timeouts_.find(t.round); // (`senders` may be gone with it)
    if (still == timeouts_.end() || round_ > t.round) return;
    counted = &still->second;
  }
  if (counted->size() < committee_.quorum()) return;
  TimeoutCert tc;
  tc.round = t.round;
  for (const auto& [r, x] : *counted) // sorted by replica
    tc.entries.push_back({x.by, x.highQc.round, x.view});
  ++metrics_.tcsFormed;
  processTc(tc, now);
}

void Replica::processTc(const TimeoutCert& tc, Time now) {
  noteOwnSignature(tc.round,
                   std::any_of(tc.entries.begin(), tc.entries.end(),
                               [&](const TimeoutCert::Entry& e) { return e.by.replica == self_; }));
  if (tc.round + 1 <= round_) {
    if (tc.round + 1 == round_ && (!lastTc_ || lastTc_->round < tc.round)) lastTc_ = tc;
    return;
  }
  lastTc_ = tc;
  ++consecutiveTimeouts_;
  advanceRound(tc.round + 1, tc.view(committee_.faults()) + 1, now);
  maybePropose(now);
}

} // namespace flo::pool
