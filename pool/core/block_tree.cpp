/// \file
/// The tree of uncommitted blocks (see block_tree.h).
#include "pool/core/block_tree.h"

#include "core/check.h"

#include <algorithm>
#include <functional>

namespace flo::pool {

BlockTree::BlockTree(const Digest& tipId, const BlockHeader& tip) : tipId_(tipId), tip_(tip) {
  FLO_CHECK(tip.id() == tipId);
}

bool BlockTree::add(BlockEntry entry) {
  FLO_CHECK(entry.id == entry.proposal.header.id());
  if (entry.height() <= tip_.height || blocks_.count(entry.id)) return false;
  const BlockHeader* parent = header(entry.parent());
  if (!parent || parent->height + 1 != entry.height()) return false;
  blocks_.emplace(entry.id, std::move(entry));
  return true;
}

const BlockEntry* BlockTree::find(const Digest& id) const {
  auto it = blocks_.find(id);
  return it == blocks_.end() ? nullptr : &it->second;
}

BlockEntry* BlockTree::find(const Digest& id) {
  auto it = blocks_.find(id);
  return it == blocks_.end() ? nullptr : &it->second;
}

const BlockHeader* BlockTree::header(const Digest& id) const {
  if (id == tipId_) return &tip_;
  const BlockEntry* e = find(id);
  return e ? &e->proposal.header : nullptr;
}

std::optional<std::vector<const BlockEntry*>> BlockTree::pathTo(const Digest& id) const {
  std::vector<const BlockEntry*> path;
  Digest at = id;
  while (at != tipId_) {
    const BlockEntry* e = find(at);
    if (!e) return std::nullopt;
    path.push_back(e);
    at = e->parent();
  }
  std::reverse(path.begin(), path.end());
  return path;
}

std::vector<BlockEntry> BlockTree::commit(const Digest& id) {
  auto path = pathTo(id);
  FLO_CHECK(path && !path->empty()); // callers commit only held descendants of the tip
  std::vector<Digest> ids;
  for (const BlockEntry* e : *path) ids.push_back(e->id);
  std::vector<BlockEntry> committed;
  for (const Digest& i : ids) {
    auto it = blocks_.find(i);
    committed.push_back(std::move(it->second));
    blocks_.erase(it);
  }
  tipId_ = id;
  tip_ = committed.back().proposal.header;
  // Keep only the descendants of the new tip: walk each block's ancestry (memoised).
  std::map<Digest, bool> descends;
  descends[tipId_] = true;
  std::function<bool(const Digest&)> check = [&](const Digest& b) -> bool {
    if (auto d = descends.find(b); d != descends.end()) return d->second;
    const BlockEntry* e = find(b);
    bool result = e && e->height() > tip_.height && check(e->parent());
    descends[b] = result;
    return result;
  };
  for (auto it = blocks_.begin(); it != blocks_.end();)
    it = check(it->first) ? std::next(it) : blocks_.erase(it);
  FLO_CHECK(committed.front().proposal.header.height + committed.size() - 1 == tip_.height);
  return committed;
}

} // namespace flo::pool
