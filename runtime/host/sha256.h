/// \file
/// SHA-256 (FIPS 180-4) with no dependency, so the job host builds for every architecture a
/// fogger runs with nothing but that architecture's C++ toolchain, as the runtime does. The
/// compiler hashes with libsodium (core::sha256); the bundle tests check the two agree.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace flo::host {

std::array<std::uint8_t, 32> sha256(const void* data, std::size_t size);
/// Lower-case hex of sha256().
std::string sha256Hex(const void* data, std::size_t size);

} // namespace flo::host
