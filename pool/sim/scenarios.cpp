/// \file
/// The fault-matrix scenarios (see scenarios.h). Each is a Plan: options, a load, the faults
/// scheduled on the virtual clock, which nodes are byzantine, and how long liveness may take.
#include "pool/sim/scenarios.h"

#include "core/check.h"
#include "sim/random.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace flo::pool {

namespace {

using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

struct Plan {
  ClusterOptions options;
  std::size_t txs = 120;
  Ms loadSpan{1500};
  Ms faultsEnd{0};                 ///< virtual time (from the start) when the faults stop
  Ms budget{30000};                ///< for liveness, after the faults stop
  std::set<std::size_t> byzantine; ///< nodes the checkers do not hold to anything
  std::function<void(Cluster&)> faults;
  /// Extra verdicts, checked at the end (e.g. "nothing committed during the partition").
  std::function<void(Cluster&, ScenarioResult&)> after;
  bool liveness = true;
};

ClusterOptions baseOptions(std::uint64_t seed, std::size_t replicas) {
  ClusterOptions o;
  o.seed = seed;
  o.replicas = replicas;
  o.params.roundTimeoutMs = 300;
  o.params.maxRoundTimeoutMs = 4800;
  o.params.checkpointInterval = 16;
  return o;
}

sim::LinkConfig lan() {
  sim::LinkConfig l;
  l.delay = 200us;
  l.jitter = 300us;
  return l;
}

ScenarioResult execute(const std::string& name, std::uint64_t seed, Plan plan) {
  ScenarioResult r;
  r.scenario = name;
  r.seed = seed;
  r.replicas = plan.options.replicas;
  Cluster c(plan.options);
  auto start = c.net().now();
  // The load: transfers spread over the load span, each to every replica.
  for (std::size_t i = 0; i < plan.txs; ++i) {
    auto at =
        start + plan.loadSpan * std::int64_t(i) / std::int64_t(std::max<std::size_t>(plan.txs, 1));
    c.net().at(at, "", [&c, i] { c.submitTransfer(i % c.genesis().accounts.size(), 1 + i % 7); });
  }
  if (plan.faults) plan.faults(c);
  // A client sends again what it has not heard back about, every second.
  std::function<void()> retry = [&] {
    c.resubmitUnacknowledged();
    c.net().at(c.net().now() + 1000ms, "", retry);
  };
  c.net().at(start + 1000ms, "", retry);
  auto deadline = std::max(plan.loadSpan, plan.faultsEnd) + plan.budget;
  bool live = c.runUntil(
      [&] {
        return c.net().now() - start >= std::max(plan.loadSpan, plan.faultsEnd) &&
               c.acknowledged() == plan.txs;
      },
      deadline);
  // Let the last commits reach every replica, then judge.
  c.runFor(1000ms);
  std::set<std::size_t> correct;
  for (std::size_t n = 0; n < c.replicaCount(); ++n)
    if (!plan.byzantine.count(n)) correct.insert(n);
  r.verdicts = checkSafety(c, correct, plan.txs);
  if (plan.liveness) {
    Verdict l{"L1 liveness", live, {}};
    l.detail = std::to_string(c.acknowledged()) + " of " + std::to_string(plan.txs) +
               " transactions acknowledged" +
               (live ? "" : " within " + std::to_string(deadline.count()) + " ms");
    r.verdicts.push_back(l);
  }
  if (plan.after) plan.after(c, r);
  if (!r.holds()) r.notes += (r.notes.empty() ? "" : "\n") + c.describe();
  r.committedHeight = c.commonHeight(std::vector<std::size_t>(correct.begin(), correct.end()));
  r.submitted = plan.txs;
  r.acknowledged = c.acknowledged();
  r.virtualSeconds = std::chrono::duration<double>(c.net().now() - start).count();
  r.traceDigest = c.net().digest();
  return r;
}

// ---- byzantine strategies ---------------------------------------------------------------------

/// Re-signs a proposal after a change (as its byzantine proposer can).
Proposal resign(const Cluster& c, Proposal p) {
  p.signature =
      c.replicaKey(p.header.proposer).sign(proposalMessage(c.genesis().chainId(), p.header.id()));
  return p;
}

/// Sends one proposal to some replicas and a conflicting one (same round, another block) to the
/// others.
Cluster::Strategy equivocate(Cluster& c, ReplicaIndex self) {
  return [&c, self](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    const auto* p = std::get_if<ProposalMsg>(&m.message);
    if (!p || m.to) return {m};
    Proposal other = p->proposal;
    other.header.timeMs += 1; // another block id
    other = resign(c, std::move(other));
    std::vector<Cluster::Routed> out;
    for (ReplicaIndex r = 0; r < c.replicaCount(); ++r) {
      if (r == self) continue;
      out.push_back({r, r % 2 ? m.message : Message(ProposalMsg{other})});
    }
    return out;
  };
}

/// Every vote it sends, it also sends for a block that does not exist (a second vote in one
/// round).
Cluster::Strategy doubleVote(Cluster& c, ReplicaIndex self) {
  return [&c, self](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    const auto* v = std::get_if<VoteMsg>(&m.message);
    if (!v) return {m};
    Vote other = v->vote;
    other.block[0] ^= 0xff;
    other.by.signature = c.replicaKey(self).sign(
        voteMessage(c.genesis().chainId(), other.block, other.round, other.height));
    return {{m.to, VoteMsg{other}}, m};
  };
}

Cluster::Strategy dropProposals(std::optional<ReplicaIndex> onlyTo) {
  return [onlyTo](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    if (!std::holds_alternative<ProposalMsg>(m.message)) return {m};
    if (!onlyTo) return {};
    return {{onlyTo, m.message}};
  };
}

/// A slow-but-live leader: every proposal it sends leaves `hold` late (just under the round
/// timeout, so no round of its times out).
Cluster::Strategy holdProposals(Cluster& c, std::size_t node, Ms hold) {
  return [&c, node, hold](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    if (!std::holds_alternative<ProposalMsg>(m.message)) return {m};
    Bytes bytes = encodeMessage(m.message);
    for (std::size_t to = 0; to < c.nodeCount(); ++to)
      if (to != node && (m.to ? c.indexOf(to) == *m.to : c.indexOf(to) != c.indexOf(node)))
        c.net().inject(c.net().address(node), c.net().address(to), bytes, hold);
    return {};
  };
}

/// ByzzFuzz (OOPSLA'23): small-scope mutations of what a byzantine replica sends: a round or view
/// one off, an older proposal's block replayed; signed again with its key.
Cluster::Strategy mutate(Cluster& c, ReplicaIndex self, std::uint64_t seed) {
  auto rng = std::make_shared<sim::Rng>(seed ^ 0xb122f022);
  auto last = std::make_shared<std::optional<Proposal>>();
  return [&c, self, rng, last](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    if (rng->below(3) != 0) return {m}; // two thirds go out untouched
    const Digest& chain = c.genesis().chainId();
    const core::SigningKey& key = c.replicaKey(self);
    Message out = m.message;
    if (auto* p = std::get_if<ProposalMsg>(&out)) {
      Proposal q = p->proposal;
      if (*last && rng->below(2) == 0) {
        q = **last; // replay the previous proposal
      } else {
        q.header.round += rng->below(2) ? 1 : -1;
        q.header.view += rng->below(2) ? 1 : 0;
      }
      *last = p->proposal;
      p->proposal = resign(c, std::move(q));
    } else if (auto* v = std::get_if<VoteMsg>(&out)) {
      // Another round, or the right block and round at another height: a statement of its
      // own, which no certificate of the others' votes may take in.
      if (rng->below(2) != 0)
        v->vote.round += rng->below(2) ? 1 : -1;
      else
        v->vote.height += rng->below(2) ? 1 : -1;
      v->vote.by.signature =
          key.sign(voteMessage(chain, v->vote.block, v->vote.round, v->vote.height));
    } else if (auto* t = std::get_if<TimeoutMsg>(&out)) {
      t->timeout.round += 1;
      t->timeout.view += rng->below(3);
      t->timeout.by.signature = key.sign(
          timeoutMessage(chain, t->timeout.round, t->timeout.highQc.round, t->timeout.view));
    }
    return {{m.to, std::move(out)}};
  };
}

/// Every state transfer it sends is a lie (forgedSnapshot, in turn).
Cluster::Strategy lieInSnapshots(const Cluster& c, std::shared_ptr<std::uint64_t> lies) {
  return [&c, lies](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    const auto* r = std::get_if<SnapshotResponse>(&m.message);
    if (!r) return {m};
    return {{m.to, forgedSnapshot(*r, c.genesis(), (*lies)++)}};
  };
}

// ---- the scenarios ----------------------------------------------------------------------------

Plan faultFree(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  p.txs = 300;
  return p;
}

Plan lossy(std::uint64_t seed, std::size_t n, double drop) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link.drop = drop;
  p.options.link.delay = 1ms;
  p.options.link.jitter = 50ms;
  p.budget = 120000ms;
  return p;
}

