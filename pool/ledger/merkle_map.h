/// \file
/// A commitment to a map from 32-byte keys to 32-byte values whose root changes in
/// O(depth) hashes per changed entry, so the ledger's state root costs what a block touched,
/// not what the ledger holds (hashing the whole state per block made the root the largest
/// cost of a replica; docs/pool.md).
///
/// The tree is a binary crit-bit trie over the keys' bits: every branch splits on the first bit
/// in which the keys below it differ, and a subtree of one entry is just its leaf. Its shape
/// depends only on the set of keys, never on the order they came in, so every replica computes
/// the same root from the same map. Keys are digests (of account ids), so a branch sits at
/// depth about log2(n); making one deeper takes work that doubles per level.
///
///   leaf   = H(0x00 || key || value)
///   branch = H(0x01 || bit (2 bytes, big-endian) || left || right)
///   empty  = 32 zero bytes
///
/// The domain bytes keep a leaf from passing for a branch, and the bit pins where a branch
/// splits. Hashes are computed lazily: put and erase mark the path they change, root() hashes
/// those nodes again.
#pragma once

#include "core/crypto.h"

#include <cstddef>
#include <memory>

namespace flo::pool {

class MerkleMap {
public:
  using Key = core::Digest;
  using Value = core::Digest;

  MerkleMap();
  ~MerkleMap();
  MerkleMap(MerkleMap&&) noexcept;
  MerkleMap& operator=(MerkleMap&&) noexcept;
  MerkleMap(const MerkleMap& other);
  MerkleMap& operator=(const MerkleMap& other);

  /// Sets `key` to `value` (inserting it if absent).
  void put(const Key& key, const Value& value);
  /// Removes `key`; false if it was absent.
  bool erase(const Key& key);
  std::size_t size() const { return size_; }

  /// The root: hashes again only what changed since the last call.
  core::Digest root();

private:
  struct Node;
  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
};

} // namespace flo::pool
