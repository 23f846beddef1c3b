/// \file
/// The replica's SQLite store (pool/store) on a simulated pool: it keeps what the in-memory fake
/// keeps, step by step, and restarts replicas from disk (POOL-TESTING F6); it refuses what it
/// must not trust and survives a torn or bit-flipped WAL tail and a full disk (F16); it fsyncs
/// what a vote relies on, so a power cut loses no vote; and verifyChain finds the first tampered
/// height.
#include "core/check.h"
#include "pool/sim/memory_store.h"
#include "pool/store/records.h"
#include "pool/store/replica_store.h"
#include "pool/store/sqlite.h"
#include "pool/store/verify_chain.h"
#include "pool/store/wal_checkpointer.h"
#include "sim/network.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sys/resource.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "temp_dir.h"

namespace flo::pool {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::uint64_t kGenesisTimeMs = 1'767'225'600'000;

core::SigningKey keyFrom(std::uint64_t seed, std::string_view what, std::uint64_t index) {
  core::Value::Map m{{"seed", seed}, {"what", std::string(what)}, {"index", index}};
  core::Digest d = core::hash(core::encode(core::Value(std::move(m))));
  core::Seed s;
  std::copy(d.begin(), d.end(), s.data());
  return core::SigningKey::fromSeed(s);
}

std::uint64_t wallOf(core::Time now) {
  return kGenesisTimeMs + std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            now - sim::Clock::kEpoch)
                                            .count());
}

/// Two restart states are the same: safety, ledger, tip and pending blocks.
void expectSameRestored(const Restored& a, const Restored& b, const std::string& what) {
  EXPECT_EQ(a.safety, b.safety) << what;
  EXPECT_EQ(a.ledger.encode(), b.ledger.encode()) << what;
  EXPECT_EQ(a.ledger.stateRoot(), b.ledger.stateRoot()) << what;
  EXPECT_EQ(a.tip, b.tip) << what;
  EXPECT_EQ(a.tipQc, b.tipQc) << what;
  EXPECT_EQ(a.pending, b.pending) << what;
}

/// StoredBlock has no operator==: the same block, child and certificate.
::testing::AssertionResult sameStored(const std::optional<StoredBlock>& a,
                                      const std::optional<StoredBlock>& b) {
  if (!a || !b) return ::testing::AssertionFailure() << (a ? "second" : "first") << " absent";
  if (!(a->block == b->block)) return ::testing::AssertionFailure() << "different blocks";
  if (!(a->child == b->child)) return ::testing::AssertionFailure() << "different children";
  if (!(a->childQc == b->childQc))
    return ::testing::AssertionFailure() << "different child certificates";
  return ::testing::AssertionSuccess();
}

std::uint64_t txsIn(const MemoryStore& m) {
  std::uint64_t n = 0;
  for (const StoredBlock& b : m.chain()) n += b.block.proposal.txs.size();
  return n;
}

// ---- a pool whose replicas keep their effects in SQLite ----------------------------------------

/// The clients: sends what the test queues, ignores the replies.
class ClientNode final : public sim::Node {
public:
  void queue(core::Address to, Bytes bytes) { out_.push_back({std::move(to), std::move(bytes)}); }
  void onPacket(const core::Address&, const Bytes&, core::Time) override {}
  void onTimer(core::Time) override {}
  std::optional<core::Time> nextTimer() const override { return std::nullopt; }
  std::vector<core::Datagram> takeOutgoing() override { return std::exchange(out_, {}); }

private:
  std::vector<core::Datagram> out_;
};

/// n replicas on sim's network. Each node applies every step's effects to its SqliteStore in one
/// transaction, before sending anything (as the daemon will), and to a MemoryStore, the
/// reference that survives everything; peers that are behind are answered from the SqliteStore.
/// A restart reopens the SQLite file and restores from it, and checks that against the
/// MemoryStore's restore().
class StorePool {
public:
  StorePool(std::size_t n, PoolParams params, const TempDir& dir, std::uint64_t seed = 7)
      : dir_(dir), net_(seed) {
    genesis_.name = "store-test";
    genesis_.timeMs = kGenesisTimeMs;
    genesis_.params = params;
    for (std::size_t i = 0; i < n; ++i) {
      replicaKeys_.push_back(keyFrom(seed, "replica", i));
      genesis_.replicas.push_back({core::didKey(replicaKeys_.back().publicKey()),
                                   replicaKeys_.back().publicKey(), "127.0.0.1",
                                   std::uint16_t(7000 + i)});
    }
    for (std::size_t i = 0; i < 8; ++i) {
      accountKeys_.push_back(keyFrom(seed, "account", i));
      genesis_.accounts.push_back(
          {"account" + std::to_string(i), accountKeys_.back().publicKey(), 1'000'000});
    }
    nonces_.assign(accountKeys_.size(), 0);
    std::string why;
    FLO_CHECK(genesis_.validate(&why));
    sqlite_.resize(n);
    for (std::size_t i = 0; i < n; ++i) memory_.push_back(std::make_unique<MemoryStore>(genesis_));
    for (std::size_t i = 0; i < n; ++i)
      net_.add({"replica", std::uint16_t(i + 1)},
               [this, i](const sim::NodeContext& ctx) { return makeReplica(i, ctx); });
    client_ = net_.add({"client", 1}, [](const sim::NodeContext&) -> std::unique_ptr<sim::Node> {
      return std::make_unique<ClientNode>();
    });
  }

  const Genesis& genesis() const { return genesis_; }
  sim::Network& net() { return net_; }
  std::size_t size() const { return sqlite_.size(); }
  SqliteStore& sqlite(std::size_t r) { return *sqlite_.at(r); }
  MemoryStore& memory(std::size_t r) { return *memory_.at(r); }
  std::string path(std::size_t r) const { return dir_.file("replica" + std::to_string(r) + ".db"); }
  std::size_t restarts() const { return restarts_; }
  Replica& replica(std::size_t r);
  /// Closes replica r's store (the replica must be down, or the pool gone after).
  void closeStore(std::size_t r) { sqlite_.at(r).reset(); }

  /// Transfers from the accounts in turn, sent to every replica.
  void submit(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      std::size_t a = next_++ % accountKeys_.size();
      Tx tx = makeTx(accountKeys_[a], genesis_.chainId(), nonces_[a]++,
                     Transfer{accountKeys_[(a + 1) % accountKeys_.size()].publicKey(), 10});
      Bytes bytes = encodeMessage(Submit{tx.encode()});
      for (std::size_t r = 0; r < size(); ++r)
        net_.nodeAs<ClientNode>(client_).queue(net_.address(r), bytes);
      ++submitted_;
    }
    net_.flush();
  }
  /// Runs until every replica that is up has committed every transaction submitted.
  bool runUntilCommitted(std::chrono::milliseconds limit) {
    return net_.runUntil(
        [&] {
          for (std::size_t r = 0; r < size(); ++r)
            if (net_.isUp(r) && txsIn(*memory_[r]) < submitted_) return false;
          return true;
        },
        limit);
  }

private:
  class ReplicaNode;
  std::unique_ptr<sim::Node> makeReplica(std::size_t r, const sim::NodeContext& ctx);

  const TempDir& dir_;
  Genesis genesis_;
  std::vector<core::SigningKey> replicaKeys_, accountKeys_;
  std::vector<std::uint64_t> nonces_;
  std::size_t next_ = 0, submitted_ = 0, restarts_ = 0;
  std::vector<std::unique_ptr<SqliteStore>> sqlite_;
  std::vector<std::unique_ptr<MemoryStore>> memory_;
  sim::Network net_; // destroyed first: its nodes hold replicas reading the stores above
  sim::NodeId client_ = 0;
};

class StorePool::ReplicaNode final : public sim::Node {
public:
  ReplicaNode(StorePool& pool, std::size_t index, std::unique_ptr<Replica> replica)
      : pool_(pool), index_(index), replica_(std::move(replica)) {}

  Replica& replica() { return *replica_; }

  void onPacket(const core::Address& from, const Bytes& bytes, core::Time now) override {
    auto m = decodeMessage(bytes.data(), bytes.size(), pool_.genesis_.params.maxBlockTxs);
    if (!m) return;
    auto sender = pool_.net_.find(from);
    if (sender && *sender < pool_.size())
      replica_->onReplicaMessage(ReplicaIndex(*sender), *m, now);
    else
      replica_->onClientMessage(1, *m, now);
    drain();
  }
  void onTimer(core::Time now) override {
    replica_->onTimer(now);
    drain();
  }
  std::optional<core::Time> nextTimer() const override { return replica_->nextTimer(); }
  std::vector<core::Datagram> takeOutgoing() override {
    drain();
    return std::exchange(out_, {});
  }

