/// \file
/// Token buckets per source address, for the packets a stranger can make us answer (HELLO,
/// RESET). The buckets live in a fixed table indexed by a keyed hash (SipHash) of the address:
/// constant time and memory whatever the flood, and a collision cannot be aimed at a given
/// address by someone who does not know the key.
#pragma once

#include "core/transport.h"

#include <array>
#include <cstdint>
#include <vector>

namespace flo::core {

class AddressRateLimiter {
public:
  using Key = std::array<std::uint8_t, 16>;
  /// `entries` buckets (at least 1), each refilling `perSecond` up to `burst`, indexed by the
  /// SipHash of the address under `key` (secret, random).
  AddressRateLimiter(std::size_t entries, double perSecond, double burst, const Key& key);
  /// Takes one token of the bucket for `from`, if it has one.
  bool allow(const Address& from, Time now);

private:
  struct Bucket {
    double tokens = 0;
    Time last{};
    bool used = false;
  };
  std::vector<Bucket> buckets_;
  double perSecond_, burst_;
  Key key_{};
};

} // namespace flo::core
