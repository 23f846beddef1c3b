/// \file
/// The pool's consensus core, n replicas in one process on the simulated network: the normal
/// case, and the checkers over it.
#include "pool/sim/checkers.h"
#include "pool/sim/cluster.h"

#include <gtest/gtest.h>

namespace flo::pool {
namespace {

using namespace std::chrono_literals;

std::set<std::size_t> allReplicas(const Cluster& c) {
  std::set<std::size_t> s;
  for (std::size_t i = 0; i < c.replicaCount(); ++i) s.insert(i);
  return s;
}

std::string describe(Cluster& c) {
  std::string out;
  for (std::size_t n = 0; n < c.nodeCount(); ++n) {
    if (!c.net().isUp(n)) {
      out += "node " + std::to_string(n) + " down\n";
      continue;
    }
    const Replica& r = c.replica(n);
    const ReplicaMetrics& m = r.metrics();
    out += "node " + std::to_string(n) + ": round " + std::to_string(r.round()) + " view " +
           std::to_string(r.view()) + " height " + std::to_string(r.committedHeight()) +
           " proposals " + std::to_string(m.proposals) + " votes " + std::to_string(m.votes) +
           " qcs " + std::to_string(m.qcsFormed) + " timeouts " + std::to_string(m.timeoutsSent) +
           " tcs " + std::to_string(m.tcsFormed) + " invalid " + std::to_string(m.invalidMessages) +
           " stale " + std::to_string(m.staleMessages) + " mempool " +
           std::to_string(r.mempool().size()) + "\n";
  }
  return out;
}

void expectSafe(Cluster& c, const std::set<std::size_t>& correct, std::size_t txs) {
  for (const Verdict& v : checkSafety(c, correct, txs))
    EXPECT_TRUE(v.ok) << v.checker << ": " << v.detail;
}

TEST(PoolCluster, FourReplicasCommitTransfers) {
  ClusterOptions o;
  o.seed = 1;
  Cluster c(o);
  for (int i = 0; i < 40; ++i) c.submitTransfer(i % 8, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << c.acknowledged() << " of 40 acknowledged\n"
                                               << describe(c);
  c.runFor(200ms);
  EXPECT_GT(c.commonHeight(), 0u);
  expectSafe(c, allReplicas(c), 40);
  for (std::size_t n = 0; n < 4; ++n) {
    EXPECT_EQ(c.replica(n).metrics().committedTxs, 40u) << "node " << n;
    EXPECT_EQ(c.replica(n).mempool().signaturesVerified(), 40u) << "node " << n;
  }
}

/// A replica that verified a certificate does not take another for the same block and round
/// with a forged signature: what it verified is the statement and its signatures, not the block.
TEST(PoolCluster, AForgedCertificateForAVerifiedBlockIsRefused) {
  ClusterOptions o;
  o.seed = 2;
  Cluster c(o);
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
  c.runFor(200ms);
  const auto& chain = c.store(1).chain();
  ASSERT_GE(chain.size(), 2u);
  const Proposal& held = chain.back().block.proposal; // its justification was verified
  Replica& r = c.replica(1);
  std::uint64_t invalid = r.metrics().invalidMessages;
  std::uint64_t stale = r.metrics().staleMessages;
  // The genuine copy is merely old.
  r.onReplicaMessage(held.header.proposer, ProposalMsg{held}, c.net().now());
  EXPECT_EQ(r.metrics().invalidMessages, invalid);
  EXPECT_EQ(r.metrics().staleMessages, stale + 1);
  // The same with one vote's signature changed is refused before anything else.
  Proposal forged = held;
  ASSERT_FALSE(forged.justify.votes.empty());
  forged.justify.votes[0].signature[3] ^= 0x10;
  r.onReplicaMessage(held.header.proposer, ProposalMsg{forged}, c.net().now());
  EXPECT_EQ(r.metrics().invalidMessages, invalid + 1);
  EXPECT_EQ(r.metrics().staleMessages, stale + 1);
}

/// A replica killed while it held certified blocks above its committed tip comes back to an idle
/// pool that went further. The first proof its peers send it certifies a block it had stored,
/// which must not make it believe it has caught up: with nothing new to order, nothing else
/// would tell it (net.pool_processes restart-leader-kill found this).
TEST(PoolCluster, ARestartedReplicaCatchesUpPastTheBlocksItStored) {
  for (std::uint64_t seed : {4, 5, 6}) {
    ClusterOptions o;
    o.seed = seed;
    Cluster c(o);
    for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10);
    ASSERT_TRUE(c.runUntil(
        [&] {
          const Replica& r = c.replica(3);
          return r.committedHeight() > 0 && r.safety().highQc.height > r.committedHeight();
        },
        10000ms))
        << describe(c);
    c.crash(3);
    for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10, {0, 1, 2});
    ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
    c.runFor(1000ms); // idle
    c.restart(3);
    c.runFor(3000ms); // still idle: no transaction, no timeout
    EXPECT_EQ(c.replica(3).committedHeight(), c.replica(0).committedHeight())
        << "seed " << seed << "\n"
        << describe(c);
  }
}

} // namespace
} // namespace flo::pool