  /// One step's effects: durable first, in one transaction, then the messages.
  void drain() {
    std::vector<Effect> effects = replica_->takeEffects();
    std::string why;
    if (!pool_.sqlite(index_).apply(effects, &why)) ADD_FAILURE() << why;
    for (const Effect& e : effects) pool_.memory(index_).apply(e);
    for (const Effect& e : effects) {
      if (const auto* s = std::get_if<SendTo>(&e)) {
        out_.push_back({pool_.net_.address(s->to), encodeMessage(s->message)});
      } else if (const auto* b = std::get_if<Broadcast>(&e)) {
        Bytes bytes = encodeMessage(b->message);
        for (std::size_t r = 0; r < pool_.size(); ++r)
          if (r != index_) out_.push_back({pool_.net_.address(r), bytes});
      }
    }
  }

private:
  StorePool& pool_;
  std::size_t index_;
  std::unique_ptr<Replica> replica_;
  std::vector<core::Datagram> out_;
};

Replica& StorePool::replica(std::size_t r) {
  return net_.nodeAs<ReplicaNode>(r).replica();
}

std::unique_ptr<sim::Node> StorePool::makeReplica(std::size_t r, const sim::NodeContext& ctx) {
  // A restart: the file is all that survives (the MemoryStore is the test's reference).
  sqlite_[r].reset();
  std::string why;
  sqlite_[r] = SqliteStore::open(path(r), genesis_, &why);
  if (!sqlite_[r]) std::fprintf(stderr, "%s\n", why.c_str());
  FLO_CHECK(sqlite_[r] != nullptr);
  SqliteStore& store = *sqlite_[r];
  EXPECT_EQ(store.empty(), memory_[r]->empty()) << "replica " << r;
  std::unique_ptr<Replica> replica;
  if (store.empty()) {
    replica = std::make_unique<Replica>(genesis_, ReplicaIndex(r), replicaKeys_[r], store, wallOf,
                                        ctx.now);
  } else {
    ++restarts_;
    Restored restored = store.restore();
    expectSameRestored(restored, memory_[r]->restore(), "restart of replica " + std::to_string(r));
    replica = std::make_unique<Replica>(genesis_, ReplicaIndex(r), replicaKeys_[r], store, wallOf,
                                        std::move(restored), ctx.now);
  }
  return std::make_unique<ReplicaNode>(*this, r, std::move(replica));
}

PoolParams smallParams() {
  PoolParams p;
  p.checkpointInterval = 8;
  p.maxBlockTxs = 4; // many blocks from few transactions
  return p;
}

/// Everything a SqliteStore holds equals what the MemoryStore beside it holds.
void expectSameStores(const SqliteStore& s, const MemoryStore& m, const std::string& what) {
  ASSERT_EQ(s.tipHeight(), m.chain().size()) << what;
  for (std::uint64_t h = 1; h <= s.tipHeight(); ++h) {
    EXPECT_TRUE(sameStored(s.committed(h), m.committed(h))) << what << " height " << h;
    EXPECT_EQ(s.results(h), m.results()[h - 1]) << what << " height " << h;
    EXPECT_EQ(s.stateRoot(h), m.roots()[h - 1]) << what << " height " << h;
  }
  EXPECT_FALSE(s.committed(s.tipHeight() + 1));
  EXPECT_FALSE(s.committed(0));
  EXPECT_EQ(s.stableCheckpoint(), m.stableCheckpoint()) << what;
  expectSameRestored(s.restore(), m.restore(), what);
}

TEST(SqliteStore, KeepsWhatTheMemoryStoreKeepsStepByStep) {
  TempDir dir("keeps");
  StorePool pool(4, smallParams(), dir);
  for (int wave = 0; wave < 6; ++wave) {
    pool.submit(6);
    ASSERT_TRUE(pool.runUntilCommitted(10000ms)) << "wave " << wave;
  }
  pool.net().runFor(300ms);
  for (std::size_t r = 0; r < pool.size(); ++r) {
    SCOPED_TRACE("replica " + std::to_string(r));
    EXPECT_GE(pool.sqlite(r).tipHeight(), 9u);
    EXPECT_GT(pool.sqlite(r).stableCheckpoint(), 0u); // the snapshot path is exercised
    EXPECT_TRUE(pool.sqlite(r).safety().has_value());
    expectSameStores(pool.sqlite(r), pool.memory(r), "open");
  }
  // Reopened from the files alone (the pool stopped: no replica writes any more).
  for (std::size_t r = 0; r < pool.size(); ++r) {
    pool.net().crash(r);
    pool.closeStore(r);
    std::string why;
    auto reopened = SqliteStore::open(pool.path(r), pool.genesis(), &why);
    ASSERT_TRUE(reopened) << why;
    expectSameStores(*reopened, pool.memory(r), "reopened replica " + std::to_string(r));
    VerifyReport v = verifyChain(pool.path(r));
    EXPECT_TRUE(v.ok()) << v.toJson();
    EXPECT_EQ(v.verifiedHeight, pool.memory(r).chain().size());
    EXPECT_EQ(v.txs, 36u);
  }
}

// Two replica processes on one store would sign from two safety states: the second open is
// refused, naming the lock, and the store opens again once the first is closed.
TEST(SqliteStore, OneStoreOpenAtATime) {
  TempDir dir("lock");
  StorePool pool(4, smallParams(), dir);
  const Genesis& genesis = pool.genesis();
  std::string path = dir.file("alone.db"), why;
  auto first = SqliteStore::open(path, genesis, &why);
  ASSERT_TRUE(first) << why;
  auto second = SqliteStore::open(path, genesis, &why);
  EXPECT_FALSE(second);
  EXPECT_NE(why.find("in use by another replica process"), std::string::npos) << why;
  VerifyReport v = verifyChain(path); // reading stays possible while it runs
  EXPECT_TRUE(v.ok()) << v.toJson();
  first.reset();
  auto third = SqliteStore::open(path, genesis, &why);
  EXPECT_TRUE(third) << why;
}

TEST(SqliteStore, APoolKilledAtOnceRestartsFromItsFilesAndCommitsAgain) {
  TempDir dir("restart");
  StorePool pool(4, smallParams(), dir);
  pool.submit(10);
  ASSERT_TRUE(pool.runUntilCommitted(10000ms));
  // F6: every replica killed at once, then restarted one by one, out of order.
  for (std::size_t r = 0; r < pool.size(); ++r) pool.net().crash(r);
  pool.net().runFor(50ms);
  for (std::size_t r : {2u, 0u, 3u, 1u}) {
    pool.net().restart(r);
    pool.net().runFor(20ms);
  }
  EXPECT_EQ(pool.restarts(), 4u);
  pool.submit(10);
  ASSERT_TRUE(pool.runUntilCommitted(20000ms));
  // One replica down while the others go on: it catches up from peers that answer from SQLite.
  pool.net().crash(3);
  pool.submit(20);
  ASSERT_TRUE(pool.runUntilCommitted(20000ms));
  pool.net().restart(3);
  ASSERT_TRUE(pool.runUntilCommitted(20000ms));
  pool.net().runFor(300ms);
  EXPECT_GT(pool.replica(3).metrics().syncedBlocks, 0u); // served from the others' SQLite
  EXPECT_EQ(pool.restarts(), 5u);
  for (std::size_t r = 0; r < pool.size(); ++r) {
    SCOPED_TRACE("replica " + std::to_string(r));
    EXPECT_EQ(txsIn(pool.memory(r)), 40u);
    EXPECT_EQ(pool.sqlite(r).corruptReads(), 0u);
    expectSameStores(pool.sqlite(r), pool.memory(r), "after restarts");
    // Every replica holds the same chain.
    for (std::uint64_t h = 1; h <= pool.sqlite(r).tipHeight() && h <= pool.sqlite(0).tipHeight();
         ++h)
      EXPECT_EQ(pool.sqlite(r).committed(h)->block, pool.sqlite(0).committed(h)->block);
    VerifyReport v = verifyChain(pool.path(r), &pool.genesis());
    EXPECT_TRUE(v.ok()) << v.toJson();
    EXPECT_EQ(v.txs, 40u);
  }
}

// ---- one stored chain, copied for each test ------------------------------------------------

