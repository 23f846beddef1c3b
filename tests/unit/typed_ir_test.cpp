/// \file
/// The typed expression IR (compiler/sema/typecheck.h): each node's type, the explicit
/// conversions, value ranges and which operations can fault, and the located errors for what
/// does not type.
#include "compiler/sema/check.h"
#include "lang/parser.h"

#include <gtest/gtest.h>

#include <sstream>

namespace flo::sema {
namespace {

using namespace lang;

struct Typed {
  SourceManager sm;
  std::unique_ptr<Diagnostics> diags;
  std::unique_ptr<Program> program;
  std::unique_ptr<Model> model;
  std::string errors() const {
    std::ostringstream out;
    diags->renderText(out);
    return out.str();
  }
  /// The first deed's typed body, printed.
  std::string deed() const {
    if (model->deeds.empty() || !model->deeds[0].typed) return "(untyped)";
    std::ostringstream out;
    tir::print(model->deeds[0].typed->vars, model->deeds[0].typed->body, out, "");
    return out.str();
  }
};

std::unique_ptr<Typed> run(std::string src) {
  auto c = std::make_unique<Typed>();
  c->diags = std::make_unique<Diagnostics>(c->sm);
  FileId id = c->sm.addBuffer("t.flo", std::move(src));
  c->program = parseProgram(c->sm, id, *c->diags);
  c->model = check(*c->program, *c->diags);
  return c;
}

TEST(TypedIr, ConversionsAreExplicitNodes) {
  auto t = run("deed d\n  input c as f64\n  input n as i64\n  input b as bool\n  output f as f64\n"
               "  let f = c * 9 / 5 + n + b\n");
  ASSERT_FALSE(t->diags->hasErrors()) << t->errors();
  // 9 and 5 are i64 constants widened to f64; the bool widens to f64 directly.
  EXPECT_NE(t->deed().find("let f = add:f64(add:f64(div:f64(mul:f64(c:f64, widen:f64(9:i64)), "
                           "widen:f64(5:i64)), widen:f64(n:i64)), widen:f64(b:bool))"),
            std::string::npos)
      << t->deed();
}

TEST(TypedIr, IntegerDivisionInDeedsIsTrueDivision) {
  auto t = run("deed d\n  input a as i64\n  output y as f64\n  let y = a / 2\n");
  ASSERT_FALSE(t->diags->hasErrors()) << t->errors();
  EXPECT_NE(t->deed().find("div:f64(widen:f64(a:i64), widen:f64(2:i64))"), std::string::npos)
      << t->deed();
}

TEST(TypedIr, RangesDecideWhichOperationsCanFault) {
  auto t = run(
      "deed d\n  input a as i64\n  input b as bool\n  output y as i64\n  output z as i64\n"
      "  output w as i64\n  let y = a % 2 + b\n  let z = a + 1\n  let w = clamp(a, 0, 9) * 3\n");
  ASSERT_FALSE(t->diags->hasErrors()) << t->errors();
  const auto& body = t->model->deeds[0].typed->body;
  ASSERT_EQ(body.size(), 3u);
  // a % 2 is in [0, 1]; adding a bool gives [0, 2]: no overflow and no division by zero.
  const tir::Expr& sum = body[0].value;
  EXPECT_FALSE(sum.mayFault);
  EXPECT_FALSE(sum.args[0].mayFault); // the divisor 2 is not zero
  ASSERT_TRUE(sum.bounds);
  EXPECT_EQ(std::int64_t(sum.bounds->lo), 0);
  EXPECT_EQ(std::int64_t(sum.bounds->hi), 2);
  EXPECT_TRUE(body[1].value.mayFault); // a + 1 overflows at the top of i64
  // clamp(a, 0, 9) * 3 is in [0, 27].
  EXPECT_FALSE(body[2].value.mayFault);
  EXPECT_EQ(std::int64_t(body[2].value.bounds->hi), 27);
  EXPECT_NE(t->deed().find("mul:i64[0..27]"), std::string::npos) << t->deed();
}

TEST(TypedIr, DeedErrorsAreLocated) {
  auto t = run("deed d\n  input x as f64\n  output n as i64\n  let n = x * 2.0\n");
  EXPECT_NE(t->errors().find("t.flo:4:11: error: cannot assign an f64 value ('x * 2.0') to 'n' "
                             "(i64); use floor, ceil or round"),
            std::string::npos)
      << t->errors();
  EXPECT_EQ(t->model->deeds[0].typed, nullptr);
}

TEST(TypedIr, FilterReadsItsItemOnly) {
  auto t = run("deed c\n  input x as f64\n  output y as f64\n  let y = x\n"
               "flow f from .a.b\n  filter value > .limit\n  reduce mean into .c\n");
  EXPECT_NE(t->errors().find("a filter reads its item (`value`, `time`), not the store path "
                             "'.limit'"),
            std::string::npos)
      << t->errors();
}

TEST(TypedIr, ContractsTypeOverDeclaredTypes) {
  auto t = run("contract c\n  state bal as map did u64\n  state total as u64\n"
               "  invariant sum bal == total\n"
               "  action put who as did amt as u64\n    requires amt > 0\n"
               "    ensures bal[who] == old bal[who] + amt\n    let bal[who] = bal[who] + amt\n"
               "    let total = total + amt\n");
  ASSERT_FALSE(t->diags->hasErrors()) << t->errors();
  ASSERT_EQ(t->model->typedContracts.size(), 1u);
  const auto& c = *t->model->typedContracts[0];
  ASSERT_EQ(c.actions.size(), 1u);
  std::ostringstream out;
  tir::print(c.vars, c.actions[0].body, out, "");
  // The literal 0 takes amt's type; the map entry is u64.
  EXPECT_NE(out.str().find("requires >:bool(amt:u64, 0:u64)"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("let bal[who:did] = add:u64(index:u64(bal:map did u64, "
                           "who:did), amt:u64)"),
            std::string::npos)
      << out.str();
}

TEST(TypedIr, ContractsMoveTokens) {
  auto t = run("contract c\n  state bal as map did u64\n  invariant held >= 0\n"
               "  action take amt as u64\n    modifies bal[caller]\n"
               "    let bal[caller] = bal[caller] - amt\n    pay amt to caller\n");
  ASSERT_FALSE(t->diags->hasErrors()) << t->errors();
  const auto& c = *t->model->typedContracts[0];
  // The built-ins follow the state; the parameter follows them.
  ASSERT_EQ(c.vars.size(), 1u + std::size(tir::kContractBuiltins) + 1u);
  EXPECT_EQ(c.vars[1].name, "caller");
  EXPECT_EQ(c.vars[1].role, tir::Var::Role::Builtin);
  const auto& a = c.actions.at(0);
  ASSERT_TRUE(a.modifies);
  ASSERT_EQ(a.modifies->size(), 1u);
  EXPECT_EQ(a.modifies->at(0).var, 0u);
  ASSERT_TRUE(a.modifies->at(0).key);
  std::ostringstream out;
  tir::print(c.vars, a.body, out, "");
  EXPECT_NE(out.str().find("pay to caller:did: amt:u64"), std::string::npos) << out.str();
  // The invariant's `held` is the table's built-in, not a shifted index.
  ASSERT_EQ(c.invariants.size(), 1u);
  EXPECT_EQ(tir::printExpr(c.vars, c.invariants[0]), ">=:bool(held:u64, 0:u64)");
}

TEST(TypedIr, ContractTypeErrors) {
  auto t = run("contract c\n  state n as u64\n  state i as i64\n  state owner as did\n"
               "  invariant n\n"
               "  action a x as i64\n    requires n + i > 0\n    let n = - n\n"
               "    ensures owner < owner\n    let i = n[1]\n");
  const std::string e = t->errors();
  EXPECT_NE(e.find("an invariant must be a condition (bool), not a u64 value ('n')"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("cannot mix a u64 value and an i64 value in 'n + i'"), std::string::npos) << e;
  EXPECT_NE(e.find("cannot negate a u64 value ('- n')"), std::string::npos) << e;
  EXPECT_NE(e.find("did values compare only with == and != ('owner < owner')"), std::string::npos)
      << e;
  EXPECT_NE(e.find("'n' is a u64 value; only maps are indexed"), std::string::npos) << e;
}

TEST(TypedIr, LiteralsOutOfRange) {
  auto t = run("contract c\n  state n as u64\n  invariant n < 18446744073709551615\n"
               "  invariant n < 18446744073709551616\n  action a\n    let n = 0\n"
               "deed d\n  output y as i64\n  let y = 9223372036854775808\n");
  const std::string e = t->errors();
  EXPECT_EQ(e.find("t.flo:3:"), std::string::npos) << e; // the largest u64 is fine
  EXPECT_NE(e.find("t.flo:4:17: error: literal '18446744073709551616' is out of range for u64"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("t.flo:9:11: error: literal '9223372036854775808' is out of range for i64"),
            std::string::npos)
      << e;
}

} // namespace
} // namespace flo::sema
