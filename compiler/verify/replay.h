/// \file
/// A counterexample of `floc verify` replayed on the contract machine (compiler/vm): the state
/// and call of its witness (with the map entries it does not show filled in so that each map's
/// sum and count are the witness's), run, and the outcome compared with what the property
/// predicts: the fault at its statement (overflow, division, pay), or the invariant, ensures or
/// frame broken after a call that completes. The tests and the contract fuzzer hold the
/// verifier and the machine to each other with it.
#pragma once

#include "compiler/verify/verify.h"
#include "compiler/vm/machine.h"

#include <string>

namespace flo::verify {

enum class Replay : std::uint8_t {
  AsPredicted, ///< the machine did what the counterexample says
  Differs,     ///< it did not: a bug in the verifier or in the machine
  Unrealizable ///< the witness names no concrete state (the maps cannot be filled in)
};

/// Replays `p` (violated, with a witness) on `contract`; `why` says how it differs.
Replay replay(const tir::TypedContract& contract, const Property& p, std::string* why);

/// The state, context and call a witness describes; false (with why) when its maps cannot be
/// filled in.
bool realize(const tir::TypedContract& contract, const Witness& w, vm::State* state,
             vm::Context* context, vm::Call* call, std::string* why);

} // namespace flo::verify
