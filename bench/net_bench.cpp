/// \file
/// The transport benchmark's phases (see net_bench.h): node pairs on loopback, the TCP
/// baselines, and the tables they print.
#include "bench/net_bench.h"

#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/system.h"

#include <boost/asio.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace flo::bench {

namespace {

using namespace flo::core;
namespace asio = boost::asio;
using asio::ip::tcp;
using BenchClock = std::chrono::steady_clock;

constexpr std::size_t kSmall = 256, kLarge = 1u << 20;

double secondsSince(BenchClock::time_point start) {
  return std::chrono::duration<double>(BenchClock::now() - start).count();
}

struct Throughput {
  bool ok = false;
  double seconds = 0;
  std::size_t messages = 0, bytes = 0;
  TransportMetrics sender{}; ///< UDP only
  double queueSeconds = 0;   ///< UDP only: the send() calls before the loop runs
  double messagesPerSecond() const { return seconds > 0 ? double(messages) / seconds : 0; }
  double megabytesPerSecond() const { return seconds > 0 ? double(bytes) / 1e6 / seconds : 0; }
};

TransportConfig benchConfig(bool pacing) {
  TransportConfig c;
  c.pacing = pacing;
  return c;
}

/// A did:difuon identity whose log has `rotations` rotations; its current key signs.
struct LongLived {
  explicit LongLived(std::size_t rotations) {
    std::vector<SigningKey> keys;
    for (std::size_t i = 0; i < rotations + 2; ++i) keys.push_back(generateSigningKey());
    log.push_back(makeInception(keys[0], keys[1].publicKey()));
    for (std::size_t i = 1; i <= rotations; ++i)
      log.push_back(makeRotation(log.back(), keys[i], keys[i + 1].publicKey()));
    current = keys[rotations];
  }
  std::optional<SigningKey> current;
  std::vector<KeyEvent> log;
};

/// A client and a server node on 127.0.0.1; the server runs on its own thread until destroyed.
class NodePair {
public:
  /// `loss` > 0 drops that share of each node's outgoing datagrams (seeded by `seed`).
  NodePair(bool pacing, double loss, std::uint64_t seed)
      : NodePair(std::make_unique<UdpNode>(generateSigningKey(), benchConfig(pacing)),
                 std::make_unique<UdpNode>(generateSigningKey(), benchConfig(pacing)), loss, seed) {
  }
  /// did:difuon nodes; with `held`, each already holds the other's log.
  NodePair(bool pacing, const LongLived& server, const LongLived& client, bool held)
      : NodePair(std::make_unique<UdpNode>(*server.current, server.log, benchConfig(pacing)),
                 std::make_unique<UdpNode>(*client.current, client.log, benchConfig(pacing)), 0,
                 1) {
    if (held) {
      client_.directory().learn(server.log);
      server_.directory().learn(client.log);
    }
  }

  NodePair(std::unique_ptr<UdpNode> server, std::unique_ptr<UdpNode> client, double loss,
           std::uint64_t seed)
      : serverNode_(std::move(server)), clientNode_(std::move(client)), server_(*serverNode_),
        client_(*clientNode_) {
    if (loss > 0) {
      server_.injectLoss(loss, 0, seed);
      client_.injectLoss(loss, 0, seed + 1);
    }
    if (!server_.bind("127.0.0.1", 0, error_) || !client_.bind("127.0.0.1", 0, error_)) return;
    server_.onDelivery([this](const Delivery& d) {
      delivered_.fetch_add(1, std::memory_order_relaxed);
      deliveredBytes_.fetch_add(d.message.size(), std::memory_order_relaxed);
    });
    to_ = {"127.0.0.1", server_.localPort()};
    serverDid_ = server_.did();
    client_.onEvent([this](const TransportEvent& e) {
      if (e.kind == TransportEvent::Kind::Acknowledged) ++acked_;
      if (e.kind == TransportEvent::Kind::Failed) ++failed_;
    });
    serverLoop_ = std::thread([this] {
      while (!stop_) server_.runFor(std::chrono::milliseconds(10));
    });
  }
  ~NodePair() {
    stop_ = true;
    if (serverLoop_.joinable()) serverLoop_.join();
  }
  NodePair(const NodePair&) = delete;
  NodePair& operator=(const NodePair&) = delete;

