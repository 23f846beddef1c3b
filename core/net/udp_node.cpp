/// \file
/// Boost.Asio binding of the transport core (see udp_node.h). Asio only waits for the socket;
/// the datagrams move in batches, sendmmsg out and recvmmsg in, so a congestion window costs a
/// few system calls rather than one per datagram. Consecutive datagrams of one size to one
/// destination leave as one UDP GSO message (UDP_SEGMENT) and the socket takes GRO batches
/// (UDP_GRO), split again here: the loss shim, the tap and the endpoint still see each datagram.
#include "core/net/udp_node.h"

#include "core/os/system.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>

namespace flo::core {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {
constexpr int kSocketBuffer = 4 << 20;      ///< requested SO_RCVBUF and SO_SNDBUF, bytes
constexpr std::size_t kSendBatch = 64;      ///< messages per sendmmsg
constexpr std::size_t kReceiveBatch = 32;   ///< messages per recvmmsg, one call per wake-up
constexpr std::size_t kMaxSegments = 64;    ///< datagrams per GSO message (UDP_MAX_SEGMENTS)
constexpr std::size_t kMaxGsoBytes = 65000; ///< payload per GSO message (IPv4 allows 65,507)
constexpr std::size_t kSlot = 65536;    ///< receive space per message: any datagram or GRO batch
constexpr std::size_t kFlushEvery = 64; ///< datagrams taken in before the replies go out
constexpr std::chrono::milliseconds kSendWait{1000}; ///< a full send buffer, then loss
/// Datagram size on loopback (docs/benchmarks.md: how it was chosen).
constexpr std::size_t kLoopbackPacket = 16384;

/// Room for one UDP_SEGMENT or UDP_GRO control message.
struct alignas(cmsghdr) Control {
  std::array<char, CMSG_SPACE(sizeof(int))> bytes;
};

/// The segment size in a UDP_GRO control message; 0 when there is none (a single datagram).
std::size_t groSegment(msghdr& h) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
    if (c->cmsg_level != SOL_UDP || c->cmsg_type != UDP_GRO) continue;
    int size = 0;
    std::memcpy(&size, CMSG_DATA(c), sizeof size);
    return size > 0 ? std::size_t(size) : 0;
  }
  return 0;
}

bool setUdpOption(int fd, int option, int value) {
  return ::setsockopt(fd, SOL_UDP, option, &value, sizeof value) == 0;
}

/// Whether a peer's address is this host's loopback (127.0.0.0/8, ::1), where the MTU is 64 KiB
/// and nothing fragments.
bool isLoopback(const Address& a) {
  return a.host.rfind("127.", 0) == 0 || a.host == "::1";
}

/// The config with the path size known here: loopback takes the largest datagrams
/// (FLO_LOOPBACK_PACKET overrides it, for measurements), any other path the config's.
TransportConfig withPaths(TransportConfig config) {
  if (config.pathPacket) return config;
  std::size_t loopback = kLoopbackPacket;
  if (const char* env = std::getenv("FLO_LOOPBACK_PACKET"))
    loopback = std::strtoul(env, nullptr, 10);
  config.pathPacket = [loopback](const Address& a) -> std::size_t {
    return isLoopback(a) ? loopback : 0;
  };
  return config;
}
} // namespace

