/// \file
/// The pool benchmark's fault plans (see pool_faults.h).
#include "bench/pool_faults.h"

#include "bench/pool_bench.h"
#include "core/check.h"

#include <algorithm>
#include <cmath>

namespace flo::bench {

namespace {

using namespace std::chrono_literals;
using Status = std::vector<std::optional<FaultTarget::ReplicaState>>;

double msBetween(FaultClock::time_point from, FaultClock::time_point to) {
  return std::chrono::duration<double, std::milli>(to - from).count();
}

/// The replica leading now: that of the highest view any replica reports.
std::optional<std::size_t> leaderIn(const Status& s) {
  std::optional<std::uint64_t> view;
  for (const auto& r : s)
    if (r) view = std::max(view.value_or(0), r->view);
  if (!view || s.empty()) return std::nullopt;
  return std::size_t(*view % s.size());
}

/// The lowest committed height of the replicas other than `except` that answered; nullopt when
/// none did.
std::optional<std::uint64_t> othersLowest(const Status& s, std::size_t except) {
  std::optional<std::uint64_t> low;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != except && s[i]) low = std::min(low.value_or(s[i]->height), s[i]->height);
  return low;
}

/// The highest committed height of the replicas other than `except` that answered.
std::optional<std::uint64_t> othersHighest(const Status& s, std::size_t except) {
  std::optional<std::uint64_t> high;
  for (std::size_t i = 0; i < s.size(); ++i)
    if (i != except && s[i]) high = std::max(high.value_or(0), s[i]->height);
  return high;
}

/// Whether `replica` answered in `now` at a height that every other had reached by `before`,
/// an earlier poll: a target that does not move while the answers come (the others commit
/// hundreds of blocks a second), and the highest of theirs (two replicas behind alike must not
/// count each other as the tip).
bool atTip(const Status& now, const Status& before, std::size_t replica) {
  auto target = othersHighest(before, replica);
  return replica < now.size() && now[replica] && target && now[replica]->height >= *target;
}

/// What both plans share: the launcher, the target, the schedule, the events and an error.
class PlanBase : public FaultPlan {
public:
  PlanBase(PoolLauncher& launcher, FaultTarget& target, std::size_t replicas,
           FaultClock::time_point start)
      : launcher_(launcher), target_(target), replicas_(replicas), start_(start), due_(start + 1s) {
  }

  std::optional<FaultClock::time_point> next() const override { return due_; }

protected:
  /// Polling: the status now, with the one before it kept for atTip when it is recent (an older
  /// poll says nothing of the tip now: then this one serves as both, and a replica is at the
  /// tip only at the others' highest height in this very poll).
  Status poll(std::chrono::milliseconds wait) {
    const auto now = FaultClock::now();
    previous_ = std::move(latest_);
    if (!polledAt_ || now - *polledAt_ > 300ms) previous_.clear();
    polledAt_ = now;
    latest_ = target_.status(wait);
    if (previous_.empty()) previous_ = latest_;
    return latest_;
  }
  /// Whether every replica answered and is at the tip.
  bool allAtTip() const {
    for (std::size_t i = 0; i < latest_.size(); ++i)
      if (!atTip(latest_, previous_, i)) return false;
    return !latest_.empty();
  }
  /// Waits for `ready` (the plan's next step retries in 100 ms) up to kWait, then stops the
  /// plan saying `what`. True once it may go on.
  bool waitFor(bool ready, FaultClock::time_point now, const std::string& what) {
    if (ready) {
      waitingSince_.reset();
      return true;
    }
    if (!waitingSince_) waitingSince_ = now;
    if (now - *waitingSince_ > kWait)
      stop(what + " " + std::to_string(kWait.count()) + " s on");
    else
      due_ = FaultClock::now() + 100ms;
    return false;
  }
  /// Stops the plan, saying why.
  void stop(std::string why) {
    error_ = std::move(why);
    due_.reset();
  }
  /// Kills `replica` (`at`: when the signal went; it takes part in nothing after that).
  bool kill(std::size_t replica, FaultClock::time_point& at) {
    return launch(&PoolLauncher::kill, "kill", "", replica, at);
  }
  /// Starts `replica` again (`at`: when the start began).
  bool restart(std::size_t replica, FaultClock::time_point& at) {
    return launch(&PoolLauncher::restart, "start", " again", replica, at);
  }
  /// Does `action` to `replica`, or stops the plan: "cannot VERB replica N AFTER: why".
  bool launch(bool (PoolLauncher::*action)(std::size_t, std::string&), const char* verb,
              const char* after, std::size_t replica, FaultClock::time_point& at) {
    std::string why;
    at = FaultClock::now();
    if ((launcher_.*action)(replica, why)) return true;
    stop(std::string("cannot ") + verb + " replica " + std::to_string(replica) + after + ": " +
         why);
    return false;
  }
  double secondsIn(FaultClock::time_point t) const {
    return std::chrono::duration<double>(t - start_).count();
  }
  FaultFigures base(FaultKind kind) const {
    FaultFigures f;
    f.kind = kind;
    f.events = events_;
    f.error = error_;
    return f;
  }

