/// \file
/// The transport's protocol core over the deterministic simulated network of sim/: in-process
/// Endpoints exchange datagrams that the network drops, duplicates, delays, reorders,
/// partitions and shows to the tests' taps, on a virtual clock. Every run replays exactly from
/// its seed; a failing test prints the seed, the command that replays it (FLO_SIM_SEED) and
/// the end of the network's trace.
#include "core/identity.h"
#include "core/transport.h"
#include "core/transport/handshake.h"
#include "core/transport/wire.h"
#include "sim/endpoint_node.h"
#include "sim/network.h"
#include "sim/schedule.h"
#include "sim/seed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>

namespace flo::core {
namespace {

using namespace std::chrono_literals;

SigningKey keyFor(std::uint8_t n) {
  Seed seed;
  std::fill(seed.data(), seed.data() + seed.size(), n);
  return SigningKey::fromSeed(seed);
}

/// "Suite.Name" of the running test.
std::string testName() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

/// One endpoint on the simulated network. A restart replaces the endpoint; what the node
/// delivered and reported is kept across restarts.
struct Node {
  SigningKey key;
  Address address;
  sim::NodeId id = 0;
  Endpoint* endpoint = nullptr; ///< the current incarnation's (the network owns it)
  std::vector<Delivery> delivered;
  std::vector<TransportEvent> events;
};

/// The transport tests' hands on a sim::Network: nodes at 10.0.0.x:7000 named by their key
/// seed, sends that go on the wire at once, and the test's seed unless FLO_SIM_SEED names
/// another. The network's randomness, the endpoints' (one stream per node and incarnation)
/// and the tests' own choices (stream()) all come from that seed.
class SimNetwork {
public:
  /// `overridable`: whether FLO_SIM_SEED may replace `seed` (not for tests comparing seeds).
  explicit SimNetwork(std::uint64_t seed, bool overridable = true)
      : net_(overridable ? sim::chooseSeed(testName(), seed, std::getenv(sim::kSeedVariable))
                         : seed),
        replay_(__FILE__, __LINE__, sim::replayHint(testName(), net_.seed())) {
    net_.setTap([this](const Address& from, const Address& to, Bytes& bytes) {
      return !tap || tap(from, to, bytes);
    });
  }
  ~SimNetwork() {
    if (testing::Test::HasFailure())
      std::cout << sim::replayHint(testName(), net_.seed()) << "\n" << net_.trace().tail(40);
  }

  /// Sees each datagram a node sends; may alter it, or swallow it by returning false.
  sim::Network::Tap tap;

  sim::Network& sim() { return net_; }
  /// Every link's behaviour (loss, duplication, reordering, delay).
  sim::LinkConfig& link() { return net_.defaultLink(); }
  Time now() const { return net_.now(); }
  std::uint64_t steps() const { return net_.stats().steps; }
  std::uint64_t datagrams() const { return net_.stats().sent; }
  /// The test's own random choices, from the seed.
  sim::Rng stream(std::uint64_t tag) const { return net_.stream(tag); }

  /// A did:difuon node at 10.0.0.`addressSeed` whose current key is the last of `log`.
  Node& addLongLived(std::uint8_t addressSeed, const SigningKey& current, std::vector<KeyEvent> log,
                     TransportConfig config = {}) {
    return host(current, addressSeed, [current, log = std::move(log), config](RandomSource random) {
      return std::make_unique<Endpoint>(current, log, config, std::move(random));
    });
  }

  /// A did:key node for keyFor(keySeed), at 10.0.0.`keySeed`.
  Node& add(std::uint8_t keySeed, TransportConfig config = {}) {
    SigningKey key = keyFor(keySeed);
    return host(key, keySeed, [key, config](RandomSource random) {
      return std::make_unique<Endpoint>(key, config, std::move(random));
    });
  }

  /// A fresh Endpoint for the same key (a restart): all protocol state is lost.
  void restart(Node& node) {
    pump();
    net_.restart(node.id);
  }

  /// Sends to `to`'s DID (did:key or did:difuon).
  MessageId sendDid(Node& from, const Node& to, Bytes message) {
    MessageId id = from.endpoint->send(to.address, to.endpoint->did(), std::move(message), now());
    pump();
    return id;
  }

  MessageId send(Node& from, const Node& to, Bytes message) {
    MessageId id = from.endpoint->send(to.address, to.key.publicKey(), std::move(message), now());
    pump();
    return id;
  }

  /// Injects a raw datagram as if `from` had sent it to `to`.
  void inject(const Address& from, const Address& to, Bytes bytes) {
    net_.inject(from, to, std::move(bytes));
  }

  /// Runs until `done` holds or virtual time or steps run out; false on running out.
  bool runUntil(const std::function<bool()>& done, std::chrono::seconds limit) {
    return net_.runUntil(done, limit);
  }

  void runFor(std::chrono::milliseconds d) { net_.runFor(d); }

  /// Puts on the wire what the endpoints were asked to send.
  void pump() { net_.flush(); }

private:
  using MakeEndpoint = std::function<std::unique_ptr<Endpoint>(RandomSource)>;

  Node& host(const SigningKey& key, std::uint8_t addressSeed, MakeEndpoint make) {
    nodes_.push_back(std::make_unique<Node>(
        Node{key, Address{"10.0.0." + std::to_string(addressSeed), 7000}, 0, nullptr, {}, {}}));
    Node& node = *nodes_.back();
    node.id = net_.add(node.address, [&node, make](const sim::NodeContext& context) {
      std::unique_ptr<Endpoint> endpoint = make(context.random);
      node.endpoint = endpoint.get();
      return std::make_unique<sim::EndpointNode>(
          std::move(endpoint), [&node](Delivery d) { node.delivered.push_back(std::move(d)); },
          [&node](TransportEvent e) { node.events.push_back(std::move(e)); });
    });
    return node;
  }

  std::vector<std::unique_ptr<Node>> nodes_; // before net_: its nodes point into these
  sim::Network net_;
  testing::ScopedTrace replay_; // every failure names the seed and how to replay it
};

Bytes message(std::size_t size, std::uint32_t tag) {
  Bytes b(size);
  std::uint32_t x = tag * 2654435761u + 1;
  for (auto& c : b) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c = std::uint8_t(x);
  }
  for (std::size_t i = 0; i < 4 && i < size; ++i) b[i] = std::uint8_t(tag >> (8 * i));
  return b;
}

std::size_t count(const std::vector<TransportEvent>& events, TransportEvent::Kind kind) {
  return std::count_if(events.begin(), events.end(), [&](auto& e) { return e.kind == kind; });
}

std::uint64_t dropped(const Node& n, DropReason r) {
  return n.endpoint->metrics().droppedFor(r);
}

TEST(Transport, HandshakeAndSmallMessage) {
  SimNetwork net(1);
  Node& a = net.add(1);
  Node& b = net.add(2);
  MessageId id = net.send(a, b, {'h', 'i'});
  ASSERT_TRUE(net.runUntil(
      [&] {
        return b.delivered.size() == 1 && count(a.events, TransportEvent::Kind::Acknowledged) == 1;
      },
      5s));
  EXPECT_EQ(b.delivered[0].message, (Bytes{'h', 'i'}));
  EXPECT_EQ(b.delivered[0].peer, a.key.publicKey());
  EXPECT_EQ(didKey(b.delivered[0].peer), didKey(a.key.publicKey()));
  EXPECT_EQ(a.events.back().id, id);
  EXPECT_TRUE(a.endpoint->hasSession(b.key.publicKey()));
  EXPECT_TRUE(b.endpoint->hasSession(a.key.publicKey()));
  EXPECT_EQ(count(b.events, TransportEvent::Kind::SessionUp), 1u);
  // And back, on the same session, plus an empty message.
  net.send(b, a, {'y', 'o'});
  net.send(b, a, {});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 2; }, 5s));
  EXPECT_EQ(a.delivered[0].message, (Bytes{'y', 'o'}));
  EXPECT_TRUE(a.delivered[1].message.empty());
  EXPECT_EQ(a.endpoint->metrics().droppedTotal(), 0u);
  EXPECT_EQ(b.endpoint->metrics().droppedTotal(), 0u);
  EXPECT_EQ(a.endpoint->metrics().handshakes, 1u);
}

