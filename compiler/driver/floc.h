/// \file
/// The `floc` command as a library function, so the tests can run it in process.
#pragma once

#include <iosfwd>

namespace flo::driver {

/// Runs floc with the given arguments (argv[0] is the program name). Writes results to `out` and
/// diagnostics to `err`. Returns the exit status: 0 success, 1 the program has errors, 2 usage or
/// internal error. Never throws.
int runFloc(int argc, const char* const* argv, std::istream& in, std::ostream& out,
            std::ostream& err);

} // namespace flo::driver
