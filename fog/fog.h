/// \file
/// The `fog` command as a library function (so tests run it in process).
#pragma once

#include <iosfwd>

namespace flo::fog {

/// Runs fog with the given arguments. Exit status: 0 success, 1 the operation failed (a bad
/// signature, a wrong passphrase, an unknown identity), 2 usage or internal error. Never throws.
int runFog(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err);

} // namespace flo::fog
