/// \file
/// A feed between two foggers, as pure state (docs/deploy.md, "Federation"): the producer's
/// job writes feed lines (runtime/feed.h), its fogger queues them in a FeedSender and sends
/// them as FeedItems while the consumer's credit allows; the consumer's fogger takes them in a
/// FeedReceiver, hands them to its job's input in order, and grants more credit as its job
/// takes them. So at most `window` items are ever in flight or waiting at the consumer, at most
/// kQueue wait at the producer, and a producer whose consumer is slow stops reading its job,
/// whose writes then block: back-pressure from the consumer's job to the producer's.
///
/// Both sides keep a running SHA-256 over the items, in order (feedDigest), which each fogger
/// puts in its signed output, so the deployer checks that the consumer took exactly what the
/// producer sent.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "fogger/wire.h"

namespace flo::fogger {

/// The running digest after `item`: SHA-256 of the digest before and the item's bytes.
Digest feedDigest(const Digest& before, const std::string& item);

/// The output line a fogger signs for a feed: "feed sent N items sha256 H" (producer) or
/// "feed taken from ORDER N items sha256 H" (consumer).
std::string feedSentLine(std::uint64_t items, const Digest& digest);
std::string feedTakenLine(const Digest& source, std::uint64_t items, const Digest& digest);

class FeedSender {
public:
  static constexpr std::size_t kQueue = 1024; ///< items held at most
  explicit FeedSender(const Digest& source) : source_(source) {}

  /// Whether the queue is full: read nothing more of the job until it is not.
  bool full() const { return queue_.size() >= kQueue; }
  /// The job's next item (the caller checked !full()); dropped once the consumer closed.
  void push(std::string item);
  /// The job's feed has ended: no item comes after those pushed.
  void finish() { finished_ = true; }
  /// The consumer's credit (cumulative: a lower one than before changes nothing).
  void credit(std::uint64_t upTo, bool closed);
  /// The next message to send, when the credit allows one: the next items (at most
  /// FeedItems::kMaxItems), or the end once everything was sent.
  std::optional<FeedItems> next();

  bool subscribed() const { return subscribed_; }
  /// Everything sent, the end included, or the consumer closed.
  bool done() const { return closed_ || endSent_; }
  std::uint64_t sent() const { return sent_; }
  std::uint64_t dropped() const { return dropped_; }
  const Digest& digest() const { return digest_; }
  /// The most items sent and not yet credited back at any time (never above the window the
  /// consumer gives).
  std::uint64_t maxInFlight() const { return maxInFlight_; }

private:
  Digest source_;
  std::deque<std::string> queue_;
  std::uint64_t sent_ = 0, upTo_ = 0, window_ = 0, dropped_ = 0, maxInFlight_ = 0;
  bool subscribed_ = false, closed_ = false, finished_ = false, endSent_ = false;
  Digest digest_{};
};

class FeedReceiver {
public:
  /// `window`: items in flight or waiting here, at most.
  FeedReceiver(const Digest& source, const Digest& order, std::uint64_t window);

  /// The first credit (the subscription).
  FeedCredit subscribe() const { return {source_, order_, window_, false}; }
  /// Takes a message from the producer: the items not seen before, in order, go to `out`. A
  /// message that starts past the next item expected, or brings more than the credit allowed,
  /// is refused (false and why): a producer that breaks the protocol.
  bool receive(const FeedItems& m, std::vector<std::string>& out, std::string& error);
  /// The consumer's job took `n` more items: the credit to send when it moved by half a window
  /// or more (nullopt otherwise).
  std::optional<FeedCredit> delivered(std::uint64_t n);
  /// The credit that closes the feed (the consumer's job takes no more).
  FeedCredit close() const { return {source_, order_, delivered_ + window_, true}; }

  bool ended() const { return ended_; }
  std::uint64_t received() const { return next_; }
  /// Items received and not yet taken by the job.
  std::uint64_t waiting() const { return next_ - delivered_; }
  const Digest& digest() const { return digest_; }
  const Digest& source() const { return source_; }

private:
  Digest source_, order_;
  std::uint64_t window_, next_ = 0, delivered_ = 0, granted_;
  bool ended_ = false;
  Digest digest_{};
};

} // namespace flo::fogger