/// A pool run once: replica 0's store file and its MemoryStore, which tests copy and spoil.
class StoredChain : public testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("golden");
    StorePool pool(4, smallParams(), *dir_, 11);
    // At least 8 waves, and on until a block with transactions lies above the stable
    // checkpoint (restore re-executes it: VerifyChainAndOpenNameTamperedResults).
    auto lastWithTxs = [&] {
      const auto& results = pool.memory(0).results();
      std::uint64_t h = results.size();
      while (h > 0 && results[h - 1].empty()) --h;
      return h;
    };
    for (int wave = 0; wave < 16; ++wave) {
      pool.submit(wave < 8 ? 7 : 1);
      ASSERT_TRUE(pool.runUntilCommitted(10000ms));
      pool.net().runFor(300ms);
      if (wave >= 7 && lastWithTxs() > pool.memory(0).stableCheckpoint()) break;
    }
    pool.net().crash(0);
    pool.closeStore(0);
    genesis_ = new Genesis(pool.genesis());
    memory_ = new MemoryStore(pool.memory(0));
    golden_ = new std::string(pool.path(0));
  }
  static void TearDownTestSuite() {
    delete memory_;
    delete genesis_;
    delete golden_;
    delete dir_;
  }

  void SetUp() override {
    ASSERT_GE(memory_->chain().size(), 12u);
    ASSERT_GE(memory_->stableCheckpoint(), 8u);
    path_ = work_.file(SqliteStore::kFileName);
    fs::copy_file(*golden_, path_, fs::copy_options::overwrite_existing);
  }

  const Genesis& genesis() const { return *genesis_; }
  const MemoryStore& memory() const { return *memory_; }
  std::uint64_t tip() const { return memory_->chain().size(); }

  /// Runs SQL on the copy with a connection of the test's own; `blob` binds ?1 when given.
  void sql(const std::string& text, const std::optional<Bytes>& blob = std::nullopt) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    if (blob) sqlite3_bind_blob(s, 1, blob->data(), int(blob->size()), SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE) << sqlite3_errmsg(db);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  Bytes blob(const std::string& text) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr);
    Bytes out;
    if (sqlite3_step(s) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
      out.assign(p, p + sqlite3_column_bytes(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
  }
  /// The integer the first row of `text` answers on the copy (-1: none).
  std::int64_t integer(const std::string& text) {
    sqlite3* db = nullptr;
    sqlite3_open(path_.c_str(), &db);
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr);
    std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
  }
  std::string at(std::uint64_t h) { return " WHERE height = " + std::to_string(h); }
  /// The committed block at `h` as it is stored: its proposal (the one row of its height in
  /// `proposals` once it committed) and its certificate.
  std::optional<CommittedBlock> storedBlock(std::uint64_t h) {
    auto p = decodeProposal(blob("SELECT proposal FROM proposals" + at(h)), 1024);
    auto qc = decodeQc(blob("SELECT qc FROM blocks" + at(h)));
    if (!p || !qc) return std::nullopt;
    return CommittedBlock{std::move(*p), std::move(*qc)};
  }
  /// Rewrites the committed block at `h` with `change` applied to it (under the same key).
  template <typename F> void changeBlock(std::uint64_t h, F change) {
    auto b = storedBlock(h);
    ASSERT_TRUE(b);
    change(*b);
    sql("UPDATE proposals SET proposal = ?1" + at(h), encodeProposal(b->proposal));
    sql("UPDATE blocks SET qc = ?1" + at(h), encodeQc(b->qc));
  }
  /// What a store restored to, and how many pending blocks it held.
  struct Remembered {
    std::optional<Restored> restored;
    std::size_t pending = 0;
  };
  /// Opens the copy after a migration: it restores to what it did before, with as many pending
  /// blocks.
  void openMigrated(const Remembered& before, std::unique_ptr<SqliteStore>& store) {
    std::string why;
    store = SqliteStore::open(path_, genesis(), &why);
    ASSERT_TRUE(store) << why;
    auto after = store->tryRestore(&why);
    ASSERT_TRUE(after) << why;
    expectSameRestored(*before.restored, *after, "after the migration");
    EXPECT_EQ(store->pendingCount(), before.pending);
    EXPECT_EQ(store->tipHeight(), tip());
  }
  /// Rewrites the copy in the tables of schema version 2, as a store of that version kept
  /// them: each committed block whole in its row, the pending table only above the tip; what
  /// it restored to before goes to `before`.
  void downgradeToVersion2(Remembered& before) {
    {
      std::string why;
      auto store = SqliteStore::open(path_, genesis(), &why);
      ASSERT_TRUE(store) << why;
      before.restored = store->tryRestore(&why);
      ASSERT_TRUE(before.restored) << why;
      before.pending = store->pendingCount();
    }
    std::vector<std::pair<std::uint64_t, Bytes>> whole;
    for (std::uint64_t h = 1; h <= tip(); ++h) {
      auto b = storedBlock(h);
      ASSERT_TRUE(b) << h;
      whole.emplace_back(h, encodeCommittedBlock(*b));
    }
    sql(R"sql(CREATE TABLE pending(height INTEGER NOT NULL, id BLOB NOT NULL,
  proposal BLOB NOT NULL, PRIMARY KEY(height, id)) WITHOUT ROWID)sql");
    sql("INSERT INTO pending SELECT height, id, proposal FROM proposals WHERE height > " +
        std::to_string(tip()));
    sql(R"sql(CREATE TABLE b2(height INTEGER PRIMARY KEY, id BLOB NOT NULL, block BLOB,
  child BLOB NOT NULL, child_qc BLOB NOT NULL, results BLOB NOT NULL,
  state_root BLOB NOT NULL))sql");
    sql("INSERT INTO b2 SELECT height, id, NULL, child, child_qc, results, state_root FROM blocks");
    for (const auto& [h, bytes] : whole) sql("UPDATE b2 SET block = ?1" + at(h), bytes);
    sql("DROP TABLE blocks");
    sql("DROP TABLE proposals");
    sql("ALTER TABLE b2 RENAME TO blocks");
    sql("PRAGMA user_version=2");
  }
  VerifyReport verify() { return verifyChain(path_, &genesis()); }
  void expectProblemAt(const VerifyReport& v, std::uint64_t height, const std::string& table,
                       const std::string& reason) {
    ASSERT_FALSE(v.ok()) << v.toJson();
    EXPECT_EQ(v.problem->height, height) << v.toJson();
    EXPECT_EQ(v.problem->table, table) << v.toJson();
    EXPECT_NE(v.problem->reason.find(reason), std::string::npos) << v.toJson();
    EXPECT_EQ(v.verifiedHeight, height == 0 ? 0 : height - 1) << v.toJson();
  }
  /// The first and last heights of the commit batches (blocks committed by one proof).
  std::vector<std::uint64_t> batchEnds() const {
    std::vector<std::uint64_t> ends;
    for (std::uint64_t h = 1; h <= tip(); ++h)
      if (memory_->chain()[h - 1].child.parent == memory_->chain()[h - 1].block.qc.block)
        ends.push_back(h);
    return ends;
  }
  /// Commits blocks from..to of the reference chain into `store`, one transaction per commit
  /// batch, as the replica committed them.
  void replay(SqliteStore& store, std::uint64_t from, std::uint64_t to) {
    std::vector<Effect> batch;
    for (std::uint64_t h = from; h <= to; ++h) {
      const StoredBlock& s = memory_->chain()[h - 1];
      batch.push_back(CommitBlock{s.block, memory_->results()[h - 1], memory_->roots()[h - 1],
                                  s.child, s.childQc});
      if (s.child.parent == s.block.qc.block || h == to) {
        std::string why;
        ASSERT_TRUE(store.apply(batch, &why)) << why;
        batch.clear();
      }
    }
  }

  TempDir work_{"work"};
  std::string path_;

private:
  static TempDir* dir_;
  static Genesis* genesis_;
  static MemoryStore* memory_;
  static std::string* golden_;
};

TempDir* StoredChain::dir_ = nullptr;
Genesis* StoredChain::genesis_ = nullptr;
MemoryStore* StoredChain::memory_ = nullptr;
std::string* StoredChain::golden_ = nullptr;

