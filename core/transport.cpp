/// \file
/// The transport's protocol core (see transport.h for the wire format and the contracts).
/// Every handler states the invariant it relies on; network input is dropped with a counted
/// reason and never throws.
#include "core/transport.h"

#include "core/identity.h"

#include <sodium.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <utility>

namespace flo::core {

namespace {

constexpr std::uint8_t kVersion = 2;
constexpr std::uint8_t kHello = 1, kWelcome = 2, kData = 3, kReset = 4;
constexpr std::uint8_t kPaddingFrame = 0, kSegmentFrame = 1, kAckFrame = 2, kPingFrame = 3,
                       kIdentityFrame = 4, kCloseFrame = 5, kResetTokenFrame = 6;
constexpr std::size_t kResetSize = 22, kTokenSize = 16;
constexpr std::size_t kHelloSize = 222, kHelloSigned = 158;
constexpr std::size_t kWelcomeSize = 146, kWelcomeSigned = 82;
constexpr std::size_t kDataHeader = 14, kTag = 16;
constexpr std::size_t kSegmentHeader = 1 + 8 + 4 + 4 + 2;
constexpr std::size_t kIdentityHeader = 1 + 2 + 2 + 2;
/// An encoded key event log, in IDENTITY frames: about 120 rotations, at most a few ms to verify.
constexpr std::size_t kMaxLogBytes = 32768;
constexpr std::size_t kMaxAckRanges = 7;
constexpr std::size_t kAckMax = 1 + 4 + 1 + kMaxAckRanges * 16;
constexpr std::size_t kKeptRanges = 32;  ///< received packet-number ranges remembered for ACKs
constexpr unsigned kPacketThreshold = 3; ///< RFC 9002 reordering threshold
constexpr unsigned kQuickAcks = 16;      ///< packets acknowledged at once after a sign of loss
constexpr std::size_t kMaxPendings = 4;  ///< responder handshakes waiting per peer

constexpr std::string_view kHelloContext = "difuon/transport/2/hello";
constexpr std::string_view kWelcomeContext = "difuon/transport/2/welcome";
constexpr std::string_view kKeysContext = "difuon/transport/2/keys";
constexpr std::string_view kResetContext = "difuon/transport/2/reset";

using Duration = Clock::duration;

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(std::uint8_t(v >> 8));
  b.push_back(std::uint8_t(v));
}
void put32(Bytes& b, std::uint32_t v) {
  for (int i = 3; i >= 0; --i) b.push_back(std::uint8_t(v >> (8 * i)));
}
void put64(Bytes& b, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(std::uint8_t(v >> (8 * i)));
}
template <std::size_t N> void putArray(Bytes& b, const std::array<std::uint8_t, N>& a) {
  b.insert(b.end(), a.begin(), a.end());
}
void putText(Bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}
std::uint64_t get(const std::uint8_t* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = v << 8 | p[i];
  return v;
}
template <std::size_t N> std::array<std::uint8_t, N> getArray(const std::uint8_t* p) {
  std::array<std::uint8_t, N> a{};
  std::memcpy(a.data(), p, N);
  return a;
}

/// The AEAD nonce of a DATA packet: 4 zero bytes and its 8-byte packet number. Every session
/// and direction has its own key and packet numbers never repeat, so no nonce repeats under a
/// key; ChaCha20-Poly1305 (IETF) then needs no per-packet subkey, as XChaCha20 would.
std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES>
packetNonce(const std::uint8_t* pn) {
  std::array<std::uint8_t, crypto_aead_chacha20poly1305_ietf_NPUBBYTES> nonce{};
  std::memcpy(nonce.data() + 4, pn, 8);
  return nonce;
}

/// Adds the byte range [first, end) to a set of disjoint ranges (first -> end); returns how
/// many of its bytes were new.
std::size_t addRange(std::map<std::uint32_t, std::uint32_t>& have, std::uint32_t first,
                     std::uint32_t end) {
  std::size_t before = 0;
  auto r = have.upper_bound(first);
  if (r != have.begin() && std::prev(r)->second >= first) r = std::prev(r);
  while (r != have.end() && r->first <= end) {
    first = std::min(first, r->first);
    end = std::max(end, r->second);
    before += r->second - r->first;
    r = have.erase(r);
  }
  have[first] = end;
  return end - first - before;
}

/// Sliding anti-replay window over packet numbers: a bitmap indexed by number mod its size.
class ReplayWindow {
public:
  explicit ReplayWindow(std::size_t size) : bits_((std::max<std::size_t>(size, 64) + 63) / 64) {}
  /// True if `pn` is new and not too old (checked before any decryption).
  bool fresh(std::uint64_t pn) const {
    if (!any_ || pn > highest_) return true;
    if (highest_ - pn >= width()) return false;
    return !test(pn);
  }
  /// Records an authenticated packet number.
  void mark(std::uint64_t pn) {
    if (!any_) {
      any_ = true;
      highest_ = pn;
    } else if (pn > highest_) {
      if (pn - highest_ >= width()) {
        std::fill(bits_.begin(), bits_.end(), 0);
      } else {
        for (std::uint64_t n = highest_ + 1; n <= pn; ++n) clear(n);
      }
      highest_ = pn;
    }
    bits_[(pn % width()) / 64] |= std::uint64_t(1) << (pn % 64);
  }

private:
  std::uint64_t width() const { return bits_.size() * 64; }
  bool test(std::uint64_t pn) const { return bits_[(pn % width()) / 64] >> (pn % 64) & 1; }
  void clear(std::uint64_t pn) { bits_[(pn % width()) / 64] &= ~(std::uint64_t(1) << (pn % 64)); }
  std::vector<std::uint64_t> bits_;
  std::uint64_t highest_ = 0;
  bool any_ = false;
};

enum class SegState : std::uint8_t { Unsent, InFlight, Acked };

struct SegmentRef {
  std::uint64_t seq;
  std::uint32_t index;
};

struct SentPacket {
  Time sent;
  std::size_t dataBytes = 0;
  std::vector<SegmentRef> segments;
  std::vector<std::uint16_t> identity; ///< chunks of our key event log
  bool token = false;                  ///< our reset token
  bool ping = false;      ///< a PING to send again if this is lost (key confirmation, keep-alive)
  bool ackAtOnce = false; ///< it carries a PING: the peer acknowledges it without delay
};

/// One keyed session. Invariant: `sent` holds exactly the ack-eliciting packets in flight.
struct Session {
  explicit Session(const TransportConfig& c) : replay(c.replayWindow) {}
  std::uint32_t localSid = 0, remoteSid = 0;
  Secret<32> txKey, rxKey;
  std::uint64_t peerEpoch = 0;
  PublicKey peerKey{}; ///< the key the handshake authenticated
  /// Whether peerKey is bound to the peer's DID: at once for a did:key, and for a did:difuon
  /// when its key event log (held, or sent in IDENTITY frames) shows peerKey as current.
  /// Nothing is sent to, or delivered from, an unproven peer.
  bool proven = false;
  Bytes idBuf;                                   ///< the peer's log, being reassembled
  std::map<std::uint32_t, std::uint32_t> idHave; ///< received byte ranges of idBuf
  std::size_t idReceived = 0;
  std::vector<SegState> idOut; ///< our own log's chunks, sent first in every session
  std::size_t idUnsent = 0;
  bool tokenPending = false; ///< our reset token for this session is still to be sent
  std::optional<std::array<std::uint8_t, kTokenSize>> peerToken; ///< the peer's, for our sid
  Address address;      ///< where a provisional (responder) session's HELLO came from
  Bytes hello, welcome; ///< responder: to answer a retransmitted HELLO without new work
  Time created{}, lastSent{}, lastReceived{};

