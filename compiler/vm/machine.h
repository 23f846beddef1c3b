/// \file
/// The contract machine: runs a typed contract's action (compiler/sema/typed.h) on a state,
/// deterministically. Same contract, state and call in, same outcome out, on every machine:
/// integers are exact (executable statements are checked against their types, specifications
/// computed without bound), maps are ordered, and nothing reads a clock or draws randomness.
/// `floc verify` proves what this machine does (docs/verify.md): its counterexamples replay
/// here to the outcome they predict (tests/unit/contract_machine_test.cpp).
///
/// A call: `value` joins `held`; the action's statements run in order (`requires` and `fail ...
/// if` may refuse it, a checked operation may fault, a `pay` beyond `held` or a new entry in a
/// full map aborts it); on any abort nothing changes. Each statement run and each expression node
/// evaluated is one operation (`ensures` are proven, not run), never more than `floc verify`'s
/// cost bound of the action.
#pragma once

#include "compiler/sema/typed.h"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flo::vm {

/// A scalar value of a contract: a bool, an i64, a u64, or text (str, bytes, a did; the empty
/// text is the default did).
struct Value {
  tir::Base base = tir::Base::U64;
  bool b = false;
  std::int64_t i = 0;
  std::uint64_t u = 0;
  std::string s;

  static Value defaultOf(tir::Base base) { return Value{base, false, 0, 0, {}}; }
  static Value ofU64(std::uint64_t v) { return Value{tir::Base::U64, false, 0, v, {}}; }
  static Value ofI64(std::int64_t v) { return Value{tir::Base::I64, false, v, 0, {}}; }
  static Value ofBool(bool v) { return Value{tir::Base::Bool, v, 0, 0, {}}; }
  static Value ofText(tir::Base base, std::string v) {
    return Value{base, false, 0, 0, std::move(v)};
  }
  bool isDefault() const { return !b && i == 0 && u == 0 && s.empty(); }
  std::string text() const; ///< as `floc verify` prints it (a str quoted)
  auto operator<=>(const Value& o) const = default;
};

/// A contract's state: a value per variable of its table (only the state's are meaningful) and
/// the entries of each map variable (never one holding its type's default).
struct State {
  std::vector<Value> vars;
  std::map<std::uint32_t, std::map<Value, Value>> maps;
  bool operator==(const State&) const = default;
};

/// The state a contract is deployed in: every variable its default, every map empty.
State deployed(const tir::TypedContract& contract);

struct Call {
  std::string action;
  std::vector<Value> args; ///< in the action's parameter order
  std::string caller;      ///< a did
  std::uint64_t value = 0; ///< tokens attached
  std::uint64_t now = 0;   ///< block time, seconds
};

struct Context {
  std::string creator;
  std::uint64_t held = 0; ///< the contract's tokens before the call
};

struct Payment {
  std::string to;
  std::uint64_t amount = 0;
  bool operator==(const Payment&) const = default;
};

struct Outcome {
  bool ok = false;
  /// Why it aborted: requires, fail, overflow, division, pay, full, arguments.
  std::string fault;
  std::string message;    ///< for a user: "'total - amt' underflows u64"
  lang::SourceRange at;   ///< the statement or operation
  State after;            ///< the state after (the one before when it aborted)
  std::uint64_t held = 0; ///< tokens after (before, with `value` returned, when it aborted)
  std::vector<Payment> pays;
  std::uint64_t ops = 0; ///< operations run
};

/// Runs one call. Never throws for a bad call: an unknown action or arguments of the wrong
/// number or type abort it (`arguments`).
Outcome call(const tir::TypedContract& contract, const State& before, const Context& context,
             const Call& call);

/// Asked, once a call has run to its end, whether its payments can be made; an error aborts
/// the call (fault `pay`).
using Acceptance = std::function<std::optional<std::string>(const std::vector<Payment>&)>;

/// The same, on `state` in place: what the call writes is logged and put back when it aborts,
/// so a call costs what it writes, not a copy of the state (the ledger's way). Outcome::after
/// is left empty.
Outcome run(const tir::TypedContract& contract, State& state, const Context& context,
            const Call& call, const Acceptance& accept);

/// The most operations one call of `action` can run (Outcome::ops never exceeds it): one per
/// statement but `ensures`, plus one per node of each statement's expressions (no loops). `floc
/// verify` reports it; the pool charges a call's fee on it.
std::uint64_t costBound(const tir::TypedAction& action);

/// A specification (an invariant, an ensures) on `state` with `held`, `old X` read in `old`
/// (with `oldHeld`); `call` gives `caller`, `value` and the parameters. Exact integers.
bool holds(const tir::TypedContract& contract, const tir::Expr& spec, const State& state,
           std::uint64_t held, const Context& context, const Call* call = nullptr,
           const State* old = nullptr, std::uint64_t oldHeld = 0);

} // namespace flo::vm
