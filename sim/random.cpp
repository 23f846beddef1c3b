/// \file
/// xoshiro256**, SplitMix64 and the conversions, written out so that no platform's library
/// decides a simulated run.
#include "sim/random.h"

#include <cassert>
#include <memory>

namespace flo::sim {

std::uint64_t splitMix64(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ull;
  return mix64(state);
}

std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::uint64_t deriveSeed(std::uint64_t seed, std::initializer_list<std::uint64_t> path) {
  std::uint64_t h = mix64(seed ^ 0x6a09e667f3bcc909ull);
  for (std::uint64_t step : path) h = mix64(h + 0x9e3779b97f4a7c15ull * (step + 1));
  return h;
}

namespace {

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

} // namespace

Rng::Rng(std::uint64_t seed) {
  // SplitMix64 never yields four zero words in a row, so the state is never all zero.
  for (auto& word : state_) word = splitMix64(seed);
}

std::uint64_t Rng::next() {
  auto& s = state_;
  const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
  const std::uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double Rng::unit() {
  return double(next() >> 11) * 0x1.0p-53;
}

std::uint64_t Rng::below(std::uint64_t bound) {
  assert(bound > 0);
  // Reject the lowest (2^64 mod bound) values, so every residue is equally likely.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    std::uint64_t x = next();
    if (x >= threshold) return x % bound;
  }
}

std::int64_t Rng::between(std::int64_t lo, std::int64_t hi) {
  assert(lo <= hi);
  const std::uint64_t span = std::uint64_t(hi) - std::uint64_t(lo);
  if (span == ~std::uint64_t(0)) return std::int64_t(next());
  return std::int64_t(std::uint64_t(lo) + below(span + 1));
}

bool Rng::chance(double p) {
  return unit() < p;
}

void Rng::fill(std::uint8_t* out, std::size_t size) {
  for (std::size_t i = 0; i < size; i += 8) {
    std::uint64_t word = next();
    for (std::size_t j = 0; j < 8 && i + j < size; ++j) out[i + j] = std::uint8_t(word >> (8 * j));
  }
}

core::RandomSource randomSource(std::uint64_t seed) {
  auto rng = std::make_shared<Rng>(seed);
  return [rng](std::uint8_t* out, std::size_t size) { rng->fill(out, size); };
}

std::uint64_t hashBytes(const std::uint8_t* data, std::size_t size) {
  // Eight bytes at a time, read little-endian whatever the host, each folded through mix64.
  std::uint64_t h = mix64(size ^ 0x243f6a8885a308d3ull);
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word = 0;
    for (int j = 7; j >= 0; --j) word = (word << 8) | data[i + j];
    h = mix64(h ^ word) + 0x9e3779b97f4a7c15ull;
  }
  std::uint64_t tail = 0;
  for (std::size_t j = size; j > i; --j) tail = (tail << 8) | data[j - 1];
  return mix64(h ^ tail ^ (std::uint64_t(size - i) << 56));
}

} // namespace flo::sim
