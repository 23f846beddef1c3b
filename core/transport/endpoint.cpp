/// \file
/// The Endpoint's public API, its peers and its timers (see endpoint_state.h for how the
/// transport's parts fit together, transport.h for the contracts).
#include "core/check.h"
#include "core/transport/endpoint_state.h"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace flo::core {

const char* dropReasonName(DropReason reason) {
  static const char* const names[kDropReasons] = {
      "truncated",     "oversized",          "bad_version",   "bad_type",      "unknown_session",
      "replay",        "auth_failure",       "bad_handshake", "bad_signature", "rate_limited",
      "session_limit", "protocol_violation", "bad_identity"};
  return names[std::size_t(reason)];
}

std::uint64_t TransportMetrics::droppedTotal() const {
  std::uint64_t total = 0;
  for (auto n : dropped) total += n;
  return total;
}

namespace {
AddressRateLimiter::Key drawKey(const RandomSource& random) {
  AddressRateLimiter::Key k{};
  random(k.data(), k.size());
  return k;
}
} // namespace

Endpoint::State::State(const SigningKey& k, TransportConfig c, RandomSource r)
    : key(k), config(std::move(c)), random(std::move(r)), directory(config.maxPeers * 4),
      ownDid(didKey(key.publicKey())), ownDidKey(ownDid), rateKey(drawKey(random)),
      helloLimiter(config.maxRateEntries, config.helloPerSecond, config.helloBurst, rateKey),
      resetLimiter(config.maxRateEntries, config.helloPerSecond, config.helloBurst, rateKey),
      budget{0, config.maxBuffered} {
  // What the wire can say: a segment's length is 16 bits, and a packet must hold a segment
  // beside the largest ACK.
  FLO_CHECK(config.maxPacket >= wire::kMinDatagram && config.maxPacket <= wire::kMaxDatagram);
  FLO_CHECK(config.maxDatagram >= wire::kMinDatagram && config.maxDatagram <= wire::kMaxDatagram);
}

// ---- helpers ----------------------------------------------------------------------------------

void Endpoint::State::event(TransportEvent::Kind kind, const Peer& p, MessageId id,
                            std::string reason) {
  events.push_back({kind, p.key, id, std::move(reason), p.did});
}

void Endpoint::State::emit(const Address& to, Bytes bytes) {
  ++metrics.packetsOut;
  metrics.bytesOut += bytes.size();
  outgoing.push_back({to, std::move(bytes)});
}

std::uint64_t Endpoint::State::random64() {
  std::array<std::uint8_t, 8> b{};
  random(b.data(), b.size());
  return wire::get(b.data(), 8);
}

std::uint32_t Endpoint::State::newSid() {
  for (;;) {
    std::array<std::uint8_t, 4> b{};
    random(b.data(), b.size());
    auto sid = std::uint32_t(wire::get(b.data(), 4));
    if (sid != 0 && !bySid.count(sid) && !retired.count(sid)) return sid;
  }
}

bool Endpoint::State::adoptLog(std::vector<KeyEvent> log, std::string& why) {
  auto state = verifyLog(log, &why);
  if (!state) return false;
  if (state->currentKey != key.publicKey())
    return why = "the signing key is not the current key of the log", false;
  Bytes bytes = encodeLog(log);
  if (bytes.size() > wire::kMaxLogBytes)
    return why = "the key event log is over " + std::to_string(wire::kMaxLogBytes) + " bytes",
           false;
  ownLog = std::move(log);
  ownLogBytes = std::move(bytes);
  ownDid = state->did;
  ownDigest = *parseDidDifuon(ownDid);
  return true;
}

bool Endpoint::State::knownCurrent(std::string_view did, const PublicKey& peerKey) const {
  auto state = directory.current(did);
  return state && state->currentKey == peerKey;
}

