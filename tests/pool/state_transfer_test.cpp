/// \file
/// State transfer (pool/core/sync.cpp): a replica far behind gets a peer's latest stable
/// checkpoint (the ledger, a quorum's signatures over its root, the block at its height with
/// its commit proof) instead of every block. Here a genuine answer is captured from a simulated
/// pool and fed, and forged copies of it, to a fresh replica: every forgery is refused without
/// a change, the genuine one is installed, and the stores (in memory and SQLite) keep the chain
/// above the gap it leaves, which verify-chain accepts and a gap without a base fails.
#include "pool/sim/cluster.h"
#include "pool/sim/memory_store.h"
#include "pool/sim/scenarios.h"
#include "pool/store/replica_store.h"
#include "pool/store/verify_chain.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <functional>

#include "temp_dir.h"

namespace flo::pool {
namespace {

using namespace std::chrono_literals;

constexpr std::uint64_t kInterval = 8;

/// A pool of 4 whose replica 3 was down from the start while the others committed, and the
/// snapshot replica 1 answered a sync request from replica 3's address with.
class StateTransfer : public ::testing::Test {
protected:
  void SetUp() override {
    ClusterOptions o;
    o.seed = 21;
    o.params.checkpointInterval = kInterval;
    cluster_ = std::make_unique<Cluster>(o);
    Cluster& c = *cluster_;
    c.crash(3);
    for (int wave = 0; wave < 400 && c.commonHeight({0, 1, 2}) < 6 * kInterval; ++wave) {
      for (std::size_t i = 0; i < 4; ++i) c.submitTransfer((wave * 4 + i) % 8, 1);
      c.runFor(40ms);
    }
    ASSERT_GE(c.commonHeight({0, 1, 2}), 6 * kInterval);
    c.net().setTap([this](const core::Address&, const core::Address&, core::Bytes& bytes) {
      auto m = decodeMessage(bytes.data(), bytes.size(), cluster_->genesis().params.maxBlockTxs);
      if (m && std::holds_alternative<SnapshotResponse>(*m))
        genuine_ = std::get<SnapshotResponse>(*m);
      return true;
    });
    c.net().inject(c.net().address(3), c.net().address(1), encodeMessage(SyncRequest{1, 256}));
    ASSERT_TRUE(c.runUntil([&] { return genuine_.has_value(); }, 2000ms))
        << "replica 1 answered a replica at height 0 with no snapshot";
    c.net().setTap(nullptr);
    // Two more checkpoints above the base, for the stores' tests.
    for (int wave = 0; wave < 400 && c.commonHeight({0, 1, 2}) < baseHeight() + 3 * kInterval;
         ++wave) {
      for (std::size_t i = 0; i < 4; ++i) c.submitTransfer((wave * 4 + i) % 8, 1);
      c.runFor(40ms);
    }
    ASSERT_GE(c.commonHeight({0, 1, 2}), baseHeight() + 3 * kInterval);
    store_ = std::make_unique<MemoryStore>(c.genesis());
    fresh_ = std::make_unique<Replica>(
        c.genesis(), ReplicaIndex(3), c.replicaKey(3), *store_,
        [](Time) { return std::uint64_t(4'000'000'000'000); }, Clock::now());
    keep(fresh_->takeEffects());
  }

  /// Hands `r` to the fresh replica as from replica 1; its durable effects go to the store.
  std::vector<Effect> feed(const SnapshotResponse& r) {
    fresh_->onReplicaMessage(1, r, Clock::now());
    std::vector<Effect> effects = fresh_->takeEffects();
    keep(effects);
    return effects;
  }
  void keep(const std::vector<Effect>& effects) {
    for (const Effect& e : effects)
      if (isDurable(e)) store_->apply(e);
  }
  std::uint64_t baseHeight() const { return genuine_->blocks.front().proposal.header.height; }

