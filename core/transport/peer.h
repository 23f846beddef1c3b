/// \file
/// The state an Endpoint keeps per peer: the handshake in progress, the keyed sessions (the one
/// we send on, and responder sessions waiting for the initiator to confirm and prove itself),
/// and the message stream both ways, which outlives sessions within one epoch.
#pragma once

#include "core/transport.h"
#include "core/transport/ack.h"
#include "core/transport/aead.h"
#include "core/transport/handshake.h"
#include "core/transport/recovery.h"
#include "core/transport/stream.h"
#include "core/transport/wire.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::core {

/// Segment payload in a datagram of `packetSize`: a full segment fits beside the largest ACK
/// and a PING.
constexpr std::size_t chunkOf(std::size_t packetSize) {
  return packetSize - wire::kDataHeader - wire::kTag - wire::kAckMax - 1 - wire::kSegmentHeader;
}

/// One keyed session with a peer.
struct Session {
  Session(const TransportConfig& config, TransportMetrics& metrics, Time now, SessionKeys keys)
      : tx(keys.tx), rx(keys.rx), replay(config.replayWindow), recovery(config, metrics, now),
        created(now), lastSent(now), lastReceived(now) {}

  std::uint32_t localSid = 0, remoteSid = 0;
  PacketKey tx, rx;
  std::uint64_t peerEpoch = 0;
  PublicKey peerKey{}; ///< the key the handshake authenticated
  /// Whether peerKey is bound to the peer's DID: at once for a did:key, and for a did:difuon
  /// when its key event log (held, or sent in IDENTITY frames) shows peerKey as current.
  /// Nothing is sent to, or delivered from, an unproven peer.
  bool proven = false;
  LogAssembly peerLog;
  std::vector<SegState> idOut; ///< our own log's chunks, sent first in every session
  std::size_t idUnsent = 0;
  bool tokenPending = false;            ///< our reset token for this session is still to be sent
  std::optional<wire::Token> peerToken; ///< the peer's, for our sid
  Address address;      ///< where a provisional (responder) session's HELLO came from
  Bytes hello, welcome; ///< responder: to answer a retransmitted HELLO without new work
  /// The largest datagram on this session: our path's, at most what the peer accepts.
  std::size_t packetSize = wire::kMinDatagram;

  std::uint64_t nextPn = 0;
  ReplayWindow replay;
  AckTracker acks;
  Recovery recovery;
  std::size_t peerWindow = 64 * 1024; ///< the peer's free receive buffer, from its last ACK
  bool pingPending = false;
  Time created, lastSent, lastReceived;
  std::optional<Time> rekeyAt; ///< initiator: when to greet again for fresh keys

  /// The largest plaintext of a DATA packet.
  std::size_t maxPlain() const { return packetSize - wire::kDataHeader - wire::kTag; }
  std::size_t chunk() const { return chunkOf(packetSize); }
};

/// Our side of a handshake in progress.
struct Handshake {
  std::uint32_t sid = 0;
  Secret<32> ephemeral; ///< wiped when the handshake ends
  Bytes hello;
  Time started{}, nextSend{};
  Clock::duration interval{};
};

struct Peer {
  Peer(InStream::Limits limits, ReassemblyBudget& budget) : in(limits, budget) {}

  std::string did; ///< whom we talk to: a did:key, or a did:difuon proven by its log
  bool difuon = false;
  Digest didDigest{}; ///< what a did:difuon names
  PublicKey key{};    ///< did:key: its key; did:difuon: the key last proven (zero before)
  Address address;
  std::unique_ptr<Session> session; ///< the one we send on
  /// Responder side, until the initiator confirms (and proves its DID), oldest first. Several
  /// may wait at once, so that neither a replayed HELLO nor a claim that will never be proven
  /// displaces the real one; each has its own sid and must confirm on its own.
  std::vector<std::unique_ptr<Session>> pendings;
  bool up = false; ///< SessionUp said (and not yet SessionDown): a rekey is no new session
  std::optional<Handshake> handshake;
  std::uint64_t localEpoch = 0;
  std::optional<std::uint64_t> peerEpoch;
  /// A transport version other than ours seen from the peer's address (to explain a
  /// handshake that times out).
  std::optional<std::uint8_t> otherVersion;
  OutStream out;
  InStream in;
};

} // namespace flo::core
