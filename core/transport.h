/// \file
/// The protocol core of Difuon's encrypted transport (RAET-like, over UDP), sans-I/O: the
/// Endpoint takes datagrams, timer ticks and the current time as inputs and leaves datagrams to
/// send, delivered messages and events for the caller to drain. It opens no socket, reads no
/// clock and draws randomness only from the injected RandomSource, so a seeded simulated network
/// replays every run exactly (STYLE.md rule 14). Network input is validated and dropped with a
/// counter, never thrown (rule 5); the cheap checks (size, version, type, known session, replay
/// window, per-address handshake budget) come before any public-key or AEAD work.
///
/// Peers are named by DIDs. A did:key is its Ed25519 key, which the handshake authenticates. A
/// did:difuon (identity.h) is a key event log: the handshake authenticates the peer's current
/// key, and the peer proves that key current for its DID by sending its log in IDENTITY frames,
/// first thing in every session. Until then nothing is sent to it (but the log) and nothing it
/// sends is delivered or acknowledged (but the log). Logs are verified offline and kept in the
/// endpoint's KeyDirectory: a peer that rotated its key is recognised by the longer log it
/// presents, and one whose log is stale or forks from the one held is refused.
///
/// The protocol in parts (core/transport/): wire.h the codec, aead.h the packet cipher,
/// handshake.h the handshake and identity proof, stream.h the message stream, ack.h the
/// receive side's ACKs, recovery.h loss recovery and congestion control, endpoint_state.h how
/// they are put together.
///
/// Wire format (version 3; integers big-endian; every datagram starts `version:u8 type:u8`).
/// A datagram of another version is dropped (BadVersion); a handshake with a peer that answers
/// in another version fails naming both versions.
///
///   HELLO   (type 1, exactly 224 bytes) initiator -> responder
///     version type | initiator_sid:u32 | epoch:u64 | ephemeral_x25519:32 | nonce:16
///     | initiator_ed25519:32 | initiator_did:32 | expected_responder:32 | max_datagram:u16
///     | signature:64
///     initiator_did: zero for a did:key initiator, else the digest its did:difuon names;
///     expected_responder: the responder's Ed25519 key (did:key) or its did:difuon digest;
///     max_datagram: the largest datagram the initiator accepts (at least 1,200).
///     signature = Ed25519(initiator, "difuon/transport/3/hello" || bytes before signature)
///
///   WELCOME (type 2, exactly 148 bytes) responder -> initiator (smaller than HELLO: no
///   amplification)
///     version type | initiator_sid:u32 | responder_sid:u32 | epoch:u64
///     | ephemeral_x25519:32 | responder_ed25519:32 | max_datagram:u16 | signature:64
///     signature = Ed25519(responder, "difuon/transport/3/welcome" || BLAKE2b(HELLO)
///                         || bytes before signature)
///
///   epoch: a random number the sender draws for its message stream with this peer; a new
///   value means the sender lost or discarded that stream (it restarted, or gave up on a
///   handshake), and both directions of the stream start over.
///   Keys: BLAKE2b-512("difuon/transport/3/keys" || X25519(e_i, e_r) || BLAKE2b(HELLO||WELCOME))
///   split into initiator->responder and responder->initiator ChaCha20-Poly1305 keys. The
///   ephemeral secrets are wiped once derived (forward secrecy). The responder's session is
///   provisional until the first authenticated DATA from the initiator (key confirmation), so
///   a replayed HELLO can never displace a working session.
///   Datagram size: each side sends datagrams of at most the smaller of its path's size
///   (TransportConfig::pathPacket, else maxPacket) and what the peer accepts.
///
///   DATA    (type 3, 31..max_datagram bytes) either way
///     version type | receiver_sid:u32 | packet_number:u64 | AEAD(frames) with 16-byte tag
///     AEAD = ChaCha20-Poly1305 (IETF); associated data = the 14 header bytes;
///     nonce = 4 zero bytes || packet_number (8 bytes BE); the key is per session and
///     direction, and packet numbers never repeat, so a nonce never repeats under one key.
///     Packet numbers are checked against a sliding anti-replay window before decryption.
///   Frames, concatenated in the plaintext (then PADDING up to a multiple of padMultiple):
///     PADDING 0x00: the rest of the plaintext is padding
///     SEGMENT 0x01 | message_seq:u64 | offset:u32 | total:u32 | length:u16 | bytes
///     ACK     0x02 | window:u32 (free receive buffer, bytes) | count:u8
///                  | count x (first:u64 last:u64) packet-number ranges, highest first
///     PING    0x03 (ack-eliciting; the ACK is the reply, sent at once)
///     IDENTITY 0x04 | total:u16 | offset:u16 | length:u16 | bytes: a chunk of the sender's key
///                  event log (identity.h encodeLog, at most 32,768 bytes), sent again if lost
///     CLOSE   0x05: the sender is going away; the receiver ends the session at once
///     RESET_TOKEN 0x06 | token:16: if a RESET ever comes for the sender's sid with this token,
///                  the sender has lost the session (sent once per session, again if lost)
///
///   RESET   (type 4, exactly 22 bytes) to the sender of a DATA packet for an unknown sid
///     version type | sid:u32 (the unknown one) | token:16
///     token = BLAKE2b-128 keyed with BLAKE2b-256(seed, "difuon/transport/3/reset"), of the
///     sid: an endpoint that restarted computes the token it gave for a session it lost, and
///     its peer ends that session at once instead of waiting for timeouts. Smaller than any
///     DATA packet and rate-limited per address, so never an amplifier.
///
/// Reliability: packet numbers are never reused, so retransmitted segments travel in new
/// packets and every RTT sample is unambiguous (Karn's rule holds by construction). A packet is
/// acknowledged only if every frame in it was accepted; a segment refused for lack of buffer
/// is simply not acknowledged and comes again.
///
/// Loss recovery: the ACK ranges are selective, and packet numbers follow send order, so a
/// packet unacknowledged below the largest acknowledged one was overtaken. It is deemed lost
/// once 3 later packets are acknowledged or 9/8 RTT has passed since it was sent (RFC 9002
/// §6.1, RACK; a timer waits for the latter), and its segments go out again at once. The
/// congestion window (AIMD, in packets) halves once per loss episode. When no ACK comes for
/// two smoothed RTTs (at least 1 ms), a tail loss probe (RFC 8985) sends two packets beyond
/// the window, each with a PING, the first with new data or else the newest segments again;
/// their ACK reveals what was lost. The retransmission timer (RFC 6298, at least minRto) is the
/// last resort: on expiry only the earliest unacknowledged packet is deemed lost and sent again,
/// the timer doubles, and the window falls to minCwnd.
///
/// ACKs: the receiver acknowledges at once a PING, a packet out of order, a segment that fills
/// a gap or repeats (and, after either sign of loss, the next 16 packets), and every second
/// packet; otherwise an ACK waits at most ackDelay for data to ride on. A sender puts a PING
/// in every probe and in the packet that empties its queue, so a message that nothing follows
/// is acknowledged in one round trip.
///
/// Pacing: once an RTT is measured, data packets leave at 1.25 × cwnd per smoothed RTT after a
/// burst of at most paceBurst, or a millisecond's worth at that pace if more (a token bucket;
/// probes and ACKs are not paced).
///
/// Rekeying: the initiator of a session greets the peer again every rekeyAfter; the new session
/// replaces the old one when it is confirmed, and the stream carries on across it.
///
/// Messages form one ordered stream per peer that survives re-handshakes within one epoch;
/// when the peer's epoch changes (it restarted) the stream restarts and every message it had
/// not delivered is sent again (a message delivered just before a restart whose ACK was lost
/// is delivered again: the restarted peer kept no record of it).
/// `Acknowledged` means the peer has delivered the message and everything before it.
#pragma once

