/// \file
/// The blocks a replica holds above its committed tip: each with its decoded transactions,
/// linked to its parent, certified or not. Commits move the tip forward and drop every block
/// that does not descend from it (a fork that lost).
#pragma once

#include "pool/wire/consensus.h"

#include <map>
#include <optional>
#include <set>
#include <vector>

namespace flo::pool {

struct BlockEntry {
  Proposal proposal;
  Digest id{};
  std::vector<Tx> txs; ///< decoded and verified
  std::vector<Digest> txIds;
  std::optional<QuorumCert> qc; ///< once certified
  std::uint64_t height() const { return proposal.header.height; }
  std::uint64_t round() const { return proposal.header.round; }
  const Digest& parent() const { return proposal.header.parent; }
};

class BlockTree {
public:
  /// Starts at a committed block (genesis, or where a restart or state transfer left off).
  BlockTree(const Digest& tipId, const BlockHeader& tip);

  const Digest& tipId() const { return tipId_; }
  const BlockHeader& tip() const { return tip_; }
  std::uint64_t tipHeight() const { return tip_.height; }

  /// A block whose parent is the tip or a held block; false if its parent is unknown or it is
  /// at or below the tip.
  bool add(BlockEntry entry);
  const BlockEntry* find(const Digest& id) const;
  BlockEntry* find(const Digest& id);
  bool knows(const Digest& id) const { return id == tipId_ || blocks_.count(id) > 0; }
  /// The header of a held block or of the tip.
  const BlockHeader* header(const Digest& id) const;

  /// The held blocks from just above the tip up to `id`, oldest first; nullopt if `id` does
  /// not descend from the tip.
  std::optional<std::vector<const BlockEntry*>> pathTo(const Digest& id) const;

  /// Makes `id` (a held descendant of the tip) the tip. Returns the blocks committed, oldest
  /// first, and drops every held block that does not descend from the new tip.
  std::vector<BlockEntry> commit(const Digest& id);

  std::size_t size() const { return blocks_.size(); }

private:
  Digest tipId_{};
  BlockHeader tip_;
  std::map<Digest, BlockEntry> blocks_;
};

} // namespace flo::pool