TEST_F(StoredChain, VerifyChainPassesOnAGoodStoreWithOrWithoutAGenesis) {
  std::uint64_t txs = 0, applied = 0;
  for (std::uint64_t h = 1; h <= tip(); ++h) {
    txs += memory().chain()[h - 1].block.proposal.txs.size();
    for (const TxResult& r : memory().results()[h - 1]) applied += r.applied;
  }
  for (const Genesis* g : {&genesis(), static_cast<const Genesis*>(nullptr)}) {
    VerifyReport v = verifyChain(path_, g);
    EXPECT_TRUE(v.ok()) << v.toJson();
    EXPECT_EQ(v.chain, genesis().chainId());
    EXPECT_EQ(v.storedHeight, tip());
    EXPECT_EQ(v.verifiedHeight, tip());
    EXPECT_EQ(v.blocks, tip());
    EXPECT_EQ(v.txs, txs);
    EXPECT_EQ(v.appliedTxs, applied);
    EXPECT_EQ(v.stateRoot, memory().roots().back());
    EXPECT_GE(v.checkpoints, 1u);
    EXPECT_GT(v.signatureChecks, 3 * tip());
  }
  // The data directory names the file too; the report is JSON.
  VerifyReport v = verifyChain(fs::path(path_).parent_path().string());
  EXPECT_TRUE(v.ok()) << v.toJson();
  auto j = nlohmann::json::parse(v.toJson());
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["verified_height"], tip());
  EXPECT_TRUE(j["problem"].is_null());
  EXPECT_EQ(j["chain"], core::toHex(genesis().chainId()));
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfABlockWithFlippedBytes) {
  // In its certificate.
  Bytes qc = blob("SELECT qc FROM blocks" + at(5));
  qc[qc.size() / 2] ^= 0x01;
  sql("UPDATE blocks SET qc = ?1" + at(5), qc);
  expectProblemAt(verify(), 5, "blocks", "");
  // In its proposal (the transactions or the justification): the proposal does not decode, or
  // decodes to a block that is not the one committed.
  SetUp();
  Bytes p = blob("SELECT proposal FROM proposals" + at(5));
  p[p.size() / 2] ^= 0x01;
  sql("UPDATE proposals SET proposal = ?1" + at(5), p);
  VerifyReport v = verify();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.problem->height, 5u) << v.toJson();
  EXPECT_TRUE(v.problem->table == "proposals" || v.problem->table == "blocks") << v.toJson();
}

TEST_F(StoredChain, VerifyChainAndOpenNameACommittedBlockWhoseProposalIsGone) {
  sql("DELETE FROM proposals" + at(tip()));
  expectProblemAt(verify(), tip(), "blocks", "its proposal is not stored");
  std::string why;
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(
      why.find("table blocks, height " + std::to_string(tip()) + ": its proposal is not stored"),
      std::string::npos)
      << why;
}

// What a replica reads back from disk, from a real store: the seeds of fuzz.pool's record
// decoders (tests/fuzz/pool_corpus), written when FLO_WRITE_POOL_SEEDS names a folder. Each
// decodes and re-encodes to its bytes (the fuzz target's property, on real rows).
TEST_F(StoredChain, EveryKindOfRowDecodesAndReencodesToItsBytes) {
  std::uint64_t h = tip();
  while (h > 1 && memory().results()[h - 1].empty()) --h;
  const std::uint64_t checkpoint = memory().stableCheckpoint();
  const std::vector<std::pair<std::string, Bytes>> rows = {
      {"store-proposal", blob("SELECT proposal FROM proposals" + at(h))},
      {"store-qc", blob("SELECT qc FROM blocks" + at(h))},
      {"store-header", blob("SELECT child FROM blocks" + at(h))},
      {"store-results", blob("SELECT results FROM blocks" + at(h))},
      {"store-safety", blob("SELECT state FROM safety")},
      {"store-signatures", blob("SELECT signatures FROM checkpoints" + at(checkpoint))},
      {"store-snapshot", blob("SELECT snapshot FROM checkpoints" + at(checkpoint))},
      {"store-block", encodeCommittedBlock(*storedBlock(h))},
  };
  const std::size_t maxTxs = genesis().params.maxBlockTxs;
  for (const auto& [name, bytes] : rows) {
    ASSERT_FALSE(bytes.empty()) << name;
    auto re = [](const auto& decoded, auto encode) -> std::optional<Bytes> {
      if (!decoded) return std::nullopt;
      return encode(*decoded);
    };
    std::optional<Bytes> again;
    if (name == "store-proposal") again = re(decodeProposal(bytes, maxTxs), encodeProposal);
    if (name == "store-qc") again = re(decodeQc(bytes), encodeQc);
    if (name == "store-header") again = re(decodeHeader(bytes), encodeHeader);
    if (name == "store-results") again = re(decodeResults(bytes), encodeResults);
    if (name == "store-safety") again = re(decodeSafety(bytes), encodeSafety);
    if (name == "store-signatures") again = re(decodeSignatures(bytes), encodeSignatures);
    if (name == "store-snapshot")
      again = re(Ledger::decode(genesis(), bytes), [](const Ledger& l) { return l.encode(); });
    if (name == "store-block")
      again = re(decodeCommittedBlock(bytes, maxTxs), encodeCommittedBlock);
    EXPECT_EQ(again, bytes) << name;
    if (const char* dir = std::getenv("FLO_WRITE_POOL_SEEDS"))
      std::ofstream(fs::path(dir) / name, std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  }
}

// A row that goes bad under a running store (another process writing the file, a disk) is
// counted and not served: a peer would refuse it, and a replica must not hand out what it
// cannot stand behind.
TEST_F(StoredChain, ARowChangedUnderARunningStoreIsCountedNotServed) {
  std::string why;
  auto store = SqliteStore::open(path_, genesis(), &why);
  ASSERT_TRUE(store) << why;
  ASSERT_TRUE(store->committed(5));
  changeBlock(5, [](CommittedBlock& b) { b.proposal.header.timeMs += 1; }); // another id
  EXPECT_FALSE(store->committed(5));
  sql("UPDATE blocks SET child = ?1" + at(6), Bytes{1, 2, 3}); // does not decode
  EXPECT_FALSE(store->committed(6));
  EXPECT_EQ(store->corruptReads(), 2u);
  EXPECT_TRUE(store->committed(7));
}

// Two proposals of one block may differ outside its id (another quorum's certificate of the
// parent, another signature): state transfer commits a peer's copy of a block this replica
// stored with its own. The chain keeps the copy committed (its certificate is the next block's
// justification there), also across a restart in between.
TEST_F(StoredChain, ACommitKeepsTheCopyItCommitsNotAnotherStoredBefore) {
  std::string path = work_.file("fresh.db"), why;
  auto other = [&](std::uint64_t h) {
    Proposal p = memory().chain()[h - 1].block.proposal;
    p.signature[0] ^= 0x01; // same header, same id, other bytes
    EXPECT_EQ(p.header.id(), memory().chain()[h - 1].block.proposal.header.id());
    return p;
  };
  auto commit = [&](SqliteStore& store, std::uint64_t h) {
    const StoredBlock& s = memory().chain()[h - 1];
    ASSERT_TRUE(store.apply(Effect(CommitBlock{s.block, memory().results()[h - 1],
                                               memory().roots()[h - 1], s.child, s.childQc}),
                            &why))
        << why;
    auto kept = store.committed(h);
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->block, s.block) << "height " << h;
  };
  {
    auto store = SqliteStore::open(path, genesis(), &why);
    ASSERT_TRUE(store) << why;
    ASSERT_TRUE(store->apply(Effect(StoreBlock{other(1)}), &why)) << why;
    commit(*store, 1);
    // The same copy stored and committed.
    ASSERT_TRUE(store->apply(Effect(StoreBlock{memory().chain()[1].block.proposal}), &why));
    commit(*store, 2);
    ASSERT_TRUE(store->apply(Effect(StoreBlock{other(3)}), &why)) << why;
    EXPECT_EQ(store->pendingCount(), 1u);
  }
  auto store = SqliteStore::open(path, genesis(), &why); // restarted with block 3 pending
  ASSERT_TRUE(store) << why;
  commit(*store, 3);
  EXPECT_EQ(store->pendingCount(), 0u);
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfATamperedTransaction) {
  std::uint64_t h = 0;
  for (std::uint64_t i = 1; i <= tip() && !h; ++i)
    if (!memory().chain()[i - 1].block.proposal.txs.empty()) h = i;
  ASSERT_GT(h, 0u);
  // Another amount, same signature.
  changeBlock(h, [](CommittedBlock& b) {
    auto tx = Tx::decode(b.proposal.txs[0]);
    std::get<Transfer>(tx->body).amount += 1;
    b.proposal.txs[0] = tx->encode();
  });
  // The sender's signature no longer verifies; without that check, the tx root does not match.
  expectProblemAt(verify(), h, "blocks", "sender's signature does not verify");
  VerifyOptions options;
  options.txSignatures = false;
  expectProblemAt(verifyChain(path_, &genesis(), options), h, "blocks", "tx root");
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfATamperedStateRoot) {
  Digest wrong = memory().roots()[5];
  wrong[0] ^= 0xff;
  sql("UPDATE blocks SET state_root = ?1" + at(6), core::toBytes(wrong));
  expectProblemAt(verify(), 6, "blocks", "state root");
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfATamperedVoteSignature) {
  changeBlock(4, [](CommittedBlock& b) { b.qc.votes[0].signature[7] ^= 0x20; });
  expectProblemAt(verify(), 4, "blocks", "certificate does not verify");
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfATamperedProposerSignature) {
  changeBlock(3, [](CommittedBlock& b) { b.proposal.signature[0] ^= 0x01; });
  expectProblemAt(verify(), 3, "blocks", "proposer's signature");
}

