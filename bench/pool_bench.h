/// \file
/// The pool benchmark as a library (`fog bench pool`; the recipe is POOL-TESTING §5.1): a fresh
/// pool of replica processes on this machine, transfers between funded accounts signed before
/// the clock starts and driven open loop from one client thread, and what came of them:
/// committed transactions per second, commit latency (submit -> f+1 matching Committed replies),
/// the replicas' CPU time per committed transaction, and the ratio to the Ed25519 bound measured
/// in the same run (each replica verifies each client signature once, so the pool commits at
/// most verifications/s per core x cores / replicas).
///
/// One run:
///   1. Ed25519 verification rate on one core (libsodium through core::verifySignature on a
///      256-byte message, about `verifySeconds` in five slices, the best slice), before any
///      replica starts; the bound is that rate x cores / replicas, as POOL-TESTING.md defines
///      it. Then the same with one thread per core verifying at once, reported beside the
///      bound: what the cores verify together when all are busy, as they are under load.
///   2. The pool: PoolLauncher::start (fog gives one that makes a LocalFog in a temporary folder
///      and starts `fog pool run` processes); waits until every replica answers a status query.
///   3. `accounts` accounts, each funded by a transfer from the genesis account; the run waits
///      until every replica has committed the funding.
///   4. Load phases, open loop: arrivals at a target rate (Poisson, seeded), each a pre-signed
///      transfer of 1 token to the next account, sent as a Submit to every replica; replies are
///      collected as they come, nothing waits per transaction. A phase runs a warm-up, then its
///      measurement window, then stops sending and waits for what is in flight. Transactions
///      are signed before each phase (each account's nonces in order), never during one.
///      Without a rate: a ramp (rates doubling from `rampStart`, then bisecting between the last
///      sustained and the first failed) finds the highest rate the pool sustains (every
///      transaction sent in the window committed, >= 90 % of the sending rate committed in the
///      window, p99 <= `maxP99Ms`, the client on schedule); then a full window at that rate (the
///      throughput) and one at half of it (the latency "at half load").
///      With a fault (pool_faults.h), one phase at the rate given (or kFaultRate) instead,
///      its window as long as the fault's plan runs, and what each kill did.
///   5. The pool is stopped (PoolLauncher::stop) however the run ends.
/// Latency is measured from the moment the Submit is handed to the transport; how late the
/// client sent against its schedule is reported beside it (lag). CPU time is read from
/// /proc/PID/stat of every replica (and getrusage of this process for the client) at the start
/// and end of each measurement window.
#pragma once

#include "bench/pool_faults.h"
#include "core/crypto.h"
#include "pool/wire/genesis.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace flo::bench {

/// A pool started for the benchmark.
struct PoolUnderTest {
  pool::Genesis genesis;
  core::SigningKey funder; ///< a genesis account holding enough to fund every account
  std::vector<pid_t> pids; ///< the replica processes, by index
  std::string where;       ///< where its files are (for messages)
};

/// Starts and stops the pool the benchmark runs against. bench/ does not start replica
/// processes itself: the fog command supplies a launcher built on its LocalFog (fog/ links
/// bench/, so bench/ cannot link fog/), and a test can supply another.
class PoolLauncher {
public:
  virtual ~PoolLauncher() = default;
  /// A pool of `replicas` replicas whose processes run; nullopt with why. With `misbehave`
  /// (pool/net/misbehaviour.h), every replica's config says it, dormant until misbehave().
  virtual std::optional<PoolUnderTest> start(std::size_t replicas, const std::string& misbehave,
                                             std::string& error) = 0;
  /// Stops whatever start() started and removes its files. Safe to call twice, and after a
  /// start() that failed half way.
  virtual void stop() = 0;
  /// Kills replica `i` of the pool started with SIGKILL and waits until it is gone (--fault).
  /// False with why.
  virtual bool kill(std::size_t i, std::string& error) = 0;
  /// Starts replica `i` again from its files, as `fog up --detach` does (--fault). False with why.
  virtual bool restart(std::size_t i, std::string& error) = 0;
  /// Turns replica `i` byzantine: SIGUSR1, which starts the misbehaviour its config names
  /// (--fault slow-leader|forger). False with why.
  virtual bool misbehave(std::size_t i, std::string& error) = 0;
};

