// The market on the ledger (docs/deploy.md): orders matched to a group of capable foggers with
// the constraint named when none can, escrow, assignments that lapse, receipts paid within the
// bound, refunds on expiry and cancel, slashing on a contradicting signed result, and
// conservation, the state root and snapshots after every block.
#include "core/identity.h"
#include "pool/ledger/ledger.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace flo::pool {
namespace {

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

struct MarketLedger : ::testing::Test {
  Genesis genesis;
  std::vector<core::SigningKey> keys; // 0: deployer, 1-3: foggers, 4: someone else
  std::map<AccountId, std::uint64_t> nonces;
  std::unique_ptr<Ledger> ledger;
  std::uint64_t height = 0, timeMs = 0;

  void SetUp() override {
    for (std::uint8_t i = 0; i < 6; ++i) {
      core::Seed seed;
      std::fill(seed.data(), seed.data() + seed.size(), std::uint8_t(i + 41));
      keys.push_back(core::SigningKey::fromSeed(seed));
    }
    for (std::size_t i = 0; i < 5; ++i)
      genesis.accounts.push_back({"a" + std::to_string(i), keys[i].publicKey(), 1'000'000});
    ReplicaInfo r;
    r.did = "did:key:z6Mk";
    r.key = keys[5].publicKey();
    r.host = "127.0.0.1";
    r.port = 1;
    genesis.replicas.push_back(r);
    ledger = std::make_unique<Ledger>(genesis);
  }

  const AccountId& id(std::size_t who) const { return keys[who].publicKey(); }

  /// One transaction in a block of its own, `advanceMs` after the last; its result, after the
  /// ledger's invariants.
  TxResult run(std::size_t who, TxBody body, std::uint64_t advanceMs = 1000) {
    const auto& k = keys[who];
    Tx tx = makeTx(k, genesis.chainId(), nonces[k.publicKey()]++, std::move(body));
    timeMs += advanceMs;
    auto results = ledger->executeBlock(++height, timeMs, {tx});
    check();
    return results.at(0);
  }
  /// An empty block `advanceMs` later.
  void tick(std::uint64_t advanceMs) {
    timeMs += advanceMs;
    ledger->executeBlock(++height, timeMs, {});
    check();
  }
  void check() {
    std::string why;
    EXPECT_TRUE(ledger->conserved(&why)) << why;
    EXPECT_EQ(ledger->stateRoot(), ledger->stateRootFromScratch());
    auto copy = Ledger::decode(genesis, ledger->encode(), &why);
    ASSERT_TRUE(copy) << why;
    EXPECT_EQ(copy->stateRoot(), ledger->stateRoot());
    EXPECT_EQ(copy->orders(), ledger->orders());
  }
  std::uint64_t balance(std::size_t who) const { return ledger->account(id(who))->balance; }
  std::uint64_t stake(std::size_t who) const { return ledger->account(id(who))->stake; }

  void registerFogger(std::size_t who, std::vector<std::string> arches, std::uint64_t mem,
                      std::uint64_t price, std::uint64_t stakeAmount = 100) {
    RegisterProvider p;
    p.architectures = std::move(arches);
    p.cores = 2;
    p.memoryMiB = mem;
    p.zone = "home";
    p.price = price;
    p.address = "127.0.0.1:" + std::to_string(7000 + who);
    ASSERT_TRUE(run(who, p).applied);
    if (stakeAmount) ASSERT_TRUE(run(who, Stake{stakeAmount}).applied);
  }

