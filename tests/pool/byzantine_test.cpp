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

constexpr auto kLimit = std::chrono::milliseconds(375); // 3/4 of the default round timeout

/// The leader's proposals, as it sends them.
std::shared_ptr<std::vector<Proposal>> recordProposals(Cluster& c, std::size_t node) {
  auto sent = std::make_shared<std::vector<Proposal>>();
  c.setStrategy(node, [sent](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    if (const auto* p = std::get_if<ProposalMsg>(&m.message)) sent->push_back(p->proposal);
    return {m};
  });
  return sent;
}

/// One transfer from each of the 8 accounts, to every replica (or those in `to`): whether all
/// were acknowledged within `limit`.
bool transferFromEach(Cluster& c, const std::vector<std::size_t>& to = {},
                      std::chrono::milliseconds limit = 10000ms) {
  for (int i = 0; i < 8; ++i) c.submitTransfer(i, 10, to);
  return c.runUntilAcknowledged(limit);
}

/// `count` transfers, one every 10 ms of virtual time from now, the accounts in turn.
void transferEvery10ms(Cluster& c, int count) {
  const auto start = c.net().now();
  for (int k = 0; k < count; ++k)
    c.net().at(start + k * 10ms, "", [&c, k] { c.submitTransfer(std::size_t(k % 8), 1); });
}

/// No replica judged a leader slow or formed a TC: no view changed.
void expectNoViewChange(Cluster& c) {
  for (std::size_t i = 0; i < c.replicaCount(); ++i) {
    EXPECT_EQ(c.replica(i).metrics().slowLeaderTimeouts, 0u) << "replica " << i;
    EXPECT_EQ(c.replica(i).metrics().tcsFormed, 0u) << "replica " << i;
  }
}

TEST(LeaderWatch, ALeaderHoldingItsProposalsIsSlowOnceASecondIsObserved) {
  LeaderWatch w;
  WatchTime t{};
  // Two rounds of 450 ms waits in 455 ms rounds: 0.91 s observed, not enough to judge.
  t = playRounds(w, 3, t, 2, 450ms, 455ms);
  EXPECT_FALSE(w.slow(kLimit));
  t = playRounds(w, 3, t, 1, 450ms, 455ms);
  EXPECT_TRUE(w.slow(kLimit));
  EXPECT_FALSE(w.slow(500ms)); // a limit above its rounds
  EXPECT_EQ(w.totalWorked(), 3 * 455ms);
  EXPECT_EQ(w.totalWaited(), 3 * 450ms);
  // A new view starts afresh.
  w.enterRound(4, true, t);
  EXPECT_FALSE(w.slow(kLimit));
}

TEST(LeaderWatch, ARoundCountsForAtMostItsCap) {
  // One round of a replica cut off for a long while counts for at most the cap.
  LeaderWatch w;
  WatchTime t{};
  w.enterRound(1, true, t);
  w.workFrom(t);
  t += 30s;
  w.enterRound(1, true, t, 500ms);
  EXPECT_EQ(w.totalWorked(), 500ms);
}

TEST(LeaderWatch, TheVerdictIsOnTheRoundsLengthNotOnTheWait) {
  LeaderWatch w;
  WatchTime t{};
  // Waiting nearly all of every round (a leader far from this replica, nearer to a quorum) is
  // not slowness while the rounds are short, however long it lasts.
  t = playRounds(w, 1, t, 500, 39ms, 40ms);
  EXPECT_FALSE(w.slow(kLimit));
  // Rounds that long on average are, whoever is waiting.
  t = playRounds(w, 1, t, 10, 0ms, 400ms);
  EXPECT_TRUE(w.slow(kLimit));
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
  EXPECT_FALSE(w.slow(kLimit));
  // A round that ends without its proposal (the others' votes made the certificate) counts as
  // no wait; a round whose work came after the proposal too.
  for (int i = 0; i < 10; ++i) {
    w.enterRound(0, true, t);
    w.workFrom(t);
    t += 20ms;
    w.enterRound(0, true, t);
    w.proposalCame(t);
    w.workFrom(t + 1ms);
    t += 20ms;
  }
  w.enterRound(0, true, t);
  EXPECT_EQ(w.totalWaited(), LeaderWatch::Clock::duration::zero());
  EXPECT_FALSE(w.slow(kLimit));
}

