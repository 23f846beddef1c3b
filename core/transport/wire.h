/// \file
/// The transport's wire codec: packet and frame layouts (transport.h documents the format),
/// big-endian integer helpers, and the DATA frame parser and writers. Pure functions over
/// bytes: no session state, no keys. The parser validates every length against the buffer and
/// the limits it is given before it hands out a pointer, and takes nothing from a packet with
/// one malformed frame.
#pragma once

#include "core/canonical.h"
#include "core/crypto.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace flo::core::wire {

constexpr std::uint8_t kVersion = 3;
constexpr std::uint8_t kHello = 1, kWelcome = 2, kData = 3, kReset = 4;
constexpr std::uint8_t kPaddingFrame = 0, kSegmentFrame = 1, kAckFrame = 2, kPingFrame = 3,
                       kIdentityFrame = 4, kCloseFrame = 5, kResetTokenFrame = 6;

constexpr std::size_t kHelloSize = 224, kHelloSigned = 160;
constexpr std::size_t kWelcomeSize = 148, kWelcomeSigned = 84;
constexpr std::size_t kResetSize = 22, kTokenSize = 16;
constexpr std::size_t kDataHeader = 14, kTag = 16;
constexpr std::size_t kSegmentHeader = 1 + 8 + 4 + 4 + 2;
constexpr std::size_t kIdentityHeader = 1 + 2 + 2 + 2;
constexpr std::size_t kTokenFrame = 1 + kTokenSize;
constexpr std::size_t kMaxAckRanges = 7;
constexpr std::size_t kAckMax = 1 + 4 + 1 + kMaxAckRanges * 16;
/// An encoded key event log, in IDENTITY frames: about 120 rotations, a few ms to verify.
constexpr std::size_t kMaxLogBytes = 32768;
/// Datagram sizes: every path carries kMinDatagram (as QUIC assumes); no UDP payload exceeds
/// kMaxDatagram (65,535 minus the IPv4 and UDP headers).
constexpr std::size_t kMinDatagram = 1200, kMaxDatagram = 65507;

constexpr std::string_view kHelloContext = "difuon/transport/3/hello";
constexpr std::string_view kWelcomeContext = "difuon/transport/3/welcome";
constexpr std::string_view kKeysContext = "difuon/transport/3/keys";
constexpr std::string_view kResetContext = "difuon/transport/3/reset";

using Token = std::array<std::uint8_t, kTokenSize>;

// ---- integers ------------------------------------------------------------------------------

inline void put8(Bytes& b, std::uint8_t v) {
  b.push_back(v);
}
inline void put16(Bytes& b, std::uint16_t v) {
  b.push_back(std::uint8_t(v >> 8));
  b.push_back(std::uint8_t(v));
}
inline void put32(Bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(std::uint8_t(v >> (8 * i)));
}
inline void put64(Bytes& b, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(std::uint8_t(v >> (8 * i)));
}
template <std::size_t N> void putArray(Bytes& b, const std::array<std::uint8_t, N>& a) {
  b.insert(b.end(), a.begin(), a.end());
}
inline void putText(Bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}
/// The big-endian integer of the `n` bytes at `p` (n <= 8).
inline std::uint64_t get(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}
template <std::size_t N> std::array<std::uint8_t, N> getArray(const std::uint8_t* p) {
  std::array<std::uint8_t, N> a{};
  for (std::size_t i = 0; i < N; ++i) a[i] = p[i];
  return a;
}

// ---- handshake packets ---------------------------------------------------------------------

/// HELLO, initiator -> responder (kHelloSize bytes; see transport.h).
struct Hello {
  std::uint32_t sid = 0;
  std::uint64_t epoch = 0;
  PublicKey ephemeral{};
  std::array<std::uint8_t, 16> nonce{};
  PublicKey initiatorKey{};
  Digest initiatorDid{};                   ///< zero for a did:key initiator
  std::array<std::uint8_t, 32> expected{}; ///< the responder's key or did:difuon digest
  std::uint16_t maxDatagram = 0;           ///< the largest datagram the initiator accepts
  Signature signature{};