#include "core/canonical.h"
#include "core/crypto.h"
#include "core/identity.h"

#include <array>
#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::core {

/// Where a datagram comes from or goes to; opaque to the core (the socket layer gives it
/// meaning), only compared.
struct Address {
  std::string host;
  std::uint16_t port = 0;
  auto operator<=>(const Address&) const = default;
};

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;
using MessageId = std::uint64_t;

struct TransportConfig {
  std::size_t maxMessage = 16u << 20; ///< largest message, bytes
  /// Largest datagram sent on a path not known better (1,200: what any path carries).
  std::size_t maxPacket = 1200;
  /// The largest datagram sent to an address (0: maxPacket), e.g. 65,507 on loopback, where
  /// there is no MTU to speak of: fewer, larger datagrams cost less per byte.
  std::function<std::size_t(const Address&)> pathPacket;
  /// Largest datagram accepted, and advertised to peers in the handshake (1,200..65,507).
  std::size_t maxDatagram = 65507;
  std::size_t receiveBuffer = 32u << 20; ///< reassembly buffer per peer (>= maxMessage)
  /// Reassembly over all peers: memory stays bounded however many peers claim big messages
  /// (a segment past it is not acknowledged, and comes again).
  std::size_t maxBuffered = 256u << 20;
  std::uint64_t maxReorderMessages = 4096; ///< how far ahead of delivery a message may be
  std::size_t replayWindow = 1024;         ///< packet numbers remembered behind the highest
  std::chrono::milliseconds initialRto{200}, minRto{20}, maxRto{2000};
  std::chrono::milliseconds ackDelay{5};           ///< longest an ACK waits for piggybacking
  std::chrono::milliseconds keepalive{1000};       ///< PING after this long without sending
  std::chrono::milliseconds sessionTimeout{10000}; ///< session ends after this long silent
  std::chrono::milliseconds handshakeTimeout{10000};
  unsigned deadAfterRtos = 6; ///< consecutive RTOs without progress: re-handshake
  /// The initiator of a session greets the peer again after this long, so that no session key
  /// protects more than this much traffic (forward secrecy over time); zero: never.
  std::chrono::milliseconds rekeyAfter{30 * 60 * 1000};
  double initialCwnd = 10, minCwnd = 2, maxCwnd = 1024; ///< congestion window, packets
  std::size_t padMultiple = 16; ///< DATA plaintext padded to a multiple of this (0: none)
  bool pacing = true;           ///< spread a window over the RTT (RFC 9002 §7.7)
  double paceBurst = 10; ///< packets that may leave back to back (or 1 ms at the pace, if more)
  double helloPerSecond = 20, helloBurst = 10; ///< per source address
  std::size_t maxPeers = 1024;                 ///< peers with session state
  std::size_t maxRateEntries = 4096;           ///< buckets in the per-address rate tables (hashed)
};

