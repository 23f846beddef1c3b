/// \file
/// The table of built-in deeds (behaviours named by `do`), shared by the checker and, later, the
/// runtime that implements them. Keys are FloScript registry keys: the words after `do`
/// Title-cased and joined (`do doer param` -> DoerParam).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flo::stdlib {

enum class DeedFamily : unsigned char {
  Generic,   ///< doer, doer param, doer since, doer lapse (and the Deed* aliases)
  IofloDemo, ///< Ioflo's demonstration models (arbiters, controllers, simulators...)
};

struct BuiltinDeed {
  std::string_view key;      ///< registry key, e.g. "DoerParam"
  std::string_view spelling; ///< how a program writes it, e.g. "doer param"
  DeedFamily family;
  bool implemented; ///< false: Ioflo has it, Flo does not (yet); building it is an error
  bool parametric;  ///< ioinits become action parameters (DoerParam)
  bool lapse;       ///< gets an automatic `restart` enter act (DoerLapse)
  std::string_view summary;
};

/// Every built-in deed, in a stable order.
const std::vector<BuiltinDeed>& builtinDeeds();
/// Looks a deed up by registry key.
const BuiltinDeed* findBuiltinDeed(std::string_view key);
/// The registry key for the words of a `do` (or a deed name): Title-case each part and join.
std::string registryKey(const std::vector<std::string>& parts);

/// Reducers a flow's `reduce` may name.
const std::vector<std::string>& flowReducers();

} // namespace flo::stdlib