  /// The effects of a sync request from `peer` handed to the fresh replica.
  std::vector<Effect> ask(ReplicaIndex peer, const SyncRequest& request) {
    fresh_->onReplicaMessage(peer, request, Clock::now());
    return fresh_->takeEffects();
  }
  /// The ledger after `height` (above the base), from the genuine snapshot and replica 1's
  /// blocks.
  Ledger ledgerAt(std::uint64_t height) const {
    auto ledger = Ledger::decode(cluster_->genesis(), genuine_->snapshot);
    EXPECT_TRUE(ledger);
    for (std::uint64_t h = baseHeight() + 1; h <= height; ++h) {
      const Proposal& p = cluster_->store(1).chain()[h - 1].block.proposal;
      std::vector<Tx> txs;
      for (const Bytes& t : p.txs) txs.push_back(*Tx::decode(t));
      ledger->executeBlock(h, p.header.timeMs, txs);
    }
    return std::move(*ledger);
  }
  /// A stable checkpoint at `height` as replicas 0-2 would sign it.
  StoreCheckpoint checkpointAt(std::uint64_t height) const {
    Ledger ledger = ledgerAt(height);
    StoreCheckpoint k{height, ledger.stateRoot(), {}, ledger.encode()};
    for (ReplicaIndex i = 0; i < 3; ++i)
      k.signatures.push_back({i, cluster_->replicaKey(i).sign(checkpointMessage(
                                     cluster_->genesis().chainId(), height, k.stateRoot))});
    return k;
  }

