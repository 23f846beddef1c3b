/// \file
/// The `fog` command as a library function (so tests run it in process). The command table is
/// in cli.h; the handlers are in the cmd_*.cpp files.
#pragma once

#include <iosfwd>

namespace flo::fog {

/// Runs fog with the given arguments, reading from `in` and writing to `out` and `err` only.
/// Exit status: 0 success (and for --help and --version), 1 the operation failed (a bad
/// signature, a wrong passphrase, an unknown identity), 2 usage or internal error. Never throws.
///
/// Passphrases come from --passphrase-file, --passphrase-stdin (the first line of `in`), or
/// FOG_PASSPHRASE; failing those, and only when `interactive` says that `in` is a terminal a
/// person types into, from a prompt on `err` answered on `in` (echo off when `in` is this
/// process's terminal). Without any of them the command fails rather than wait for input.
int runFog(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err, bool interactive = false);

} // namespace flo::fog