// Messages sent while held go out at release(), several to a packet (and so one ACK for
// several), all delivered once and in order; without hold each goes at once in a packet of its
// own (while the window allows).
TEST(Transport, HeldMessagesShareDatagrams) {
  SimNetwork net(3);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'0'}); // the session first
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
  net.runUntil([] { return false; }, 1s); // the ACKs settle
  auto burst = [&](bool held, std::size_t first) {
    std::uint64_t before = a.endpoint->metrics().packetsOut;
    if (held) a.endpoint->hold();
    for (std::size_t k = 0; k < 20; ++k)
      a.endpoint->send(b.address, b.key.publicKey(), Bytes(100, std::uint8_t(first + k)),
                       net.now());
    std::uint64_t queued = a.endpoint->metrics().packetsOut - before;
    if (held) a.endpoint->release(net.now());
    net.pump();
    EXPECT_TRUE(net.runUntil([&] { return b.delivered.size() == first + 20; }, 5s));
    return std::make_pair(queued, a.endpoint->metrics().packetsOut - before);
  };
  auto [heldBefore, heldPackets] = burst(true, 1);
  EXPECT_EQ(heldBefore, 0u) << "nothing goes out while held";
  auto [plainBefore, plainPackets] = burst(false, 21);
  // Without hold each message goes at once in a packet of its own while the window allows.
  EXPECT_GE(plainBefore, 4u);
  // 20 messages of 100 bytes fill two or three datagrams of 1,200 bytes or so.
  EXPECT_LE(heldPackets, 4u);
  EXPECT_LT(heldPackets * 2, plainPackets)
      << heldPackets << " packets held, " << plainPackets << " without";
  ASSERT_EQ(b.delivered.size(), 41u);
  for (std::size_t k = 1; k < 41; ++k)
    EXPECT_EQ(b.delivered[k].message, Bytes(100, std::uint8_t(k))) << k;
}

TEST(Transport, ExactlyOnceInOrderAtTwentyPercentLoss) {
  SimNetwork net(20);
  net.link().drop = 0.2;
  net.link().duplicate = 0.05;
  net.link().reorder = 0.1;
  Node& a = net.add(1);
  Node& b = net.add(2);
  const Bytes marker(32, 0xA5);
  std::size_t leaked = 0;
  net.tap = [&](const Address&, const Address&, Bytes& bytes) {
    if (std::search(bytes.begin(), bytes.end(), marker.begin(), marker.begin() + 16) != bytes.end())
      ++leaked;
    return true;
  };
  sim::Rng sizes = net.stream(1);
  const Time start = net.now();
  std::vector<Bytes> sent;
  for (std::uint32_t i = 0; i < 200; ++i) {
    std::size_t size = std::size_t(sizes.between(1, 200'000));
    if (i == 100) size = 16u << 20;
    Bytes m = message(size, i);
    if (size >= 40) std::copy(marker.begin(), marker.end(), m.begin() + 8);
    sent.push_back(m);
    net.send(a, b, std::move(m));
  }
  ASSERT_TRUE(net.runUntil(
      [&] { return count(a.events, TransportEvent::Kind::Acknowledged) == sent.size(); }, 3600s))
      << "delivered " << b.delivered.size() << " at step " << net.steps();
  ASSERT_EQ(b.delivered.size(), sent.size());
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(b.delivered[i].message, sent[i]) << "message " << i;
  }
  EXPECT_EQ(leaked, 0u);
  const TransportMetrics& am = a.endpoint->metrics();
  RecordProperty("virtual_seconds",
                 std::to_string(std::chrono::duration<double>(net.now() - start).count()));
  RecordProperty("datagrams", std::to_string(net.datagrams()));
  RecordProperty("retransmissions", std::to_string(am.retransmissions));
  RecordProperty("congestion_events", std::to_string(am.congestionEvents));
  RecordProperty("rto_expirations", std::to_string(am.rtoExpirations));
  RecordProperty("packets_lost", std::to_string(am.packetsLost));
  RecordProperty("tail_probes", std::to_string(am.tailProbes));
  EXPECT_EQ(count(a.events, TransportEvent::Kind::Failed), 0u);
  EXPECT_GT(a.endpoint->metrics().retransmissions, 0u);
  EXPECT_GT(a.endpoint->metrics().congestionEvents, 0u);
  // Nothing more arrives later (exactly once).
  net.runFor(3000ms);
  EXPECT_EQ(b.delivered.size(), sent.size());
  auto stats = a.endpoint->sessionStats(b.key.publicKey());
  ASSERT_TRUE(stats);
  EXPECT_GT(stats->srttMs, 0.0);
}

TEST(Transport, ManyPeersExactlyOnceUnderLoss) {
  SimNetwork net(33);
  net.link().drop = 0.2;
  net.link().reorder = 0.2;
  std::vector<Node*> nodes;
  for (std::uint8_t k = 1; k <= 4; ++k) nodes.push_back(&net.add(k));
  std::uint32_t tag = 0;
  std::map<std::pair<int, int>, std::vector<Bytes>> expected;
  sim::Rng sizes = net.stream(1);
  for (int round = 0; round < 20; ++round)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) {
        if (i == j) continue;
        Bytes m = message(std::size_t(sizes.between(0, 5000)), tag++);
        expected[{i, j}].push_back(m);
        net.send(*nodes[i], *nodes[j], std::move(m));
      }
  ASSERT_TRUE(net.runUntil(
      [&] {
        for (auto* n : nodes)
          if (n->delivered.size() < 60) return false;
        return true;
      },
      600s));
  net.runFor(2000ms);
  for (int j = 0; j < 4; ++j) {
    ASSERT_EQ(nodes[j]->delivered.size(), 60u);
    std::map<int, std::vector<Bytes>> got;
    for (auto& d : nodes[j]->delivered) {
      for (int i = 0; i < 4; ++i)
        if (d.peer == nodes[i]->key.publicKey()) got[i].push_back(d.message);
    }
    for (int i = 0; i < 4; ++i)
      if (i != j) EXPECT_EQ(got[i], (expected[{i, j}])) << i << " -> " << j;
  }
}

TEST(Transport, BadPacketsAreDroppedAndCounted) {
  SimNetwork net(4);
  Node& a = net.add(1);
  Node& b = net.add(2);
  std::vector<Bytes> data; // DATA packets a sent to b
  net.tap = [&](const Address& from, const Address&, Bytes& bytes) {
    if (from == a.address && bytes.size() > 1 && bytes[1] == 3) data.push_back(bytes);
    return true;
  };
  net.send(a, b, message(3000, 1));
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
  net.runFor(100ms);
  ASSERT_FALSE(data.empty());
  net.tap = nullptr;
  const std::size_t replays = data.size();
  const TransportMetrics before = b.endpoint->metrics();
  Address mallory{"10.9.9.9", 666};
  // replayed: every DATA packet again, from the real and from another address
  for (auto& p : data) {
    net.inject(a.address, b.address, p);
    net.inject(mallory, b.address, p);
  }
  // truncated
  net.inject(mallory, b.address, Bytes(data[0].begin(), data[0].begin() + 20));
  net.inject(mallory, b.address, Bytes{1});
  // bit-flipped: a fresh packet number (so the replay check passes) and flips in the body
  Bytes flipped = data.back();
  flipped[13] ^= 0x40; // packet number far ahead
  net.inject(mallory, b.address, flipped);
  Bytes body = data.back();
  body[13] ^= 0x20;
  body[body.size() / 2] ^= 1;
  net.inject(a.address, b.address, body);
  // garbage, oversized, bad version, bad type, unknown session
  sim::Rng g = net.stream(1);
  Bytes garbage(300);
  for (auto& c : garbage) c = std::uint8_t(g.next());
  garbage[0] = wire::kVersion;
  garbage[1] = 3;
  net.inject(mallory, b.address, garbage);
  net.inject(mallory, b.address, Bytes(wire::kMaxDatagram + 1, 1));
  Bytes version = data[0];
  version[0] = 9;
  net.inject(mallory, b.address, version);
  Bytes type = data[0];
  type[1] = 77;
  net.inject(mallory, b.address, type);
  // a truncated and an oversized HELLO
  net.inject(mallory, b.address, Bytes{wire::kVersion, 1, 0, 0});
  Bytes bigHello(400, 0);
  bigHello[0] = wire::kVersion;
  bigHello[1] = 1;
  net.inject(mallory, b.address, bigHello);
  net.runFor(500ms);

  const TransportMetrics& after = b.endpoint->metrics();
  auto delta = [&](DropReason r) { return after.droppedFor(r) - before.droppedFor(r); };
  EXPECT_EQ(delta(DropReason::Replay), 2 * replays);
  EXPECT_EQ(delta(DropReason::Truncated), 3u);
  EXPECT_EQ(delta(DropReason::AuthFailure), 2u);
  EXPECT_EQ(delta(DropReason::Oversized), 2u);
  EXPECT_EQ(delta(DropReason::BadVersion), 1u);
  EXPECT_EQ(delta(DropReason::BadType), 1u);
  EXPECT_EQ(delta(DropReason::UnknownSession), 1u);
  EXPECT_EQ(b.delivered.size(), 1u); // nothing new delivered
  EXPECT_TRUE(b.endpoint->hasSession(a.key.publicKey()));
  // The session still works afterwards.
  net.send(a, b, {'o', 'k'});
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 2; }, 5s));
  EXPECT_EQ(b.delivered[1].message, (Bytes{'o', 'k'}));
}