  std::uint64_t nextPn = 0;
  ReplayWindow replay;
  // receive side: which ack-eliciting packets to acknowledge
  std::map<std::uint64_t, std::uint64_t> received; ///< first -> last (inclusive)
  bool ackPending = false;
  unsigned unackedEliciting = 0, quickAcks = 0;
  std::optional<Time> ackDeadline;
  std::optional<std::uint64_t> largestReceived; ///< of every authenticated packet
  // send side
  std::map<std::uint64_t, SentPacket> sent;
  std::size_t inflightBytes = 0;
  std::optional<std::uint64_t> largestAcked;
  double cwnd = 10, ssthresh = 1e9;
  Time recoveryStart = Time::min(); ///< packets sent up to here belong to the current episode
  Duration srtt{}, rttvar{}, rto{}, latestRtt{};
  bool haveRtt = false;
  unsigned backoff = 0, consecutiveRtos = 0;
  std::optional<Time> lossTime; ///< when a packet below largestAcked turns lost by time
  std::optional<Time> rtoAt;    ///< the retransmission timer (RFC 6298), while `sent` is not empty
  std::optional<Time> rekeyAt;  ///< initiator: when to greet again for fresh keys
  double paceTokens = 0;        ///< packets that may leave now (pacing)
  Time paceLast{};
  std::optional<Time> paceAt; ///< when the next packet of data may leave, if pacing holds it
  unsigned probes = 0;        ///< probe packets to send now, beyond the window
  unsigned tailProbes = 0;    ///< tail loss probe timeouts since the last ACK of new data
  std::size_t peerWindow = 64 * 1024;
  bool pingPending = false;
};

struct Handshake {
  std::uint32_t sid = 0;
  Secret<32> ephemeral;
  Bytes hello;
  Time started{}, nextSend{};
  Duration interval{};
};

struct OutMessage {
  MessageId id = 0;
  Bytes data;
  std::uint64_t seq = 0;
  std::vector<SegState> segs;
  std::size_t acked = 0;
};

struct InMessage {
  Bytes data;
  std::map<std::uint32_t, std::uint32_t> have; ///< received byte ranges [first, end)
  std::size_t received = 0;
};

struct Peer {
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
  // the outgoing stream: out[i].seq == out.front().seq + i
  std::deque<OutMessage> out;
  std::uint64_t nextSeq = 0;
  std::deque<SegmentRef> lost;
  std::uint64_t cursorSeq = 0;
  std::uint32_t cursorSeg = 0;
  // the incoming stream
  std::uint64_t nextDeliver = 0;
  std::map<std::uint64_t, InMessage> in;
  std::size_t buffered = 0;
  /// The furthest stream position received, (message_seq, end offset): a segment below it
  /// fills a gap or repeats, and is acknowledged at once.
  std::optional<std::pair<std::uint64_t, std::uint32_t>> highest;
};

struct RateBucket {
  double tokens = 0;
  Time last{};
  bool used = false;
};

enum class Accept { Ok, Refused, Violation };

/// The frames of one DATA packet, parsed in full before any is acted on.
struct Frames {
  struct Segment {
    std::uint64_t seq;
    std::uint32_t offset, total;
    const std::uint8_t* bytes;
    std::uint16_t length;
  };
  struct IdentityChunk {
    std::uint16_t total, offset, length;
    const std::uint8_t* bytes;
  };
  std::vector<Segment> segments;
  std::vector<IdentityChunk> identity;
  std::optional<std::uint32_t> window;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  bool eliciting = false, ping = false, close = false;
  std::optional<std::array<std::uint8_t, kTokenSize>> token;
};

} // namespace

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

struct Endpoint::State {
  State(const SigningKey& k, TransportConfig c, RandomSource r)
      : key(k), config(std::move(c)), random(std::move(r)), directory(config.maxPeers * 4),
        ownDid(didKey(key.publicKey())), ownDidKey(ownDid),
        helloBuckets(std::max<std::size_t>(config.maxRateEntries, 1)),
        resetBuckets(std::max<std::size_t>(config.maxRateEntries, 1)) {
    random(rateKey.data(), rateKey.size());
  }

  SigningKey key;
  TransportConfig config;
  RandomSource random;
  TransportMetrics metrics;
  KeyDirectory directory;
  std::vector<KeyEvent> ownLog; ///< empty: we are a did:key
  Bytes ownLogBytes;
  std::string ownDid;
  Digest ownDigest{};
  std::map<std::string, std::unique_ptr<Peer>, std::less<>> peers; ///< by DID
  std::map<PublicKey, Peer*> byKey;      ///< the did:key peers, by key (no base58 per message)
  std::string ownDidKey;                 ///< the did:key of our current key
  std::map<std::uint32_t, Peer*> bySid;  ///< handshake, pending and current sessions
  std::map<std::uint32_t, Time> retired; ///< sids replaced by a rekey: no RESET until then
  /// Token buckets for source addresses, in fixed tables indexed by a keyed hash (SipHash) of
  /// the address: constant time and memory whatever the flood, and collisions cannot be aimed
  /// at a given address by someone who does not know the key.
  std::vector<RateBucket> helloBuckets, resetBuckets;
  std::array<std::uint8_t, crypto_shorthash_KEYBYTES> rateKey{};
  std::size_t totalBuffered = 0; ///< reassembly bytes over all peers
  Secret<32> resetKey;           ///< from our signing key, so a restart computes the same tokens
  std::vector<Datagram> outgoing;
  std::vector<Delivery> delivered;
  std::vector<TransportEvent> events;
  MessageId nextId = 1;

  // ---- helpers ------------------------------------------------------------------------------

  void drop(DropReason r) { ++metrics.dropped[std::size_t(r)]; }

  void event(TransportEvent::Kind kind, const Peer& p, MessageId id = 0, std::string reason = {}) {
    events.push_back({kind, p.key, id, std::move(reason), p.did});
  }

  /// Takes `log` as our own (its current key must be ours).
  bool adoptLog(std::vector<KeyEvent> log, std::string& why) {
    auto state = verifyLog(log, &why);
    if (!state) return false;
    if (state->currentKey != key.publicKey())
      return why = "the signing key is not the current key of the log", false;
    Bytes bytes = encodeLog(log);
    if (bytes.size() > kMaxLogBytes)
      return why = "the key event log is over " + std::to_string(kMaxLogBytes) + " bytes", false;
    ownLog = std::move(log);
    ownLogBytes = std::move(bytes);
    ownDid = state->did;
    ownDigest = *parseDidDifuon(ownDid);
    return true;
  }

  /// Whether `did` names `peerKey` by what we already know.
  bool knownCurrent(std::string_view did, const PublicKey& peerKey) const {
    auto state = directory.current(did);
    return state && state->currentKey == peerKey;
  }

  void emit(const Address& to, Bytes bytes) {
    ++metrics.packetsOut;
    metrics.bytesOut += bytes.size();
    outgoing.push_back({to, std::move(bytes)});
  }

  std::uint64_t random64() {
    std::array<std::uint8_t, 8> b{};
    random(b.data(), b.size());
    return get(b.data(), 8);
  }

  std::uint32_t newSid() {
    for (;;) {
      std::array<std::uint8_t, 4> b{};
      random(b.data(), b.size());
      auto sid = std::uint32_t(get(b.data(), 4));
      if (sid != 0 && !bySid.count(sid) && !retired.count(sid)) return sid;
    }
  }

  /// Segment payload: a full segment fits beside the largest ACK and a PING.
  std::size_t chunk() const {
    return config.maxPacket - kDataHeader - kTag - kAckMax - 1 - kSegmentHeader;
  }
  std::size_t segmentCount(std::size_t size) const {
    return size == 0 ? 1 : (size + chunk() - 1) / chunk();
  }
  std::size_t segmentLength(const OutMessage& m, std::uint32_t index) const {
    std::size_t offset = std::size_t(index) * chunk();
    return std::min(chunk(), m.data.size() - offset);
  }

  Duration effectiveRto(const Session& s) const {
    Duration base = s.haveRtt ? s.rto : Duration(config.initialRto);
    Duration r = base * (std::int64_t(1) << std::min(s.backoff, 16u));
    return std::min(r, Duration(config.maxRto));
  }

  /// Queues a message on `p`'s stream and sends what the windows allow.
  MessageId enqueue(Peer& p, const Address& address, Bytes message, Time now) {
    MessageId id = nextId++;
    if (message.size() > config.maxMessage) {
      event(TransportEvent::Kind::Failed, p, id, "message too large");
      return id;
    }
    if (!p.session) p.address = address;
    OutMessage m;
    m.id = id;
    m.seq = p.nextSeq++;
    m.segs.assign(segmentCount(message.size()), SegState::Unsent);
    m.data = std::move(message);
    p.out.push_back(std::move(m));
    if (!p.session && !p.handshake && !provenPending(p)) startHandshake(p, now);
    flush(p, now);
    return id;
  }