TEST_F(StoredChain, VerifyChainAndOpenNameTamperedResults) {
  // A refused transaction recorded as applied, at the tip: execution says otherwise.
  std::uint64_t h = tip();
  while (h > 0 && memory().results()[h - 1].empty()) --h;
  ASSERT_GT(h, memory().stableCheckpoint()); // re-executed by restore too
  std::vector<TxResult> results = memory().results()[h - 1];
  results[0].applied = !results[0].applied;
  sql("UPDATE blocks SET results = ?1" + at(h), encodeResults(results));
  expectProblemAt(verify(), h, "blocks", "stored results");
  std::string why;
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("table blocks, height " + std::to_string(h) + ": the stored results"),
            std::string::npos)
      << why;
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfAJustificationOfAnotherBlock) {
  // A valid certificate, of the grandparent: only its link to the parent gives it away (the
  // proposer's signature covers the header, not the justification).
  QuorumCert grandparent = memory().chain()[3].block.qc;
  changeBlock(6, [&](CommittedBlock& b) { b.proposal.justify = grandparent; });
  expectProblemAt(verify(), 6, "blocks", "justification does not certify its parent");
  // The right block, a forged vote: the certificate check catches it.
  SetUp();
  changeBlock(6, [](CommittedBlock& b) { b.proposal.justify.votes[0].signature[1] ^= 0x02; });
  expectProblemAt(verify(), 6, "blocks", "justification does not verify");
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfAWrongExecutedRootClaim) {
  // A header is signed: change its claim and its id, signatures and link all break; the first
  // check to catch it is the stored id.
  changeBlock(7, [](CommittedBlock& b) { b.proposal.header.executedRoot[0] ^= 0x01; });
  expectProblemAt(verify(), 7, "blocks", "id");
}

TEST_F(StoredChain, VerifyChainNamesAMissingHeight) {
  sql("DELETE FROM blocks" + at(7));
  expectProblemAt(verify(), 7, "blocks", "missing");
}

TEST_F(StoredChain, VerifyChainNamesTheHeightOfATamperedCommitProof) {
  std::vector<std::uint64_t> ends = batchEnds();
  ASSERT_FALSE(ends.empty());
  std::uint64_t h = ends.front();
  auto qc = decodeQc(blob("SELECT child_qc FROM blocks" + at(h)));
  ASSERT_TRUE(qc);
  qc->votes.back().signature[3] ^= 0x40;
  sql("UPDATE blocks SET child_qc = ?1" + at(h), encodeQc(*qc));
  expectProblemAt(verify(), h, "blocks", "commit proof");
}

TEST_F(StoredChain, VerifyChainNamesATamperedCheckpointSignature) {
  std::uint64_t h = genesis().params.checkpointInterval;
  auto signatures = decodeSignatures(blob("SELECT signatures FROM checkpoints" + at(h)));
  ASSERT_TRUE(signatures && !signatures->empty());
  (*signatures)[0].signature[0] ^= 0x01;
  sql("UPDATE checkpoints SET signatures = ?1" + at(h), encodeSignatures(*signatures));
  expectProblemAt(verify(), h, "checkpoints", "does not verify");
}

TEST_F(StoredChain, VerifyChainRefusesAnotherGenesis) {
  Genesis other = genesis();
  other.name = "another pool";
  VerifyReport v = verifyChain(path_, &other);
  expectProblemAt(v, 0, "meta", "another pool");
}

TEST_F(StoredChain, OpenRefusesACorruptRowNamingItsTableAndHeight) {
  // The tip block (above the checkpoint: restart re-executes it): its proposal, then its
  // certificate.
  std::string why;
  for (const char* table : {"proposals", "blocks"}) {
    const std::string column = std::string(table) == "blocks" ? "qc" : "proposal";
    Bytes good = blob("SELECT " + column + " FROM " + table + at(tip()));
    Bytes bad = good;
    bad.resize(bad.size() - 3); // torn
    sql("UPDATE " + std::string(table) + " SET " + column + " = ?1" + at(tip()), bad);
    EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
    EXPECT_NE(why.find("table " + std::string(table) + ", height " + std::to_string(tip())),
              std::string::npos)
        << why;
    sql("UPDATE " + std::string(table) + " SET " + column + " = ?1" + at(tip()), good);
  }

  // A state root that is not what the block gives.
  ASSERT_TRUE(SqliteStore::open(path_, genesis(), &why)) << why;
  sql("UPDATE blocks SET state_root = ?1" + at(tip()), Bytes(32, 0));
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("table blocks, height " + std::to_string(tip()) + ": the stored state root"),
            std::string::npos)
      << why;
}

TEST_F(StoredChain, OpenRefusesACorruptSafetyRowOrAGap) {
  std::string why;
  sql("UPDATE safety SET state = ?1", Bytes{1, 2, 3});
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("table safety"), std::string::npos) << why;

  SetUp(); // a fresh copy
  sql("DELETE FROM blocks" + at(3));
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("table blocks, height 3: missing"), std::string::npos) << why;
}

TEST_F(StoredChain, OpenRefusesASnapshotThatIsNotTheCheckpointsState) {
  // A valid ledger, but of the genesis: decodes, yet is not the state the quorum signed.
  sql("UPDATE checkpoints SET snapshot = ?1 WHERE snapshot IS NOT NULL",
      Ledger(genesis()).encode());
  std::string why;
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("table checkpoints, height " + std::to_string(memory().stableCheckpoint())),
            std::string::npos)
      << why;
}