std::size_t Endpoint::State::pathPacket(const Address& address) const {
  std::size_t size = config.pathPacket ? config.pathPacket(address) : 0;
  if (size == 0) size = config.maxPacket;
  return std::clamp(size, wire::kMinDatagram, wire::kMaxDatagram);
}

// ---- peers and streams ------------------------------------------------------------------------

MessageId Endpoint::State::enqueue(Peer& p, const Address& address, Bytes message, Time now) {
  MessageId id = nextId++;
  if (message.size() > config.maxMessage) {
    event(TransportEvent::Kind::Failed, p, id, "message too large");
    return id;
  }
  if (!p.session) p.address = address;
  // Cut for the session's datagrams; before there is one, for the smallest, and cut again when
  // the session starts (installSession).
  p.out.push(id, std::move(message), p.session ? p.session->chunk() : chunkOf(wire::kMinDatagram));
  if (!p.session && !p.handshake && !provenPending(p)) startHandshake(p, now);
  if (held) {
    if (std::find(heldPeers.begin(), heldPeers.end(), p.did) == heldPeers.end())
      heldPeers.push_back(p.did);
    return id;
  }
  flush(p, now);
  return id;
}

/// Makes room for a peer by forgetting one with nothing going on: no session, handshake or
/// message either way (if it comes back, its stream starts afresh). False if none is idle.
bool Endpoint::State::evictIdlePeer() {
  for (auto it = peers.begin(); it != peers.end(); ++it) {
    const Peer& p = *it->second;
    if (p.session || !p.pendings.empty() || p.handshake || !p.out.empty() || !p.in.empty())
      continue;
    if (!p.difuon) byKey.erase(p.key);
    peers.erase(it);
    return true;
  }
  return false;
}

/// The peer named `did` (which the caller has checked is a did:key or a did:difuon).
Peer* Endpoint::State::peerFor(std::string_view did, bool create) {
  auto it = peers.find(did);
  if (it != peers.end()) return it->second.get();
  if (!create || (peers.size() >= config.maxPeers && !evictIdlePeer())) return nullptr;
  auto p = std::make_unique<Peer>(inLimits(), budget);
  p->did = did;
  if (auto k = parseDidKey(did)) {
    p->key = *k;
    byKey[*k] = p.get();
  } else if (auto digest = parseDidDifuon(did)) {
    p->difuon = true;
    p->didDigest = *digest;
    if (auto state = directory.current(did)) p->key = state->currentKey;
  } else {
    return nullptr;
  }
  p->localEpoch = random64();
  Peer* raw = p.get();
  peers.emplace(p->did, std::move(p));
  FLO_CHECK(peers.size() <= config.maxPeers);
  return raw;
}

Session* Endpoint::State::sessionFor(Peer& p, std::uint32_t sid) {
  if (p.session && p.session->localSid == sid) return p.session.get();
  for (auto& s : p.pendings)
    if (s->localSid == sid) return s.get();
  return nullptr;
}

bool Endpoint::State::provenPending(const Peer& p) const {
  return std::any_of(p.pendings.begin(), p.pendings.end(), [](const auto& s) { return s->proven; });
}

/// Gives up on everything queued for `p`: each message fails, and the stream starts over in a
/// new epoch (so the peer does not wait for sequence numbers that will never come).
void Endpoint::State::failStream(Peer& p, const std::string& reason) {
  for (MessageId id : p.out.clear()) event(TransportEvent::Kind::Failed, p, id, reason);
  clearIncoming(p);
  p.localEpoch = random64();
}

void Endpoint::State::clearIncoming(Peer& p) {
  p.in.clear();
}

// ---- stateless reset --------------------------------------------------------------------------

/// The reset token of our session `sid` with the peer at `peer`: a MAC of both under a key only
/// we can derive (the address, so that tokens one peer collects are no use against another's
/// sessions).
wire::Token Endpoint::State::resetToken(std::uint32_t sid, const Address& peer) const {
  Bytes b;
  wire::put32(b, sid);
  wire::put16(b, peer.port);
  wire::putText(b, peer.host);
  wire::Token t{};
  crypto_generichash(t.data(), t.size(), b.data(), b.size(), resetKey.data(), resetKey.size());
  return t;
}

