/// \file
/// Boost.Asio binding of the transport core (see udp_node.h).
#include "core/udp_node.h"

#include <boost/asio.hpp>

#include <array>
#include <charconv>

namespace flo::core {

namespace asio = boost::asio;
using asio::ip::udp;

struct UdpNode::Impl {
  Impl(SigningKey identity, TransportConfig config)
      : endpoint(std::move(identity), config), socket(io), timer(io) {}

  asio::io_context io;
  Endpoint endpoint;
  udp::socket socket;
  asio::steady_timer timer;
  std::array<std::uint8_t, 65536> buffer{};
  udp::endpoint sender;
  bool lossOn = false;
  double drop = 0, duplicate = 0;
  std::mt19937_64 rng;
  bool progressed = false; // something happened since the predicate was last checked
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
  return impl_->endpoint.send(to, peer, std::move(message), Clock::now());
}

namespace {
struct Loop {
  UdpNode::Impl& s;
  const std::function<void(const Delivery&)>& onDelivery;
  const std::function<void(const TransportEvent&)>& onEvent;
  const std::function<void(bool, const std::uint8_t*, std::size_t)>& tap;

  void flush() {
    for (auto& d : s.endpoint.takeOutgoing()) {
      int copies = 1;
      if (s.lossOn) {
        std::uniform_real_distribution<double> u(0, 1);
        if (u(s.rng) < s.drop)
          copies = 0;
        else if (u(s.rng) < s.duplicate)
          copies = 2;
      }
      boost::system::error_code ec;
      auto address = asio::ip::make_address(d.to.host, ec);
      if (ec) continue;
      udp::endpoint to(address, d.to.port);
      for (int i = 0; i < copies; ++i) {
        if (tap) tap(true, d.bytes.data(), d.bytes.size());
        s.socket.send_to(asio::buffer(d.bytes), to, 0, ec); // a full buffer is loss, which is fine
      }
    }
    for (auto& m : s.endpoint.takeDelivered()) {
      s.progressed = true;
      if (onDelivery) onDelivery(m);
    }
    for (auto& e : s.endpoint.takeEvents()) {
      s.progressed = true;
      if (onEvent) onEvent(e);
    }
  }

  void armTimer() {
    auto next = s.endpoint.nextTimer();
    s.timer.expires_at(next ? *next : Clock::now() + std::chrono::seconds(1));
    s.timer.async_wait([this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted) return;
      s.endpoint.onTimer(Clock::now());
      flush();
      armTimer();
    });
  }

  void receive() {
    s.socket.async_receive_from(asio::buffer(s.buffer), s.sender,
                                [this](const boost::system::error_code& ec, std::size_t n) {
                                  if (ec == asio::error::operation_aborted) return;
                                  if (!ec) {
                                    if (tap) tap(false, s.buffer.data(), n);
                                    Address from{s.sender.address().to_string(), s.sender.port()};
                                    s.endpoint.onPacket(from, s.buffer.data(), n, Clock::now());
                                    flush();
                                    s.timer.cancel(); // the next deadline may have moved
                                    armTimer();
                                  }
                                  receive();
                                });
  }
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
  // Leave no handler pointing at `loop`.
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
