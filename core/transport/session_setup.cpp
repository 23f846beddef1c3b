/// \file
/// Handshakes, identity proof and the session lifecycle (see endpoint_state.h, handshake.h).
#include "core/check.h"
#include "core/transport/endpoint_state.h"

#include <algorithm>
#include <cstring>

namespace flo::core {

namespace {
constexpr std::size_t kMaxPendings = 4; ///< responder handshakes waiting per peer
} // namespace

void Endpoint::State::startHandshake(Peer& p, Time now) {
  FLO_CHECK(!p.handshake);
  Handshake hs;
  hs.sid = newSid();
  wire::Hello h;
  h.sid = hs.sid;
  h.epoch = p.localEpoch;
  h.initiatorDid = ownLog.empty() ? Digest{} : ownDigest;
  h.expected = p.difuon ? p.didDigest : p.key;
  h.maxDatagram = std::uint16_t(config.maxDatagram);
  hs.hello = makeHello(key, h, random, hs.ephemeral);
  hs.started = now;
  hs.interval = config.initialRto;
  hs.nextSend = now + hs.interval;
  bySid[hs.sid] = &p;
  emit(p.address, hs.hello);
  p.handshake = std::move(hs);
}

void Endpoint::State::cancelHandshake(Peer& p) {
  if (!p.handshake) return;
  bySid.erase(p.handshake->sid);
  p.handshake.reset(); // wipes the ephemeral secret
}

void Endpoint::State::onHello(const Address& from, const std::uint8_t* d, std::size_t size,
                              Time now) {
  if (size != wire::kHelloSize)
    return drop(size < wire::kHelloSize ? DropReason::Truncated : DropReason::Oversized);
  auto hello = wire::Hello::decode(d, size);
  FLO_CHECK(hello); // size, version and type were checked
  bool forUs =
      hello->expected == key.publicKey() || (!ownLog.empty() && hello->expected == ownDigest);
  if (!forUs || hello->initiatorKey == key.publicKey() || hello->maxDatagram < wire::kMinDatagram)
    return drop(DropReason::BadHandshake);
  if (!helloLimiter.allow(from, now)) return drop(DropReason::RateLimited);
  // Who the initiator says it is: its key, or a did:difuon its log must bear out.
  bool claimsLog = hello->initiatorDid != Digest{};
  std::string claimed = claimsLog ? didDifuon(hello->initiatorDid) : didKey(hello->initiatorKey);
  if (claimed == ownDid) return drop(DropReason::BadHandshake);
  Peer* known = peerFor(claimed, false);
  // Simultaneous open: the lower key stays initiator, the higher one answers.
  if (known && known->handshake && key.publicKey() < hello->initiatorKey) return;
  // A retransmitted HELLO (our WELCOME was lost): answer again without new work.
  if (known) {
    for (const auto& w : known->pendings) {
      if (w->hello.size() == size && std::memcmp(w->hello.data(), d, size) == 0) {
        emit(from, w->welcome);
        return;
      }
    }
  }
  if (!verifyHello(*hello)) return drop(DropReason::BadSignature);
  bool proven = !claimsLog || knownCurrent(claimed, hello->initiatorKey);
  Peer* p = known ? known : peerFor(claimed, true);
  if (!p) return drop(DropReason::SessionLimit);

  std::uint32_t localSid = newSid();
  Bytes helloBytes(d, d + size);
  wire::Welcome w;
  w.initiatorSid = hello->sid;
  w.responderSid = localSid;
  w.epoch = p->localEpoch;
  w.maxDatagram = std::uint16_t(config.maxDatagram);
  Secret<32> ephemeral;
  Bytes welcome = makeWelcome(key, helloBytes, w, random, ephemeral);
  auto keys = deriveSessionKeys(ephemeral, hello->ephemeral, helloBytes, welcome, false);
  if (!keys) return drop(DropReason::BadHandshake);
  auto s = std::make_unique<Session>(config, metrics, now, std::move(*keys));
  s->peerKey = hello->initiatorKey;
  s->proven = proven;
  s->localSid = localSid;
  s->remoteSid = hello->sid;
  s->peerEpoch = hello->epoch;
  s->address = from;
  s->packetSize = std::min<std::size_t>(pathPacket(from), hello->maxDatagram);
  s->hello = std::move(helloBytes);
  s->welcome = std::move(welcome);
  // Our own handshake, if any, runs on until this one is confirmed (installSession): a HELLO
  // proves nothing about freshness, and a replayed one must cancel nothing.
  if (p->pendings.size() >= kMaxPendings) discardPending(*p, p->pendings.front().get());
  bySid[s->localSid] = p;
  emit(from, s->welcome);
  if (p->address.host.empty() && p->address.port == 0) p->address = from;
  p->pendings.push_back(std::move(s));
  FLO_CHECK(p->pendings.size() <= kMaxPendings);
}

void Endpoint::State::onWelcome(const Address& from, const std::uint8_t* d, std::size_t size,
                                Time now) {
  if (size != wire::kWelcomeSize)
    return drop(size < wire::kWelcomeSize ? DropReason::Truncated : DropReason::Oversized);
  auto welcome = wire::Welcome::decode(d, size);
  FLO_CHECK(welcome);
  std::uint32_t sid = welcome->initiatorSid;
  auto it = bySid.find(sid);
  if (it == bySid.end() || !it->second->handshake || it->second->handshake->sid != sid)
    return drop(DropReason::UnknownSession);
  Peer& p = *it->second;
  // A did:key peer must answer with that key; a did:difuon one with any key, to be proven.
  const PublicKey& responderKey = welcome->responderKey;
  if ((!p.difuon && responderKey != p.key) || responderKey == key.publicKey() ||
      welcome->maxDatagram < wire::kMinDatagram)
    return drop(DropReason::BadHandshake);
  Handshake& hs = *p.handshake;
  if (!verifyWelcome(*welcome, hs.hello)) return drop(DropReason::BadSignature);
  Bytes welcomeBytes(d, d + size);
  auto keys = deriveSessionKeys(hs.ephemeral, welcome->ephemeral, hs.hello, welcomeBytes, true);
  if (!keys) return drop(DropReason::BadHandshake);
  auto s = std::make_unique<Session>(config, metrics, now, std::move(*keys));
  s->peerKey = responderKey;
  s->proven = !p.difuon || knownCurrent(p.did, responderKey);
  s->localSid = sid;
  s->remoteSid = welcome->responderSid;
  s->peerEpoch = welcome->epoch;
  s->packetSize = std::min<std::size_t>(pathPacket(from), welcome->maxDatagram);
  p.handshake.reset(); // wipes the ephemeral secret; the sid now names the session
  if (config.rekeyAfter.count() > 0) s->rekeyAt = now + config.rekeyAfter;
  if (!s->proven && p.session && p.session->proven) {
    // A key we cannot tie to the DID yet, while a proven session runs (a rekey answered by a
    // peer that rotated, or by someone on the path): that session stays until this one proves
    // itself, waiting as a pending one does; it is confirmed at once, with our log.
    s->address = from;
    confirm(*s);
    if (p.session->rekeyAt) p.session->rekeyAt = now + config.handshakeTimeout;
    if (p.pendings.size() >= kMaxPendings) discardPending(p, p.pendings.front().get());
    p.pendings.push_back(std::move(s));
    return;
  }
  p.address = from;
  s->pingPending = true; // key confirmation for the responder, even with nothing to send
  installSession(p, std::move(s), now);
  flush(p, now);
}

std::unique_ptr<Session> Endpoint::State::takePending(Peer& p, const Session* s) {
  auto it = std::find_if(p.pendings.begin(), p.pendings.end(),
                         [&](const auto& x) { return x.get() == s; });
  if (it == p.pendings.end()) return nullptr;
  std::unique_ptr<Session> out = std::move(*it);
  p.pendings.erase(it);
  return out;
}

void Endpoint::State::discardPending(Peer& p, const Session* s) {
  bySid.erase(s->localSid);
  takePending(p, s);
}

void Endpoint::State::discardPendings(Peer& p) {
  for (auto& s : p.pendings) bySid.erase(s->localSid);
  p.pendings.clear();
}

/// Forgets the sid of a session another replaced: a DATA packet still in flight to it (the
/// peer has not switched yet) is dropped for a while without a RESET, which would end the
/// peer's new session too.
void Endpoint::State::retireQuietly(std::uint32_t sid, Time now) {
  bySid.erase(sid);
  if (retired.size() >= 4 * config.maxPeers) retired.erase(retired.begin());
  retired[sid] = now + config.handshakeTimeout;
}

/// Key confirmation on a session not yet installed: our log (if any) and a PING, once (if lost,
/// the session is not confirmed and times out).
void Endpoint::State::confirm(Session& s) {
  const std::size_t room = s.maxPlain() - 1;
  const std::size_t chunks = identityChunks(s);
  std::size_t i = 0;
  do {
    Bytes packet = startPacket(s);
    while (i < chunks &&
           packet.size() - wire::kDataHeader + wire::kIdentityHeader + identityLength(s, i) <= room)
      writeIdentityChunk(s, packet, i++);
    wire::writePing(packet);
    emit(s.address, seal(s, std::move(packet)));
  } while (i < chunks);
}

std::size_t Endpoint::State::identityChunks(const Session& s) const {
  return (ownLogBytes.size() + s.chunk() - 1) / s.chunk();
}

std::size_t Endpoint::State::identityLength(const Session& s, std::size_t index) const {
  return std::min(s.chunk(), ownLogBytes.size() - index * s.chunk());
}

void Endpoint::State::writeIdentityChunk(const Session& s, Bytes& plain, std::size_t index) const {
  std::size_t offset = index * s.chunk(), length = identityLength(s, index);
  wire::writeIdentity(plain, std::uint16_t(ownLogBytes.size()), std::uint16_t(offset),
                      ownLogBytes.data() + offset, std::uint16_t(length));
}

/// Makes `s` the session we send on. The stream's in-flight segments belonged to the old
/// session's packets, which are gone, so they all become unsent again (and are cut for this
/// session's datagrams if nothing of them was acknowledged).
void Endpoint::State::installSession(Peer& p, std::unique_ptr<Session> s, Time now) {
  FLO_CHECK(s && s->localSid != 0);
  if (p.session) retireQuietly(p.session->localSid, now);
  p.out.restartSending(s->chunk());
  s->created = s->lastSent = s->lastReceived = now;
  // Our log goes first, in every session: the peer cannot know whether it holds it already.
  s->idOut.assign(identityChunks(*s), SegState::Unsent);
  s->idUnsent = s->idOut.size();
  s->tokenPending = true;
  bySid[s->localSid] = &p;
  p.session = std::move(s);
  ++metrics.handshakes;
  cancelHandshake(p); // ours lost the race, or waited for an unproven claim to prove itself
  if (p.session->proven) sessionProven(p, *p.session);
}

/// The session's peer is who it says. Only now does its epoch count: a peer that restarted (new
/// epoch) lost its stream, and so both directions start over.
void Endpoint::State::sessionProven(Peer& p, const Session& s) {
  FLO_CHECK(s.proven && &s == p.session.get());
  p.key = s.peerKey;
  if (p.peerEpoch && *p.peerEpoch != s.peerEpoch) {
    // Nothing it had is known delivered any more except what it acknowledged in full (already
    // reported): start both directions over.
    clearIncoming(p);
    p.out.renumber(s.chunk());
  }
  p.peerEpoch = s.peerEpoch;
  if (!p.up) {
    p.up = true;
    event(TransportEvent::Kind::SessionUp, p);
  }
}

/// IDENTITY chunks from the peer; when its log is complete it must show the session's key as the
/// current key of the DID it claimed. False if the session was discarded for a bad proof.
bool Endpoint::State::absorbIdentity(Peer& p, Session& s,
                                     const std::vector<wire::IdentityChunk>& chunks, Time now) {
  std::string why;
  for (const auto& c : chunks)
    if (!s.peerLog.add(c, why)) break;
  if (why.empty() && !s.peerLog.complete()) return true;
  if (why.empty() && proveLog(s.peerLog.take(), p.did, s.peerKey, directory, why)) {
    s.proven = true;
    if (&s == p.session.get()) sessionProven(p, s);
    return true;
  }
  drop(DropReason::BadIdentity);
  std::string reason = "the peer did not prove it is " + p.did + ": " + why;
  if (&s != p.session.get()) {
    discardPending(p, &s);
  } else {
    failStream(p, reason);
    endSession(p, reason, now);
  }
  return false;
}

void Endpoint::State::endSession(Peer& p, const std::string& reason, Time now) {
  if (!p.session) return;
  bySid.erase(p.session->localSid);
  p.session.reset();
  p.up = false;
  event(TransportEvent::Kind::SessionDown, p, 0, reason);
  if (!p.out.empty() && !p.handshake) startHandshake(p, now);
}

/// Ends everything with `p` (handshakes, pendings, the session) and tells it so: one CLOSE on a
/// proven session, not retransmitted. What is still queued is greeted again (endSession).
void Endpoint::State::leave(Peer& p, const std::string& reason, Time now) {
  cancelHandshake(p);
  discardPendings(p);
  if (p.session && p.session->proven) {
    Bytes packet = startPacket(*p.session);
    wire::writeClose(packet);
    emit(p.address, seal(*p.session, std::move(packet)));
  }
  endSession(p, reason, now);
}

} // namespace flo::core
