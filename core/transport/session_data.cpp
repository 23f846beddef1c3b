/// \file
/// DATA packets both ways: decrypting and dispatching frames, building and sealing packets
/// within the congestion, flow and pacing limits (see endpoint_state.h).
#include "core/check.h"
#include "core/transport/endpoint_state.h"

#include <algorithm>

namespace flo::core {

// ---- what becomes of packets ------------------------------------------------------------------

void PacketFate::acked(const SentPacket& packet) {
  for (const SegmentRef& ref : packet.segments) peer_.out.acked(ref);
  for (std::uint16_t i : packet.identity) {
    FLO_CHECK(i < session_.idOut.size() && session_.idOut[i] == SegState::InFlight);
    session_.idOut[i] = SegState::Acked;
  }
}

void PacketFate::lost(const SentPacket& packet) {
  for (const SegmentRef& ref : packet.segments) peer_.out.lost(ref);
  for (std::uint16_t i : packet.identity) {
    FLO_CHECK(i < session_.idOut.size());
    if (session_.idOut[i] == SegState::InFlight) {
      session_.idOut[i] = SegState::Unsent;
      ++session_.idUnsent;
    }
  }
  if (packet.token) session_.tokenPending = true;
  if (packet.ping) session_.pingPending = true;
}

void PacketFate::tailProbe(const SentPacket& newest) {
  if (peer_.out.peek()) return; // new or lost data goes in the probes
  for (auto ref = newest.segments.rbegin(); ref != newest.segments.rend(); ++ref)
    peer_.out.lost(*ref, true);
}

// ---- receiving --------------------------------------------------------------------------------

void Endpoint::State::onData(const Address& from, const std::uint8_t* d, std::size_t size,
                             Time now) {
  if (size < wire::kDataHeader + wire::kTag + 1) return drop(DropReason::Truncated);
  auto sid = std::uint32_t(wire::get(d + 2, 4));
  auto it = bySid.find(sid);
  Session* s = it == bySid.end() ? nullptr : sessionFor(*it->second, sid);
  if (!s) {
    // Perhaps we restarted and the sender still has the session: tell it, with the token it
    // holds for the sid (smaller than the packet that asked, and rate-limited: no
    // amplification).
    drop(DropReason::UnknownSession);
    auto quiet = retired.find(sid);
    if (quiet != retired.end() && quiet->second <= now) retired.erase(quiet), quiet = retired.end();
    if (it == bySid.end() && quiet == retired.end() && resetLimiter.allow(from, now))
      emit(from, wire::encodeReset(sid, resetToken(sid, from)));
    return;
  }
  Peer& p = *it->second;
  std::uint64_t pn = wire::get(d + 6, 8);
  if (!s->replay.fresh(pn)) return drop(DropReason::Replay);
  received.resize(size - wire::kDataHeader - wire::kTag);
  if (!s->rx.open(d, wire::kDataHeader, size, pn, received.data()))
    return drop(DropReason::AuthFailure);
  s->replay.mark(pn);
  if (s != p.session.get()) { // key confirmation: the initiator holds the session keys
    if (!s->proven) {
      // Nothing but its log counts until it proves its DID; the rest comes again. A packet of
      // nothing else is acknowledged, so that a log of several packets is not resent.
      if (!wire::parseFrames(received.data(), received.size(), {config.maxMessage, s->nextPn},
                             frames))
        return drop(DropReason::ProtocolViolation);
      if (!absorbIdentity(p, *s, frames.identity, now)) return;
      s->lastReceived = now;
      if (!s->proven) {
        if (frames.segments.empty() && !frames.token && frames.eliciting) {
          s->acks.onEliciting(pn, true, now, config.ackDelay);
          sendAckOnly(p, *s);
        }
        return;
      }
    }
    installSession(p, takePending(p, s), now);
    s = p.session.get();
  }
  s->lastReceived = now;
  p.address = from; // authenticated: follow the peer if it moved
  handleFrames(p, *s, pn, received.data(), received.size(), now);
}

void Endpoint::State::handleFrames(Peer& p, Session& s, std::uint64_t pn, const std::uint8_t* d,
                                   std::size_t size, Time now) {
  // Parse everything before acting, so a malformed packet changes nothing.
  wire::Frames& f = frames;
  if (!wire::parseFrames(d, size, {config.maxMessage, s.nextPn}, f))
    return drop(DropReason::ProtocolViolation);
  if (!s.proven && !absorbIdentity(p, s, f.identity, now)) return; // the session is gone
  if (f.token) s.peerToken = f.token;
  // Signs of loss (acknowledged at once, see ack.h): a packet out of order, or a segment below
  // the furthest stream position received (it fills a gap or repeats).
  bool disorder = s.acks.onAuthenticated(pn);
  // An unproven peer's segments are refused (not acknowledged): they come again.
  bool refused = !s.proven && !f.segments.empty();
  if (!s.proven) f.segments.clear();
  for (const wire::Segment& g : f.segments) {
    InStream::Accept a = p.in.accept(g.seq, g.offset, g.total, g.bytes, g.length);
    if (a == InStream::Accept::Violation) {
      drop(DropReason::ProtocolViolation);
      refused = true; // not acknowledged: the frames before it may come again harmlessly
      break;
    }
    if (a == InStream::Accept::Refused) {
      refused = true;
      continue;
    }
    if (p.in.behindFurthest(g.seq, g.offset + g.length)) disorder = true;
  }
  bool urgent = s.acks.quickAck(disorder, f.eliciting) || f.ping;
  deliverReady(p);
  if (f.window) processAck(p, s, *f.window, f.ranges, now);
  if (f.close) return endSession(p, "the peer closed the session", now);
  if (f.eliciting && !refused) s.acks.onEliciting(pn, urgent, now, config.ackDelay);
  flush(p, now);
}

void Endpoint::State::processAck(Peer& p, Session& s, std::uint32_t window,
                                 const std::vector<wire::AckRange>& ranges, Time now) {
  s.peerWindow = window;
  PacketFate fate(p, s);
  s.recovery.onAck(ranges, now, fate);
  for (MessageId id : p.out.popAcknowledged()) event(TransportEvent::Kind::Acknowledged, p, id);
}

void Endpoint::State::deliverReady(Peer& p) {
  ready.clear();
  p.in.deliverReady(ready);
  for (Bytes& m : ready) delivered.push_back({p.key, p.address, std::move(m), p.did});
}

// ---- sending ----------------------------------------------------------------------------------

Bytes Endpoint::State::startPacket(const Session& s) const {
  Bytes packet;
  packet.reserve(s.packetSize);
  wire::putDataHeader(packet, s.remoteSid, s.nextPn);
  return packet;
}

Bytes Endpoint::State::seal(Session& s, Bytes packet) {
  FLO_CHECK(packet.size() >= wire::kDataHeader && wire::get(packet.data() + 6, 8) == s.nextPn);
  // Padding: the plaintext to a multiple of padMultiple (within the largest packet), so that
  // sizes on the wire say less about what is inside.
  std::size_t plain = packet.size() - wire::kDataHeader;
  FLO_CHECK(plain <= s.maxPlain());
  if (config.padMultiple > 1 && plain % config.padMultiple != 0) {
    std::size_t target =
        std::min(s.maxPlain(), (plain / config.padMultiple + 1) * config.padMultiple);
    if (target > plain) packet.resize(wire::kDataHeader + target, wire::kPaddingFrame);
  }
  std::size_t size = packet.size();
  packet.resize(size + wire::kTag);
  s.tx.seal(packet.data(), wire::kDataHeader, size, s.nextPn++);
  FLO_CHECK(packet.size() <= s.packetSize);
  return packet;
}

void Endpoint::State::sendAckOnly(Peer& p, Session& s) {
  Bytes packet = startPacket(s);
  s.acks.write(packet, std::uint32_t(std::min<std::size_t>(p.in.freeSpace(), 0xffffffffu)));
  emit(s.address, seal(s, std::move(packet)));
  ++metrics.ackOnly;
}

/// Sends what the congestion and flow windows and the pace allow, then any due ACK or PING.
void Endpoint::State::flush(Peer& p, Time now) {
  Session* s = p.session.get();
  if (!s) return;
  s->recovery.clearPaceTimer();
  const std::size_t maxPlain = s->maxPlain();
  for (;;) {
    Bytes packet = startPacket(*s);
    auto plainSize = [&] { return packet.size() - wire::kDataHeader; };
    SentPacket pkt;
    pkt.sent = now;
    bool haveAck = s->acks.pending();
    // A probe may go beyond the window. A PING asks for an ACK at once: in a probe, and in the
    // packet that empties the queue (nothing follows it to make the peer's second-packet ACK,
    // and the caller waits for Acknowledged). chunk() leaves room for it.
    bool probe = s->recovery.probes() > 0;
    std::size_t room = maxPlain - (haveAck ? s->acks.frameSize() : 0) - 1;
    bool beyondWindow = s->recovery.windowFull();
    // Our key event log first, whatever the window: the peer holds everything back until it
    // has it.
    for (std::size_t i = 0; s->idUnsent > 0 && i < s->idOut.size(); ++i) {
      if (s->idOut[i] != SegState::Unsent) continue;
      if (plainSize() + wire::kIdentityHeader + identityLength(*s, i) > room) break;
      writeIdentityChunk(*s, packet, i);
      s->idOut[i] = SegState::InFlight;
      --s->idUnsent;
      pkt.identity.push_back(std::uint16_t(i));
    }
    if (s->tokenPending && plainSize() + wire::kTokenFrame <= room) {
      wire::writeToken(packet, resetToken(s->localSid, p.address));
      s->tokenPending = false;
      pkt.token = true;
    }
    // Nothing for a peer that has not proven its DID yet; probes are not paced.
    bool paced = !probe && !beyondWindow && s->proven &&
                 !s->recovery.paceAllows(now, p.out.peek().has_value());
    while (s->proven && !paced && (!beyondWindow || probe)) {
      auto next = p.out.peek();
      if (!next) break;
      OutMessage& m = *p.out.find(next->ref.seq);
      std::size_t length = m.lengthOf(next->ref.index);
      FLO_CHECK(length <= s->chunk()); // restartSending cut the stream for this session
      if (plainSize() + wire::kSegmentHeader + length > room) break;
      bool windowOpen = s->recovery.inflightBytes() + pkt.dataBytes + length <= s->peerWindow;
      if (!windowOpen && (s->recovery.inFlight() || !pkt.segments.empty())) break; // probe only
      if (next->retransmit) ++metrics.retransmissions;
      p.out.take(*next);
      std::size_t offset = m.offsetOf(next->ref.index);
      wire::writeSegment(packet, m.seq, std::uint32_t(offset), std::uint32_t(m.data.size()),
                         m.data.data() + offset, std::uint16_t(length));
      pkt.segments.push_back(next->ref);
      pkt.dataBytes += length;
      if (!windowOpen) break;
    }
    // A PING to send again if lost (key confirmation, keep-alive).
    pkt.ping = pkt.segments.empty() && pkt.identity.empty() && !pkt.token && s->pingPending;
    bool drained = !pkt.segments.empty() && !p.out.peek();
    if (probe || pkt.ping || drained || !pkt.identity.empty()) {
      wire::writePing(packet);
      pkt.ackAtOnce = true;
    }
    if (probe) s->recovery.useProbe();
    bool eliciting = plainSize() > 0;
    if (!eliciting && !s->acks.due(now)) return;
    if (eliciting) s->pingPending = false;
    if (haveAck)
      s->acks.write(packet, std::uint32_t(std::min<std::size_t>(p.in.freeSpace(), 0xffffffffu)));
    std::uint64_t pn = s->nextPn;
    Bytes sealed = seal(*s, std::move(packet));
    if (!pkt.segments.empty()) s->recovery.onPacedSend();
    if (eliciting)
      s->recovery.onSent(pn, std::move(pkt), now);
    else
      ++metrics.ackOnly;
    s->lastSent = now;
    emit(p.address, std::move(sealed));
  }
}

} // namespace flo::core