struct PoolBenchOptions {
  std::size_t replicas = 4;
  double seconds = 10; ///< each measurement window
  double warmup = 3;   ///< before each measurement window
  double rate = 0;     ///< offered tx/s; 0: find the highest sustained rate, then half of it
  std::size_t accounts = 256;
  double rampStart = 500; ///< the ramp's first rate, tx/s
  double rampWarmup = 1;  ///< each ramp step: warm-up, then a window of rampSeconds
  double rampSeconds = 2;
  std::size_t rampSteps = 10; ///< at most this many ramp steps
  double maxP99Ms = 100;      ///< a ramp step whose p99 is above this is not sustained
  bool poisson = true;        ///< Poisson arrivals (false: fixed intervals)
  std::uint64_t seed = 1;     ///< the arrivals and the accounts' keys
  double verifySeconds = 1;
  /// A fault during one phase at `rate` (kFaultRate without one) instead of the ramp
  /// (pool_faults.h): leader-crash kills the leader (and the next `leaders`-1) `repeat` times,
  /// restart one replica for `downSeconds`, restart-all every replica at once; slow-leader and
  /// forger turn one replica byzantine for `seconds` (pool_faults.h).
  FaultKind fault = FaultKind::None;
  std::size_t repeat = 5;
  std::size_t leaders = 1; ///< leader-crash: consecutive leaders killed at once (at most f)
  double downSeconds = 10;
  double holdMs = 450;     ///< slow-leader: how late each of its proposals leaves
  double forgeRate = 5000; ///< forger: forged votes a second to each other replica
  static constexpr double kFaultRate = 1000;
  /// Polled while the benchmark runs: true stops it (the pool is still stopped).
  std::function<bool()> interrupted;
};

/// Why `options` cannot run; empty when they can.
std::string validate(const PoolBenchOptions& options);

/// One load phase at one offered rate.
struct LoadFigures {
  bool ran = false;
  double offered = 0;         ///< tx/s asked for
  double window = 0;          ///< seconds measured (shorter than asked when the phase was cut)
  bool cut = false;           ///< stopped early: the backlog grew past what the rate allows
  std::size_t sent = 0;       ///< transactions sent (scheduled) in the window
  std::size_t committed = 0;  ///< of them, committed (f+1 matching replies)
  std::size_t refused = 0;    ///< of them, refused by f+1 replicas
  std::size_t lost = 0;       ///< of them, with no outcome when the phase's drain ended
  std::size_t notApplied = 0; ///< committed but refused by execution
  double sentPerS = 0;        ///< sent / window
  double txPerS = 0;          ///< commits that happened in the window / window
  double p50Ms = 0, p90Ms = 0, p99Ms = 0, maxMs = 0, meanMs = 0; ///< of the window's commits
  double lagP99Ms = 0;                   ///< how late the client sent, against its schedule
  double replicaCpuSeconds = 0;          ///< all replicas, during the window
  bool replicaCpuKnown = true;           ///< false once a fault killed a replica in the window
  double clientCpuSeconds = 0;           ///< this process, during the window
  std::vector<double> replicaCpuPercent; ///< each replica's CPU share of the window
  /// All replicas, during the window: time runnable but waiting for a CPU (schedstat): how much
  /// the replicas (and whatever else runs) outnumber the cores.
  double replicaWaitSeconds = 0;
  /// The average replica's wait for a CPU, in % of the window.
  double waitPercent() const {
    return window > 0 && !replicaCpuPercent.empty()
               ? 100 * replicaWaitSeconds / window / double(replicaCpuPercent.size())
               : 0;
  }
  /// The client's transport during the window: datagrams, segments sent again, and why (RTOs,
  /// packets deemed lost from ACK ranges or the loss timer, tail loss probes).
  std::uint64_t clientPacketsOut = 0, clientPacketsIn = 0, clientRetransmissions = 0;
  std::uint64_t clientRtos = 0, clientSpuriousRtos = 0, clientPacketsLost = 0, clientTailProbes = 0;
  std::uint64_t blocks = 0;       ///< committed during the whole phase (warm-up and drain)
  std::size_t phaseCommitted = 0; ///< transactions committed during the whole phase
  bool sustained = false;         ///< the ramp's criteria held
  /// Views the pool moved through during the whole phase (each a round timeout: a spurious
  /// view change when no replica failed); -1 when a replica did not say.
  std::int64_t viewChanges = -1;
  /// The slow-leader watch over the phase: the share of the replicas' time with work spent
  /// waiting for the leader's proposal, and rounds timed out for it (-1 when unknown).
  double leaderWaitPercent = -1;
  std::int64_t slowLeaderTimeouts = -1;
  double cpuMsPerTx() const; ///< replica CPU ms per committed transaction
  double clientCpuMsPerTx() const;
  double txPerBlock() const { return blocks > 0 ? double(phaseCommitted) / double(blocks) : 0; }
};

