/// \file
/// The contract machine (compiler/vm/machine.h) on its own, and against `floc verify`: every
/// counterexample of the seeded-bug contracts replays on the machine to the outcome it predicts
/// (the fault at the statement, or the invariant, ensures or frame broken after the call), and
/// the proven examples never fault, keep their invariants and stay within their cost bounds
/// under random calls.
#include "compiler/sema/check.h"
#include "compiler/verify/replay.h"
#include "compiler/vm/machine.h"
#include "lang/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

namespace flo::vm {
namespace {

namespace fs = std::filesystem;
using tir::Base;

struct Loaded {
  lang::SourceManager sm;
  std::unique_ptr<lang::Diagnostics> diags;
  std::unique_ptr<lang::Program> program;
  std::unique_ptr<sema::Model> model;
  std::string errors() const {
    std::ostringstream out;
    diags->renderText(out);
    return out.str();
  }
  const tir::TypedContract& contract(std::size_t i = 0) const {
    return *model->typedContracts.at(i);
  }
};

std::unique_ptr<Loaded> load(std::string src, std::string name = "t.flo") {
  auto l = std::make_unique<Loaded>();
  l->diags = std::make_unique<lang::Diagnostics>(l->sm);
  lang::FileId id = l->sm.addBuffer(name, std::move(src));
  l->program = lang::parseProgram(l->sm, id, *l->diags);
  l->model = sema::check(*l->program, *l->diags);
  return l;
}

std::string readFile(const fs::path& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::uint32_t varNamed(const tir::TypedContract& k, const std::string& name) {
  for (std::uint32_t i = 0; i < k.vars.size(); ++i)
    if (k.vars[i].name == name && k.vars[i].role == tir::Var::Role::State) return i;
  ADD_FAILURE() << "no state " << name;
  return 0;
}

// ---- the machine on its own ------------------------------------------------------------------

const char* kEscrow = R"(contract escrow
  state balance as map did u64 max 2
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
    fail "zero" if amt == 0
    let balance[caller] = balance[caller] - amt
    let total = total - amt
    pay amt to caller
)";

TEST(ContractMachine, TokensMoveAndAbortsChangeNothing) {
  auto l = load(kEscrow);
  ASSERT_FALSE(l->diags->hasErrors()) << l->errors();
  const auto& k = l->contract();
  State s = deployed(k);
  Context ctx{"did:alice", 0};
  Outcome o = call(k, s, ctx, {"deposit", {}, "did:bob", 30, 5});
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.held, 30u);
  const std::uint32_t balance = varNamed(k, "balance"), total = varNamed(k, "total");
  EXPECT_EQ(o.after.maps[balance].at(Value::ofText(Base::Did, "did:bob")).u, 30u);
  EXPECT_EQ(o.after.vars[total].u, 30u);

  // Withdraw 12: pays bob, the balance and the total follow.
  ctx.held = o.held;
  Outcome w = call(k, o.after, ctx, {"withdraw", {Value::ofU64(12)}, "did:bob", 0, 6});
  ASSERT_TRUE(w.ok) << w.message;
  EXPECT_EQ(w.held, 18u);
  ASSERT_EQ(w.pays.size(), 1u);
  EXPECT_EQ(w.pays[0], (Payment{"did:bob", 12}));
  EXPECT_EQ(w.after.vars[total].u, 18u);

  // Withdrawing more than one holds: refused by `requires`, nothing changes.
  ctx.held = w.held;
  Outcome r = call(k, w.after, ctx, {"withdraw", {Value::ofU64(19)}, "did:bob", 0, 7});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.fault, "requires");
  EXPECT_EQ(r.after, w.after);
  EXPECT_EQ(r.held, 18u);
  EXPECT_TRUE(r.pays.empty());
  // `fail` aborts too.
  Outcome z = call(k, w.after, ctx, {"withdraw", {Value::ofU64(0)}, "did:bob", 0, 7});
  EXPECT_EQ(z.fault, "fail");
  EXPECT_EQ(z.message, "zero");
  // Withdrawing everything removes the entry: the map holds non-default values only.
  Outcome all = call(k, w.after, ctx, {"withdraw", {Value::ofU64(18)}, "did:bob", 0, 8});
  ASSERT_TRUE(all.ok);
  EXPECT_TRUE(all.after.maps[balance].empty());
}