Plan duplicateReorder(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link.duplicate = 0.1;
  p.options.link.reorder = 0.1;
  return p;
}

struct CrashWatch {
  std::uint64_t height = 0;
  core::Time crashedAt{};
  std::optional<core::Time> resumedAt;
};

/// Polls every 5 ms of virtual time until the survivors commit past the crash height.
void watchResume(Cluster& c, std::shared_ptr<CrashWatch> w, std::vector<std::size_t> survivors) {
  c.net().at(c.net().now() + 5ms, "", [&c, w, survivors] {
    if (c.commonHeight(survivors) > w->height)
      w->resumedAt = c.net().now();
    else if (c.net().now() - w->crashedAt < 60s)
      watchResume(c, w, survivors);
  });
}

Plan leaderCrash(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  p.txs = 200;
  p.loadSpan = 3000ms;
  p.byzantine = {0}; // crashed: not held to anything after
  auto w = std::make_shared<CrashWatch>();
  std::vector<std::size_t> survivors;
  for (std::size_t i = 1; i < n; ++i) survivors.push_back(i);
  p.faults = [w, survivors](Cluster& c) {
    c.net().at(c.net().now() + 1000ms, "crash the leader", [&c, w, survivors] {
      w->height = c.commonHeight(survivors);
      w->crashedAt = c.net().now();
      c.crash(0);
      watchResume(c, w, survivors);
    });
  };
  p.after = [w](Cluster&, ScenarioResult& r) {
    if (!w->resumedAt) {
      r.verdicts.push_back({"commits resume after the crash", false, "no commit after the crash"});
      return;
    }
    auto ms = std::chrono::duration_cast<Ms>(*w->resumedAt - w->crashedAt).count();
    r.notes = "first commit " + std::to_string(ms) + " ms (virtual) after the leader crashed";
    r.verdicts.push_back({"commits resume after the crash", true, r.notes});
  };
  return p;
}