void Endpoint::State::deriveResetKey() {
  crypto_generichash(resetKey.data(), resetKey.size(),
                     reinterpret_cast<const std::uint8_t*>(wire::kResetContext.data()),
                     wire::kResetContext.size(), key.seed().data(), key.seed().size());
}

void Endpoint::State::onReset(const std::uint8_t* d, std::size_t size, Time now) {
  if (size != wire::kResetSize)
    return drop(size < wire::kResetSize ? DropReason::Truncated : DropReason::Oversized);
  auto sid = std::uint32_t(wire::get(d + 2, 4));
  for (auto& [did, p] : peers) {
    Session* s = p->session.get();
    if (s && s->remoteSid == sid && s->peerToken &&
        sodium_memcmp(s->peerToken->data(), d + 6, wire::kTokenSize) == 0)
      return endSession(*p, "the peer lost the session (stateless reset)", now);
  }
  drop(DropReason::UnknownSession);
}

void Endpoint::State::noteOtherVersion(const Address& from, std::uint8_t version) {
  if (otherVersions.size() >= config.maxPeers && !otherVersions.count(from))
    otherVersions.erase(otherVersions.begin());
  otherVersions[from] = version;
}

// ---- timers -----------------------------------------------------------------------------------

std::optional<Time> Endpoint::State::peerTimer(const Peer& p) const {
  std::optional<Time> t;
  auto consider = [&](std::optional<Time> x) {
    if (x && (!t || *x < *t)) t = x;
  };
  if (p.handshake) {
    consider(p.handshake->nextSend);
    consider(p.handshake->started + config.handshakeTimeout);
  } else if (p.session && p.session->rekeyAt) {
    consider(p.session->rekeyAt);
  }
  for (const auto& w : p.pendings) consider(w->created + config.handshakeTimeout);
  if (const Session* s = p.session.get()) {
    if (!s->proven) consider(s->created + config.handshakeTimeout);
    consider(s->lastReceived + config.sessionTimeout);
    consider(s->lastSent + config.keepalive);
    consider(s->acks.deadline());
    consider(s->recovery.nextTimer());
  }
  return t;
}

void Endpoint::State::peerOnTimer(Peer& p, Time now) {
  if (p.handshake) {
    Handshake& hs = *p.handshake;
    if (now >= hs.started + config.handshakeTimeout) {
      cancelHandshake(p);
      if (p.session && p.session->proven) { // a rekey that failed: keep the session, try later
        p.session->rekeyAt = now + config.rekeyAfter;
      } else {
        std::string reason = "handshake timed out";
        if (auto v = otherVersions.find(p.address); v != otherVersions.end())
          reason += " (the peer at " + p.address.host + ":" + std::to_string(p.address.port) +
                    " speaks transport version " + std::to_string(v->second) +
                    "; this endpoint speaks version " + std::to_string(wire::kVersion) + ")";
        failStream(p, reason);
      }
    } else if (now >= hs.nextSend) {
      emit(p.address, hs.hello);
      hs.interval = std::min<Clock::duration>(hs.interval * 2, config.maxRto);
      hs.nextSend = now + hs.interval;
    }
  }
  while (!p.pendings.empty() && now >= p.pendings.front()->created + config.handshakeTimeout)
    discardPending(p, p.pendings.front().get());
  if (!p.out.empty() && !p.session && !p.handshake && !provenPending(p)) startHandshake(p, now);
  Session* s = p.session.get();
  if (!s) return;
  if (!s->proven && now >= s->created + config.handshakeTimeout) {
    std::string reason = "the peer did not prove it is " + p.did + " in time";
    failStream(p, reason);
    return endSession(p, reason, now);
  }
  if (now >= s->lastReceived + config.sessionTimeout) return endSession(p, "timed out", now);
  PacketFate fate(p, *s);
  if (!s->recovery.onTimer(now, fate)) return endSession(p, "peer unresponsive", now);
  if (now >= s->lastSent + config.keepalive) s->pingPending = true;
  if (s->rekeyAt && now >= *s->rekeyAt && !p.handshake) {
    // Fresh ephemeral keys: the new session replaces this one when the peer answers, and the
    // stream carries on across it (same epoch).
    startHandshake(p, now); // rekeyAt stays: if this one is cancelled, the next pass retries
  }
  flush(p, now);
}