struct UdpNode::Impl {
  Impl(SigningKey identity, std::vector<KeyEvent> log, TransportConfig config)
      : endpoint(log.empty() ? Endpoint(std::move(identity), withPaths(config), systemRandom())
                             : Endpoint(std::move(identity), std::move(log), withPaths(config),
                                        systemRandom())),
        socket(io), timer(io), deadline(io),
        inBuffers(std::make_unique_for_overwrite<std::uint8_t[]>(kReceiveBatch * kSlot)) {
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
      inIov[i] = {inBuffers.get() + i * kSlot, kSlot};
      msghdr& h = in[i].msg_hdr;
      h.msg_name = inFrom[i].data();
      h.msg_iov = &inIov[i];
      h.msg_iovlen = 1;
      h.msg_control = &inControl[i];
    }
  }

  asio::io_context io;
  Endpoint endpoint;
  udp::socket socket;
  asio::steady_timer timer;
  asio::steady_timer deadline; // wakes runUntil at its deadline (epoll_wait counts whole ms)
  bool gso = false;            // the kernel segments a message into datagrams (UDP_SEGMENT)
  // The last peer seen each way, so a burst to or from one peer parses no address text.
  udp::endpoint lastSender;
  Address lastFrom;
  Address lastTo;
  std::optional<udp::endpoint> lastToEndpoint;
  std::uint64_t toGeneration = 0; // bumped whenever lastToEndpoint changes
  bool lossOn = false;
  double drop = 0, duplicate = 0;
  std::mt19937_64 rng;
  bool progressed = false; // something happened since the predicate was last checked

  // Datagrams queued for the next sendmmsg, pointing into the caller's Datagrams. Message i
  // holds msg_iovlen datagrams of outSegment[i] bytes (a shorter one may end it) for outTo[i].
  std::array<mmsghdr, kSendBatch> out{};
  std::array<udp::endpoint, kSendBatch> outTo;
  std::array<std::size_t, kSendBatch> outSegment{};
  std::array<Control, kSendBatch> outControl{};
  std::array<iovec, kSendBatch * kMaxSegments> outIov{};
  std::size_t outCount = 0, outIovUsed = 0;
  bool lastOpen = false;            // the last message may take another datagram
  std::uint64_t lastGeneration = 0; // toGeneration of the last message's destination

  // recvmmsg's messages, each with a slot of inBuffers (allocated once, left uninitialised).
  std::unique_ptr<std::uint8_t[]> inBuffers;
  std::array<mmsghdr, kReceiveBatch> in{};
  std::array<iovec, kReceiveBatch> inIov{};
  std::array<udp::endpoint, kReceiveBatch> inFrom;
  std::array<Control, kReceiveBatch> inControl{};

  using Tap = std::function<void(bool, const std::uint8_t*, std::size_t)>;
  /// Through the loss shim into the batch; transmit() puts the batch on the wire.
  void queueDatagram(const Datagram& d, const Tap& tap) {
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
      ++toGeneration;
    }
    for (int i = 0; i < copies; ++i) {
      if (tap) tap(true, d.bytes.data(), d.bytes.size());
      queueBytes(d.bytes.data(), d.bytes.size());
    }
  }

  /// Appends to the last message when GSO can carry it there (same destination, no larger than
  /// its segments, room left), else starts a message.
  void queueBytes(const std::uint8_t* data, std::size_t size) {
    iovec piece{const_cast<std::uint8_t*>(data), size};
    if (outCount > 0 && lastOpen && lastGeneration == toGeneration) {
      msghdr& h = out[outCount - 1].msg_hdr;
      std::size_t segment = outSegment[outCount - 1];
      if (size <= segment && h.msg_iovlen < kMaxSegments &&
          (h.msg_iovlen + 1) * segment <= kMaxGsoBytes) {
        outIov[outIovUsed++] = piece;
        ++h.msg_iovlen;
        lastOpen = size == segment; // only the last segment may be shorter
        return;
      }
    }
    if (outCount == kSendBatch) transmit();
    outTo[outCount] = *lastToEndpoint;
    msghdr& h = out[outCount].msg_hdr;
    h = {};
    h.msg_name = outTo[outCount].data();
    h.msg_namelen = socklen_t(outTo[outCount].size());
    h.msg_iov = &outIov[outIovUsed];
    h.msg_iovlen = 1;
    outIov[outIovUsed++] = piece;
    outSegment[outCount] = size;
    lastOpen = gso;
    lastGeneration = toGeneration;
    ++outCount;
  }

  /// Sends the batch. A datagram the kernel refuses is loss (the transport retransmits); a full
  /// send buffer is waited for, at most kSendWait for the batch, and then the rest is loss.
  void transmit() {
    for (std::size_t i = 0; i < outCount; ++i) {
      msghdr& h = out[i].msg_hdr;
      if (h.msg_iovlen < 2) continue;
      h.msg_control = &outControl[i];
      h.msg_controllen = CMSG_SPACE(sizeof(std::uint16_t));
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      auto segment = std::uint16_t(outSegment[i]);
      std::memcpy(CMSG_DATA(c), &segment, sizeof segment);
    }
    int fd = socket.native_handle();
    std::optional<Clock::time_point> giveUp;
    for (std::size_t sent = 0; sent < outCount;) {
      int n = ::sendmmsg(fd, &out[sent], unsigned(outCount - sent), 0);
      if (n > 0) {
        sent += std::size_t(n);
        continue;
      }
      int error = errno;
      if (error == EINTR) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        if (!giveUp) giveUp = Clock::now() + kSendWait;
        if (waitWritable(fd, *giveUp)) continue;
        break;
      }
      msghdr& h = out[sent++].msg_hdr;
      if (h.msg_iovlen > 1 && error != ENOBUFS) {
        // The path cannot segment (no checksum offload, segment over the MTU): stop using GSO
        // and send this message's datagrams one by one.
        gso = false;
        sendEach(fd, h);
      }
    }
    outCount = 0;
    outIovUsed = 0;
    lastOpen = false;
  }

  static bool waitWritable(int fd, Clock::time_point giveUp) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(giveUp - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, int(left.count()));
    return n > 0 || (n < 0 && errno == EINTR);
  }

  static void sendEach(int fd, const msghdr& h) {
    for (std::size_t i = 0; i < h.msg_iovlen; ++i) {
      msghdr one = h;
      one.msg_iov = &h.msg_iov[i];
      one.msg_iovlen = 1;
      one.msg_control = nullptr;
      one.msg_controllen = 0;
      ::sendmsg(fd, &one, 0); // an error is loss
    }
  }

  void sendAll(const std::vector<Datagram>& datagrams, const Tap& tap) {
    for (auto& d : datagrams) queueDatagram(d, tap);
    transmit();
  }

  void sendQueued(const Tap& tap) { sendAll(endpoint.takeOutgoing(), tap); }

  /// Reads what is already waiting, without blocking: one recvmmsg. Returns how many messages
  /// came (0 also on an error, which the next wait reports again).
  std::size_t receiveWaiting() {
    for (std::size_t i = 0; i < kReceiveBatch; ++i) {
      in[i].msg_hdr.msg_namelen = socklen_t(inFrom[i].capacity());
      in[i].msg_hdr.msg_controllen = sizeof(Control);
    }
    int n = ::recvmmsg(socket.native_handle(), in.data(), unsigned(kReceiveBatch), MSG_DONTWAIT,
                       nullptr);
    return n > 0 ? std::size_t(n) : 0;
  }

  /// Hands the datagrams of received message i (a GRO batch split again) to the tap and the
  /// endpoint. Returns how many there were.
  std::size_t deliverReceived(std::size_t i, const Tap& tap) {
    msghdr& h = in[i].msg_hdr;
    inFrom[i].resize(h.msg_namelen);
    if (inFrom[i] != lastSender || lastFrom.port == 0) {
      lastSender = inFrom[i];
      lastFrom = Address{lastSender.address().to_string(), lastSender.port()};
    }
    std::size_t size = in[i].msg_len, segment = groSegment(h);
    if (segment == 0) segment = size;
    const std::uint8_t* data = inBuffers.get() + i * kSlot;
    auto now = Clock::now();
    std::size_t count = 0;
    for (std::size_t offset = 0; offset < size; offset += segment, ++count) {
      std::size_t length = std::min(segment, size - offset);
      if (tap) tap(false, data + offset, length);
      endpoint.onPacket(lastFrom, data + offset, length, now);
    }
    return count;
  }
};

