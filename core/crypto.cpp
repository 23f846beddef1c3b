/// \file
/// libsodium wrappers and text codings (see crypto.h).
#include "core/crypto.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace flo::core {

void ensureSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) {
      std::fputs("fatal: libsodium failed to initialise\n", stderr);
      std::abort();
    }
    return true;
  }();
  (void)ready;
}

template <std::size_t N> Secret<N>::Secret() {
  bytes_.fill(0);
  sodium_mlock(bytes_.data(), N); // best effort: not every system allows locking
}
template <std::size_t N> Secret<N>::~Secret() {
  sodium_munlock(bytes_.data(), N); // also zeroes the memory
}
template <std::size_t N> Secret<N>::Secret(const Secret& other) : Secret() {
  bytes_ = other.bytes_;
}
template <std::size_t N> Secret<N>& Secret<N>::operator=(const Secret& other) {
  bytes_ = other.bytes_;
  return *this;
}
template class Secret<32>;
template class Secret<64>;

SigningKey SigningKey::generate(const RandomSource& random) {
  Seed seed;
  random(seed.data(), seed.size());
  return fromSeed(seed);
}

SigningKey SigningKey::fromSeed(const Seed& seed) {
  ensureSodium();
  SigningKey key;
  key.seed_ = seed;
  crypto_sign_seed_keypair(key.public_.data(), key.secret_.data(), seed.data());
  return key;
}

Signature SigningKey::sign(const std::uint8_t* message, std::size_t size) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message, size, secret_.data());
  return sig;
}

bool verifySignature(const PublicKey& key, const Signature& signature, const std::uint8_t* message,
                     std::size_t size) {
  ensureSodium();
  return crypto_sign_verify_detached(signature.data(), message, size, key.data()) == 0;
}

std::optional<PublicKey> x25519FromEd25519(const PublicKey& key) {
  ensureSodium();
  PublicKey out{};
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), key.data()) != 0) return std::nullopt;
  return out;
}

Digest sha256(const std::uint8_t* data, std::size_t size) {
  ensureSodium();
  Digest d{};
  crypto_hash_sha256(d.data(), data, size);
  return d;
}

Digest hash(const std::uint8_t* data, std::size_t size) {
  ensureSodium();
  Digest d{};
  crypto_generichash(d.data(), d.size(), data, size, nullptr, 0);
  return d;
}

std::string toHex(const std::uint8_t* data, std::size_t size) {
  static const char* const digits = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out;
}

std::optional<Bytes> fromHex(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Bytes out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(std::uint8_t(hi << 4 | lo));
  }
  return out;
}

namespace {
constexpr std::string_view kBase58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
}

std::string base58Encode(const std::uint8_t* data, std::size_t size) {
  std::size_t zeros = 0;
  while (zeros < size && data[zeros] == 0) ++zeros;
  // base-58 digits, little end first; size * 138 / 100 + 1 digits always suffice
  std::vector<std::uint8_t> digits;
  digits.reserve(size * 138 / 100 + 1);
  for (std::size_t i = zeros; i < size; ++i) {
    unsigned carry = data[i];
    for (auto& d : digits) {
      carry += unsigned(d) << 8;
      d = std::uint8_t(carry % 58);
      carry /= 58;
    }
    while (carry) {
      digits.push_back(std::uint8_t(carry % 58));
      carry /= 58;
    }
  }
  std::string out(zeros, '1');
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) out += kBase58[*it];
  return out;
}

std::optional<Bytes> base58Decode(std::string_view text) {
  if (text.size() > 1024) return std::nullopt; // identifiers only; bounds the quadratic loop
  std::size_t ones = 0;
  while (ones < text.size() && text[ones] == '1') ++ones;
  std::vector<std::uint8_t> bytes; // little end first
  for (std::size_t i = ones; i < text.size(); ++i) {
    auto pos = kBase58.find(text[i]);
    if (pos == std::string_view::npos) return std::nullopt;
    unsigned carry = unsigned(pos);
    for (auto& b : bytes) {
      carry += unsigned(b) * 58;
      b = std::uint8_t(carry & 0xff);
      carry >>= 8;
    }
    while (carry) {
      bytes.push_back(std::uint8_t(carry & 0xff));
      carry >>= 8;
    }
  }
  Bytes out(ones, 0);
  out.insert(out.end(), bytes.rbegin(), bytes.rend());
  return out;
}

} // namespace flo::core