  PoolLauncher& launcher_;
  FaultTarget& target_;
  std::size_t replicas_;
  FaultClock::time_point start_;
  std::optional<FaultClock::time_point> due_;
  std::vector<FaultEvent> events_;
  std::string error_;
  Status latest_, previous_;
  std::optional<FaultClock::time_point> polledAt_;
  std::optional<FaultClock::time_point> waitingSince_;
  static constexpr std::chrono::seconds kWait{20};
};

class LeaderCrashes final : public PlanBase {
public:
  LeaderCrashes(PoolLauncher& launcher, FaultTarget& target, std::size_t replicas,
                std::size_t repeat, std::size_t leaders, FaultClock::time_point start)
      : PlanBase(launcher, target, replicas, start), repeat_(repeat), leaders_(leaders) {
    FLO_CHECK(leaders >= 1 && leaders < replicas);
  }

  void fire(FaultClock::time_point now) override {
    if (step_ == Step::Kill) {
      // Only with every replica answering and at the tip: never more down at once than meant.
      Status s = poll(500ms);
      auto leader = leaderIn(s);
      if (!waitFor(allAtTip() && leader, now, "the replicas were not all at the tip")) return;
      // The leader of this view and of the next leaders_-1 views, killed together.
      FaultClock::time_point at;
      for (std::size_t k = 0; k < leaders_; ++k) {
        FaultClock::time_point killedAt;
        if (!kill((*leader + k) % replicas_, killedAt)) return;
        if (k == 0) at = killedAt;
      }
      victim_ = *leader;
      kills_.push_back(at);
      FaultEvent e;
      e.replica = victim_;
      for (std::size_t k = 1; k < leaders_; ++k) e.together.push_back((victim_ + k) % replicas_);
      e.killedAtS = secondsIn(at);
      events_.push_back(e);
      step_ = Step::Restart;
      due_ = at + kDown;
    } else {
      FaultClock::time_point at;
      for (std::size_t k = 0; k < leaders_; ++k) {
        FaultClock::time_point startedAt;
        if (!restart((victim_ + k) % replicas_, startedAt)) return;
        if (k == 0) at = startedAt;
      }
      events_.back().downS = std::chrono::duration<double>(at - kills_.back()).count();
      if (events_.size() >= repeat_) return due_.reset();
      step_ = Step::Kill;
      due_ = at + kSettle;
    }
  }

  double span() const override {
    // Each kill with room for the restarted replica to catch up (a few seconds here; the load
    // is signed for the whole span before it starts, so not the full kWait each); past the
    // span the load stops, and the plan with it.
    return 1 + double(repeat_) * std::chrono::duration<double>(kDown + kSettle + 10s).count();
  }

