/// \file
/// The typed expression IR: what semantic analysis makes of every expression and statement in a
/// deed, a flow's filter and a contract. Each node has its resolved type, its source range and,
/// for integers where it is known, its value range; the implicit conversions of the language
/// (bool -> i64 -> f64, an integer literal taking an unsigned operand's type) are explicit
/// `Widen` nodes. Later stages (code generation, `floc verify`) read only this, never the AST:
/// the nodes own their text and point into nothing.
#pragma once

#include "lang/ast.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::tir {

inline constexpr std::uint32_t kNoVar = std::uint32_t(-1);

// ---------------------------------------------------------------------------------- types

enum class Base : std::uint8_t { Bool, I64, U64, F64, Str, Bytes, Did, Map };

struct Type {
  Base base = Base::F64;
  Base key = Base::Bool;             ///< Map: the key's (scalar) type
  std::shared_ptr<const Type> value; ///< Map: the value's type
  std::optional<std::uint64_t> max;  ///< Map: at most this many entries

  static Type scalar(Base b) { return {b, Base::Bool, nullptr, std::nullopt}; }
  bool isNumeric() const { return base == Base::Bool || isNumber(); }
  bool isNumber() const { return base == Base::I64 || base == Base::U64 || base == Base::F64; }
  bool isInteger() const { return base == Base::I64 || base == Base::U64; }
  bool operator==(const Type& o) const;
};
std::string typeName(const Type& t);
const char* baseName(Base b);

/// A closed interval of the mathematical integers an integer-valued node can take.
struct IntRange {
  __int128 lo = 0, hi = 0;
  bool fitsI64() const;
  bool fitsU64() const;
  static IntRange of(Base b); ///< every value of the (integer or bool) type
};

// ---------------------------------------------------------------------------------- expressions

enum class Fn : std::uint8_t {
  Abs,
  Min,
  Max,
  Clamp,
  Sqrt,
  Exp,
  Log,
  Sin,
  Cos,
  Floor,
  Ceil,
  Round,
  Len
};
const char* fnName(Fn f);
std::optional<Fn> fnByName(std::string_view name);
std::vector<Fn> allFns();

enum class Op : std::uint8_t {
  Const, ///< a literal: `b`, `i`, `u`, `f` or `s` by type
  Var,   ///< a variable of the body (port, state, parameter, flow item)
  Widen, ///< operand converted to this node's type along bool -> i64/u64 -> f64
  Neg,
  Not,
  Add,
  Sub,
  Mul,
  Div, ///< f64: true division (deeds); integers: floored division (contracts)
  Mod, ///< floored remainder (the sign of the divisor)
  Cmp, ///< operands are of one type
  And, ///< Python's: yields an operand (operands are of this node's type)
  Or,
  Cond,  ///< operands: condition, then, else
  Call,  ///< `fn`; operands converted to what the function computes in
  Index, ///< operands: map, key
  Old,   ///< value before the action (contract `ensures`)
  Sum,   ///< sum of a map's values
  Count, ///< number of a map's entries
};

/// `a + b`, `a - b` or `a * b` for Add, Sub or Mul, over any integer-like type (the contract
/// machine's exact integers, Z3's terms): one reading of the operators for both.
template <class T> T ring(Op op, const T& a, const T& b) {
  return op == Op::Add ? T(a + b) : op == Op::Sub ? T(a - b) : T(a * b);
}

struct Expr {
  Op op = Op::Const;
  Type type;
  lang::SourceRange range;
  std::optional<IntRange> bounds; ///< integers and bools, when known statically
  /// Neg, Add, Sub, Mul, Div, Mod, abs: the operation can fault at run time (overflow, division
  /// by zero); false when the operands' ranges rule it out, so no check is generated.
  bool mayFault = true;
  // payload
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  double f = 0;
  std::string s;              ///< Const str; otherwise the source text (for messages)
  std::uint32_t var = kNoVar; ///< Var
  Fn fn = Fn::Abs;            ///< Call
  lang::Comparison cmp = lang::Comparison::Eq;
  std::vector<Expr> args;

  const IntRange* valueRange() const { return bounds ? &*bounds : nullptr; }
};

// ---------------------------------------------------------------------------------- bodies

struct Var {
  enum class Role : std::uint8_t { Input, Output, Local, State, Param, Item, ItemTime, Builtin };
  std::string name;
  Type type;
  Role role = Role::Local;
  lang::SourceRange decl;
};
const char* roleName(Var::Role r);

struct Stmt {
  enum class Kind : std::uint8_t { Assign, Fail, Requires, Ensures, Pay };
  Kind kind = Kind::Assign;
  lang::SourceRange range;
  std::uint32_t target = kNoVar; ///< Assign: the variable
  std::optional<Expr> index;     ///< Assign into a map entry; Pay: the recipient (a did)
  Expr value; ///< Assign: the value; Pay: the amount; Fail, Requires, Ensures: the condition
  std::string message; ///< Fail: the message, unquoted
};

/// A deed: its ports in declaration order (`vars`, roles Input, Output, Local) and its body.
struct TypedDeed {
  std::string name;
  lang::SourceRange range;
  std::vector<Var> vars;
  std::vector<Stmt> body;
  std::vector<std::uint32_t> inputsAndOutputs() const; ///< var indices bound to store fields
};

/// A location an action may change (`modifies total balance[caller]`).
struct Location {
  std::uint32_t var = kNoVar; ///< a state variable
  std::optional<Expr> key;    ///< one entry of a map; the whole variable when absent
  lang::SourceRange range;
};

struct TypedAction {
  std::string name;
  lang::SourceRange range;
  std::vector<std::uint32_t> params; ///< var indices (role Param)
  std::vector<Stmt> body;            ///< requires, ensures, assignments, pays, fails, in order
  std::optional<std::vector<Location>> modifies; ///< absent: no `modifies` (anything)
};

/// The names every contract action reads (docs/language.md, contracts): `caller` and `creator`
/// (did), `value`, `held` and `now` (u64). They follow the state in a contract's variable table,
/// in this order.
struct ContractBuiltin {
  const char* name;
  Base type;
  bool inInvariants; ///< invariants read the contract, not a call
};
inline constexpr ContractBuiltin kContractBuiltins[] = {{"caller", Base::Did, false},
                                                        {"creator", Base::Did, true},
                                                        {"value", Base::U64, false},
                                                        {"held", Base::U64, true},
                                                        {"now", Base::U64, false}};

/// A contract: state, then the built-ins (kContractBuiltins), then each action's parameters, in
/// one variable table.
struct TypedContract {
  std::string name;
  lang::SourceRange range;
  std::vector<Var> vars;
  std::vector<Expr> invariants;
  std::vector<TypedAction> actions;
};

/// Prints a body as text (`floc --emit=ir`): one statement per line, each node with its type.
void print(const std::vector<Var>& vars, const std::vector<Stmt>& body, std::ostream& out,
           const std::string& indent);
std::string printExpr(const std::vector<Var>& vars, const Expr& e);

} // namespace flo::tir
