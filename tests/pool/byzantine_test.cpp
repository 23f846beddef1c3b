/// \file
/// What a byzantine replica can cost the others, and what bounds it: the slow-leader watch
/// (LeaderWatch: a leader holding its proposals just under the round timeout is replaced), the
/// conviction of a peer whose own signature fails (its flood of forgeries costs one check), the
/// timeouts dropped unchecked when they can neither count nor teach, and the daemon's faults on
/// purpose that the benchmark turns on (Misbehaving).
#include "pool/core/leader_watch.h"
#include "pool/net/misbehaviour.h"
#include "pool/sim/cluster.h"

#include <gtest/gtest.h>

namespace flo::pool {
namespace {

using namespace std::chrono_literals;
using WatchTime = LeaderWatch::Time;

/// `rounds` rounds of view `view`, each with work from its start, the proposal `wait` in, and
/// the next round `round` after the start.
WatchTime playRounds(LeaderWatch& w, std::uint64_t view, WatchTime t, int rounds,
                     std::chrono::milliseconds wait, std::chrono::milliseconds round) {
  for (int i = 0; i < rounds; ++i) {
    w.enterRound(view, true, t);
    w.workFrom(t);
    w.proposalCame(t + wait);
    t += round;
  }
  w.enterRound(view, true, t); // ends the last one
  return t;
}

TEST(LeaderWatch, ALeaderHoldingItsProposalsIsSlowOnceASecondIsObserved) {
  LeaderWatch w;
  WatchTime t{};
  // Two rounds of 450 ms waits in 455 ms rounds: 0.91 s observed, not enough to judge.
  t = playRounds(w, 3, t, 2, 450ms, 455ms);
  EXPECT_FALSE(w.slow());
  t = playRounds(w, 3, t, 1, 450ms, 455ms);
  EXPECT_TRUE(w.slow());
  EXPECT_EQ(w.totalWorked(), 3 * 455ms);
  EXPECT_EQ(w.totalWaited(), 3 * 450ms);
  // A new view starts afresh.
  w.enterRound(4, true, t);
  EXPECT_FALSE(w.slow());
}

TEST(LeaderWatch, MessageDelaysAndBusyVotersAreNotSlowness) {
  LeaderWatch w;
  WatchTime t{};
  // Where message delays dominate a correct leader keeps about half (the simulator's 2 ms
  // links), and on loopback a few per cent: neither is slow, however long it lasts.
  t = playRounds(w, 1, t, 500, 2ms, 4ms);
  EXPECT_FALSE(w.slow());
  t = playRounds(w, 1, t, 500, 1ms, 6ms);
  EXPECT_FALSE(w.slow());
  // Just over three quarters, for long enough: slow.
  t = playRounds(w, 1, t, 500, 7ms, 9ms);
  EXPECT_TRUE(w.slow());
}

TEST(LeaderWatch, OnlyRoundsWithWorkLedByAnotherCount) {
  LeaderWatch w;
  WatchTime t{};
  // Our own rounds, and rounds without work, are not watched.
  for (int i = 0; i < 10; ++i) {
    w.enterRound(0, false, t); // we lead
    w.workFrom(t);
    w.proposalCame(t + 400ms);
    t += 450ms;
    w.enterRound(0, true, t); // no work
    w.proposalCame(t + 400ms);
    t += 450ms;
  }
  w.enterRound(0, true, t);
  EXPECT_EQ(w.totalWorked(), LeaderWatch::Clock::duration::zero());
  EXPECT_FALSE(w.slow());
  // A round that ends without its proposal (the others' votes made the certificate) counts as
  // no wait; a round whose work came after the proposal too.
  for (int i = 0; i < 10; ++i) {
    w.enterRound(0, true, t);
    w.workFrom(t);
    t += 450ms;
    w.enterRound(0, true, t);
    w.proposalCame(t);
    w.workFrom(t + 1ms);
    t += 450ms;
  }
  w.enterRound(0, true, t);
  EXPECT_EQ(w.totalWaited(), LeaderWatch::Clock::duration::zero());
  EXPECT_FALSE(w.slow());
}

TEST(LeaderWatch, TheWindowKeepsTheLastTwoSecondsOfWork) {
  LeaderWatch w;
  WatchTime t{};
  // Slow for a long while, then a correct stretch of more than the window: not slow any more.
  t = playRounds(w, 0, t, 20, 450ms, 455ms);
  ASSERT_TRUE(w.slow());
  t = playRounds(w, 0, t, 600, 0ms, 4ms);
  EXPECT_FALSE(w.slow());
}

/// A replica that sends a flood of votes with forged signatures (the transport authenticated
/// it: nobody else can speak as it) is convicted by the first, and the rest cost its receiver no
/// signature check: they are dropped unread for kMute, and then it is heard again.
TEST(PoolCluster, AForgerIsConvictedAtItsFirstForgeryAndItsFloodCostsNoCheck) {
  ClusterOptions o;
  o.seed = 4;
  Cluster c(o);
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms));
  Replica& r = c.replica(1);
  const ReplicaIndex forger = 3;
  const std::uint64_t checks = r.signatureChecks(), invalid = r.metrics().invalidMessages;
  for (int k = 0; k < 1000; ++k) {
    Vote v;
    v.block[0] = std::uint8_t(k);
    v.block[1] = std::uint8_t(k >> 8);
    v.round = r.round() + std::uint64_t(k % 3);
    v.height = 1;
    v.by.replica = forger;
    v.by.signature[7] = std::uint8_t(k);
    r.onReplicaMessage(forger, VoteMsg{v}, c.net().now());
  }
  EXPECT_EQ(r.signatureChecks(), checks + 1);
  EXPECT_EQ(r.metrics().invalidMessages, invalid + 1);
  EXPECT_EQ(r.metrics().convictions, 1u);
  EXPECT_EQ(r.metrics().mutedMessages, 999u);
  // The pool goes on without the forger's votes at replica 1 (the others make the quorum).
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms));
  EXPECT_GT(r.metrics().mutedMessages, 999u); // its correct messages too, meanwhile
  // Past kMute, it is heard again.
  c.runFor(std::chrono::duration_cast<std::chrono::milliseconds>(Replica::kMute) + 1s);
  const std::uint64_t muted = r.metrics().mutedMessages;
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms));
  EXPECT_EQ(r.metrics().mutedMessages, muted);
  EXPECT_EQ(r.metrics().convictions, 1u);
}

