/// \file
/// Feeds between foggers (see feed.h).
#include "fogger/feed.h"

#include "core/crypto.h"

#include <cassert>

namespace flo::fogger {

Digest feedDigest(const Digest& before, const std::string& item) {
  Bytes b(before.begin(), before.end());
  b.insert(b.end(), item.begin(), item.end());
  return core::sha256(b);
}

std::string feedSentLine(std::uint64_t items, const Digest& digest) {
  return "feed sent " + std::to_string(items) + " items sha256 " + core::toHex(digest);
}

std::string feedTakenLine(const Digest& source, std::uint64_t items, const Digest& digest) {
  return "feed taken from " + core::toHex(source) + " " + std::to_string(items) + " items sha256 " +
         core::toHex(digest);
}

// ---- FeedSender ------------------------------------------------------------------------------

void FeedSender::push(std::string item) {
  assert(!full() && !finished_);
  if (closed_) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(item));
}

void FeedSender::credit(std::uint64_t upTo, bool closed) {
  if (!subscribed_) window_ = upTo;
  subscribed_ = true;
  if (upTo > upTo_) upTo_ = upTo;
  if (closed && !closed_) {
    closed_ = true;
    dropped_ += queue_.size();
    queue_.clear();
  }
}

std::optional<FeedItems> FeedSender::next() {
  if (!subscribed_ || closed_ || endSent_) return std::nullopt;
  FeedItems m;
  m.source = source_;
  m.first = sent_;
  while (!queue_.empty() && sent_ < upTo_ && m.items.size() < FeedItems::kMaxItems) {
    digest_ = feedDigest(digest_, queue_.front());
    m.items.push_back(std::move(queue_.front()));
    queue_.pop_front();
    ++sent_;
  }
  m.end = finished_ && queue_.empty();
  if (m.items.empty() && !m.end) return std::nullopt;
  endSent_ = m.end;
  // In flight: sent, and not yet given back as credit (the consumer grants its window beyond
  // what its job took).
  std::uint64_t taken = upTo_ > window_ ? upTo_ - window_ : 0;
  maxInFlight_ = std::max(maxInFlight_, sent_ - std::min(sent_, taken));
  return m;
}

// ---- FeedReceiver ----------------------------------------------------------------------------

FeedReceiver::FeedReceiver(const Digest& source, const Digest& order, std::uint64_t window)
    : source_(source), order_(order), window_(window), granted_(window) {
  assert(window > 0);
}

bool FeedReceiver::receive(const FeedItems& m, std::vector<std::string>& out, std::string& error) {
  if (m.source != source_) return error = "items of another feed", false;
  if (ended_) return true; // a repeat of the end
  if (m.first > next_)
    return error = "items from " + std::to_string(m.first) + " when " + std::to_string(next_) +
                   " is next",
           false;
  std::uint64_t last = m.first + m.items.size();
  if (last > granted_)
    return error = "items up to " + std::to_string(last) + " beyond the credit of " +
                   std::to_string(granted_),
           false;
  for (std::uint64_t k = next_ - m.first; k < m.items.size(); ++k) {
    digest_ = feedDigest(digest_, m.items[k]);
    out.push_back(m.items[k]);
  }
  next_ = std::max(next_, last);
  ended_ = m.end;
  return true;
}

std::optional<FeedCredit> FeedReceiver::delivered(std::uint64_t n) {
  assert(delivered_ + n <= next_);
  delivered_ += n;
  if (ended_ || delivered_ + window_ < granted_ + (window_ + 1) / 2) return std::nullopt;
  granted_ = delivered_ + window_;
  return FeedCredit{source_, order_, granted_, false};
}

} // namespace flo::fogger