enum class DropReason : std::uint8_t {
  Truncated,
  Oversized,
  BadVersion,
  BadType,
  UnknownSession,
  Replay,
  AuthFailure,
  BadHandshake,      ///< well-formed but unacceptable (not for us, unexpected key, bad point)
  BadSignature,      ///< handshake signature does not verify
  RateLimited,       ///< per-address handshake budget spent
  SessionLimit,      ///< no room for another peer
  ProtocolViolation, ///< authenticated but malformed frames
  BadIdentity        ///< a key event log that does not prove the DID the peer claimed
};
inline constexpr std::size_t kDropReasons = 13;
const char* dropReasonName(DropReason reason);

struct TransportMetrics {
  std::uint64_t packetsIn = 0, packetsOut = 0, bytesIn = 0, bytesOut = 0;
  std::array<std::uint64_t, kDropReasons> dropped{};
  std::uint64_t retransmissions = 0; ///< segments sent again
  std::uint64_t rtoExpirations = 0, congestionEvents = 0, handshakes = 0;
  std::uint64_t packetsLost = 0;  ///< deemed lost from ACK ranges or the loss timer (not RTOs)
  std::uint64_t tailProbes = 0;   ///< tail loss probe timeouts (two probe packets each)
  std::uint64_t spuriousRtos = 0; ///< timeouts undone: the packet had arrived, its ACK was late
  std::uint64_t ackOnly = 0;      ///< datagrams sent that carry only an ACK
  std::uint64_t droppedFor(DropReason r) const { return dropped[std::size_t(r)]; }
  std::uint64_t droppedTotal() const;
};

struct Datagram {
  Address to;
  Bytes bytes;
};

struct Delivery {
  PublicKey peer; ///< the sender's key, authenticated by the handshake
  Address from;
  Bytes message;
  std::string did; ///< the sender: did:key of `peer`, or the did:difuon it proved
};