  FaultFigures figures(const FaultTarget& target) const override {
    FaultFigures f = base(FaultKind::LeaderCrash);
    std::vector<double> recoveries;
    for (std::size_t i = 0; i < kills_.size(); ++i) {
      if (auto first = target.firstCommitSentAfter(kills_[i])) {
        f.events[i].recoveryMs = msBetween(kills_[i], *first);
        recoveries.push_back(f.events[i].recoveryMs);
      }
    }
    std::sort(recoveries.begin(), recoveries.end());
    if (!recoveries.empty()) {
      f.recoveryP50Ms = quantile(recoveries, 0.5);
      f.recoveryP99Ms = quantile(recoveries, 0.99);
      f.recoveryMaxMs = recoveries.back();
    }
    return f;
  }

private:
  static constexpr auto kDown = 2s, kSettle = 1s;
  enum class Step : std::uint8_t { Kill, Restart };
  std::size_t repeat_, leaders_;
  Step step_ = Step::Kill;
  std::size_t victim_ = 0;
  std::vector<FaultClock::time_point> kills_;
};

class RestartAfterDown final : public PlanBase {
public:
  RestartAfterDown(PoolLauncher& launcher, FaultTarget& target, std::size_t replicas,
                   double downSeconds, FaultClock::time_point start)
      : PlanBase(launcher, target, replicas, start),
        down_(std::chrono::duration_cast<FaultClock::duration>(
            std::chrono::duration<double>(downSeconds))) {}

  void fire(FaultClock::time_point now) override {
    switch (step_) {
    case Step::Kill: {
      Status s = poll(500ms);
      auto leader = leaderIn(s);
      if (!waitFor(allAtTip() && leader, now, "the replicas were not all at the tip")) return;
      victim_ = (*leader + 1) % replicas_; // one that does not lead
      heightAtKill_ = s[victim_]->height;
      FaultClock::time_point at;
      if (!kill(victim_, at)) return;
      FaultEvent e;
      e.replica = victim_;
      e.killedAtS = secondsIn(at);
      events_.push_back(e);
      killedAt_ = at;
      step_ = Step::Restart;
      due_ = at + down_;
      return;
    }
    case Step::Restart: {
      // The others answer in a few ms, the victim never does (it is down): a short wait.
      Status s = poll(100ms);
      if (auto low = othersLowest(s, victim_); low && *low > heightAtKill_)
        events_.back().behind = *low - heightAtKill_;
      if (!restart(victim_, startedAt_)) return;
      events_.back().downS = std::chrono::duration<double>(startedAt_ - killedAt_).count();
      polledAt_.reset(); // the polls from now on compare with each other only
      step_ = Step::Poll;
      due_ = FaultClock::now();
      return;
    }
    case Step::Poll: {
      Status s = poll(100ms);
      FaultEvent& e = events_.back();
      const auto t = FaultClock::now();
      if (e.answerMs < 0 && victim_ < s.size() && s[victim_]) e.answerMs = msBetween(startedAt_, t);
      if (atTip(latest_, previous_, victim_)) {
        e.tipMs = msBetween(startedAt_, t);
        return due_.reset();
      }
      if (now - startedAt_ > kCatchUp)
        return stop("replica " + std::to_string(victim_) + " was not at the tip " +
                    std::to_string(kCatchUp.count()) + " s after it started");
      due_ = t + 50ms;
      return;
    }
    }
  }

  double span() const override {
    // The kill (its wait for the replicas included), the time down, the start (LocalFog waits
    // up to 5 s for the pid file), the catch-up, and a second to spare.
    return 1 + 2 + std::chrono::duration<double>(down_ + 5s + kCatchUp).count() + 1;
  }

  FaultFigures figures(const FaultTarget&) const override { return base(FaultKind::Restart); }

private:
  static constexpr std::chrono::seconds kCatchUp{30};
  enum class Step : std::uint8_t { Kill, Restart, Poll };
  FaultClock::duration down_;
  Step step_ = Step::Kill;
  std::size_t victim_ = 0;
  std::uint64_t heightAtKill_ = 0;
  FaultClock::time_point killedAt_, startedAt_;
};

class RestartAll final : public PlanBase {
public:
  RestartAll(PoolLauncher& launcher, FaultTarget& target, std::size_t replicas,
             FaultClock::time_point start)
      : PlanBase(launcher, target, replicas, start) {}

