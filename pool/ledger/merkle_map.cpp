/// \file
/// The crit-bit Merkle map (see merkle_map.h).
#include "pool/ledger/merkle_map.h"

#include "core/check.h"

#include <array>
#include <bit>
#include <utility>
#include <vector>

namespace flo::pool {

namespace {

constexpr unsigned kBits = 256;

/// Bit `i` of the key, counting from the most significant bit of byte 0.
unsigned bitOf(const core::Digest& key, unsigned i) {
  return (key[i / 8] >> (7 - i % 8)) & 1u;
}

/// The first bit in which the keys differ (kBits when they are equal).
unsigned firstDifference(const core::Digest& a, const core::Digest& b) {
  for (unsigned byte = 0; byte < a.size(); ++byte) {
    if (std::uint8_t x = a[byte] ^ b[byte]; x != 0) return byte * 8 + unsigned(std::countl_zero(x));
  }
  return kBits;
}

} // namespace

struct MerkleMap::Node {
  bool leaf = true;
  bool dirty = true;
  std::uint16_t bit = 0; ///< a branch: the bit its children differ in first
  core::Digest key{};    ///< a leaf's
  core::Digest value{};  ///< a leaf's
  core::Digest hash{};
  std::array<std::unique_ptr<Node>, 2> child;

  Node() = default;
  Node(const Node& o)
      : leaf(o.leaf), dirty(o.dirty), bit(o.bit), key(o.key), value(o.value), hash(o.hash) {
    for (int i = 0; i < 2; ++i)
      if (o.child[i]) child[i] = std::make_unique<Node>(*o.child[i]);
  }
};

MerkleMap::MerkleMap() = default;
MerkleMap::~MerkleMap() = default;
MerkleMap::MerkleMap(MerkleMap&&) noexcept = default;
MerkleMap& MerkleMap::operator=(MerkleMap&&) noexcept = default;
MerkleMap::MerkleMap(const MerkleMap& other)
    : root_(other.root_ ? std::make_unique<Node>(*other.root_) : nullptr), size_(other.size_) {}
MerkleMap& MerkleMap::operator=(const MerkleMap& other) {
  if (this != &other) {
    root_ = other.root_ ? std::make_unique<Node>(*other.root_) : nullptr;
    size_ = other.size_;
  }
  return *this;
}

void MerkleMap::put(const Key& key, const Value& value) {
  auto leaf = [&] {
    auto n = std::make_unique<Node>();
    n->key = key;
    n->value = value;
    return n;
  };
  if (!root_) {
    root_ = leaf();
    ++size_;
    return;
  }
  // Where the key leaves the trie: the nearest leaf along its bits shares the longest prefix
  // with it of all keys held.
  const Node* near = root_.get();
  while (!near->leaf) near = near->child[bitOf(key, near->bit)].get();
  unsigned d = firstDifference(key, near->key);
  // Down again to the first node that splits at or after d, marking the path changed.
  std::unique_ptr<Node>* at = &root_;
  while (!(*at)->leaf && (*at)->bit < d) {
    (*at)->dirty = true;
    at = &(*at)->child[bitOf(key, (*at)->bit)];
  }
  if (d == kBits) { // held: a new value
    FLO_CHECK((*at)->leaf && (*at)->key == key);
    (*at)->value = value;
    (*at)->dirty = true;
    return;
  }
  auto branch = std::make_unique<Node>();
  branch->leaf = false;
  branch->bit = std::uint16_t(d);
  unsigned side = bitOf(key, d);
  branch->child[side] = leaf();
  branch->child[1 - side] = std::move(*at);
  *at = std::move(branch);
  ++size_;
}

bool MerkleMap::erase(const Key& key) {
  if (!root_) return false;
  // The path to the leaf the key would be at; its parent is replaced by the leaf's sibling.
  std::unique_ptr<Node>* at = &root_;
  std::unique_ptr<Node>* parent = nullptr;
  while (!(*at)->leaf) {
    parent = at;
    at = &(*at)->child[bitOf(key, (*at)->bit)];
  }
  if ((*at)->key != key) return false;
  --size_;
  if (!parent) {
    root_.reset();
    return true;
  }
  Node& p = **parent;
  std::unique_ptr<Node> sibling = std::move(p.child[1 - bitOf(key, p.bit)]);
  *parent = std::move(sibling);
  // Everything above the removed branch changed: mark the path from the root again.
  for (Node* n = root_.get(); n && !n->leaf; n = n->child[bitOf(key, n->bit)].get()) {
    if (n == parent->get()) break;
    n->dirty = true;
  }
  return true;
}

core::Digest MerkleMap::root() {
  if (!root_) return core::Digest{};
  // Post-order over dirty nodes, without recursion (depth is at most 256).
  struct Frame {
    Node* node;
    bool expanded;
  };
  std::vector<Frame> stack{{root_.get(), false}};
  std::array<std::uint8_t, 1 + 2 + 32 + 32> buffer{};
  while (!stack.empty()) {
    Frame& f = stack.back();
    Node* n = f.node;
    if (!n->dirty) {
      stack.pop_back();
      continue;
    }
    if (n->leaf) {
      buffer[0] = 0x00;
      std::copy(n->key.begin(), n->key.end(), buffer.begin() + 1);
      std::copy(n->value.begin(), n->value.end(), buffer.begin() + 33);
      n->hash = core::hash(buffer.data(), 65);
      n->dirty = false;
      stack.pop_back();
      continue;
    }
    if (!f.expanded) {
      f.expanded = true;
      FLO_CHECK(n->child[0] && n->child[1]); // a branch always has both sides
      stack.push_back({n->child[1].get(), false});
      stack.push_back({n->child[0].get(), false});
      continue;
    }
    buffer[0] = 0x01;
    buffer[1] = std::uint8_t(n->bit >> 8);
    buffer[2] = std::uint8_t(n->bit);
    std::copy(n->child[0]->hash.begin(), n->child[0]->hash.end(), buffer.begin() + 3);
    std::copy(n->child[1]->hash.begin(), n->child[1]->hash.end(), buffer.begin() + 35);
    n->hash = core::hash(buffer.data(), buffer.size());
    n->dirty = false;
    stack.pop_back();
  }
  return root_->hash;
}

} // namespace flo::pool
