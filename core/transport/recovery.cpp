/// \file
/// Loss recovery and congestion control (see recovery.h).
#include "core/transport/recovery.h"

#include "core/check.h"

#include <algorithm>
#include <chrono>
#include <iterator>

namespace flo::core {

Recovery::Recovery(const TransportConfig& config, TransportMetrics& metrics, Time now)
    : config_(config), metrics_(metrics), cwnd_(config.initialCwnd), paceTokens_(config.paceBurst),
      paceLast_(now) {}

void Recovery::checkInvariants() const {
  FLO_CHECK(cwnd_ >= std::min(config_.minCwnd, config_.initialCwnd) && cwnd_ <= config_.maxCwnd);
  FLO_CHECK(sent_.empty() || rtoAt_); // a packet in flight always has a timer behind it
  FLO_EXPENSIVE_CHECK([this] {
    std::size_t bytes = 0;
    for (const auto& [pn, p] : sent_) bytes += p.dataBytes;
    return bytes == inflightBytes_;
  }());
}

Recovery::Duration Recovery::effectiveRto() const {
  Duration base = haveRtt_ ? rto_ : Duration(config_.initialRto);
  Duration r = base * (std::int64_t(1) << std::min(backoff_, 16u));
  return std::min(r, Duration(config_.maxRto));
}

void Recovery::onSent(std::uint64_t pn, SentPacket packet, Time now) {
  FLO_CHECK(sent_.empty() || sent_.rbegin()->first < pn); // numbers follow send order
  inflightBytes_ += packet.dataBytes;
  sent_.emplace(pn, std::move(packet));
  if (!rtoAt_) rtoAt_ = now + effectiveRto(); // RFC 6298 5.1
  checkInvariants();
}

void Recovery::updateRtt(Duration sample) {
  latestRtt_ = sample;
  if (!haveRtt_) {
    srtt_ = sample;
    rttvar_ = sample / 2;
    haveRtt_ = true;
  } else {
    Duration diff = srtt_ > sample ? srtt_ - sample : sample - srtt_;
    rttvar_ = (3 * rttvar_ + diff) / 4;
    srtt_ = (7 * srtt_ + sample) / 8;
  }
  Duration rto = srtt_ + std::max<Duration>(std::chrono::milliseconds(1), 4 * rttvar_);
  rto_ = std::clamp<Duration>(rto, config_.minRto, config_.maxRto);
  backoff_ = 0;
}

/// A packet sent at `sent` was lost. The window is halved once per loss episode: losses of
/// packets sent before the episode began are part of it. Entering an episode lets the first
/// retransmission out at once, whatever the window (RFC 6675 step 4.3, RFC 9002 §7.3.2).
void Recovery::onCongestion(Time sent, Time now) {
  if (sent <= recoveryStart_) return;
  cwnd_ = std::max(config_.minCwnd, cwnd_ / 2);
  ssthresh_ = cwnd_;
  recoveryStart_ = now;
  probes_ = std::max(probes_, 1u);
  ++metrics_.congestionEvents;
}

void Recovery::declareLost(std::map<std::uint64_t, SentPacket>::iterator it, Listener& listener) {
  FLO_CHECK(inflightBytes_ >= it->second.dataBytes);
  inflightBytes_ -= it->second.dataBytes;
  SentPacket packet = std::move(it->second);
  sent_.erase(it);
  listener.lost(packet);
}

void Recovery::onAck(const std::vector<wire::AckRange>& ranges, Time now, Listener& listener) {
  if (rtoUndo_) {
    // The packet a timeout declared lost, acknowledged: it was late, not lost. A later packet
    // acknowledged without it: it was lost (or its range no longer reported), keep the cut.
    bool arrived = false, later = false;
    for (const wire::AckRange& r : ranges) {
      arrived = arrived || (r.first <= rtoUndo_->pn && rtoUndo_->pn <= r.last);
      later = later || r.last > rtoUndo_->pn;
    }
    if (arrived) {
      cwnd_ = std::max(cwnd_, rtoUndo_->cwnd);
      ssthresh_ = rtoUndo_->ssthresh;
      recoveryStart_ = rtoUndo_->recoveryStart;
      backoff_ = 0;
      ++metrics_.spuriousRtos;
      rtoUndo_.reset();
    } else if (later) {
      rtoUndo_.reset();
    }
  }
  std::optional<std::uint64_t> largestNew;
  Time largestSent{};
  for (const wire::AckRange& r : ranges) {
    for (auto it = sent_.lower_bound(r.first); it != sent_.end() && it->first <= r.last;) {
      const SentPacket& packet = it->second;
      if (packet.sent > recoveryStart_) {
        cwnd_ += cwnd_ < ssthresh_ ? 1.0 : 1.0 / cwnd_;
        cwnd_ = std::min(cwnd_, config_.maxCwnd);
      }
      if (!largestNew || it->first > *largestNew) {
        largestNew = it->first;
        largestSent = packet.sent;
      }
      FLO_CHECK(inflightBytes_ >= packet.dataBytes);
      inflightBytes_ -= packet.dataBytes;
      listener.acked(packet);
      it = sent_.erase(it);
    }
  }
  if (largestNew) {
    consecutiveRtos_ = 0;
    if (!largestAcked_ || *largestNew > *largestAcked_) {
      largestAcked_ = largestNew;
      updateRtt(now - largestSent);
    }
    // RFC 6298 5.2/5.3: new data acknowledged restarts the timer, or stops it.
    rtoAt_.reset();
    tailProbes_ = 0;
    if (!sent_.empty()) rtoAt_ = now + effectiveRto();
  }
  detectLosses(now, listener);
  checkInvariants();
}

/// Lost segments go to the front of the send queue (the listener's business); a packet not
/// yet lost by either rule sets the loss timer, and later packets are later on both counts.
void Recovery::detectLosses(Time now, Listener& listener) {
  lossTime_.reset();
  if (!largestAcked_) return;
  Duration delay =
      std::max<Duration>(std::chrono::milliseconds(1), std::max(srtt_, latestRtt_) * 9 / 8);
  for (auto it = sent_.begin(); it != sent_.end() && it->first < *largestAcked_;) {
    if (*largestAcked_ - it->first < kPacketThreshold && it->second.sent + delay > now) {
      lossTime_ = it->second.sent + delay;
      break;
    }
    onCongestion(it->second.sent, now);
    ++metrics_.packetsLost;
    auto next = std::next(it);
    declareLost(it, listener);
    it = next;
  }
  if (sent_.empty()) rtoAt_.reset();
}

/// Two smoothed RTTs (at least 1 ms) after the newest packet in flight, plus ackDelay when it is
/// alone and its ACK may be delayed, doubled for each probe since the last ACK of new data;
/// only before the retransmission timer, which stays the last resort.
std::optional<Time> Recovery::probeTime() const {
  if (sent_.empty() || !haveRtt_) return std::nullopt;
  const SentPacket& newest = sent_.rbegin()->second;
  Duration pto = std::max<Duration>(std::chrono::milliseconds(1), 2 * srtt_);
  if (sent_.size() == 1 && !newest.ackAtOnce) pto += config_.ackDelay;
  pto *= std::int64_t(1) << std::min(tailProbes_, 16u);
  Time t = newest.sent + pto;
  if (rtoAt_ && t >= *rtoAt_) return std::nullopt;
  return t;
}

std::optional<Time> Recovery::nextTimer() const {
  std::optional<Time> t;
  auto consider = [&](std::optional<Time> x) {
    if (x && (!t || *x < *t)) t = x;
  };
  consider(lossTime_);
  consider(probeTime());
  consider(rtoAt_);
  consider(paceAt_);
  return t;
}

bool Recovery::onTimer(Time now, Listener& listener) {
  if (lossTime_ && now >= *lossTime_) detectLosses(now, listener);
  if (auto t = probeTime(); t && now >= *t) {
    // No ACK for two RTTs: the tail of what was sent, or every ACK for it, may be lost, and no
    // later packet will arrive to reveal it. Two probes go out beyond the window, each with a
    // PING, so that their ACK names everything that arrived. The window is left alone: only
    // what the ACKs show lost counts as congestion.
    ++metrics_.tailProbes;
    ++tailProbes_;
    probes_ = 2;
    listener.tailProbe(sent_.rbegin()->second);
  }
  if (rtoAt_ && now >= *rtoAt_) {
    if (sent_.empty()) {
      rtoAt_.reset();
    } else {
      // RFC 6298 5.4-5.6: only the earliest packet is deemed lost and goes out at once, beyond
      // the window; the packets after it stay in flight, and when the retransmission is
      // acknowledged detectLosses finds those lost too. The window falls to minCwnd (RFC
      // 5681), and ssthresh halves once per loss episode.
      ++metrics_.rtoExpirations;
      auto oldest = sent_.begin();
      if (!rtoUndo_) rtoUndo_ = RtoUndo{oldest->first, cwnd_, ssthresh_, recoveryStart_};
      if (oldest->second.sent > recoveryStart_) ssthresh_ = std::max(config_.minCwnd, cwnd_ / 2);
      cwnd_ = config_.minCwnd;
      recoveryStart_ = now;
      declareLost(oldest, listener);
      probes_ = 1; // the earliest segments, or a PING if they were acknowledged meanwhile
      ++backoff_;
      rtoAt_ = now + effectiveRto();
      lossTime_.reset();
      if (++consecutiveRtos_ >= config_.deadAfterRtos) return false;
    }
  }
  checkInvariants();
  return true;
}

bool Recovery::paceAllows(Time now, bool hasData) {
  if (!config_.pacing || !haveRtt_) return true;
  double srtt = std::max(1e-6, std::chrono::duration<double>(srtt_).count());
  double rate = 1.25 * cwnd_ / srtt; // packets per second
  double elapsed = std::chrono::duration<double>(now - paceLast_).count();
  paceLast_ = now;
  // The burst allowed: paceBurst packets, or a millisecond's worth at a fast pace (as Linux
  // sizes TSO bursts), so that a fast path keeps its large batches (GSO) for what costs little.
  double burst = std::max(config_.paceBurst, rate * 1e-3);
  if (elapsed > 0) paceTokens_ = std::min(burst, paceTokens_ + elapsed * rate);
  if (paceTokens_ >= 1) return true;
  if (hasData) // at least a microsecond on: time must move for tokens to come
    paceAt_ =
        now + std::max<Duration>(std::chrono::microseconds(1),
                                 std::chrono::duration_cast<Duration>(
                                     std::chrono::duration<double>((1 - paceTokens_) / rate)));
  return false;
}

} // namespace flo::core