  /// Both nodes are bound and the server runs; else error() says why.
  bool ok() const { return serverLoop_.joinable(); }
  const std::string& error() const { return error_; }

  void send(Bytes message) { client_.send(to_, serverDid_, std::move(message)); }
  /// Drives the client until `count` more messages are acknowledged (or any fails, or the cap).
  bool awaitAcks(std::size_t count, double capSeconds) {
    std::size_t target = acked_ + count;
    return client_.runUntil([&] { return acked_ >= target || failed_ > 0; },
                            std::chrono::milliseconds(std::int64_t(capSeconds * 1000))) &&
           failed_ == 0;
  }
  std::size_t deliveredBytes() const { return deliveredBytes_; }
  const TransportMetrics& clientMetrics() const { return client_.metrics(); }

private:
  std::unique_ptr<UdpNode> serverNode_, clientNode_;
  UdpNode &server_, &client_;
  std::string error_;
  Address to_;
  std::string serverDid_; // read before the server thread starts
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> delivered_{0}, deliveredBytes_{0};
  std::size_t acked_ = 0, failed_ = 0; // client thread only
  std::thread serverLoop_;
};

/// For each of `pairs` fresh node pairs (made before timing): time from send() of a 1-byte
/// message to its acknowledgement (the handshake and one round trip), then again on the
/// established session (one round trip).
template <typename MakePair>
void handshakes(std::size_t pairs, double cap, MakePair makePair, std::vector<double>& firstMs,
                std::vector<double>& establishedMs) {
  auto deadline = BenchClock::now() + std::chrono::milliseconds(std::int64_t(cap * 1000));
  for (std::size_t i = 0; i < pairs && BenchClock::now() < deadline; ++i) {
    auto pair = makePair();
    if (!pair->ok()) break;
    auto start = BenchClock::now();
    pair->send(Bytes(1, 1));
    if (!pair->awaitAcks(1, 5)) break;
    firstMs.push_back(secondsSince(start) * 1e3);
    start = BenchClock::now();
    pair->send(Bytes(1, 2));
    if (!pair->awaitAcks(1, 5)) break;
    establishedMs.push_back(secondsSince(start) * 1e3);
  }
}

Throughput udpThroughput(bool pacing, std::size_t count, std::size_t size, double cap,
                         double loss = 0, std::uint64_t seed = 1) {
  NodePair pair(pacing, loss, seed);
  if (!pair.ok()) return {};
  pair.send(Bytes(1, 0)); // the handshake is not part of the figure
  if (!pair.awaitAcks(1, cap)) return {};
  // The ACK leaves the server before its delivery callback runs: wait for the counter.
  for (int i = 0; i < 100 && pair.deliveredBytes() < 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::size_t before = pair.deliveredBytes();
  // The messages exist before the clock starts and are moved in (send() takes ownership), as
  // the TCP baseline writes from buffers it already has.
  std::vector<Bytes> messages(count, Bytes(size, 0x5a));
  auto start = BenchClock::now();
  for (auto& m : messages) pair.send(std::move(m));
  Throughput t;
  t.queueSeconds = secondsSince(start);
  t.ok = pair.awaitAcks(count, cap);
  t.seconds = secondsSince(start);
  t.messages = count;
  t.bytes = count * size;
  t.sender = pair.clientMetrics();
  // Every acknowledged message was delivered first; wait briefly for the counter on that thread.
  for (int i = 0; i < 100 && pair.deliveredBytes() - before < t.bytes; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (pair.deliveredBytes() - before != t.bytes) t.ok = false;
  return t;
}

/// Plain TCP: the client writes `count` framed messages, the server reads them all and answers
/// with one byte; timed from the first write to that byte.
Throughput tcpThroughput(std::size_t count, std::size_t size) {
  asio::io_context io;
  boost::system::error_code ec;
  tcp::acceptor acceptor(io);
  tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  if (acceptor.open(local.protocol(), ec), ec) return {};
  if (acceptor.bind(local, ec), ec) return {};
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec), ec) return {};
  std::atomic<bool> serverOk{false};
  std::thread server([&] {
    boost::system::error_code ec;
    tcp::socket peer(io);
    acceptor.accept(peer, ec);
    if (ec) return;
    std::vector<std::uint8_t> buffer(size);
    for (std::size_t i = 0; i < count; ++i) {
      std::array<std::uint8_t, 4> header{};
      asio::read(peer, asio::buffer(header), ec);
      if (ec) return;
      std::uint32_t length = std::uint32_t(header[0]) << 24 | std::uint32_t(header[1]) << 16 |
                             std::uint32_t(header[2]) << 8 | header[3];
      if (length != size) return;
      asio::read(peer, asio::buffer(buffer), ec);
      if (ec) return;
    }
    std::uint8_t ack = 1;
    asio::write(peer, asio::buffer(&ack, 1), ec);
    serverOk = !ec;
  });
  Throughput t;
  tcp::socket socket(io);
  socket.connect(acceptor.local_endpoint(), ec);
  if (!ec) {
    Bytes message(size, 0x5a);
    std::array<std::uint8_t, 4> header{std::uint8_t(size >> 24), std::uint8_t(size >> 16),
                                       std::uint8_t(size >> 8), std::uint8_t(size)};
    std::array<asio::const_buffer, 2> frame{asio::buffer(header), asio::buffer(message)};
    auto start = BenchClock::now();
    for (std::size_t i = 0; i < count && !ec; ++i) asio::write(socket, frame, ec);
    std::uint8_t ack = 0;
    if (!ec) asio::read(socket, asio::buffer(&ack, 1), ec);
    t.seconds = secondsSince(start);
    t.ok = !ec && ack == 1;
  } else {
    acceptor.close(ec); // unblocks the server's accept
  }
  if (ec) socket.close(); // unblocks a server waiting for more
  server.join();
  t.ok = t.ok && serverOk;
  t.messages = count;
  t.bytes = count * size;
  return t;
}

/// TCP's counterpart of (c): connect plus one framed 1-byte message and its 1-byte
/// acknowledgement, in ms; nullopt when a socket fails.
std::optional<double> tcpConnectMs() {
  asio::io_context io;
  boost::system::error_code ec;
  tcp::acceptor acceptor(io);
  tcp::endpoint local(asio::ip::make_address("127.0.0.1"), 0);
  if (acceptor.open(local.protocol(), ec), ec) return std::nullopt;
  if (acceptor.bind(local, ec), ec) return std::nullopt;
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec), ec) return std::nullopt;
  std::thread server([&] {
    boost::system::error_code ec;
    tcp::socket peer(io);
    acceptor.accept(peer, ec);
    std::array<std::uint8_t, 5> frame{};
    if (!ec) asio::read(peer, asio::buffer(frame), ec);
    std::uint8_t ack = 1;
    if (!ec) asio::write(peer, asio::buffer(&ack, 1), ec);
  });
  auto start = BenchClock::now();
  tcp::socket socket(io);
  socket.connect(acceptor.local_endpoint(), ec);
  std::array<std::uint8_t, 5> frame{0, 0, 0, 1, 1};
  if (!ec) asio::write(socket, asio::buffer(frame), ec);
  std::uint8_t ack = 0;
  if (!ec) asio::read(socket, asio::buffer(&ack, 1), ec);
  double ms = secondsSince(start) * 1e3;
  boost::system::error_code ignored;
  socket.close(ignored);
  if (ec) acceptor.close(ignored); // unblocks an accept that never came
  server.join();
  if (ec) return std::nullopt;
  return ms;
}

