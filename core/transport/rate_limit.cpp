/// \file
/// Per-address token buckets (see rate_limit.h).
#include "core/transport/rate_limit.h"

#include "core/transport/wire.h"

#include <sodium.h>

#include <algorithm>
#include <chrono>

namespace flo::core {

static_assert(crypto_shorthash_KEYBYTES == 16);

AddressRateLimiter::AddressRateLimiter(std::size_t entries, double perSecond, double burst,
                                       const Key& key)
    : buckets_(std::max<std::size_t>(entries, 1)), perSecond_(perSecond), burst_(burst), key_(key) {
}

bool AddressRateLimiter::allow(const Address& from, Time now) {
  Bytes a(from.host.begin(), from.host.end());
  wire::put16(a, from.port);
  std::array<std::uint8_t, crypto_shorthash_BYTES> h{};
  crypto_shorthash(h.data(), a.data(), a.size(), key_.data());
  Bucket& b = buckets_[wire::get(h.data(), 8) % buckets_.size()];
  if (!b.used) b = Bucket{burst_, now, true};
  double elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) b.tokens = std::min(burst_, b.tokens + elapsed * perSecond_);
  b.last = now;
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

} // namespace flo::core
