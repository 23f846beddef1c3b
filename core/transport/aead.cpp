/// \file
/// ChaCha20-Poly1305 for DATA packets (see aead.h).
#include "core/transport/aead.h"

#include "core/check.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <array>
#include <atomic>
#include <cstring>

namespace flo::core {

namespace {

constexpr std::size_t kTag = 16;
std::atomic<int> forced{0};

std::array<std::uint8_t, 12> nonceOf(std::uint64_t pn) {
  std::array<std::uint8_t, 12> n{};
  for (int i = 0; i < 8; ++i) n[4 + i] = std::uint8_t(pn >> (8 * (7 - i)));
  return n;
}

bool useLarge(std::size_t bytes) {
  int f = forced.load(std::memory_order_relaxed);
  return f == 2 || (f == 0 && bytes >= PacketKey::kLargePacket);
}

} // namespace

/// One encryption and one decryption context, keyed once; each packet only sets its nonce.
struct PacketKey::Large {
  EVP_CIPHER_CTX* enc = nullptr;
  EVP_CIPHER_CTX* dec = nullptr;
  explicit Large(const Secret<32>& key) : enc(EVP_CIPHER_CTX_new()), dec(EVP_CIPHER_CTX_new()) {
    // Out of memory or a libcrypto without ChaCha20-Poly1305: nothing to fall back to safely.
    FLO_CHECK(enc && dec);
    FLO_CHECK(EVP_EncryptInit_ex(enc, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) == 1);
    FLO_CHECK(EVP_DecryptInit_ex(dec, EVP_chacha20_poly1305(), nullptr, key.data(), nullptr) == 1);
  }
  ~Large() {
    EVP_CIPHER_CTX_free(enc); // wipes the key schedule
    EVP_CIPHER_CTX_free(dec);
  }
};

PacketKey::PacketKey(const Secret<32>& key) : key_(key) {}
PacketKey::~PacketKey() = default;
PacketKey::PacketKey(PacketKey&&) noexcept = default;
PacketKey& PacketKey::operator=(PacketKey&&) noexcept = default;

void PacketKey::forceImplementationForTesting(int which) {
  forced.store(which, std::memory_order_relaxed);
}

void PacketKey::seal(std::uint8_t* packet, std::size_t header, std::size_t size,
                     std::uint64_t pn) const {
  FLO_CHECK(size >= header);
  auto nonce = nonceOf(pn);
  std::uint8_t* text = packet + header;
  std::size_t length = size - header;
  if (!useLarge(size)) {
    unsigned long long tagSize = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(text, packet + size, &tagSize, text, length,
                                                       packet, header, nullptr, nonce.data(),
                                                       key_.data());
    return;
  }
  if (!large_) large_ = std::make_unique<Large>(key_);
  EVP_CIPHER_CTX* c = large_->enc;
  int n = 0;
  FLO_CHECK(EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, nonce.data()) == 1);
  FLO_CHECK(EVP_EncryptUpdate(c, nullptr, &n, packet, int(header)) == 1);
  FLO_CHECK(EVP_EncryptUpdate(c, text, &n, text, int(length)) == 1);
  FLO_CHECK(EVP_EncryptFinal_ex(c, text + n, &n) == 1);
  FLO_CHECK(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, int(kTag), packet + size) == 1);
}

bool PacketKey::open(const std::uint8_t* packet, std::size_t header, std::size_t size,
                     std::uint64_t pn, std::uint8_t* out) const {
  if (size < header + kTag) return false;
  auto nonce = nonceOf(pn);
  const std::uint8_t* text = packet + header;
  std::size_t length = size - header - kTag;
  const std::uint8_t* tag = packet + size - kTag;
  if (!useLarge(size)) {
    return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
               out, nullptr, text, length, tag, packet, header, nonce.data(), key_.data()) == 0;
  }
  if (!large_) large_ = std::make_unique<Large>(key_);
  EVP_CIPHER_CTX* c = large_->dec;
  int n = 0;
  std::array<std::uint8_t, kTag> expected{};
  std::memcpy(expected.data(), tag, kTag);
  if (EVP_DecryptInit_ex(c, nullptr, nullptr, nullptr, nonce.data()) != 1 ||
      EVP_DecryptUpdate(c, nullptr, &n, packet, int(header)) != 1 ||
      EVP_DecryptUpdate(c, out, &n, text, int(length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, int(kTag), expected.data()) != 1)
    return false;
  return EVP_DecryptFinal_ex(c, out + n, &n) == 1;
}

} // namespace flo::core
