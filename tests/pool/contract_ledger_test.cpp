// Contracts on the ledger (docs/verify.md): deploys compile on the replica, calls move real
// tokens (value in, pays out, fees kept), aborts return the value and change nothing else, and
// conservation, the state root and snapshots hold contracts, their stakes and the fees.
#include "compiler/vm/compile.h"
#include "core/identity.h"
#include "pool/ledger/ledger.h"
#include "sim/random.h"

#include <gtest/gtest.h>

namespace flo::pool {
namespace {

const char* kEscrow = R"(contract escrow
  state balance as map did u64
  state total as u64
  invariant sum balance == total
  invariant total <= held

  action deposit
    requires value > 0
    modifies balance[caller] total
    let balance[caller] = balance[caller] + value
    let total = total + value

  action withdraw amt as u64
    requires balance[caller] >= amt
    modifies balance[caller] total
    fail "nothing to withdraw" if amt == 0
    let balance[caller] = balance[caller] - amt
    let total = total - amt
    pay amt to caller

  action gift dest as did amt as u64
    requires balance[caller] >= amt
    let balance[caller] = balance[caller] - amt
    let total = total - amt
    pay amt to dest
)";

struct ContractLedger : ::testing::Test {
  Genesis genesis;
  std::vector<core::SigningKey> keys;
  std::map<AccountId, std::uint64_t> nonces;
  std::unique_ptr<Ledger> ledger;
  std::uint64_t height = 0;

