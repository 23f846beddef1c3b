/// \file
/// The transport's wire codec (see wire.h).
#include "core/transport/wire.h"

#include "core/check.h"

namespace flo::core::wire {

Bytes Hello::encodeUnsigned() const {
  Bytes b;
  b.reserve(kHelloSize);
  put8(b, kVersion);
  put8(b, kHello);
  put32(b, sid);
  put64(b, epoch);
  putArray(b, ephemeral);
  putArray(b, nonce);
  putArray(b, initiatorKey);
  putArray(b, initiatorDid);
  putArray(b, expected);
  put16(b, maxDatagram);
  FLO_CHECK(b.size() == kHelloSigned);
  return b;
}

std::optional<Hello> Hello::decode(const std::uint8_t* d, std::size_t size) {
  if (size != kHelloSize || d[0] != kVersion || d[1] != kHello) return std::nullopt;
  Hello h;
  h.sid = std::uint32_t(get(d + 2, 4));
  h.epoch = get(d + 6, 8);
  h.ephemeral = getArray<32>(d + 14);
  h.nonce = getArray<16>(d + 46);
  h.initiatorKey = getArray<32>(d + 62);
  h.initiatorDid = getArray<32>(d + 94);
  h.expected = getArray<32>(d + 126);
  h.maxDatagram = std::uint16_t(get(d + 158, 2));
  h.signature = getArray<64>(d + kHelloSigned);
  return h;
}

Bytes Welcome::encodeUnsigned() const {
  Bytes b;
  b.reserve(kWelcomeSize);
  put8(b, kVersion);
  put8(b, kWelcome);
  put32(b, initiatorSid);
  put32(b, responderSid);
  put64(b, epoch);
  putArray(b, ephemeral);
  putArray(b, responderKey);
  put16(b, maxDatagram);
  FLO_CHECK(b.size() == kWelcomeSigned);
  return b;
}

std::optional<Welcome> Welcome::decode(const std::uint8_t* d, std::size_t size) {
  if (size != kWelcomeSize || d[0] != kVersion || d[1] != kWelcome) return std::nullopt;
  Welcome w;
  w.initiatorSid = std::uint32_t(get(d + 2, 4));
  w.responderSid = std::uint32_t(get(d + 6, 4));
  w.epoch = get(d + 10, 8);
  w.ephemeral = getArray<32>(d + 18);
  w.responderKey = getArray<32>(d + 50);
  w.maxDatagram = std::uint16_t(get(d + 82, 2));
  w.signature = getArray<64>(d + kWelcomeSigned);
  return w;
}

Bytes encodeReset(std::uint32_t sid, const Token& token) {
  Bytes b{kVersion, kReset};
  put32(b, sid);
  putArray(b, token);
  FLO_CHECK(b.size() == kResetSize);
  return b;
}

void putDataHeader(Bytes& b, std::uint32_t receiverSid, std::uint64_t packetNumber) {
  put8(b, kVersion);
  put8(b, kData);
  put32(b, receiverSid);
  put64(b, packetNumber);
}

void Frames::clear() {
  segments.clear();
  identity.clear();
  window.reset();
  ranges.clear();
  eliciting = ping = close = false;
  token.reset();
}

bool parseFrames(const std::uint8_t* d, std::size_t size, const FrameLimits& limits, Frames& f) {
  f.clear();
  std::size_t i = 0;
  while (i < size) {
    std::uint8_t type = d[i++];
    if (type == kSegmentFrame) {
      if (size - i < kSegmentHeader - 1) return false;
      Segment g{get(d + i, 8), std::uint32_t(get(d + i + 8, 4)), std::uint32_t(get(d + i + 12, 4)),
                nullptr, std::uint16_t(get(d + i + 16, 2))};
      i += kSegmentHeader - 1;
      if (size - i < g.length || std::uint64_t(g.offset) + g.length > g.total ||
          g.total > limits.maxMessage || (g.length == 0 && g.total != 0))
        return false;
      g.bytes = d + i;
      i += g.length;
      f.segments.push_back(g);
      f.eliciting = true;
    } else if (type == kAckFrame) {
      if (size - i < 5 || f.window) return false;
      f.window = std::uint32_t(get(d + i, 4));
      std::size_t count = d[i + 4];
      i += 5;
      if (count == 0 || count > kMaxAckRanges || size - i < count * 16) return false;
      for (std::size_t k = 0; k < count; ++k, i += 16) {
        AckRange r{get(d + i, 8), get(d + i + 8, 8)};
        if (r.first > r.last || r.last >= limits.nextOwnPn) return false;
        f.ranges.push_back(r);
      }
    } else if (type == kPingFrame) {
      f.eliciting = f.ping = true;
    } else if (type == kPaddingFrame) {
      break; // the rest of the plaintext is padding
    } else if (type == kCloseFrame) {
      f.close = true;
    } else if (type == kResetTokenFrame) {
      if (size - i < kTokenSize || f.token) return false;
      f.token = getArray<kTokenSize>(d + i);
      i += kTokenSize;
      f.eliciting = true;
    } else if (type == kIdentityFrame) {
      if (size - i < kIdentityHeader - 1) return false;
      IdentityChunk c{std::uint16_t(get(d + i, 2)), std::uint16_t(get(d + i + 2, 2)),
                      std::uint16_t(get(d + i + 4, 2)), nullptr};
      i += kIdentityHeader - 1;
      if (c.total == 0 || c.total > kMaxLogBytes || c.length == 0 || size - i < c.length ||
          std::size_t(c.offset) + c.length > c.total)
        return false;
      c.bytes = d + i;
      i += c.length;
      f.identity.push_back(c);
      f.eliciting = true;
    } else {
      return false;
    }
  }
  return true;
}

void writeSegment(Bytes& b, std::uint64_t seq, std::uint32_t offset, std::uint32_t total,
                  const std::uint8_t* bytes, std::uint16_t length) {
  FLO_CHECK(std::uint64_t(offset) + length <= total);
  put8(b, kSegmentFrame);
  put64(b, seq);
  put32(b, offset);
  put32(b, total);
  put16(b, length);
  b.insert(b.end(), bytes, bytes + length);
}

void writeAck(Bytes& b, std::uint32_t window, const std::vector<AckRange>& ranges) {
  FLO_CHECK(!ranges.empty() && ranges.size() <= kMaxAckRanges);
  put8(b, kAckFrame);
  put32(b, window);
  put8(b, std::uint8_t(ranges.size()));
  for (const AckRange& r : ranges) {
    FLO_CHECK(r.first <= r.last);
    put64(b, r.first);
    put64(b, r.last);
  }
}

void writeIdentity(Bytes& b, std::uint16_t total, std::uint16_t offset, const std::uint8_t* bytes,
                   std::uint16_t length) {
  FLO_CHECK(length > 0 && std::size_t(offset) + length <= total && total <= kMaxLogBytes);
  put8(b, kIdentityFrame);
  put16(b, total);
  put16(b, offset);
  put16(b, length);
  b.insert(b.end(), bytes, bytes + length);
}

void writeToken(Bytes& b, const Token& token) {
  put8(b, kResetTokenFrame);
  putArray(b, token);
}

} // namespace flo::core::wire