TEST(LeaderWatch, TheWindowKeepsTheLastTwoSecondsOfWork) {
  LeaderWatch w;
  WatchTime t{};
  // Slow for a long while, then a correct stretch of more than the window: not slow any more.
  t = playRounds(w, 0, t, 20, 450ms, 455ms);
  ASSERT_TRUE(w.slow(kLimit));
  t = playRounds(w, 0, t, 600, 0ms, 4ms);
  EXPECT_FALSE(w.slow(kLimit));
}

/// Which replica leads at every replica but `except` (nullopt while they disagree).
std::optional<ReplicaIndex> agreedLeader(Cluster& c, std::size_t except) {
  std::optional<ReplicaIndex> leader;
  for (std::size_t i = 0; i < c.replicaCount(); ++i) {
    if (i == except) continue;
    ReplicaIndex l = c.replica(i).leaderOf(c.replica(i).view());
    if (leader && *leader != l) return std::nullopt;
    leader = l;
  }
  return leader;
}

/// A pool in two sites 40 ms apart (1 ms within each): a follower in the leader's site forms
/// each certificate from its site's votes and the far site's first, and waits most of the round
/// for the leader, who needs a far vote too. That is distance, not slowness: no view changes.
TEST(PoolCluster, ACorrectLeaderFarFromHalfThePoolIsNotSlow) {
  ClusterOptions o;
  o.seed = 21;
  o.link.delay = 1ms;
  o.link.jitter = 500us;
  Cluster c(o);
  sim::LinkConfig far;
  far.delay = 40ms;
  far.jitter = 1ms;
  for (std::size_t a : {0, 1})
    for (std::size_t b : {2, 3}) {
      c.net().setLink(a, b, far);
      c.net().setLink(b, a, far);
    }
  transferEvery10ms(c, 1500);
  c.runFor(15000ms);
  ASSERT_TRUE(c.runUntilAcknowledged(20000ms));
  expectNoViewChange(c);
  // The near follower did wait most of its time with work (what fooled a first version).
  const LeaderWatch& near = c.replica(1).leaderWatch();
  const LeaderWatch& across = c.replica(2).leaderWatch();
  EXPECT_GT(std::max(near.totalWaited() * 2, across.totalWaited() * 2),
            std::max(near.totalWorked(), across.totalWorked()));
}

/// An intercontinental pool, 130 ms one way, under the default 500 ms timeout: its rounds come
/// close to half the timeout, correct as they are. (A limit of half the timeout changed views
/// every 1.2 s here.)
TEST(PoolCluster, RoundsOfAFarFlungPoolAreNotSlowness) {
  ClusterOptions o;
  o.seed = 22;
  o.link.delay = 130ms;
  o.link.jitter = 5ms;
  Cluster c(o);
  transferEvery10ms(c, 1000);
  c.runFor(10000ms);
  ASSERT_TRUE(c.runUntilAcknowledged(20000ms));
  expectNoViewChange(c);
}

/// A slow leader that staggers its proposal (one follower at once, one held just under the
/// timeout, whose vote completes the quorum, the third after the certificate, rotating the roles
/// every round) keeps every follower's wait near a third, but not its rounds short: replaced.
TEST(PoolCluster, ASlowLeaderIsReplacedHoweverItStaggersItsProposals) {
  ClusterOptions o;
  o.seed = 31;
  o.params.roundTimeoutMs = 300;
  o.params.maxRoundTimeoutMs = 4800;
  o.link.delay = 200us;
  o.link.jitter = 300us;
  Cluster c(o);
  const auto hold = std::chrono::duration_cast<sim::Duration>(250ms);
  c.setStrategy(0, [&c, hold](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    const auto* p = std::get_if<ProposalMsg>(&m.message);
    if (!p) return {m};
    Bytes bytes = encodeMessage(m.message);
    const std::uint64_t r = p->proposal.header.round;
    for (std::size_t k = 0; k < 3; ++k) {
      std::size_t to = 1 + (r + k) % 3;
      if (m.to && *m.to != to) continue;
      sim::Duration d = k == 0 ? sim::Duration::zero() : k == 1 ? hold : hold + 30ms;
      c.net().inject(c.net().address(0), c.net().address(to), bytes, d);
    }
    return {};
  });
  const auto start = c.net().now();
  transferEvery10ms(c, 1000);
  ASSERT_TRUE(c.runUntil([&] { return agreedLeader(c, 0).value_or(0) != 0; }, 10000ms));
  EXPECT_LE(c.net().now() - start, 5s);
  std::uint64_t early = 0;
  for (std::size_t i = 1; i < c.replicaCount(); ++i)
    early += c.replica(i).metrics().slowLeaderTimeouts;
  EXPECT_GT(early, 0u);
}

