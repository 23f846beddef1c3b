/// \file
/// The pool's consensus core, n replicas in one process on the simulated network: the normal
/// case, and the checkers over it.
#include "pool/sim/checkers.h"
#include "pool/sim/cluster.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

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

/// A burst larger than the next blocks can take (verifyAhead: 4 blocks of 4 here) waits with
/// its signatures unchecked, in arrival order, and is checked as commits make room: no
/// replica's mempool grows past the room, every signature is still checked once per replica,
/// and every transfer commits.
TEST(PoolCluster, ABurstBeyondTheNextBlocksWaitsUncheckedAndAllOfItCommits) {
  ClusterOptions o;
  o.seed = 11;
  o.params.maxBlockTxs = 4;
  Cluster c(o);
  constexpr int kTxs = 96;
  for (int i = 0; i < kTxs; ++i) c.submitTransfer(i % 8, 10);
  std::size_t largest = 0, queuedAtMost = 0;
  ASSERT_TRUE(c.runUntil(
      [&] {
        for (std::size_t n = 0; n < 4; ++n) {
          largest = std::max(largest, c.replica(n).mempool().size());
          queuedAtMost = std::max<std::size_t>(queuedAtMost, c.replica(n).metrics().queuedTxs);
        }
        return c.acknowledged() == kTxs;
      },
      20000ms))
      << c.acknowledged() << " of " << kTxs << " acknowledged\n"
      << describe(c);
  c.runFor(200ms);
  EXPECT_LE(largest, 16u) << "a mempool held more than four blocks' worth";
  EXPECT_GT(queuedAtMost, 0u) << "nothing waited: the burst fit the room";
  expectSafe(c, allReplicas(c), kTxs);
  for (std::size_t n = 0; n < 4; ++n) {
    EXPECT_EQ(c.replica(n).metrics().committedTxs, std::uint64_t(kTxs)) << "node " << n;
    EXPECT_EQ(c.replica(n).mempool().signaturesVerified(), std::uint64_t(kTxs)) << "node " << n;
    EXPECT_EQ(c.replica(n).metrics().refusedTxs, 0u) << "node " << n;
  }
}

/// While submissions wait for room, what the mempool would refuse before a signature check
/// (here: transfers from a sender the ledger does not know, which cost their author nothing) is
/// refused at once, not queued: unchecked junk cannot take the places of real transactions.
TEST(PoolCluster, JunkIsRefusedBeforeItCanWaitForRoom) {
  ClusterOptions o;
  o.seed = 13;
  o.params.maxBlockTxs = 4; // room for 16
  Cluster c(o);
  constexpr int kTxs = 40;
  for (int i = 0; i < kTxs; ++i) c.submitTransfer(i % 8, 10); // the queue fills past the room
  core::Seed seed{};
  std::fill(seed.data(), seed.data() + 32, std::uint8_t(0x5a));
  core::SigningKey stranger = core::SigningKey::fromSeed(seed);
  const Digest chain = c.genesis().chainId();
  for (std::uint64_t nonce = 0; nonce < 20; ++nonce)
    c.submitRaw(makeTx(stranger, chain, nonce, Transfer{c.accountKey(0).publicKey(), 1}).encode());
  ASSERT_TRUE(c.runUntilAcknowledged(20000ms)) << c.acknowledged() << " of " << kTxs << "\n"
                                               << describe(c);
  c.runFor(200ms);
  for (std::size_t n = 0; n < 4; ++n) {
    const ReplicaMetrics& m = c.replica(n).metrics();
    EXPECT_LE(m.queuedTxs, std::uint64_t(kTxs - 16)) << "node " << n << ": junk was queued";
    EXPECT_EQ(m.refusedTxs, 20u) << "node " << n;
    EXPECT_EQ(c.replica(n).mempool().signaturesVerified(), std::uint64_t(kTxs)) << "node " << n;
  }
  expectSafe(c, allReplicas(c), kTxs + 20);
}