  PlaceOrder terms(std::string arch = "any", std::uint64_t mem = 64, std::uint32_t replicas = 1) {
    PlaceOrder o;
    o.manifest = core::hash(text("manifest"));
    o.job = "roomavg";
    o.arch = std::move(arch);
    o.memoryMiB = mem;
    o.milliCores = 100;
    o.runs = 3;
    o.replicas = replicas;
    o.costBound = 5000;
    o.maxPrice = 10;
    o.timeoutMs = 60'000;
    return o;
  }
  /// Places an order from account 0; its id.
  Digest place(const PlaceOrder& t) {
    std::uint64_t nonce = nonces[id(0)];
    auto r = run(0, t);
    EXPECT_TRUE(r.applied) << r.error;
    return orderId(id(0), nonce);
  }
  RunResult result(const Digest& order, std::uint64_t work) {
    RunResult r;
    r.order = order;
    r.head = core::hash(text("output"));
    r.items = 3;
    r.work = work;
    r.runs = 3;
    return r;
  }
};

TEST_F(MarketLedger, NoFoggerNamesTheConstraint) {
  auto r = run(0, terms());
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.error.find("no fogger is registered"), std::string::npos) << r.error;
  registerFogger(1, {"x86_64"}, 1024, 5);
  registerFogger(2, {"x86_64"}, 1024, 5);
  registerFogger(3, {"aarch64"}, 32, 5);
  r = run(0, terms("aarch64"));
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.error.find("needs aarch64, 64 MiB, 0.1 cores"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("2 are not aarch64"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("1 has less memory free (at most 32 MiB)"), std::string::npos) << r.error;
  auto dear = terms();
  dear.maxPrice = 4;
  r = run(0, dear);
  EXPECT_NE(r.error.find("1 has less memory free (at most 32 MiB), 2 ask more"), std::string::npos)
      << r.error;
  EXPECT_EQ(balance(0), 1'000'000u) << "a refused order moves nothing";
}

TEST_F(MarketLedger, UnstakedFoggerIsNotMatched) {
  registerFogger(1, {"x86_64"}, 1024, 5, 0);
  auto r = run(0, terms());
  EXPECT_NE(r.error.find("1 is staked less than 10"), std::string::npos) << r.error;
}

TEST_F(MarketLedger, OrderEscrowsAndReceiptPaysWithinTheBound) {
  registerFogger(1, {"x86_64"}, 1024, 7);
  registerFogger(2, {"aarch64", "x86_64"}, 1024, 5);
  Digest o = place(terms("x86_64", 64, 2));
  const Order* order = ledger->order(o);
  ASSERT_TRUE(order);
  // 10 per unit × 5,000 × 3 runs = 150,000 per replica, 2 replicas.
  EXPECT_EQ(order->escrow, 300'000u);
  EXPECT_EQ(balance(0), 1'000'000u - 300'000);
  ASSERT_EQ(order->group.size(), 2u);
  EXPECT_EQ(order->group[0], id(2)) << "the cheaper fogger first (equal reputation)";
  // Only the owner assigns, only from the group, and not more than the replicas.
  EXPECT_FALSE(run(4, AssignOrder{o, {id(1)}}).applied);
  EXPECT_FALSE(run(0, AssignOrder{o, {id(4)}}).applied);
  EXPECT_FALSE(run(0, AssignOrder{o, {id(1), id(1)}}).applied);
  ASSERT_TRUE(run(0, AssignOrder{o, {id(1), id(2)}}).applied);
  EXPECT_FALSE(run(0, AssignOrder{o, {id(1)}}).applied);
  ASSERT_TRUE(run(1, StartRun{o}).applied);
  EXPECT_FALSE(run(4, StartRun{o}).applied);
  // Work beyond the bound is not paid: 7 × min(99,999, 15,000) = 105,000.
  ASSERT_TRUE(run(1, Receipt{result(o, 99'999)}).applied);
  EXPECT_EQ(ledger->order(o)->assignments[0].paid, 105'000u);
  EXPECT_EQ(balance(1), 1'000'000u - 100 + 105'000);
  EXPECT_FALSE(run(1, Receipt{result(o, 10)}).applied) << "paid once";
  // 5 × 1,001; then the order settles and the rest goes back.
  ASSERT_TRUE(run(2, Receipt{result(o, 1001)}).applied);
  EXPECT_EQ(ledger->order(o)->status, Order::Status::Settled);
  EXPECT_EQ(ledger->order(o)->escrow, 0u);
  EXPECT_EQ(balance(0), 1'000'000u - 105'000 - 5'005);
  EXPECT_EQ(ledger->provider(id(1))->completed, 1u);
  EXPECT_NE(ledger->orderJson(o).find("\"status\":\"settled\""), std::string::npos);
}

TEST_F(MarketLedger, AssignmentLapsesAndOrderExpires) {
  registerFogger(1, {"x86_64"}, 1024, 5);
  registerFogger(2, {"x86_64"}, 1024, 5);
  Digest o = place(terms());
  ASSERT_TRUE(run(0, AssignOrder{o, {id(1)}}).applied);
  tick(kStartDeadlineMs);
  EXPECT_EQ(ledger->order(o)->assignments[0].state, Assignment::State::Lapsed);
  EXPECT_EQ(ledger->provider(id(1))->failed, 1u);
  EXPECT_FALSE(run(1, StartRun{o}).applied) << "too late";
  EXPECT_FALSE(run(1, Receipt{result(o, 10)}).applied) << "a lapsed fogger is not paid";
  ASSERT_TRUE(run(0, AssignOrder{o, {id(2)}}).applied) << "the deployer assigns another";
  ASSERT_TRUE(run(2, StartRun{o}).applied);
  tick(60'000);
  EXPECT_EQ(ledger->order(o)->status, Order::Status::Expired);
  EXPECT_EQ(ledger->provider(id(2))->failed, 1u);
  EXPECT_EQ(balance(0), 1'000'000u) << "refunded in full";
  EXPECT_FALSE(run(2, Receipt{result(o, 10)}).applied) << "never paid after expiry";
  // A fogger that failed twice comes after one that did not.
  registerFogger(3, {"x86_64"}, 1024, 9);
  Digest o2 = place(terms());
  EXPECT_EQ(ledger->order(o2)->group.front(), id(3));
}

TEST_F(MarketLedger, ARestoredLedgerStillLapsesAndExpiresOnTime) {
  registerFogger(1, {"x86_64"}, 1024, 5);
  Digest o = place(terms());
  ASSERT_TRUE(run(0, AssignOrder{o, {id(1)}}).applied);
  std::string why;
  auto restored = Ledger::decode(genesis, ledger->encode(), &why); // what is due, rebuilt
  ASSERT_TRUE(restored) << why;
  ledger = std::make_unique<Ledger>(std::move(*restored));
  tick(kStartDeadlineMs);
  EXPECT_EQ(ledger->order(o)->assignments[0].state, Assignment::State::Lapsed);
  tick(60'000);
  EXPECT_EQ(ledger->order(o)->status, Order::Status::Expired);
  EXPECT_EQ(balance(0), 1'000'000u);
}

TEST_F(MarketLedger, CancelRefundsWhatWasNotUsed) {
  registerFogger(1, {"x86_64"}, 1024, 5);
  registerFogger(2, {"x86_64"}, 1024, 5);
  Digest o = place(terms("any", 64, 2));
  ASSERT_TRUE(run(0, AssignOrder{o, {id(1), id(2)}}).applied);
  ASSERT_TRUE(run(1, Receipt{result(o, 2000)}).applied);
  EXPECT_FALSE(run(4, CancelOrder{o}).applied) << "only the owner cancels";
  ASSERT_TRUE(run(0, CancelOrder{o}).applied);
  EXPECT_EQ(balance(0), 1'000'000u - 10'000);
  EXPECT_EQ(ledger->order(o)->status, Order::Status::Cancelled);
  EXPECT_EQ(ledger->provider(id(2))->failed, 0u) << "a cancel is not the fogger's failure";
  EXPECT_FALSE(run(2, Receipt{result(o, 10)}).applied);
}

TEST_F(MarketLedger, MemoryInUseIsNotOfferedTwice) {
  registerFogger(1, {"x86_64"}, 100, 5);
  Digest o = place(terms("any", 64));
  ASSERT_TRUE(run(0, AssignOrder{o, {id(1)}}).applied);
  auto r = run(0, terms("any", 64));
  EXPECT_NE(r.error.find("at most 36 MiB"), std::string::npos) << r.error;
  ASSERT_TRUE(run(1, Receipt{result(o, 1)}).applied);
  EXPECT_TRUE(run(0, terms("any", 64)).applied) << "free again once done";
}

TEST_F(MarketLedger, ContradictingSignedResultIsSlashed) {
  registerFogger(1, {"x86_64"}, 1024, 5, 500);
  Digest o = place(terms());
  ASSERT_TRUE(run(0, AssignOrder{o, {id(1)}}).applied);
  RunResult told = result(o, 3000); // what the fogger signed to the deployer
  RunResult claimed = told;
  claimed.head = core::hash(text("forged"));
  ASSERT_TRUE(run(1, Receipt{claimed}).applied);
  std::uint64_t before = balance(0);
  // Evidence must be signed by the fogger and contradict its receipt.
  SlashFogger agree{id(1), claimed.encode(), keys[1].sign(runResultMessage(claimed))};
  EXPECT_FALSE(run(4, agree).applied);
  SlashFogger forged{id(1), told.encode(), keys[4].sign(runResultMessage(told))};
  EXPECT_FALSE(run(4, forged).applied);
  SlashFogger proof{id(1), told.encode(), keys[1].sign(runResultMessage(told))};
  auto r = run(4, proof);
  ASSERT_TRUE(r.applied) << r.error;
  EXPECT_EQ(stake(1), 0u);
  EXPECT_EQ(balance(0), before + 500);
  EXPECT_EQ(ledger->provider(id(1))->slashed, 1u);
  EXPECT_FALSE(run(4, proof).applied) << "once";
  // Slashed and unstaked, it is matched no more.
  EXPECT_FALSE(run(0, terms()).applied);
}

TEST_F(MarketLedger, MalformedOrdersAreRefused) {
  registerFogger(1, {"x86_64"}, 1024, 5);
  auto t = terms();
  t.replicas = 0;
  EXPECT_FALSE(run(0, t).applied);
  t = terms();
  t.costBound = 0;
  EXPECT_FALSE(run(0, t).applied);
  t = terms();
  t.timeoutMs = 10;
  EXPECT_FALSE(run(0, t).applied);
  t = terms();
  t.maxPrice = ~std::uint64_t(0);
  t.costBound = ~std::uint64_t(0);
  EXPECT_NE(run(0, t).error.find("64 bits"), std::string::npos);
  t = terms();
  t.costBound = 100'000;
  EXPECT_NE(run(0, t).error.find("insufficient balance for escrow"), std::string::npos);
  EXPECT_FALSE(run(0, StartRun{core::hash(text("x"))}).applied);
  EXPECT_EQ(balance(0), 1'000'000u);
}

TEST(MarketWire, TransactionsRoundTrip) {
  core::Seed seed{};
  auto key = core::SigningKey::fromSeed(seed);
  PlaceOrder o;
  o.job = "j";
  o.costBound = 1;
  o.maxPrice = 1;
  RunResult r;
  r.work = 7;
  for (TxBody body :
       std::vector<TxBody>{o, AssignOrder{{}, {key.publicKey()}}, StartRun{}, Receipt{r},
                           CancelOrder{}, SlashFogger{key.publicKey(), r.encode(), {}}}) {
    Tx tx = makeTx(key, Digest{}, 3, body);
    // Seeds for fuzz.pool (tests/fuzz/pool_corpus), written when asked.
    if (const char* dir = std::getenv("FLO_WRITE_POOL_SEEDS")) {
      Bytes b = tx.encode();
      std::ofstream(std::filesystem::path(dir) / ("tx-" + std::string(kindName(tx.body))),
                    std::ios::binary)
          .write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
    }
    std::string why;
    auto back = Tx::decode(tx.encode(), &why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(*back, tx);
    EXPECT_TRUE(back->verify());
  }
  EXPECT_EQ(RunResult::decode(r.encode()), r);
  EXPECT_FALSE(RunResult::decode(text("junk")));
}

} // namespace
} // namespace flo::pool
