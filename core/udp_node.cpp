/// \file
/// Boost.Asio binding of the transport core (see udp_node.h).
#include "core/udp_node.h"

#include <boost/asio.hpp>

#include <array>
#include <charconv>
#include <optional>
#include <sys/socket.h>

namespace flo::core {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {
constexpr int kSocketBuffer = 4 << 20; ///< requested SO_RCVBUF and SO_SNDBUF, bytes
constexpr int kReceiveBatch = 64;      ///< datagrams taken per wake-up before flushing
} // namespace

struct UdpNode::Impl {
  Impl(SigningKey identity, TransportConfig config)
      : endpoint(std::move(identity), config), socket(io), timer(io) {}

  asio::io_context io;
  Endpoint endpoint;
  udp::socket socket;
  asio::steady_timer timer;
  std::array<std::uint8_t, 65536> buffer{};
  udp::endpoint sender;
  // The last peer seen each way, so a burst to or from one peer parses no address text.
  udp::endpoint lastSender;
  Address lastFrom;
  Address lastTo;
  std::optional<udp::endpoint> lastToEndpoint;
  bool lossOn = false;
  double drop = 0, duplicate = 0;
  std::mt19937_64 rng;
  bool progressed = false; // something happened since the predicate was last checked

  using Tap = std::function<void(bool, const std::uint8_t*, std::size_t)>;
  /// Through the loss shim onto the wire. Blocks while the socket's send buffer is full.
  void sendDatagram(const Datagram& d, const Tap& tap) {
    int copies = 1;
    if (lossOn) {
      std::uniform_real_distribution<double> u(0, 1);
      if (u(rng) < drop)
        copies = 0;
      else if (u(rng) < duplicate)
        copies = 2;
    }
    if (!lastToEndpoint || d.to != lastTo) {
      boost::system::error_code ec;
      auto address = asio::ip::make_address(d.to.host, ec);
      if (ec) return;
      lastTo = d.to;
      lastToEndpoint = udp::endpoint(address, d.to.port);
    }
    for (int i = 0; i < copies; ++i) {
      if (tap) tap(true, d.bytes.data(), d.bytes.size());
      boost::system::error_code ec;
      socket.send_to(asio::buffer(d.bytes), *lastToEndpoint, 0, ec); // an error is loss
    }
  }

  void sendQueued(const Tap& tap) {
    for (auto& d : endpoint.takeOutgoing()) sendDatagram(d, tap);
  }
};

UdpNode::UdpNode(SigningKey identity, TransportConfig config)
    : impl_(std::make_unique<Impl>(std::move(identity), config)) {}
UdpNode::~UdpNode() = default;

std::optional<Address> UdpNode::parseAddress(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned port = 0;
  auto p = text.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
  if (ec != std::errc() || end != p.data() + p.size() || port > 65535) return std::nullopt;
  boost::system::error_code bad;
  asio::ip::make_address(host, bad);
  if (bad) return std::nullopt;
  return Address{host, std::uint16_t(port)};
}

bool UdpNode::bind(const std::string& host, std::uint16_t port, std::string& error) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return error = "not a numeric address: " + host, false;
  udp::endpoint local(address, port);
  impl_->socket.open(local.protocol(), ec);
  if (!ec) impl_->socket.bind(local, ec);
  if (ec)
    return error = "cannot bind " + host + ":" + std::to_string(port) + ": " + ec.message(), false;
  // A full congestion window arrives as one burst; the default buffers (about 200 KB) overflow
  // long before it does and turn into loss. Best effort: the kernel caps these at its maximum.
  boost::system::error_code ignored;
  impl_->socket.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer), ignored);
  impl_->socket.set_option(asio::socket_base::send_buffer_size(kSocketBuffer), ignored);
  return true;
}

