/// \file
/// Python value semantics over FloValue cells (FLOSCRIPT.md §12.2-12.5).
#pragma once

#include "runtime/abi.h"

#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace flo::rt {

/// Owns strings made at run time (`inc` of two strings concatenates them).
class Arena {
public:
  FloValue string(std::string_view text);

private:
  std::deque<std::string> strings_;
};

bool isNumeric(const FloValue& v);
/// A point's coordinates; returns how many (2 or 3).
int pointCoords(const FloValue& v, double out[3]);
double asDouble(const FloValue& v);
bool truthy(const FloValue& v);
const char* typeName(const FloValue& v);
/// Python `a == b` (1 == 1.0 == True; "1" != 1; None == None).
bool pyEqual(const FloValue& a, const FloValue& b);
/// A need comparison: `==`/`!=` with a tolerance band for numbers, ordering by Python's rules.
/// nullopt (and `error`) where Python raises TypeError.
std::optional<bool> compare(FloCmp op, const FloValue& s, const FloValue& g, double tol,
                            std::string& error);
/// Python `a + b` for `inc`; nullopt (and `error`) where Python raises.
std::optional<FloValue> add(const FloValue& a, const FloValue& b, std::string& error, Arena& arena);
/// Python repr: None, True, 3, 3.0, 0.30000000000000004, 1e+16, 'text'.
// Text of values is for logs, the store dump, traces and errors: cold (optimised for size).
[[gnu::cold]] std::string repr(const FloValue& v);
[[gnu::cold]] std::string floatRepr(double x);

} // namespace flo::rt
