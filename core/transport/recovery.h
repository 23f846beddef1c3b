/// \file
/// Loss recovery and congestion control for one session's packets, knowing nothing of what is
/// in them: the caller hands over each ack-eliciting packet as it leaves (with whatever it
/// needs back if the packet is lost) and gets back the packets acknowledged and the packets
/// lost.
///
/// Packet numbers are never reused, so retransmitted data travels in new packets and every RTT
/// sample is unambiguous. A packet unacknowledged below the largest acknowledged one was
/// overtaken: it is lost once kPacketThreshold later packets are acknowledged or 9/8 RTT has
/// passed since it was sent (RFC 9002 §6.1); a timer waits for the latter. The congestion
/// window (AIMD, in packets) halves once per loss episode. With no ACK for two smoothed RTTs,
/// a tail loss probe (RFC 8985) lets two packets out beyond the window. The retransmission
/// timer (RFC 6298, at least minRto) is the last resort: on expiry only the earliest packet is
/// lost, the timer doubles, and the window falls to minCwnd. When an ACK then shows that very
/// packet arrived (its number, not its retransmission's: numbers are never reused), the timeout
/// was spurious, only late: the window and ssthresh go back to what they were (the Eifel
/// response, RFC 4015), as on a peer that was merely slow to run. Pacing (RFC 9002 §7.7): data
/// packets leave at 1.25 × cwnd per smoothed RTT after a burst of paceBurst, or a
/// millisecond's worth at that pace if more.
#pragma once

#include "core/transport.h"
#include "core/transport/stream.h"
#include "core/transport/wire.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace flo::core {

/// An ack-eliciting packet in flight, and what it carried that must go again if it is lost.
struct SentPacket {
  Time sent{};
  std::size_t dataBytes = 0;
  std::vector<SegmentRef> segments;
  std::vector<std::uint16_t> identity; ///< chunks of our key event log
  bool token = false;                  ///< our reset token
  bool ping = false;      ///< a PING to send again if lost (key confirmation, keep-alive)
  bool ackAtOnce = false; ///< it carries a PING: the peer acknowledges it without delay
};

class Recovery {
public:
  using Duration = Clock::duration;
  static constexpr unsigned kPacketThreshold = 3; ///< RFC 9002 reordering threshold

  Recovery(const TransportConfig& config, TransportMetrics& metrics, Time now);

  /// Whether the congestion window is full (probes may still go out).
  bool windowFull() const { return sent_.size() >= std::size_t(std::max(1.0, cwnd_)); }
  std::size_t inflightBytes() const { return inflightBytes_; }
  bool inFlight() const { return !sent_.empty(); }
  std::size_t packetsInFlight() const { return sent_.size(); }

  /// Records an ack-eliciting packet as sent.
  void onSent(std::uint64_t pn, SentPacket packet, Time now);

  /// What becomes of packets, told as it happens (the order matters: a segment re-queued by
  /// a loss is what a tail probe then finds to send).
  class Listener {
  public:
    virtual ~Listener() = default;
    /// A packet was acknowledged (for the first time).
    virtual void acked(const SentPacket& packet) = 0;
    /// A packet was deemed lost: what it carried goes again.
    virtual void lost(const SentPacket& packet) = 0;
    /// A tail probe is due: two packets may go beyond the window; `newest` is the newest
    /// packet in flight, whose data to send again if nothing new waits.
    virtual void tailProbe(const SentPacket& newest) = 0;
  };

  /// An ACK frame's ranges (validated: every number below what we sent). Tells `listener`
  /// each packet acknowledged, in packet-number order, then each found lost.
  void onAck(const std::vector<wire::AckRange>& ranges, Time now, Listener& listener);
  /// Runs the loss-detection, tail-probe and retransmission timers due at `now`. Returns false
  /// when the retransmission timer has expired deadAfterRtos times in a row without progress
  /// (the peer is unresponsive).
  bool onTimer(Time now, Listener& listener);

  /// Probe packets (beyond the window) still to send, and taking one.
  unsigned probes() const { return probes_; }
  void useProbe() {
    if (probes_ > 0) --probes_;
  }

  /// The earliest of the loss, tail-probe, retransmission and pacing timers.
  std::optional<Time> nextTimer() const;
  /// Pacing: whether a data packet may leave now. When not, pacedUntil() says when; `hasData`
  /// says whether anything waits (the pacing timer is set only then).
  bool paceAllows(Time now, bool hasData);
  /// A data packet left (one pacing token).
  void onPacedSend() { paceTokens_ -= 1; }
  void clearPaceTimer() { paceAt_.reset(); }

  double cwnd() const { return cwnd_; }
  bool haveRtt() const { return haveRtt_; }
  Duration srtt() const { return srtt_; }
  Duration effectiveRto() const;

private:
  void updateRtt(Duration sample);
  void onCongestion(Time sent, Time now);
  void detectLosses(Time now, Listener& listener);
  void declareLost(std::map<std::uint64_t, SentPacket>::iterator it, Listener& listener);
  std::optional<Time> probeTime() const;
  void checkInvariants() const;

  const TransportConfig& config_;
  TransportMetrics& metrics_;
  std::map<std::uint64_t, SentPacket> sent_; ///< exactly the ack-eliciting packets in flight
  std::size_t inflightBytes_ = 0;            ///< == sum of sent_'s dataBytes
  std::optional<std::uint64_t> largestAcked_;
  double cwnd_, ssthresh_ = 1e9;
  Time recoveryStart_ = Time::min(); ///< packets sent up to here belong to the current episode
  Duration srtt_{}, rttvar_{}, rto_{}, latestRtt_{};
  bool haveRtt_ = false;
  unsigned backoff_ = 0, consecutiveRtos_ = 0;
  std::optional<Time> lossTime_; ///< when a packet below largestAcked_ turns lost by time
  std::optional<Time> rtoAt_;    ///< while sent_ is not empty
  double paceTokens_;
  Time paceLast_;
  std::optional<Time> paceAt_; ///< when the pace lets the next data packet out
  unsigned probes_ = 0;        ///< probe packets to send now, beyond the window
  unsigned tailProbes_ = 0;    ///< tail probe timeouts since the last ACK of new data
  /// What the first retransmission timeout of an episode changed, until an ACK shows whether
  /// the packet it declared lost had arrived after all.
  struct RtoUndo {
    std::uint64_t pn = 0;
    double cwnd = 0, ssthresh = 0;
    Time recoveryStart{};
  };
  std::optional<RtoUndo> rtoUndo_;
};

} // namespace flo::core
