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
#pragma once

#include "pool/wire/tx.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flo::fogger {

using core::Bytes;
using core::Digest;

struct BundleOffer {
  static constexpr std::string_view kName = "bundle-offer";
  static constexpr std::size_t kMaxManifest = 64 << 10, kMaxObject = 8 << 20;
  Digest order{};
  std::string job;
  std::uint32_t runs = 1;
  std::string triple;
  Bytes manifest; ///< manifest.json, byte for byte (its SHA-256 is the order's)
  Bytes object;   ///< the shared object for `triple`
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

using Message = std::variant<BundleOffer, RunOutput, Refusal>;

Bytes encode(const Message& m);
std::optional<Message> decode(const Bytes& data, std::string* error = nullptr);

} // namespace flo::fogger
