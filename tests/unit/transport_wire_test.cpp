/// \file
/// The transport's wire codec and packet cipher on their own: every frame round-trips, every
/// malformed frame is refused whole, handshake packets decode only at their exact size, and the
/// two ChaCha20-Poly1305 implementations produce the same bytes.
#include "core/transport/aead.h"
#include "core/transport/wire.h"

#include <gtest/gtest.h>

#include <numeric>

namespace flo::core {
namespace {

using namespace wire;

Bytes plainOf(const std::function<void(Bytes&)>& write) {
  Bytes b;
  write(b);
  return b;
}

bool parse(const Bytes& b, Frames& f, FrameLimits limits = {1 << 20, 100}) {
  return parseFrames(b.data(), b.size(), limits, f);
}

TEST(TransportWire, EveryFrameRoundTrips) {
  Bytes payload(300);
  std::iota(payload.begin(), payload.end(), std::uint8_t(0));
  Token token{};
  token.fill(7);
  Bytes b;
  writeSegment(b, 42, 1000, 5000, payload.data(), 300);
  writeAck(b, 65536, {{20, 30}, {5, 9}});
  writeIdentity(b, 900, 100, payload.data(), 200);
  writeToken(b, token);
  writePing(b);
  writeClose(b);
  b.push_back(kPaddingFrame);
  b.insert(b.end(), 13, 0xff); // anything after PADDING is ignored
  Frames f;
  ASSERT_TRUE(parse(b, f));
  ASSERT_EQ(f.segments.size(), 1u);
  EXPECT_EQ(f.segments[0].seq, 42u);
  EXPECT_EQ(f.segments[0].offset, 1000u);
  EXPECT_EQ(f.segments[0].total, 5000u);
  ASSERT_EQ(f.segments[0].length, 300u);
  EXPECT_EQ(Bytes(f.segments[0].bytes, f.segments[0].bytes + 300), payload);
  ASSERT_TRUE(f.window);
  EXPECT_EQ(*f.window, 65536u);
  ASSERT_EQ(f.ranges.size(), 2u);
  EXPECT_EQ(f.ranges[0].first, 20u);
  EXPECT_EQ(f.ranges[1].last, 9u);
  ASSERT_EQ(f.identity.size(), 1u);
  EXPECT_EQ(f.identity[0].total, 900u);
  EXPECT_EQ(f.identity[0].offset, 100u);
  EXPECT_EQ(Bytes(f.identity[0].bytes, f.identity[0].bytes + 200),
            Bytes(payload.begin(), payload.begin() + 200));
  ASSERT_TRUE(f.token);
  EXPECT_EQ(*f.token, token);
  EXPECT_TRUE(f.ping);
  EXPECT_TRUE(f.close);
  EXPECT_TRUE(f.eliciting);
  EXPECT_EQ(ackSize(2), 6u + 32u);
}

TEST(TransportWire, AnAckAloneDoesNotElicit) {
  Frames f;
  ASSERT_TRUE(parse(plainOf([](Bytes& b) { writeAck(b, 1, {{0, 3}}); }), f));
  EXPECT_FALSE(f.eliciting);
  ASSERT_TRUE(parse(plainOf([](Bytes& b) { writeClose(b); }), f));
  EXPECT_FALSE(f.eliciting);
  EXPECT_TRUE(f.close);
}

TEST(TransportWire, MalformedFramesAreRefusedWhole) {
  Bytes data(64, 1);
  Token token{};
  auto segment = [&](std::uint32_t offset, std::uint32_t total, std::uint16_t length) {
    return plainOf([&](Bytes& b) {
      writePing(b);
      writeSegment(b, 1, 0, 64, data.data(), 64);
      b.push_back(kSegmentFrame);
      put64(b, 2);
      put32(b, offset);
      put32(b, total);
      put16(b, length);
      b.insert(b.end(), data.begin(), data.begin() + std::min<std::size_t>(length, 64));
    });
  };
  Frames f;
  EXPECT_TRUE(parse(segment(0, 64, 64), f));
  EXPECT_FALSE(parse(segment(10, 64, 64), f)) << "past its total";
  EXPECT_FALSE(parse(segment(0, 64, 65), f)) << "past the packet";
  EXPECT_FALSE(parse(segment(0, 2u << 20, 64), f)) << "total over the message limit";
  EXPECT_FALSE(parse(segment(0, 64, 0), f)) << "empty segment of a non-empty message";
  EXPECT_TRUE(parse(segment(0, 0, 0), f)) << "the empty message";
  // ACKs: of packets never sent, reversed, empty, too many, two of them, truncated
  EXPECT_FALSE(parse(plainOf([](Bytes& b) { writeAck(b, 1, {{0, 100}}); }), f));
  EXPECT_FALSE(parse(plainOf([](Bytes& b) {
                       b.push_back(kAckFrame);
                       put32(b, 1);
                       b.push_back(1);
                       put64(b, 5);
                       put64(b, 4);
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([](Bytes& b) {
                       b.push_back(kAckFrame);
                       put32(b, 1);
                       b.push_back(0);
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([](Bytes& b) {
                       b.push_back(kAckFrame);
                       put32(b, 1);
                       b.push_back(8);
                       for (int i = 0; i < 8; ++i) {
                         put64(b, 1);
                         put64(b, 1);
                       }
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([](Bytes& b) {
                       writeAck(b, 1, {{1, 2}});
                       writeAck(b, 1, {{1, 2}});
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([](Bytes& b) {
                       writeAck(b, 1, {{1, 2}});
                       b.pop_back();
                     }),
                     f));
  // tokens: two, or truncated; identity chunks outside their total; unknown frame types
  EXPECT_FALSE(parse(plainOf([&](Bytes& b) {
                       writeToken(b, token);
                       writeToken(b, token);
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([&](Bytes& b) {
                       writeToken(b, token);
                       b.pop_back();
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([&](Bytes& b) {
                       b.push_back(kIdentityFrame);
                       put16(b, 10);
                       put16(b, 8);
                       put16(b, 4);
                       b.insert(b.end(), 4, 0);
                     }),
                     f));
  EXPECT_FALSE(parse(plainOf([&](Bytes& b) {
                       b.push_back(kIdentityFrame);
                       put16(b, 40000);
                       put16(b, 0);
                       put16(b, 4);
                       b.insert(b.end(), 4, 0);
                     }),
                     f));
  EXPECT_FALSE(parse(Bytes{7}, f));
  EXPECT_FALSE(parse(Bytes{kSegmentFrame, 0, 0}, f));
}

TEST(TransportWire, HandshakePacketsDecodeOnlyWhole) {
  Hello h;
  h.sid = 0x01020304;
  h.epoch = 99;
  h.maxDatagram = 16384;
  h.expected.fill(3);
  Bytes b = h.encodeUnsigned();
  ASSERT_EQ(b.size(), kHelloSigned);
  b.resize(kHelloSize, 9);
  auto back = Hello::decode(b.data(), b.size());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sid, h.sid);
  EXPECT_EQ(back->epoch, 99u);
  EXPECT_EQ(back->maxDatagram, 16384u);
  EXPECT_EQ(back->expected, h.expected);
  EXPECT_EQ(back->signature[0], 9);
  EXPECT_FALSE(Hello::decode(b.data(), b.size() - 1));
  b[0] = kVersion - 1;
  EXPECT_FALSE(Hello::decode(b.data(), b.size())) << "another version";

  Welcome w;
  w.initiatorSid = 5;
  w.responderSid = 6;
  w.maxDatagram = 1200;
  Bytes wb = w.encodeUnsigned();
  ASSERT_EQ(wb.size(), kWelcomeSigned);
  wb.resize(kWelcomeSize);
  auto wback = Welcome::decode(wb.data(), wb.size());
  ASSERT_TRUE(wback);
  EXPECT_EQ(wback->responderSid, 6u);
  EXPECT_EQ(wback->maxDatagram, 1200u);
  EXPECT_LT(kWelcomeSize, kHelloSize) << "a WELCOME must never amplify a HELLO";
  EXPECT_EQ(encodeReset(7, Token{}).size(), kResetSize);
}

TEST(TransportAead, BothImplementationsAgreeAndRefuseTampering) {
  Secret<32> key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = std::uint8_t(i * 7 + 1);
  PacketKey sender(key), receiver(key);
  for (std::size_t size : {std::size_t(31), std::size_t(1200), std::size_t(2047), std::size_t(2048),
                           std::size_t(16384)}) {
    Bytes plain(size);
    for (std::size_t i = 0; i < size; ++i) plain[i] = std::uint8_t(i * 13);
    Bytes sealed[2];
    for (int impl : {1, 2}) {
      PacketKey::forceImplementationForTesting(impl);
      Bytes p = plain;
      p.resize(size + 16);
      sender.seal(p.data(), 14, size, 1234567);
      sealed[impl - 1] = p;
    }
    PacketKey::forceImplementationForTesting(0);
    EXPECT_EQ(sealed[0], sealed[1]) << size << " bytes: libsodium and OpenSSL differ";
    EXPECT_EQ(Bytes(sealed[0].begin(), sealed[0].begin() + 14),
              Bytes(plain.begin(), plain.begin() + 14))
        << "the header is not encrypted";
    for (int impl : {1, 2}) {
      PacketKey::forceImplementationForTesting(impl);
      Bytes out(size - 14);
      EXPECT_TRUE(receiver.open(sealed[0].data(), 14, sealed[0].size(), 1234567, out.data()));
      EXPECT_EQ(out, Bytes(plain.begin() + 14, plain.end()));
      EXPECT_FALSE(receiver.open(sealed[0].data(), 14, sealed[0].size(), 1234568, out.data()))
          << "another packet number";
      Bytes flipped = sealed[0];
      flipped[3] ^= 1; // the header is authenticated
      EXPECT_FALSE(receiver.open(flipped.data(), 14, flipped.size(), 1234567, out.data()));
      flipped = sealed[0];
      flipped[flipped.size() - 1] ^= 0x80;
      EXPECT_FALSE(receiver.open(flipped.data(), 14, flipped.size(), 1234567, out.data()));
    }
    PacketKey::forceImplementationForTesting(0);
  }
  Secret<32> other;
  PacketKey stranger(other);
  Bytes p(100 + 16, 1);
  sender.seal(p.data(), 14, 100, 1);
  Bytes out(86);
  EXPECT_FALSE(stranger.open(p.data(), 14, p.size(), 1, out.data())) << "another key";
}

} // namespace
} // namespace flo::core