/// A replica that sends a flood of votes with forged signatures (the transport authenticated
/// it: nobody else can speak as it) is convicted by the first, and the rest cost its receiver no
/// signature check: they are dropped unread for kMute, and then it is heard again.
TEST(PoolCluster, AForgerIsConvictedAtItsFirstForgeryAndItsFloodCostsNoCheck) {
  ClusterOptions o;
  o.seed = 4;
  Cluster c(o);
  ASSERT_TRUE(transferFromEach(c));
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
  ASSERT_TRUE(transferFromEach(c));
  EXPECT_GT(r.metrics().mutedMessages, 999u); // its correct messages too, meanwhile
  // Past kMute, it is heard again.
  c.runFor(std::chrono::duration_cast<std::chrono::milliseconds>(Replica::kMute) + 1s);
  const std::uint64_t muted = r.metrics().mutedMessages;
  ASSERT_TRUE(transferFromEach(c));
  EXPECT_EQ(r.metrics().mutedMessages, muted);
  EXPECT_EQ(r.metrics().convictions, 1u);
}

/// Checkpoints too: a forged one convicts its sender at the first, and a repeat of one already
/// counted costs no check.
TEST(PoolCluster, AForgedCheckpointConvictsAndARepeatCostsNoCheck) {
  ClusterOptions o;
  o.seed = 7;
  Cluster c(o);
  ASSERT_TRUE(transferFromEach(c));
  Replica& r = c.replica(1);
  const std::uint64_t interval = c.genesis().params.checkpointInterval;
  const std::uint64_t height = (r.committedHeight() / interval + 2) * interval;
  const std::uint64_t invalid = r.metrics().invalidMessages;
  for (int k = 0; k < 100; ++k) {
    Checkpoint forged;
    forged.height = height + interval * std::uint64_t(k % 4);
    forged.stateRoot[0] = std::uint8_t(k);
    forged.by.replica = 3;
    forged.by.signature[9] = std::uint8_t(k);
    r.onReplicaMessage(3, forged, c.net().now());
  }
  EXPECT_EQ(r.metrics().invalidMessages, invalid + 1);
  EXPECT_EQ(r.metrics().convictions, 1u);
  EXPECT_EQ(r.metrics().mutedMessages, 99u);
}

/// A proposal of a round long left, carrying a genuine TC, is replayed: its TC is not checked
/// again (2f+1 signatures a copy before), and nobody is convicted.
TEST(PoolCluster, AReplayedProposalOfAPastRoundCostsNoTcCheck) {
  ClusterOptions o;
  o.seed = 8;
  Cluster c(o);
  auto sent = recordProposals(c, 1); // the leader after the crashed first one
  c.crash(0);
  ASSERT_TRUE(transferFromEach(c, {1, 2, 3}, 20000ms));
  ASSERT_TRUE(transferFromEach(c, {1, 2, 3}, 20000ms));
  auto withTc = std::find_if(sent->begin(), sent->end(), [](const Proposal& p) { return p.tc; });
  ASSERT_NE(withTc, sent->end());
  Replica& r = c.replica(2);
  ASSERT_LT(withTc->tc->round + 1, r.round());
  const std::uint64_t checks = r.signatureChecks();
  for (int k = 0; k < 100; ++k) r.onReplicaMessage(1, ProposalMsg{*withTc}, c.net().now());
  EXPECT_EQ(r.signatureChecks(), checks);
  EXPECT_EQ(r.metrics().convictions, 0u);
}