std::uint16_t UdpNode::localPort() const {
  boost::system::error_code ec;
  auto ep = impl_->socket.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

const PublicKey& UdpNode::publicKey() const {
  return impl_->endpoint.publicKey();
}
const TransportMetrics& UdpNode::metrics() const {
  return impl_->endpoint.metrics();
}

void UdpNode::injectLoss(double dropRate, double duplicateRate, std::uint64_t seed) {
  impl_->lossOn = dropRate > 0 || duplicateRate > 0;
  impl_->drop = dropRate;
  impl_->duplicate = duplicateRate;
  impl_->rng.seed(seed);
}

MessageId UdpNode::send(const Address& to, const PublicKey& peer, Bytes message) {
  MessageId id = impl_->endpoint.send(to, peer, std::move(message), Clock::now());
  // Out now: the packets carry this moment as their send time, and a caller that queues many
  // messages before running the loop would otherwise see its first window time out.
  if (impl_->socket.is_open()) impl_->sendQueued(tap_);
  return id;
}

namespace {
struct Loop {
  UdpNode::Impl& s;
  const std::function<void(const Delivery&)>& onDelivery;
  const std::function<void(const TransportEvent&)>& onEvent;
  const std::function<void(bool, const std::uint8_t*, std::size_t)>& tap;

  /// Sends what the endpoint queued and hands out deliveries and events, until a pass finds
  /// nothing: a callback that sends gets its datagrams out now, not at the next wake-up.
  void flush() {
    for (;;) {
      auto outgoing = s.endpoint.takeOutgoing();
      auto delivered = s.endpoint.takeDelivered();
      auto events = s.endpoint.takeEvents();
      if (outgoing.empty() && delivered.empty() && events.empty()) return;
      for (auto& d : outgoing) s.sendDatagram(d, tap);
      for (auto& m : delivered) {
        s.progressed = true;
        if (onDelivery) onDelivery(m);
      }
      for (auto& e : events) {
        s.progressed = true;
        if (onEvent) onEvent(e);
      }
    }
  }

  void deliver(std::size_t n) {
    if (tap) tap(false, s.buffer.data(), n);
    if (s.sender != s.lastSender || s.lastFrom.port == 0) {
      s.lastSender = s.sender;
      s.lastFrom = Address{s.sender.address().to_string(), s.sender.port()};
    }
    s.endpoint.onPacket(s.lastFrom, s.buffer.data(), n, Clock::now());
  }

  /// Takes up to kReceiveBatch - 1 more datagrams that are already waiting, without blocking.
  void drainWaiting() {
    for (int i = 1; i < kReceiveBatch; ++i) {
      socklen_t length = socklen_t(s.sender.capacity());
      auto n = ::recvfrom(s.socket.native_handle(), s.buffer.data(), s.buffer.size(), MSG_DONTWAIT,
                          s.sender.data(), &length);
      if (n < 0) return; // nothing waiting (or an error the next async receive will report)
      s.sender.resize(std::size_t(length));
      deliver(std::size_t(n));
    }
  }

  void armTimer() {
    auto next = s.endpoint.nextTimer();
    s.timer.expires_at(next ? *next : Clock::now() + std::chrono::seconds(1));
    s.timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      s.endpoint.onTimer(Clock::now());
      flush();
      if (!stopping) armTimer();
    });
  }

  /// Invariant: at most one receive is outstanding, and none once runUntil returns (two would
  /// read into the one buffer, and the second datagram would overwrite the first).
  void receive() {
    s.socket.async_receive_from(asio::buffer(s.buffer), s.sender,
                                [this](const boost::system::error_code& ec, std::size_t n) {
                                  if (ec == asio::error::operation_aborted) return;
                                  if (!ec) {
                                    deliver(n);
                                    drainWaiting();
                                    flush();
                                  }
                                  if (stopping) return; // a datagram read just before the end
                                  if (!ec) {
                                    s.timer.cancel(); // the next deadline may have moved
                                    armTimer();
                                  }
                                  receive();
                                });
  }

  bool stopping = false; ///< runUntil is finishing: handlers still run but start nothing new
};
} // namespace

bool UdpNode::runUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  Impl& s = *impl_;
  Loop loop{s, onDelivery_, onEvent_, tap_};
  auto deadline = Clock::now() + timeout;
  s.io.restart();
  loop.flush();
  loop.receive();
  loop.armTimer();
  bool ok = done && done();
  while (!ok && Clock::now() < deadline) {
    s.progressed = false;
    s.io.run_one_until(deadline);
    if (done) ok = done();
  }
  // Leave no handler pointing at `loop`: handlers already complete still run (a datagram they
  // read is processed), but start no new wait.
  loop.stopping = true;
  s.timer.cancel();
  s.socket.cancel();
  s.io.restart();
  s.io.poll();
  return ok;
}

void UdpNode::runFor(std::chrono::milliseconds timeout) {
  runUntil({}, timeout);
}

} // namespace flo::core
