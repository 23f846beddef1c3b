/// \file
/// Choosing and replaying a simulated test's seed. A test runs with its own fixed seed unless
/// FLO_SIM_SEED names another; when it fails it prints the seed and the command that replays
/// it (docs/testing.md). sim/ reads no environment: the test passes the variable's value.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace flo::sim {

/// The environment variable tests read (and pass to chooseSeed).
inline constexpr const char* kSeedVariable = "FLO_SIM_SEED";

/// The seed for the test `test` ("Suite.Name"): `fallback`, unless `spec` (null or the value
/// of FLO_SIM_SEED) overrides it. `spec` is either one seed for every test ("1234", or hex
/// "0x4d2") or a comma-separated list of "Suite.Name=SEED" naming tests (others keep their
/// own). Throws std::invalid_argument, naming the problem, when `spec` is malformed.
std::uint64_t chooseSeed(std::string_view test, std::uint64_t fallback, const char* spec);

/// "seed 42; replay with FLO_SIM_SEED=Suite.Name=42 build/bin/flo_unit_tests
/// --gtest_filter=Suite.Name": for a failing test to print.
std::string replayHint(std::string_view test, std::uint64_t seed);

} // namespace flo::sim