/// Another replica's forgery passed on is not a conviction of the one who passed it (a genuine
/// message of replica 2 relayed as if it were replica 3's own is refused by shape, unchecked).
TEST(PoolCluster, OnlyASignatureOfTheSendersOwnConvictsIt) {
  ClusterOptions o;
  o.seed = 5;
  Cluster c(o);
  ASSERT_TRUE(transferFromEach(c));
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

/// Replica 2's timeouts, from a pool whose first leader crashed (every replica times out of
/// round 1), once it committed past it.
std::vector<Timeout> timeoutsOfReplica2(Cluster& c) {
  std::vector<Timeout> sent;
  c.setStrategy(2, [&sent](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    if (const auto* t = std::get_if<TimeoutMsg>(&m.message)) sent.push_back(t->timeout);
    return {m};
  });
  c.crash(0);
  EXPECT_TRUE(transferFromEach(c, {1, 2, 3}, 20000ms));
  c.setStrategy(2, [](const Cluster::Routed& m) { return std::vector<Cluster::Routed>{m}; });
  return sent;
}

/// A timeout already counted, or of a round left behind with nothing newer to teach, is dropped
/// before its signature is checked: a replica resending its timeout (each time its timer runs
/// out) or a faulty one repeating it costs nothing.
TEST(PoolCluster, ATimeoutThatCanNeitherCountNorTeachIsDroppedUnchecked) {
  ClusterOptions o;
  o.seed = 6;
  Cluster c(o);
  const std::vector<Timeout> sent = timeoutsOfReplica2(c);
  ASSERT_FALSE(sent.empty());
  Replica& r = c.replica(1);
  const std::uint64_t checks = r.signatureChecks(), stale = r.metrics().staleMessages;
  for (int k = 0; k < 100; ++k) r.onReplicaMessage(2, TimeoutMsg{sent.front()}, c.net().now());
  EXPECT_EQ(r.signatureChecks(), checks);
  EXPECT_EQ(r.metrics().staleMessages, stale + 100);
  EXPECT_EQ(r.metrics().convictions, 0u);
}

/// A relayed proposal is not its proposer's word: a faulty replica that passes on a changed copy
/// of the correct leader's proposal (its signature no longer fits) in a block response, or one
/// with a made-up TC naming another proposer, convicts no one; the pool goes on when the faulty
/// replica then falls silent. (A first version convicted the named proposer: the leader was muted
/// at both correct followers and nothing committed.)
TEST(PoolCluster, ARelayedForgeryConvictsNoOneItNames) {
  ClusterOptions o;
  o.seed = 11;
  Cluster c(o);
  auto sent = recordProposals(c, 0);
  ASSERT_TRUE(transferFromEach(c));
  c.runFor(500ms);
  ASSERT_FALSE(sent->empty());
  Proposal changed = sent->back();
  changed.header.timeMs += 1; // another id: the leader's signature no longer fits
  Proposal named = sent->back();
  TimeoutCert tc;
  tc.round = named.justify.round + 5;
  for (ReplicaIndex r = 0; r < 3; ++r) tc.entries.push_back({{r, {}}, 0, 1}); // view 2 next
  named.tc = tc;
  named.header.round = tc.round + 1;
  named.header.view = 2;
  named.header.proposer = 2;
  for (std::size_t to : {1, 2}) {
    c.net().inject(c.net().address(3), c.net().address(to), encodeMessage(BlockResponse{changed}));
    c.net().inject(c.net().address(3), c.net().address(to), encodeMessage(BlockResponse{named}));
  }
  c.runFor(50ms);
  for (std::size_t i : {1, 2}) EXPECT_EQ(c.replica(i).metrics().convictions, 0u) << i;
  c.crash(3);
  EXPECT_TRUE(transferFromEach(c, {0, 1, 2}, 30000ms));
}

/// A timeout replayed with a last TC that does not fit its round (a correct replica never sends
/// one) cannot pass as teaching something: dropped unchecked, every copy.
TEST(PoolCluster, ATimeoutWithALastTcOfAnotherRoundTeachesNothing) {
  ClusterOptions o;
  o.seed = 6;
  Cluster c(o);
  const std::vector<Timeout> sent = timeoutsOfReplica2(c);
  ASSERT_FALSE(sent.empty());
  Replica& r = c.replica(1);
  Timeout t = sent.front(); // replica 2's own, validly signed, of a round long left
  auto tc = std::make_shared<TimeoutCert>();
  tc->round = r.round() + 10;
  t.lastTc = tc;
  const std::uint64_t checks = r.signatureChecks();
  for (int k = 0; k < 100; ++k) r.onReplicaMessage(2, TimeoutMsg{t}, c.net().now());
  EXPECT_EQ(r.signatureChecks(), checks);
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
    // A rate below one a wake-up still adds up (the fraction carries over).
    Misbehaving slow(*Misbehaviour::parse("forge-votes:50", nullptr), 2);
    slow.start();
    std::size_t forged = slow.due(t0, 5, 2, 4).size();
    for (int k = 1; k <= 100; ++k) forged += slow.due(t0 + k * 10ms, 5, 2, 4).size();
    EXPECT_EQ(forged, 150u); // 50 a second to 3 peers for 1 s
    for (const auto& o : out) {
      ASSERT_TRUE(o.to && *o.to != 2);
      const Vote& v = std::get<VoteMsg>(o.message).vote;
      EXPECT_EQ(v.by.replica, 2);
      EXPECT_GE(v.round, 5u);
      EXPECT_LE(v.round, 7u);
      EXPECT_LT(v.by.signature[63], 0x10); // canonical in shape: a full check to refuse
    }
  }
}

} // namespace
} // namespace flo::pool
