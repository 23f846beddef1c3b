/// \file
/// The transport on real UDP sockets: one Boost.Asio io_context, one socket and one timer drive
/// an Endpoint (the sans-I/O protocol core in transport.h). Single-threaded: every callback runs
/// inside run*(). A seeded loss/duplicate shim on outgoing datagrams lets tests and `fog net`
/// exercise recovery over real loopback sockets; a tap sees every datagram on the wire.
#pragma once

#include "core/transport.h"

#include <chrono>
#include <functional>
#include <memory>
#include <random>
#include <string>

namespace flo::core {

class UdpNode {
public:
  /// A did:key node (the DID of `identity`).
  explicit UdpNode(SigningKey identity, TransportConfig config = {});
  /// A did:difuon node: `log` shows `identity` as its current key (else std::invalid_argument).
  UdpNode(SigningKey identity, std::vector<KeyEvent> log, TransportConfig config = {});
  ~UdpNode();
  UdpNode(const UdpNode&) = delete;
  UdpNode& operator=(const UdpNode&) = delete;

  /// Binds to host:port (port 0 picks a free one). Loopback and the test's own addresses only:
  /// this layer never chooses a destination itself.
  bool bind(const std::string& host, std::uint16_t port, std::string& error);
  std::uint16_t localPort() const;
  const PublicKey& publicKey() const;
  /// Our DID: did:difuon with a log, did:key otherwise.
  const std::string& did() const;
  /// The key event logs the node holds (learned from peers, or given).
  KeyDirectory& directory();

  /// Queues `message` and puts on the wire at once what the congestion window allows; the rest
  /// goes out inside run*().
  MessageId send(const Address& to, std::string_view did, Bytes message);
  MessageId send(const Address& to, const PublicKey& peer, Bytes message);
  /// Messages sent between cork() and uncork() go out together at uncork(), sharing packets
  /// (Endpoint::hold): a server's many answers at once.
  void cork();
  void uncork();
  /// Going away: queued messages fail, and every peer with a session is told (Endpoint::close).
  void close();

  /// Runs the loop until `done()` holds (checked after every event) or `timeout` passes.
  /// Returns whether `done()` held.
  bool runUntil(const std::function<bool()>& done, std::chrono::steady_clock::duration timeout);
  /// Runs until `timeout` passes (a server loop in slices).
  void runFor(std::chrono::steady_clock::duration timeout);

  void onDelivery(std::function<void(const Delivery&)> f) { onDelivery_ = std::move(f); }
  void onEvent(std::function<void(const TransportEvent&)> f) { onEvent_ = std::move(f); }
  /// Sees every datagram sent or received (after the loss shim): for tests that look at the wire.
  /// Runs inside run*() and, for what send() transmits at once, inside send().
  void tap(std::function<void(bool outgoing, const std::uint8_t*, std::size_t)> f) {
    tap_ = std::move(f);
  }
  /// Drops (and duplicates) outgoing datagrams at these rates, from a seeded generator.
  void injectLoss(double dropRate, double duplicateRate, std::uint64_t seed);

  const TransportMetrics& metrics() const;

  /// "host:port" into an Address (numeric IPv4/IPv6 host); nullopt when malformed.
  static std::optional<Address> parseAddress(std::string_view text);

  struct Impl; // the io_context, socket, timer and endpoint (udp_node.cpp)

private:
  std::unique_ptr<Impl> impl_;
  std::function<void(const Delivery&)> onDelivery_;
  std::function<void(const TransportEvent&)> onEvent_;
  std::function<void(bool, const std::uint8_t*, std::size_t)> tap_;
};

} // namespace flo::core