TEST(Transport, UnexpectedResponderKeyFails) {
  SimNetwork net(5);
  TransportConfig config;
  config.handshakeTimeout = 2000ms;
  Node& a = net.add(1, config);
  Node& b = net.add(2);
  Node& c = net.add(3);
  // a believes b lives at c's address: c is not the key a expects, so it refuses.
  MessageId id = a.endpoint->send(c.address, b.key.publicKey(), {'x'}, net.now());
  net.pump();
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Failed) == 1; }, 10s));
  EXPECT_EQ(a.events.back().id, id);
  EXPECT_GT(dropped(c, DropReason::BadHandshake), 0u);
  EXPECT_TRUE(c.delivered.empty());
  EXPECT_FALSE(a.endpoint->hasSession(b.key.publicKey()));
}

TEST(Transport, ForgedWelcomeSignatureFails) {
  SimNetwork net(6);
  TransportConfig config;
  config.handshakeTimeout = 2000ms;
  Node& a = net.add(1, config);
  Node& b = net.add(2);
  net.tap = [&](const Address&, const Address&, Bytes& bytes) {
    if (bytes.size() > 1 && bytes[1] == 2) bytes[bytes.size() - 5] ^= 1; // WELCOME signature
    return true;
  };
  net.send(a, b, {'x'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Failed) == 1; }, 10s));
  EXPECT_GT(dropped(a, DropReason::BadSignature), 0u);
  EXPECT_FALSE(a.endpoint->hasSession(b.key.publicKey()));
  EXPECT_TRUE(b.delivered.empty());
}

TEST(Transport, ForgedHelloSignatureIsDropped) {
  SimNetwork net(7);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.tap = [&](const Address&, const Address&, Bytes& bytes) {
    if (bytes.size() > 1 && bytes[1] == 1) bytes[180] ^= 1; // HELLO signature
    return true;
  };
  net.send(a, b, {'x'});
  net.runFor(1000ms);
  EXPECT_GT(dropped(b, DropReason::BadSignature), 0u);
  EXPECT_FALSE(b.endpoint->hasSession(a.key.publicKey()));
  EXPECT_TRUE(b.delivered.empty());
}

TEST(Transport, PeerRestartReestablishes) {
  SimNetwork net(8);
  net.link().drop = 0.1;
  TransportConfig config;
  config.deadAfterRtos = 3;
  Node& a = net.add(1, config);
  Node& b = net.add(2, config);
  for (std::uint32_t i = 0; i < 10; ++i) net.send(a, b, message(2000, i));
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 10; }, 60s));
  ASSERT_EQ(b.delivered.size(), 10u);

  // b restarts: it forgets everything but its key. a keeps sending on its stale session
  // (dropped by b as unknown) until it notices and re-handshakes.
  net.restart(b);
  b.delivered.clear();
  for (std::uint32_t i = 10; i < 20; ++i) net.send(a, b, message(2000, i));
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 10; }, 120s));
  for (std::uint32_t i = 0; i < 10; ++i) EXPECT_EQ(b.delivered[i].message, message(2000, 10 + i));
  EXPECT_GT(dropped(b, DropReason::UnknownSession), 0u);
  // Acknowledged means delivered: wait for it, or a restart may deliver those again.
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 20; }, 60s));

  // b restarts again and speaks first: a answers the new HELLO and replaces the session.
  net.restart(b);
  b.delivered.clear();
  a.delivered.clear();
  net.send(b, a, {'b', 'a', 'c', 'k'});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 1; }, 60s));
  EXPECT_EQ(a.delivered[0].message, (Bytes{'b', 'a', 'c', 'k'}));
  for (std::uint32_t i = 20; i < 25; ++i) net.send(a, b, message(100, i));
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 5; }, 60s));
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(b.delivered[i].message, message(100, 20 + i));
  net.runFor(2000ms);
  EXPECT_EQ(b.delivered.size(), 5u);
  EXPECT_EQ(a.delivered.size(), 1u);
}

TEST(Transport, RestartedPeerResetsTheStaleSessionAtOnce) {
  SimNetwork net(27);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'1'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 1; }, 5s));
  net.runFor(100ms); // the reset tokens are acknowledged
  // b restarts with nothing to say; a's next message meets a RESET, not a wall of timeouts.
  net.restart(b);
  b.delivered.clear();
  Time before = net.now();
  net.send(a, b, {'2'});
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 10s));
  EXPECT_LT(net.now() - before, 200ms); // a few round trips (2-8 ms each), no RTO (>= 200 ms)
  EXPECT_EQ(a.endpoint->metrics().rtoExpirations, 0u);
  EXPECT_EQ(b.delivered[0].message, (Bytes{'2'}));
  auto down = std::find_if(a.events.begin(), a.events.end(), [](const TransportEvent& e) {
    return e.kind == TransportEvent::Kind::SessionDown;
  });
  ASSERT_NE(down, a.events.end());
  EXPECT_NE(down->reason.find("stateless reset"), std::string::npos);
  // A RESET with a wrong token changes nothing.
  Bytes forged{wire::kVersion, wire::kReset, 0, 0, 0, 1};
  forged.resize(22, 0xab);
  net.inject(b.address, a.address, forged);
  net.runFor(50ms);
  EXPECT_TRUE(a.endpoint->hasSession(b.key.publicKey()));
  EXPECT_GT(dropped(a, DropReason::UnknownSession), 0u);
}

TEST(Transport, IdlePeersMakeRoomForNewOnes) {
  SimNetwork net(28);
  TransportConfig config;
  config.maxPeers = 2;
  Node& hub = net.add(1, config);
  std::vector<Node*> others;
  for (std::uint8_t k = 2; k < 6; ++k) others.push_back(&net.add(k));
  // Four peers, one after the other, each ending its session (CLOSE) before the next comes:
  // the hub never holds more than two, and never refuses one.
  for (Node* o : others) {
    net.send(*o, hub, {'h', 'i'});
    ASSERT_TRUE(net.runUntil([&] { return !o->delivered.empty() || !hub.delivered.empty(); }, 5s));
    ASSERT_TRUE(net.runUntil(
        [&] { return count(o->events, TransportEvent::Kind::Acknowledged) == 1; }, 5s));
    o->endpoint->close(net.now());
    net.pump();
    net.runFor(50ms);
  }
  EXPECT_EQ(hub.delivered.size(), 4u);
  EXPECT_EQ(dropped(hub, DropReason::SessionLimit), 0u);
}

TEST(Transport, APeerBeyondTheLimitIsRefusedWhileNoneIsIdle) {
  SimNetwork net(43);
  TransportConfig config;
  config.maxPeers = 2;
  Node& hub = net.add(1, config);
  Node& a = net.add(2);
  Node& b = net.add(3);
  Node& c = net.add(4);
  // Two peers whose sessions stay open (keepalives): neither is idle, so the hub is full.
  for (Node* o : {&a, &b}) {
    net.send(*o, hub, {'h', 'i'});
    ASSERT_TRUE(net.runUntil(
        [&] { return count(o->events, TransportEvent::Kind::Acknowledged) == 1; }, 5s));
  }
  // A third peer is refused, each HELLO counted, until its handshake gives up.
  net.send(c, hub, {'n', 'o'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(c.events, TransportEvent::Kind::Failed) == 1; }, 30s));
  EXPECT_GE(dropped(hub, DropReason::SessionLimit), 2u); // the first HELLO and its retries
  EXPECT_EQ(hub.delivered.size(), 2u);
  EXPECT_TRUE(c.delivered.empty());
  EXPECT_FALSE(hub.endpoint->hasSession(c.key.publicKey()));
  EXPECT_FALSE(c.endpoint->hasSession(hub.key.publicKey()));
  // The two it holds were not disturbed.
  EXPECT_TRUE(hub.endpoint->hasSession(a.key.publicKey()));
  EXPECT_TRUE(hub.endpoint->hasSession(b.key.publicKey()));
  // Once one of them ends its session, the next attempt gets in.
  a.endpoint->close(net.now());
  net.pump();
  net.runFor(50ms);
  net.send(c, hub, {'y', 'e', 's'});
  ASSERT_TRUE(net.runUntil([&] { return hub.delivered.size() == 3; }, 5s));
  EXPECT_EQ(hub.delivered.back().message, (Bytes{'y', 'e', 's'}));
}

TEST(Transport, ReassemblyMemoryIsBoundedOverAllPeers) {
  SimNetwork net(29);
  TransportConfig config;
  config.maxBuffered = 60 * 1024; // room for one of the 40 KiB messages below, not two
  Node& hub = net.add(1, config);
  Node& a = net.add(2);
  Node& c = net.add(3);
  for (std::uint32_t i = 0; i < 4; ++i) {
    net.send(a, hub, message(40 * 1024, i));
    net.send(c, hub, message(40 * 1024, 100 + i));
  }
  // Segments past the bound are not acknowledged and come again once memory is freed: all
  // arrive, in order per sender.
  ASSERT_TRUE(net.runUntil([&] { return hub.delivered.size() == 8; }, 120s));
  std::vector<std::uint32_t> fromA, fromC;
  for (auto& d : hub.delivered)
    (d.peer == a.key.publicKey() ? fromA : fromC).push_back(d.message[0] | d.message[1] << 8);
  EXPECT_EQ(fromA, (std::vector<std::uint32_t>{0, 1, 2, 3}));
  EXPECT_EQ(fromC, (std::vector<std::uint32_t>{100, 101, 102, 103}));
  // The bound was met: refused segments were sent again (there is no loss here).
  EXPECT_GT(a.endpoint->metrics().retransmissions + c.endpoint->metrics().retransmissions, 0u);
}

