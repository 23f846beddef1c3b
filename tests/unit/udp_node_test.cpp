/// \file
/// The transport over real loopback UDP sockets: two nodes, each on its own thread, exchange
/// messages under injected loss; a tap on both sockets finds no plaintext on the wire.
#include "core/net/udp_node.h"
#include "core/os/system.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

namespace flo::core {
namespace {

bool contains(const std::uint8_t* data, std::size_t size, const Bytes& needle) {
  return std::search(data, data + size, needle.begin(), needle.end()) != data + size;
}

TEST(UdpNode, ReliableAndEncryptedOverLoopbackUnderLoss) {
  UdpNode server(generateSigningKey()), client(generateSigningKey());
  std::string error;
  ASSERT_TRUE(server.bind("127.0.0.1", 0, error)) << error;
  ASSERT_TRUE(client.bind("127.0.0.1", 0, error)) << error;
  server.injectLoss(0.2, 0.05, 11);
  client.injectLoss(0.2, 0.05, 12);

  Bytes marker(32);
  for (std::size_t i = 0; i < marker.size(); ++i) marker[i] = std::uint8_t(0xA0 + i);
  std::atomic<bool> plaintextSeen{false};
  auto tap = [&](bool, const std::uint8_t* d, std::size_t n) {
    if (contains(d, n, marker)) plaintextSeen = true;
  };
  server.tap(tap);
  client.tap(tap);

  constexpr int kMessages = 30;
  std::vector<Bytes> received;
  std::mutex mutex;
  server.onDelivery([&](const Delivery& d) {
    std::lock_guard lock(mutex);
    received.push_back(d.message);
  });
  std::atomic<bool> stop{false};
  std::thread serverLoop([&] {
    while (!stop) server.runFor(std::chrono::milliseconds(50));
  });

  std::vector<Bytes> sent;
  int acked = 0, failed = 0;
  client.onEvent([&](const TransportEvent& e) {
    if (e.kind == TransportEvent::Kind::Acknowledged) ++acked;
    if (e.kind == TransportEvent::Kind::Failed) ++failed;
  });
  Address to{"127.0.0.1", server.localPort()};
  for (int i = 0; i < kMessages; ++i) {
    Bytes m = marker;
    m.resize(marker.size() + std::size_t(i) * 997, std::uint8_t(i));
    sent.push_back(m);
    client.send(to, server.publicKey(), m);
  }
  bool done =
      client.runUntil([&] { return acked + failed == kMessages; }, std::chrono::seconds(60));
  stop = true;
  serverLoop.join();

  ASSERT_TRUE(done) << "acked " << acked << " failed " << failed;
  EXPECT_EQ(failed, 0);
  std::lock_guard lock(mutex);
  ASSERT_EQ(received.size(), sent.size());
  EXPECT_EQ(received, sent); // exactly once, in order
  EXPECT_FALSE(plaintextSeen);
  EXPECT_GT(client.metrics().retransmissions, 0u);
}

TEST(UdpNode, ParsesAddresses) {
  EXPECT_TRUE(UdpNode::parseAddress("127.0.0.1:9"));
  EXPECT_TRUE(UdpNode::parseAddress("[::1]:9"));
  EXPECT_FALSE(UdpNode::parseAddress("localhost:9")); // numeric only
  EXPECT_FALSE(UdpNode::parseAddress("127.0.0.1:99999"));
  EXPECT_FALSE(UdpNode::parseAddress("127.0.0.1"));
}

} // namespace
} // namespace flo::core