/// How a restarted replica caught up: its height beside the others', by how many state
/// transfers and synced blocks.
std::string caughtUp(Cluster& c, std::size_t victim, std::uint64_t mine, std::uint64_t others) {
  const ReplicaMetrics& m = c.replica(victim).metrics();
  return "restarted replica at height " + std::to_string(mine) + ", others at " +
         std::to_string(others) + " (" + std::to_string(m.snapshotsInstalled) +
         " state transfers, " + std::to_string(m.syncedBlocks) + " blocks synced)";
}

/// How a restarted replica must catch up: by a state transfer (down long enough for two
/// checkpoints), by blocks only (checkpoints too far apart for one), or either.
enum class CatchUp { Transfer, Blocks, Either };

Plan crashRestart(std::uint64_t seed, std::size_t n, CatchUp how = CatchUp::Either) {
  Plan p;
  p.options = baseOptions(seed, n);
  // Checkpoints every 16 blocks take a replica down 2.5 s far enough behind for a transfer;
  // every 4096, never.
  if (how == CatchUp::Blocks) p.options.params.checkpointInterval = 4096;
  p.txs = 200;
  p.loadSpan = 4000ms;
  std::size_t victim = n - 1;
  p.faults = [victim](Cluster& c) {
    c.net().at(c.net().now() + 500ms, "crash a replica", [&c, victim] { c.crash(victim); });
    c.net().at(c.net().now() + 3000ms, "restart it", [&c, victim] { c.restart(victim); });
  };
  p.faultsEnd = 3000ms;
  p.after = [victim, how](Cluster& c, ScenarioResult& r) {
    std::uint64_t mine = c.store(victim).chain().size(), others = c.commonHeight({0, 1});
    const ReplicaMetrics& m = c.replica(victim).metrics();
    bool way = how == CatchUp::Either ||
               (how == CatchUp::Transfer ? m.snapshotsInstalled > 0
                                         : m.snapshotsInstalled == 0 && m.syncedBlocks > 0);
    r.verdicts.push_back({how == CatchUp::Transfer ? "caught up by state transfer"
                          : how == CatchUp::Blocks ? "caught up by blocks"
                                                   : "caught up",
                          mine >= others && way, caughtUp(c, victim, mine, others)});
  };
  return p;
}

/// A replica restarts behind, and for its first second hears only from a byzantine replica
/// whose every state transfer is a lie (forgedSnapshot): it refuses each, and catches up from
/// the others once it hears them.
Plan lyingSnapshot(std::uint64_t seed, std::size_t n) {
  Plan p = crashRestart(seed, n);
  const std::size_t victim = n - 1, liar = 0;
  p.byzantine = {liar};
  auto lies = std::make_shared<std::uint64_t>(seed); // the first lie: one of three, by the seed
  p.faults = [victim, n, lies](Cluster& c) {
    c.setStrategy(liar, lieInSnapshots(c, lies));
    c.net().at(c.net().now() + 500ms, "crash a replica", [&c, victim] { c.crash(victim); });
    c.net().at(c.net().now() + 3000ms, "restart it, hearing only the liar", [&c, victim, n] {
      for (std::size_t i = 0; i < n; ++i)
        if (i != victim && i != liar) c.net().block(i, victim);
      c.restart(victim);
    });
    c.net().at(c.net().now() + 4000ms, "let it hear the others", [&c, victim, n] {
      for (std::size_t i = 0; i < n; ++i)
        if (i != victim && i != liar) c.net().unblock(i, victim);
    });
  };
  p.faultsEnd = 4000ms;
  auto caught = p.after;
  p.after = [victim, lies, caught, seed](Cluster& c, ScenarioResult& r) {
    caught(c, r);
    std::uint64_t invalid = c.replica(victim).metrics().invalidMessages;
    const std::uint64_t sent = *lies - seed;
    r.verdicts.push_back({"lies refused", sent > 0 && invalid >= sent,
                          std::to_string(sent) + " forged state transfers sent, " +
                              std::to_string(invalid) +
                              " invalid messages refused by the restarted replica"});
  };
  return p;
}

