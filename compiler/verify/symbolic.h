/// \file
/// A contract action executed symbolically over Z3 terms: what `floc verify` proves things
/// about. It reads only the typed IR (compiler/sema/typed.h).
///
/// The model, exactly (docs/verify.md):
/// - Integers are mathematical integers; an executable statement's `+ - *`, negation, `abs`,
///   `/` and `%` carry an obligation that the result fits the node's type (and that a divisor is
///   not zero). Specifications (`requires`, `ensures`, `invariant`) carry none.
/// - `did` and `bytes` are uninterpreted (equality only), `str` is Z3's string sort; a map is an
///   array from its key to its value with a default (0, false, "", the empty did/bytes); its
///   entries are the keys whose value is not the default (writing the default removes one). Two
///   ghost terms go with it: the sum of its values and the number of its entries. A write
///   updates the sum by the entry's difference and the count when an entry comes or goes; a new
///   entry in a full map (`max N`) aborts the call.
/// - An action runs in order: `requires` and `fail ... if` narrow the path (a call that fails one
///   aborts, which changes nothing); obligations are checked at their point and then assumed
///   (the run aborts where one fails); `ensures` are read at the end, `old X` in the state the
///   action started from (the call's `value` already added to `held`).
/// - Facts about the state before the call are instantiated at every key an action uses: each
///   entry is within its type, and the rest of the map (all but one key, or two distinct keys)
///   holds the count less the entries among them; with unsigned values, each of those is at
///   least 1, so the rest of the sum is at least the rest of the count (one entry, and two
///   distinct entries together, are at most the sum), and with no other entry the rest of the
///   sum is 0.
#pragma once

#include "compiler/sema/typed.h"

#include <z3++.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace flo::verify {

/// A construct the verifier cannot reason about (an f64, a nested map): a located error.
struct Unsupported : std::runtime_error {
  Unsupported(lang::SourceRange r, const std::string& what) : std::runtime_error(what), range(r) {}
  lang::SourceRange range;
};

/// A variable's symbolic value: a scalar, or a map (an array) with its ghost terms.
struct Sym {
  z3::expr v;
  std::optional<z3::expr> sum;   ///< maps of numbers: the sum of the values
  std::optional<z3::expr> count; ///< maps: the number of entries (values not the default)
};

/// One value of every variable of the contract's table (state, built-ins, parameters).
using Env = std::vector<Sym>;

/// Something that must hold where an executable statement runs.
struct Obligation {
  enum class Kind { Overflow, Division, Pay };
  Kind kind;
  tir::Base type; ///< of the operation (Overflow)
  lang::SourceRange range;
  std::string what;                                   ///< "`total - amt` stays within u64"
  z3::expr pc;                                        ///< the path to it
  z3::expr cond;                                      ///< what must hold there
  std::vector<std::pair<std::string, z3::expr>> show; ///< operands, for a counterexample
};

/// A write to a state variable, for `modifies` (which statement wrote where).
struct Write {
  const tir::Stmt* stmt;
  z3::expr pc;
  std::optional<z3::expr> key; ///< a map entry
};

/// An action run to its end.
struct Path {
  Env pre;                            ///< at the start: arbitrary state, `value` in `held`
  Env post;                           ///< at the end
  z3::expr held0;                     ///< `held` before the call
  std::vector<z3::expr> pc;           ///< requires, not-fails, map room, obligations
  std::vector<z3::expr> requirements; ///< the `requires` alone
  std::vector<Obligation> obligations;
  std::vector<Write> writes;
  std::vector<const tir::Stmt*> ensures;
};

/// An expression as Flo source (for messages and counterexamples).
std::string sourceText(const std::vector<tir::Var>& vars, const tir::Expr& e);

class Encoder {
public:
  Encoder(z3::context& c, const tir::TypedContract& contract);

  z3::context& ctx() { return c_; }
  const tir::TypedContract& contract() const { return k_; }

  /// Fresh constants for every variable: an arbitrary state and call.
  Env fresh(const std::string& tag);
  /// The state a contract is deployed in: zero state, empty maps, nothing held.
  Env initial(const std::string& tag);
  /// Runs `action` from an arbitrary state in which the invariants hold.
  Path run(const tir::TypedAction& action);

  /// A specification expression (no obligations) in `cur`, `old X` read in `old`.
  z3::expr spec(const tir::Expr& e, Env& cur, const Env* old);
  /// Every invariant in `env`.
  z3::expr invariants(Env& env);
  /// The values of each type's variables (integers within their type).
  z3::expr typeFacts(const Env& env, const std::vector<std::uint32_t>& vars);
  /// Facts about the maps of `env` at every key used so far (see the file comment); call after
  /// everything that reads the maps is encoded.
  z3::expr keyFacts(const Env& env);
  /// Forgets the keys and lengths used (before encoding another question).
  void forget() {
    keys_.clear();
    lengths_.clear();
  }
  /// The keys used so far of map variable `var`.
  const std::vector<z3::expr>& keysOf(std::uint32_t var) { return keys_[var]; }

  /// The constants that stand for the default did and bytes (when used).
  const std::map<std::string, z3::expr>& defaults() const { return defaults_; }

  z3::expr inRange(const z3::expr& x, tir::Base b);
  z3::expr num(__int128 v);
  bool isNumberVar(std::uint32_t var) const;
  std::vector<std::uint32_t> stateVars() const;

private:
  struct Frame {
    Env* cur;
    const Env* old;
    Path* path;     ///< null for a specification
    z3::expr guard; ///< the branch an operand is on (`A if C else B`, `and`, `or`)
  };
  z3::sort sortOf(const tir::Type& t, lang::SourceRange where);
  z3::expr defaultOf(const tir::Type& t, lang::SourceRange where);
  z3::expr eval(const tir::Expr& e, Frame& f);
  z3::expr arith(const tir::Expr& e, Frame& f);
  z3::expr truthy(const z3::expr& x);
  z3::expr mapOf(const tir::Expr& e, Frame& f, const Sym** sym);
  void need(Frame& f, Obligation::Kind kind, const tir::Expr& at, z3::expr cond, std::string what,
            std::vector<std::pair<std::string, z3::expr>> show);
  void useKey(std::uint32_t var, const z3::expr& key);
  z3::expr pathCondition(const Path& p, const z3::expr& guard);
  void assign(const tir::Stmt& s, Frame& f);
  z3::expr strLiteral(const std::string& s);

  z3::context& c_;
  const tir::TypedContract& k_;
  std::map<std::uint32_t, std::vector<z3::expr>> keys_; ///< map var -> keys used
  std::map<std::string, z3::expr> defaults_;            ///< default did/bytes constants
  std::vector<z3::expr> lengths_;                       ///< `len` of a str or bytes used
};

} // namespace flo::verify
