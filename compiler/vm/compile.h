/// \file
/// A contract's source made into what the contract machine runs: parsed (never following a
/// `load`), checked and typed by the same front end as `floc`, with each action's cost bound.
/// The pool compiles every deployed contract this way on every replica (never a submitted
/// binary): the same source gives the same contract everywhere.
#pragma once

#include "compiler/vm/machine.h"
#include "lang/source_manager.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace flo::vm {

struct Compiled {
  std::unique_ptr<lang::SourceManager> sources; ///< the source, for the lines of messages
  std::shared_ptr<const tir::TypedContract> contract;
  std::map<std::string, std::uint64_t> cost; ///< action -> operations at most (costBound)
  /// "line N" of a range in the source (empty for none).
  std::string where(lang::SourceRange r) const;
};

/// Compiles a source that holds exactly one contract and nothing else; null with the first
/// error, located ("line 7: unknown name 'bogus'"), otherwise.
std::shared_ptr<const Compiled> compile(std::string_view source, std::string* error);

/// An argument given as text, read as `type`: a decimal i64 or u64, `true`/`false`, a did or
/// str as it is, bytes as hex. False with why.
bool parseArgument(const tir::Type& type, const std::string& text, Value* out, std::string* why);

} // namespace flo::vm