/// Transactions that cannot run (an earlier nonce of their sender is missing) take at most half
/// of the room before the signature checks wait (verifyAhead): a sender who holds back one
/// nonce and sends the next ones cannot fill the room with them, so that nothing else is
/// checked, nothing commits to make room, and the pool stops (found in review of the queue).
TEST(PoolCluster, TransactionsWaitingOnAGapCannotFillTheRoom) {
  ClusterOptions o;
  o.seed = 12;
  o.params.maxBlockTxs = 4; // room for 16; at most 8 of them behind a gap
  Cluster c(o);
  const Digest chain = c.genesis().chainId();
  const AccountId to = c.accountKey(1).publicKey();
  for (std::uint64_t nonce = 1; nonce <= 16; ++nonce) // nonce 0 held back
    c.submitRaw(makeTx(c.accountKey(0), chain, nonce, Transfer{to, 1}).encode());
  c.runFor(100ms);
  for (std::size_t n = 0; n < 4; ++n)
    EXPECT_LE(c.replica(n).mempool().size(), 8u) << "node " << n << "\n" << describe(c);
  for (int i = 0; i < 14; ++i) c.submitTransfer(1 + i % 7, 10); // others, honest
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << c.acknowledged() << " of 14 acknowledged\n"
                                               << describe(c);
  c.submitTransfer(0, 10); // nonce 0 at last: it, and the ones kept behind it, run
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
  c.runFor(500ms);
  for (std::size_t n = 0; n < 4; ++n) {
    const Account* a = c.replica(n).ledger().account(c.accountKey(0).publicKey());
    ASSERT_TRUE(a);
    EXPECT_GE(a->nonce, 1u) << "node " << n << ": nonce 0 did not run";
    EXPECT_LE(a->nonce, 9u) << "node " << n << ": more than 8 were kept behind the gap";
  }
  expectSafe(c, allReplicas(c), 15 + 16); // distinct transactions sent, raw ones too
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

/// A faulty replica votes for the right block and round but another height, with a valid
/// signature on what it says. Its vote must not join a certificate of the others' votes: one
/// statement per certificate, or the certificate would not verify, and the leader that formed it
/// would propose with a justification nobody accepts (a round lost to a timeout each time).
TEST(PoolCluster, AVoteForTheRightBlockAtAnotherHeightJoinsNoCertificate) {
  ClusterOptions o;
  o.seed = 15;
  Cluster c(o);
  const ReplicaIndex faulty = 3;
  c.setStrategy(faulty, [&c](const Cluster::Routed& m) -> std::vector<Cluster::Routed> {
    const auto* v = std::get_if<VoteMsg>(&m.message);
    if (!v) return {m};
    Vote other = v->vote;
    ++other.height;
    other.by.signature = c.replicaKey(faulty).sign(
        voteMessage(c.genesis().chainId(), other.block, other.round, other.height));
    return {{m.to, VoteMsg{other}}};
  });
  for (int i = 0; i < 24; ++i) { // a few a round, for many rounds
    c.submitTransfer(i % 8, 10);
    c.runFor(2ms);
  }
  ASSERT_TRUE(c.runUntilAcknowledged(20000ms)) << describe(c);
  c.runFor(200ms);
  expectSafe(c, {0, 1, 2}, 24);
  const Committee committee(c.genesis());
  for (std::size_t n = 0; n < 3; ++n) {
    EXPECT_EQ(c.replica(n).metrics().timeoutsSent, 0u) << "node " << n << "\n" << describe(c);
    EXPECT_GE(c.replica(n).metrics().committedBlocks, 4u) << "node " << n;
    for (const StoredBlock& b : c.store(n).chain()) {
      std::string why;
      EXPECT_TRUE(committee.verify(b.block.qc, &why)) << "node " << n << ": " << why;
    }
  }
}

/// A replica answers a client once per committed block for all of that client's transactions
/// in it (CommitAnswer), not once per transaction: the client of 16 transfers sent at once hears
/// from each replica as many times as the transfers took blocks, and of each transfer once.
TEST(PoolCluster, AClientHearsOncePerBlockFromEachReplica) {
  ClusterOptions o;
  o.seed = 14;
  Cluster c(o);
  std::map<std::string, std::size_t> answers;             // by sender: CommitAnswers
  std::map<std::string, std::set<Digest>> told;           // by sender: transactions told of
  std::map<std::string, std::set<std::uint64_t>> heights; // by sender: blocks told of
  std::size_t statuses = 0;
  std::optional<Bytes> sample;
  c.net().setTap([&](const core::Address& from, const core::Address&, Bytes& bytes) {
    auto m = decodeMessage(bytes.data(), bytes.size(), o.params.maxBlockTxs);
    if (!m) return true;
    if (std::holds_alternative<TxStatus>(*m)) ++statuses;
    if (const auto* a = std::get_if<CommitAnswer>(&*m)) {
      const std::string who = from.host + ":" + std::to_string(from.port);
      ++answers[who];
      heights[who].insert(a->height);
      for (const TxStatus& s : a->statuses()) EXPECT_TRUE(told[who].insert(s.tx).second);
      if (!sample && a->size() > 1) sample = bytes;
    }
    return true;
  });
  for (int i = 0; i < 16; ++i) c.submitTransfer(i % 8, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
  c.runFor(200ms);
  expectSafe(c, allReplicas(c), 16);
  EXPECT_EQ(statuses, 0u); // nothing refused: every answer a block's
  ASSERT_EQ(answers.size(), 4u);
  for (const auto& [who, n] : answers) {
    EXPECT_EQ(told[who].size(), 16u) << who;
    EXPECT_EQ(n, heights[who].size()) << who; // one a block
    EXPECT_LT(n, 16u) << who;
  }
  ASSERT_TRUE(sample);
  // Seeds for fuzz.pool (tests/fuzz/pool_corpus), written when asked.
  if (const char* dir = std::getenv("FLO_WRITE_POOL_SEEDS")) {
    std::ofstream(std::string(dir) + "/commit-answer_1", std::ios::binary)
        .write(reinterpret_cast<const char*>(sample->data()), std::streamsize(sample->size()));
  }
}

/// A client with more transactions in one block than an answer may hold (what every client
/// decodes) gets several answers for that block, each within the bound, and hears of all.
TEST(PoolCluster, AnAnswerHoldsNoMoreThanAClientDecodes) {
  ClusterOptions o;
  o.seed = 16;
  o.accounts = 64;
  o.params.maxBlockTxs = 2048;
  o.params.flushMicros = 20000; // the whole burst in one block
  Cluster c(o);
  std::size_t largest = 0, answers = 0, told = 0;
  c.net().setTap([&](const core::Address&, const core::Address&, Bytes& bytes) {
    auto m = decodeMessage(bytes.data(), bytes.size(), 0); // as a client decodes
    if (const auto* a = m ? std::get_if<CommitAnswer>(&*m) : nullptr) {
      largest = std::max(largest, a->size());
      ++answers;
      told += a->size();
    }
    return true;
  });
  constexpr std::size_t kTxs = CommitAnswer::kMaxTxs + 100;
  for (std::size_t i = 0; i < kTxs; ++i) c.submitTransfer(i % 64, 1);
  ASSERT_TRUE(c.runUntilAcknowledged(60000ms)) << describe(c);
  c.runFor(200ms);
  EXPECT_EQ(largest, CommitAnswer::kMaxTxs);
  EXPECT_EQ(told, 4 * kTxs); // each replica told of each transaction once
  EXPECT_GE(answers, 8u);    // at least two for the big block, from each replica
}

/// What an answer says of each transaction survives its encoding, refusals by execution with
/// their reasons included; a list of ids that is not whole 32-byte ids is refused.
TEST(PoolWire, ACommitAnswerSaysOfEachTransactionWhatItsStatusWould) {
  CommitAnswer a;
  a.height = 7;
  a.stateRoot[0] = 9;
  TxStatus s;
  s.state = TxStatus::State::Committed;
  s.height = 7;
  s.stateRoot = a.stateRoot;
  s.tx[0] = 1;
  s.applied = true;
  a.add(s);
  s.tx[0] = 2;
  s.applied = false;
  s.error = "insufficient balance: has 5, needs 7";
  a.add(s);
  Bytes bytes = encodeMessage(a);
  std::string why;
  auto back = decodeMessage(bytes.data(), bytes.size(), 512, &why);
  ASSERT_TRUE(back) << why;
  ASSERT_TRUE(std::holds_alternative<CommitAnswer>(*back));
  EXPECT_EQ(std::get<CommitAnswer>(*back), a);
  Digest one{}, two{}, three{};
  one[0] = 1;
  two[0] = 2;
  three[0] = 3;
  ASSERT_TRUE(statusOf(*back, two));
  EXPECT_EQ(*statusOf(*back, two), s);
  ASSERT_TRUE(statusOf(*back, one));
  EXPECT_TRUE(statusOf(*back, one)->applied);
  EXPECT_EQ(statusOf(*back, one)->height, 7u);
  EXPECT_FALSE(statusOf(*back, three));
  EXPECT_EQ(a.statuses().size(), 2u);
  // 33 bytes of ids.
  Value::Map body{{"kind", std::string(CommitAnswer::kName)},
                  {"height", std::uint64_t(7)},
                  {"state_root", Bytes(32, 0)},
                  {"applied", Bytes(33, 1)},
                  {"refused", Value::Array{}}};
  Bytes bad = core::encodeRecord({"pool", core::kEncodingVersion, std::move(body)});
  EXPECT_FALSE(decodeMessage(bad.data(), bad.size(), 512, &why));
  EXPECT_NE(why.find("32-byte"), std::string::npos) << why;
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

/// Kills every replica at once; what was on its way to them is lost (as with real processes).
void killAll(Cluster& c) {
  for (std::size_t n = 0; n < c.replicaCount(); ++n) c.crash(n);
  c.runFor(100ms);
}

/// Runs until every replica committed `height` (false after 5 s of virtual time).
bool allCommit(Cluster& c, std::uint64_t height) {
  return c.runUntil(
      [&] {
        for (std::size_t n = 0; n < c.replicaCount(); ++n)
          if (c.replica(n).committedHeight() < height) return false;
        return true;
      },
      5000ms);
}

/// Every replica killed at once just as a client heard f+1 commit replies (POOL-TESTING F6):
/// the replicas that answered come back with the commit (they wrote it before answering,
/// outbox.h: checker S8), and the others catch up from them with no new transaction: every
/// replica holds the transfer, and the same state.
TEST(PoolCluster, EveryReplicaKilledRightAfterAnAcknowledgementComesBackWithIt) {
  for (std::uint64_t seed : {11, 12, 13, 14, 15, 16}) {
    ClusterOptions o;
    o.seed = seed;
    Cluster c(o);
    c.submitTransfer(0, 10);
    ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
    std::uint64_t acked = c.submissions().front().ackedHeight;
    killAll(c);
    for (std::size_t n = 0; n < 4; ++n) c.restart(n);
    EXPECT_TRUE(c.forgottenAnswers().empty())
        << "seed " << seed << ": " << c.forgottenAnswers().front().second;
    ASSERT_TRUE(allCommit(c, acked))
        << "seed " << seed << ": acknowledged at height " << acked << "\n"
        << describe(c);
    c.runFor(1000ms);
    expectSafe(c, allReplicas(c), 1);
    for (std::size_t n = 1; n < 4; ++n)
      EXPECT_EQ(c.replica(n).ledger().stateRoot(), c.replica(0).ledger().stateRoot())
          << "seed " << seed << " node " << n;
  }
}

/// Every replica killed while a block of transactions is certified (a replica stored the
/// certificate) but not committed, before any client heard of it: restored, that replica holds
/// the work and arms its round timer, so the pool commits the block with no client to prompt
/// it.
TEST(PoolCluster, ReplicasRestartedWithCertifiedTransactionsCommitThemUnprompted) {
  for (std::uint64_t seed = 21; seed < 41; ++seed) {
    ClusterOptions o;
    o.seed = seed;
    Cluster c(o);
    c.submitTransfer(0, 10);
    std::uint64_t certified = 0;
    ASSERT_TRUE(c.runUntil(
        [&] {
          std::size_t holders = 0;
          for (std::size_t n = 0; n < 4; ++n) {
            if (c.replica(n).committedHeight() > 0) return true;
            if (c.store(n).empty()) continue;
            // A certificate in memory only is lost with the crash: the stored one counts.
            std::uint64_t h = c.store(n).restore().safety.highQc.height;
            certified = std::max(certified, h);
            holders += h > 0;
          }
          return holders >= 3;
        },
        10000ms))
        << describe(c);
    ASSERT_GT(certified, 0u) << "seed " << seed << ": committed before a certificate was seen";
    killAll(c);
    for (std::size_t n = 0; n < 4; ++n) {
      c.restart(n);
      // Before any peer's message (which would arm it too): a replica restored with work has
      // a timer that will move the pool on.
      if (c.store(n).restore().safety.highQc.height > 0)
        EXPECT_TRUE(c.replica(n).nextTimer()) << "seed " << seed << " node " << n;
    }
    EXPECT_TRUE(allCommit(c, certified))
        << "seed " << seed << ": certified at height " << certified << "\n"
        << describe(c);
    c.runFor(500ms);
    expectSafe(c, allReplicas(c), 1);
  }
}

/// The leader's flush time counts from a transaction's arrival. One that came while the last
/// block was being certified has waited that round already: it goes out in the next proposal
/// as soon as the certificate forms, not a flush time after it.
TEST(PoolCluster, ATransactionThatWaitedARoundIsProposedWithTheCertificate) {
  ClusterOptions o;
  o.seed = 7;
  o.link.delay = 2000us; // a round (proposal out, votes back) takes 4 ms
  o.link.jitter = 0us;
  o.params.flushMicros = 1000;
  Cluster c(o);
  std::map<std::uint64_t, std::pair<core::Time, std::size_t>> proposals; // by round: when, txs
  c.net().setTap([&](const core::Address&, const core::Address&, Bytes& bytes) {
    auto m = decodeMessage(bytes.data(), bytes.size(), o.params.maxBlockTxs);
    if (const auto* p = m ? std::get_if<ProposalMsg>(&*m) : nullptr)
      proposals.try_emplace(p->proposal.header.round, c.net().now(), p->proposal.txs.size());
    return true;
  });
  c.submitTransfer(0, 10);
  ASSERT_TRUE(c.runUntil([&] { return !proposals.empty(); }, 1000ms)) << describe(c);
  auto [first, firstTxs] = proposals.begin()->second;
  EXPECT_EQ(firstTxs, 1u);
  c.submitTransfer(1, 10); // reaches the leader 2 ms later, 2 ms before the certificate
  ASSERT_TRUE(c.runUntil([&] { return proposals.size() >= 2; }, 1000ms)) << describe(c);
  auto [second, secondTxs] = std::next(proposals.begin())->second;
  EXPECT_EQ(secondTxs, 1u);
  // One round after the first, not a round and a flush time.
  EXPECT_LT(second - first, 4500us) << describe(c);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
  expectSafe(c, allReplicas(c), 2);
}

/// A block that would only carry the last one to its commit waits the flush time for a
/// transaction to carry along: one that comes just after the certificate goes in it, instead of
/// waiting a whole round behind an empty block.
TEST(PoolCluster, AnEmptyCarrierWaitsTheFlushTimeForATransaction) {
  ClusterOptions o;
  o.seed = 8;
  o.link.delay = 2000us;
  o.link.jitter = 0us;
  o.params.flushMicros = 2000;
  Cluster c(o);
  std::map<std::uint64_t, std::size_t> proposals; // by round: transactions
  c.net().setTap([&](const core::Address&, const core::Address&, Bytes& bytes) {
    auto m = decodeMessage(bytes.data(), bytes.size(), o.params.maxBlockTxs);
    if (const auto* p = m ? std::get_if<ProposalMsg>(&*m) : nullptr)
      proposals.try_emplace(p->proposal.header.round, p->proposal.txs.size());
    return true;
  });
  // The first block leaves at 4 ms (2 ms to the leader, 2 ms flush), its certificate forms at
  // 8 ms with nothing left to propose; the second transaction reaches the leader at 9 ms.
  c.submitTransfer(0, 10);
  ASSERT_TRUE(c.runUntil([&] { return !proposals.empty(); }, 1000ms)) << describe(c);
  c.runFor(3ms);
  c.submitTransfer(1, 10);
  ASSERT_TRUE(c.runUntilAcknowledged(10000ms)) << describe(c);
  ASSERT_GE(proposals.size(), 2u);
  auto it = proposals.begin();
  EXPECT_EQ(it->second, 1u);
  EXPECT_EQ(std::next(it)->second, 1u) << "the block after the first carried nothing";
  expectSafe(c, allReplicas(c), 2);
}

} // namespace
} // namespace flo::pool