template <typename Run> Throughput bestOf(int runs, Run run) {
  Throughput best;
  for (int i = 0; i < runs; ++i) {
    Throughput t = run();
    if (!t.ok) return t;
    if (!best.ok || t.seconds < best.seconds) best = t;
  }
  return best;
}

double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = std::min(v.size() - 1, std::size_t(q * double(v.size() - 1) + 0.5));
  return v[i];
}

double ratio(double a, double b) {
  return b > 0 ? a / b : 0;
}

ThroughputFigures figures(const Throughput& udp, const Throughput* tcp) {
  ThroughputFigures f;
  f.ran = true;
  f.ok = udp.ok && (!tcp || tcp->ok);
  f.messages = udp.messages;
  f.udpSeconds = udp.seconds;
  f.udpMessagesPerSecond = udp.messagesPerSecond();
  f.udpMegabytesPerSecond = udp.megabytesPerSecond();
  if (tcp) {
    f.tcpSeconds = tcp->seconds;
    f.tcpMessagesPerSecond = tcp->messagesPerSecond();
    f.tcpMegabytesPerSecond = tcp->megabytesPerSecond();
  }
  f.sender = udp.sender;
  return f;
}

/// Prints one throughput phase; false when it failed.
bool report(std::ostream& out, const std::string& what, const Throughput& udp,
            const Throughput* tcpOrNull, bool rate, double cap) {
  Throughput none;
  none.ok = true;
  const Throughput& tcp = tcpOrNull ? *tcpOrNull : none;
  if (!udp.ok || !tcp.ok) {
    out << fmt::format("{}: FAILED (udp {}, tcp {}; capped at {:.0f} s)\n", what,
                       udp.ok ? "ok" : "failed", tcp.ok ? "ok" : "failed", cap);
    return false;
  }
  out << what << "\n";
  if (!tcpOrNull)
    out << fmt::format("  udp transport {:8.1f} MB/s  ({:.3f} s)\n", udp.megabytesPerSecond(),
                       udp.seconds);
  else if (rate)
    out << fmt::format("  udp transport {:10.0f} msg/s {:8.1f} MB/s  ({:.3f} s)\n"
                       "  tcp           {:10.0f} msg/s {:8.1f} MB/s  ({:.3f} s)\n"
                       "  ratio udp/tcp {:10.3f}\n",
                       udp.messagesPerSecond(), udp.megabytesPerSecond(), udp.seconds,
                       tcp.messagesPerSecond(), tcp.megabytesPerSecond(), tcp.seconds,
                       ratio(udp.messagesPerSecond(), tcp.messagesPerSecond()));
  else
    out << fmt::format("  udp transport {:8.1f} MB/s  ({:.3f} s)\n"
                       "  tcp           {:8.1f} MB/s  ({:.3f} s)\n"
                       "  ratio udp/tcp {:8.3f}\n",
                       udp.megabytesPerSecond(), udp.seconds, tcp.megabytesPerSecond(), tcp.seconds,
                       ratio(udp.megabytesPerSecond(), tcp.megabytesPerSecond()));
  const TransportMetrics& m = udp.sender;
  out << fmt::format("  udp sender: send() of all messages took {:.3f} s\n", udp.queueSeconds);
  out << fmt::format("  udp sender: {} datagrams out, {} in, {} retransmissions, {} RTOs, "
                     "{} congestion events\n",
                     m.packetsOut, m.packetsIn, m.retransmissions, m.rtoExpirations,
                     m.congestionEvents);
  out << fmt::format("  udp sender: {} packets found lost from ACKs, {} tail loss probes\n",
                     m.packetsLost, m.tailProbes);
  return true;
}

