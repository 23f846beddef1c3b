/// \file
/// What a deployer and a fogger say to each other over the encrypted transport (docs/deploy.md),
/// beside what both say to the pool. Each message is one canonical record (core/canonical.h);
/// decoding checks the shape and the limits and never throws.
///
///   deployer -> fogger  BundleOffer  the order's id, the job, the runs, the manifest's bytes and
///                                    the object for the fogger's architecture
///   fogger -> deployer  RunOutput    the signed output items (a hash chain of provenance
///                                    records and their payloads), the RunResult the fogger
///                                    signs over them, and the run's log
///   fogger -> deployer  Refusal      why the fogger will not run the order (checked against
///                                    the pool first: not assigned, a hash mismatch, ...)
///   deployer -> fogger  Probe        nothing: its acknowledgement times the round trip
///
/// and what two foggers say for a feed (docs/deploy.md, "Federation"; fogger/feed.h):
///
///   consumer -> producer  FeedCredit  the items of the producer's order it may send, in all
///                                     (the first one subscribes; `closed`: send no more)
///   producer -> consumer  FeedItems   the next items, numbered, within that credit; `end`
///                                     when the producer's job has no more
#pragma once

#include "pool/wire/tx.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flo::fogger {

using core::Bytes;
using core::Digest;

/// Where a consumer's job takes its items from: another order of the same deployer, run by
/// the fogger at `address` whose DID is `fogger`.
struct FeedSource {
  Digest order{};
  std::string fogger, address;
  bool operator==(const FeedSource&) const = default;
};

struct BundleOffer {
  static constexpr std::string_view kName = "bundle-offer";
  static constexpr std::size_t kMaxManifest = 64 << 10, kMaxObject = 8 << 20, kMaxFeedOut = 256;
  Digest order{};
  std::string job;
  std::uint32_t runs = 1;
  std::string triple;
  Bytes manifest; ///< manifest.json, byte for byte (its SHA-256 is the order's)
  Bytes object;   ///< the shared object for `triple`
  /// A producer: the shares (paths or patterns) whose writes its runs send to a consumer.
  std::vector<std::string> feedOut;
  /// A consumer: the job its flow takes items from.
  std::optional<FeedSource> feedIn;
  bool operator==(const BundleOffer&) const = default;
};

struct RunOutput {
  static constexpr std::string_view kName = "run-output";
  static constexpr std::size_t kMaxItems = 4096, kMaxLine = 4096, kMaxLog = 64 << 10;
  Bytes result;                      ///< pool::RunResult::encode()
  core::Signature signature{};       ///< the fogger's, over pool::runResultMessage
  std::vector<Bytes> records;        ///< core::ProvenanceRecord::encode(), in chain order
  std::vector<std::string> payloads; ///< each record's payload: an output line
  std::string log;                   ///< the run's stderr (truncated to kMaxLog)
  bool operator==(const RunOutput&) const = default;
};

struct Refusal {
  static constexpr std::string_view kName = "refusal";
  Digest order{};
  std::string reason;
  bool operator==(const Refusal&) const = default;
};

struct FeedCredit {
  static constexpr std::string_view kName = "feed-credit";
  Digest source{};        ///< the producer's order
  Digest order{};         ///< the consumer's order (assigned to the sender on the pool)
  std::uint64_t upTo = 0; ///< items 0..upTo-1 may be sent
  bool closed = false;    ///< the consumer takes no more: drop the rest
  bool operator==(const FeedCredit&) const = default;
};

struct FeedItems {
  static constexpr std::string_view kName = "feed-items";
  static constexpr std::size_t kMaxItems = 256, kMaxItem = 4096;
  Digest source{};                ///< the producer's order
  std::uint64_t first = 0;        ///< the number of items[0]
  std::vector<std::string> items; ///< feed lines (runtime/feed.h)
  bool end = false;               ///< the last items of the feed
  bool operator==(const FeedItems&) const = default;
};

/// A deployer's probe before it assigns: the fogger's transport acknowledges it (the round
/// trip, handshake included on first contact, is what the deployer measures); the fogger itself
/// does nothing with it.
struct Probe {
  static constexpr std::string_view kName = "probe";
  bool operator==(const Probe&) const = default;
};

using Message = std::variant<BundleOffer, RunOutput, Refusal, FeedCredit, FeedItems, Probe>;

Bytes encode(const Message& m);
std::optional<Message> decode(const Bytes& data, std::string* error = nullptr);

} // namespace flo::fogger