TEST(ContractMachine, InPlaceRunsPutBackWhatAnAbortedCallWrote) {
  auto l = load(R"(contract c
  state m as map did u64 max 3
  state n as u64
  action churn k as did v as u64
    let n = n + 1
    let m[k] = v
    let m[caller] = 0
    fail "late" if v == 7
    let n = n - 2
)");
  ASSERT_FALSE(l->diags->hasErrors()) << l->errors();
  const auto& k = l->contract();
  State s = deployed(k);
  Context ctx{"did:x", 0};
  const std::uint32_t n = varNamed(k, "n"), m = varNamed(k, "m");
  s.vars[n] = Value::ofU64(5);
  s.maps[m][Value::ofText(Base::Did, "did:a")] = Value::ofU64(4);
  s.maps[m][Value::ofText(Base::Did, "did:b")] = Value::ofU64(9);
  const State original = s;
  // `churn(key, v)` called by did:b.
  auto churn = [](const char* key, std::uint64_t v) {
    return Call{"churn", {Value::ofText(Base::Did, key), Value::ofU64(v)}, "did:b", 0, 0};
  };
  // Aborts at the `fail`, after three writes (one removing an entry): all put back.
  Outcome o = run(k, s, ctx, churn("did:c", 7), {});
  EXPECT_EQ(o.fault, "fail");
  EXPECT_EQ(s, original);
  // Underflows at the last statement: the same.
  s.vars[n] = Value::ofU64(0);
  const State zero = s;
  Outcome u = run(k, s, ctx, churn("did:a", 1), {});
  EXPECT_EQ(u.fault, "overflow");
  EXPECT_EQ(s, zero);
  // Refused by the acceptance of its payments (none here, but asked): put back too.
  s = original;
  Outcome r = run(k, s, ctx, churn("did:c", 2),
                  [](const std::vector<Payment>&) { return std::optional<std::string>("no"); });
  EXPECT_EQ(r.fault, "pay");
  EXPECT_EQ(s, original);
  // Completed: in place, as `call` computes it on a copy.
  Outcome done = run(k, s, ctx, churn("did:c", 2), {});
  ASSERT_TRUE(done.ok) << done.message;
  EXPECT_EQ(s, call(k, original, ctx, churn("did:c", 2)).after);
  EXPECT_EQ(s.vars[n].u, 4u);
  EXPECT_EQ(s.maps[m].size(), 2u); // did:a and did:c; did:b's entry removed
}

TEST(ContractMachine, AFullMapAbortsANewEntryOnly) {
  auto l = load(kEscrow);
  const auto& k = l->contract();
  State s = deployed(k);
  Context ctx{"did:alice", 0};
  for (const char* who : {"did:a", "did:b"}) {
    Outcome o = call(k, s, ctx, {"deposit", {}, who, 1, 0});
    ASSERT_TRUE(o.ok) << o.message;
    s = o.after;
    ctx.held = o.held;
  }
  Outcome full = call(k, s, ctx, {"deposit", {}, "did:c", 1, 0});
  EXPECT_FALSE(full.ok);
  EXPECT_EQ(full.fault, "full");
  EXPECT_EQ(full.held, ctx.held); // the value goes back
  Outcome again = call(k, s, ctx, {"deposit", {}, "did:a", 1, 0});
  EXPECT_TRUE(again.ok) << again.message;
}

TEST(ContractMachine, CheckedArithmeticAndFlooredDivision) {
  auto l = load(R"(contract c
  state q as i64
  state r as i64
  state n as u64
  action div a as i64 b as i64
    let q = a / b
    let r = a % b
  action down
    let n = n - 1
)");
  ASSERT_FALSE(l->diags->hasErrors()) << l->errors();
  const auto& k = l->contract();
  State s = deployed(k);
  Context ctx{"did:x", 0};
  Outcome o = call(k, s, ctx, {"div", {Value::ofI64(-7), Value::ofI64(2)}, "did:x", 0, 0});
  ASSERT_TRUE(o.ok) << o.message;
  EXPECT_EQ(o.after.vars[varNamed(k, "q")].i, -4);
  EXPECT_EQ(o.after.vars[varNamed(k, "r")].i, 1);
  o = call(k, s, ctx, {"div", {Value::ofI64(7), Value::ofI64(-2)}, "did:x", 0, 0});
  EXPECT_EQ(o.after.vars[varNamed(k, "q")].i, -4);
  EXPECT_EQ(o.after.vars[varNamed(k, "r")].i, -1);
  o = call(k, s, ctx, {"div", {Value::ofI64(1), Value::ofI64(0)}, "did:x", 0, 0});
  EXPECT_EQ(o.fault, "division");
  o = call(k, s, ctx,
           {"div",
            {Value::ofI64(std::numeric_limits<std::int64_t>::min()), Value::ofI64(-1)},
            "did:x",
            0,
            0});
  EXPECT_EQ(o.fault, "overflow");
  o = call(k, s, ctx, {"down", {}, "did:x", 0, 0});
  EXPECT_EQ(o.fault, "overflow");
  EXPECT_NE(o.message.find("underflows u64"), std::string::npos) << o.message;
  // Bad calls are refused, not crashed on.
  EXPECT_EQ(call(k, s, ctx, {"nope", {}, "did:x", 0, 0}).fault, "arguments");
  EXPECT_EQ(call(k, s, ctx, {"div", {Value::ofI64(1)}, "did:x", 0, 0}).fault, "arguments");
  EXPECT_EQ(call(k, s, ctx, {"div", {Value::ofU64(1), Value::ofI64(1)}, "did:x", 0, 0}).fault,
            "arguments");
}

