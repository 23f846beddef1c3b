/// \file
/// Loss recovery and congestion control on their own (recovery.h), on hand-made timelines, and
/// the handshake functions (handshake.h): signatures, key agreement, the log assembly.
#include "core/os/system.h"
#include "core/transport/handshake.h"
#include "core/transport/recovery.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstring>

namespace flo::core {
namespace {

using namespace std::chrono_literals;

/// Records what Recovery says becomes of each packet (by its dataBytes, used as a label).
struct Fates : Recovery::Listener {
  std::vector<std::size_t> ackedLabels, lostLabels, probes;
  void acked(const SentPacket& p) override { ackedLabels.push_back(p.dataBytes); }
  void lost(const SentPacket& p) override { lostLabels.push_back(p.dataBytes); }
  void tailProbe(const SentPacket& p) override { probes.push_back(p.dataBytes); }
};

struct Timeline {
  TransportConfig config;
  TransportMetrics metrics;
  Time now = Time{} + std::chrono::hours(1);
  std::unique_ptr<Recovery> r;
  std::uint64_t nextPn = 0;
  Timeline() { r = std::make_unique<Recovery>(config, metrics, now); }
  std::uint64_t send(std::size_t label) {
    SentPacket p;
    p.sent = now;
    p.dataBytes = label;
    r->onSent(nextPn, std::move(p), now);
    return nextPn++;
  }
};

TEST(TransportRecovery, RttFromAcksAndTheWindowGrows) {
  Timeline t;
  double cwnd = t.r->cwnd();
  t.send(100);
  t.send(101);
  t.now += 10ms;
  Fates f;
  t.r->onAck({{0, 1}}, t.now, f);
  EXPECT_EQ(f.ackedLabels, (std::vector<std::size_t>{100, 101}));
  EXPECT_TRUE(f.lostLabels.empty());
  EXPECT_EQ(t.r->srtt(), 10ms);
  EXPECT_EQ(t.r->cwnd(), cwnd + 2) << "slow start: one packet per packet acknowledged";
  EXPECT_FALSE(t.r->inFlight());
  EXPECT_EQ(t.r->inflightBytes(), 0u);
}

TEST(TransportRecovery, ThreeLaterAcksMakeALossAndTheWindowHalvesOncePerEpisode) {
  Timeline t;
  for (std::size_t i = 0; i < 10; ++i) t.send(i);
  t.now += 10ms;
  Fates f;
  t.r->onAck({{2, 2}}, t.now, f); // 0 and 1 overtaken by fewer than 3 packets: not lost yet
  EXPECT_TRUE(f.lostLabels.empty());
  t.r->onAck({{2, 4}}, t.now, f); // now 3 and more later packets are acknowledged
  EXPECT_EQ(f.lostLabels, (std::vector<std::size_t>{0, 1}));
  double afterLoss = t.r->cwnd();
  EXPECT_EQ(t.metrics.congestionEvents, 1u) << "one episode, one cut";
  EXPECT_EQ(t.metrics.packetsLost, 2u);
  EXPECT_GE(t.r->probes(), 1u) << "the first retransmission goes at once";
  t.r->onAck({{8, 8}}, t.now, f); // 5 was sent before the episode began: part of it
  EXPECT_EQ(f.lostLabels, (std::vector<std::size_t>{0, 1, 5}));
  EXPECT_EQ(t.metrics.congestionEvents, 1u) << "no second cut";
  EXPECT_LE(t.r->cwnd(), afterLoss);
}

TEST(TransportRecovery, TheLossTimerCatchesAnOvertakenPacketAfterNineEighthsRtt) {
  Timeline t;
  t.send(0);
  t.send(1);
  t.now += 8ms;
  Fates f;
  t.r->onAck({{1, 1}}, t.now, f);
  EXPECT_TRUE(f.lostLabels.empty());
  auto due = t.r->nextTimer();
  ASSERT_TRUE(due);
  EXPECT_EQ(*due - (t.now - 8ms), 9ms) << "9/8 of the 8 ms RTT after packet 0 left";
  t.now = *due;
  EXPECT_TRUE(t.r->onTimer(t.now, f));
  EXPECT_EQ(f.lostLabels, std::vector<std::size_t>{0});
}

TEST(TransportRecovery, TailProbeThenRetransmissionTimeoutsBackOffUntilDead) {
  Timeline t;
  t.config.deadAfterRtos = 3;
  t.send(0);
  t.now += 4ms;
  Fates f;
  t.r->onAck({{0, 0}}, t.now, f); // an RTT: 4 ms
  t.send(1);
  // No ACK: first a tail probe (2 RTT + ackDelay, the packet is alone), then RTOs that double.
  auto probeAt = t.r->nextTimer();
  ASSERT_TRUE(probeAt);
  t.now = *probeAt;
  ASSERT_TRUE(t.r->onTimer(t.now, f));
  EXPECT_EQ(f.probes, std::vector<std::size_t>{1});
  EXPECT_EQ(t.r->probes(), 2u);
  EXPECT_TRUE(f.lostLabels.empty()) << "a probe declares nothing lost";
  std::vector<Time> rtos;
  bool alive = true;
  while (alive && rtos.size() < 10) {
    auto at = t.r->nextTimer();
    ASSERT_TRUE(at);
    t.now = *at;
    auto before = t.metrics.rtoExpirations;
    alive = t.r->onTimer(t.now, f);
    if (t.metrics.rtoExpirations > before) {
      rtos.push_back(t.now);
      if (!t.r->inFlight()) t.send(2 + rtos.size()); // the retransmission, as the endpoint would
    }
  }
  EXPECT_FALSE(alive) << "dead after deadAfterRtos timeouts";
  ASSERT_EQ(rtos.size(), 3u);
  EXPECT_GT(rtos[2] - rtos[1], rtos[1] - rtos[0]) << "the timer backs off";
  EXPECT_EQ(t.r->cwnd(), t.config.minCwnd);
}

/// A timeout fires, then the ACK for the very packet it declared lost arrives: the peer was slow,
/// not the network lossy, and the window goes back to what it was. An ACK that names a later
/// packet but not that one leaves the cut in place.
TEST(TransportRecovery, ASpuriousTimeoutIsUndoneByTheLateAckOfItsPacket) {
  for (bool late : {true, false}) {
    Timeline t;
    Fates f;
    for (std::size_t i = 0; i < 8; ++i) t.send(i);
    t.now += 4ms;
    t.r->onAck({{0, 7}}, t.now, f); // an RTT, and the window grows
    double grown = t.r->cwnd();
    ASSERT_GT(grown, t.config.minCwnd);
    std::uint64_t pn = t.send(100);
    t.send(101);
    // No ACK until the retransmission timer: the window falls to minCwnd.
    while (t.metrics.rtoExpirations == 0) {
      auto at = t.r->nextTimer();
      ASSERT_TRUE(at);
      t.now = *at;
      ASSERT_TRUE(t.r->onTimer(t.now, f));
    }
    EXPECT_EQ(f.lostLabels, std::vector<std::size_t>{100});
    EXPECT_EQ(t.r->cwnd(), t.config.minCwnd);
    std::uint64_t retransmission = t.send(100);
    t.now += 1ms;
    if (late) {
      t.r->onAck({{pn, pn + 1}}, t.now, f); // the original arrived after all
      EXPECT_EQ(t.metrics.spuriousRtos, 1u);
      EXPECT_GE(t.r->cwnd(), grown) << "the window is back";
    } else {
      t.r->onAck({{pn + 1, pn + 1}, {retransmission, retransmission}}, t.now, f);
      EXPECT_EQ(t.metrics.spuriousRtos, 0u);
      EXPECT_LT(t.r->cwnd(), grown) << "lost: the cut stays";
    }
  }
}

TEST(TransportRecovery, PacingHoldsABurstToTheRate) {
  Timeline t;
  t.send(0);
  t.now += 10ms;
  Fates f;
  t.r->onAck({{0, 0}}, t.now, f);
  // cwnd 11 per 10 ms at 1.25x: a token every ~0.73 ms; the burst is paceBurst (10).
  int sent = 0;
  while (t.r->paceAllows(t.now, true) && sent < 100) {
    t.r->onPacedSend();
    ++sent;
  }
  EXPECT_EQ(sent, 10);
  auto next = t.r->nextTimer();
  ASSERT_TRUE(next);
  EXPECT_GT(*next, t.now);
  EXPECT_LT(*next - t.now, 2ms);
  t.config.pacing = false;
  EXPECT_TRUE(t.r->paceAllows(t.now, true));
}

TEST(TransportHandshake, SignedPacketsAgreeOnKeysAndRefuseTampering) {
  auto random = systemRandom();
  SigningKey alice = generateSigningKey(), bob = generateSigningKey();
  wire::Hello h;
  h.sid = 11;
  h.epoch = 1;
  h.expected = bob.publicKey();
  h.maxDatagram = 16384;
  Secret<32> ea, eb;
  Bytes hello = makeHello(alice, h, random, ea);
  auto hd = wire::Hello::decode(hello.data(), hello.size());
  ASSERT_TRUE(hd);
  EXPECT_TRUE(verifyHello(*hd));
  EXPECT_EQ(hd->initiatorKey, alice.publicKey());
  wire::Welcome w;
  w.initiatorSid = 11;
  w.responderSid = 22;
  w.maxDatagram = 1200;
  Bytes welcome = makeWelcome(bob, hello, w, random, eb);
  auto wd = wire::Welcome::decode(welcome.data(), welcome.size());
  ASSERT_TRUE(wd);
  EXPECT_TRUE(verifyWelcome(*wd, hello));
  auto ka = deriveSessionKeys(ea, wd->ephemeral, hello, welcome, true);
  auto kb = deriveSessionKeys(eb, hd->ephemeral, hello, welcome, false);
  ASSERT_TRUE(ka && kb);
  EXPECT_EQ(0, std::memcmp(ka->tx.data(), kb->rx.data(), 32));
  EXPECT_EQ(0, std::memcmp(ka->rx.data(), kb->tx.data(), 32));
  EXPECT_NE(0, std::memcmp(ka->tx.data(), ka->rx.data(), 32));
  // Tampering: a HELLO field, or a WELCOME answering another HELLO.
  Bytes bad = hello;
  bad[159] ^= 1; // max_datagram
  auto bd = wire::Hello::decode(bad.data(), bad.size());
  ASSERT_TRUE(bd);
  EXPECT_FALSE(verifyHello(*bd));
  Bytes otherHello = makeHello(alice, h, random, ea);
  EXPECT_FALSE(verifyWelcome(*wd, otherHello));
  // A low-order point gives no keys.
  EXPECT_FALSE(deriveSessionKeys(ea, PublicKey{}, hello, welcome, true));
}

TEST(TransportHandshake, LogAssemblyTakesChunksInAnyOrderOnce) {
  Bytes log(100);
  for (std::size_t i = 0; i < log.size(); ++i) log[i] = std::uint8_t(i);
  LogAssembly a;
  std::string why;
  EXPECT_FALSE(a.started());
  ASSERT_TRUE(a.add({100, 60, 40, log.data() + 60}, why));
  ASSERT_TRUE(a.add({100, 60, 40, log.data() + 60}, why)); // again
  EXPECT_FALSE(a.complete());
  ASSERT_TRUE(a.add({100, 0, 70, log.data()}, why));
  ASSERT_TRUE(a.complete());
  EXPECT_EQ(a.take(), log);
  EXPECT_FALSE(a.started());
  ASSERT_TRUE(a.add({100, 0, 10, log.data()}, why));
  EXPECT_FALSE(a.add({90, 0, 10, log.data()}, why)) << "the total changed";
  EXPECT_NE(why.find("changed size"), std::string::npos);
}

} // namespace
} // namespace flo::core
