/// \file
/// `floc verify`: proves a contract's properties with Z3 (docs/verify.md). Reads the typed IR
/// only; what it proves, per contract:
///   1. every invariant holds when the contract is deployed and after every action, from any
///      state where the invariants held and the action's `requires` hold;
///   2. every `ensures` follows;
///   3. no executable statement overflows, underflows or divides by zero;
///   4. every `modifies` frame is respected;
///   5. no `pay` pays out more than the contract holds;
///   6. every action's cost is bounded (reported in operations);
///   7. the specification is not vacuous (some state satisfies the invariants, and every action
///      can be called and can complete).
#pragma once

#include "compiler/sema/typed.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flo::verify {

struct Options {
  unsigned timeoutMs = 10000; ///< per property
};

/// Unknown: Z3 gave up for a reason other than time (nonlinear arithmetic is incomplete).
enum class Verdict : std::uint8_t { Proven, Violated, Timeout, Unknown, Unsupported };
const char* verdictName(Verdict v);

/// A counterexample as values (the text `floc verify` prints: numbers, `true`, quoted strs,
/// dids named `did#1`..., the default did `none`), to replay it on the contract machine.
struct Witness {
  std::string action; ///< empty: the deployed state (no call)
  std::vector<std::string> args;
  std::string caller, creator, value, now, held; ///< `held` before the call
  std::map<std::string, std::string> scalars;    ///< state variable -> value
  struct Map {
    std::vector<std::pair<std::string, std::string>> entries; ///< at the keys the action uses
    std::string sum, count;                                   ///< of the whole map
  };
  std::map<std::string, Map> maps;
};

/// One property and what became of it.
struct Property {
  std::string action; ///< empty: the contract's own (invariants at deployment, satisfiable)
  std::string kind;   ///< invariant-initial, invariant, ensures, overflow, division, pay,
                      ///< modifies, satisfiable, callable, completes, cost
  std::string text;   ///< the property or statement, as source
  lang::SourceRange range;
  Verdict verdict = Verdict::Proven;
  std::string message;            ///< when not proven: the error
  std::vector<std::string> notes; ///< when not proven: the counterexample, or what to do
  double seconds = 0;
  std::optional<std::uint64_t> bound; ///< cost: operations
  std::optional<Witness> witness;     ///< violated: the counterexample
};

struct ContractResult {
  std::string name;
  lang::SourceRange range;
  std::vector<Property> properties;
  bool proven() const;
};

ContractResult verifyContract(const tir::TypedContract& contract, const Options& options);

/// "4.8.12.0" (the Z3 linked).
std::string z3Version();

} // namespace flo::verify