/// A replica comes back behind just as the leader crashes: the blocks certified but not yet
/// committed are known to the others only, and the certificates name the crashed leader
/// first. It must fetch them from someone alive, or the survivors never make a quorum.
Plan restartThenLeaderCrash(std::uint64_t seed, std::size_t n) {
  Plan p = crashRestart(seed, n, CatchUp::Either);
  std::size_t victim = n - 1;
  p.byzantine = {0}; // crashed: not held to anything after
  p.faults = [victim](Cluster& c) {
    c.net().at(c.net().now() + 500ms, "crash a replica", [&c, victim] { c.crash(victim); });
    c.net().at(c.net().now() + 3000ms, "restart it, crash the leader", [&c, victim] {
      c.restart(victim);
      c.crash(0);
    });
  };
  p.after = [victim](Cluster& c, ScenarioResult& r) {
    std::uint64_t mine = c.store(victim).chain().size(), others = c.commonHeight({1, 2});
    r.verdicts.push_back({"caught up", mine >= others, caughtUp(c, victim, mine, others)});
  };
  return p;
}

Plan restartAll(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.txs = 150;
  p.loadSpan = 3000ms;
  p.faults = [n](Cluster& c) {
    c.net().at(c.net().now() + 1200ms, "crash every replica", [&c, n] {
      for (std::size_t i = 0; i < n; ++i) c.crash(i);
    });
    for (std::size_t i = 0; i < n; ++i) {
      // staggered, in an order of the seed
      auto delay = Ms(1300 + std::int64_t((i * 7919 + c.net().seed()) % n) * 150);
      c.net().at(c.net().now() + delay, "restart", [&c, i] { c.restart(i); });
    }
  };
  p.faultsEnd = Ms(1300 + std::int64_t(n) * 150);
  return p;
}

Plan lostDisk(std::uint64_t seed, std::size_t n) {
  // Snapshots come in parts (160 bytes each: this ledger is under a KB), which the simulated
  // network may reorder. It must assemble one; blocks that a peer sent meanwhile may take it
  // past the snapshot's blocks first (then the snapshot is stale, and it caught up by blocks).
  // Restarted at 3.5 s, not 3 s: the others' stable checkpoint is then more than one sync batch
  // (256 blocks) above its empty chain, so a batch of blocks cannot overtake the snapshot (at 3 s
  // it was 256, and on seed 10058 at n = 7 one batch did, before any part came).
  Plan p = crashRestart(seed, n, CatchUp::Either);
  p.options.snapshotPartBytes = 160;
  std::size_t victim = n - 1;
  p.after = [after = p.after, victim](Cluster& c, ScenarioResult& r) {
    after(c, r);
    const ReplicaMetrics& m = c.replica(victim).metrics();
    r.verdicts.push_back({"a snapshot came in parts", m.snapshotsAssembled > 0,
                          std::to_string(m.snapshotParts) + " parts taken in, " +
                              std::to_string(m.snapshotsAssembled) + " snapshots assembled"});
  };
  p.faults = [victim](Cluster& c) {
    c.net().at(c.net().now() + 500ms, "crash a replica", [&c, victim] { c.crash(victim); });
    c.net().at(c.net().now() + 3500ms, "restart it with an empty disk",
               [&c, victim] { c.restart(victim, true); });
  };
  p.faultsEnd = 3500ms;
  // Its signing log is gone with its disk: it is not held to S6 (it refuses to vote until it
  // caught up, but proving that is the store's test).
  p.byzantine = {};
  return p;
}

Plan isolateLeader(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.txs = 150;
  p.loadSpan = 3000ms;
  p.faults = [n](Cluster& c) {
    c.net().at(c.net().now() + 800ms, "isolate the leader", [&c, n] {
      std::vector<std::size_t> rest;
      for (std::size_t i = 1; i < n; ++i) rest.push_back(i);
      c.split({{0}, rest});
    });
    c.net().at(c.net().now() + 3800ms, "heal", [&c] { c.heal(); });
  };
  p.faultsEnd = 3800ms;
  return p;
}

Plan evenSplit(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.txs = 100;
  p.loadSpan = 2500ms;
  auto atSplit = std::make_shared<std::uint64_t>(0), atHeal = std::make_shared<std::uint64_t>(0);
  p.faults = [n, atSplit, atHeal](Cluster& c) {
    c.net().at(c.net().now() + 600ms, "split in halves", [&c, n, atSplit] {
      std::vector<std::size_t> a, b;
      for (std::size_t i = 0; i < n; ++i) (i < n / 2 ? a : b).push_back(i);
      c.split({a, b});
      *atSplit = c.commonHeight();
    });
    c.net().at(c.net().now() + 3600ms, "heal", [&c, atHeal] {
      *atHeal = 0;
      for (std::size_t i = 0; i < c.replicaCount(); ++i)
        *atHeal = std::max<std::uint64_t>(*atHeal, c.store(i).chain().size());
      c.heal();
    });
  };
  p.faultsEnd = 3600ms;
  p.after = [atSplit, atHeal](Cluster&, ScenarioResult& r) {
    // Neither half holds a quorum: at most the blocks in flight at the split commit.
    bool ok = *atHeal <= *atSplit + 2;
    r.verdicts.push_back({"minority makes no progress", ok,
                          "height " + std::to_string(*atSplit) + " at the split, " +
                              std::to_string(*atHeal) + " at the heal"});
  };
  return p;
}

