// The Merkle map under the ledger's state root, and the root kept up to date block by block
// against the same root computed from nothing; the mempool's count kept against the ledger.
#include "pool/core/mempool.h"
#include "pool/ledger/ledger.h"
#include "pool/ledger/merkle_map.h"
#include "sim/random.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>

namespace flo::pool {
namespace {

core::Digest digestOf(std::uint64_t n) {
  std::uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = std::uint8_t(n >> (8 * i));
  return core::hash(b, sizeof b);
}

core::Digest fresh(const std::map<core::Digest, core::Digest>& model) {
  MerkleMap m;
  for (const auto& [k, v] : model) m.put(k, v);
  return m.root();
}

TEST(MerkleMap, EmptyAndOneLeafAreWhatTheHeaderSays) {
  MerkleMap m;
  EXPECT_EQ(m.root(), core::Digest{});
  core::Digest k = digestOf(1), v = digestOf(2);
  m.put(k, v);
  Bytes leaf{0x00};
  leaf.insert(leaf.end(), k.begin(), k.end());
  leaf.insert(leaf.end(), v.begin(), v.end());
  EXPECT_EQ(m.root(), core::hash(leaf));
  EXPECT_TRUE(m.erase(k));
  EXPECT_FALSE(m.erase(k));
  EXPECT_EQ(m.root(), core::Digest{});
  EXPECT_EQ(m.size(), 0u);
}

TEST(MerkleMap, TwoLeavesMakeABranchAtTheirFirstDifferentBit) {
  core::Digest a{}, b{};
  b[1] = 0x20; // differs from a first in bit 10
  core::Digest va = digestOf(7), vb = digestOf(8);
  MerkleMap m;
  m.put(b, vb);
  m.put(a, va);
  auto leaf = [](const core::Digest& k, const core::Digest& v) {
    Bytes x{0x00};
    x.insert(x.end(), k.begin(), k.end());
    x.insert(x.end(), v.begin(), v.end());
    return core::hash(x);
  };
  Bytes branch{0x01, 0x00, 10};
  core::Digest la = leaf(a, va), lb = leaf(b, vb);
  branch.insert(branch.end(), la.begin(), la.end()); // a has a 0 at bit 10: left
  branch.insert(branch.end(), lb.begin(), lb.end());
  EXPECT_EQ(m.root(), core::hash(branch));
}

// Random puts, updates and erases: after each step the root equals the root of a map built
// from nothing out of the same entries in another order, and the size matches.
TEST(MerkleMap, IncrementalRootEqualsTheRootBuiltFromNothing) {
  sim::Rng rng(42);
  MerkleMap m;
  std::map<core::Digest, core::Digest> model;
  std::vector<core::Digest> keys;
  for (int step = 0; step < 3000; ++step) {
    unsigned op = unsigned(rng.below(10));
    if (op < 5 || keys.empty()) { // a new key
      core::Digest k = digestOf(rng.next());
      if (rng.below(4) == 0 && !keys.empty()) { // one sharing a long prefix with a held key
        k = keys[rng.below(keys.size())];
        k[31] ^= std::uint8_t(1 + rng.below(255));
      }
      core::Digest v = digestOf(rng.next());
      if (model.emplace(k, v).second) keys.push_back(k);
      m.put(k, v);
      model[k] = v;
    } else if (op < 8) { // a new value for a held key
      core::Digest k = keys[rng.below(keys.size())];
      core::Digest v = digestOf(rng.next());
      m.put(k, v);
      model[k] = v;
    } else { // an erase
      std::size_t i = rng.below(keys.size());
      EXPECT_TRUE(m.erase(keys[i]));
      model.erase(keys[i]);
      keys.erase(keys.begin() + std::ptrdiff_t(i));
    }
    ASSERT_EQ(m.size(), model.size());
    if (step % 97 == 0 || step > 2950) ASSERT_EQ(m.root(), fresh(model)) << "step " << step;
  }
  // The order entries came in does not matter.
  std::vector<std::pair<core::Digest, core::Digest>> entries(model.begin(), model.end());
  std::reverse(entries.begin(), entries.end());
  MerkleMap reversed;
  for (const auto& [k, v] : entries) reversed.put(k, v);
  EXPECT_EQ(reversed.root(), m.root());
  // A copy is independent of its original.
  MerkleMap copy = m;
  copy.put(digestOf(123456789), digestOf(1));
  EXPECT_NE(copy.root(), m.root());
  EXPECT_EQ(m.root(), fresh(model));
}

TEST(MerkleMap, EveryValueAndKeyChangesTheRoot) {
  MerkleMap m;
  for (std::uint64_t i = 0; i < 64; ++i) m.put(digestOf(i), digestOf(i + 1000));
  core::Digest before = m.root();
  m.put(digestOf(17), digestOf(5));
  core::Digest changed = m.root();
  EXPECT_NE(changed, before);
  m.put(digestOf(17), digestOf(17 + 1000));
  EXPECT_EQ(m.root(), before);
  EXPECT_FALSE(m.erase(digestOf(64)));
  EXPECT_EQ(m.root(), before);
}

// ---- the ledger's root --------------------------------------------------------------------

struct LedgerFixture : ::testing::Test {
  Genesis genesis;
  std::vector<core::SigningKey> keys;
  void SetUp() override {
    for (std::uint8_t i = 0; i < 12; ++i) {
      core::Seed seed;
      std::fill(seed.data(), seed.data() + seed.size(), std::uint8_t(i + 1));
      keys.push_back(core::SigningKey::fromSeed(seed));
    }
    for (std::size_t i = 0; i < 6; ++i)
      genesis.accounts.push_back({"a" + std::to_string(i), keys[i].publicKey(), 1'000'000});
    ReplicaInfo r;
    r.did = "did:key:z6Mk";
    r.key = keys[11].publicKey();
    r.host = "127.0.0.1";
    r.port = 1;
    genesis.replicas.push_back(r);
    genesis.params.unstakeLockBlocks = 3;
  }
};

TEST_F(LedgerFixture, RootKeptUpToDateEqualsTheRootFromNothingAfterEveryBlock) {
  Ledger ledger(genesis);
  EXPECT_EQ(ledger.stateRoot(), ledger.stateRootFromScratch());
  sim::Rng rng(7);
  std::map<AccountId, std::uint64_t> nonces;
  Digest chain = genesis.chainId();
  std::set<Digest> roots{ledger.stateRoot()};
  for (std::uint64_t h = 1; h <= 60; ++h) {
    std::vector<Tx> txs;
    for (std::size_t t = 0, n = rng.below(6); t < n; ++t) {
      const auto& from = keys[rng.below(8)]; // some hold nothing: their transactions fail
      auto& nonce = nonces[from.publicKey()];
      std::uint64_t kind = rng.below(10);
      TxBody body;
      if (kind < 6)
        body = Transfer{keys[rng.below(12)].publicKey(), 1 + rng.below(5000)};
      else if (kind < 8)
        body = Stake{1 + rng.below(3000)};
      else if (kind < 9)
        body = Unstake{1 + rng.below(2000)};
      else
        body = RegisterProvider{{"x86_64"}, 4, 2048, "home", 10, ""};
      std::uint64_t used = rng.below(12) == 0 ? nonce + 1 : nonce; // now and then a wrong one
      txs.push_back(makeTx(from, chain, used, std::move(body)));
      if (used == nonce) ++nonce;
    }
    ledger.executeBlock(h, 1000 * h, txs);
    ASSERT_TRUE(ledger.conserved());
    ASSERT_EQ(ledger.stateRoot(), ledger.stateRootFromScratch()) << "height " << h;
    auto copy = Ledger::decode(genesis, ledger.encode());
    ASSERT_TRUE(copy);
    ASSERT_EQ(copy->stateRoot(), ledger.stateRoot());
    EXPECT_TRUE(roots.insert(ledger.stateRoot()).second) << "height " << h << ": a root seen";
  }
}

TEST_F(LedgerFixture, UnbondingReturnsAtItsHeightAndTheRootSaysSo) {
  Ledger ledger(genesis);
  Digest chain = genesis.chainId();
  const auto& k = keys[0];
  ledger.executeBlock(1, 1, {makeTx(k, chain, 0, Stake{500})});
  ledger.executeBlock(2, 2, {makeTx(k, chain, 1, Unstake{200})}); // back at height 2 + 3
  ledger.executeBlock(3, 3, {});
  ledger.executeBlock(4, 4, {});
  EXPECT_EQ(ledger.account(k.publicKey())->balance, 1'000'000u - 500);
  Digest before = ledger.stateRoot();
  ledger.executeBlock(5, 5, {});
  EXPECT_EQ(ledger.account(k.publicKey())->balance, 1'000'000u - 300);
  EXPECT_TRUE(ledger.account(k.publicKey())->unbonding.empty());
  EXPECT_NE(ledger.stateRoot(), before);
  EXPECT_EQ(ledger.stateRoot(), ledger.stateRootFromScratch());
}

// ---- the mempool's count of senders whose next transaction waits ----------------------------

/// Whether some sender's next transaction waits is kept as transactions come and blocks commit
/// (the pacemaker asks after every client message): it must say what a walk of every waiting
/// transaction against the ledger says, through gaps filled, commits and stale nonces.
TEST_F(LedgerFixture, MempoolKnowsAsItGoesWhetherASendersNextTransactionWaits) {
  Ledger ledger(genesis);
  Mempool pool(1000, 16, 1000);
  sim::Rng rng(11);
  const Digest chain = genesis.chainId();
  std::map<Digest, std::pair<AccountId, std::uint64_t>> waiting; // the model
  auto nextOf = [&](const AccountId& a) {
    const Account* x = ledger.account(a);
    return x ? x->nonce : 0;
  };
  std::uint64_t height = 0, flips = 0;
  bool before = false;
  for (int step = 0; step < 600; ++step) {
    if (rng.below(3) != 0) {
      const auto& from = keys[rng.below(6)];
      // Often a later nonce than the next: it waits behind a gap until the next comes.
      const std::uint64_t nonce = nextOf(from.publicKey()) + rng.below(4);
      Tx tx = makeTx(from, chain, nonce, Transfer{keys[rng.below(12)].publicKey(), 1});
      Bytes encoded = tx.encode();
      Digest id = core::hash(encoded);
      std::string why;
      if (pool.admit(encoded, id, ledger, why) == Mempool::Admit::Added)
        waiting[id] = {from.publicKey(), nonce};
    } else {
      std::vector<Tx> txs;
      std::vector<Digest> ids;
      for (const PooledTx* p : pool.select(1 + rng.below(6), ledger, {}, {})) {
        txs.push_back(p->tx);
        ids.push_back(p->id);
      }
      ++height;
      ledger.executeBlock(height, 1000 * height, txs);
      for (const Digest& id : ids) waiting.erase(id);
      for (const Digest& id : pool.onCommitted(ids, ledger)) waiting.erase(id);
    }
    const bool expected = std::any_of(waiting.begin(), waiting.end(), [&](const auto& w) {
      return w.second.second == nextOf(w.second.first);
    });
    ASSERT_EQ(pool.hasExecutable(ledger), expected) << "step " << step;
    ASSERT_EQ(pool.size(), waiting.size()) << "step " << step;
    flips += expected != before;
    before = expected;
  }
  EXPECT_GT(height, 100u);
  EXPECT_GT(flips, 20u); // both answers, many times over
}

} // namespace
} // namespace flo::pool
