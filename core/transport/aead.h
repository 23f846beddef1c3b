/// \file
/// The AEAD of DATA packets: ChaCha20-Poly1305 (IETF, RFC 8439) under one session direction's
/// key, with the packet number as nonce (4 zero bytes, then the number big-endian) and the
/// packet header as associated data. Packet numbers never repeat under a key, so neither does
/// a nonce.
///
/// Two implementations of the same algorithm, chosen by size: libsodium's for small packets
/// (no per-call set-up), OpenSSL's libcrypto for large ones, where its AVX-512 code runs about
/// 2.5 times faster than libsodium 1.0.18's AVX2 code on this machine (docs/benchmarks.md).
/// Both produce the same bytes (a unit test holds them to it); the choice is invisible on the
/// wire and weakens nothing.
#pragma once

#include "core/crypto.h"

#include <cstdint>
#include <memory>

namespace flo::core {

class PacketKey {
public:
  /// Packets at least this large go through OpenSSL.
  static constexpr std::size_t kLargePacket = 2048;

  explicit PacketKey(const Secret<32>& key);
  ~PacketKey();
  PacketKey(PacketKey&&) noexcept;
  PacketKey& operator=(PacketKey&&) noexcept;
  PacketKey(const PacketKey&) = delete;
  PacketKey& operator=(const PacketKey&) = delete;

  /// Encrypts `packet[header, size)` in place and writes the 16-byte tag at `packet + size`
  /// (the caller leaves room). The first `header` bytes are authenticated, not encrypted.
  void seal(std::uint8_t* packet, std::size_t header, std::size_t size,
            std::uint64_t packetNumber) const;
  /// Decrypts the ciphertext `packet[header, size - 16)` into `out` (room for size - header -
  /// 16 bytes; may be packet + header) and checks the tag. False if it does not authenticate;
  /// `out` then holds garbage that must not be used.
  bool open(const std::uint8_t* packet, std::size_t header, std::size_t size,
            std::uint64_t packetNumber, std::uint8_t* out) const;

  /// Testing: force one implementation (0: by size, 1: libsodium, 2: OpenSSL).
  static void forceImplementationForTesting(int which);

private:
  struct Large;
  Secret<32> key_;
  mutable std::unique_ptr<Large> large_; ///< OpenSSL contexts, made on first use
};

} // namespace flo::core
