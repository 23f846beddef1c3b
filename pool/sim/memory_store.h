/// \file
/// A replica's storage in memory, for the simulator: the deterministic fake beside the SQLite
/// store (pool/store), with the same contract. It applies the core's effects (the durable
/// ones), answers the core's ChainReader, survives a simulated crash (the test holds it, the
/// replica does not) and rebuilds what a restarting replica needs.
#pragma once

#include "pool/core/replica.h"

#include <map>
#include <optional>
#include <set>
#include <vector>

namespace flo::pool {

class MemoryStore final : public ReplicaStore {
public:
  explicit MemoryStore(const Genesis& genesis) : genesis_(genesis) {}

  /// Keeps what an effect makes durable; other effects are ignored.
  void apply(const Effect& effect);
  bool applyDurable(const std::vector<Effect>& effects, std::string*) override {
    for (const Effect& e : effects) apply(e);
    return true;
  }
  std::optional<StoredBlock> committed(std::uint64_t height) const override;
  std::optional<StoreCheckpoint> latestCheckpoint() const override { return checkpoint_; }

  /// What a restart starts from: the safety state, the ledger at the tip (from the last stable
  /// checkpoint's snapshot and the blocks after it), the tip and the blocks stored above it.
  Restored restore() const override;
  bool empty() const override { return chain_.empty() && !safety_; }

  /// The committed chain, height h at index h - 1. A state transfer leaves heights it skipped
  /// as holes (default entries: see holds()).
  const std::vector<StoredBlock>& chain() const { return chain_; }
  /// Whether the block at `height` (1..tip) is held: false in a hole a state transfer left.
  bool holds(std::uint64_t height) const {
    return height >= 1 && height <= chain_.size() && !holes_.count(height);
  }
  bool hasHoles() const { return !holes_.empty(); }
  const std::vector<std::vector<TxResult>>& results() const { return results_; }
  const std::vector<Digest>& roots() const { return roots_; }
  /// Every block this replica stored because it voted for it, in order (the signing log).
  const std::vector<Proposal>& voted() const { return voted_; }
  std::uint64_t stableCheckpoint() const { return checkpoint_ ? checkpoint_->height : 0; }
  /// Forgets everything (a lost disk).
  void wipe();

private:
  /// The next committed block (the tip's child, or a state transfer's base above holes).
  void append(StoredBlock block, std::vector<TxResult> results, const Digest& root);

  Genesis genesis_;
  std::optional<SafetyState> safety_;
  std::map<Digest, Proposal> pending_;
  std::vector<StoredBlock> chain_; ///< height h at index h - 1
  std::vector<std::vector<TxResult>> results_;
  std::vector<Digest> roots_;
  std::vector<Proposal> voted_;
  std::optional<StoreCheckpoint> checkpoint_;
  std::set<std::uint64_t> holes_; ///< heights skipped by state transfers
};

} // namespace flo::pool
