/// \file
/// Invariant checks that stay on in every build (STYLE.md rule 5: `assert` for programmer
/// errors). A protocol handler states what it relies on with FLO_CHECK; a failure is a bug in
/// our code, never bad input (input is validated and dropped before any check could see it),
/// so it aborts with the place and the condition rather than run on with corrupt state.
/// FLO_EXPENSIVE_CHECK is for checks that cost more than O(1) (walking a container): compiled
/// in only where FLO_EXPENSIVE_CHECKS is defined (the fuzz and sanitizer builds).
#pragma once

namespace flo::core {

/// Prints "file:line: invariant violated: condition" to stderr and aborts.
[[noreturn]] void invariantViolated(const char* file, int line, const char* condition);

} // namespace flo::core

#define FLO_CHECK(condition)                                                                       \
  ((condition) ? void(0) : ::flo::core::invariantViolated(__FILE__, __LINE__, #condition))

#ifdef FLO_EXPENSIVE_CHECKS
#define FLO_EXPENSIVE_CHECK(condition) FLO_CHECK(condition)
#else
#define FLO_EXPENSIVE_CHECK(condition) void(0)
#endif