  void fire(FaultClock::time_point now) override {
    switch (step_) {
    case Step::Kill: {
      poll(500ms);
      if (!waitFor(allAtTip(), now, "the replicas were not all at the tip")) return;
      for (std::size_t r = 0; r < replicas_; ++r) {
        FaultClock::time_point at;
        if (!kill(r, at)) return;
        if (r == 0) killedAt_ = at;
        FaultEvent e;
        e.replica = r;
        e.killedAtS = secondsIn(at);
        events_.push_back(e);
      }
      step_ = Step::Restart;
      due_ = killedAt_ + kDown;
      return;
    }
    case Step::Restart: {
      // Every answer a replica sent before it died has arrived by now (loopback, 2 s).
      std::vector<std::uint64_t> told = target_.toldHeights();
      for (std::size_t r = 0; r < replicas_; ++r) {
        FaultClock::time_point at;
        if (!restart(r, at)) return;
        events_[r].told = r < told.size() ? told[r] : 0;
        events_[r].downS = std::chrono::duration<double>(at - killedAt_).count();
        startedAt_.push_back(at);
      }
      polledAt_.reset();
      step_ = Step::Poll;
      due_ = FaultClock::now();
      return;
    }
    case Step::Poll: {
      Status s = poll(100ms);
      const auto t = FaultClock::now();
      bool allAnswered = true;
      for (std::size_t r = 0; r < replicas_; ++r) {
        FaultEvent& e = events_[r];
        if (e.answerMs < 0 && r < s.size() && s[r]) {
          e.answerMs = msBetween(startedAt_[r], t);
          e.back = s[r]->height;
        }
        allAnswered = allAnswered && e.answerMs >= 0;
      }
      // Done once each has answered and the load commits again (the tip moves with it).
      if (allAnswered && target_.firstCommitSentAfter(startedAt_.back())) return due_.reset();
      if (now - startedAt_.back() > kResume)
        return stop(
            std::string(allAnswered ? "no transaction committed" : "not every replica answered") +
            " within " + std::to_string(kResume.count()) + " s of the last replica's start");
      due_ = t + 50ms;
      return;
    }
    }
  }

  double span() const override {
    // The wait for the tip, the time down, the starts (up to 5 s each for the pid file), the
    // wait for commits, and a second to spare.
    return 1 + 2 + std::chrono::duration<double>(kDown + kResume).count() +
           5.0 * double(replicas_) + 1;
  }

  FaultFigures figures(const FaultTarget& target) const override {
    FaultFigures f = base(FaultKind::RestartAll);
    if (!startedAt_.empty())
      if (auto first = target.firstCommitSentAfter(startedAt_.back()))
        f.resumeMs = msBetween(startedAt_.back(), *first);
    for (const FaultEvent& e : f.events)
      if (e.answerMs >= 0 && e.back < e.told) ++f.lost;
    return f;
  }

private:
  static constexpr auto kDown = 2s;
  static constexpr std::chrono::seconds kResume{30};
  enum class Step : std::uint8_t { Kill, Restart, Poll };
  Step step_ = Step::Kill;
  FaultClock::time_point killedAt_;
  std::vector<FaultClock::time_point> startedAt_; ///< by replica
};

/// slow-leader and forger: one replica turned byzantine (SIGUSR1 to a daemon whose config says
/// how) one second in: the leader then, or the replica after it. A slow leader is then watched
/// (polls every 100 ms) until every replica that answers is in a view another leads; the phase
/// goes on to `seconds` after the signal either way.
class TurnByzantine final : public PlanBase {
public:
  TurnByzantine(PoolLauncher& launcher, FaultTarget& target, std::size_t replicas, FaultKind kind,
                double seconds, FaultClock::time_point start)
      : PlanBase(launcher, target, replicas, start), kind_(kind),
        seconds_(std::chrono::duration_cast<FaultClock::duration>(
            std::chrono::duration<double>(seconds))) {
    FLO_CHECK(turnsByzantine(kind));
  }