  /// Makes room for a peer by forgetting one with nothing going on: no session, handshake or
  /// message either way (if it comes back, its stream starts afresh). False if none is idle.
  bool evictIdlePeer() {
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
  Peer* peerFor(std::string_view did, bool create) {
    auto it = peers.find(did);
    if (it != peers.end()) return it->second.get();
    if (!create || (peers.size() >= config.maxPeers && !evictIdlePeer())) return nullptr;
    auto p = std::make_unique<Peer>();
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
    return raw;
  }

  OutMessage* messageOf(Peer& p, std::uint64_t seq) {
    if (p.out.empty() || seq < p.out.front().seq) return nullptr;
    std::uint64_t i = seq - p.out.front().seq;
    return i < p.out.size() ? &p.out[i] : nullptr;
  }

  Session* sessionFor(Peer& p, std::uint32_t sid) {
    if (p.session && p.session->localSid == sid) return p.session.get();
    for (auto& s : p.pendings)
      if (s->localSid == sid) return s.get();
    return nullptr;
  }

  bool provenPending(const Peer& p) const {
    return std::any_of(p.pendings.begin(), p.pendings.end(),
                       [](const auto& s) { return s->proven; });
  }

  /// Takes pending session `s` out of `p` (to install it; discardPending forgets it).
  std::unique_ptr<Session> takePending(Peer& p, const Session* s) {
    auto it = std::find_if(p.pendings.begin(), p.pendings.end(),
                           [&](const auto& x) { return x.get() == s; });
    if (it == p.pendings.end()) return nullptr;
    std::unique_ptr<Session> out = std::move(*it);
    p.pendings.erase(it);
    return out;
  }

  void discardPending(Peer& p, const Session* s) {
    bySid.erase(s->localSid);
    takePending(p, s);
  }

  void discardPendings(Peer& p) {
    for (auto& s : p.pendings) bySid.erase(s->localSid);
    p.pendings.clear();
  }

  /// Forgets the sid of a session another replaced: a DATA packet still in flight to it (the
  /// peer has not switched yet) is dropped for a while without a RESET, which would end the
  /// peer's new session too.
  void retireQuietly(std::uint32_t sid, Time now) {
    bySid.erase(sid);
    if (retired.size() >= 4 * config.maxPeers) retired.erase(retired.begin());
    retired[sid] = now + config.handshakeTimeout;
  }

  /// The reset token of our session `sid` with the peer at `peer`: a MAC of both under a key
  /// only we can derive (the address, so that tokens one peer collects are no use against
  /// another's sessions).
  std::array<std::uint8_t, kTokenSize> resetToken(std::uint32_t sid, const Address& peer) const {
    Bytes b;
    put32(b, sid);
    put16(b, peer.port);
    putText(b, peer.host);
    std::array<std::uint8_t, kTokenSize> t{};
    crypto_generichash(t.data(), t.size(), b.data(), b.size(), resetKey.data(), resetKey.size());
    return t;
  }

  void deriveResetKey() {
    crypto_generichash(resetKey.data(), resetKey.size(),
                       reinterpret_cast<const std::uint8_t*>(kResetContext.data()),
                       kResetContext.size(), key.seed().data(), key.seed().size());
  }

  /// One token of the bucket for `from` (helloPerSecond, helloBurst), if there is one.
  bool allow(std::vector<RateBucket>& table, const Address& from, Time now) {
    Bytes a(from.host.begin(), from.host.end());
    put16(a, from.port);
    std::array<std::uint8_t, crypto_shorthash_BYTES> h{};
    crypto_shorthash(h.data(), a.data(), a.size(), rateKey.data());
    RateBucket& b = table[get(h.data(), 8) % table.size()];
    if (!b.used) b = RateBucket{config.helloBurst, now, true};
    double elapsed = std::chrono::duration<double>(now - b.last).count();
    if (elapsed > 0)
      b.tokens = std::min(config.helloBurst, b.tokens + elapsed * config.helloPerSecond);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /// X25519 of our ephemeral secret and their public key, then the two directional keys.
  /// False for a low-order peer point (crypto_scalarmult refuses an all-zero result).
  bool deriveKeys(const Secret<32>& ephemeral, const PublicKey& theirEphemeral, const Bytes& hello,
                  const Bytes& welcome, bool initiator, Session& s) {
    Secret<32> shared;
    if (crypto_scalarmult(shared.data(), ephemeral.data(), theirEphemeral.data()) != 0)
      return false;
    Bytes transcript = hello;
    transcript.insert(transcript.end(), welcome.begin(), welcome.end());
    Digest th = hash(transcript);
    Secret<64> keys;
    crypto_generichash_state st;
    crypto_generichash_init(&st, nullptr, 0, 64);
    crypto_generichash_update(&st, reinterpret_cast<const std::uint8_t*>(kKeysContext.data()),
                              kKeysContext.size());
    crypto_generichash_update(&st, shared.data(), shared.size());
    crypto_generichash_update(&st, th.data(), th.size());
    crypto_generichash_final(&st, keys.data(), 64);
    sodium_memzero(&st, sizeof st);
    std::memcpy((initiator ? s.txKey : s.rxKey).data(), keys.data(), 32);
    std::memcpy((initiator ? s.rxKey : s.txKey).data(), keys.data() + 32, 32);
    return true;
  }

  // ---- handshake ----------------------------------------------------------------------------

  void startHandshake(Peer& p, Time now) {
    Handshake hs;
    hs.sid = newSid();
    random(hs.ephemeral.data(), hs.ephemeral.size());
    PublicKey ephPub{};
    crypto_scalarmult_base(ephPub.data(), hs.ephemeral.data());
    std::array<std::uint8_t, 16> nonce{};
    random(nonce.data(), nonce.size());
    Bytes& b = hs.hello;
    b.push_back(kVersion);
    b.push_back(kHello);
    put32(b, hs.sid);
    put64(b, p.localEpoch);
    putArray(b, ephPub);
    putArray(b, nonce);
    putArray(b, key.publicKey());
    putArray(b, ownLog.empty() ? Digest{} : ownDigest);
    putArray(b, p.difuon ? p.didDigest : p.key);
    Bytes signedBytes;
    putText(signedBytes, kHelloContext);
    signedBytes.insert(signedBytes.end(), b.begin(), b.end());
    putArray(b, key.sign(signedBytes));
    hs.started = now;
    hs.interval = config.initialRto;
    hs.nextSend = now + hs.interval;
    bySid[hs.sid] = &p;
    emit(p.address, hs.hello);
    p.handshake = std::move(hs);
  }

  void cancelHandshake(Peer& p) {
    if (!p.handshake) return;
    bySid.erase(p.handshake->sid);
    p.handshake.reset(); // wipes the ephemeral secret
  }

  /// Gives up on everything queued for `p`: each message fails, and the stream starts over in
  /// a new epoch (so the peer does not wait for sequence numbers that will never come).
  void failStream(Peer& p, const std::string& reason) {
    for (auto& m : p.out) event(TransportEvent::Kind::Failed, p, m.id, reason);
    p.out.clear();
    p.lost.clear();
    p.nextSeq = p.cursorSeq = 0;
    p.cursorSeg = 0;
    clearIncoming(p);
    p.localEpoch = random64();
  }

  /// Forgets everything received from `p` and not delivered yet.
  void clearIncoming(Peer& p) {
    p.in.clear();
    totalBuffered -= p.buffered;
    p.buffered = 0;
    p.nextDeliver = 0;
    p.highest.reset();
  }

  void onHello(const Address& from, const std::uint8_t* d, std::size_t size, Time now) {
    if (size != kHelloSize)
      return drop(size < kHelloSize ? DropReason::Truncated : DropReason::Oversized);
    auto initiatorKey = getArray<32>(d + 62);
    auto initiatorId = getArray<32>(d + 94);
    auto expected = getArray<32>(d + 126);
    bool forUs = expected == key.publicKey() || (!ownLog.empty() && expected == ownDigest);
    if (!forUs || initiatorKey == key.publicKey()) return drop(DropReason::BadHandshake);
    if (!allow(helloBuckets, from, now)) return drop(DropReason::RateLimited);
    // Who the initiator says it is: its key, or a did:difuon its log must bear out.
    bool claimsLog = initiatorId != Digest{};
    std::string claimed = claimsLog ? didDifuon(initiatorId) : didKey(initiatorKey);
    if (claimed == ownDid) return drop(DropReason::BadHandshake);
    Peer* known = peerFor(claimed, false);
    // Simultaneous open: the lower key stays initiator, the higher one answers.
    if (known && known->handshake && key.publicKey() < initiatorKey) return;
    // A retransmitted HELLO (our WELCOME was lost): answer again without new work.
    if (known) {
      for (const auto& w : known->pendings) {
        if (w->hello.size() == size && std::memcmp(w->hello.data(), d, size) == 0) {
          emit(from, w->welcome);
          return;
        }
      }
    }
    Bytes signedBytes;
    putText(signedBytes, kHelloContext);
    signedBytes.insert(signedBytes.end(), d, d + kHelloSigned);
    if (!verifySignature(initiatorKey, getArray<64>(d + kHelloSigned), signedBytes))
      return drop(DropReason::BadSignature);
    bool proven = !claimsLog || knownCurrent(claimed, initiatorKey);
    Peer* p = known ? known : peerFor(claimed, true);
    if (!p) return drop(DropReason::SessionLimit);

    auto s = std::make_unique<Session>(config);
    s->peerKey = initiatorKey;
    s->proven = proven;
    s->localSid = newSid();
    s->remoteSid = std::uint32_t(get(d + 2, 4));
    s->peerEpoch = get(d + 6, 8);
    s->address = from;
    s->created = s->lastReceived = s->lastSent = now;
    s->hello.assign(d, d + size);
    Secret<32> ephemeral;
    random(ephemeral.data(), ephemeral.size());
    PublicKey ephPub{};
    crypto_scalarmult_base(ephPub.data(), ephemeral.data());
    Bytes& w = s->welcome;
    w.push_back(kVersion);
    w.push_back(kWelcome);
    put32(w, s->remoteSid);
    put32(w, s->localSid);
    put64(w, p->localEpoch);
    putArray(w, ephPub);
    putArray(w, key.publicKey());
    Bytes welcomeSigned;
    putText(welcomeSigned, kWelcomeContext);
    putArray(welcomeSigned, hash(s->hello));
    welcomeSigned.insert(welcomeSigned.end(), w.begin(), w.end());
    putArray(w, key.sign(welcomeSigned));
    if (!deriveKeys(ephemeral, getArray<32>(d + 14), s->hello, s->welcome, false, *s))
      return drop(DropReason::BadHandshake);
    // Our own handshake, if any, runs on until this one is confirmed (installSession): a HELLO
    // proves nothing about freshness, and a replayed one must cancel nothing.
    if (p->pendings.size() >= kMaxPendings) discardPending(*p, p->pendings.front().get());
    bySid[s->localSid] = p;
    emit(from, s->welcome);
    if (p->address.host.empty() && p->address.port == 0) p->address = from;
    p->pendings.push_back(std::move(s));
  }

  void onWelcome(const Address& from, const std::uint8_t* d, std::size_t size, Time now) {
    if (size != kWelcomeSize)
      return drop(size < kWelcomeSize ? DropReason::Truncated : DropReason::Oversized);
    auto sid = std::uint32_t(get(d + 2, 4));
    auto it = bySid.find(sid);
    if (it == bySid.end() || !it->second->handshake || it->second->handshake->sid != sid)
      return drop(DropReason::UnknownSession);
    Peer& p = *it->second;
    // A did:key peer must answer with that key; a did:difuon one with any key, to be proven.
    auto responderKey = getArray<32>(d + 50);
    if ((!p.difuon && responderKey != p.key) || responderKey == key.publicKey())
      return drop(DropReason::BadHandshake);
    Handshake& hs = *p.handshake;
    Bytes signedBytes;
    putText(signedBytes, kWelcomeContext);
    putArray(signedBytes, hash(hs.hello));
    signedBytes.insert(signedBytes.end(), d, d + kWelcomeSigned);
    if (!verifySignature(responderKey, getArray<64>(d + kWelcomeSigned), signedBytes))
      return drop(DropReason::BadSignature);
    auto s = std::make_unique<Session>(config);
    s->peerKey = responderKey;
    s->proven = !p.difuon || knownCurrent(p.did, responderKey);
    s->localSid = sid;
    s->remoteSid = std::uint32_t(get(d + 6, 4));
    s->peerEpoch = get(d + 10, 8);
    Bytes welcome(d, d + size);
    if (!deriveKeys(hs.ephemeral, getArray<32>(d + 18), hs.hello, welcome, true, *s))
      return drop(DropReason::BadHandshake);
    p.handshake.reset(); // wipes the ephemeral secret; the sid now names the session
    if (config.rekeyAfter.count() > 0) s->rekeyAt = now + config.rekeyAfter;
    if (!s->proven && p.session && p.session->proven) {
      // A key we cannot tie to the DID yet, while a proven session runs (a rekey answered by
      // a peer that rotated, or by someone on the path): that session stays until this one
      // proves itself, waiting as a pending one does; it is confirmed at once, with our log.
      s->address = from;
      s->created = s->lastReceived = s->lastSent = now;
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

  /// Key confirmation on a session not yet installed: our log (if any) and a PING, once (if
  /// lost, the session is not confirmed and times out).
  void confirm(Session& s) {
    const std::size_t room = config.maxPacket - kDataHeader - kTag - 1;
    const std::size_t chunks = identityChunks();
    std::size_t i = 0;
    do {
      Bytes plain;
      while (i < chunks && plain.size() + kIdentityHeader + identityLength(i) <= room)
        writeIdentityChunk(plain, i++);
      plain.push_back(kPingFrame);
      emit(s.address, seal(s, plain));
    } while (i < chunks);
  }

  /// IDENTITY frames our log takes (none without a log).
  std::size_t identityChunks() const { return (ownLogBytes.size() + chunk() - 1) / chunk(); }

  std::size_t identityLength(std::size_t index) const {
    return std::min(chunk(), ownLogBytes.size() - index * chunk());
  }

  /// Appends IDENTITY frame `index` of our log (chunk() bytes each, the last one less).
  void writeIdentityChunk(Bytes& plain, std::size_t index) const {
    std::size_t offset = index * chunk(), length = identityLength(index);
    plain.push_back(kIdentityFrame);
    put16(plain, std::uint16_t(ownLogBytes.size()));
    put16(plain, std::uint16_t(offset));
    put16(plain, std::uint16_t(length));
    plain.insert(plain.end(), ownLogBytes.begin() + std::ptrdiff_t(offset),
                 ownLogBytes.begin() + std::ptrdiff_t(offset + length));
  }

  /// Makes `s` the session we send on. Invariant: the stream's in-flight segments belonged to
  /// the old session's packets, which are gone, so they all become unsent again.
  void installSession(Peer& p, std::unique_ptr<Session> s, Time now) {
    if (p.session) retireQuietly(p.session->localSid, now);
    for (auto& m : p.out)
      for (auto& st : m.segs)
        if (st == SegState::InFlight) st = SegState::Unsent;
    rewindCursor(p);
    s->cwnd = config.initialCwnd;
    s->created = s->lastSent = s->lastReceived = s->paceLast = now;
    s->paceTokens = config.paceBurst;
    // Our log goes first, in every session: the peer cannot know whether it holds it already.
    s->idOut.assign(identityChunks(), SegState::Unsent);
    s->idUnsent = s->idOut.size();
    s->tokenPending = true;
    bySid[s->localSid] = &p;
    p.session = std::move(s);
    ++metrics.handshakes;
    cancelHandshake(p); // ours lost the race, or waited for an unproven claim to prove itself
    if (p.session->proven) sessionProven(p, *p.session);
  }

  /// Sending starts again from the first unsent segment of the stream (nothing is lost yet).
  void rewindCursor(Peer& p) {
    p.lost.clear();
    p.cursorSeq = p.out.empty() ? p.nextSeq : p.out.front().seq;
    p.cursorSeg = 0;
  }

  /// The session's peer is who it says. Only now does its epoch count: a peer that restarted
  /// (new epoch) lost its stream, and so both directions start over.
  void sessionProven(Peer& p, const Session& s) {
    p.key = s.peerKey;
    bool restarted = p.peerEpoch && *p.peerEpoch != s.peerEpoch;
    if (restarted) {
      // The peer lost its stream: nothing it had is known delivered any more except what it
      // acknowledged in full (already reported); start both directions over.
      clearIncoming(p);
      std::uint64_t seq = 0;
      for (auto& m : p.out) {
        m.seq = seq++;
        std::fill(m.segs.begin(), m.segs.end(), SegState::Unsent);
        m.acked = 0;
      }
      p.nextSeq = seq;
      rewindCursor(p);
    }
    p.peerEpoch = s.peerEpoch;
    if (!p.up) {
      p.up = true;
      event(TransportEvent::Kind::SessionUp, p);
    }
  }

  /// IDENTITY chunks from the peer; when its log is complete it must show the session's key as
  /// the current key of the DID it claimed. False if the session was discarded for a bad proof.
  bool absorbIdentity(Peer& p, Session& s, const std::vector<Frames::IdentityChunk>& chunks,
                      Time now) {
    std::string why;
    for (const auto& c : chunks) {
      if (s.idBuf.empty()) s.idBuf.resize(c.total);
      if (s.idBuf.size() != c.total) {
        why = "its key event log changed size in flight";
        break;
      }
      std::memcpy(s.idBuf.data() + c.offset, c.bytes, c.length);
      s.idReceived += addRange(s.idHave, c.offset, std::uint32_t(c.offset) + c.length);
    }
    if (why.empty() && (s.idBuf.empty() || s.idReceived < s.idBuf.size())) return true;
    if (why.empty() && proveIdentity(p, s, why)) return true;
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

  bool proveIdentity(Peer& p, Session& s, std::string& why) {
    auto log = decodeLog(s.idBuf.data(), s.idBuf.size(), &why);
    s.idBuf = {};
    s.idHave.clear();
    if (!log) return false;
    if (log->empty() || didOfInception(log->front()) != p.did)
      return why = "it sent the key event log of another DID", false;
    if (!directory.learn(*log, &why, &s.peerKey)) return false;
    s.proven = true;
    if (&s == p.session.get()) sessionProven(p, s);
    return true;
  }

  void endSession(Peer& p, const std::string& reason, Time now) {
    if (!p.session) return;
    bySid.erase(p.session->localSid);
    p.session.reset();
    p.up = false;
    event(TransportEvent::Kind::SessionDown, p, 0, reason);
    if (!p.out.empty() && !p.handshake) startHandshake(p, now);
  }

  // ---- data ---------------------------------------------------------------------------------

  void onData(const Address& from, const std::uint8_t* d, std::size_t size, Time now) {
    if (size < kDataHeader + kTag + 1) return drop(DropReason::Truncated);
    auto sid = std::uint32_t(get(d + 2, 4));
    auto it = bySid.find(sid);
    Session* s = it == bySid.end() ? nullptr : sessionFor(*it->second, sid);
    if (!s) {
      // Perhaps we restarted and the sender still has the session: tell it, with the token
      // it holds for the sid (smaller than the packet that asked, and rate-limited: no
      // amplification).
      drop(DropReason::UnknownSession);
      auto quiet = retired.find(sid);
      if (quiet != retired.end() && quiet->second <= now)
        retired.erase(quiet), quiet = retired.end();
      if (it == bySid.end() && quiet == retired.end() && allow(resetBuckets, from, now)) {
        Bytes r{kVersion, kReset};
        put32(r, sid);
        putArray(r, resetToken(sid, from));
        emit(from, std::move(r));
      }
      return;
    }
    Peer& p = *it->second;
    std::uint64_t pn = get(d + 6, 8);
    if (!s->replay.fresh(pn)) return drop(DropReason::Replay);
    Bytes plain(size - kDataHeader - kTag);
    auto nonce = packetNonce(d + 6);
    unsigned long long plainSize = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(plain.data(), &plainSize, nullptr,
                                                  d + kDataHeader, size - kDataHeader, d,
                                                  kDataHeader, nonce.data(), s->rxKey.data()) != 0)
      return drop(DropReason::AuthFailure);
    s->replay.mark(pn);
    if (s != p.session.get()) { // key confirmation: the initiator holds the session keys
      if (!s->proven) {
        // Nothing but its log counts until it proves its DID; the rest comes again. A packet
        // of nothing else is acknowledged, so that a log of several packets is not resent.
        Frames f;
        if (!parseFrames(plain.data(), plain.size(), *s, f))
          return drop(DropReason::ProtocolViolation);
        if (!absorbIdentity(p, *s, f.identity, now)) return;
        s->lastReceived = now;
        if (!s->proven) {
          if (f.segments.empty() && !f.token && f.eliciting) {
            recordReceived(*s, pn, true, now);
            Bytes ack;
            writeAck(p, *s, ack);
            emit(s->address, seal(*s, ack));
            ++metrics.ackOnly;
          }
          return;
        }
      }
      installSession(p, takePending(p, s), now);
      s = p.session.get();
    }
    s->lastReceived = now;
    p.address = from; // authenticated: follow the peer if it moved
    handleFrames(p, *s, pn, plain.data(), plain.size(), now);
  }

  /// Parses a DATA packet's plaintext; false (nothing taken) if any frame is malformed.
  bool parseFrames(const std::uint8_t* d, std::size_t size, const Session& s, Frames& f) const {
    std::size_t i = 0;
    while (i < size) {
      std::uint8_t type = d[i++];
      if (type == kSegmentFrame) {
        if (size - i < kSegmentHeader - 1) return false;
        Frames::Segment g{get(d + i, 8), std::uint32_t(get(d + i + 8, 4)),
                          std::uint32_t(get(d + i + 12, 4)), nullptr,
                          std::uint16_t(get(d + i + 16, 2))};
        i += kSegmentHeader - 1;
        if (size - i < g.length || std::uint64_t(g.offset) + g.length > g.total ||
            g.total > config.maxMessage || (g.length == 0 && g.total != 0))
          return false;
        g.bytes = d + i;
        i += g.length;
        f.segments.push_back(g);
        f.eliciting = true;
      } else if (type == kAckFrame) {
        if (size - i < 5 || f.window) return false;
        f.window = std::uint32_t(get(d + i, 4));
        std::size_t count = d[i + 4];
        i += 5;
        if (count == 0 || count > kMaxAckRanges || size - i < count * 16) return false;
        for (std::size_t k = 0; k < count; ++k, i += 16) {
          std::uint64_t first = get(d + i, 8), last = get(d + i + 8, 8);
          if (first > last || last >= s.nextPn) return false;
          f.ranges.emplace_back(first, last);
        }
      } else if (type == kPingFrame) {
        f.eliciting = f.ping = true;
      } else if (type == kPaddingFrame) {
        break; // the rest of the plaintext is padding
      } else if (type == kCloseFrame) {
        f.close = true;
      } else if (type == kResetTokenFrame) {
        if (size - i < kTokenSize || f.token) return false;
        f.token = getArray<kTokenSize>(d + i);
        i += kTokenSize;
        f.eliciting = true;
      } else if (type == kIdentityFrame) {
        if (size - i < kIdentityHeader - 1) return false;
        Frames::IdentityChunk c{std::uint16_t(get(d + i, 2)), std::uint16_t(get(d + i + 2, 2)),
                                std::uint16_t(get(d + i + 4, 2)), nullptr};
        i += kIdentityHeader - 1;
        if (c.total == 0 || c.total > kMaxLogBytes || c.length == 0 || size - i < c.length ||
            std::size_t(c.offset) + c.length > c.total)
          return false;
        c.bytes = d + i;
        i += c.length;
        f.identity.push_back(c);
        f.eliciting = true;
      } else {
        return false;
      }
    }
    return true;
  }

  void onReset(const std::uint8_t* d, std::size_t size, Time now) {
    if (size != kResetSize)
      return drop(size < kResetSize ? DropReason::Truncated : DropReason::Oversized);
    auto sid = std::uint32_t(get(d + 2, 4));
    for (auto& [did, p] : peers) {
      Session* s = p->session.get();
      if (s && s->remoteSid == sid && s->peerToken &&
          sodium_memcmp(s->peerToken->data(), d + 6, kTokenSize) == 0)
        return endSession(*p, "the peer lost the session (stateless reset)", now);
    }
    drop(DropReason::UnknownSession);
  }

  void handleFrames(Peer& p, Session& s, std::uint64_t pn, const std::uint8_t* d, std::size_t size,
                    Time now) {
    // Parse everything before acting, so a malformed packet changes nothing.
    Frames f;
    if (!parseFrames(d, size, s, f)) return drop(DropReason::ProtocolViolation);
    if (!s.proven && !absorbIdentity(p, s, f.identity, now)) return; // the session is gone
    if (f.token) s.peerToken = f.token;
    bool eliciting = f.eliciting, ping = f.ping;
    // Acknowledged at once (not after ackDelay): a PING, which the sender puts in the packet
    // that empties its queue (so a lone message, or the end of a burst, is acknowledged in one
    // RTT) and in every probe; and any sign of loss: a packet out of order (one before it is
    // missing, or it comes late), or a segment below the furthest stream position received
    // (it fills a gap or repeats). After such a sign the next kQuickAcks packets are
    // acknowledged at once too, as the sender's window is small and its ACK clock fragile.
    // Otherwise every second packet (recordReceived).
    bool urgent = ping;
    bool disorder = s.largestReceived && pn != *s.largestReceived + 1;
    if (!s.largestReceived || pn > *s.largestReceived) s.largestReceived = pn;
    // An unproven peer's segments are refused (not acknowledged): they come again.
    bool refused = !s.proven && !f.segments.empty();
    if (!s.proven) f.segments.clear();
    for (const Frames::Segment& g : f.segments) {
      Accept a = acceptSegment(p, g.seq, g.offset, g.total, g.bytes, g.length);
      if (a == Accept::Violation) {
        drop(DropReason::ProtocolViolation);
        refused = true; // do not acknowledge: the frames before it may be resent harmlessly
        break;
      }
      if (a == Accept::Refused) {
        refused = true;
        continue;
      }
      std::pair<std::uint64_t, std::uint32_t> end{g.seq, g.offset + g.length};
      if (p.highest && end <= *p.highest) disorder = true;
      if (!p.highest || end > *p.highest) p.highest = end;
    }
    if (disorder) {
      urgent = true;
      s.quickAcks = kQuickAcks;
    } else if (eliciting && s.quickAcks > 0) {
      urgent = true;
      --s.quickAcks;
    }
    deliverReady(p);
    if (f.window) processAck(p, s, *f.window, f.ranges, now);
    if (f.close) return endSession(p, "the peer closed the session", now);
    if (eliciting && !refused) recordReceived(s, pn, urgent, now);
    flush(p, now);
  }

  Accept acceptSegment(Peer& p, std::uint64_t seq, std::uint32_t offset, std::uint32_t total,
                       const std::uint8_t* bytes, std::uint16_t length) {
    if (seq < p.nextDeliver) return Accept::Ok; // delivered already: acknowledge again
    if (seq - p.nextDeliver >= config.maxReorderMessages) return Accept::Refused;
    auto it = p.in.find(seq);
    if (it == p.in.end()) {
      // Reassembly is bounded; the next message in order always fits, so the stream
      // cannot deadlock behind later ones.
      if (seq != p.nextDeliver && p.buffered + total > config.receiveBuffer) return Accept::Refused;
      // Over all peers too (a segment claims its message's size, and each costs that much).
      if (totalBuffered + total > config.maxBuffered) return Accept::Refused;
      it = p.in.emplace(seq, InMessage{}).first;
      it->second.data.resize(total);
      p.buffered += total;
      totalBuffered += total;
    } else if (it->second.data.size() != total) {
      return Accept::Violation;
    }
    InMessage& m = it->second;
    if (length == 0) return Accept::Ok;
    std::memcpy(m.data.data() + offset, bytes, length);
    m.received += addRange(m.have, offset, offset + length);
    return Accept::Ok;
  }

  void deliverReady(Peer& p) {
    for (auto it = p.in.begin(); it != p.in.end() && it->first == p.nextDeliver &&
                                 it->second.received == it->second.data.size();
         it = p.in.erase(it)) {
      p.buffered -= it->second.data.size();
      totalBuffered -= it->second.data.size();
      delivered.push_back({p.key, p.address, std::move(it->second.data), p.did});
      ++p.nextDeliver;
    }
  }

  /// Notes an ack-eliciting packet for the next ACK, which goes out at once if `urgent` or
  /// this is the second packet unacknowledged (as TCP), and after at most ackDelay otherwise.
  void recordReceived(Session& s, std::uint64_t pn, bool urgent, Time now) {
    std::uint64_t first = pn, last = pn;
    auto r = s.received.upper_bound(pn);
    if (r != s.received.begin() && std::prev(r)->second + 1 >= pn) r = std::prev(r);
    while (r != s.received.end() && r->first <= last + 1) {
      first = std::min(first, r->first);
      last = std::max(last, r->second);
      r = s.received.erase(r);
    }
    s.received[first] = last;
    while (s.received.size() > kKeptRanges) s.received.erase(s.received.begin());
    s.ackPending = true;
    ++s.unackedEliciting;
    if (urgent || s.unackedEliciting >= 2) {
      s.ackDeadline = now;
    } else if (!s.ackDeadline) {
      s.ackDeadline = now + config.ackDelay;
    }
  }

  void updateRtt(Session& s, Duration sample) {
    s.latestRtt = sample;
    if (!s.haveRtt) {
      s.srtt = sample;
      s.rttvar = sample / 2;
      s.haveRtt = true;
    } else {
      Duration diff = s.srtt > sample ? s.srtt - sample : sample - s.srtt;
      s.rttvar = (3 * s.rttvar + diff) / 4;
      s.srtt = (7 * s.srtt + sample) / 8;
    }
    Duration rto = s.srtt + std::max<Duration>(std::chrono::milliseconds(1), 4 * s.rttvar);
    s.rto = std::clamp<Duration>(rto, config.minRto, config.maxRto);
    s.backoff = 0;
  }

  /// A packet sent at `sent` was lost. The window is halved once per loss episode: losses of
  /// packets sent before the episode began are part of it. Entering an episode lets the first
  /// retransmission out at once, whatever the window (RFC 6675 step 4.3, RFC 9002 §7.3.2).
  void onCongestion(Session& s, Time sent, Time now) {
    if (sent <= s.recoveryStart) return;
    s.cwnd = std::max(config.minCwnd, s.cwnd / 2);
    s.ssthresh = s.cwnd;
    s.recoveryStart = now;
    s.probes = std::max(s.probes, 1u);
    ++metrics.congestionEvents;
  }

  void declareLost(Peer& p, Session& s, std::map<std::uint64_t, SentPacket>::iterator it) {
    SentPacket& pkt = it->second;
    for (const SegmentRef& ref : pkt.segments) {
      OutMessage* m = messageOf(p, ref.seq);
      if (m && m->segs[ref.index] == SegState::InFlight) {
        m->segs[ref.index] = SegState::Unsent;
        p.lost.push_back(ref);
      }
    }
    for (std::uint16_t i : pkt.identity) {
      if (s.idOut[i] == SegState::InFlight) {
        s.idOut[i] = SegState::Unsent;
        ++s.idUnsent;
      }
    }
    if (pkt.token) s.tokenPending = true;
    if (pkt.ping) s.pingPending = true;
    s.inflightBytes -= pkt.dataBytes;
    s.sent.erase(it);
  }

  void processAck(Peer& p, Session& s, std::uint32_t window,
                  const std::vector<std::pair<std::uint64_t, std::uint64_t>>& ranges, Time now) {
    s.peerWindow = window;
    std::optional<std::uint64_t> largestNew;
    Time largestSent{};
    for (auto [first, last] : ranges) {
      for (auto it = s.sent.lower_bound(first); it != s.sent.end() && it->first <= last;) {
        SentPacket& pkt = it->second;
        for (const SegmentRef& ref : pkt.segments) {
          OutMessage* m = messageOf(p, ref.seq);
          if (m && m->segs[ref.index] != SegState::Acked) {
            m->segs[ref.index] = SegState::Acked;
            ++m->acked;
          }
        }
        for (std::uint16_t i : pkt.identity) s.idOut[i] = SegState::Acked;
        if (pkt.sent > s.recoveryStart) {
          s.cwnd += s.cwnd < s.ssthresh ? 1.0 : 1.0 / s.cwnd;
          s.cwnd = std::min(s.cwnd, config.maxCwnd);
        }
        if (!largestNew || it->first > *largestNew) {
          largestNew = it->first;
          largestSent = pkt.sent;
        }
        s.inflightBytes -= pkt.dataBytes;
        it = s.sent.erase(it);
      }
    }
    if (largestNew) {
      s.consecutiveRtos = 0;
      if (!s.largestAcked || *largestNew > *s.largestAcked) {
        s.largestAcked = largestNew;
        updateRtt(s, now - largestSent);
      }
      // RFC 6298 5.2/5.3: new data acknowledged restarts the timer, or stops it.
      s.rtoAt.reset();
      s.tailProbes = 0;
      if (!s.sent.empty()) s.rtoAt = now + effectiveRto(s);
    }
    detectLosses(p, s, now);
    popAcknowledged(p);
  }

  /// Loss detection from the acknowledged ranges (RFC 9002 §6.1, RACK): packet numbers follow
  /// send order, so a packet still unacknowledged below the largest acknowledged one was sent
  /// before a packet that arrived. It is lost once kPacketThreshold later packets are
  /// acknowledged or 9/8 RTT has passed since it was sent; until then the loss timer waits for
  /// the earliest such packet. Lost segments go to the front of the send queue.
  void detectLosses(Peer& p, Session& s, Time now) {
    s.lossTime.reset();
    if (!s.largestAcked) return;
    Duration delay =
        std::max<Duration>(std::chrono::milliseconds(1), std::max(s.srtt, s.latestRtt) * 9 / 8);
    for (auto it = s.sent.begin(); it != s.sent.end() && it->first < *s.largestAcked;) {
      if (*s.largestAcked - it->first < kPacketThreshold && it->second.sent + delay > now) {
        s.lossTime = it->second.sent + delay; // later packets are later on both counts
        break;
      }
      onCongestion(s, it->second.sent, now);
      ++metrics.packetsLost;
      auto next = std::next(it);
      declareLost(p, s, it);
      it = next;
    }
    if (s.sent.empty()) s.rtoAt.reset();
  }

  /// When to send a tail loss probe (RFC 8985 §7, RFC 9002 §6.2): two smoothed RTTs (at least
  /// 1 ms) after the newest packet in flight, plus ackDelay when it is alone and its ACK may
  /// be delayed, doubled for each probe since the last ACK of new data; only before the
  /// retransmission timer, which stays the last resort.
  std::optional<Time> probeTime(const Session& s) const {
    if (s.sent.empty() || !s.haveRtt) return std::nullopt;
    const SentPacket& newest = s.sent.rbegin()->second;
    Duration pto = std::max<Duration>(std::chrono::milliseconds(1), 2 * s.srtt);
    if (s.sent.size() == 1 && !newest.ackAtOnce) pto += config.ackDelay;
    pto *= std::int64_t(1) << std::min(s.tailProbes, 16u);
    Time t = newest.sent + pto;
    if (s.rtoAt && t >= *s.rtoAt) return std::nullopt;
    return t;
  }

  /// No ACK for two RTTs: the tail of what was sent, or every ACK for it, may be lost, and no
  /// later packet will arrive to reveal it. Two probe packets go out beyond the window, each
  /// with a PING so that its ACK comes at once and names everything that arrived (detectLosses
  /// does the rest): the first with new or lost data if there is any, or else again with the
  /// segments of the newest packet. The window is left alone: only what the ACKs show lost
  /// counts as congestion.
  void onTailProbe(Peer& p, Session& s) {
    ++metrics.tailProbes;
    ++s.tailProbes;
    s.probes = 2;
    if (peekSegment(p)) return;
    const SentPacket& newest = s.sent.rbegin()->second;
    for (auto ref = newest.segments.rbegin(); ref != newest.segments.rend(); ++ref) {
      OutMessage* m = messageOf(p, ref->seq);
      if (m && m->segs[ref->index] == SegState::InFlight) {
        m->segs[ref->index] = SegState::Unsent;
        p.lost.push_front(*ref);
      }
    }
  }

  /// The retransmission timer expired (RFC 6298 5.4-5.6): only the earliest packet still
  /// unacknowledged is deemed lost, and its segments go out at once, beyond the window; the
  /// timer backs off and restarts. The packets after it stay in flight; when the
  /// retransmission is acknowledged, detectLosses finds those that were lost too. The window
  /// falls to minCwnd (RFC 5681), and ssthresh halves once per loss episode.
  void onRto(Peer& p, Session& s, Time now) {
    ++metrics.rtoExpirations;
    auto oldest = s.sent.begin();
    if (oldest->second.sent > s.recoveryStart) s.ssthresh = std::max(config.minCwnd, s.cwnd / 2);
    s.cwnd = config.minCwnd;
    s.recoveryStart = now;
    declareLost(p, s, oldest);
    s.probes = 1; // with the earliest segments, or a PING if they were acknowledged meanwhile
    ++s.backoff;
    s.rtoAt = now + effectiveRto(s);
    s.lossTime.reset();
  }

  void popAcknowledged(Peer& p) {
    while (!p.out.empty() && p.out.front().acked == p.out.front().segs.size()) {
      event(TransportEvent::Kind::Acknowledged, p, p.out.front().id);
      p.out.pop_front();
    }
  }

  std::optional<std::pair<SegmentRef, bool>> peekSegment(Peer& p) {
    while (!p.lost.empty()) {
      SegmentRef ref = p.lost.front();
      OutMessage* m = messageOf(p, ref.seq);
      if (m && m->segs[ref.index] == SegState::Unsent) return std::pair{ref, true};
      p.lost.pop_front();
    }
    for (;;) {
      std::uint64_t front = p.out.empty() ? p.nextSeq : p.out.front().seq;
      if (p.cursorSeq < front) {
        p.cursorSeq = front;
        p.cursorSeg = 0;
      }
      OutMessage* m = messageOf(p, p.cursorSeq);
      if (!m) return std::nullopt;
      while (p.cursorSeg < m->segs.size() && m->segs[p.cursorSeg] != SegState::Unsent)
        ++p.cursorSeg;
      if (p.cursorSeg < m->segs.size())
        return std::pair{SegmentRef{p.cursorSeq, p.cursorSeg}, false};
      ++p.cursorSeq;
      p.cursorSeg = 0;
    }
  }

  std::size_t ackSize(const Session& s) const {
    return 6 + 16 * std::min(kMaxAckRanges, s.received.size());
  }

  void writeAck(Peer& p, Session& s, Bytes& b) {
    b.push_back(kAckFrame);
    std::size_t free = config.receiveBuffer > p.buffered ? config.receiveBuffer - p.buffered : 0;
    put32(b, std::uint32_t(std::min<std::size_t>(free, 0xffffffffu)));
    std::size_t count = std::min(kMaxAckRanges, s.received.size());
    b.push_back(std::uint8_t(count));
    auto r = s.received.rbegin();
    for (std::size_t k = 0; k < count; ++k, ++r) {
      put64(b, r->first);
      put64(b, r->second);
    }
    s.ackPending = false;
    s.unackedEliciting = 0;
    s.ackDeadline.reset();
  }

  /// Ends everything with `p` (handshakes, pendings, the session) and tells it so: one CLOSE
  /// on a proven session, not retransmitted. What is still queued is greeted again (endSession).
  void leave(Peer& p, const std::string& reason, Time now) {
    cancelHandshake(p);
    discardPendings(p);
    if (p.session && p.session->proven) {
      Bytes plain{kCloseFrame};
      emit(p.address, seal(*p.session, plain));
    }
    endSession(p, reason, now);
  }

  /// A DATA packet of `plain` (wiped afterwards) under the next packet number.
  Bytes seal(Session& s, Bytes& plain) {
    // Padding: the plaintext to a multiple of padMultiple (within the largest packet), so that
    // sizes on the wire say less about what is inside.
    const std::size_t maxPlain = config.maxPacket - kDataHeader - kTag;
    if (config.padMultiple > 1 && plain.size() % config.padMultiple != 0) {
      std::size_t target =
          std::min(maxPlain, (plain.size() / config.padMultiple + 1) * config.padMultiple);
      if (target > plain.size()) plain.resize(target, kPaddingFrame);
    }
    std::uint64_t pn = s.nextPn++;
    Bytes packet;
    packet.reserve(kDataHeader + plain.size() + kTag);
    packet.push_back(kVersion);
    packet.push_back(kData);
    put32(packet, s.remoteSid);
    put64(packet, pn);
    auto nonce = packetNonce(packet.data() + 6);
    packet.resize(kDataHeader + plain.size() + kTag);
    unsigned long long sealed = 0;
    crypto_aead_chacha20poly1305_ietf_encrypt(packet.data() + kDataHeader, &sealed, plain.data(),
                                              plain.size(), packet.data(), kDataHeader, nullptr,
                                              nonce.data(), s.txKey.data());
    sodium_memzero(plain.data(), plain.size());
    return packet;
  }

  /// Pacing (RFC 9002 §7.7): data packets leave at 1.25 times cwnd per smoothed RTT, after a
  /// burst of up to paceBurst, rather than a whole window at once into the network's buffers.
  /// False, with the time to come back, while the pace holds the next packet.
  bool paceAllows(Peer& p, Session& s, Time now) {
    if (!config.pacing || !s.haveRtt) return true;
    double srtt = std::max(1e-6, std::chrono::duration<double>(s.srtt).count());
    double rate = 1.25 * s.cwnd / srtt; // packets per second
    double elapsed = std::chrono::duration<double>(now - s.paceLast).count();
    s.paceLast = now;
    // The burst allowed: paceBurst packets, or a millisecond's worth at a fast pace (as Linux
    // sizes TSO bursts), so that a fast path keeps its large batches (GSO) for what costs little.
    double burst = std::max(config.paceBurst, rate * 1e-3);
    if (elapsed > 0) s.paceTokens = std::min(burst, s.paceTokens + elapsed * rate);
    if (s.paceTokens >= 1) return true;
    if (peekSegment(p)) // at least a microsecond on: time must move for tokens to come
      s.paceAt =
          now + std::max<Duration>(std::chrono::microseconds(1),
                                   std::chrono::duration_cast<Duration>(
                                       std::chrono::duration<double>((1 - s.paceTokens) / rate)));
    return false;
  }

  /// Sends what the congestion and flow windows allow, then any due ACK or PING.
  void flush(Peer& p, Time now) {
    Session* s = p.session.get();
    if (!s) return;
    s->paceAt.reset();
    const std::size_t maxPlain = config.maxPacket - kDataHeader - kTag;
    for (;;) {
      Bytes plain;
      SentPacket pkt{now, 0, {}, {}, false, false};
      bool haveAck = s->ackPending && !s->received.empty();
      // A probe may go beyond the window. A PING asks for an ACK at once: in a probe, and in
      // the packet that empties the queue (nothing follows it to make the peer's second-packet
      // ACK, and the caller waits for Acknowledged). chunk() leaves room for it.
      bool probe = s->probes > 0;
      std::size_t room = maxPlain - (haveAck ? ackSize(*s) : 0) - 1;
      bool beyondWindow = s->sent.size() >= std::size_t(std::max(1.0, s->cwnd));
      // Our key event log first, whatever the window: the peer holds everything back until it
      // has it.
      for (std::size_t i = 0; s->idUnsent > 0 && i < s->idOut.size(); ++i) {
        if (s->idOut[i] != SegState::Unsent) continue;
        if (plain.size() + kIdentityHeader + identityLength(i) > room) break;
        writeIdentityChunk(plain, i);
        s->idOut[i] = SegState::InFlight;
        --s->idUnsent;
        pkt.identity.push_back(std::uint16_t(i));
      }
      if (s->tokenPending && plain.size() + 1 + kTokenSize <= room) {
        plain.push_back(kResetTokenFrame);
        putArray(plain, resetToken(s->localSid, p.address));
        s->tokenPending = false;
        pkt.token = true;
      }
      // Nothing for a peer that has not proven its DID yet; probes are not paced.
      bool paced = !probe && !beyondWindow && s->proven && !paceAllows(p, *s, now);
      while (s->proven && !paced && (!beyondWindow || probe)) {
        auto next = peekSegment(p);
        if (!next) break;
        auto [ref, retransmit] = *next;
        OutMessage& m = *messageOf(p, ref.seq);
        std::size_t length = segmentLength(m, ref.index);
        if (plain.size() + kSegmentHeader + length > room) break;
        bool windowOpen = s->inflightBytes + pkt.dataBytes + length <= s->peerWindow;
        if (!windowOpen && !(s->sent.empty() && pkt.segments.empty())) break; // probe only
        if (retransmit) {
          p.lost.pop_front();
          ++metrics.retransmissions;
        } else {
          ++p.cursorSeg;
        }
        std::size_t offset = std::size_t(ref.index) * chunk();
        plain.push_back(kSegmentFrame);
        put64(plain, ref.seq);
        put32(plain, std::uint32_t(offset));
        put32(plain, std::uint32_t(m.data.size()));
        put16(plain, std::uint16_t(length));
        plain.insert(plain.end(), m.data.begin() + offset, m.data.begin() + offset + length);
        m.segs[ref.index] = SegState::InFlight;
        pkt.segments.push_back(ref);
        pkt.dataBytes += length;
        if (!windowOpen) break;
      }
      // to be sent again if lost
      pkt.ping = pkt.segments.empty() && pkt.identity.empty() && !pkt.token && s->pingPending;
      bool drained = !pkt.segments.empty() && !peekSegment(p);
      if (probe || pkt.ping || drained || !pkt.identity.empty()) {
        plain.push_back(kPingFrame);
        pkt.ackAtOnce = true;
      }
      if (probe) --s->probes;
      bool eliciting = !plain.empty();
      bool ackDue = haveAck && s->ackDeadline && *s->ackDeadline <= now;
      if (!eliciting && !ackDue) return;
      if (eliciting) s->pingPending = false;
      if (haveAck) writeAck(p, *s, plain);
      std::uint64_t pn = s->nextPn;
      Bytes packet = seal(*s, plain);
      if (!pkt.segments.empty()) s->paceTokens -= 1;
      if (eliciting) {
        s->inflightBytes += pkt.dataBytes;
        s->sent.emplace(pn, std::move(pkt));
        if (!s->rtoAt) s->rtoAt = now + effectiveRto(*s); // RFC 6298 5.1
      } else {
        ++metrics.ackOnly;
      }
      s->lastSent = now;
      emit(p.address, std::move(packet));
    }
  }

  // ---- timers -------------------------------------------------------------------------------

  std::optional<Time> peerTimer(const Peer& p) const {
    std::optional<Time> t;
    auto consider = [&](Time x) {
      if (!t || x < *t) t = x;
    };
    if (p.handshake) {
      consider(p.handshake->nextSend);
      consider(p.handshake->started + config.handshakeTimeout);
    } else if (p.session && p.session->rekeyAt) {
      consider(*p.session->rekeyAt);
    }
    for (const auto& w : p.pendings) consider(w->created + config.handshakeTimeout);
    if (const Session* s = p.session.get()) {
      if (!s->proven) consider(s->created + config.handshakeTimeout);
      consider(s->lastReceived + config.sessionTimeout);
      consider(s->lastSent + config.keepalive);
      if (s->ackPending && s->ackDeadline) consider(*s->ackDeadline);
      if (s->lossTime) consider(*s->lossTime);
      if (auto t = probeTime(*s)) consider(*t);
      if (s->rtoAt) consider(*s->rtoAt);
      if (s->paceAt) consider(*s->paceAt);
    }
    return t;
  }

  void peerOnTimer(Peer& p, Time now) {
    if (p.handshake) {
      Handshake& hs = *p.handshake;
      if (now >= hs.started + config.handshakeTimeout) {
        cancelHandshake(p);
        if (p.session && p.session->proven) // a rekey that failed: keep the session, try later
          p.session->rekeyAt = now + config.rekeyAfter;
        else
          failStream(p, "handshake timed out");
      } else if (now >= hs.nextSend) {
        emit(p.address, hs.hello);
        hs.interval = std::min<Duration>(hs.interval * 2, config.maxRto);
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
    if (s->lossTime && now >= *s->lossTime) detectLosses(p, *s, now);
    if (auto t = probeTime(*s); t && now >= *t) onTailProbe(p, *s);
    if (s->rtoAt && now >= *s->rtoAt) {
      if (s->sent.empty()) {
        s->rtoAt.reset();
      } else {
        onRto(p, *s, now);
        if (++s->consecutiveRtos >= config.deadAfterRtos)
          return endSession(p, "peer unresponsive", now);
      }
    }
    if (now >= s->lastSent + config.keepalive) s->pingPending = true;
    if (s->rekeyAt && now >= *s->rekeyAt && !p.handshake) {
      // Fresh ephemeral keys: the new session replaces this one when the peer answers, and
      // the stream carries on across it (same epoch).
      startHandshake(p, now); // rekeyAt stays: if this one is cancelled, the next pass retries
    }
    flush(p, now);
  }
};

// ---- Endpoint -----------------------------------------------------------------------------

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
  if (size > st.config.maxPacket) return st.drop(DropReason::Oversized);
  if (data[0] != kVersion) return st.drop(DropReason::BadVersion);
  switch (data[1]) {
  case kHello:
    return st.onHello(from, data, size, now);
  case kWelcome:
    return st.onWelcome(from, data, size, now);
  case kData:
    return st.onData(from, data, size, now);
  case kReset:
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
  return SessionStats{s.cwnd, Ms(s.srtt).count(), Ms(state_->effectiveRto(s)).count(),
                      s.sent.size()};
}
std::optional<SessionStats> Endpoint::sessionStats(const PublicKey& peer) const {
  return sessionStats(didKey(peer));
}

void Endpoint::injectFramesForTesting(std::string_view did, const std::uint8_t* plaintext,
                                      std::size_t size, Time now) {
  auto it = state_->peers.find(did);
  if (it == state_->peers.end() || !it->second->session) return;
  Session& s = *it->second->session;
  std::uint64_t pn = s.largestReceived ? *s.largestReceived + 1 : 0;
  state_->handleFrames(*it->second, s, pn, plaintext, size, now);
}
void Endpoint::injectFramesForTesting(const PublicKey& peer, const std::uint8_t* plaintext,
                                      std::size_t size, Time now) {
  injectFramesForTesting(didKey(peer), plaintext, size, now);
}

} // namespace flo::core