// ---- Endpoint ---------------------------------------------------------------------------------

Endpoint::Endpoint(const SigningKey& key, TransportConfig config, RandomSource random)
    : state_(std::make_unique<State>(key, std::move(config), std::move(random))) {
  ensureSodium();
  state_->deriveResetKey();
}

Endpoint::Endpoint(const SigningKey& key, std::vector<KeyEvent> log, TransportConfig config,
                   RandomSource random)
    : Endpoint(key, std::move(config), std::move(random)) {
  std::string why;
  if (!state_->adoptLog(std::move(log), why))
    throw std::invalid_argument("transport identity: " + why);
}

Endpoint::~Endpoint() = default;

const PublicKey& Endpoint::publicKey() const {
  return state_->key.publicKey();
}

const std::string& Endpoint::did() const {
  return state_->ownDid;
}

KeyDirectory& Endpoint::directory() {
  return state_->directory;
}

MessageId Endpoint::send(const Address& address, const PublicKey& peer, Bytes message, Time now) {
  State& st = *state_;
  if (auto it = st.byKey.find(peer); it != st.byKey.end())
    return st.enqueue(*it->second, address, std::move(message), now);
  return send(address, didKey(peer), std::move(message), now);
}

MessageId Endpoint::send(const Address& address, std::string_view did, Bytes message, Time now) {
  State& st = *state_;
  if (auto it = st.peers.find(did); it != st.peers.end())
    return st.enqueue(*it->second, address, std::move(message), now);
  auto fail = [&](std::string reason) {
    MessageId id = st.nextId++;
    PublicKey key{};
    if (auto k = parseDidKey(did)) key = *k;
    st.events.push_back(
        {TransportEvent::Kind::Failed, key, id, std::move(reason), std::string(did)});
    return id;
  };
  if (!parseDidKey(did) && !parseDidDifuon(did))
    return fail("not a did:key or did:difuon: " + std::string(did));
  if (did == st.ownDid || did == st.ownDidKey) return fail("cannot send to self");
  Peer* p = st.peerFor(did, true);
  if (!p) return fail("too many peers");
  return st.enqueue(*p, address, std::move(message), now);
}

void Endpoint::hold() {
  state_->held = true;
}

void Endpoint::release(Time now) {
  State& st = *state_;
  st.held = false;
  for (const std::string& did : std::exchange(st.heldPeers, {}))
    if (auto it = st.peers.find(did); it != st.peers.end()) st.flush(*it->second, now);
}

void Endpoint::close(Time now) {
  State& st = *state_;
  for (auto& [did, p] : st.peers) {
    st.failStream(*p, "the endpoint closed");
    st.leave(*p, "closed", now);
  }
}

bool Endpoint::rotate(const SigningKey& key, std::vector<KeyEvent> log, Time now,
                      std::string* error) {
  State& st = *state_;
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return false;
  };
  if (st.ownLog.empty()) return fail("a did:key identity has no key event log to rotate");
  if (log.size() <= st.ownLog.size() || !logExtends(log, st.ownLog))
    return fail("the new log does not extend ours");
  SigningKey old = st.key;
  st.key = key;
  std::string why;
  if (!st.adoptLog(std::move(log), why)) {
    st.key = old;
    return fail(why);
  }
  st.deriveResetKey();
  st.ownDidKey = didKey(key.publicKey());
  // Every session was authenticated by the old key: hand-shake again, from the new one.
  for (auto& [did, p] : st.peers) {
    st.leave(*p, "local key rotated", now); // its reset tokens came from the old key
    if (!p->out.empty() && !p->handshake) st.startHandshake(*p, now);
  }
  return true;
}