Plan byzantineLeader(std::uint64_t seed, std::size_t n, const std::string& kind) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  p.byzantine = {0};
  p.faults = [kind](Cluster& c) {
    if (kind == "equivocate") c.setStrategy(0, equivocate(c, 0));
    if (kind == "silent") c.setStrategy(0, dropProposals(std::nullopt));
    if (kind == "selective") c.setStrategy(0, dropProposals(ReplicaIndex(1)));
  };
  p.after = [kind](Cluster& c, ScenarioResult& r) {
    if (kind != "equivocate") return;
    std::uint64_t tcs = 0;
    for (std::size_t i = 1; i < c.replicaCount(); ++i) tcs += c.replica(i).metrics().tcsFormed;
    r.notes = std::to_string(tcs) + " timeout certificates formed by the correct replicas";
  };
  return p;
}

struct LeaderWatchResult {
  core::Time start{};
  std::optional<core::Time> replacedAt;
  std::uint64_t height = 0;
};

/// Polls every 20 ms of virtual time (for a minute at most) until no correct replica (all but 0)
/// is in a view that replica 0 leads.
void watchReplaced(Cluster& c, std::shared_ptr<LeaderWatchResult> w) {
  bool moved = true;
  for (std::size_t i = 1; i < c.replicaCount(); ++i)
    moved = moved && c.replica(i).leaderOf(c.replica(i).view()) != 0;
  if (moved) {
    w->replacedAt = c.net().now();
    w->height = c.commonHeight();
  } else if (c.net().now() - w->start < 60s) {
    c.net().at(c.net().now() + 20ms, "", [&c, w] { watchReplaced(c, w); });
  }
}

/// The first leader holds each proposal just under the round timeout (POOL-TESTING §5.2: a
/// slow-but-live leader is replaced within 10 s, or the pool keeps half its throughput). No
/// round of its times out; the correct replicas must judge it slow (LeaderWatch) and move on.
Plan slowLeader(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  p.txs = 300;
  p.loadSpan = 6000ms;
  p.byzantine = {0};
  const Ms hold{p.options.params.roundTimeoutMs * 5 / 6};
  auto w = std::make_shared<LeaderWatchResult>();
  p.faults = [w, hold](Cluster& c) {
    c.setStrategy(0, holdProposals(c, 0, hold));
    w->start = c.net().now();
    c.net().at(w->start + 20ms, "", [&c, w] { watchReplaced(c, w); });
  };
  p.after = [w, hold](Cluster& c, ScenarioResult& r) {
    std::uint64_t early = 0;
    for (std::size_t i = 1; i < c.replicaCount(); ++i)
      early += c.replica(i).metrics().slowLeaderTimeouts;
    std::string timedOut = std::to_string(early) + " rounds timed out at their start";
    if (!w->replacedAt) {
      r.verdicts.push_back({"slow leader replaced within 10 s", false,
                            "replica 0 still leads after 60 s (virtual); " + timedOut});
      return;
    }
    auto ms = std::chrono::duration_cast<Ms>(*w->replacedAt - w->start).count();
    r.notes = "replica 0 held each proposal " + std::to_string(hold.count()) + " ms; replaced " +
              std::to_string(ms) + " ms (virtual) after the start, at height " +
              std::to_string(w->height) + "; " + timedOut;
    r.verdicts.push_back({"slow leader replaced within 10 s", ms <= 10000, r.notes});
  };
  return p;
}

Plan doubleVoter(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  std::size_t bad = n - 1;
  p.byzantine = {bad};
  p.faults = [bad](Cluster& c) { c.setStrategy(bad, doubleVote(c, ReplicaIndex(bad))); };
  p.after = [](Cluster& c, ScenarioResult& r) {
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i + 1 < c.replicaCount(); ++i)
      seen += c.replica(i).metrics().equivocations;
    r.verdicts.push_back({"double votes detected", seen > 0,
                          std::to_string(seen) + " second votes refused and counted"});
  };
  return p;
}

