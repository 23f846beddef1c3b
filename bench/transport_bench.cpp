// Transport benchmark on loopback: the encrypted UDP transport (two UdpNodes, each on its own
// thread) against plain TCP (Boost.Asio blocking sockets, 4-byte length framing, one
// application-level acknowledgement at the end) measured in the same run.
// Usage: flo_transport_bench [--small N] [--large M] [--pairs P] [--runs R] [--seconds S]
//                            [--loss X] [--lossy L] [--seed Z] [--rotations R] [--only abcde]
//                            [--no-pacing] (first)
//   (a) N 256-byte messages: messages/s and MB/s from the first send to the last acknowledgement
//   (b) M 1 MiB messages: MB/s, the same way
//   (c) P fresh node pairs: time from send() of a 1-byte message to its acknowledgement (handshake
//       + one round trip), then the same on the established session (one round trip); median, p99
//   (d) L 1 MiB messages with a share X (default 0.2) of the datagrams each node sends dropped by
//       UdpNode's seeded loss shim (seeds Z + 2k and Z + 2k + 1 in run k): MB/s, as (b); no TCP
//   (e) as (c) between did:difuon nodes (key event logs of R rotations, --rotations, default 3):
//       first contact, where each proves its key with its log, and with the logs already held
// (a)-(c) inject no loss. Throughput phases run R times (a fresh node pair or connection each
// time) and report the best; every wait is capped at S seconds. MB is 10^6 bytes of message
// payload. --only picks the phases to run (default all).
#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/system.h"

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace flo::core;
namespace asio = boost::asio;
using asio::ip::tcp;
using BenchClock = std::chrono::steady_clock;

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

bool pacing = true; ///< --no-pacing turns TransportConfig::pacing off

TransportConfig benchConfig() {
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
  explicit NodePair(double loss = 0, std::uint64_t seed = 1)
      : NodePair(std::make_unique<UdpNode>(generateSigningKey(), benchConfig()),
                 std::make_unique<UdpNode>(generateSigningKey(), benchConfig()), loss, seed) {}
  /// did:difuon nodes; with `held`, each already holds the other's log.
  NodePair(const LongLived& server, const LongLived& client, bool held)
      : NodePair(std::make_unique<UdpNode>(*server.current, server.log, benchConfig()),
                 std::make_unique<UdpNode>(*client.current, client.log, benchConfig()), 0, 1) {
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
    std::string error;
    if (!server_.bind("127.0.0.1", 0, error) || !client_.bind("127.0.0.1", 0, error)) {
      std::fprintf(stderr, "flo_transport_bench: %s\n", error.c_str());
      std::exit(1);
    }
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
    serverLoop_.join();
  }
  NodePair(const NodePair&) = delete;
  NodePair& operator=(const NodePair&) = delete;

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

Throughput udpThroughput(std::size_t count, std::size_t size, double cap, double loss = 0,
                         std::uint64_t seed = 1) {
  NodePair pair(loss, seed);
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
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
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
  boost::system::error_code ec;
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
  }
  if (ec) socket.close(); // unblocks a server waiting for more
  server.join();
  t.ok = t.ok && serverOk;
  t.messages = count;
  t.bytes = count * size;
  return t;
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

} // namespace

