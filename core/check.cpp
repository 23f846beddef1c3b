/// \file
/// The failure path of FLO_CHECK (see check.h).
#include "core/check.h"

#include <cstdio>
#include <cstdlib>

namespace flo::core {

void invariantViolated(const char* file, int line, const char* condition) {
  std::fprintf(stderr, "%s:%d: invariant violated: %s\n", file, line, condition);
  std::fflush(stderr);
  std::abort();
}

} // namespace flo::core
