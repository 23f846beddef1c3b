/// \file
/// The inside of an Endpoint: its identity, its peers and the queues the caller drains. The
/// parts it puts together each have their own file (wire, aead, handshake, stream, ack,
/// recovery); this state only routes between them. Its handlers are spread over three files by
/// concern: endpoint.cpp (the public API, peers, timers), session_setup.cpp (handshakes,
/// identity proof, the session lifecycle) and session_data.cpp (DATA packets both ways).
#pragma once

#include "core/transport.h"
#include "core/transport/peer.h"
#include "core/transport/rate_limit.h"
#include "core/transport/wire.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace flo::core {

/// What becomes of a session's packets (Recovery's verdicts) applied to the peer's stream and
/// the session's own frames (identity chunks, reset token, PING).
class PacketFate : public Recovery::Listener {
public:
  PacketFate(Peer& peer, Session& session) : peer_(peer), session_(session) {}
  void acked(const SentPacket& packet) override;
  void lost(const SentPacket& packet) override;
  void tailProbe(const SentPacket& newest) override;

private:
  Peer& peer_;
  Session& session_;
};

struct Endpoint::State {
  State(const SigningKey& key, TransportConfig config, RandomSource random);

  SigningKey key;
  TransportConfig config;
  RandomSource random;
  TransportMetrics metrics;
  KeyDirectory directory;
  std::vector<KeyEvent> ownLog; ///< empty: we are a did:key
  Bytes ownLogBytes;
  std::string ownDid;
  Digest ownDigest{};
  std::string ownDidKey; ///< the did:key of our current key
  AddressRateLimiter::Key rateKey{};
  AddressRateLimiter helloLimiter, resetLimiter;
  ReassemblyBudget budget; ///< before `peers`, whose streams give it back when they go
  std::map<std::string, std::unique_ptr<Peer>, std::less<>> peers; ///< by DID
  std::map<PublicKey, Peer*> byKey;      ///< the did:key peers, by key (no base58 per message)
  std::map<std::uint32_t, Peer*> bySid;  ///< handshake, pending and current sessions
  std::map<std::uint32_t, Time> retired; ///< sids replaced by a rekey: no RESET until then
  /// Addresses that spoke another transport version lately (bounded), to explain a handshake
  /// that times out.
  std::map<Address, std::uint8_t> otherVersions;
  Secret<32> resetKey; ///< from our signing key, so a restart computes the same tokens
  std::vector<Datagram> outgoing;
  std::vector<Delivery> delivered;
  std::vector<TransportEvent> events;
  MessageId nextId = 1;
  wire::Frames frames;      ///< the frames of the packet being handled (storage reused)
  Bytes received;           ///< the plaintext of the packet being handled (storage reused)
  std::vector<Bytes> ready; ///< messages completed by the packet being handled

  // ---- endpoint.cpp: helpers, peers, timers ---------------------------------------------------
  void drop(DropReason r) { ++metrics.dropped[std::size_t(r)]; }
  void event(TransportEvent::Kind kind, const Peer& p, MessageId id = 0, std::string reason = {});
  void emit(const Address& to, Bytes bytes);
  std::uint64_t random64();
  std::uint32_t newSid();
  bool adoptLog(std::vector<KeyEvent> log, std::string& why);
  bool knownCurrent(std::string_view did, const PublicKey& peerKey) const;
  /// The largest datagram we send to `address` (our path's, before the peer's limit).
  std::size_t pathPacket(const Address& address) const;
  InStream::Limits inLimits() const { return {config.receiveBuffer, config.maxReorderMessages}; }
  MessageId enqueue(Peer& p, const Address& address, Bytes message, Time now);
  bool evictIdlePeer();
  Peer* peerFor(std::string_view did, bool create);
  Session* sessionFor(Peer& p, std::uint32_t sid);
  bool provenPending(const Peer& p) const;
  void failStream(Peer& p, const std::string& reason);
  void clearIncoming(Peer& p);
  wire::Token resetToken(std::uint32_t sid, const Address& peer) const;
  void deriveResetKey();
  void onReset(const std::uint8_t* d, std::size_t size, Time now);
  void noteOtherVersion(const Address& from, std::uint8_t version);
  std::optional<Time> peerTimer(const Peer& p) const;
  void peerOnTimer(Peer& p, Time now);

  // ---- session_setup.cpp: handshakes, identity, session lifecycle ----------------------------
  void startHandshake(Peer& p, Time now);
  void cancelHandshake(Peer& p);
  void onHello(const Address& from, const std::uint8_t* d, std::size_t size, Time now);
  void onWelcome(const Address& from, const std::uint8_t* d, std::size_t size, Time now);
  std::unique_ptr<Session> takePending(Peer& p, const Session* s);
  void discardPending(Peer& p, const Session* s);
  void discardPendings(Peer& p);
  void retireQuietly(std::uint32_t sid, Time now);
  void confirm(Session& s);
  std::size_t identityChunks(const Session& s) const;
  std::size_t identityLength(const Session& s, std::size_t index) const;
  void writeIdentityChunk(const Session& s, Bytes& plain, std::size_t index) const;
  void installSession(Peer& p, std::unique_ptr<Session> s, Time now);
  void sessionProven(Peer& p, const Session& s);
  bool absorbIdentity(Peer& p, Session& s, const std::vector<wire::IdentityChunk>& chunks,
                      Time now);
  void endSession(Peer& p, const std::string& reason, Time now);
  void leave(Peer& p, const std::string& reason, Time now);

  // ---- session_data.cpp: DATA packets --------------------------------------------------------
  void onData(const Address& from, const std::uint8_t* d, std::size_t size, Time now);
  void handleFrames(Peer& p, Session& s, std::uint64_t pn, const std::uint8_t* d, std::size_t size,
                    Time now);
  void processAck(Peer& p, Session& s, std::uint32_t window,
                  const std::vector<wire::AckRange>& ranges, Time now);
  void deliverReady(Peer& p);
  /// A DATA packet: `packet` holds the header and the plaintext after it; pads, seals in place
  /// under the next packet number and returns it.
  Bytes seal(Session& s, Bytes packet);
  /// A packet buffer holding the header for the session's next packet number.
  Bytes startPacket(const Session& s) const;
  void flush(Peer& p, Time now);
  void sendAckOnly(Peer& p, Session& s);
  /// hold(): peers with messages queued since, flushed by release().
  bool held = false;
  std::vector<std::string> heldPeers;
};

} // namespace flo::core