struct PoolBenchResult {
  bool ok = false;
  std::string error;
  std::size_t replicas = 0, faults = 0, cores = 0, accounts = 0, txBytes = 0;
  double verifyPerS = 0;  ///< Ed25519 verifications per second on one core
  double boundTxPerS = 0; ///< verifyPerS x cores / replicas
  /// Ed25519 verifications per second with every core verifying at once. Below verifyPerS x
  /// cores where the cores share something (on this project's VMs about 0.8 of it).
  double verifyAllCoresPerS = 0;
  double allCoresTxPerS() const { return replicas > 0 ? verifyAllCoresPerS / double(replicas) : 0; }
  bool searched = false; ///< the rate was found by the ramp (no --rate)
  double maxRate = 0, halfLoadRate = 0;
  std::vector<LoadFigures> ramp;
  LoadFigures atMax;                 ///< searched: at maxRate; else the one phase at the given rate
  LoadFigures atHalf;                ///< searched: at halfLoadRate
  double seconds = 0;                ///< the measurement window asked for
  std::string loadBefore, loadAfter; ///< /proc/loadavg's first three fields
  std::uint64_t mismatchedReplies = 0; ///< Committed replies that disagreed (never, honestly)
  std::string lastRefusal;             ///< a replica's reason, if any transaction was refused
  FaultFigures fault;                  ///< with a fault: what each kill did
  /// The headline figures: tx/s (at the max), p50/p99 (at half load; the one phase with a rate).
  const LoadFigures& throughput() const { return atMax; }
  const LoadFigures& latency() const { return searched ? atHalf : atMax; }
};

/// Runs the benchmark against a pool from `launcher`, printing each phase on `out` as it ends.
/// `ok` false with `error` when the pool could not be started or funded, or the run was
/// interrupted; the pool is stopped either way. Never throws.
PoolBenchResult runPoolBench(const PoolBenchOptions& options, PoolLauncher& launcher,
                             std::ostream& out);

/// The figures as one JSON object:
///   ok replicas faults cores accounts tx_bytes seconds verify_per_s bound_tx_per_s
///   verify_all_cores_per_s all_cores_tx_per_s
///   tx_per_s p50_ms p99_ms max_ms cpu_ms_per_tx (null when a fault killed a replica)
///   client_cpu_ms_per_tx ratio_to_bound
///   max_rate half_load_rate (null with a given rate) offered_rate p50_at_max_ms p99_at_max_ms
///   replica_cpu_percent load_before load_after ramp [{offered sent_per_s tx_per_s p50_ms
///   p99_ms sustained}]
///   with --fault: fault {kind events [{replica killed_at_s down_s, recovery_ms (leader-crash)
///   or behind_blocks answer_ms tip_ms (restart)}] recovery_p50_ms recovery_p99_ms
///   recovery_max_ms (leader-crash) error (when the plan stopped early)} ("faults" is f)
/// tx_per_s, cpu_ms_per_tx and the *_at_max figures are from the phase at max_rate; p50_ms,
/// p99_ms and max_ms from the phase at half_load_rate (with a given rate, all from its phase).
nlohmann::ordered_json toJson(const PoolBenchResult& result);

/// The q-quantile (0 < q <= 1) of sorted samples, nearest rank; 0 for none.
double quantile(const std::vector<double>& sorted, double q);

} // namespace flo::bench