struct TransportEvent {
  enum class Kind : std::uint8_t { Acknowledged, Failed, SessionUp, SessionDown };
  Kind kind;
  PublicKey peer{};   ///< the peer's current key (zero if never proven)
  MessageId id = 0;   ///< Acknowledged, Failed
  std::string reason; ///< Failed, SessionDown
  std::string did;    ///< the peer
};

/// Per-session view for tests and diagnostics.
struct SessionStats {
  double cwnd = 0, srttMs = 0, rtoMs = 0;
  std::size_t inFlight = 0;
  std::size_t packetSize = 0; ///< the largest datagram on this session
};

/// One local identity's transport state: sessions to any number of peers, each named by its
/// DID. Not thread-safe; drive it from one thread.
class Endpoint {
public:
  /// A did:key identity: the DID of `key`.
  Endpoint(const SigningKey& key, TransportConfig config, RandomSource random);
  /// A did:difuon identity: `log` must verify and show `key` as its current key (otherwise
  /// std::invalid_argument, naming why), and encode in at most 32,768 bytes.
  Endpoint(const SigningKey& key, std::vector<KeyEvent> log, TransportConfig config,
           RandomSource random);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const PublicKey& publicKey() const;
  /// Our DID: did:difuon with a log, did:key otherwise.
  const std::string& did() const;
  /// The key event logs this endpoint holds: learned from peers, or given (from a relay, the
  /// ledger, a file). A did:difuon is reached with one handshake round trip more when its log
  /// is not held or is out of date.
  KeyDirectory& directory();

  /// Queues `message` for the peer `did` (reached at `address`), starting a handshake if there
  /// is no session. A message over maxMessage, to ourselves, or to something that is not a
  /// did:key or did:difuon fails at once (a Failed event).
  MessageId send(const Address& address, std::string_view did, Bytes message, Time now);
  /// The same, to the did:key of `peer`.
  MessageId send(const Address& address, const PublicKey& peer, Bytes message, Time now);
  /// Holds what send() queues, building no packet, until release(): messages to one peer sent
  /// together then share packets (and the ACKs they ask for), instead of a packet each. A
  /// server answering many requests at once holds around the answers.
  void hold();
  /// Builds the packets of everything queued while held (what the windows allow).
  void release(Time now);
  /// Going away: every queued message fails, and every peer with a session is told so (one
  /// CLOSE, not retransmitted) and ends it at once instead of waiting for a timeout.
  void close(Time now);
  /// Moves to the next key of our did:difuon (after `fog id rotate`): `log` must extend ours
  /// and show `key` as current. Every session (authenticated by the old key) ends, and peers
  /// with messages queued are greeted again from the new key; they learn it from the log.
  bool rotate(const SigningKey& key, std::vector<KeyEvent> log, Time now,
              std::string* error = nullptr);
  /// One datagram from the network. Anything invalid is dropped and counted.
  void onPacket(const Address& from, const std::uint8_t* data, std::size_t size, Time now);
  /// Runs every timer due at `now` (retransmission, delayed ACK, keep-alive, timeouts).
  void onTimer(Time now);
  /// The earliest time onTimer has work; nullopt when idle.
  std::optional<Time> nextTimer() const;

  std::vector<Datagram> takeOutgoing();
  std::vector<Delivery> takeDelivered();
  std::vector<TransportEvent> takeEvents();

  const TransportMetrics& metrics() const;
  /// The current session's state with `did`, if there is one.
  std::optional<SessionStats> sessionStats(std::string_view did) const;
  std::optional<SessionStats> sessionStats(const PublicKey& peer) const;
  /// Whether a session with `did` is up and the peer proven.
  bool hasSession(std::string_view did) const;
  bool hasSession(const PublicKey& peer) const;

  /// Testing and fuzzing only: runs the frame parser on `plaintext` as if it had arrived,
  /// authenticated, in a DATA packet on the current session with `did` (no-op without one).
  void injectFramesForTesting(std::string_view did, const std::uint8_t* plaintext, std::size_t size,
                              Time now);
  void injectFramesForTesting(const PublicKey& peer, const std::uint8_t* plaintext,
                              std::size_t size, Time now);

  struct State;

private:
  std::unique_ptr<State> state_;
};

} // namespace flo::core
