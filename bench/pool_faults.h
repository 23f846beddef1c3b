/// \file
/// Faults put into the pool benchmark's load (`fog bench pool --fault NAME`): the rows of
/// POOL-TESTING §5.2 that need real replica processes killed while the load goes on.
///
///   leader-crash (F1): the current leader (view mod n, the highest view any replica reports)
///     killed with SIGKILL, `repeat` times. Each is started again from its files 2 s later (as
///     `fog up --detach` would) and must be back at the chain's tip before the next kill, so
///     that no two replicas are ever down at once. A recovery is the time from the kill to the
///     first commit (f+1 matching answers) of a transaction sent after it: the view change, and
///     the new leader's first block (§5.2: p50 <= 1 s, p99 <= 2 s).
///   restart (F3/F4): a replica that does not lead killed for `down` seconds while the others
///     commit, then started again from its files: the time from its start to its first answer
///     (its store opened and checked), and to the chain's tip: a committed height all the
///     others had reached at the poll before (polls 50 ms apart) (§5.2: <= 5 s after 60 s
///     down, <= 15 s after 10 minutes).
///
///   With `leaders` = k > 1 (at most f), the leader and the next k-1 (the leaders of the views
///     after it, the replicas after it) are killed at once: each dead one's view times out in
///     turn, with the timeout doubling (§5.2: two consecutive leaders dead at n = 7, <= 3 s).
///   restart-all (§5.2 full-cluster kill): every replica killed with SIGKILL at once and started
///     again from its files 2 s later. Measured: from the last replica's start to the first
///     commit of a transaction sent after it (§5.2: <= 5 s), and that no replica came back below
///     the height it had told the load's client a transaction committed at (0 acknowledged
///     transactions lost).
///   slow-leader (§5.2 slow-but-live leader): one second in, the leader is told (SIGUSR1) to
///     hold each proposal `hold` ms (just under the 500 ms round timeout: none of its rounds time
///     out); every replica's config says so, dormant until the signal. Measured: from the signal
///     to the view moving to another leader at every replica that answers (§5.2: <= 10 s, or
///     the pool keeps half its throughput), and the committed rate of the phase.
///   forger (§5.2 one byzantine non-leader): one second in, the replica after the leader is told
///     to send each other replica `forge rate` votes a second with forged signatures, besides
///     its correct messages, until the phase ends (`seconds` after). Measured: the committed rate
///     beside a run without it (§5.2: >= 80 %).
///
/// A plan is a small state machine (FaultPlan::fire) run on a thread of its own beside the load,
/// which goes on undisturbed while it kills, starts or asks; it asks the replicas through a
/// client of its own (FaultTarget::status). Before each kill every replica answers and is at the
/// tip, polled every 100 ms for up to 20 s.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