/// The most DATA datagrams `from` sent at one instant, after `since`.
std::size_t largestBurst(const std::vector<std::pair<Time, std::size_t>>& sends, Time since) {
  std::map<Time, std::size_t> at;
  for (auto [t, size] : sends)
    if (t > since && size > 600) ++at[t]; // data-sized datagrams only
  std::size_t most = 0;
  for (auto [t, n] : at) most = std::max(most, n);
  return most;
}

TEST(Transport, PacingSpreadsAWindowOverTheRoundTrip) {
  for (bool pacing : {true, false}) {
    SimNetwork net(30);
    net.link().delay = 10ms;
    net.link().jitter = 0ms;
    TransportConfig config;
    config.initialCwnd = 60; // a window that would go out in one burst
    config.pacing = pacing;
    Node& a = net.add(1, config);
    Node& b = net.add(2, config);
    std::vector<std::pair<Time, std::size_t>> sends;
    net.tap = [&](const Address& from, const Address&, Bytes& bytes) {
      if (from == a.address && bytes.size() > 1 && bytes[1] == 3)
        sends.emplace_back(net.now(), bytes.size());
      return true;
    };
    net.send(a, b, {'x'}); // handshake and a first RTT sample
    ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
    net.runFor(100ms);
    Time start = net.now();
    net.send(a, b, message(50 * 1024, 1));
    ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 2; }, 10s));
    EXPECT_EQ(b.delivered[1].message, message(50 * 1024, 1));
    if (pacing)
      EXPECT_LE(largestBurst(sends, start - 1ms), 10u); // paceBurst
    else
      EXPECT_GE(largestBurst(sends, start - 1ms), 40u);
  }
}

TEST(Transport, DataIsPaddedToTheMultiple) {
  for (std::size_t multiple : {std::size_t(16), std::size_t(256)}) {
    SimNetwork net(32);
    TransportConfig config;
    config.padMultiple = multiple;
    Node& a = net.add(1, config);
    Node& b = net.add(2, config);
    std::set<std::size_t> sizes;
    net.tap = [&](const Address&, const Address&, Bytes& bytes) {
      if (bytes.size() > 1 && bytes[1] == 3) sizes.insert(bytes.size());
      return true;
    };
    for (std::uint32_t i = 0; i < 20; ++i) net.send(a, b, message(1 + 97 * i, i));
    ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 20; }, 10s));
    for (std::uint32_t i = 0; i < 20; ++i)
      EXPECT_EQ(b.delivered[i].message, message(1 + 97 * i, i));
    ASSERT_FALSE(sizes.empty());
    for (std::size_t size : sizes) // header 14 and tag 16 around a padded plaintext, or full
      EXPECT_TRUE((size - 30) % multiple == 0 || size == config.maxPacket) << size;
  }
}

TEST(Transport, SimultaneousOpen) {
  SimNetwork net(9);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'1'});
  net.send(b, a, {'2'});
  ASSERT_TRUE(
      net.runUntil([&] { return a.delivered.size() == 1 && b.delivered.size() == 1; }, 10s));
  net.send(a, b, {'3'});
  net.send(b, a, {'4'});
  ASSERT_TRUE(
      net.runUntil([&] { return a.delivered.size() == 2 && b.delivered.size() == 2; }, 10s));
  EXPECT_EQ(b.delivered[1].message, (Bytes{'3'}));
  EXPECT_EQ(a.delivered[1].message, (Bytes{'4'}));
}

TEST(Transport, GarbageFloodFromOneAddressDoesNotStopOthers) {
  SimNetwork net(10);
  Node& a = net.add(1);
  Node& b = net.add(2);
  Node& m = net.add(3); // a legitimate key, flooding from its own address
  Address flooder = m.address;
  sim::Rng g = net.stream(1);
  for (std::uint32_t i = 0; i < 50; ++i) net.send(a, b, message(5000, i));
  std::size_t rounds = 0;
  // Each round the flooder sends garbage, forged DATA and signed-looking HELLOs to b.
  ASSERT_TRUE(net.runUntil(
      [&] {
        if (rounds++ % 4 == 0) {
          for (int k = 0; k < 20; ++k) {
            Bytes junk(g.between(0, 1300));
            for (auto& c : junk) c = std::uint8_t(g.next());
            if (junk.size() > 2 && k % 2) junk[0] = wire::kVersion;
            net.inject(flooder, b.address, junk);
            Bytes hello(wire::kHelloSize);
            for (auto& c : hello) c = std::uint8_t(g.next());
            hello[0] = wire::kVersion;
            hello[1] = 1;
            std::copy(b.key.publicKey().begin(), b.key.publicKey().end(), hello.begin() + 126);
            net.inject(flooder, b.address, hello);
          }
        }
        return b.delivered.size() == 50;
      },
      60s));
  for (std::uint32_t i = 0; i < 50; ++i) EXPECT_EQ(b.delivered[i].message, message(5000, i));
  EXPECT_GT(dropped(b, DropReason::RateLimited), 0u);
  // only the burst of forged HELLOs reached signature verification
  EXPECT_LT(dropped(b, DropReason::BadSignature), 200u);
  // the flooder's own legitimate traffic from that address is not blocked forever
  EXPECT_TRUE(b.endpoint->hasSession(a.key.publicKey()));
}

TEST(Transport, CongestionWindowShrinksUnderLoss) {
  SimNetwork net(12);
  Node& a = net.add(1);
  Node& b = net.add(2);
  for (std::uint32_t i = 0; i < 20; ++i) net.send(a, b, message(50'000, i));
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 20; }, 60s));
  double clean = a.endpoint->sessionStats(b.key.publicKey())->cwnd;
  EXPECT_EQ(a.endpoint->metrics().congestionEvents, 0u);
  EXPECT_GT(clean, 20.0); // grew in slow start

  net.link().drop = 0.3;
  for (std::uint32_t i = 20; i < 40; ++i) net.send(a, b, message(50'000, i));
  double lowest = clean;
  ASSERT_TRUE(net.runUntil(
      [&] {
        if (auto s = a.endpoint->sessionStats(b.key.publicKey()))
          lowest = std::min(lowest, s->cwnd);
        return b.delivered.size() == 40;
      },
      600s));
  EXPECT_GT(a.endpoint->metrics().congestionEvents, 0u);
  EXPECT_LT(lowest, clean / 4);
  for (std::uint32_t i = 0; i < 40; ++i) EXPECT_EQ(b.delivered[i].message, message(50'000, i));
}

/// Whether a datagram is a DATA packet that carries a segment. The frames are encrypted, so by
/// size: an ACK and a PING without a segment make at most 150 bytes, and every segment the
/// tests look for is far larger.
bool carriesSegment(const Bytes& bytes) {
  return bytes.size() > 250 && bytes[1] == 3;
}

TEST(Transport, OneMebibyteAtTwentyPercentLossInBoundedRoundTrips) {
  // Loss only (no reordering), so every retransmission beyond the lost packets is a spurious
  // one; one-way delay 4-6 ms, so a round trip is about 10 ms of virtual time.
  SimNetwork net(21);
  net.link().delay = 4ms;
  net.link().jitter = 2ms;
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'x'});
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
  net.link().drop = 0.2;
  std::size_t dataPackets = 0;
  net.tap = [&](const Address& from, const Address&, Bytes& bytes) {
    if (from == a.address && carriesSegment(bytes)) ++dataPackets;
    return true;
  };
  const TransportMetrics before = a.endpoint->metrics();
  const Time start = net.now();
  const Bytes big = message(1u << 20, 1);
  net.send(a, b, big);
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 2; }, 600s));
  ASSERT_EQ(b.delivered.size(), 2u);
  EXPECT_EQ(b.delivered[1].message, big);
  const TransportMetrics& m = a.endpoint->metrics();
  const double roundTrips = std::chrono::duration<double>(net.now() - start).count() / 0.010;
  const std::uint64_t retransmissions = m.retransmissions - before.retransmissions;
  const std::uint64_t rtos = m.rtoExpirations - before.rtoExpirations;
  RecordProperty("round_trips", std::to_string(roundTrips));
  RecordProperty("data_packets", std::to_string(dataPackets));
  RecordProperty("retransmissions", std::to_string(retransmissions));
  RecordProperty("rto_expirations", std::to_string(rtos));
  RecordProperty("packets_lost", std::to_string(m.packetsLost - before.packetsLost));
  RecordProperty("tail_probes", std::to_string(m.tailProbes - before.tailProbes));
  RecordProperty("congestion_events", std::to_string(m.congestionEvents - before.congestionEvents));
  // 1,017 segments; at 20% loss one needs 1.25 sends on average (about 254 retransmissions).
  // ACKs are lost too, so some retransmissions are spurious (seed 21: 230; seeds 1-40:
  // 230-347). When timeouts drove recovery and each resent the whole window: 718.
  EXPECT_LT(retransmissions, 350u);
  EXPECT_LT(dataPackets, 1017u + 350u);
  // The timer fires only when a whole window or every ACK for it is lost: at 20% loss each way
  // and a window of 2-3 packets, about one window in eight (seed 21: 47, seeds 1-40: 47-90; 289
  // before).
  EXPECT_LT(rtos, 100u);
  // AIMD holds the window near 1.22 / sqrt(0.2) = 2.7 packets at 20% loss, a floor of about
  // 480 round trips for 1,300 packets (seed 21: 567, seeds 1-40: 567-757; 1,243 before).
  EXPECT_LT(roundTrips, 800.0);
}