Plan forged(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  // One replica forges (the transport authenticates every sender, so a forgery can only come
  // from a replica's own address: one that sends it is faulty). Otherwise it runs correct code.
  const std::size_t forger = n - 1;
  p.faults = [forger](Cluster& c) {
    auto rng = std::make_shared<sim::Rng>(c.net().seed() * 31 + 7);
    for (int k = 0; k < 60; ++k) {
      c.net().at(c.net().now() + Ms(20 * k), "", [&c, rng, k, forger] {
        std::size_t to = rng->below(c.replicaCount() - 1);
        std::size_t from = forger;
        // Garbage, a truncated message, and well-formed messages with bad signatures.
        Bytes junk(rng->below(400));
        for (auto& b : junk) b = std::uint8_t(rng->next());
        c.net().inject(c.net().address(from), c.net().address(to), junk);
        Vote v;
        v.block[0] = std::uint8_t(k);
        // For a round the receiver is in or about to enter: a forgery it must check.
        v.round = c.replica(to).round() + rng->below(3);
        v.height = 1;
        v.by.replica = ReplicaIndex(from);
        v.by.signature[5] = 1;
        c.net().inject(c.net().address(from), c.net().address(to), encodeMessage(VoteMsg{v}));
        Timeout t;
        t.round = 1 + rng->below(20);
        t.by.replica = ReplicaIndex(from);
        c.net().inject(c.net().address(from), c.net().address(to), encodeMessage(TimeoutMsg{t}));
        Bytes tx = makeTx(c.replicaKey(0), c.genesis().chainId(), 0, Transfer{}).encode();
        tx[tx.size() - 3] ^= 1; // a broken client signature
        c.submitRaw(tx);
      });
    }
  };
  p.faultsEnd = 1200ms;
  p.after = [forger](Cluster& c, ScenarioResult& r) {
    std::uint64_t invalid = 0, muted = 0, convicted = 0, others = 0;
    for (std::size_t i = 0; i < c.replicaCount(); ++i) {
      const ReplicaMetrics& m = c.replica(i).metrics();
      invalid += m.invalidMessages;
      muted += m.mutedMessages;
      (i == forger ? others : convicted) += m.convictions;
    }
    r.verdicts.push_back({"forgeries refused", invalid > 0,
                          std::to_string(invalid) + " invalid messages counted and dropped"});
    // Each other replica that got a forgery convicted the forger (only it: one conviction
    // each), and dropped what it sent after unread.
    r.verdicts.push_back({"the forger convicted",
                          convicted > 0 && convicted < c.replicaCount() && others == 0 && muted > 0,
                          std::to_string(convicted) + " convictions of the forger, " +
                              std::to_string(muted) + " of its messages dropped unread"});
  };
  return p;
}

Plan replayed(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.link = lan();
  p.faults = [](Cluster& c) {
    auto recorded =
        std::make_shared<std::vector<std::tuple<core::Address, core::Address, Bytes>>>();
    c.net().setTap([recorded](const core::Address& from, const core::Address& to, Bytes& bytes) {
      if (recorded->size() < 4000) recorded->emplace_back(from, to, bytes);
      return true;
    });
    // Everything seen in the first second, sent again, twice, later.
    for (int round = 1; round <= 2; ++round)
      c.net().at(c.net().now() + Ms(1000 * round + 500), "replay", [&c, recorded] {
        for (const auto& [from, to, bytes] : *recorded) c.net().inject(from, to, bytes, 1ms);
      });
  };
  p.faultsEnd = 2600ms;
  return p;
}

Plan byzzfuzz(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  std::size_t faulty = (n - 1) / 3;
  for (std::size_t i = 0; i < faulty; ++i) p.byzantine.insert(n - 1 - i);
  p.faults = [n, faulty](Cluster& c) {
    for (std::size_t i = 0; i < faulty; ++i)
      c.setStrategy(n - 1 - i, mutate(c, ReplicaIndex(n - 1 - i), c.net().seed() + i));
    auto rng = std::make_shared<sim::Rng>(c.net().seed() ^ 0x5eed);
    for (int k = 0; k < 8; ++k) {
      c.net().at(c.net().now() + Ms(300 * k), "random partition", [&c, rng, n] {
        std::vector<std::vector<std::size_t>> groups(2);
        for (std::size_t i = 0; i < n; ++i) groups[rng->below(2)].push_back(i);
        c.split(groups);
      });
    }
    c.net().at(c.net().now() + 2400ms, "heal", [&c] { c.heal(); });
  };
  p.faultsEnd = 2400ms;
  return p;
}

Plan clockSkew(std::uint64_t seed, std::size_t n, std::int64_t skewMs) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.clockSkewMs[ReplicaIndex(n - 1)] = skewMs;
  p.options.clockSkewMs[0] = -skewMs / 12; // the first leader a little off too
  return p;
}

/// Twins: a second node with a replica's key, both running honest code.
Plan twinsIsolated(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  auto during = std::make_shared<std::uint64_t>(0);
  p.faults = [n, during](Cluster& c) {
    std::vector<std::size_t> rest;
    for (std::size_t i = 0; i < n; ++i)
      if (i != 2) rest.push_back(i);
    c.split({{2}, rest});
    c.net().at(c.net().now() + 2000ms, "heal", [&c, during] {
      *during = c.store(2).chain().size();
      c.heal();
    });
  };
  p.faultsEnd = 2000ms;
  p.after = [during](Cluster&, ScenarioResult& r) {
    r.verdicts.push_back({"isolated replica commits nothing alone", *during == 0,
                          "it committed " + std::to_string(*during) + " blocks while isolated"});
  };
  return p;
}