UdpNode::UdpNode(SigningKey identity, TransportConfig config)
    : impl_(std::make_unique<Impl>(std::move(identity), std::vector<KeyEvent>{}, config)) {}
UdpNode::UdpNode(SigningKey identity, std::vector<KeyEvent> log, TransportConfig config)
    : impl_(std::make_unique<Impl>(std::move(identity), std::move(log), config)) {}
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
  // Segmentation offload where the kernel has it (Linux 4.18 / 5.0): off for the socket, asked
  // for per message; GRO batches are split in receiveWaiting.
  int fd = impl_->socket.native_handle();
  impl_->gso = setUdpOption(fd, UDP_SEGMENT, 0);
  setUdpOption(fd, UDP_GRO, 1);
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
const std::string& UdpNode::did() const {
  return impl_->endpoint.did();
}
KeyDirectory& UdpNode::directory() {
  return impl_->endpoint.directory();
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
  if (impl_->socket.is_open()) impl_->sendQueued(tap_);
  return id;
}

void UdpNode::cork() {
  impl_->endpoint.hold();
}

void UdpNode::uncork() {
  impl_->endpoint.release(Clock::now());
  if (impl_->socket.is_open()) impl_->sendQueued(tap_);
}

void UdpNode::close() {
  impl_->endpoint.close(Clock::now());
  if (impl_->socket.is_open()) impl_->sendQueued(tap_);
}