// ---- against floc verify ---------------------------------------------------------------------

TEST(ContractMachine, EveryCounterexampleReplaysToItsPrediction) {
  const fs::path dir = fs::path(FLO_SOURCE_DIR) / "tests/golden/verify";
  int replayed = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".flo") continue;
    auto l = load(readFile(entry.path()), entry.path().filename().string());
    ASSERT_FALSE(l->diags->hasErrors()) << entry.path() << l->errors();
    for (const auto& kp : l->model->typedContracts) {
      verify::Options quick;
      quick.timeoutMs = 1000; // counterexamples come in milliseconds; undecided.flo times out
      verify::ContractResult r = verify::verifyContract(*kp, quick);
      for (const auto& p : r.properties) {
        if (p.verdict != verify::Verdict::Violated || !p.witness) continue;
        std::string problem;
        verify::Replay r = verify::replay(*kp, p, &problem);
        EXPECT_EQ(r, verify::Replay::AsPredicted) << entry.path().filename() << " line "
                                                  << l->sm.lineCol(p.range.file, p.range.begin).line
                                                  << " (" << p.kind << "): " << p.message;
        ++replayed;
      }
    }
  }
  // The seeded bugs give at least this many counterexamples (tests/golden/verify).
  EXPECT_GE(replayed, 12);
}

/// Random calls on a proven contract: never a fault a proof rules out, invariants after every
/// completed call, and never more operations than the cost bound.
TEST(ContractMachine, ProvenExamplesNeverFaultUnderRandomCalls) {
  const fs::path dir = fs::path(FLO_SOURCE_DIR) / "examples";
  std::mt19937_64 rng(20261204);
  int completed = 0;
  for (const char* name : {"escrow_contract.flo", "token_contract.flo", "auction_contract.flo"}) {
    auto l = load(readFile(dir / name), name);
    ASSERT_FALSE(l->diags->hasErrors()) << l->errors();
    const auto& k = l->contract();
    verify::ContractResult proof = verify::verifyContract(k, {});
    ASSERT_TRUE(proof.proven()) << name;
    std::map<std::string, std::uint64_t> bound;
    for (const auto& p : proof.properties)
      if (p.bound) bound[p.action] = *p.bound;
    const std::vector<std::string> dids = {"did:a", "did:b", "did:c"};
    State s = deployed(k);
    Context ctx{"did:a", 0};
    std::uint64_t now = 0;
    for (int i = 0; i < 3000; ++i) {
      const auto& a = k.actions[rng() % k.actions.size()];
      Call c{a.name, {}, dids[rng() % dids.size()], rng() % 3 == 0 ? 0 : rng() % 50, now};
      now += rng() % 3;
      for (std::uint32_t q : a.params) {
        Base b = k.vars[q].type.base;
        if (b == Base::Did)
          c.args.push_back(Value::ofText(b, dids[rng() % dids.size()]));
        else
          c.args.push_back(Value::ofU64(rng() % 60 + (a.name == "open" ? now : 0)));
      }
      Outcome o = call(k, s, ctx, c);
      EXPECT_LE(o.ops, bound[a.name]) << name << " " << a.name;
      ASSERT_TRUE(o.ok || o.fault == "requires" || o.fault == "fail" || o.fault == "full")
          << name << " " << a.name << ": " << o.fault << " " << o.message;
      if (!o.ok) continue;
      ++completed;
      for (const auto& inv : k.invariants)
        ASSERT_TRUE(holds(k, inv, o.after, o.held, ctx)) << name << " after " << a.name;
      std::uint64_t paid = 0;
      for (const auto& p : o.pays) paid += p.amount;
      EXPECT_EQ(o.held + paid, ctx.held + c.value) << "tokens are conserved";
      s = o.after;
      ctx.held = o.held;
    }
  }
  EXPECT_GT(completed, 1000);
}

} // namespace
} // namespace flo::vm