Plan twinsNoQuorum(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.twins = {0};
  std::size_t twin = n; // the first twin's node
  p.byzantine = {0, twin};
  auto during = std::make_shared<std::uint64_t>(0);
  p.faults = [twin, during](Cluster& c) {
    c.split({{1, 3}, {0, twin, 2}});
    c.net().at(c.net().now() + 2000ms, "heal", [&c, during] {
      for (std::size_t i = 0; i < c.nodeCount(); ++i)
        *during = std::max<std::uint64_t>(*during, c.store(i).chain().size());
      c.heal();
    });
  };
  p.faultsEnd = 2000ms;
  p.after = [during](Cluster&, ScenarioResult& r) {
    r.verdicts.push_back({"twin votes count once", *during == 0,
                          "highest commit during the split: " + std::to_string(*during)});
  };
  return p;
}

Plan twinsLeader(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  p.options.twins = {0};
  std::size_t twin = n;
  p.byzantine = {0, twin};
  p.faults = [twin, n](Cluster& c) {
    c.split({{0, 1, 2}, {twin, 3}});
    c.net().at(c.net().now() + 1200ms, "swap sides", [&c, twin, n] {
      (void)n;
      c.split({{0, 3}, {twin, 1, 2}});
    });
    c.net().at(c.net().now() + 2400ms, "heal", [&c] { c.heal(); });
  };
  p.faultsEnd = 2400ms;
  return p;
}

/// Twins of the first leader, per round-ish period: random partitions of 2-3 groups (F20).
Plan twinsRandom(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  sim::Rng pick(seed * 977 + 3);
  ReplicaIndex t = ReplicaIndex(pick.below(n));
  p.options.twins = {t};
  std::size_t twin = n;
  p.byzantine = {t, twin};
  p.faults = [n, twin](Cluster& c) {
    auto rng = std::make_shared<sim::Rng>(c.net().seed() ^ 0x7a1);
    for (int k = 0; k < 8; ++k) {
      c.net().at(c.net().now() + Ms(250 * k), "twins partition", [&c, rng, n, twin] {
        std::size_t groups = 2 + rng->below(2);
        std::vector<std::vector<std::size_t>> g(groups);
        for (std::size_t i = 0; i <= n; ++i) g[rng->below(groups)].push_back(i == n ? twin : i);
        c.split(g);
      });
    }
    c.net().at(c.net().now() + 2000ms, "heal", [&c] { c.heal(); });
  };
  p.faultsEnd = 2000ms;
  return p;
}

/// More than f twins: both sides of the partition hold n-f distinct keys, and commit different
/// blocks. The checkers must report it.
Plan twinsNegativeControl(std::uint64_t seed, std::size_t n) {
  Plan p;
  p.options = baseOptions(seed, n);
  std::size_t f = (n - 1) / 3;
  std::vector<ReplicaIndex> twins;
  for (std::size_t i = 0; i <= f; ++i) twins.push_back(ReplicaIndex(i));
  p.options.twins = twins;
  // Side A: the originals of the twins and enough honest ones; side B: the twins and the rest.
  std::vector<std::size_t> a, b;
  for (std::size_t i = 0; i <= f; ++i) {
    a.push_back(i);
    b.push_back(n + i);
    p.byzantine.insert(i);
  }
  std::size_t honest = n - (f + 1);
  for (std::size_t i = 0; i < honest; ++i)
    (i < honest / 2 + honest % 2 ? a : b).push_back(f + 1 + i);
  p.faults = [a, b](Cluster& c) { c.split({a, b}); };
  p.faultsEnd = 4000ms;
  p.liveness = false;
  return p;
}

