/// \file
/// The in-memory replica store (see memory_store.h).
#include "pool/sim/memory_store.h"

#include "core/check.h"

namespace flo::pool {

void MemoryStore::apply(const Effect& effect) {
  if (const auto* s = std::get_if<PersistSafety>(&effect)) {
    // The last voted round only ever grows (the core's invariant, checked where it is kept).
    FLO_CHECK(!safety_ || s->state.lastVotedRound >= safety_->lastVotedRound);
    safety_ = s->state;
  } else if (const auto* b = std::get_if<StoreBlock>(&effect)) {
    // A block at or below the tip can never commit (its height has its block): not kept, as
    // SqliteStore keeps none.
    if (b->proposal.header.height > chain_.size()) pending_[b->proposal.header.id()] = b->proposal;
    voted_.push_back(b->proposal);
  } else if (const auto* c = std::get_if<CommitBlock>(&effect)) {
    FLO_CHECK(c->block.proposal.header.height == chain_.size() + 1);
    append({c->block, c->child, c->childQc}, c->results, c->stateRoot);
  } else if (const auto* k = std::get_if<StoreCheckpoint>(&effect)) {
    // Stable means a quorum signed a root this replica computed: at or below its tip.
    FLO_CHECK(k->height <= chain_.size());
    checkpoint_ = *k;
  } else if (const auto* i = std::get_if<InstallSnapshot>(&effect)) {
    const std::uint64_t height = i->block.proposal.header.height;
    FLO_CHECK(height > chain_.size() && i->checkpoint.height == height);
    while (chain_.size() + 1 < height) {
      holes_.insert(chain_.size() + 1);
      chain_.emplace_back();
      results_.emplace_back();
      roots_.emplace_back();
    }
    append({i->block, i->child, i->childQc}, {}, i->checkpoint.stateRoot); // not executed here
    checkpoint_ = i->checkpoint;
  }
}

void MemoryStore::append(StoredBlock block, std::vector<TxResult> results, const Digest& root) {
  chain_.push_back(std::move(block));
  results_.push_back(std::move(results));
  roots_.push_back(root);
  // Blocks at or below the new tip can never commit now.
  for (auto it = pending_.begin(); it != pending_.end();)
    it = it->second.header.height <= chain_.size() ? pending_.erase(it) : std::next(it);
}

std::optional<StoredBlock> MemoryStore::committed(std::uint64_t height) const {
  if (!holds(height)) return std::nullopt;
  return chain_[height - 1];
}

Restored MemoryStore::restore() const {
  std::optional<Ledger> ledger;
  std::uint64_t from = 0;
  if (checkpoint_) {
    ledger = Ledger::decode(genesis_, checkpoint_->snapshot);
    FLO_CHECK(ledger && ledger->height() == checkpoint_->height);
    from = checkpoint_->height;
  } else {
    ledger.emplace(genesis_);
  }
  for (std::uint64_t h = from + 1; h <= chain_.size(); ++h) {
    const Proposal& p = chain_[h - 1].block.proposal;
    std::vector<Tx> txs;
    for (const Bytes& t : p.txs) txs.push_back(*Tx::decode(t));
    ledger->executeBlock(h, p.header.timeMs, txs);
    FLO_CHECK(ledger->stateRoot() == roots_[h - 1]);
  }
  Restored r{safety_.value_or(SafetyState{}), std::move(*ledger), {}, {}, {}};
  if (chain_.empty()) {
    r.tip = genesisHeader(genesis_, Ledger(genesis_).stateRoot());
    r.tipQc.block = r.tip.id();
  } else {
    r.tip = chain_.back().block.proposal.header;
    r.tipQc = chain_.back().block.qc;
  }
  for (const auto& [id, p] : pending_) r.pending.push_back(p);
  return r;
}

void MemoryStore::wipe() {
  safety_.reset();
  pending_.clear();
  chain_.clear();
  results_.clear();
  roots_.clear();
  checkpoint_.reset();
  holes_.clear();
  // voted_ stays: it is the checker's record of what this replica ever signed.
}

} // namespace flo::pool