  /// The kHelloSigned bytes before the signature.
  Bytes encodeUnsigned() const;
  /// Exactly kHelloSize bytes with the right version and type, else nullopt.
  static std::optional<Hello> decode(const std::uint8_t* d, std::size_t size);
};

/// WELCOME, responder -> initiator (kWelcomeSize bytes, smaller than HELLO).
struct Welcome {
  std::uint32_t initiatorSid = 0, responderSid = 0;
  std::uint64_t epoch = 0;
  PublicKey ephemeral{};
  PublicKey responderKey{};
  std::uint16_t maxDatagram = 0; ///< the largest datagram the responder accepts
  Signature signature{};

  Bytes encodeUnsigned() const;
  static std::optional<Welcome> decode(const std::uint8_t* d, std::size_t size);
};

/// RESET (kResetSize bytes): the sid the sender no longer knows, and its token for it.
Bytes encodeReset(std::uint32_t sid, const Token& token);

/// The first kDataHeader bytes of a DATA packet.
void putDataHeader(Bytes& b, std::uint32_t receiverSid, std::uint64_t packetNumber);

// ---- frames ---------------------------------------------------------------------------------

struct Segment {
  std::uint64_t seq = 0;
  std::uint32_t offset = 0, total = 0;
  const std::uint8_t* bytes = nullptr; ///< into the parsed plaintext
  std::uint16_t length = 0;
};

struct IdentityChunk {
  std::uint16_t total = 0, offset = 0, length = 0;
  const std::uint8_t* bytes = nullptr;
};

/// Inclusive packet-number range, as ACK frames carry them (highest first).
struct AckRange {
  std::uint64_t first = 0, last = 0;
};

/// The frames of one DATA packet, parsed in full before any is acted on. Reused from packet
/// to packet (clear() keeps the vectors' storage).
struct Frames {
  std::vector<Segment> segments;
  std::vector<IdentityChunk> identity;
  std::optional<std::uint32_t> window; ///< an ACK frame's free receive buffer
  std::vector<AckRange> ranges;
  bool eliciting = false, ping = false, close = false;
  std::optional<Token> token;
  void clear();
};

/// What the parser holds frames to.
struct FrameLimits {
  std::size_t maxMessage = 0;  ///< a SEGMENT's total
  std::uint64_t nextOwnPn = 0; ///< an ACK may name only packet numbers below it
};

/// Parses a DATA packet's plaintext into `f` (cleared first). False if any frame is malformed:
/// unknown type, a length past the end, a segment or log chunk outside its total, a total over
/// the limits, an empty or oversized ACK, two ACK or token frames, an ACK of a packet never
/// sent. The rest of the plaintext after a PADDING byte is ignored.
bool parseFrames(const std::uint8_t* d, std::size_t size, const FrameLimits& limits, Frames& f);

/// Frame writers: each appends one frame to a plaintext.
void writeSegment(Bytes& b, std::uint64_t seq, std::uint32_t offset, std::uint32_t total,
                  const std::uint8_t* bytes, std::uint16_t length);
/// `ranges` highest first, at most kMaxAckRanges.
void writeAck(Bytes& b, std::uint32_t window, const std::vector<AckRange>& ranges);
void writeIdentity(Bytes& b, std::uint16_t total, std::uint16_t offset, const std::uint8_t* bytes,
                   std::uint16_t length);
void writeToken(Bytes& b, const Token& token);
inline void writePing(Bytes& b) {
  b.push_back(kPingFrame);
}
inline void writeClose(Bytes& b) {
  b.push_back(kCloseFrame);
}
/// The size of an ACK frame of `ranges` ranges.
constexpr std::size_t ackSize(std::size_t ranges) {
  return 6 + 16 * (ranges < kMaxAckRanges ? ranges : kMaxAckRanges);
}

} // namespace flo::core::wire