/// Establishes a session from `a` to `b` (one acknowledged message), then drops the `nth`
/// segment `a` sends from then on, once.
bool establishThenDropSegment(SimNetwork& net, Node& a, Node& b, std::size_t nth) {
  net.send(a, b, {'x'});
  if (!net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged); }, 5s))
    return false;
  auto segments = std::make_shared<std::size_t>(0);
  const Address from = a.address;
  net.tap = [segments, from, nth](const Address& src, const Address&, Bytes& bytes) {
    return !(src == from && carriesSegment(bytes) && ++*segments == nth);
  };
  return true;
}

TEST(Transport, SingleLostSegmentIsRecoveredWithoutTimeout) {
  SimNetwork net(22);
  Node& a = net.add(1);
  Node& b = net.add(2);
  // The fifth segment of a 40-segment message is lost, once.
  ASSERT_TRUE(establishThenDropSegment(net, a, b, 5));
  const TransportMetrics before = a.endpoint->metrics();
  const Bytes m = message(40'000, 2);
  net.send(a, b, m);
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 2; }, 10s));
  EXPECT_EQ(b.delivered.back().message, m);
  const TransportMetrics& after = a.endpoint->metrics();
  EXPECT_EQ(after.rtoExpirations, before.rtoExpirations);
  EXPECT_EQ(after.retransmissions - before.retransmissions, 1u);
  EXPECT_EQ(after.packetsLost - before.packetsLost, 1u);
  EXPECT_EQ(after.congestionEvents - before.congestionEvents, 1u);
}

TEST(Transport, LostTailIsRecoveredByProbeBeforeTimeout) {
  // A 2 ms round trip, so two smoothed RTTs are well inside the 20 ms minimum RTO.
  SimNetwork net(25);
  net.link().delay = 1ms;
  net.link().jitter = 0ms;
  Node& a = net.add(1);
  Node& b = net.add(2);
  // The last of 5 segments is lost, once: no later packet will arrive to reveal it.
  ASSERT_TRUE(establishThenDropSegment(net, a, b, 5));
  const TransportMetrics before = a.endpoint->metrics();
  const Bytes m = message(5'000, 4);
  const Time start = net.now();
  net.send(a, b, m);
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 2; }, 10s));
  EXPECT_EQ(b.delivered.back().message, m);
  const TransportMetrics& after = a.endpoint->metrics();
  EXPECT_EQ(after.rtoExpirations, before.rtoExpirations);
  EXPECT_EQ(after.tailProbes - before.tailProbes, 1u);
  EXPECT_EQ(after.retransmissions - before.retransmissions, 1u); // the probe carried it
  EXPECT_LT(net.now() - start, 10ms);
}

TEST(Transport, TimeoutResendsOnlyTheEarliestSegment) {
  SimNetwork net(23);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'x'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged); }, 5s));
  // Every ACK from b is lost until a's retransmission timer has fired twice.
  bool blackout = true;
  net.tap = [&](const Address& from, const Address&, Bytes&) {
    return !(blackout && from == b.address);
  };
  const TransportMetrics before = a.endpoint->metrics();
  const Bytes m = message(30'000, 3);
  net.send(a, b, m);
  ASSERT_TRUE(net.runUntil(
      [&] { return a.endpoint->metrics().rtoExpirations - before.rtoExpirations == 1; }, 10s));
  // The first expiry resends the earliest segment only, not the window in flight.
  EXPECT_EQ(a.endpoint->metrics().retransmissions - before.retransmissions, 1u);
  const double firstRto = a.endpoint->sessionStats(b.key.publicKey())->rtoMs;
  ASSERT_TRUE(net.runUntil(
      [&] { return a.endpoint->metrics().rtoExpirations - before.rtoExpirations == 2; }, 10s));
  EXPECT_EQ(a.endpoint->metrics().retransmissions - before.retransmissions, 2u);
  EXPECT_EQ(a.endpoint->sessionStats(b.key.publicKey())->rtoMs, 2 * firstRto); // backed off
  blackout = false;
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 2; }, 10s));
  EXPECT_EQ(b.delivered.back().message, m);
  // b had every segment: the ACK after the blackout says so, and nothing else is resent.
  const TransportMetrics& after = a.endpoint->metrics();
  EXPECT_EQ(after.retransmissions - before.retransmissions, 2u);
  EXPECT_EQ(after.rtoExpirations - before.rtoExpirations, 2u);
}

TEST(Transport, CompletedMessageIsAcknowledgedAtOnce) {
  // A fixed 5 ms one-way delay and an ACK delay far longer than a round trip: an
  // acknowledgement that waited for the delayed-ACK timer would show.
  SimNetwork net(24);
  net.link().delay = 5ms;
  net.link().jitter = 0ms;
  TransportConfig config;
  config.ackDelay = 200ms;
  Node& a = net.add(1, config);
  Node& b = net.add(2, config);
  std::size_t bAcks = 0, aData = 0;
  net.tap = [&](const Address& from, const Address&, Bytes& bytes) {
    if (from == b.address && bytes[1] == 3) ++bAcks;
    if (from == a.address && carriesSegment(bytes)) ++aData;
    return true;
  };
  Time start = net.now();
  net.send(a, b, {'x'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged); }, 5s));
  EXPECT_EQ(net.now() - start, 20ms); // HELLO, WELCOME, DATA and its ACK
  // On the established session: one round trip, for one segment, two (the first is a middle
  // segment in sequence: its ACK waits for the second) and five.
  std::size_t acked = 1;
  for (std::size_t size : {1u, 2'000u, 5'000u}) {
    start = net.now();
    net.send(a, b, message(size, std::uint32_t(size)));
    ASSERT_TRUE(net.runUntil(
        [&] { return count(a.events, TransportEvent::Kind::Acknowledged) == acked + 1; }, 5s));
    ++acked;
    EXPECT_EQ(net.now() - start, 10ms) << size;
  }
  EXPECT_EQ(b.delivered.size(), 4u);
  // A stream is still acknowledged every second packet, whether its messages span many
  // packets or many messages share one; only the end of the queue asks for an ACK at once.
  bAcks = aData = 0;
  for (std::uint32_t i = 0; i < 10; ++i) net.send(a, b, message(100'000, i));
  ASSERT_TRUE(net.runUntil(
      [&] { return count(a.events, TransportEvent::Kind::Acknowledged) == acked + 10; }, 10s));
  acked += 10;
  EXPECT_GT(aData, 900u);
  EXPECT_LE(bAcks, aData / 2 + 2);
  // Small messages queued faster than the window opens share packets, and those are
  // acknowledged every second packet too (a fresh peer: its window starts small).
  Node& c = net.add(3, config);
  std::size_t packets = 0, cAcks = 0;
  net.tap = [&](const Address& from, const Address& to, Bytes& bytes) {
    if (from == c.address && bytes[1] == 3) ++cAcks;
    if (from == a.address && to == c.address && bytes[1] == 3) ++packets;
    return true;
  };
  for (std::uint32_t i = 0; i < 2000; ++i)
    a.endpoint->send(c.address, c.key.publicKey(), message(256, i), net.now());
  net.pump();
  ASSERT_TRUE(net.runUntil([&] { return c.delivered.size() == 2000; }, 10s));
  net.runFor(100ms);
  RecordProperty("small_packets", std::to_string(packets));
  RecordProperty("small_acks", std::to_string(cAcks));
  EXPECT_LE(packets, 2000u / 4 + 2);
  EXPECT_LE(cAcks, packets / 2 + 2);
}

TEST(Transport, OversizedMessageFailsAtOnce) {
  TransportConfig config;
  config.maxMessage = 1000;
  Endpoint a(keyFor(1), config, sim::randomSource(1));
  MessageId id = a.send({"h", 1}, keyFor(2).publicKey(), Bytes(1001), Time{});
  auto events = a.takeEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, TransportEvent::Kind::Failed);
  EXPECT_EQ(events[0].id, id);
  EXPECT_TRUE(a.takeOutgoing().empty());
}

