/// \file
/// The reliable message stream with one peer, both directions, apart from packets and keys.
///
/// OutStream: messages queued in order (seq = position in the stream), each cut into segments
/// of a size fixed per message (cut again, keeping what was acknowledged, when a session with
/// another datagram size starts). A segment is Unsent, InFlight or Acked; what to
/// send next is a lost segment first, then the first unsent one after a cursor. A message is
/// acknowledged when all its segments are, and only in stream order.
///
/// InStream: segments reassembled into messages under two memory budgets (per peer and over
/// all peers); a segment that does not fit is refused (not acknowledged, so it comes again),
/// except that the next message in order always fits, so the stream cannot deadlock behind
/// later ones. Messages are delivered in order, each once.
#pragma once

#include "core/canonical.h"
#include "core/transport.h"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace flo::core {

enum class SegState : std::uint8_t { Unsent, InFlight, Acked };

struct SegmentRef {
  std::uint64_t seq = 0;
  std::uint32_t index = 0;
};

struct OutMessage {
  MessageId id = 0;
  Bytes data;
  std::uint64_t seq = 0;
  std::size_t chunk = 0; ///< segment size (the last one less)
  std::vector<SegState> segs;
  std::size_t acked = 0; ///< segments Acked
  std::size_t offsetOf(std::uint32_t index) const { return std::size_t(index) * chunk; }
  std::size_t lengthOf(std::uint32_t index) const;
};

/// The next segment to send, and whether it is a retransmission.
struct NextSegment {
  SegmentRef ref;
  bool retransmit = false;
};

class OutStream {
public:
  /// Queues a message cut into segments of `chunk` bytes (> 0).
  void push(MessageId id, Bytes data, std::size_t chunk);
  bool empty() const { return out_.empty(); }
  std::size_t size() const { return out_.size(); }
  /// The queued message at stream position `seq`, if it is still queued.
  OutMessage* find(std::uint64_t seq);

  /// The next segment to send: a lost one first, then the first unsent after the cursor.
  std::optional<NextSegment> peek();
  /// Marks what peek() returned as in flight and moves past it.
  void take(const NextSegment& next);
  /// An in-flight segment's packet was lost: it is unsent again, and first in line.
  void lost(const SegmentRef& ref, bool front = false);
  /// An in-flight (or lost) segment arrived.
  void acked(const SegmentRef& ref);
  /// Pops the messages acknowledged in full from the front, in order; returns their ids.
  std::vector<MessageId> popAcknowledged();

  /// A new session: segments in flight went with the old session's packets, so they are unsent
  /// again; messages cut for another size are cut again into `chunk` (keeping what was
  /// acknowledged).
  void restartSending(std::size_t chunk);
  /// The peer lost its stream (it restarted): every queued message is renumbered from 0 and
  /// sent again in full.
  void renumber(std::size_t chunk);
  /// Gives up: returns the ids of every queued message and empties the stream (numbers start
  /// again from 0).
  std::vector<MessageId> clear();

private:
  void rewind();
  std::deque<OutMessage> out_; ///< out_[i].seq == out_.front().seq + i
  std::uint64_t nextSeq_ = 0;
  std::deque<SegmentRef> lost_;
  std::uint64_t cursorSeq_ = 0;
  std::uint32_t cursorSeg_ = 0;
};

/// Memory for reassembly shared by every peer of an endpoint.
struct ReassemblyBudget {
  std::size_t used = 0;
  std::size_t limit = 0;
};

class InStream {
public:
  enum class Accept { Ok, Refused, Violation };
  struct Limits {
    std::size_t receiveBuffer = 0; ///< per peer
    std::uint64_t maxReorder = 0;  ///< messages ahead of delivery
  };

  InStream(Limits limits, ReassemblyBudget& budget) : limits_(limits), budget_(&budget) {}
  ~InStream() { clear(); }
  InStream(const InStream&) = delete;
  InStream& operator=(const InStream&) = delete;

  /// Takes a segment. Ok also for one already delivered (acknowledge it again); Refused when
  /// it is too far ahead or does not fit the budgets; Violation when it contradicts what was
  /// received of its message (another total).
  Accept accept(std::uint64_t seq, std::uint32_t offset, std::uint32_t total,
                const std::uint8_t* bytes, std::uint16_t length);
  /// Moves the messages complete in order to `out`.
  void deliverReady(std::vector<Bytes>& out);
  /// Whether a segment ending at (seq, end) is behind the furthest position received (it fills
  /// a gap or repeats: a sign of loss); records the position.
  bool behindFurthest(std::uint64_t seq, std::uint32_t end);
  /// Forgets everything not delivered; the stream starts again at 0.
  void clear();
  std::size_t buffered() const { return buffered_; }
  /// Nothing held back: no message partly received or waiting for an earlier one.
  bool empty() const { return in_.empty(); }
  std::size_t freeSpace() const;

private:
  struct InMessage {
    Bytes data;
    std::map<std::uint32_t, std::uint32_t> have; ///< received byte ranges [first, end)
    std::size_t received = 0;
  };
  Limits limits_;
  ReassemblyBudget* budget_;
  std::uint64_t nextDeliver_ = 0;
  std::map<std::uint64_t, InMessage> in_;
  std::size_t buffered_ = 0;
  std::optional<std::pair<std::uint64_t, std::uint32_t>> furthest_;
};

/// Adds the byte range [first, end) to a set of disjoint ranges (first -> end); returns how many
/// of its bytes were new.
std::size_t addRange(std::map<std::uint32_t, std::uint32_t>& have, std::uint32_t first,
                     std::uint32_t end);

} // namespace flo::core