TEST_F(StoredChain, OpenRefusesAnotherPoolOrAnotherFile) {
  std::string why;
  Genesis other = genesis();
  other.accounts[0].balance += 1;
  EXPECT_FALSE(SqliteStore::open(path_, other, &why));
  EXPECT_NE(why.find("another pool"), std::string::npos) << why;
  ASSERT_TRUE(SqliteStore::open(path_, genesis(), &why)) << why;

  std::string text = work_.file("text");
  std::ofstream(text) << "not a database, but long enough to look like a header of one at all\n";
  EXPECT_FALSE(SqliteStore::open(text, genesis(), &why));
  EXPECT_NE(why.find("not a replica store"), std::string::npos) << why;

  std::string otherDb = work_.file("other.db");
  {
    sqlite3* db = nullptr;
    sqlite3_open(otherDb.c_str(), &db);
    sqlite3_exec(db, "CREATE TABLE items(x); PRAGMA user_version=1", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  EXPECT_FALSE(SqliteStore::open(otherDb, genesis(), &why));
  EXPECT_NE(why.find("not a replica store"), std::string::npos) << why;
  // Refused before anything was written: still in its rollback-journal mode (header byte 18 is
  // 1; WAL would make it 2).
  std::ifstream f(otherDb, std::ios::binary);
  char header[20] = {};
  f.read(header, sizeof header);
  EXPECT_EQ(header[18], 1);
}

TEST_F(StoredChain, AFileOfSchemaVersion1IsBroughtToTheCurrentVersionWhenItOpens) {
  std::string why;
  Remembered before;
  ASSERT_NO_FATAL_FAILURE(downgradeToVersion2(before));
  // The same rows in the tables of version 1, as a store of that version kept them.
  auto run = [&](const char* text) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db, text, nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
    sqlite3_close(db);
  };
  run(R"sql(
BEGIN;
CREATE TABLE p1(id BLOB PRIMARY KEY NOT NULL, height INTEGER NOT NULL, proposal BLOB NOT NULL)
  WITHOUT ROWID;
INSERT INTO p1 SELECT id, height, proposal FROM pending;
DROP TABLE pending;
ALTER TABLE p1 RENAME TO pending;
CREATE INDEX pending_by_height ON pending(height);
CREATE TABLE b1(height INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE, block BLOB NOT NULL,
  child BLOB NOT NULL, child_qc BLOB NOT NULL, results BLOB NOT NULL, state_root BLOB NOT NULL);
INSERT INTO b1 SELECT height, id, block, child, child_qc, results, state_root FROM blocks;
DROP TABLE blocks;
ALTER TABLE b1 RENAME TO blocks;
PRAGMA user_version=1;
COMMIT;
)sql");
  const char* indexes = "SELECT count(*) FROM sqlite_schema WHERE type = 'index'";
  ASSERT_EQ(integer(indexes), 2); // pending_by_height and the blocks' unique ids
  // The file of another pool is refused as it is, not migrated first.
  Genesis other = genesis();
  other.accounts[0].balance += 1;
  EXPECT_FALSE(SqliteStore::open(path_, other, &why));
  EXPECT_NE(why.find("another pool"), std::string::npos) << why;
  EXPECT_EQ(integer("PRAGMA user_version"), 1);
  EXPECT_EQ(integer(indexes), 2);
  {
    std::unique_ptr<SqliteStore> store;
    ASSERT_NO_FATAL_FAILURE(openMigrated(before, store));
    // It goes on as a store of version 3.
    SafetyState s = *store->safety();
    s.lastVotedRound += 1;
    ASSERT_TRUE(store->apply(Effect(PersistSafety{s}), &why)) << why;
  }
  EXPECT_EQ(integer("PRAGMA user_version"), 3);
  EXPECT_EQ(integer(indexes), 0);
  EXPECT_EQ(integer("SELECT count(*) FROM sqlite_schema WHERE name GLOB '*_v[0-9]'"), 0);
  EXPECT_TRUE(verify().ok()) << verify().toJson();
}

TEST_F(StoredChain, AFileOfSchemaVersion2IsBroughtToVersion3WhenItOpens) {
  std::string why;
  Remembered before;
  ASSERT_NO_FATAL_FAILURE(downgradeToVersion2(before));
  // verify-chain reads a file of version 2 as it is.
  EXPECT_TRUE(verify().ok()) << verify().toJson();
  EXPECT_EQ(integer("PRAGMA user_version"), 2);
  // A block that does not decode stops the migration, named, and leaves the file at version 2.
  Bytes good = blob("SELECT block FROM blocks" + at(4));
  sql("UPDATE blocks SET block = ?1" + at(4), Bytes{1, 2, 3});
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("from replica store schema version 2 to 3: table blocks, height 4"),
            std::string::npos)
      << why;
  EXPECT_EQ(integer("PRAGMA user_version"), 2);
  EXPECT_EQ(integer("SELECT count(*) FROM sqlite_schema WHERE name = 'proposals'"), 0);
  sql("UPDATE blocks SET block = ?1" + at(4), good);
  {
    std::unique_ptr<SqliteStore> store;
    ASSERT_NO_FATAL_FAILURE(openMigrated(before, store));
    for (std::uint64_t h = 1; h <= tip(); ++h) {
      auto b = store->committed(h);
      ASSERT_TRUE(b) << h;
      EXPECT_EQ(b->block, memory().chain()[h - 1].block) << h;
    }
  }
  EXPECT_EQ(integer("PRAGMA user_version"), 3);
  EXPECT_EQ(integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('pending', 'blocks_v3')"),
            0);
  // Every committed block's proposal, and the pending ones above the tip.
  EXPECT_EQ(std::uint64_t(integer("SELECT count(*) FROM proposals")), tip() + before.pending);
  EXPECT_TRUE(verify().ok()) << verify().toJson();
}

TEST_F(StoredChain, OpenRefusesAFileThatFailsQuickCheck) {
  std::string why;
  ASSERT_TRUE(SqliteStore::open(path_, genesis(), &why)) << why;
  // Garbage over the page headers of the last pages (b-tree pages of the tables and indexes).
  std::uintmax_t size = fs::file_size(path_);
  ASSERT_EQ(size % 4096, 0u);
  {
    std::fstream f(path_, std::ios::in | std::ios::out | std::ios::binary);
    for (std::uintmax_t page = size / 4096 - 1; page >= size / 4096 - 3; --page) {
      f.seekp(std::streamoff(page * 4096));
      f.write("\x0d\xff\xff\xff\xff\xff\xff\xff", 8);
    }
  }
  EXPECT_FALSE(SqliteStore::open(path_, genesis(), &why));
  EXPECT_NE(why.find("fails PRAGMA quick_check"), std::string::npos) << why;
  EXPECT_FALSE(verify().ok());
}

TEST_F(StoredChain, CheckpointSnapshotRestoreEqualsReplayFromGenesis) {
  std::string why;
  auto store = SqliteStore::open(path_, genesis(), &why);
  ASSERT_TRUE(store) << why;
  ASSERT_GT(store->stableCheckpoint(), 0u);
  ASSERT_GT(store->tipHeight(), store->stableCheckpoint()); // blocks after it re-execute too
  Restored restored = store->restore();
  Ledger replay(genesis());
  for (std::uint64_t h = 1; h <= store->tipHeight(); ++h) {
    auto b = store->committed(h);
    ASSERT_TRUE(b);
    std::vector<Tx> txs;
    for (const Bytes& t : b->block.proposal.txs) txs.push_back(*Tx::decode(t));
    replay.executeBlock(h, b->block.proposal.header.timeMs, txs);
  }
  EXPECT_EQ(restored.ledger.height(), replay.height());
  EXPECT_EQ(restored.ledger.encode(), replay.encode());
  EXPECT_EQ(restored.ledger.stateRoot(), store->stateRoot(store->tipHeight()));
  // Without the checkpoint, restore replays from genesis to the same state.
  store.reset();
  sql("DELETE FROM checkpoints");
  store = SqliteStore::open(path_, genesis(), &why);
  ASSERT_TRUE(store) << why;
  EXPECT_EQ(store->stableCheckpoint(), 0u);
  EXPECT_EQ(store->restore().ledger.encode(), replay.encode());
}

// ---- the WAL tail (F16) --------------------------------------------------------------------

/// A store with blocks 1..base checkpointed into the main file and the batches up to the tip in
/// its WAL, one transaction each; copies of the two files taken while the connection is open,
/// as a crash would leave them. Returns the WAL's bytes.
class WalTail : public StoredChain {
protected:
  void SetUp() override {
    StoredChain::SetUp();
    fresh_ = work_.file("fresh.db");
    std::string why;
    std::vector<std::uint64_t> ends = batchEnds();
    ASSERT_GE(ends.size(), 6u);
    base_ = ends[1];
    {
      auto store = SqliteStore::open(fresh_, genesis(), &why);
      ASSERT_TRUE(store) << why;
      replay(*store, 1, base_);
    } // closed: the WAL is checkpointed into the main file and removed
    store_ = SqliteStore::open(fresh_, genesis(), &why);
    ASSERT_TRUE(store_) << why;
    replay(*store_, base_ + 1, tip());
    ASSERT_TRUE(fs::exists(fresh_ + "-wal"));
    fs::copy_file(fresh_, work_.file("copy.db"), fs::copy_options::overwrite_existing);
    std::ifstream in(fresh_ + "-wal", std::ios::binary);
    wal_.assign(std::istreambuf_iterator<char>(in), {});
    ASSERT_GT(wal_.size(), 32u);
  }
  /// Opens the copied database with `wal` as its WAL; checks what opens is a prefix of the
  /// reference chain ending at a batch, and returns its tip.
  std::uint64_t reopenWith(const std::string& wal) {
    std::string db = work_.file("crash.db");
    fs::remove(db + "-shm");
    fs::copy_file(work_.file("copy.db"), db, fs::copy_options::overwrite_existing);
    std::ofstream(db + "-wal", std::ios::binary | std::ios::trunc) << wal;
    std::string why;
    auto store = SqliteStore::open(db, genesis(), &why);
    EXPECT_TRUE(store) << why;
    if (!store) return 0;
    std::uint64_t t = store->tipHeight();
    EXPECT_GE(t, base_);
    EXPECT_LE(t, tip());
    std::vector<std::uint64_t> ends = batchEnds();
    EXPECT_TRUE(std::count(ends.begin(), ends.end(), t)) << "tip " << t << " inside a batch";
    for (std::uint64_t h = 1; h <= t; ++h)
      EXPECT_TRUE(sameStored(store->committed(h), memory().committed(h))) << h;
    EXPECT_EQ(store->restore().ledger.stateRoot(), memory().roots()[t - 1]);
    store.reset();
    VerifyReport v = verifyChain(db, &genesis());
    EXPECT_TRUE(v.ok()) << v.toJson();
    EXPECT_EQ(v.verifiedHeight, t);
    return t;
  }