namespace flo::bench {

class PoolLauncher;

enum class FaultKind : std::uint8_t { None, LeaderCrash, Restart, RestartAll, SlowLeader, Forger };

/// Whether `kind` turns a replica byzantine (slow-leader, forger) rather than killing one.
inline bool turnsByzantine(FaultKind kind) {
  return kind == FaultKind::SlowLeader || kind == FaultKind::Forger;
}

/// "leader-crash", "restart", "restart-all", "slow-leader" or "forger"; nullopt for another
/// name.
std::optional<FaultKind> faultNamed(std::string_view name);
const char* faultName(FaultKind kind);

using FaultClock = std::chrono::steady_clock;

/// What a fault plan reads from the benchmark's client.
class FaultTarget {
public:
  struct ReplicaState {
    std::uint64_t height = 0, view = 0;
    std::uint64_t convictions = 0, muted = 0; ///< peers convicted of forgery, messages dropped
    /// The slow-leader watch: ms with work in rounds others led, ms of it waiting for their
    /// proposals, rounds timed out at their start.
    std::uint64_t leaderWorkMs = 0, leaderWaitMs = 0, slowLeaderTimeouts = 0;
  };
  virtual ~FaultTarget() = default;
  /// Each replica's committed height and view, asked once; nullopt for one silent for `wait`.
  virtual std::vector<std::optional<ReplicaState>> status(std::chrono::milliseconds wait) = 0;
  /// When the first transaction sent at or after `t` committed; nullopt when none did.
  virtual std::optional<FaultClock::time_point>
  firstCommitSentAfter(FaultClock::time_point t) const = 0;
  /// Per replica, the highest height it has told the load's client a transaction committed at
  /// (0 before any); read from another thread than the one that hears the answers.
  virtual std::vector<std::uint64_t> toldHeights() const = 0;
};

/// One kill and what followed it. Times in ms; -1 when it did not happen.
struct FaultEvent {
  std::size_t replica = 0;  ///< the replica killed (slow-leader, forger: turned byzantine)
  double killedAtS = 0;     ///< seconds from the start of the plan
  double recoveryMs = -1;   ///< leader-crash: the kill -> the first commit of a later transaction
                            ///< (slow-leader: the signal -> no replica in a view it leads)
  double downS = 0;         ///< how long it was down
  std::uint64_t behind = 0; ///< blocks the others committed while it was down
  double answerMs = -1;     ///< its start -> its first answer
  double tipMs = -1;        ///< its start -> the chain's tip
  std::vector<std::size_t> together; ///< leader-crash: the next leaders killed with it
  std::uint64_t told = 0; ///< restart-all: the highest height it told the client before the kill
  std::uint64_t back = 0; ///< restart-all: its committed height in its first answer after
};

struct FaultFigures {
  FaultKind kind = FaultKind::None;
  std::vector<FaultEvent> events;
  std::string error; ///< why the plan stopped early (a replica that did not come back), or empty
  /// leader-crash: the recoveries' p50 and p99 (nearest rank) and the worst; -1 without any.
  double recoveryP50Ms = -1, recoveryP99Ms = -1, recoveryMaxMs = -1;
  /// restart-all: the last replica's start -> the first commit of a transaction sent after it
  /// (-1: none committed), and the replicas that came back below a height they had told.
  double resumeMs = -1;
  std::size_t lost = 0;
  /// forger: at the end, over the replicas that answered, the peers they had convicted and the
  /// messages they had dropped unread (Replica::convict).
  std::uint64_t convictions = 0, muted = 0;
};

/// A fault's schedule during one load phase.
class FaultPlan {
public:
  virtual ~FaultPlan() = default;
  /// When the next action is due; nullopt once the plan is done.
  virtual std::optional<FaultClock::time_point> next() const = 0;
  /// Does the due action: kills, starts a replica, or asks where the replicas are.
  virtual void fire(FaultClock::time_point now) = 0;
  /// The longest the load phase must run for the plan, seconds from its start.
  virtual double span() const = 0;
  /// The figures, once the phase is over (recoveries read from `target`).
  virtual FaultFigures figures(const FaultTarget& target) const = 0;
};

/// leader-crash: `repeat` kills of `leaders` consecutive leaders each, starting one second
/// after `start`.
std::unique_ptr<FaultPlan> leaderCrashes(PoolLauncher& launcher, FaultTarget& target,
                                         std::size_t replicas, std::size_t repeat,
                                         std::size_t leaders, FaultClock::time_point start);
/// restart-all: every replica killed at once, one second after `start`, and started again.
std::unique_ptr<FaultPlan> restartAll(PoolLauncher& launcher, FaultTarget& target,
                                      std::size_t replicas, FaultClock::time_point start);
/// slow-leader or forger (`kind`): a replica turned byzantine one second after `start`, the
/// phase then lasting `seconds` more.
std::unique_ptr<FaultPlan> turnByzantine(PoolLauncher& launcher, FaultTarget& target,
                                         std::size_t replicas, FaultKind kind, double seconds,
                                         FaultClock::time_point start);
/// restart: one replica down for `downSeconds`, starting one second after `start`.
std::unique_ptr<FaultPlan> restartAfterDown(PoolLauncher& launcher, FaultTarget& target,
                                            std::size_t replicas, double downSeconds,
                                            FaultClock::time_point start);

} // namespace flo::bench