std::vector<Scenario> makeScenarios() {
  std::vector<Scenario> s;
  auto add = [&](std::string name, std::string description, std::vector<std::size_t> replicas,
                 std::function<Plan(std::uint64_t, std::size_t)> plan, bool negative = false) {
    s.push_back({name, std::move(description), std::move(replicas), negative,
                 [name, plan](std::uint64_t seed, std::size_t n) {
                   return execute(name, seed, plan(seed, n));
                 }});
  };
  add("fault-free", "F0: no faults, a steady load", {4, 7}, faultFree);
  add("lossy-5", "F8: 5% of datagrams lost, 0-50 ms jitter", {4, 7},
      [](std::uint64_t s, std::size_t n) { return lossy(s, n, 0.05); });
  add("lossy-20", "F8: 20% of datagrams lost, 0-50 ms jitter", {4, 7},
      [](std::uint64_t s, std::size_t n) { return lossy(s, n, 0.20); });
  add("duplicate-reorder", "F8: 10% duplicated, 10% reordered", {4, 7}, duplicateReorder);
  add("leader-crash", "F1: the leader crashes under load", {4, 7}, leaderCrash);
  add("crash-restart", "F4: a replica crashes and restarts 2.5 s later, behind by a state transfer",
      {4, 7}, [](std::uint64_t s, std::size_t n) { return crashRestart(s, n, CatchUp::Transfer); });
  add("crash-restart-blocks",
      "F4: a replica crashes and restarts 2.5 s later, behind less than a checkpoint: by blocks",
      {4, 7}, [](std::uint64_t s, std::size_t n) { return crashRestart(s, n, CatchUp::Blocks); });
  add("lying-snapshot", "F4+F13: a restarted replica hears first from a lying snapshot server",
      {4, 7}, lyingSnapshot);
  add("restart-leader-crash", "F1+F4: a replica restarts behind as the leader crashes", {4, 7},
      restartThenLeaderCrash);
  add("restart-all", "F6: every replica crashes, restarts staggered", {4, 7}, restartAll);
  add("lost-disk", "F16: a replica restarts with an empty disk and catches up", {4, 7}, lostDisk);
  add("isolate-leader", "F7: the leader is cut off for 3 s", {4, 7}, isolateLeader);
  add("even-split", "F7: two halves, neither a quorum, for 3 s", {4, 7}, evenSplit);
  add("equivocating-leader", "F9: the leader sends conflicting proposals", {4, 7},
      [](std::uint64_t s, std::size_t n) { return byzantineLeader(s, n, "equivocate"); });
  add("double-voter", "F10: a replica votes twice in every round", {4, 7}, doubleVoter);
  add("silent-leader", "F11: the leader proposes nothing", {4, 7},
      [](std::uint64_t s, std::size_t n) { return byzantineLeader(s, n, "silent"); });
  add("slow-leader", "the leader holds each proposal just under the round timeout", {4, 7},
      slowLeader);
  add("selective-leader", "F11: the leader proposes to one replica only", {4, 7},
      [](std::uint64_t s, std::size_t n) { return byzantineLeader(s, n, "selective"); });
  add("forged-messages", "F13: garbage, bad signatures, broken client signatures", {4, 7}, forged);
  add("replayed-messages", "F14: a second's traffic sent again twice", {4, 7}, replayed);
  add("byzzfuzz", "F22: f replicas mutate what they send, random partitions", {4, 7}, byzzfuzz);
  add("clock-skew", "F15: one replica's clock 60 s ahead, the first leader 5 s behind", {4, 7},
      [](std::uint64_t s, std::size_t n) { return clockSkew(s, n, 60000); });
  add("twins-isolated", "Twins 1: one replica isolated commits nothing", {4}, twinsIsolated);
  add("twins-no-quorum", "Twins 2: a twin's votes count once: no quorum either side", {4},
      twinsNoQuorum);
  add("twins-leader", "Twins 3: the leader's twin leads the other side", {4, 7}, twinsLeader);
  add("twins-random", "F20: one twin, random partitions", {4, 7}, twinsRandom);
  add("twins-negative-control", "F21: more than f twins: the checkers must catch it", {4, 7},
      twinsNegativeControl, true);
  return s;
}

} // namespace

const std::vector<Scenario>& scenarios() {
  static const std::vector<Scenario> all = makeScenarios();
  return all;
}

const Scenario* findScenario(const std::string& name) {
  for (const auto& s : scenarios())
    if (s.name == name) return &s;
  return nullptr;
}

SnapshotResponse forgedSnapshot(const SnapshotResponse& genuine, const Genesis& genesis,
                                std::uint64_t variant) {
  SnapshotResponse r = genuine;
  if (variant % 3 == 2) {
    r.signatures.resize(std::min<std::size_t>(r.signatures.size(), 1));
    return r;
  }
  auto ledger = core::decodeRecord(genuine.snapshot, "ledger-state");
  FLO_CHECK(ledger);
  Value::Array& accounts = ledger->body.at("accounts").asArray();
  FLO_CHECK(accounts.size() >= 2);
  auto balance = [&](std::size_t i) -> Value& {
    return accounts.at(i).asArray().at(1).asMap().at("balance");
  };
  balance(0) = Value(balance(0).asUnsigned() - 1);
  balance(1) = Value(balance(1).asUnsigned() + 1);
  r.snapshot = core::encodeRecord(*ledger);
  r.size = r.snapshot.size(); // whole, as the genuine one came
  if (variant % 3 == 1) {
    auto other = Ledger::decode(genesis, r.snapshot);
    FLO_CHECK(other && other->stateRoot() != genuine.stateRoot);
    r.stateRoot = other->stateRoot();
  }
  return r;
}

std::string toJson(const ScenarioResult& r) {
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["seed"] = r.seed;
  j["replicas"] = r.replicas;
  j["holds"] = r.holds();
  j["committed_height"] = r.committedHeight;
  j["submitted"] = r.submitted;
  j["acknowledged"] = r.acknowledged;
  j["virtual_seconds"] = r.virtualSeconds;
  j["trace_digest"] = core::toHex(reinterpret_cast<const std::uint8_t*>(&r.traceDigest), 8);
  j["notes"] = r.notes;
  j["verdicts"] = nlohmann::json::array();
  for (const auto& v : r.verdicts)
    j["verdicts"].push_back({{"checker", v.checker}, {"ok", v.ok}, {"detail", v.detail}});
  return j.dump(2);
}

} // namespace flo::pool
