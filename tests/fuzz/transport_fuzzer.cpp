/// \file
/// libFuzzer target for the transport's protocol core: arbitrary bytes go to Endpoint::onPacket
/// of an endpoint with a fixed did:difuon identity and two established sessions (a did:difuon
/// and a did:key peer), or straight to its frame parser as if authenticated (the AEAD would
/// otherwise stop almost every input): on a proven session, or on one whose did:difuon peer has
/// not yet proven itself, so that IDENTITY frames reach the log reassembly and verification.
/// The first byte picks the mode. Nothing may crash, and the endpoint must keep working: a last
/// message to peer1 must arrive (the target traps otherwise).
#include "core/identity.h"
#include "core/transport.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <random>

namespace {

using namespace flo::core;

SigningKey keyFor(std::uint8_t n) {
  Seed seed;
  for (std::size_t i = 0; i < seed.size(); ++i) seed.data()[i] = n;
  return SigningKey::fromSeed(seed);
}

RandomSource seeded(std::uint64_t s) {
  auto rng = std::make_shared<std::mt19937_64>(s);
  return [rng](std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) p[i] = std::uint8_t((*rng)());
  };
}

const Address kSelf{"self", 1}, kPeer1{"peer1", 2}, kPeer2{"peer2", 3}, kStranger{"x", 4},
    kPeer3{"peer3", 5};

/// An inception by keyFor(n) committing to keyFor(n + 10): a did:difuon log (signed once).
const std::vector<KeyEvent>& logOf(std::uint8_t n) {
  static std::map<std::uint8_t, std::vector<KeyEvent>> logs;
  auto& log = logs[n];
  if (log.empty())
    log.push_back(makeInception(keyFor(n), keyFor(std::uint8_t(n + 10)).publicKey()));
  return log;
}

/// Shuttles datagrams between the endpoints until quiet (no loss: a few rounds suffice). Of
/// peer3's datagrams only its WELCOME gets through, so its log never does.
void settle(Endpoint& self, Endpoint& p1, Endpoint& p2, Endpoint& p3, Time now) {
  for (int round = 0; round < 10; ++round) {
    bool any = false;
    for (auto& d : self.takeOutgoing()) {
      any = true;
      Endpoint& to = d.to == kPeer1 ? p1 : d.to == kPeer3 ? p3 : p2;
      to.onPacket(kSelf, d.bytes.data(), d.bytes.size(), now);
    }
    for (auto& d : p3.takeOutgoing()) {
      if (d.bytes.size() > 1 && d.bytes[1] == 2)
        self.onPacket(kPeer3, d.bytes.data(), d.bytes.size(), now);
    }
    for (auto& d : p1.takeOutgoing()) {
      any = true;
      self.onPacket(kPeer1, d.bytes.data(), d.bytes.size(), now);
    }
    for (auto& d : p2.takeOutgoing()) {
      any = true;
      self.onPacket(kPeer2, d.bytes.data(), d.bytes.size(), now);
    }
    if (!any) return;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  TransportConfig config;
  config.maxMessage = 1 << 16;
  config.receiveBuffer = 1 << 17;
  const SigningKey selfKey = keyFor(1), key1 = keyFor(2), key2 = keyFor(3), key3 = keyFor(4);
  Endpoint self(selfKey, logOf(1), config, seeded(1));
  Endpoint p1(key1, logOf(2), config, seeded(2)), p2(key2, config, seeded(3));
  Endpoint p3(key3, logOf(4), config, seeded(4));
  Time now = Time{} + std::chrono::hours(1);
  self.send(kPeer1, p1.did(), Bytes{'a'}, now);
  p2.send(kSelf, self.did(), Bytes{'b'}, now);
  self.send(kPeer3, p3.did(), Bytes{'e'}, now);
  settle(self, p1, p2, p3, now);
  if (!self.hasSession(p1.did()) || !self.hasSession(key2.publicKey()) || self.hasSession(p3.did()))
    __builtin_trap();
  if (size == 0) return 0;

  const std::uint8_t mode = data[0];
  ++data;
  --size;
  const Address from = mode & 4 ? kPeer1 : kStranger;
  if (mode & 8) {
    // Data in flight to peer2 that never arrives: injected ACK frames and timer ticks then
    // drive the sender's loss detection, retransmissions, tail probes and RTO backoff.
    self.send(kPeer2, key2.publicKey(), Bytes(8000, 'd'), now);
    (void)self.takeOutgoing();
  }
  switch (mode & 3) {
  case 0:
    self.onPacket(from, data, size, now);
    break;
  case 1: // as from the proven did:difuon peer, or (mode & 16) the one still to prove itself
    self.injectFramesForTesting(mode & 16 ? p3.did() : p1.did(), data, size, now);
    break;
  default: // a sequence of length-prefixed datagrams and frame blocks, with timer ticks
    while (size >= 2) {
      std::size_t n = std::min<std::size_t>(data[0] | (data[1] & 7) << 8, size - 2);
      bool frames = data[1] & 8;
      now += std::chrono::milliseconds(data[1] >> 4);
      data += 2;
      size -= 2;
      if (frames)
        self.injectFramesForTesting(key2.publicKey(), data, n, now);
      else
        self.onPacket(from, data, n, now);
      self.onTimer(now);
      data += n;
      size -= n;
    }
  }
  (void)self.takeDelivered();
  (void)self.takeEvents();
  (void)self.nextTimer();
  // The endpoint still delivers: 'c' reaches peer1, on the session it had or (if the input
  // ended that one, e.g. with a CLOSE frame or by running the clock past its timeout) on a new
  // one, within a few seconds of timer ticks. Otherwise the input broke the endpoint.
  (void)p1.takeDelivered();
  self.send(kPeer1, p1.did(), Bytes{'c'}, now);
  bool arrived = false;
  for (int tick = 0; tick < 40 && !arrived; ++tick) {
    settle(self, p1, p2, p3, now);
    for (const Delivery& d : p1.takeDelivered())
      arrived |= d.message == Bytes{'c'} && d.did == self.did();
    now += std::chrono::milliseconds(250);
    for (Endpoint* e : {&self, &p1, &p2, &p3}) e->onTimer(now);
  }
  if (!arrived) __builtin_trap();
  return 0;
}