/// Another replica's forgery passed on is not a conviction of the one who passed it (a genuine
/// message of replica 2 relayed as if it were replica 3's own is refused by shape, unchecked).
TEST(PoolCluster, OnlyASignatureOfTheSendersOwnConvictsIt) {
  ClusterOptions o;
  o.seed = 5;
  Cluster c(o);
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms));
  Replica& r = c.replica(1);
  Vote v;
  v.round = r.round();
  v.height = 1;
  v.by.replica = 2; // says it is replica 2's, comes from 3
  const std::uint64_t checks = r.signatureChecks();
  r.onReplicaMessage(3, VoteMsg{v}, c.net().now());
  EXPECT_EQ(r.signatureChecks(), checks);
  EXPECT_EQ(r.metrics().convictions, 0u);
}

/// A timeout already counted, or of a round left behind with nothing newer to teach, is dropped
/// before its signature is checked: a replica resending its timeout (each time its timer runs
/// out) or a faulty one repeating it costs nothing.
TEST(PoolCluster, ATimeoutThatCanNeitherCountNorTeachIsDroppedUnchecked) {
  ClusterOptions o;
  o.seed = 6;
  Cluster c(o);
  std::vector<Timeout> sent;
  c.setStrategy(2, [&sent](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    if (const auto* t = std::get_if<TimeoutMsg>(&m.message)) sent.push_back(t->timeout);
    return {m};
  });
  c.crash(0); // the first leader: every replica times out of round 1
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10, {1, 2, 3});
  ASSERT_TRUE(c.runUntilAcknowledged(20000ms));
  ASSERT_FALSE(sent.empty());
  Replica& r = c.replica(1);
  const std::uint64_t checks = r.signatureChecks(), stale = r.metrics().staleMessages;
  for (int k = 0; k < 100; ++k) r.onReplicaMessage(2, TimeoutMsg{sent.front()}, c.net().now());
  EXPECT_EQ(r.signatureChecks(), checks);
  EXPECT_EQ(r.metrics().staleMessages, stale + 100);
  EXPECT_EQ(r.metrics().convictions, 0u);
}

TEST(Misbehaviour, ParsesWhatADaemonConfigMaySay) {
  auto slow = Misbehaviour::parse("slow-proposals:450", nullptr);
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->kind, Misbehaviour::Kind::SlowProposals);
  EXPECT_EQ(slow->amount, 450u);
  EXPECT_EQ(slow->toString(), "slow-proposals:450");
  auto forge = Misbehaviour::parse("forge-votes:5000", nullptr);
  ASSERT_TRUE(forge);
  EXPECT_EQ(forge->toString(), "forge-votes:5000");
  for (const char* bad :
       {"", "slow-proposals", "slow-proposals:", "slow-proposals:0", "slow-proposals:60001",
        "slow-proposals:4x", "forge-votes:-1", "forge-votes:100001", "meteor:1"}) {
    std::string why;
    EXPECT_FALSE(Misbehaviour::parse(bad, &why)) << bad;
    EXPECT_NE(why.find("misbehave:"), std::string::npos) << bad << ": " << why;
  }
}

TEST(Misbehaviour, DoesNothingUntilStartedThenHoldsProposalsAndForgesAtItsRate) {
  using T = Misbehaving::Time;
  T t0{};
  Proposal p;
  p.header.round = 7;
  {
    Misbehaving m(*Misbehaviour::parse("slow-proposals:450", nullptr), 1);
    EXPECT_FALSE(m.hold(ProposalMsg{p}, std::nullopt, t0)); // not started
    m.start();
    EXPECT_FALSE(m.hold(VoteMsg{}, std::nullopt, t0)); // only proposals
    EXPECT_TRUE(m.hold(ProposalMsg{p}, std::nullopt, t0));
    EXPECT_EQ(m.next(t0), t0 + 450ms);
    EXPECT_TRUE(m.due(t0 + 449ms, 7, 0, 4).empty());
    auto out = m.due(t0 + 450ms, 7, 0, 4);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_FALSE(out[0].to);
    EXPECT_EQ(std::get<ProposalMsg>(out[0].message).proposal.header.round, 7u);
    EXPECT_FALSE(m.next(t0 + 450ms));
  }
  {
    Misbehaving m(*Misbehaviour::parse("forge-votes:1000", nullptr), 1);
    EXPECT_TRUE(m.due(t0, 5, 2, 4).empty()); // not started
    m.start();
    EXPECT_TRUE(m.due(t0, 5, 2, 4).empty()); // the first interval begins
    auto out = m.due(t0 + 100ms, 5, 2, 4);   // 100 votes to each of the 3 others
    ASSERT_EQ(out.size(), 300u);
    for (const auto& o : out) {
      ASSERT_TRUE(o.to && *o.to != 2);
      const Vote& v = std::get<VoteMsg>(o.message).vote;
      EXPECT_EQ(v.by.replica, 2);
      EXPECT_GE(v.round, 5u);
      EXPECT_LE(v.round, 7u);
    }
  }
}

} // namespace
} // namespace flo::pool
