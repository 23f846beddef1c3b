/// \file
/// The receive side of a session's packets: the anti-replay window checked before decryption,
/// and which ack-eliciting packets to acknowledge and when.
///
/// ACK policy: at once for a PING and after any sign of loss (a packet out of order, a segment
/// that fills a gap or repeats), and for the next kQuickAcks packets after such a sign, as the
/// sender's window is small and its ACK clock fragile; at once for every second packet (as
/// TCP); otherwise within ackDelay, so that it can ride on data.
#pragma once

#include "core/transport.h"
#include "core/transport/wire.h"

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

namespace flo::core {

/// Sliding anti-replay window over packet numbers: a bitmap indexed by number mod its size.
class ReplayWindow {
public:
  explicit ReplayWindow(std::size_t size);
  /// True if `pn` is new and not too old (checked before any decryption).
  bool fresh(std::uint64_t pn) const;
  /// Records an authenticated packet number.
  void mark(std::uint64_t pn);

private:
  std::uint64_t width() const { return bits_.size() * 64; }
  bool test(std::uint64_t pn) const { return bits_[(pn % width()) / 64] >> (pn % 64) & 1; }
  void clear(std::uint64_t pn) { bits_[(pn % width()) / 64] &= ~(std::uint64_t(1) << (pn % 64)); }
  std::vector<std::uint64_t> bits_;
  std::uint64_t highest_ = 0;
  bool any_ = false;
};

class AckTracker {
public:
  static constexpr std::size_t kKeptRanges = 32; ///< ranges remembered for ACKs
  static constexpr unsigned kQuickAcks = 16;

  /// Notes any authenticated packet; true if it came out of order (a packet before it is
  /// missing, or it is late).
  bool onAuthenticated(std::uint64_t pn);
  /// Whether a packet is acknowledged at once by the quick-ACK rule: it shows a sign of loss
  /// (then the next kQuickAcks ack-eliciting packets are too), or it is one of those.
  bool quickAck(bool lossSign, bool eliciting);
  /// Notes an ack-eliciting packet for the next ACK.
  void onEliciting(std::uint64_t pn, bool urgent, Time now, Clock::duration ackDelay);

  /// Whether an ACK has something to say, and whether it is due at `now`.
  bool pending() const { return pending_ && !received_.empty(); }
  bool due(Time now) const { return pending() && deadline_ && *deadline_ <= now; }
  std::optional<Time> deadline() const { return pending() ? deadline_ : std::optional<Time>{}; }
  /// The size of the ACK frame write() would append.
  std::size_t frameSize() const { return wire::ackSize(received_.size()); }
  /// Appends the ACK frame (the highest ranges) and clears what was pending.
  void write(Bytes& plain, std::uint32_t window);
  std::optional<std::uint64_t> largestReceived() const { return largest_; }

private:
  std::map<std::uint64_t, std::uint64_t> received_; ///< first -> last (inclusive)
  std::vector<wire::AckRange> scratch_;
  bool pending_ = false;
  unsigned unacked_ = 0, quickAcks_ = 0;
  std::optional<Time> deadline_;
  std::optional<std::uint64_t> largest_; ///< of every authenticated packet
};

} // namespace flo::core
