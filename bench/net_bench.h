/// \file
/// The transport benchmark on loopback, as a library: the encrypted UDP transport (two UdpNodes,
/// each on its own thread) against plain TCP (Boost.Asio blocking sockets, 4-byte length
/// framing, one application-level acknowledgement at the end) measured in the same run. Both
/// `flo_transport_bench` and `fog bench net` run it.
///   (a) N 256-byte messages: messages/s and MB/s from the first send to the last acknowledgement
///   (b) M 1 MiB messages: MB/s, the same way
///   (c) P fresh node pairs: time from send() of a 1-byte message to its acknowledgement
///       (handshake + one round trip), then the same on the established session (one round
///       trip); median, p99
///   (d) L 1 MiB messages with a share X of the datagrams each node sends dropped by UdpNode's
///       seeded loss shim (seeds Z + 2k and Z + 2k + 1 in run k): MB/s, as (b); no TCP
///   (e) as (c) between did:difuon nodes (key event logs of R rotations): first contact, where
///       each proves its key with its log, and with the logs already held
/// (a)-(c) inject no loss. Throughput phases run R times (a fresh node pair or connection each
/// time) and report the best; every wait is capped. MB is 10^6 bytes of message payload.
#pragma once

#include "core/transport.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>

namespace flo::bench {

struct NetBenchOptions {
  std::size_t small = 100'000; ///< (a) 256-byte messages
  std::size_t large = 64;      ///< (b) 1 MiB messages
  std::size_t pairs = 200;     ///< (c), (e) fresh node pairs
  std::size_t lossy = 8;       ///< (d) 1 MiB messages under loss
  int runs = 3;                ///< throughput phases: best of this many
  double seconds = 60;         ///< cap on every wait
  double loss = 0.2;           ///< (d) share of datagrams dropped each way
  std::uint64_t seed = 1;      ///< (d) seed of the loss shim
  std::size_t rotations = 3;   ///< (e) rotations in each key event log
  std::string phases = "abcde";
  bool pacing = true; ///< TransportConfig::pacing
};

/// Why `options` cannot run (a count of zero, a loss outside [0, 1), a phase letter outside
/// a-e); empty when they can.
std::string validate(const NetBenchOptions& options);

struct ThroughputFigures {
  bool ran = false;
  bool ok = false; ///< every message acknowledged (and delivered) within the cap
  std::size_t messages = 0, messageSize = 0;
  double udpSeconds = 0, udpMessagesPerSecond = 0, udpMegabytesPerSecond = 0;
  double tcpSeconds = 0, tcpMessagesPerSecond = 0, tcpMegabytesPerSecond = 0; ///< (a), (b)
  core::TransportMetrics sender{}; ///< the UDP sender's counters in the best run
};

struct LatencyFigures {
  bool ran = false;
  std::size_t samples = 0;           ///< pairs that completed (fewer than asked: the phase failed)
  double firstP50 = 0, firstP99 = 0; ///< ms, send of 1 byte on a fresh pair -> ack
  double establishedP50 = 0, establishedP99 = 0; ///< ms, the same on the established session
};

struct NetBenchResult {
  bool ok = true; ///< every phase that ran completed
  int runs = 0;
  double loss = 0;
  std::size_t rotations = 0;
  ThroughputFigures small, large, lossy; ///< (a), (b), (d)
  LatencyFigures didKey;                 ///< (c)
  double tcpConnectP50 = 0, tcpConnectP99 = 0;
  LatencyFigures firstContact, logsHeld; ///< (e)
};

/// Runs the phases of `options` (which validate() accepts) and prints each one's table on `out`
/// as it completes. A phase that fails (a wait reached the cap, a socket could not be bound)
/// says FAILED and clears `ok`; the others still run. Never throws.
NetBenchResult runNetBench(const NetBenchOptions& options, std::ostream& out);

/// The figures as one JSON object: `ok` and `runs`, then for each phase that ran
///   (a) small_messages small_msg_per_s small_mb_per_s tcp_small_msg_per_s small_ratio_vs_tcp
///   (b) large_messages large_mb_per_s tcp_large_mb_per_s large_ratio_vs_tcp
///   (c) handshake_pairs handshake_ms_p50 handshake_ms_p99 established_ms_p50
///       tcp_connect_ms_p50
///   (e) rotations first_contact_pairs first_contact_ms_p50 first_contact_ms_p99
///       logs_held_ms_p50
///   (d) lossy_messages lossy_loss lossy_mb_per_s lossy_retransmissions
/// Ratios are udp/tcp (msg/s for (a), MB/s for (b)); latencies are in ms.
nlohmann::ordered_json toJson(const NetBenchResult& result);

} // namespace flo::bench