TEST(Transport, SegmentClaimingMoreThanTheLimitIsRefused) {
  SimNetwork net(13);
  TransportConfig config;
  config.maxMessage = 4096;
  Node& a = net.add(1, config);
  Node& b = net.add(2, config);
  net.send(a, b, {'x'});
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
  // A SEGMENT frame for message 1 claiming a total above maxMessage.
  Bytes frame{1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 1, 'z'};
  b.endpoint->injectFramesForTesting(a.key.publicKey(), frame.data(), frame.size(), net.now());
  EXPECT_EQ(dropped(b, DropReason::ProtocolViolation), 1u);
  net.pump();
  EXPECT_EQ(b.delivered.size(), 1u);
}

TEST(Transport, SessionsRekeyAndTheStreamCarriesOn) {
  SimNetwork net(25);
  net.link().drop = 0.05;
  TransportConfig config;
  config.rekeyAfter = 300ms;
  Node& a = net.add(1, config);
  Node& b = net.add(2, config);
  std::vector<Bytes> sent;
  std::size_t rounds = 0;
  // A message every 20 ms of virtual time for 3 s: about ten rekeys happen mid-stream.
  ASSERT_TRUE(net.runUntil(
      [&] {
        if (sent.size() < 150 && net.now() >= sim::Clock::kEpoch + rounds * 20ms) {
          ++rounds;
          sent.push_back(message(1500, std::uint32_t(sent.size())));
          net.send(a, b, sent.back());
        }
        return sent.size() == 150 && b.delivered.size() == 150;
      },
      60s));
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(b.delivered[i].message, sent[i]);
  EXPECT_GE(a.endpoint->metrics().handshakes, 5u);
  // A rekey is not a new session, and the old sid, retired quietly, draws no RESET.
  EXPECT_EQ(count(a.events, TransportEvent::Kind::SessionDown), 0u);
  EXPECT_EQ(count(b.events, TransportEvent::Kind::SessionDown), 0u);
  EXPECT_EQ(count(b.events, TransportEvent::Kind::SessionUp), 1u);
  EXPECT_TRUE(a.endpoint->hasSession(b.key.publicKey()));
  EXPECT_EQ(count(a.events, TransportEvent::Kind::Failed), 0u);
}

TEST(Transport, CloseEndsThePeersSessionAtOnce) {
  SimNetwork net(26);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'x'});
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
  net.runFor(50ms);
  ASSERT_TRUE(b.endpoint->hasSession(a.key.publicKey()));
  a.endpoint->close(net.now());
  net.pump();
  EXPECT_FALSE(a.endpoint->hasSession(b.key.publicKey()));
  ASSERT_TRUE(net.runUntil([&] { return !b.endpoint->hasSession(a.key.publicKey()); }, 1s));
  ASSERT_FALSE(b.events.empty());
  EXPECT_EQ(b.events.back().kind, TransportEvent::Kind::SessionDown);
  EXPECT_NE(b.events.back().reason.find("closed"), std::string::npos);
  // The closed endpoint can be greeted again.
  net.send(b, a, {'y'});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 1; }, 5s));
}

// ---- did:difuon peers ----------------------------------------------------------------------

/// A long-lived identity: keys[0..] and a log rotated `rotations` times (keys[rotations] is
/// current, keys[rotations + 1] committed to next).
struct LongLived {
  std::uint8_t base = 0; ///< keys[i] is keyFor(base + i)
  std::vector<SigningKey> keys;
  std::vector<KeyEvent> log;
  const SigningKey& current() const { return keys[log.size() - 1]; }
  /// One more rotation, to the committed key.
  void rotate() {
    std::size_t next = log.size();
    keys.push_back(keyFor(std::uint8_t(base + keys.size())));
    log.push_back(makeRotation(log.back(), keys[next], keys[next + 1].publicKey()));
  }
};

LongLived longLived(std::uint8_t base, std::size_t rotations) {
  LongLived id;
  id.base = base;
  for (std::size_t i = 0; i < rotations + 2; ++i) id.keys.push_back(keyFor(std::uint8_t(base + i)));
  id.log.push_back(makeInception(id.keys[0], id.keys[1].publicKey()));
  for (std::size_t i = 1; i <= rotations; ++i)
    id.log.push_back(makeRotation(id.log.back(), id.keys[i], id.keys[i + 1].publicKey()));
  return id;
}

TEST(Transport, LongLivedPeersProveTheirDids) {
  SimNetwork net(21);
  LongLived alice = longLived(40, 0), bob = longLived(60, 2);
  Node& a = net.addLongLived(1, alice.current(), alice.log);
  Node& b = net.addLongLived(2, bob.current(), bob.log);
  ASSERT_TRUE(a.endpoint->did().starts_with("did:difuon:"));
  EXPECT_EQ(a.endpoint->did(), didOfInception(alice.log[0]));
  // Neither holds the other's log: each learns it from the IDENTITY frames.
  EXPECT_FALSE(a.endpoint->directory().current(b.endpoint->did()));
  for (std::uint32_t i = 0; i < 3; ++i) net.sendDid(a, b, message(2000, i));
  ASSERT_TRUE(net.runUntil(
      [&] {
        return b.delivered.size() == 3 && count(a.events, TransportEvent::Kind::Acknowledged) == 3;
      },
      5s));
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(b.delivered[i].message, message(2000, i));
    EXPECT_EQ(b.delivered[i].did, a.endpoint->did());
    EXPECT_EQ(b.delivered[i].peer, alice.current().publicKey());
  }
  EXPECT_EQ(a.events.back().did, b.endpoint->did());
  EXPECT_TRUE(a.endpoint->hasSession(b.endpoint->did()));
  EXPECT_TRUE(b.endpoint->hasSession(a.endpoint->did()));
  EXPECT_EQ(a.endpoint->directory().current(b.endpoint->did())->currentKey,
            bob.current().publicKey());
  EXPECT_EQ(b.endpoint->directory().current(a.endpoint->did())->currentKey,
            alice.current().publicKey());
  // And back, by DID, on the same session.
  net.sendDid(b, a, {'o', 'k'});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 1; }, 5s));
  EXPECT_EQ(a.delivered[0].did, b.endpoint->did());
  EXPECT_EQ(a.endpoint->metrics().handshakes, 1u);
  EXPECT_EQ(a.endpoint->metrics().droppedTotal(), 0u);
  EXPECT_EQ(b.endpoint->metrics().droppedTotal(), 0u);
}

TEST(Transport, LongLogIsProvenUnderLoss) {
  SimNetwork net(22);
  net.link().drop = 0.2;
  net.link().duplicate = 0.05;
  net.link().reorder = 0.05;
  LongLived alice = longLived(80, 12), bob = longLived(120, 15); // logs of several packets
  ASSERT_GT(encodeLog(bob.log).size(), 2000u);
  Node& a = net.addLongLived(1, alice.current(), alice.log);
  Node& b = net.addLongLived(2, bob.current(), bob.log);
  for (std::uint32_t i = 0; i < 20; ++i) net.sendDid(a, b, message(3000, i));
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 20; }, 600s));
  net.runFor(2000ms);
  ASSERT_EQ(b.delivered.size(), 20u); // exactly once
  for (std::uint32_t i = 0; i < 20; ++i) {
    EXPECT_EQ(b.delivered[i].message, message(3000, i));
    EXPECT_EQ(b.delivered[i].did, a.endpoint->did());
  }
  EXPECT_EQ(a.endpoint->directory().current(b.endpoint->did())->sequence, 15u);
  EXPECT_EQ(dropped(a, DropReason::BadIdentity) + dropped(b, DropReason::BadIdentity), 0u);
}

TEST(Transport, RotatedPeerIsRecognisedAndItsOldKeyRefused) {
  SimNetwork net(23);
  LongLived alice = longLived(150, 0), bob = longLived(170, 1);
  const LongLived bobBefore = bob;
  Node& a = net.addLongLived(1, alice.current(), alice.log);
  Node& b = net.addLongLived(2, bob.current(), bob.log);
  net.sendDid(b, a, {'1'});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 1; }, 5s));

  // Bob rotates to the key his log committed to; alice learns it from his longer log.
  bob.rotate();
  std::string why;
  ASSERT_TRUE(b.endpoint->rotate(bob.current(), bob.log, net.now(), &why)) << why;
  net.pump();
  net.runFor(30ms); // the CLOSE from the old session arrives: alice does not wait for timeouts
  EXPECT_TRUE(std::any_of(a.events.begin(), a.events.end(), [](const TransportEvent& e) {
    return e.kind == TransportEvent::Kind::SessionDown &&
           e.reason.find("closed") != std::string::npos;
  }));
  EXPECT_EQ(b.endpoint->publicKey(), bob.current().publicKey());
  net.sendDid(b, a, {'2'});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 2; }, 5s));
  EXPECT_EQ(a.delivered[1].did, b.endpoint->did());
  EXPECT_EQ(a.delivered[1].peer, bob.current().publicKey());
  EXPECT_EQ(a.endpoint->directory().current(b.endpoint->did())->currentKey,
            bob.current().publicKey());
  // A rotation that does not extend the log is refused, and changes nothing.
  EXPECT_FALSE(b.endpoint->rotate(bobBefore.current(), bobBefore.log, net.now(), &why));
  EXPECT_NE(why.find("does not extend"), std::string::npos);

  // Someone holding bob's rotated-out key and his old log tries to pass for bob: refused.
  TransportConfig quick;
  quick.handshakeTimeout = 2000ms;
  Node& m = net.addLongLived(3, bobBefore.current(), bobBefore.log, quick);
  net.sendDid(m, a, {'x'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(m.events, TransportEvent::Kind::Failed) == 1; }, 10s));
  EXPECT_GT(dropped(a, DropReason::BadIdentity), 0u);
  EXPECT_EQ(a.delivered.size(), 2u);
  // ...and answering for bob at its own address, it receives nothing either.
  TransportConfig aQuick;
  aQuick.handshakeTimeout = 2000ms;
  Node& c = net.addLongLived(4, alice.current(), alice.log, aQuick); // alice on another box
  c.endpoint->directory().learn(bob.log);
  c.endpoint->send(m.address, b.endpoint->did(), {'s', 'e', 'c', 'r', 'e', 't'}, net.now());
  net.pump();
  ASSERT_TRUE(
      net.runUntil([&] { return count(c.events, TransportEvent::Kind::Failed) == 1; }, 10s));
  EXPECT_NE(c.events.back().reason.find("did not prove"), std::string::npos)
      << c.events.back().reason;
  EXPECT_GT(dropped(c, DropReason::BadIdentity), 0u);
  EXPECT_TRUE(m.delivered.empty());
}