LatencyFigures latency(const std::vector<double>& firstMs,
                       const std::vector<double>& establishedMs) {
  LatencyFigures f;
  f.ran = true;
  f.samples = firstMs.size();
  f.firstP50 = percentile(firstMs, 0.5);
  f.firstP99 = percentile(firstMs, 0.99);
  f.establishedP50 = percentile(establishedMs, 0.5);
  f.establishedP99 = percentile(establishedMs, 0.99);
  return f;
}

} // namespace

std::string validate(const NetBenchOptions& o) {
  if (o.small < 1 || o.large < 1 || o.pairs < 1 || o.lossy < 1 || o.runs < 1)
    return "message, pair and run counts must be at least 1";
  if (!(o.seconds > 0)) return "the cap must be a positive number of seconds";
  if (!(o.loss >= 0 && o.loss < 1)) return "the loss must be in [0, 1)";
  if (o.phases.empty() || o.phases.find_first_not_of("abcde") != std::string::npos)
    return "phases are letters among abcde";
  return {};
}

NetBenchResult runNetBench(const NetBenchOptions& o, std::ostream& out) {
  NetBenchResult r;
  r.runs = o.runs;
  r.loss = o.loss;
  r.rotations = o.rotations;
  auto phase = [&](char c) { return o.phases.find(c) != std::string::npos; };
  const double cap = o.seconds;

  out << fmt::format("best of {} run(s); payload MB = 10^6 bytes\n", o.runs) << std::flush;
  if (phase('a')) {
    auto udp = bestOf(o.runs, [&] { return udpThroughput(o.pacing, o.small, kSmall, cap); });
    auto tcp = bestOf(o.runs, [&] { return tcpThroughput(o.small, kSmall); });
    r.small = figures(udp, &tcp);
    r.small.messageSize = kSmall;
    std::string what = fmt::format("(a) {} x 256-byte messages", o.small);
    if (!report(out, what, udp, &tcp, true, cap)) r.ok = false;
    out << std::flush;
  }
  if (phase('b')) {
    auto udp = bestOf(o.runs, [&] { return udpThroughput(o.pacing, o.large, kLarge, cap); });
    auto tcp = bestOf(o.runs, [&] { return tcpThroughput(o.large, kLarge); });
    r.large = figures(udp, &tcp);
    r.large.messageSize = kLarge;
    std::string what = fmt::format("(b) {} x 1 MiB messages", o.large);
    if (!report(out, what, udp, &tcp, false, cap)) r.ok = false;
    out << std::flush;
  }

  if (phase('c')) {
    // (c) Handshake: a fresh pair each time; keys are generated and sockets bound before timing.
    std::vector<double> firstMs, establishedMs, tcpMs;
    handshakes(
        o.pairs, cap, [&] { return std::make_unique<NodePair>(o.pacing, 0, 1); }, firstMs,
        establishedMs);
    for (std::size_t i = 0; i < o.pairs; ++i) {
      auto ms = tcpConnectMs();
      if (!ms) break;
      tcpMs.push_back(*ms);
    }
    r.didKey = latency(firstMs, establishedMs);
    r.tcpConnectP50 = percentile(tcpMs, 0.5);
    r.tcpConnectP99 = percentile(tcpMs, 0.99);
    out << fmt::format(
        "(c) handshake over {} fresh node pairs (send of 1 byte -> acknowledgement)\n",
        firstMs.size());
    if (firstMs.size() < o.pairs || tcpMs.size() < o.pairs) r.ok = false;
    out << fmt::format("  udp first message (handshake + 1 RTT)  median {:7.3f} ms  p99 {:7.3f} "
                       "ms\n",
                       r.didKey.firstP50, r.didKey.firstP99);
    out << fmt::format("  udp established session (1 RTT)        median {:7.3f} ms  p99 {:7.3f} "
                       "ms\n",
                       r.didKey.establishedP50, r.didKey.establishedP99);
    out << fmt::format("  handshake alone (difference of medians) {:7.3f} ms\n",
                       r.didKey.firstP50 - r.didKey.establishedP50);
    out << fmt::format("  tcp connect + 1 message + ack            median {:7.3f} ms  p99 "
                       "{:7.3f} ms\n",
                       r.tcpConnectP50, r.tcpConnectP99);
    out << fmt::format("  ratio udp/tcp (first message, median)  {:7.2f}\n",
                       ratio(r.didKey.firstP50, r.tcpConnectP50));
    out << std::flush;
  }
  if (phase('e')) {
    // (e) did:difuon pairs: the logs are made before timing; first contact, then logs held.
    for (bool held : {false, true}) {
      std::vector<double> firstMs, establishedMs;
      handshakes(
          o.pairs, cap,
          [&] {
            return std::make_unique<NodePair>(o.pacing, LongLived(o.rotations),
                                              LongLived(o.rotations), held);
          },
          firstMs, establishedMs);
      if (firstMs.size() < o.pairs) r.ok = false;
      (held ? r.logsHeld : r.firstContact) = latency(firstMs, establishedMs);
      out << fmt::format(
          "(e) did:difuon, logs of {} rotation(s), {}, {} fresh pairs\n", o.rotations,
          held ? "logs already held" : "first contact (each proves its key with its log)",
          firstMs.size());
      out << fmt::format(
          "  udp first message (handshake + proof + 1 RTT)  median {:7.3f} ms  p99 {:7.3f} ms\n",
          percentile(firstMs, 0.5), percentile(firstMs, 0.99));
      out << fmt::format("  udp established session (1 RTT)        median {:7.3f} ms  p99 "
                         "{:7.3f} ms\n",
                         percentile(establishedMs, 0.5), percentile(establishedMs, 0.99));
      out << std::flush;
    }
  }
  if (phase('d')) {
    std::uint64_t run = 0;
    auto udp = bestOf(o.runs, [&] {
      std::uint64_t s = o.seed + 2 * run++;
      return udpThroughput(o.pacing, o.lossy, kLarge, cap, o.loss, s);
    });
    r.lossy = figures(udp, nullptr);
    r.lossy.messageSize = kLarge;
    std::string what = fmt::format("(d) {} x 1 MiB messages, {:.0f}% of datagrams dropped each way",
                                   o.lossy, o.loss * 100);
    if (!report(out, what, udp, nullptr, false, cap)) r.ok = false;
    out << std::flush;
  }
  return r;
}

