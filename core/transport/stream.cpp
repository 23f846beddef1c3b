/// \file
/// The reliable message stream (see stream.h).
#include "core/transport/stream.h"

#include "core/check.h"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace flo::core {

std::size_t addRange(std::map<std::uint32_t, std::uint32_t>& have, std::uint32_t first,
                     std::uint32_t end) {
  FLO_CHECK(first <= end);
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

// ---- OutStream --------------------------------------------------------------------------------

std::size_t OutMessage::lengthOf(std::uint32_t index) const {
  std::size_t offset = offsetOf(index);
  FLO_CHECK(offset <= data.size());
  return std::min(chunk, data.size() - offset);
}

namespace {
std::size_t segmentCount(std::size_t size, std::size_t chunk) {
  return size == 0 ? 1 : (size + chunk - 1) / chunk;
}
void cut(OutMessage& m, std::size_t chunk) {
  FLO_CHECK(chunk > 0 && m.acked == 0);
  m.chunk = chunk;
  m.segs.assign(segmentCount(m.data.size(), chunk), SegState::Unsent);
}

/// Cuts a message nothing of which is in flight again into `chunk`-byte segments, keeping what
/// was acknowledged: a new segment is acknowledged when every old one it overlaps was. (The
/// receiver reassembles by byte ranges, so overlapping segments are harmless.)
void recut(OutMessage& m, std::size_t chunk) {
  FLO_CHECK(chunk > 0);
  if (m.acked == 0) return cut(m, chunk);
  OutMessage old = {0, {}, 0, m.chunk, std::move(m.segs), m.acked};
  std::size_t size = m.data.size();
  m.chunk = chunk;
  m.segs.assign(segmentCount(size, chunk), SegState::Unsent);
  m.acked = 0;
  for (std::uint32_t i = 0; i < m.segs.size(); ++i) {
    std::size_t first = m.offsetOf(i), length = m.lengthOf(i);
    std::size_t last = length == 0 ? first : first + length - 1;
    bool all = true;
    for (std::size_t k = first / old.chunk; k <= last / old.chunk && all; ++k) {
      FLO_CHECK(old.segs[k] != SegState::InFlight);
      all = old.segs[k] == SegState::Acked;
    }
    if (all) {
      m.segs[i] = SegState::Acked;
      ++m.acked;
    }
  }
}
} // namespace

void OutStream::push(MessageId id, Bytes data, std::size_t chunk) {
  OutMessage m;
  m.id = id;
  m.seq = nextSeq_++;
  m.data = std::move(data);
  cut(m, chunk);
  FLO_CHECK(out_.empty() || out_.back().seq + 1 == m.seq);
  out_.push_back(std::move(m));
}

OutMessage* OutStream::find(std::uint64_t seq) {
  if (out_.empty() || seq < out_.front().seq) return nullptr;
  std::uint64_t i = seq - out_.front().seq;
  if (i >= out_.size()) return nullptr;
  FLO_CHECK(out_[i].seq == seq);
  return &out_[i];
}

std::optional<NextSegment> OutStream::peek() {
  while (!lost_.empty()) {
    SegmentRef ref = lost_.front();
    OutMessage* m = find(ref.seq);
    if (m && m->segs[ref.index] == SegState::Unsent) return NextSegment{ref, true};
    lost_.pop_front(); // acknowledged meanwhile, or its message is gone
  }
  for (;;) {
    std::uint64_t front = out_.empty() ? nextSeq_ : out_.front().seq;
    if (cursorSeq_ < front) {
      cursorSeq_ = front;
      cursorSeg_ = 0;
    }
    OutMessage* m = find(cursorSeq_);
    if (!m) return std::nullopt;
    while (cursorSeg_ < m->segs.size() && m->segs[cursorSeg_] != SegState::Unsent) ++cursorSeg_;
    if (cursorSeg_ < m->segs.size()) return NextSegment{{cursorSeq_, cursorSeg_}, false};
    ++cursorSeq_;
    cursorSeg_ = 0;
  }
}

void OutStream::take(const NextSegment& next) {
  OutMessage* m = find(next.ref.seq);
  FLO_CHECK(m && m->segs[next.ref.index] == SegState::Unsent);
  if (next.retransmit) {
    FLO_CHECK(!lost_.empty() && lost_.front().seq == next.ref.seq &&
              lost_.front().index == next.ref.index);
    lost_.pop_front();
  } else {
    FLO_CHECK(cursorSeq_ == next.ref.seq && cursorSeg_ == next.ref.index);
    ++cursorSeg_;
  }
  m->segs[next.ref.index] = SegState::InFlight;
}

void OutStream::lost(const SegmentRef& ref, bool front) {
  OutMessage* m = find(ref.seq);
  if (!m || m->segs[ref.index] != SegState::InFlight) return;
  m->segs[ref.index] = SegState::Unsent;
  if (front)
    lost_.push_front(ref);
  else
    lost_.push_back(ref);
}

void OutStream::acked(const SegmentRef& ref) {
  OutMessage* m = find(ref.seq);
  if (!m || m->segs[ref.index] == SegState::Acked) return;
  m->segs[ref.index] = SegState::Acked;
  ++m->acked;
  FLO_CHECK(m->acked <= m->segs.size());
}

std::vector<MessageId> OutStream::popAcknowledged() {
  std::vector<MessageId> ids;
  while (!out_.empty() && out_.front().acked == out_.front().segs.size()) {
    ids.push_back(out_.front().id);
    out_.pop_front();
  }
  return ids;
}

void OutStream::rewind() {
  lost_.clear();
  cursorSeq_ = out_.empty() ? nextSeq_ : out_.front().seq;
  cursorSeg_ = 0;
}

void OutStream::restartSending(std::size_t chunk) {
  for (auto& m : out_) {
    for (auto& st : m.segs)
      if (st == SegState::InFlight) st = SegState::Unsent;
    if (m.chunk != chunk) recut(m, chunk);
  }
  rewind();
}

void OutStream::renumber(std::size_t chunk) {
  std::uint64_t seq = 0;
  for (auto& m : out_) {
    m.seq = seq++;
    m.acked = 0;
    cut(m, chunk);
  }
  nextSeq_ = seq;
  rewind();
}

std::vector<MessageId> OutStream::clear() {
  std::vector<MessageId> ids;
  for (auto& m : out_) ids.push_back(m.id);
  out_.clear();
  nextSeq_ = 0;
  rewind();
  return ids;
}

// ---- InStream ---------------------------------------------------------------------------------

InStream::Accept InStream::accept(std::uint64_t seq, std::uint32_t offset, std::uint32_t total,
                                  const std::uint8_t* bytes, std::uint16_t length) {
  FLO_CHECK(std::uint64_t(offset) + length <= total); // the wire parser checked it
  if (seq < nextDeliver_) return Accept::Ok;          // delivered already: acknowledge again
  if (seq - nextDeliver_ >= limits_.maxReorder) return Accept::Refused;
  auto it = in_.find(seq);
  if (it == in_.end()) {
    // The next message in order always fits (or the stream would wait for itself).
    if (seq != nextDeliver_ && buffered_ + total > limits_.receiveBuffer) return Accept::Refused;
    // Over all peers too: a segment claims its message's size, and each costs that much.
    if (budget_->used + total > budget_->limit) return Accept::Refused;
    it = in_.emplace(seq, InMessage{}).first;
    it->second.data.resize(total);
    buffered_ += total;
    budget_->used += total;
  } else if (it->second.data.size() != total) {
    return Accept::Violation;
  }
  InMessage& m = it->second;
  if (length == 0) return Accept::Ok;
  std::memcpy(m.data.data() + offset, bytes, length);
  m.received += addRange(m.have, offset, offset + length);
  FLO_CHECK(m.received <= m.data.size());
  return Accept::Ok;
}

void InStream::deliverReady(std::vector<Bytes>& out) {
  for (auto it = in_.begin(); it != in_.end() && it->first == nextDeliver_ &&
                              it->second.received == it->second.data.size();
       it = in_.erase(it)) {
    std::size_t size = it->second.data.size();
    FLO_CHECK(buffered_ >= size && budget_->used >= size);
    buffered_ -= size;
    budget_->used -= size;
    out.push_back(std::move(it->second.data));
    ++nextDeliver_;
  }
}

bool InStream::behindFurthest(std::uint64_t seq, std::uint32_t end) {
  std::pair<std::uint64_t, std::uint32_t> at{seq, end};
  bool behind = furthest_ && at <= *furthest_;
  if (!furthest_ || at > *furthest_) furthest_ = at;
  return behind;
}

void InStream::clear() {
  FLO_CHECK(budget_->used >= buffered_);
  budget_->used -= buffered_;
  buffered_ = 0;
  in_.clear();
  nextDeliver_ = 0;
  furthest_.reset();
}

std::size_t InStream::freeSpace() const {
  return limits_.receiveBuffer > buffered_ ? limits_.receiveBuffer - buffered_ : 0;
}

} // namespace flo::core