TEST(Transport, ProvenSessionOutlivesARekeyAnsweredByAnImpostor) {
  SimNetwork net(34);
  TransportConfig config;
  config.rekeyAfter = 500ms;
  config.handshakeTimeout = 2000ms;
  LongLived alice = longLived(210, 0), bob = longLived(220, 1);
  const LongLived bobBefore = bob;
  bob.rotate();
  Node& a = net.addLongLived(1, alice.current(), alice.log, config);
  Node& b = net.addLongLived(2, bob.current(), bob.log);
  // Mallory holds bob's rotated-out key and his older log, and sits on the path.
  Node& m = net.addLongLived(3, bobBefore.current(), bobBefore.log);
  net.sendDid(a, b, {'1'}); // alice greets first, so she is the one who rekeys
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 1; }, 5s));
  net.tap = [&](const Address& from, const Address& to, Bytes& bytes) {
    if (from == a.address && to == b.address && bytes.size() == wire::kHelloSize && bytes[1] == 1) {
      net.inject(a.address, m.address, bytes); // alice's rekey HELLOs reach mallory instead
      return false;
    }
    return true;
  };
  for (std::uint32_t i = 0; i < 40; ++i) { // 4 s: several rekeys, each answered by mallory
    net.sendDid(a, b, message(100, i));
    net.runFor(100ms);
  }
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 41; }, 10s));
  for (std::uint32_t i = 0; i < 40; ++i) EXPECT_EQ(b.delivered[i + 1].message, message(100, i));
  EXPECT_GT(dropped(a, DropReason::BadIdentity), 1u);
  EXPECT_EQ(count(a.events, TransportEvent::Kind::Failed), 0u);
  EXPECT_EQ(count(a.events, TransportEvent::Kind::SessionDown), 0u);
  EXPECT_TRUE(a.endpoint->hasSession(b.endpoint->did()));
  EXPECT_TRUE(m.delivered.empty());
}

TEST(Transport, DidKeyAndLongLivedPeersMix) {
  SimNetwork net(24);
  LongLived bob = longLived(190, 1);
  Node& a = net.add(1); // a did:key
  Node& b = net.addLongLived(2, bob.current(), bob.log);
  net.sendDid(a, b, {'k'});
  net.sendDid(b, a, {'d'});
  ASSERT_TRUE(net.runUntil([&] { return a.delivered.size() == 1 && b.delivered.size() == 1; }, 5s));
  EXPECT_EQ(b.delivered[0].did, didKey(a.key.publicKey()));
  EXPECT_EQ(a.delivered[0].did, b.endpoint->did());
}

TEST(Transport, SendToSomethingNotADidFailsAtOnce) {
  Endpoint a(keyFor(1), {}, sim::randomSource(1));
  for (std::string_view bad : {"did:web:example.com", "did:difuon:0OIl", "did:key:zzz", ""}) {
    MessageId id = a.send({"h", 1}, bad, {'x'}, Time{});
    auto events = a.takeEvents();
    ASSERT_EQ(events.size(), 1u) << bad;
    EXPECT_EQ(events[0].kind, TransportEvent::Kind::Failed);
    EXPECT_EQ(events[0].id, id);
  }
  EXPECT_TRUE(a.takeOutgoing().empty());
  // A log whose current key is not the endpoint's is a programming error, said at once.
  LongLived id = longLived(200, 1);
  EXPECT_THROW(Endpoint(id.keys[0], id.log, {}, sim::randomSource(1)), std::invalid_argument);
}

// ---- handshakes under attack --------------------------------------------------------------

/// A HELLO from `signer` with a fresh ephemeral key (from `salt`), claiming the did:difuon
/// `claimed` (zero: its did:key) and addressed to `expected` (a key or a did:difuon digest).
Bytes craftHello(const SigningKey& signer, const Digest& claimed, const Digest& expected,
                 std::uint32_t sid, std::uint64_t epoch, std::uint8_t salt) {
  wire::Hello h;
  h.sid = sid;
  h.epoch = epoch;
  h.initiatorDid = claimed;
  h.expected = expected;
  h.maxDatagram = std::uint16_t(wire::kMinDatagram);
  Secret<32> ephemeral;
  RandomSource fill = [salt](std::uint8_t* p, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) p[i] = std::uint8_t(salt * 31 + i);
  };
  return makeHello(signer, h, fill, ephemeral);
}

TEST(Transport, ClaimsThatNeverProveDisplaceNoHandshake) {
  SimNetwork net(31);
  net.link().delay = 40ms; // a round trip of about 100 ms
  net.link().jitter = 20ms;
  LongLived alice = longLived(40, 0), bob = longLived(60, 0);
  Node& a = net.addLongLived(1, alice.current(), alice.log);
  Node& b = net.addLongLived(2, bob.current(), bob.log);
  SigningKey mallory = keyFor(99);
  Address m{"10.0.0.66", 7000};
  Digest aliceDigest = *parseDidDifuon(a.endpoint->did());
  Digest bobDigest = *parseDidDifuon(b.endpoint->did());
  std::uint32_t sid = 1;
  Time next = net.now();
  net.sendDid(a, b, {'h', 'i'});
  // Twenty HELLOs a second (within the per-address budget) claim to be alice, with mallory's
  // key: each waits for a proof that never comes, beside alice's own handshake.
  ASSERT_TRUE(net.runUntil(
      [&] {
        if (net.now() >= next) {
          net.inject(m, b.address,
                     craftHello(mallory, aliceDigest, bobDigest, sid, 7, std::uint8_t(sid)));
          ++sid;
          next = net.now() + 50ms;
        }
        return b.delivered.size() == 1;
      },
      10s));
  EXPECT_EQ(b.delivered[0].did, a.endpoint->did());
  EXPECT_EQ(a.endpoint->metrics().handshakes, 1u);
}

TEST(Transport, ReplayedHelloCancelsNothing) {
  SimNetwork net(33);
  TransportConfig config;
  config.rekeyAfter = 300ms;
  Node& x = net.add(1, config);
  Node& y = net.add(2, config);
  bool xHigher = y.key.publicKey() < x.key.publicKey();
  Node& r = xHigher ? x : y; // initiates (and rekeys) later; has the higher key
  Node& o = xHigher ? y : x;
  Bytes captured;
  bool armed = false;
  Address m{"10.0.0.66", 7000};
  // Mallory keeps one old HELLO of o's and replays it at r whenever r greets o, and at o
  // whenever o answers anyone.
  net.tap = [&](const Address& from, const Address&, Bytes& bytes) {
    if (from == o.address && bytes.size() == wire::kHelloSize && captured.empty()) captured = bytes;
    if (armed && from == r.address && bytes.size() == wire::kHelloSize)
      net.inject(m, r.address, captured);
    return true;
  };
  net.send(o, r, {'1'});
  ASSERT_TRUE(net.runUntil([&] { return r.delivered.size() == 1; }, 5s));
  o.endpoint->close(net.now());
  net.pump();
  net.runFor(100ms);
  net.send(r, o, {'2'});
  ASSERT_TRUE(net.runUntil([&] { return o.delivered.size() == 1; }, 5s));
  auto before = r.endpoint->metrics().handshakes;
  armed = true;
  for (int i = 0; i < 30; ++i) { // 3 s of a trickle of messages: rekeys every 300 ms go on
    net.send(r, o, {'x'});
    net.runFor(100ms);
  }
  EXPECT_GE(r.endpoint->metrics().handshakes - before, 8u);
  EXPECT_EQ(o.delivered.size(), 31u);
  EXPECT_EQ(count(r.events, TransportEvent::Kind::Failed), 0u);
}

// ---- faults from sim/: partitions, schedules, replay --------------------------------------