int main(int argc, char** argv) {
  std::size_t small = 100'000, large = 64, pairs = 200;
  std::size_t lossy = 8;
  int runs = 3;
  double cap = 60, loss = 0.2;
  std::uint64_t seed = 1;
  std::string only = "abcde";
  std::size_t rotations = 3;
  for (int i = 1; i < argc && std::strcmp(argv[i], "--no-pacing") == 0;) {
    pacing = false;
    std::memmove(argv + i, argv + i + 1, sizeof(char*) * std::size_t(argc - i)); // drop it
    --argc;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--small") == 0)
      small = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--large") == 0)
      large = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--pairs") == 0)
      pairs = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--runs") == 0)
      runs = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--seconds") == 0)
      cap = std::atof(argv[i + 1]);
    else if (std::strcmp(argv[i], "--loss") == 0)
      loss = std::atof(argv[i + 1]);
    else if (std::strcmp(argv[i], "--lossy") == 0)
      lossy = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--seed") == 0)
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    else if (std::strcmp(argv[i], "--only") == 0)
      only = argv[i + 1];
    else if (std::strcmp(argv[i], "--rotations") == 0)
      rotations = std::strtoull(argv[i + 1], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: flo_transport_bench [--small N] [--large M] [--pairs P] "
                           "[--runs R] [--seconds S] [--loss X] [--lossy L] [--seed Z] "
                           "[--rotations R] [--only abcde]\n");
      return 2;
    }
  }
  if (argc % 2 == 0 || small < 1 || large < 1 || pairs < 1 || runs < 1 || cap <= 0 || lossy < 1 ||
      loss < 0 || loss >= 1)
    return 2;
  auto phase = [&](char c) { return only.find(c) != std::string::npos; };
  constexpr std::size_t kSmall = 256, kLarge = 1u << 20;
  int status = 0;
  auto report = [&](const char* what, const Throughput& udp, const Throughput* tcpOrNull,
                    bool rate) {
    Throughput none;
    none.ok = true;
    const Throughput& tcp = tcpOrNull ? *tcpOrNull : none;
    if (!udp.ok || !tcp.ok) {
      std::printf("%s: FAILED (udp %s, tcp %s; capped at %.0f s)\n", what, udp.ok ? "ok" : "failed",
                  tcp.ok ? "ok" : "failed", cap);
      status = 1;
      return;
    }
    std::printf("%s\n", what);
    if (!tcpOrNull)
      std::printf("  udp transport %8.1f MB/s  (%.3f s)\n", udp.megabytesPerSecond(), udp.seconds);
    else if (rate)
      std::printf("  udp transport %10.0f msg/s %8.1f MB/s  (%.3f s)\n"
                  "  tcp           %10.0f msg/s %8.1f MB/s  (%.3f s)\n"
                  "  ratio udp/tcp %10.3f\n",
                  udp.messagesPerSecond(), udp.megabytesPerSecond(), udp.seconds,
                  tcp.messagesPerSecond(), tcp.megabytesPerSecond(), tcp.seconds,
                  ratio(udp.messagesPerSecond(), tcp.messagesPerSecond()));
    else
      std::printf("  udp transport %8.1f MB/s  (%.3f s)\n"
                  "  tcp           %8.1f MB/s  (%.3f s)\n"
                  "  ratio udp/tcp %8.3f\n",
                  udp.megabytesPerSecond(), udp.seconds, tcp.megabytesPerSecond(), tcp.seconds,
                  ratio(udp.megabytesPerSecond(), tcp.megabytesPerSecond()));
    const TransportMetrics& m = udp.sender;
    std::printf("  udp sender: send() of all messages took %.3f s\n", udp.queueSeconds);
    std::printf("  udp sender: %llu datagrams out, %llu in, %llu retransmissions, %llu RTOs, "
                "%llu congestion events\n",
                (unsigned long long)m.packetsOut, (unsigned long long)m.packetsIn,
                (unsigned long long)m.retransmissions, (unsigned long long)m.rtoExpirations,
                (unsigned long long)m.congestionEvents);
    std::printf("  udp sender: %llu packets found lost from ACKs, %llu tail loss probes\n",
                (unsigned long long)m.packetsLost, (unsigned long long)m.tailProbes);
  };

  std::printf("best of %d run(s); payload MB = 10^6 bytes\n", runs);
  if (phase('a')) {
    auto udp = bestOf(runs, [&] { return udpThroughput(small, kSmall, cap); });
    auto tcp = bestOf(runs, [&] { return tcpThroughput(small, kSmall); });
    char what[96];
    std::snprintf(what, sizeof what, "(a) %zu x 256-byte messages", small);
    report(what, udp, &tcp, true);
  }
  if (phase('b')) {
    auto udp = bestOf(runs, [&] { return udpThroughput(large, kLarge, cap); });
    auto tcp = bestOf(runs, [&] { return tcpThroughput(large, kLarge); });
    char what[96];
    std::snprintf(what, sizeof what, "(b) %zu x 1 MiB messages", large);
    report(what, udp, &tcp, false);
  }

  if (phase('c')) {
    // (c) Handshake: a fresh pair each time; keys are generated and sockets bound before timing.
    std::vector<double> firstMs, establishedMs, tcpConnectMs;
    handshakes(pairs, cap, [] { return std::make_unique<NodePair>(); }, firstMs, establishedMs);
    // TCP's counterpart: connect plus one framed 1-byte message and its 1-byte acknowledgement.
    for (std::size_t i = 0; i < pairs; ++i) {
      asio::io_context io;
      tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
      std::thread server([&] {
        boost::system::error_code ec;
        tcp::socket peer(io);
        acceptor.accept(peer, ec);
        std::array<std::uint8_t, 5> frame{};
        if (!ec) asio::read(peer, asio::buffer(frame), ec);
        std::uint8_t ack = 1;
        if (!ec) asio::write(peer, asio::buffer(&ack, 1), ec);
      });
      boost::system::error_code ec;
      auto start = BenchClock::now();
      tcp::socket socket(io);
      socket.connect(acceptor.local_endpoint(), ec);
      std::array<std::uint8_t, 5> frame{0, 0, 0, 1, 1};
      if (!ec) asio::write(socket, asio::buffer(frame), ec);
      std::uint8_t ack = 0;
      if (!ec) asio::read(socket, asio::buffer(&ack, 1), ec);
      double ms = secondsSince(start) * 1e3;
      socket.close();
      server.join();
      if (ec) break;
      tcpConnectMs.push_back(ms);
    }
    std::printf("(c) handshake over %zu fresh node pairs (send of 1 byte -> acknowledgement)\n",
                firstMs.size());
    if (firstMs.size() < pairs || tcpConnectMs.size() < pairs) status = 1;
    std::printf("  udp first message (handshake + 1 RTT)  median %7.3f ms  p99 %7.3f ms\n",
                percentile(firstMs, 0.5), percentile(firstMs, 0.99));
    std::printf("  udp established session (1 RTT)        median %7.3f ms  p99 %7.3f ms\n",
                percentile(establishedMs, 0.5), percentile(establishedMs, 0.99));
    std::printf("  handshake alone (difference of medians) %7.3f ms\n",
                percentile(firstMs, 0.5) - percentile(establishedMs, 0.5));
    std::printf("  tcp connect + 1 message + ack            median %7.3f ms  p99 %7.3f ms\n",
                percentile(tcpConnectMs, 0.5), percentile(tcpConnectMs, 0.99));
    std::printf("  ratio udp/tcp (first message, median)  %7.2f\n",
                ratio(percentile(firstMs, 0.5), percentile(tcpConnectMs, 0.5)));
  }
  if (phase('e')) {
    // (e) did:difuon pairs: the logs are made before timing; first contact, then logs held.
    for (bool held : {false, true}) {
      std::vector<double> firstMs, establishedMs;
      handshakes(
          pairs, cap,
          [&] {
            return std::make_unique<NodePair>(LongLived(rotations), LongLived(rotations), held);
          },
          firstMs, establishedMs);
      if (firstMs.size() < pairs) status = 1;
      std::printf("(e) did:difuon, logs of %zu rotation(s), %s, %zu fresh pairs\n", rotations,
                  held ? "logs already held" : "first contact (each proves its key with its log)",
                  firstMs.size());
      std::printf(
          "  udp first message (handshake + proof + 1 RTT)  median %7.3f ms  p99 %7.3f ms\n",
          percentile(firstMs, 0.5), percentile(firstMs, 0.99));
      std::printf("  udp established session (1 RTT)        median %7.3f ms  p99 %7.3f ms\n",
                  percentile(establishedMs, 0.5), percentile(establishedMs, 0.99));
    }
  }
  if (phase('d')) {
    std::uint64_t run = 0;
    auto udp = bestOf(runs, [&] {
      std::uint64_t s = seed + 2 * run++;
      return udpThroughput(lossy, kLarge, cap, loss, s);
    });
    char what[128];
    std::snprintf(what, sizeof what,
                  "(d) %zu x 1 MiB messages, %.0f%% of datagrams dropped each way", lossy,
                  loss * 100);
    report(what, udp, nullptr, false);
  }
  return status;
}