  std::string fresh_;
  std::uint64_t base_ = 0;
  std::unique_ptr<SqliteStore> store_;
  std::string wal_;
};

TEST_F(WalTail, ATruncatedTailReopensAsAPrefixAtATransaction) {
  // The WAL header gives the page size; each frame is a 24-byte header and a page.
  std::uint32_t page = (std::uint32_t(std::uint8_t(wal_[8])) << 24) |
                       (std::uint32_t(std::uint8_t(wal_[9])) << 16) |
                       (std::uint32_t(std::uint8_t(wal_[10])) << 8) | std::uint8_t(wal_[11]);
  std::size_t frame = 24 + page;
  std::size_t frames = (wal_.size() - 32) / frame;
  ASSERT_EQ(32 + frames * frame, wal_.size());
  std::set<std::uint64_t> tips;
  std::uint64_t last = 0;
  // About 30 frames, evenly spread, each cut at its start and in its middle; then the end.
  std::size_t stride = std::max<std::size_t>(1, frames / 30);
  for (std::size_t i = 0; i <= frames;
       i = i == frames ? frames + 1 : std::min(frames, i + stride)) {
    for (std::size_t cut : {32 + i * frame, 32 + i * frame + 24 + page / 2}) {
      if (cut > wal_.size()) continue;
      SCOPED_TRACE("WAL cut at " + std::to_string(cut) + " of " + std::to_string(wal_.size()));
      std::uint64_t t = reopenWith(wal_.substr(0, cut));
      EXPECT_GE(t, last); // more WAL never means less chain
      last = t;
      tips.insert(t);
    }
  }
  EXPECT_EQ(last, tip()); // the whole WAL is the whole chain
  EXPECT_EQ(*tips.begin(), base_);
  EXPECT_GE(tips.size(), 3u); // cuts inside the tail landed on several transactions
}

TEST_F(WalTail, ABitFlipInTheLastRecordDropsThatTransactionOnly) {
  std::string flipped = wal_;
  flipped[flipped.size() - 100] ^= 0x10; // in the last frame's page: its checksum fails
  std::vector<std::uint64_t> ends = batchEnds();
  ASSERT_EQ(ends.back(), tip());
  std::uint64_t t = reopenWith(flipped);
  EXPECT_EQ(t, ends[ends.size() - 2]); // the transaction before the last
  EXPECT_EQ(reopenWith(wal_), tip());
}

// ---- a full disk (F16) ---------------------------------------------------------------------

TEST_F(StoredChain, AFullDiskFailsTheWholeBatchAndEveryLaterApply) {
  std::string db = work_.file("full.db");
  std::vector<std::uint64_t> ends = batchEnds();
  std::uint64_t before = ends[ends.size() - 3];
  {
    std::string why;
    auto store = SqliteStore::open(db, genesis(), &why);
    ASSERT_TRUE(store) << why;
    replay(*store, 1, before);
  }
  // In a child process whose files may not grow: the next batch (a block stored, the safety
  // state, commits) must fail as a whole, and every apply after it.
  // As a step orders them: the commits a certificate completes, then the vote's block and
  // safety state.
  Proposal voted = memory().voted().back();
  ASSERT_GT(voted.header.height, tip()); // still pending once the batch is in
  SafetyState safety = memory().restore().safety;
  std::vector<Effect> batch;
  for (std::uint64_t h = before + 1; h <= tip(); ++h) {
    const StoredBlock& s = memory().chain()[h - 1];
    batch.push_back(CommitBlock{s.block, memory().results()[h - 1], memory().roots()[h - 1],
                                s.child, s.childQc});
  }
  batch.push_back(StoreBlock{voted});
  batch.push_back(PersistSafety{safety});
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::string why;
    auto store = SqliteStore::open(db, genesis(), &why);
    if (!store) _exit(2);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{0, RLIM_INFINITY};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(3);
    if (store->apply(batch, &why)) _exit(4);
    if (!store->failed() || why.empty()) _exit(5);
    if (store->apply(Effect(PersistSafety{safety}), &why)) _exit(6);
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  // Nothing of the failed batch is on disk: not the block, not the safety state, no commit.
  std::string why;
  auto store = SqliteStore::open(db, genesis(), &why);
  ASSERT_TRUE(store) << why;
  EXPECT_EQ(store->tipHeight(), before);
  EXPECT_FALSE(store->safety());
  EXPECT_EQ(store->pendingCount(), 0u);
  // The same batch, with room: all of it.
  ASSERT_TRUE(store->apply(batch, &why)) << why;
  EXPECT_EQ(store->tipHeight(), tip());
  EXPECT_EQ(store->safety(), safety);
  EXPECT_EQ(store->pendingCount(), 1u);
}

// ---- invariants --------------------------------------------------------------------------------

TEST_F(StoredChain, TheLastVotedRoundNeverGoesBack) {
  std::string why;
  auto store = SqliteStore::open(path_, genesis(), &why);
  ASSERT_TRUE(store) << why;
  SafetyState s = *store->safety();
  ASSERT_GT(s.lastVotedRound, 0u);
  ASSERT_TRUE(store->apply(Effect(PersistSafety{s}), &why)) << why; // the same round again: fine
  s.lastVotedRound -= 1;
  EXPECT_DEATH((void)store->apply(Effect(PersistSafety{s})), "invariant violated");
  CommitBlock gap{memory().chain()[0].block, {}, {}, {}, {}};
  EXPECT_DEATH((void)store->apply(Effect(gap)), "invariant violated");
}

// ---- what is fsynced --------------------------------------------------------------------------

/// SQLite's default VFS with the syncs of every write-ahead log counted, those made on the
/// thread that built it only (a store's checkpointer syncs the log on its own thread). The
/// default for as long as it lives. It also keeps, beside each database and log file, a copy of
/// the file as it was at its last sync (or when opened): what a power cut would leave, at worst.
class SyncCountingVfs {
public:
  SyncCountingVfs() : base_(sqlite3_vfs_find(nullptr)), thread_(std::this_thread::get_id()) {
    vfs_ = *base_;
    vfs_.zName = "flo-sync-counting";
    vfs_.szOsFile = int(sizeof(File)) + base_->szOsFile; // ours, then the base VFS's file
    vfs_.pAppData = this;
    vfs_.xOpen = &SyncCountingVfs::open;
    sqlite3_vfs_register(&vfs_, /*makeDflt=*/1);
  }
  ~SyncCountingVfs() { sqlite3_vfs_unregister(&vfs_); }
  SyncCountingVfs(const SyncCountingVfs&) = delete;
  SyncCountingVfs& operator=(const SyncCountingVfs&) = delete;
  int walSyncs() const { return walSyncs_; }

  /// The power goes: nothing written from now on reaches the disk (the copies stop here).
  void cut() {
    std::lock_guard lock(mutex_);
    cut_ = true;
  }
  /// After every connection closed: each file as the disk kept it, and no shared-memory index.
  void restore() {
    std::lock_guard lock(mutex_);
    for (const std::string& name : files_) {
      fs::copy_file(name + ".synced", name, fs::copy_options::overwrite_existing);
      fs::remove(name + "-shm");
    }
  }

private:
  struct File {
    sqlite3_file file; // first: SQLite sees a File as a sqlite3_file
    SyncCountingVfs* owner;
    const char* name; // SQLite keeps it valid until the file closes
    bool wal;
    sqlite3_file* base() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static sqlite3_file* base(sqlite3_file* f) { return reinterpret_cast<File*>(f)->base(); }
  static const sqlite3_io_methods* of(sqlite3_file* f) { return base(f)->pMethods; }