MessageId UdpNode::send(const Address& to, std::string_view did, Bytes message) {
  MessageId id = impl_->endpoint.send(to, did, std::move(message), Clock::now());
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
      s.sendAll(outgoing, tap);
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

  /// Invariant: at most one wait is outstanding, and none once runUntil returns. A wait that
  /// completes as runUntil finishes reads nothing: the datagrams stay queued in the socket.
  void receive() {
    s.socket.async_wait(udp::socket::wait_read, [this](const boost::system::error_code& ec) {
      if (ec == asio::error::operation_aborted || stopping) return;
      if (!ec) readWaiting();
      receive();
    });
  }

  /// Takes in what the socket holds, flushing every kFlushEvery datagrams on the way: the ACKs
  /// (and the new data they release) go out while the rest of the batch is still being read,
  /// so the peer is not left idle behind a full window.
  void readWaiting() {
    std::size_t messages = s.receiveWaiting();
    if (messages == 0) return;
    std::size_t sinceFlush = 0;
    for (std::size_t i = 0; i < messages; ++i) {
      sinceFlush += s.deliverReceived(i, tap);
      if (sinceFlush >= kFlushEvery || i + 1 == messages) {
        flush();
        sinceFlush = 0;
      }
    }
    s.timer.cancel(); // the next deadline may have moved
    armTimer();
  }

  bool stopping = false; ///< runUntil is finishing: handlers still run but start nothing new
};
} // namespace

bool UdpNode::runUntil(const std::function<bool()>& done, Clock::duration timeout) {
  Impl& s = *impl_;
  Loop loop{s, onDelivery_, onEvent_, tap_};
  auto deadline = Clock::now() + timeout;
  s.io.restart();
  loop.flush();
  loop.receive();
  loop.armTimer();
  s.deadline.expires_at(deadline);
  s.deadline.async_wait([](const boost::system::error_code&) {});
  bool ok = done && done();
  while (!ok && Clock::now() < deadline) {
    s.progressed = false;
    s.io.run_one_until(deadline);
    if (done) ok = done();
  }
  // Leave no handler pointing at `loop`: handlers already complete still run (a timer that
  // fired does its work), but start no new wait and read nothing more.
  loop.stopping = true;
  s.timer.cancel();
  s.deadline.cancel();
  s.socket.cancel();
  s.io.restart();
  s.io.poll();
  return ok;
}

void UdpNode::runFor(Clock::duration timeout) {
  runUntil({}, timeout);
}

} // namespace flo::core