  std::unique_ptr<Cluster> cluster_;
  std::optional<SnapshotResponse> genuine_;
  std::unique_ptr<MemoryStore> store_;
  std::unique_ptr<Replica> fresh_;
};

TEST_F(StateTransfer, EveryForgeryIsRefusedAndTheGenuineSnapshotIsInstalled) {
  Cluster& c = *cluster_;
  const SnapshotResponse& g = *genuine_;
  ASSERT_EQ(baseHeight() % kInterval, 0u);
  ASSERT_GE(g.signatures.size(), 3u);
  // A seed for fuzz.pool (tests/fuzz/pool_corpus), written when asked.
  if (const char* dir = std::getenv("FLO_WRITE_POOL_SEEDS")) {
    Bytes bytes = encodeMessage(g);
    std::ofstream(std::string(dir) + "/snapshot_1", std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
  auto forged = [&](const std::function<void(SnapshotResponse&)>& lie) {
    SnapshotResponse r = g;
    lie(r);
    return r;
  };
  const std::pair<const char*, SnapshotResponse> forgeries[] = {
      {"another ledger under the signed root", forgedSnapshot(g, c.genesis(), 0)},
      {"another ledger with its own root", forgedSnapshot(g, c.genesis(), 1)},
      {"one signature of a quorum's", forgedSnapshot(g, c.genesis(), 2)},
      {"a snapshot that does not decode", forged([](SnapshotResponse& r) {
         r.snapshot.resize(r.snapshot.size() / 2);
         r.size = r.snapshot.size();
       })},
      {"fewer signatures than a quorum",
       forged([](SnapshotResponse& r) { r.signatures.resize(2); })},
      {"one signer three times", forged([](SnapshotResponse& r) {
         r.signatures = {r.signatures[0], r.signatures[0], r.signatures[0]};
       })},
      {"a signature broken",
       forged([](SnapshotResponse& r) { r.signatures[1].signature[7] ^= 1; })},
      {"the base's transactions changed", forged([](SnapshotResponse& r) {
         auto& txs = r.blocks.front().proposal.txs;
         if (txs.empty())
           txs.push_back(Bytes{1, 2, 3});
         else
           txs.pop_back();
       })},
      {"the base's certificate broken",
       forged([](SnapshotResponse& r) { r.blocks.front().qc.votes[0].signature[3] ^= 1; })},
      {"the commit proof's certificate broken",
       forged([](SnapshotResponse& r) { r.childQc.votes[0].signature[3] ^= 1; })},
      {"the commit proof's child altered", forged([](SnapshotResponse& r) { r.child.round += 1; })},
      {"the same state in other bytes (accounts reversed)", forged([&](SnapshotResponse& r) {
         auto ledger = core::decodeRecord(r.snapshot, "ledger-state");
         Value::Array& accounts = ledger->body.at("accounts").asArray();
         std::reverse(accounts.begin(), accounts.end());
         r.snapshot = core::encodeRecord(*ledger);
         ASSERT_EQ(Ledger::decode(c.genesis(), r.snapshot)->stateRoot(), g.stateRoot);
       })},
      {"the base's proposer signature broken",
       forged([](SnapshotResponse& r) { r.blocks.front().proposal.signature[9] ^= 1; })},
      {"the base's justification broken", forged([](SnapshotResponse& r) {
         r.blocks.front().proposal.justify.votes[0].signature[2] ^= 1;
       })},
      {"a base not at a checkpoint", forged([](SnapshotResponse& r) {
         if (r.blocks.size() == 1)
           r.blocks.front().proposal.header.height += 1;
         else
           r.blocks.erase(r.blocks.begin());
       })},
      {"a signer outside the committee",
       forged([](SnapshotResponse& r) { r.signatures[0].replica = 99; })},
      {"more signatures than replicas", forged([](SnapshotResponse& r) {
         for (int i = 0; i < 3; ++i) r.signatures.push_back(r.signatures[0]);
       })},
      {"no blocks", forged([](SnapshotResponse& r) { r.blocks.clear(); })},
  };
  std::uint64_t invalid = fresh_->metrics().invalidMessages;
  for (const auto& [what, r] : forgeries) {
    std::vector<Effect> effects = feed(r);
    EXPECT_EQ(fresh_->metrics().invalidMessages, invalid + 1) << what;
    invalid = fresh_->metrics().invalidMessages;
    EXPECT_EQ(fresh_->committedHeight(), 0u) << what;
    EXPECT_EQ(fresh_->ledger().height(), 0u) << what;
    for (const Effect& e : effects)
      EXPECT_FALSE(std::holds_alternative<InstallSnapshot>(e)) << what;
  }
  EXPECT_EQ(fresh_->metrics().snapshotsInstalled, 0u);

  std::vector<Effect> effects = feed(g);
  EXPECT_EQ(fresh_->metrics().invalidMessages, invalid);
  EXPECT_EQ(fresh_->metrics().snapshotsInstalled, 1u);
  const std::uint64_t tip = fresh_->committedHeight();
  EXPECT_EQ(tip, baseHeight() + g.blocks.size() - 1);
  // The state of the pool at that height, by the ledger and by the block.
  EXPECT_EQ(fresh_->ledger().stateRoot(), c.store(1).roots()[tip - 1]);
  EXPECT_EQ(fresh_->committedId(), c.store(1).chain()[tip - 1].block.qc.block);
  EXPECT_TRUE(std::any_of(effects.begin(), effects.end(), [](const Effect& e) {
    return std::holds_alternative<InstallSnapshot>(e);
  }));
  // The store holds the base and what came after it, not the heights skipped.
  EXPECT_FALSE(store_->holds(1));
  EXPECT_FALSE(store_->holds(baseHeight() - 1));
  EXPECT_TRUE(store_->holds(baseHeight()));
  EXPECT_FALSE(store_->committed(baseHeight() - 1));
  EXPECT_EQ(store_->stableCheckpoint(), baseHeight());
  EXPECT_EQ(store_->restore().ledger.stateRoot(), fresh_->ledger().stateRoot());
  // Asked from inside its gap, it has no blocks to give but the state it holds: a snapshot,
  // to a probe too, at its base.
  for (const auto& [peer, request] :
       {std::pair{ReplicaIndex(0), SyncRequest{baseHeight() - 1, 256}},
        std::pair{ReplicaIndex(2), SyncRequest{baseHeight() - 1, 1}}}) {
    std::vector<Effect> answer = ask(peer, request);
    ASSERT_EQ(answer.size(), 1u) << request.max;
    const auto* send = std::get_if<SendTo>(&answer.front());
    ASSERT_TRUE(send && send->to == peer);
    const auto* snapshot = std::get_if<SnapshotResponse>(&send->message);
    ASSERT_TRUE(snapshot) << messageName(send->message);
    EXPECT_EQ(snapshot->blocks.front().proposal.header.height, baseHeight());
    EXPECT_EQ(snapshot->snapshot, g.snapshot);
  }
  // The same answer again is stale: nothing changes.
  const std::uint64_t stale = fresh_->metrics().staleMessages;
  feed(g);
  EXPECT_EQ(fresh_->metrics().staleMessages, stale + 1);
  EXPECT_EQ(fresh_->metrics().snapshotsInstalled, 1u);
}

/// A snapshot larger than a replica puts in one message goes in parts: the response with the
/// first bytes and the whole size, then SnapshotParts. The receiver assembles them in any order
/// and checks the whole; a part of another state, overlapping another, past the size or from
/// another peer is refused, and altered bytes fail the whole (nothing is installed); the
/// sender's silence ends the wait, and sync asks again.
TEST_F(StateTransfer, ASnapshotInPartsIsAssembledInAnyOrderAndEveryForgeryRefused) {
  Cluster& c = *cluster_;
  // What replica 2 sends a replica at height 0 with parts of 128 bytes.
  constexpr std::size_t kPart = 128;
  c.replica(2).setSnapshotPartBytes(kPart);
  std::optional<SnapshotResponse> head;
  std::vector<SnapshotPart> parts;
  c.net().setTap([&](const core::Address&, const core::Address& to, core::Bytes& bytes) {
    auto m = decodeMessage(bytes.data(), bytes.size(), c.genesis().params.maxBlockTxs);
    if (to != c.net().address(3) || !m) return true;
    if (auto* r = std::get_if<SnapshotResponse>(&*m)) head = *r;
    if (auto* p = std::get_if<SnapshotPart>(&*m)) parts.push_back(*p);
    return true;
  });
  c.net().inject(c.net().address(3), c.net().address(2), encodeMessage(SyncRequest{1, 256}));
  auto received = [&] {
    std::size_t bytes = head ? head->snapshot.size() : 0;
    for (const SnapshotPart& p : parts) bytes += p.bytes.size();
    return bytes;
  };
  ASSERT_TRUE(c.runUntil([&] { return head && received() >= head->size; }, 2000ms));
  c.net().setTap(nullptr);
  ASSERT_GT(head->size, 3 * kPart) << "the test needs a snapshot of several parts";
  ASSERT_EQ(head->snapshot.size(), kPart);
  std::uint64_t offset = kPart;
  for (const SnapshotPart& p : parts) {
    EXPECT_EQ(p.offset, offset);
    EXPECT_EQ(p.stateRoot, head->stateRoot);
    EXPECT_EQ(p.height, head->blocks.front().proposal.header.height);
    offset += p.bytes.size();
  }
  ASSERT_EQ(offset, head->size);
  ASSERT_GE(parts.size(), 3u);
  // Seeds for fuzz.pool (tests/fuzz/pool_corpus), written when asked.
  if (const char* dir = std::getenv("FLO_WRITE_POOL_SEEDS")) {
    for (const auto& [name, bytes] : {std::pair{"snapshot_head_1", encodeMessage(*head)},
                                      std::pair{"snapshot_part_1", encodeMessage(parts[1])}})
      std::ofstream(std::string(dir) + "/" + name, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }

  // The fresh replica's own clock, moved on by hand. It learns it is behind from a proposal it
  // cannot place, and asks its proposer for blocks: the only peer whose parts it then takes
  // (whoever made them: here the bytes replica 2 sent).
  Time t = Clock::now();
  const Proposal& last = head->blocks.back().proposal;
  const ReplicaIndex sender = last.header.proposer, other = sender == 0 ? 1 : 0;
  ASSERT_NE(sender, 3u);
  auto give = [&](ReplicaIndex from, const Message& message) {
    fresh_->onReplicaMessage(from, message, t);
    std::vector<Effect> effects = fresh_->takeEffects();
    keep(effects);
    return effects;
  };
  auto asked = [](const std::vector<Effect>& effects) {
    return std::any_of(effects.begin(), effects.end(), [](const Effect& e) {
      const auto* send = std::get_if<SendTo>(&e);
      return send && std::holds_alternative<SyncRequest>(send->message);
    });
  };
  auto askSender = [&] {
    t += 300ms; // past the last request's retry time
    return asked(give(sender, ProposalMsg{last}));
  };
  ASSERT_TRUE(askSender());
  auto withPart = [&](std::size_t i, const std::function<void(SnapshotPart&)>& lie) {
    SnapshotPart p = parts[i];
    lie(p);
    return p;
  };
  // Each try on a replica of its own: one whose sender's snapshot failed takes no other
  // from it until one is installed (checked below).
  auto restart = [&] {
    store_ = std::make_unique<MemoryStore>(c.genesis());
    fresh_ = std::make_unique<Replica>(
        c.genesis(), ReplicaIndex(3), c.replicaKey(3), *store_,
        [](Time) { return std::uint64_t(4'000'000'000'000); }, t);
    keep(fresh_->takeEffects());
    ASSERT_TRUE(askSender());
  };
  const std::pair<const char*, SnapshotPart> forgeries[] = {
      {"another state's part", withPart(1, [](SnapshotPart& p) { p.stateRoot[0] ^= 1; })},
      {"another height's part", withPart(1, [](SnapshotPart& p) { p.height += kInterval; })},
      {"a part over the first", withPart(0, [](SnapshotPart& p) { p.offset = 0; })},
      {"a part off the parts' grid", withPart(1, [](SnapshotPart& p) { p.offset += 1; })},
      {"a part past the size",
       withPart(parts.size() - 1, [](SnapshotPart& p) { p.bytes.push_back(0); })},
      {"a short part", withPart(1, [](SnapshotPart& p) { p.bytes.pop_back(); })},
      {"the same place, other bytes", withPart(0, [](SnapshotPart& p) { p.bytes[3] ^= 1; })},
  };
  for (const auto& [what, lie] : forgeries) {
    restart();
    give(sender, *head);
    const std::uint64_t invalid = fresh_->metrics().invalidMessages;
    give(sender, parts[0]);
    give(sender, lie);
    EXPECT_EQ(fresh_->metrics().invalidMessages, invalid + 1) << what;
    // The snapshot ended with the lie: the genuine rest is stale (kept as early parts of a
    // next answer at most), and nothing was installed.
    for (std::size_t i = 1; i < parts.size(); ++i) give(sender, parts[i]);
    EXPECT_EQ(fresh_->metrics().snapshotsInstalled, 0u) << what;
    EXPECT_EQ(fresh_->metrics().invalidMessages, invalid + 1) << what;
  }
  // Every part, one of them altered: the whole fails its check and nothing is installed.
  restart();
  give(sender, *head);
  std::uint64_t invalid = fresh_->metrics().invalidMessages;
  for (std::size_t i = 0; i < parts.size(); ++i)
    give(sender, i == 1 ? withPart(1, [](SnapshotPart& p) { p.bytes[5] ^= 1; }) : parts[i]);
  EXPECT_EQ(fresh_->metrics().invalidMessages, invalid + 1);
  EXPECT_EQ(fresh_->metrics().snapshotsInstalled, 0u);
  EXPECT_EQ(fresh_->committedHeight(), 0u);

  // While one arrives: another peer's parts and start, and its own start again, are stale; a
  // duplicate part too; sync asks no one, and each part moves the silence's end on.
  restart();
  give(sender, *head);
  const Time firstSilence = t + Replica::kSnapshotPartWait;
  std::uint64_t stale = fresh_->metrics().staleMessages;
  give(other, parts[0]);
  give(other, *head);
  give(sender, *head);
  give(sender, parts[0]);
  give(sender, parts[0]);
  EXPECT_EQ(fresh_->metrics().staleMessages, stale + 4);
  t += Replica::kSnapshotPartWait / 2;
  fresh_->onTimer(t);
  EXPECT_FALSE(asked(fresh_->takeEffects()));
  give(sender, parts[1]);
  fresh_->onTimer(firstSilence + 1ms);
  EXPECT_FALSE(asked(fresh_->takeEffects()));
  // Silent past the wait: it ends, and sync asks the next peer. That sender's snapshot failed:
  // asked again, its next start is not taken.
  t += Replica::kSnapshotPartWait;
  fresh_->onTimer(t);
  EXPECT_TRUE(asked(fresh_->takeEffects()));
  ASSERT_TRUE(askSender());
  const std::uint64_t barred = fresh_->metrics().staleMessages;
  give(sender, *head);
  EXPECT_EQ(fresh_->metrics().staleMessages, barred + 1);
  // For a while: after kSnapshotBar it may try again.
  t += Replica::kSnapshotBar;
  ASSERT_TRUE(askSender());
  const std::uint64_t taken = fresh_->metrics().snapshotParts;
  give(sender, *head);
  give(sender, parts[0]);
  EXPECT_EQ(fresh_->metrics().snapshotParts, taken + 1);
  // Nor can a sender that keeps sending hold it past its deadline: twice the wait (and the
  // size at 8 MiB/s, nothing here) after its start; a part after that is not taken in.
  restart();
  give(sender, *head);
  const Time deadline = t + 2 * Replica::kSnapshotPartWait;
  for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
    t += Replica::kSnapshotPartWait - 1s;
    give(sender, parts[i]);
  }
  ASSERT_GT(t + 1s, deadline) << "the test needs parts past the deadline";
  fresh_->onTimer(std::max(t, deadline));
  EXPECT_TRUE(asked(fresh_->takeEffects()));
  const std::uint64_t parts0 = fresh_->metrics().snapshotParts;
  give(sender, parts[2]);
  EXPECT_EQ(fresh_->metrics().snapshotParts, parts0);

  // The genuine parts, some before the start (a reordering network), the rest in reverse
  // order: installed, the state the whole one gives. Another peer's forged whole snapshot
  // meanwhile is refused and does not end it.
  restart();
  const std::size_t early = parts.size() / 2;
  for (std::size_t i = 0; i < early; ++i) give(sender, parts[i]);
  give(sender, *head);
  SnapshotResponse forgedWhole = *genuine_;
  forgedWhole.snapshot[10] ^= 1;
  give(other, forgedWhole);
  EXPECT_EQ(fresh_->metrics().invalidMessages, 1u);
  for (std::size_t i = parts.size(); i-- > early;) give(sender, parts[i]);
  EXPECT_EQ(fresh_->metrics().snapshotsInstalled, 1u);
  EXPECT_EQ(fresh_->metrics().invalidMessages, 1u);
  EXPECT_EQ(fresh_->ledger().stateRoot(), c.store(2).roots()[fresh_->committedHeight() - 1]);
  EXPECT_EQ(store_->stableCheckpoint(), head->blocks.front().proposal.header.height);
}

/// A base just above the tip skips nothing: its blocks are executed as synced ones, the base
/// included, and the chain has no gap.
TEST_F(StateTransfer, ABaseJustAboveTheTipIsSyncedNotInstalled) {
  Cluster& c = *cluster_;
  MemoryStore behind(c.genesis());
  const MemoryStore& peer = c.store(1);
  for (std::uint64_t h = 1; h < baseHeight(); ++h) {
    const StoredBlock& b = peer.chain()[h - 1];
    behind.apply(
        CommitBlock{b.block, peer.results()[h - 1], peer.roots()[h - 1], b.child, b.childQc});
  }
  Replica replica(
      c.genesis(), ReplicaIndex(3), c.replicaKey(3), behind,
      [](Time) { return std::uint64_t(4'000'000'000'000); }, behind.restore(), Clock::now());
  ASSERT_EQ(replica.committedHeight(), baseHeight() - 1);
  replica.onReplicaMessage(1, *genuine_, Clock::now());
  for (const Effect& e : replica.takeEffects())
    if (isDurable(e)) behind.apply(e);
  EXPECT_EQ(replica.metrics().snapshotsInstalled, 0u);
  EXPECT_EQ(replica.metrics().syncedBlocks, genuine_->blocks.size());
  const std::uint64_t tip = baseHeight() + genuine_->blocks.size() - 1;
  EXPECT_EQ(replica.committedHeight(), tip);
  EXPECT_FALSE(behind.hasHoles());
  EXPECT_EQ(behind.results()[baseHeight() - 1], peer.results()[baseHeight() - 1]);
  EXPECT_EQ(replica.ledger().stateRoot(), peer.roots()[tip - 1]);
}

/// Blocks, not a snapshot, for a peer less than two checkpoints behind, and for a probe of one
/// block (what a restarted replica sends every peer) however far behind.
TEST_F(StateTransfer, AClosePeerAndAProbeGetBlocks) {
  Cluster& c = *cluster_;
  const std::uint64_t close = c.commonHeight({0, 1, 2}) - kInterval;
  for (const SyncRequest& request : {SyncRequest{close, 4}, SyncRequest{1, 1}}) {
    std::optional<Message> answer;
    c.net().setTap([&](const core::Address&, const core::Address& to, core::Bytes& bytes) {
      auto m = decodeMessage(bytes.data(), bytes.size(), c.genesis().params.maxBlockTxs);
      if (to == c.net().address(3) && m &&
          (std::holds_alternative<SyncResponse>(*m) ||
           std::holds_alternative<SnapshotResponse>(*m)))
        answer = std::move(m);
      return true;
    });
    c.net().inject(c.net().address(3), c.net().address(2), encodeMessage(request));
    ASSERT_TRUE(c.runUntil([&] { return answer.has_value(); }, 2000ms));
    ASSERT_TRUE(std::holds_alternative<SyncResponse>(*answer)) << messageName(*answer);
    EXPECT_EQ(std::get<SyncResponse>(*answer).blocks.front().proposal.header.height,
              request.fromHeight);
  }
}

/// SQLite keeps what the memory store keeps: the base above a gap, its snapshot for good, and
/// the blocks committed after it; it opens again, verify-chain accepts the gap at a base, and a
/// gap without one (the base's snapshot gone) is refused by both.
TEST_F(StateTransfer, TheSqliteStoreKeepsTheChainAboveTheGapAndVerifiesIt) {
  Cluster& c = *cluster_;
  TempDir dir("transfer");
  const std::string path = dir.file("replica.db");
  std::uint64_t tip = 0;
  {
    std::string why;
    auto store = SqliteStore::open(path, c.genesis(), &why);
    ASSERT_TRUE(store) << why;
    ASSERT_TRUE(store->apply(feed(*genuine_), &why)) << why;
    tip = fresh_->committedHeight();
    ASSERT_GT(tip, 0u);
    // Blocks committed after it, as replica 1 committed them, and two stable checkpoints: the
    // older one's snapshot goes when the newer comes, the base's stays.
    const MemoryStore& peer = c.store(1);
    const std::uint64_t second = baseHeight() + 2 * kInterval;
    for (std::uint64_t h = tip + 1; h <= second; ++h) {
      const StoredBlock& b = peer.chain()[h - 1];
      std::vector<Effect> step{
          CommitBlock{b.block, peer.results()[h - 1], peer.roots()[h - 1], b.child, b.childQc}};
      if (h % kInterval == 0) step.emplace_back(checkpointAt(h));
      ASSERT_TRUE(store->apply(step, &why)) << why;
    }
    tip = store->tipHeight();
    ASSERT_EQ(tip, second);
    ASSERT_TRUE(store->apply(Effect(checkpointAt(second)), &why)) << why;
    EXPECT_FALSE(store->committed(1));
    EXPECT_EQ(store->corruptReads(), 0u);
    auto latest = store->latestCheckpoint();
    ASSERT_TRUE(latest);
    EXPECT_EQ(latest->height, second);
    EXPECT_EQ(latest->snapshot, ledgerAt(second).encode());
  }
  auto snapshotKept = [&](std::uint64_t height) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    const std::string sql =
        "SELECT snapshot IS NOT NULL FROM checkpoints WHERE height = " + std::to_string(height);
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    bool kept = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return kept;
  };
  EXPECT_TRUE(snapshotKept(baseHeight()));
  EXPECT_FALSE(snapshotKept(baseHeight() + kInterval));
  EXPECT_TRUE(snapshotKept(baseHeight() + 2 * kInterval));
  {
    std::string why;
    auto store = SqliteStore::open(path, c.genesis(), &why);
    ASSERT_TRUE(store) << why;
    EXPECT_EQ(store->tipHeight(), tip);
    EXPECT_EQ(store->restore().ledger.stateRoot(), c.store(1).roots()[tip - 1]);
  }
  VerifyReport report = verifyChain(path, &c.genesis());
  ASSERT_TRUE(report.ok()) << report.toJson();
  EXPECT_EQ(report.verifiedHeight, tip);
  EXPECT_EQ(report.blocks, tip - baseHeight() + 1);
  EXPECT_EQ(report.checkpoints, 3u);
  ASSERT_EQ(report.gaps.size(), 1u);
  EXPECT_EQ(report.gaps[0], std::make_pair(std::uint64_t(1), baseHeight() - 1));
  EXPECT_EQ(report.stateRoot, c.store(1).roots()[tip - 1]);

  // The base's snapshot gone: a gap nothing explains.
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql =
        "UPDATE checkpoints SET snapshot = NULL WHERE height = " + std::to_string(baseHeight());
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  std::string why;
  EXPECT_FALSE(SqliteStore::open(path, c.genesis(), &why));
  EXPECT_NE(why.find("table blocks, height 1: missing (the chain has a gap)"), std::string::npos)
      << why;
  VerifyReport broken = verifyChain(path, &c.genesis());
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.problem->height, 1u);
  EXPECT_NE(broken.problem->reason.find("missing"), std::string::npos) << broken.toJson();
}

} // namespace
} // namespace flo::pool