  void keep(const char* name) {
    std::lock_guard lock(mutex_);
    if (cut_) return;
    files_.insert(name);
    fs::copy_file(name, std::string(name) + ".synced", fs::copy_options::overwrite_existing);
  }

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* f, int flags, int* outFlags) {
    auto* self = static_cast<SyncCountingVfs*>(vfs->pAppData);
    auto* file = reinterpret_cast<File*>(f);
    file->owner = self;
    file->name = (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)) ? name : nullptr;
    file->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = self->base_->xOpen(self->base_, name, file->base(), flags, outFlags);
    file->file.pMethods = file->base()->pMethods ? &kMethods : nullptr;
    if (rc == SQLITE_OK && file->name) self->keep(file->name); // what was there is durable
    return rc;
  }
  static int sync(sqlite3_file* f, int flags) {
    auto* file = reinterpret_cast<File*>(f);
    if (file->wal && std::this_thread::get_id() == file->owner->thread_) ++file->owner->walSyncs_;
    int rc = of(f)->xSync(base(f), flags);
    if (rc == SQLITE_OK && file->name) file->owner->keep(file->name);
    return rc;
  }

  static constexpr sqlite3_io_methods kMethods = {
      3,
      [](sqlite3_file* f) { return of(f)->xClose(base(f)); },
      [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
        return of(f)->xRead(base(f), b, n, o);
      },
      [](sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
        return of(f)->xWrite(base(f), b, n, o);
      },
      [](sqlite3_file* f, sqlite3_int64 n) { return of(f)->xTruncate(base(f), n); },
      &SyncCountingVfs::sync,
      [](sqlite3_file* f, sqlite3_int64* n) { return of(f)->xFileSize(base(f), n); },
      [](sqlite3_file* f, int l) { return of(f)->xLock(base(f), l); },
      [](sqlite3_file* f, int l) { return of(f)->xUnlock(base(f), l); },
      [](sqlite3_file* f, int* r) { return of(f)->xCheckReservedLock(base(f), r); },
      [](sqlite3_file* f, int op, void* a) { return of(f)->xFileControl(base(f), op, a); },
      [](sqlite3_file* f) { return of(f)->xSectorSize(base(f)); },
      [](sqlite3_file* f) { return of(f)->xDeviceCharacteristics(base(f)); },
      [](sqlite3_file* f, int i, int n, int e, void volatile** p) {
        return of(f)->xShmMap(base(f), i, n, e, p);
      },
      [](sqlite3_file* f, int o, int n, int fl) { return of(f)->xShmLock(base(f), o, n, fl); },
      [](sqlite3_file* f) { of(f)->xShmBarrier(base(f)); },
      [](sqlite3_file* f, int d) { return of(f)->xShmUnmap(base(f), d); },
      [](sqlite3_file* f, sqlite3_int64 o, int n, void** p) {
        return of(f)->xFetch(base(f), o, n, p);
      },
      [](sqlite3_file* f, sqlite3_int64 o, void* p) { return of(f)->xUnfetch(base(f), o, p); },
  };

  sqlite3_vfs* base_;
  std::thread::id thread_;
  sqlite3_vfs vfs_{};
  int walSyncs_ = 0;
  std::mutex mutex_; // the checkpointer's thread syncs too
  std::set<std::string> files_;
  bool cut_ = false;
};

/// Persistence before voting (effects.h): a transaction holding what a vote relies on is
/// fsynced before apply returns; one holding only commits is not (the next vote's makes it
/// durable). Each kind twice over, since the store switches SQLite's synchronous level between
/// them (a level set once and never again would pass a single round).
TEST_F(StoredChain, AVoteIsFsyncedBeforeApplyReturnsACommitAloneIsNot) {
  SyncCountingVfs vfs;
  std::string why;
  auto store = SqliteStore::open(work_.file("fresh.db"), genesis(), &why);
  ASSERT_TRUE(store) << why;
  SafetyState safety;
  std::uint64_t next = 1;
  for (int pass = 0; pass < 3; ++pass) {
    SCOPED_TRACE("pass " + std::to_string(pass));
    int before = vfs.walSyncs();
    replay(*store, next, next + 2);
    next += 3;
    EXPECT_EQ(vfs.walSyncs(), before) << "commits alone were fsynced";
    before = vfs.walSyncs();
    safety.lastVotedRound = 10 * (pass + 1);
    ASSERT_TRUE(store->apply(Effect(PersistSafety{safety}), &why)) << why;
    EXPECT_GT(vfs.walSyncs(), before) << "a vote's safety state was not fsynced";
    // A vote's transaction that carries commits along is fsynced too.
    before = vfs.walSyncs();
    const StoredBlock& b = memory().chain()[next - 1];
    std::vector<Effect> step{CommitBlock{b.block, memory().results()[next - 1],
                                         memory().roots()[next - 1], b.child, b.childQc},
                             PersistSafety{safety}};
    ++next;
    ASSERT_TRUE(store->apply(step, &why)) << why;
    EXPECT_GT(vfs.walSyncs(), before) << "a vote carrying commits was not fsynced";
  }
  EXPECT_EQ(store->tipHeight(), next - 1);
}

/// A power cut after a vote and a few commits: the vote survives (it was fsynced before apply
/// returned, with the commits written before it), the commits after it may not, and the store
/// opens again on what the disk kept (effects.h: a lost commit is committed again).
TEST_F(StoredChain, APowerCutKeepsEveryVoteAndAtWorstTheCommitsAfterIt) {
  std::string why;
  const std::string path = work_.file("cut.db");
  {
    SyncCountingVfs vfs;
    auto store = SqliteStore::open(path, genesis(), &why);
    ASSERT_TRUE(store) << why;
    replay(*store, 1, 3);
    SafetyState safety;
    safety.lastVotedRound = 10;
    ASSERT_TRUE(store->apply(Effect(PersistSafety{safety}), &why)) << why;
    replay(*store, 4, 6);
    EXPECT_EQ(store->tipHeight(), 6u);
    vfs.cut();
    store.reset(); // what closing writes (a checkpoint) is lost with the rest
    vfs.restore();
  }
  auto store = SqliteStore::open(path, genesis(), &why);
  ASSERT_TRUE(store) << why;
  ASSERT_TRUE(store->safety()) << "the vote's safety state was lost";
  EXPECT_EQ(store->safety()->lastVotedRound, 10u);
  EXPECT_EQ(store->tipHeight(), 3u);
}

// ---- checkpoints beside the writer ------------------------------------------------------------

/// A WAL database of the test's own, written one page-sized row per transaction.
struct WalDb {
  explicit WalDb(const TempDir& dir)
      : path(dir.file("wal.db")),
        writer(sql::openConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr)) {
    exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; CREATE TABLE t(x BLOB)");
  }
  void exec(const char* text) {
    ASSERT_EQ(sqlite3_exec(writer.get(), text, nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(writer.get());
  }
  void insertRows(int n) {
    for (int i = 0; i < n; ++i) exec("INSERT INTO t VALUES(zeroblob(3000))");
  }
  std::uintmax_t size(const char* suffix = "") const { return fs::file_size(path + suffix); }
  std::string path;
  sql::Connection writer;
};

TEST(WalCheckpointer, CheckpointsOnItsOwnThreadWhileTheWriterNeverDoes) {
  TempDir dir("wal_thread");
  WalDb db(dir);
  std::uintmax_t before = db.size();
  sql::WalCheckpointer checkpointer;
  std::string why;
  ASSERT_TRUE(checkpointer.start(db.writer.get(), db.path, &why, 16, 100000)) << why;
  db.insertRows(200);
  // The thread copies what the log holds into the database file.
  for (int i = 0; i < 200 && db.size() < before + 150 * 3000; ++i) std::this_thread::sleep_for(5ms);
  checkpointer.stop();
  EXPECT_GT(checkpointer.checkpoints(), 0u);
  EXPECT_EQ(checkpointer.failures(), 0u);
  EXPECT_EQ(checkpointer.forced(), 0u);
  EXPECT_GE(db.size(), before + 150 * 3000);
}

TEST(WalCheckpointer, TheWriterCheckpointsItselfPastTheLimit) {
  TempDir dir("wal_limit");
  WalDb db(dir);
  sql::WalCheckpointer checkpointer;
  std::string why;
  ASSERT_TRUE(checkpointer.start(db.writer.get(), db.path, &why, 8, 40)) << why;
  // A reader holding its snapshot keeps every later frame in the log, so the log passes the
  // limit and the writer's own (RESTART) checkpoint is tried: it waits for the reader, in vain.
  sqlite3_busy_timeout(db.writer.get(), 1);
  sql::Connection reader = sql::openConnection(db.path, SQLITE_OPEN_READONLY, nullptr);
  ASSERT_TRUE(reader);
  ASSERT_EQ(sqlite3_exec(reader.get(), "BEGIN; SELECT count(*) FROM t", nullptr, nullptr, nullptr),
            SQLITE_OK);
  db.insertRows(60);
  EXPECT_GT(checkpointer.forced(), 0u);
  sqlite3_exec(reader.get(), "COMMIT", nullptr, nullptr, nullptr);
  checkpointer.stop();
  // Every row is there, whatever the checkpoints did.
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db.writer.get(), "SELECT count(*) FROM t", -1, &s, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 60);
  sqlite3_finalize(s);
}

} // namespace
} // namespace flo::pool