TEST(Transport, StreamCompletesAfterAPartitionHeals) {
  SimNetwork net(40);
  net.link().drop = 0.05;
  Node& a = net.add(1);
  Node& b = net.add(2);
  std::vector<Bytes> sent;
  for (std::uint32_t i = 0; i < 40; ++i) {
    sent.push_back(message(5000, i));
    net.send(a, b, sent.back());
  }
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() >= 10; }, 60s));
  ASSERT_LT(b.delivered.size(), sent.size());
  // Cut both ways for 3 s: retransmissions back off, a gives the session up and greets b
  // again, and nothing crosses, not even what was in flight when the cut came.
  const std::size_t before = b.delivered.size();
  net.sim().partition({{a.id}, {b.id}});
  net.runFor(3000ms);
  EXPECT_EQ(b.delivered.size(), before);
  EXPECT_GT(net.sim().stats().droppedFor(sim::DropCause::Partition), 0u);
  EXPECT_GT(a.endpoint->metrics().rtoExpirations, 0u);
  net.sim().heal();
  ASSERT_TRUE(net.runUntil(
      [&] { return count(a.events, TransportEvent::Kind::Acknowledged) == sent.size(); }, 60s));
  net.runFor(2000ms);
  ASSERT_EQ(b.delivered.size(), sent.size()); // exactly once
  for (std::size_t i = 0; i < sent.size(); ++i) EXPECT_EQ(b.delivered[i].message, sent[i]) << i;
  EXPECT_EQ(count(a.events, TransportEvent::Kind::Failed), 0u);
}

TEST(Transport, OneWayBlockHoldsBackOnlyTheAcknowledgements) {
  SimNetwork net(41);
  Node& a = net.add(1);
  Node& b = net.add(2);
  net.send(a, b, {'x'});
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 1; }, 5s));
  net.sim().block(b.id, a.id); // b hears a, a does not hear b
  for (std::uint32_t i = 0; i < 5; ++i) net.send(a, b, message(3000, i));
  ASSERT_TRUE(net.runUntil([&] { return b.delivered.size() == 6; }, 10s));
  net.runFor(1000ms);
  EXPECT_EQ(count(a.events, TransportEvent::Kind::Acknowledged), 1u);
  EXPECT_GT(a.endpoint->metrics().retransmissions, 0u);
  net.sim().unblock(b.id, a.id);
  ASSERT_TRUE(
      net.runUntil([&] { return count(a.events, TransportEvent::Kind::Acknowledged) == 6; }, 30s));
  net.runFor(2000ms);
  ASSERT_EQ(b.delivered.size(), 6u); // what came again was not delivered again
  for (std::uint32_t i = 0; i < 5; ++i) EXPECT_EQ(b.delivered[i + 1].message, message(3000, i));
}

/// The messages in the order they were first delivered, each once.
std::vector<Bytes> firstDeliveries(const std::vector<Delivery>& delivered) {
  std::vector<Bytes> out;
  std::set<Bytes> seen;
  for (const auto& d : delivered)
    if (seen.insert(d.message).second) out.push_back(d.message);
  return out;
}

TEST(Transport, StreamsSurviveAScriptedScheduleOfFaults) {
  SimNetwork net(42);
  Node& a = net.add(1);
  Node& b = net.add(2);
  Node& c = net.add(3);
  sim::LinkConfig lossy = net.link();
  lossy.drop = 0.3;
  lossy.reorder = 0.1;
  std::size_t checkpoints = 0;
  sim::Schedule faults;
  faults.link(100ms, a.id, b.id, lossy)
      .block(300ms, c.id, a.id) // c's answers to a vanish
      .crash(600ms, b.id)
      .unblock(900ms, c.id, a.id)
      .restart(1500ms, b.id) // b comes back with no memory of the stream
      .partition(2000ms, {{a.id}, {b.id, c.id}})
      .heal(2500ms)
      .at(2500ms, "checkpoint", [&](sim::Network&) { ++checkpoints; });
  const Time start = net.now();
  net.sim().play(faults);
  // A message every 10 ms to each of b and c for 3 s.
  std::vector<Bytes> toB, toC;
  ASSERT_TRUE(net.runUntil(
      [&] {
        while (toB.size() < 300 && net.now() >= start + toB.size() * 10ms) {
          toB.push_back(message(200, std::uint32_t(toB.size())));
          toC.push_back(message(300, std::uint32_t(1000 + toC.size())));
          net.send(a, b, toB.back());
          net.send(a, c, toC.back());
        }
        return toB.size() == 300 && count(a.events, TransportEvent::Kind::Acknowledged) == 600;
      },
      120s));
  net.runFor(2000ms);
  EXPECT_EQ(count(a.events, TransportEvent::Kind::Failed), 0u);
  EXPECT_EQ(checkpoints, 1u);
  // c never went down: exactly once, in order.
  ASSERT_EQ(c.delivered.size(), toC.size());
  for (std::size_t i = 0; i < toC.size(); ++i) EXPECT_EQ(c.delivered[i].message, toC[i]) << i;
  // b restarted: what it delivered but had not acknowledged before the crash comes again, so
  // a message may be delivered twice, but every one arrives and the first arrivals are in order.
  EXPECT_EQ(firstDeliveries(b.delivered), toB);
  EXPECT_LE(b.delivered.size(), toB.size() + 100);
  // The trace shows each fault at its time, and nothing reaching b while it was down or
  // crossing the partition.
  const sim::Trace& trace = net.sim().trace();
  ASSERT_EQ(trace.recorded(), trace.entries().size()) << "the trace kept every entry";
  std::vector<std::pair<sim::Duration, std::string>> faultsSeen;
  for (const auto& e : trace.entries()) {
    const sim::Duration at = e.at - start;
    if (e.kind == sim::TraceEntry::Kind::Fault) faultsSeen.emplace_back(at, e.note);
    if (e.kind != sim::TraceEntry::Kind::Delivered) continue;
    if (e.to == b.address) EXPECT_TRUE(at < 600ms || at >= 1500ms) << sim::Trace::format(e);
    if (at >= 2000ms && at < 2500ms)
      EXPECT_EQ(e.from == a.address, e.to == a.address) << sim::Trace::format(e);
  }
  ASSERT_EQ(faultsSeen.size(), 8u);
  EXPECT_EQ(faultsSeen[0].first, 100ms);
  EXPECT_TRUE(faultsSeen[0].second.starts_with("link 0->1 drop=0.3")) << faultsSeen[0].second;
  using Fault = std::pair<sim::Duration, std::string>;
  EXPECT_EQ(std::vector<Fault>(faultsSeen.begin() + 1, faultsSeen.end()),
            (std::vector<Fault>{{300ms, "block 2->0"},
                                {600ms, "crash 1"},
                                {900ms, "unblock 2->0"},
                                {1500ms, "restart 1 as incarnation 1"},
                                {2000ms, "partition {0} {1 2}"},
                                {2500ms, "heal"},
                                {2500ms, "checkpoint"}}));
  EXPECT_GT(net.sim().stats().droppedFor(sim::DropCause::NodeDown), 0u);
}

struct ExchangeOutcome {
  std::uint64_t digest = 0, traced = 0, retransmissions = 0;
  Time end{};
};

/// Twenty messages of random sizes each way over lossy, duplicating, reordering links.
ExchangeOutcome lossyExchange(std::uint64_t seed) {
  SimNetwork net(seed, /*overridable=*/false);
  net.link().drop = 0.2;
  net.link().duplicate = 0.05;
  net.link().reorder = 0.1;
  Node& a = net.add(1);
  Node& b = net.add(2);
  sim::Rng sizes = net.stream(1);
  for (std::uint32_t i = 0; i < 20; ++i) {
    net.send(a, b, message(std::size_t(sizes.between(1, 20'000)), i));
    net.send(b, a, message(std::size_t(sizes.between(1, 20'000)), 100 + i));
  }
  EXPECT_TRUE(
      net.runUntil([&] { return a.delivered.size() == 20 && b.delivered.size() == 20; }, 600s));
  net.runFor(1000ms);
  return {net.sim().digest(), net.sim().trace().recorded(),
          a.endpoint->metrics().retransmissions + b.endpoint->metrics().retransmissions, net.now()};
}

TEST(Transport, SameSeedReplaysTheSameTrace) {
  const std::uint64_t seed = sim::chooseSeed(testName(), 43, std::getenv(sim::kSeedVariable));
  SCOPED_TRACE(sim::replayHint(testName(), seed));
  const ExchangeOutcome first = lossyExchange(seed);
  const ExchangeOutcome again = lossyExchange(seed);
  EXPECT_EQ(again.digest, first.digest);
  EXPECT_EQ(again.traced, first.traced);
  EXPECT_EQ(again.retransmissions, first.retransmissions);
  EXPECT_EQ(again.end, first.end);
  EXPECT_GT(first.retransmissions, 0u);
  // Another seed is another run: other losses, other keys and nonces on the wire.
  EXPECT_NE(lossyExchange(seed + 1).digest, first.digest);
}

} // namespace
} // namespace flo::core
