/// \file
/// Cryptographic primitives, all from libsodium: Ed25519 signing keys, BLAKE2b hashing, and the
/// text codings identities need (base58btc, multibase, hex). Secrets live in SecretBytes, which
/// libsodium locks in memory and wipes on destruction.
#pragma once

#include "core/canonical.h"

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace flo::core {

/// Initialises libsodium once; every function here calls it. Aborts if libsodium cannot start
/// (a broken system: there is no secure fallback).
void ensureSodium();

using PublicKey = std::array<std::uint8_t, 32>;
using Signature = std::array<std::uint8_t, 64>;
using Digest = std::array<std::uint8_t, 32>;

/// A fixed-size secret that is wiped when it goes away.
template <std::size_t N> class Secret {
public:
  Secret();
  ~Secret();
  Secret(const Secret&);
  Secret& operator=(const Secret&);
  std::uint8_t* data() { return bytes_.data(); }
  const std::uint8_t* data() const { return bytes_.data(); }
  static constexpr std::size_t size() { return N; }

private:
  std::array<std::uint8_t, N> bytes_;
};

using Seed = Secret<32>;

/// Fills the buffer with unpredictable bytes. The pure core draws randomness only through
/// this interface: the real source (libsodium's CSPRNG) is `systemRandom()` in core/os, and
/// tests and the simulator pass a seeded generator, so every run replays.
using RandomSource = std::function<void(std::uint8_t*, std::size_t)>;

/// An Ed25519 signing key (from a 32-byte seed).
class SigningKey {
public:
  /// A fresh key from 32 bytes of `random` (core/os systemRandom() for a real key).
  static SigningKey generate(const RandomSource& random);
  /// The key for a seed (deterministic: for tests and for keys restored from a keystore).
  static SigningKey fromSeed(const Seed& seed);

  const PublicKey& publicKey() const { return public_; }
  const Seed& seed() const { return seed_; }
  Signature sign(const std::uint8_t* message, std::size_t size) const;
  Signature sign(const Bytes& message) const { return sign(message.data(), message.size()); }

private:
  SigningKey() = default;
  Seed seed_;
  Secret<64> secret_;
  PublicKey public_{};
};

/// True only for a valid Ed25519 signature of `message` by `key` (libsodium's strict checks:
/// canonical encodings, no small-order keys).
bool verifySignature(const PublicKey& key, const Signature& signature, const std::uint8_t* message,
                     std::size_t size);
inline bool verifySignature(const PublicKey& key, const Signature& signature,
                            const Bytes& message) {
  return verifySignature(key, signature, message.data(), message.size());
}

/// The X25519 key-agreement key that belongs to an Ed25519 public key (as did:key derives it).
std::optional<PublicKey> x25519FromEd25519(const PublicKey& key);

/// BLAKE2b-256 (crypto_generichash) of the bytes.
Digest hash(const std::uint8_t* data, std::size_t size);
inline Digest hash(const Bytes& data) {
  return hash(data.data(), data.size());
}
inline Digest hash(std::string_view text) {
  return hash(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

/// SHA-256 of the bytes (for the hashes outsiders check with common tools: bundle manifests).
Digest sha256(const std::uint8_t* data, std::size_t size);
inline Digest sha256(const Bytes& data) {
  return sha256(data.data(), data.size());
}
inline Digest sha256(std::string_view text) {
  return sha256(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// ---- text codings -------------------------------------------------------------------------

std::string toHex(const std::uint8_t* data, std::size_t size);
template <std::size_t N> std::string toHex(const std::array<std::uint8_t, N>& a) {
  return toHex(a.data(), N);
}
inline std::string toHex(const Bytes& b) {
  return toHex(b.data(), b.size());
}
std::optional<Bytes> fromHex(std::string_view hex);

/// Base58 with the Bitcoin alphabet (base58btc), leading zero bytes as '1's.
std::string base58Encode(const std::uint8_t* data, std::size_t size);
inline std::string base58Encode(const Bytes& b) {
  return base58Encode(b.data(), b.size());
}
std::optional<Bytes> base58Decode(std::string_view text);

template <std::size_t N> Bytes toBytes(const std::array<std::uint8_t, N>& a) {
  return Bytes(a.begin(), a.end());
}
template <std::size_t N> std::optional<std::array<std::uint8_t, N>> toArray(const Bytes& b) {
  if (b.size() != N) return std::nullopt;
  std::array<std::uint8_t, N> a{};
  std::copy(b.begin(), b.end(), a.begin());
  return a;
}

} // namespace flo::core