nlohmann::ordered_json toJson(const NetBenchResult& r) {
  nlohmann::ordered_json j = {{"ok", r.ok}, {"runs", r.runs}};
  if (r.small.ran) {
    j["small_messages"] = r.small.messages;
    j["small_msg_per_s"] = r.small.udpMessagesPerSecond;
    j["small_mb_per_s"] = r.small.udpMegabytesPerSecond;
    j["tcp_small_msg_per_s"] = r.small.tcpMessagesPerSecond;
    j["small_ratio_vs_tcp"] = ratio(r.small.udpMessagesPerSecond, r.small.tcpMessagesPerSecond);
  }
  if (r.large.ran) {
    j["large_messages"] = r.large.messages;
    j["large_mb_per_s"] = r.large.udpMegabytesPerSecond;
    j["tcp_large_mb_per_s"] = r.large.tcpMegabytesPerSecond;
    j["large_ratio_vs_tcp"] = ratio(r.large.udpMegabytesPerSecond, r.large.tcpMegabytesPerSecond);
  }
  if (r.didKey.ran) {
    j["handshake_pairs"] = r.didKey.samples;
    j["handshake_ms_p50"] = r.didKey.firstP50;
    j["handshake_ms_p99"] = r.didKey.firstP99;
    j["established_ms_p50"] = r.didKey.establishedP50;
    j["tcp_connect_ms_p50"] = r.tcpConnectP50;
  }
  if (r.firstContact.ran) {
    j["rotations"] = r.rotations;
    j["first_contact_pairs"] = r.firstContact.samples;
    j["first_contact_ms_p50"] = r.firstContact.firstP50;
    j["first_contact_ms_p99"] = r.firstContact.firstP99;
  }
  if (r.logsHeld.ran) j["logs_held_ms_p50"] = r.logsHeld.firstP50;
  if (r.lossy.ran) {
    j["lossy_messages"] = r.lossy.messages;
    j["lossy_loss"] = r.loss;
    j["lossy_mb_per_s"] = r.lossy.udpMegabytesPerSecond;
    j["lossy_retransmissions"] = r.lossy.sender.retransmissions;
  }
  return j;
}

} // namespace flo::bench