  void SetUp() override {
    for (std::uint8_t i = 0; i < 4; ++i) {
      core::Seed seed;
      std::fill(seed.data(), seed.data() + seed.size(), std::uint8_t(i + 21));
      keys.push_back(core::SigningKey::fromSeed(seed));
    }
    for (std::size_t i = 0; i < 3; ++i)
      genesis.accounts.push_back({"a" + std::to_string(i), keys[i].publicKey(), 100'000});
    ReplicaInfo r;
    r.did = "did:key:z6Mk";
    r.key = keys[3].publicKey();
    r.host = "127.0.0.1";
    r.port = 1;
    genesis.replicas.push_back(r);
    ledger = std::make_unique<Ledger>(genesis);
  }

  /// One transaction in a block of its own; its result, after the ledger's invariants.
  TxResult run(std::size_t who, TxBody body) {
    const auto& k = keys[who];
    Tx tx = makeTx(k, genesis.chainId(), nonces[k.publicKey()]++, std::move(body));
    ++height;
    auto results = ledger->executeBlock(height, 1000 * height, {tx});
    std::string why;
    EXPECT_TRUE(ledger->conserved(&why)) << why;
    EXPECT_EQ(ledger->stateRoot(), ledger->stateRootFromScratch());
    auto copy = Ledger::decode(genesis, ledger->encode(), &why);
    EXPECT_TRUE(copy) << why;
    if (copy) EXPECT_EQ(copy->stateRoot(), ledger->stateRoot());
    return results.at(0);
  }
  std::uint64_t balance(std::size_t who) const {
    const Account* a = ledger->account(keys[who].publicKey());
    return a ? a->balance : 0;
  }
  std::string did(std::size_t who) const { return core::didKey(keys[who].publicKey()); }
};

TEST_F(ContractLedger, DepositAndWithdrawMoveTokensAndChargeFees) {
  TxResult d = run(0, DeployContract{kEscrow});
  ASSERT_TRUE(d.applied) << d.error;
  const std::uint64_t deployFee = std::string(kEscrow).size() * kDeployFeePerByte;
  EXPECT_EQ(balance(0), 100'000 - deployFee);
  const Contract* c = ledger->contract("escrow");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->creator, keys[0].publicKey());
  const std::uint64_t depositFee = c->code->cost.at("deposit") * kFeePerOperation;
  const std::uint64_t withdrawFee = c->code->cost.at("withdraw") * kFeePerOperation;

  TxResult dep = run(1, CallContract{"escrow", "deposit", {}, 700});
  ASSERT_TRUE(dep.applied) << dep.error;
  EXPECT_EQ(balance(1), 100'000 - 700 - depositFee);
  EXPECT_EQ(ledger->contract("escrow")->held, 700u);
  EXPECT_EQ(ledger->contract("escrow")->stateJson(),
            "{\"balance\":[[\"" + did(1) + "\",700]],\"total\":700}");
  TxResult w = run(1, CallContract{"escrow", "withdraw", {"250"}, 0});
  ASSERT_TRUE(w.applied) << w.error;
  EXPECT_EQ(balance(1), 100'000 - 700 - depositFee + 250 - withdrawFee);
  EXPECT_EQ(ledger->contract("escrow")->held, 450u);
  EXPECT_EQ(ledger->contract("escrow")->stateJson(),
            "{\"balance\":[[\"" + did(1) + "\",450]],\"total\":450}");
  EXPECT_EQ(ledger->fees(), deployFee + depositFee + withdrawFee);
}

TEST_F(ContractLedger, AnAbortReturnsTheValueKeepsTheFeeAndChangesNothingElse) {
  ASSERT_TRUE(run(0, DeployContract{kEscrow}).applied);
  ASSERT_TRUE(run(1, CallContract{"escrow", "deposit", {}, 100}).applied);
  const std::string state = ledger->contract("escrow")->stateJson();
  const std::uint64_t before = balance(1), fees = ledger->fees();
  const std::uint64_t fee = ledger->contract("escrow")->code->cost.at("withdraw");
  // More than the caller holds: `requires` refuses it.
  TxResult r = run(1, CallContract{"escrow", "withdraw", {"101"}, 5});
  EXPECT_FALSE(r.applied);
  EXPECT_NE(r.error.find("aborted at line 14"), std::string::npos) << r.error;
  EXPECT_EQ(balance(1), before - fee);
  EXPECT_EQ(ledger->fees(), fees + fee);
  EXPECT_EQ(ledger->contract("escrow")->stateJson(), state);
  EXPECT_EQ(ledger->contract("escrow")->held, 100u);
  // `fail`: the same.
  TxResult z = run(1, CallContract{"escrow", "withdraw", {"0"}, 0});
  EXPECT_FALSE(z.applied);
  EXPECT_NE(z.error.find("nothing to withdraw"), std::string::npos) << z.error;
}

TEST_F(ContractLedger, PaysReachAccountsAndAPayToANonAccountAborts) {
  ASSERT_TRUE(run(0, DeployContract{kEscrow}).applied);
  ASSERT_TRUE(run(1, CallContract{"escrow", "deposit", {}, 100}).applied);
  const std::uint64_t before2 = balance(2);
  TxResult g = run(1, CallContract{"escrow", "gift", {did(2), "40"}, 0});
  ASSERT_TRUE(g.applied) << g.error;
  EXPECT_EQ(balance(2), before2 + 40);
  EXPECT_EQ(ledger->contract("escrow")->held, 60u);
  // The gift writes the balance and the total before its `pay` names a non-account: the call
  // aborts after those writes, which are put back.
  const std::string state = ledger->contract("escrow")->stateJson();
  TxResult bad = run(1, CallContract{"escrow", "gift", {"someone", "10"}, 7});
  EXPECT_FALSE(bad.applied);
  EXPECT_NE(bad.error.find("not an account"), std::string::npos) << bad.error;
  EXPECT_EQ(ledger->contract("escrow")->held, 60u);
  EXPECT_EQ(ledger->contract("escrow")->stateJson(), state);
}

TEST_F(ContractLedger, BadDeploysAndCallsAreRefusedWithReasons) {
  TxResult bad =
      run(0, DeployContract{"contract c\n  state n as u64\n  action a\n    let n = m\n"});
  EXPECT_FALSE(bad.applied);
  EXPECT_NE(bad.error.find("line 4: unknown name 'm'"), std::string::npos) << bad.error;
  TxResult house = run(0, DeployContract{"house h\n  framer f\n    frame a\n"});
  EXPECT_FALSE(house.applied);
  EXPECT_NE(house.error.find("exactly one contract"), std::string::npos) << house.error;
  ASSERT_TRUE(run(0, DeployContract{kEscrow}).applied);
  TxResult again = run(1, DeployContract{kEscrow});
  EXPECT_FALSE(again.applied);
  EXPECT_NE(again.error.find("exists"), std::string::npos);
  EXPECT_NE(run(1, CallContract{"nope", "deposit", {}, 1}).error.find("no contract named"),
            std::string::npos);
  EXPECT_NE(run(1, CallContract{"escrow", "steal", {}, 0}).error.find("its actions: deposit"),
            std::string::npos);
  EXPECT_NE(run(1, CallContract{"escrow", "withdraw", {}, 0}).error.find("takes 1 argument"),
            std::string::npos);
  EXPECT_NE(run(1, CallContract{"escrow", "withdraw", {"-1"}, 0}).error.find("not a u64"),
            std::string::npos);
  EXPECT_NE(run(1, CallContract{"escrow", "deposit", {}, 1'000'000}).error.find("insufficient"),
            std::string::npos);
}

TEST_F(ContractLedger, StakesOnAContractCountInTheSupplyAndComeBack) {
  ASSERT_TRUE(run(0, DeployContract{kEscrow}).applied);
  const std::uint64_t before = balance(2);
  ASSERT_TRUE(run(2, StakeContract{"escrow", 900}).applied);
  EXPECT_EQ(balance(2), before - 900);
  EXPECT_EQ(ledger->contract("escrow")->staked(), 900u);
  EXPECT_FALSE(run(2, UnstakeContract{"escrow", 901}).applied);
  ASSERT_TRUE(run(2, UnstakeContract{"escrow", 900}).applied);
  EXPECT_EQ(balance(2), before);
  EXPECT_EQ(ledger->contract("escrow")->staked(), 0u);
  EXPECT_FALSE(run(2, StakeContract{"nope", 1}).applied);
}

// Random calls from three accounts across blocks: every block conserves the supply, keeps the
// root equal to the root from nothing, and survives a snapshot; the contract's held tokens are
// always its total (the invariant floc verify proves, here on the real ledger).
TEST_F(ContractLedger, RandomCallsKeepEveryLedgerInvariant) {
  ASSERT_TRUE(run(0, DeployContract{kEscrow}).applied);
  sim::Rng rng(99);
  for (int i = 0; i < 150; ++i) {
    std::size_t who = rng.below(3);
    std::uint64_t kind = rng.below(4);
    TxBody body;
    if (kind == 0)
      body = CallContract{"escrow", "deposit", {}, rng.below(500)};
    else if (kind == 1)
      body = CallContract{"escrow", "withdraw", {std::to_string(rng.below(300))}, 0};
    else if (kind == 2)
      body = CallContract{"escrow", "gift", {did(rng.below(3)), std::to_string(rng.below(200))}, 0};
    else
      body = Transfer{keys[rng.below(3)].publicKey(), 1 + rng.below(100)};
    run(who, std::move(body));
    const Contract* c = ledger->contract("escrow");
    EXPECT_EQ(c->held, c->state.vars.at(1).u) << "held is the total, step " << i;
  }
}

TEST(ContractTx, NewKindsRoundTripAndOnlyADeployMayBeLarge) {
  core::Seed seed{};
  auto k = core::SigningKey::fromSeed(seed);
  Digest chain{};
  std::string big(5000, 'x');
  for (const TxBody& body :
       {TxBody{DeployContract{"contract c\n" + big}},
        TxBody{CallContract{"escrow", "withdraw", {"1", "did:key:z"}, 9}},
        TxBody{StakeContract{"escrow", 5}}, TxBody{UnstakeContract{"escrow", 5}}}) {
    Tx tx = makeTx(k, chain, 3, body);
    std::string why;
    auto back = Tx::decode(tx.encode(), &why);
    ASSERT_TRUE(back) << why;
    EXPECT_EQ(*back, tx);
    EXPECT_TRUE(back->verify());
  }
  // A call of 1.5 KB is not a deploy: refused, as any transaction over 1024 bytes.
  Tx call =
      makeTx(k, chain, 0,
             CallContract{"escrow",
                          "a",
                          {std::string(200, 'a'), std::string(200, 'b'), std::string(200, 'c'),
                           std::string(200, 'd'), std::string(200, 'e'), std::string(200, 'f')},
                          0});
  std::string why;
  EXPECT_FALSE(Tx::decode(call.encode(), &why));
  EXPECT_NE(why.find("larger than 1024"), std::string::npos) << why;
}

} // namespace
} // namespace flo::pool