  void fire(FaultClock::time_point now) override {
    switch (step_) {
    case Step::Turn: {
      Status s = poll(500ms);
      auto leader = leaderIn(s);
      bool all = std::all_of(s.begin(), s.end(), [](const auto& r) { return r.has_value(); });
      if (!waitFor(all && leader, now, "the replicas did not all answer")) return;
      std::size_t victim = kind_ == FaultKind::SlowLeader ? *leader : (*leader + 1) % replicas_;
      FaultClock::time_point at;
      if (!launch(&PoolLauncher::misbehave, "turn", " byzantine", victim, at)) return;
      FaultEvent e;
      e.replica = victim;
      e.killedAtS = secondsIn(at);
      events_.push_back(e);
      turnedAt_ = at;
      step_ = kind_ == FaultKind::SlowLeader ? Step::Watch : Step::Last;
      due_ = kind_ == FaultKind::SlowLeader ? now + 100ms : turnedAt_ + seconds_;
      return;
    }
    case Step::Watch: {
      Status s = poll(100ms);
      const auto t = FaultClock::now();
      const std::size_t victim = events_.back().replica;
      bool answered = false, moved = true;
      for (const auto& r : s) {
        if (!r) continue;
        answered = true;
        moved = moved && r->view % replicas_ != victim;
      }
      if (answered && moved) {
        events_.back().recoveryMs = msBetween(turnedAt_, t);
        step_ = Step::Last;
        due_ = std::max(t, turnedAt_ + seconds_);
        return;
      }
      if (const auto limit = std::max<FaultClock::duration>(seconds_, kReplace);
          t - turnedAt_ > limit)
        return stop(
            "replica " + std::to_string(victim) + " still led " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(limit).count()) +
            " s after it turned slow");
      due_ = t + 100ms;
      return;
    }
    case Step::Last: {
      // The load ran `seconds` with it; what the others made of a forger.
      if (kind_ == FaultKind::Forger)
        for (const auto& r : poll(500ms))
          if (r) {
            convictions_ += r->convictions;
            muted_ += r->muted;
          }
      due_.reset();
      return;
    }
    }
  }

  double span() const override {
    // The wait for answers, the signal, and the phase after it (or the watch, if longer).
    return 1 + 1 +
           std::chrono::duration<double>(
               std::max<FaultClock::duration>(seconds_, kind_ == FaultKind::SlowLeader
                                                            ? FaultClock::duration(kReplace)
                                                            : FaultClock::duration::zero()))
               .count() +
           1;
  }

  FaultFigures figures(const FaultTarget&) const override {
    FaultFigures f = base(kind_);
    f.convictions = convictions_;
    f.muted = muted_;
    return f;
  }

private:
  static constexpr std::chrono::seconds kReplace{30};
  std::uint64_t convictions_ = 0, muted_ = 0;
  enum class Step : std::uint8_t { Turn, Watch, Last };
  FaultKind kind_;
  FaultClock::duration seconds_;
  Step step_ = Step::Turn;
  FaultClock::time_point turnedAt_;
};

} // namespace

std::optional<FaultKind> faultNamed(std::string_view name) {
  if (name == "leader-crash") return FaultKind::LeaderCrash;
  if (name == "restart") return FaultKind::Restart;
  if (name == "restart-all") return FaultKind::RestartAll;
  if (name == "slow-leader") return FaultKind::SlowLeader;
  if (name == "forger") return FaultKind::Forger;
  return std::nullopt;
}

const char* faultName(FaultKind kind) {
  switch (kind) {
  case FaultKind::LeaderCrash:
    return "leader-crash";
  case FaultKind::Restart:
    return "restart";
  case FaultKind::RestartAll:
    return "restart-all";
  case FaultKind::SlowLeader:
    return "slow-leader";
  case FaultKind::Forger:
    return "forger";
  case FaultKind::None:
    break;
  }
  return "none";
}

std::unique_ptr<FaultPlan> leaderCrashes(PoolLauncher& launcher, FaultTarget& target,
                                         std::size_t replicas, std::size_t repeat,
                                         std::size_t leaders, FaultClock::time_point start) {
  return std::make_unique<LeaderCrashes>(launcher, target, replicas, repeat, leaders, start);
}

std::unique_ptr<FaultPlan> restartAll(PoolLauncher& launcher, FaultTarget& target,
                                      std::size_t replicas, FaultClock::time_point start) {
  return std::make_unique<RestartAll>(launcher, target, replicas, start);
}

std::unique_ptr<FaultPlan> restartAfterDown(PoolLauncher& launcher, FaultTarget& target,
                                            std::size_t replicas, double downSeconds,
                                            FaultClock::time_point start) {
  return std::make_unique<RestartAfterDown>(launcher, target, replicas, downSeconds, start);
}

std::unique_ptr<FaultPlan> turnByzantine(PoolLauncher& launcher, FaultTarget& target,
                                         std::size_t replicas, FaultKind kind, double seconds,
                                         FaultClock::time_point start) {
  return std::make_unique<TurnByzantine>(launcher, target, replicas, kind, seconds, start);
}

} // namespace flo::bench
