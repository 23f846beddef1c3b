/// \file
/// Seeded randomness for the simulator: xoshiro256** seeded through SplitMix64, with its own
/// integer-to-double and bounded-integer conversions, so a seed gives the same numbers with
/// every compiler and standard library (std:: distributions differ between them). Independent
/// streams come from deriveSeed(seed, path...): each node and each link draws from its own
/// stream, so adding a node or a packet on one link leaves every other stream as it was.
#pragma once

#include "core/crypto.h"

#include <array>
#include <cstdint>
#include <initializer_list>

namespace flo::sim {

/// One SplitMix64 step: advances `state` and returns the next output.
std::uint64_t splitMix64(std::uint64_t& state);

/// SplitMix64's finaliser: a bijective scramble of 64 bits.
std::uint64_t mix64(std::uint64_t x);

/// The seed of the sub-stream `path` of `seed` (e.g. {kNodeStream, node, incarnation}).
/// Different paths give unrelated seeds; the same path always gives the same one.
std::uint64_t deriveSeed(std::uint64_t seed, std::initializer_list<std::uint64_t> path);

/// Stream tags for deriveSeed, so the network's streams never collide with each other or with
/// a test's own (kTestStream and up).
inline constexpr std::uint64_t kNodeStream = 1, kLinkStream = 2, kTestStream = 16;

/// xoshiro256** (Blackman and Vigna): small, fast, and its output is fixed by the seed alone.
class Rng {
public:
  explicit Rng(std::uint64_t seed);

  std::uint64_t next();
  /// Uniform in [0, 1), from the top 53 bits.
  double unit();
  /// Uniform in [0, bound) without modulo bias; `bound` must be positive (asserted).
  std::uint64_t below(std::uint64_t bound);
  /// Uniform in [lo, hi], both included; asserts lo <= hi.
  std::int64_t between(std::int64_t lo, std::int64_t hi);
  /// True with probability `p` (always draws one number, whatever p is, so a stream's
  /// alignment does not depend on the probabilities configured).
  bool chance(double p);
  void fill(std::uint8_t* out, std::size_t size);

private:
  std::array<std::uint64_t, 4> state_;
};

/// A core::RandomSource drawing from its own Rng seeded with `seed` (for Endpoints and other
/// state machines that take one).
core::RandomSource randomSource(std::uint64_t seed);

/// A 64-bit hash of bytes (not cryptographic; fixed across platforms): the trace's fingerprint
/// of a datagram.
std::uint64_t hashBytes(const std::uint8_t* data, std::size_t size);

} // namespace flo::sim