void Endpoint::onPacket(const Address& from, const std::uint8_t* data, std::size_t size, Time now) {
  State& st = *state_;
  ++st.metrics.packetsIn;
  st.metrics.bytesIn += size;
  if (size < 2) return st.drop(DropReason::Truncated);
  if (size > st.config.maxDatagram) return st.drop(DropReason::Oversized);
  if (data[0] != wire::kVersion) {
    // An older (or newer) peer: nothing of it can be read, but a handshake with it that times
    // out can say why.
    if (data[0] >= 1 && data[0] < 16 && data[1] >= wire::kHello && data[1] <= wire::kReset)
      st.noteOtherVersion(from, data[0]);
    return st.drop(DropReason::BadVersion);
  }
  switch (data[1]) {
  case wire::kHello:
    return st.onHello(from, data, size, now);
  case wire::kWelcome:
    return st.onWelcome(from, data, size, now);
  case wire::kData:
    return st.onData(from, data, size, now);
  case wire::kReset:
    return st.onReset(data, size, now);
  default:
    return st.drop(DropReason::BadType);
  }
}

void Endpoint::onTimer(Time now) {
  State& st = *state_;
  for (auto& [key, peer] : st.peers) {
    auto due = st.peerTimer(*peer);
    if (due && *due <= now) st.peerOnTimer(*peer, now);
  }
}

std::optional<Time> Endpoint::nextTimer() const {
  std::optional<Time> t;
  for (auto& [key, peer] : state_->peers) {
    auto due = state_->peerTimer(*peer);
    if (due && (!t || *due < *t)) t = due;
  }
  return t;
}

std::vector<Datagram> Endpoint::takeOutgoing() {
  return std::exchange(state_->outgoing, {});
}
std::vector<Delivery> Endpoint::takeDelivered() {
  return std::exchange(state_->delivered, {});
}
std::vector<TransportEvent> Endpoint::takeEvents() {
  return std::exchange(state_->events, {});
}

const TransportMetrics& Endpoint::metrics() const {
  return state_->metrics;
}

bool Endpoint::hasSession(std::string_view did) const {
  auto it = state_->peers.find(did);
  return it != state_->peers.end() && it->second->session && it->second->session->proven;
}
bool Endpoint::hasSession(const PublicKey& peer) const {
  return hasSession(didKey(peer));
}

std::optional<SessionStats> Endpoint::sessionStats(std::string_view did) const {
  auto it = state_->peers.find(did);
  if (it == state_->peers.end() || !it->second->session) return std::nullopt;
  const Session& s = *it->second->session;
  using Ms = std::chrono::duration<double, std::milli>;
  return SessionStats{s.recovery.cwnd(), Ms(s.recovery.srtt()).count(),
                      Ms(s.recovery.effectiveRto()).count(), s.recovery.packetsInFlight(),
                      s.packetSize};
}
std::optional<SessionStats> Endpoint::sessionStats(const PublicKey& peer) const {
  return sessionStats(didKey(peer));
}

void Endpoint::injectFramesForTesting(std::string_view did, const std::uint8_t* plaintext,
                                      std::size_t size, Time now) {
  auto it = state_->peers.find(did);
  if (it == state_->peers.end() || !it->second->session) return;
  Session& s = *it->second->session;
  auto largest = s.acks.largestReceived();
  std::uint64_t pn = largest ? *largest + 1 : 0;
  state_->handleFrames(*it->second, s, pn, plaintext, size, now);
}
void Endpoint::injectFramesForTesting(const PublicKey& peer, const std::uint8_t* plaintext,
                                      std::size_t size, Time now) {
  injectFramesForTesting(didKey(peer), plaintext, size, now);
}

} // namespace flo::core
