/// \file
/// What happened on the simulated network, in order: every datagram delivered, every one
/// dropped (and why), every scripted fault. The trace folds each entry into a running 64-bit
/// digest, so two runs are the same run exactly when their digests match; it keeps the latest
/// entries for a failing test to print.
#pragma once

#include "core/transport.h"

#include <cstdint>
#include <deque>
#include <string>

namespace flo::sim {

/// Why the network did not deliver a datagram.
enum class DropCause : std::uint8_t {
  Loss,      ///< the link's drop probability
  Partition, ///< sender and receiver could not talk when it was sent or when it arrived
  Tap,       ///< the test's tap swallowed it
  NodeDown,  ///< the receiver was down when it arrived, or the sender crashed before sending
  NoRoute    ///< no node has the destination address
};
const char* dropCauseName(DropCause cause);

/// One thing that happened, at virtual time `at`.
struct TraceEntry {
  enum class Kind : std::uint8_t { Delivered, Dropped, Fault };
  Kind kind = Kind::Delivered;
  core::Time at{};
  core::Address from, to;            ///< Delivered, Dropped
  std::size_t size = 0;              ///< bytes, Delivered and Dropped
  std::uint64_t hash = 0;            ///< hashBytes of the datagram, Delivered and Dropped
  DropCause cause = DropCause::Loss; ///< Dropped
  std::string note;                  ///< Fault: what the schedule or the test did
};

/// The record of a run: a digest of everything, and the latest entries.
class Trace {
public:
  /// Keeps the latest `capacity` entries (the digest covers all of them).
  explicit Trace(std::size_t capacity = 1u << 16);

  void record(TraceEntry entry);
  /// The running digest of every entry recorded so far: same seed and scenario, same digest.
  std::uint64_t digest() const { return digest_; }
  /// Entries recorded in all (some may no longer be kept).
  std::uint64_t recorded() const { return recorded_; }
  /// The latest entries, oldest first.
  const std::deque<TraceEntry>& entries() const { return entries_; }

  /// One line: `+12.345678s deliver 10.0.0.1:7000 -> 10.0.0.2:7000 222B #5f0c...`, with times
  /// since the clock's epoch.
  static std::string format(const TraceEntry& entry);
  /// The last `count` entries kept, one per line, after a line with the digest.
  std::string tail(std::size_t count) const;

private:
  std::size_t capacity_;
  std::uint64_t digest_ = 0;
  std::uint64_t recorded_ = 0;
  std::deque<TraceEntry> entries_;
};

/// A digest as 16 hex digits.
std::string hexDigest(std::uint64_t digest);

} // namespace flo::sim
