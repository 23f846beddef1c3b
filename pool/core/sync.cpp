/// \file
/// Catching up: a replica behind (it was down, partitioned, or lost its disk) fetches committed
/// blocks from a peer and proves them by certificates, not by client signatures (POOL-TESTING
/// §6.5): the blocks must hash-link from its tip, every block's certificate and proposer
/// signature must verify (it stores and serves them, and a block's id does not cover them), and
/// the last one must be committed by the two-chain rule (a child of the next round with its
/// certificate). Missing single blocks (an ancestor of a proposal, the block of a certificate)
/// are fetched by id. Checkpoints: every checkpointInterval blocks each replica signs the state
/// root; n-f matching signatures make it stable, and the ledger at that height is stored with
/// them. State transfer: a replica two checkpoints or more behind gets the latest stable
/// checkpoint (its ledger, the signatures, its block and commit proof) instead of the blocks.
#include "core/check.h"
#include "pool/core/replica.h"

namespace flo::pool {

namespace {
constexpr std::uint32_t kSyncBatch = 256;
constexpr auto kSyncRetry = std::chrono::milliseconds(200);
constexpr std::size_t kSyncBytes = 4u << 20;   ///< transactions per response, about
constexpr std::size_t kMaxBlocksAnswered = 16; ///< uncommitted blocks sent for one BlockRequest
/// The snapshot and transactions of a SnapshotResponse, at most: the rest (headers,
/// certificates, framing) fits in the transport's 16 MiB beside them.
constexpr std::size_t kMaxSnapshotMessage = 15u << 20;
} // namespace

std::uint64_t Replica::snapshotGap() const {
  return 2 * genesis_.params.checkpointInterval;
}

bool Replica::behind() const {
  return safety_.highQc.height > tree_.tipHeight() && !tree_.pathTo(safety_.highQc.block);
}

Time Replica::incomingEnds() const {
  FLO_CHECK(incoming_);
  return std::min(incoming_->lastPart + kSnapshotPartWait, incoming_->deadline);
}

bool Replica::receivingSnapshot(Time now) const {
  return incoming_ && now < incomingEnds();
}

std::optional<Time> Replica::syncRetryAt() const {
  // A snapshot arriving holds sync back until its sender falls silent or its deadline passes.
  if (incoming_) return incomingEnds();
  if (!behind()) return std::nullopt;
  return syncRequestedAt_ ? *syncRequestedAt_ + kSyncRetry : Time{};
}

/// While behind, ask again (each time another peer: the last may be down or lying).
void Replica::retrySync(Time now) {
  if (receivingSnapshot(now)) return;
  if (incoming_) {
    endIncoming(true, now); // its sender fell silent or too slow: ask another
    syncRequestedAt_.reset();
  }
  if (!behind() || (syncRequestedAt_ && now - *syncRequestedAt_ < kSyncRetry)) return;
  syncPeer_ = ReplicaIndex((syncPeer_ + 1) % genesis_.replicas.size());
  if (syncPeer_ == self_) syncPeer_ = ReplicaIndex((syncPeer_ + 1) % genesis_.replicas.size());
  // What is committed comes by sync; the certified blocks above it only by id (the voter first
  // asked for them may be the one that crashed).
  send(syncPeer_, BlockRequest{safety_.highQc.block});
  requestSync(syncPeer_, now);
}

void Replica::requestSync(ReplicaIndex from, Time now) {
  if (from == self_ || receivingSnapshot(now)) return;
  if (syncRequestedAt_ && now - *syncRequestedAt_ < kSyncRetry) return;
  syncAsked_.insert(from);
  syncPeer_ = from;
  syncRequestedAt_ = now;
  ++metrics_.syncRequests;
  send(from, SyncRequest{tree_.tipHeight() + 1, kSyncBatch});
}

void Replica::onSyncRequest(ReplicaIndex from, const SyncRequest& r, Time now) {
  if (r.fromHeight == 0 || r.fromHeight > tree_.tipHeight()) return;
  // Far behind: the latest stable checkpoint's state, not every block since. Not for a probe of
  // one block (a restarted replica asks every peer so): it learns from the answer how far
  // behind it is, and asks one peer for more.
  if (r.max > 1 && sendSnapshot(from, r.fromHeight, snapshotGap(), now)) return;
  SyncResponse out;
  std::uint32_t max = std::min(r.max, kSyncBatch);
  std::size_t bytes = 0;
  for (std::uint64_t h = r.fromHeight; h <= tree_.tipHeight(); ++h) {
    auto stored = chain_.committed(h);
    if (!stored) break;
    for (const Bytes& t : stored->block.proposal.txs) bytes += t.size();
    out.blocks.push_back(std::move(stored->block));
    out.child = stored->child;
    out.childQc = stored->childQc;
    // Stop at a block its proof commits directly (the end of a commit batch) once full: by
    // count, or by size (the transport carries messages of at most 16 MiB).
    bool full = out.blocks.size() >= max || bytes >= kSyncBytes;
    if (full && stored->child.parent == out.blocks.back().proposal.header.id()) break;
  }
  // Below a state transfer's base we hold no blocks: the base's state is all we can give.
  if (out.blocks.empty()) return void(sendSnapshot(from, r.fromHeight, 0, now));
  if (out.child->parent != out.blocks.back().proposal.header.id()) {
    // The proof commits a later block than the last we hold: send what we have, unproven
    // blocks are of no use to the peer.
    return;
  }
  send(from, std::move(out));
}

/// The state at our latest stable checkpoint, with its block and the blocks up to the end of
/// its commit batch, when that checkpoint is at least `gap` above `fromHeight`; false (the peer
/// gets blocks) when it is not, when the snapshot is larger than SnapshotResponse::kMaxSize or
/// the batch too large for one message, or when this peer may not have another yet (an answer
/// of megabytes, or a read of them, for a request of a few bytes: a faulty peer must not make
/// us its amplifier, whether the snapshot then goes out or not). A snapshot of more than
/// snapshotPartBytes_ goes in parts: the first in the response, the rest in SnapshotParts.
bool Replica::sendSnapshot(ReplicaIndex to, std::uint64_t fromHeight, std::uint64_t gap, Time now) {
  if (tree_.tipHeight() < fromHeight + gap) return false;
  if (auto allowed = snapshotAllowedAt_.find(to);
      allowed != snapshotAllowedAt_.end() && now < allowed->second)
    return false;
  snapshotAllowedAt_[to] = now + kSnapshotEvery;
  auto checkpoint = chain_.latestCheckpoint();
  if (!checkpoint || checkpoint->height < fromHeight + gap ||
      checkpoint->snapshot.size() > SnapshotResponse::kMaxSize)
    return false;
  const std::uint64_t size = checkpoint->snapshot.size();
  const std::chrono::milliseconds sending(1000 * size / kSnapshotBytesPerSecond);
  snapshotAllowedAt_[to] = now + std::max<Clock::duration>(kSnapshotEvery, sending);
  const std::size_t first = std::min<std::size_t>(size, snapshotPartBytes_);
  SnapshotResponse out;
  std::size_t bytes = first;
  for (std::uint64_t h = checkpoint->height;; ++h) {
    auto stored = chain_.committed(h);
    if (!stored) return false;
    for (const Bytes& t : stored->block.proposal.txs) bytes += t.size();
    // The message must fit the transport's 16 MiB (kMaxSnapshot leaves room for some blocks).
    if (bytes > kMaxSnapshotMessage) return false;
    out.blocks.push_back(std::move(stored->block));
    out.child = std::move(stored->child);
    out.childQc = std::move(stored->childQc);
    if (out.child.parent == out.blocks.back().proposal.header.id()) break;
    if (out.blocks.size() >= kSyncBatch) return false;
  }
  const std::uint64_t height = checkpoint->height;
  const Bytes& snapshot = checkpoint->snapshot;
  out.stateRoot = checkpoint->stateRoot;
  out.signatures = std::move(checkpoint->signatures);
  out.snapshot.assign(snapshot.begin(), snapshot.begin() + std::ptrdiff_t(first));
  out.size = size;
  ++metrics_.snapshotsSent;
  send(to, std::move(out));
  // The rest in order behind it (the transport keeps a peer's messages in order).
  for (std::size_t at = first; at < size; at += snapshotPartBytes_) {
    const std::size_t end = std::min<std::size_t>(size, at + snapshotPartBytes_);
    send(to, SnapshotPart{height, checkpoint->stateRoot, at,
                          Bytes(snapshot.begin() + std::ptrdiff_t(at),
                                snapshot.begin() + std::ptrdiff_t(end))});
  }
  return true;
}

bool Replica::provenBatch(const std::vector<CommittedBlock>& blocks, const BlockHeader& child,
                          const QuorumCert& childQc, std::optional<Digest> parent) {
  if (blocks.empty()) return false;
  std::uint64_t height = blocks.front().proposal.header.height - 1;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const CommittedBlock& b = blocks[i];
    const BlockHeader& h = b.proposal.header;
    if (h.chain != committee_.chain() || (parent && h.parent != *parent) ||
        h.height != height + 1 || b.qc.block != h.id() || b.proposal.justify.block != h.parent)
      return false;
    // Each block's certificate is the next one's justification: the same, and valid (we keep
    // and serve them, so they must be what a quorum signed).
    if (i + 1 < blocks.size() && !(blocks[i + 1].proposal.justify == b.qc)) return false;
    if (!verifiedQc(b.qc)) return false;
    // What the block id does not bind, but we store and serve (a holder of the chain checks
    // it): the proposer's signature and a timeout certificate.
    if (!committee_.verifyProposal(b.proposal) ||
        (b.proposal.tc && !committee_.verify(*b.proposal.tc)))
      return false;
    parent = b.qc.block;
    height = h.height;
  }
  // The last is committed: certified, with a certified child of the very next round.
  const CommittedBlock& last = blocks.back();
  return child.parent == last.qc.block && child.round == last.proposal.header.round + 1 &&
         childQc.block == child.id() && verifiedQc(childQc);
}

std::optional<std::vector<BlockEntry>>
Replica::decodeBatch(const std::vector<CommittedBlock>& blocks) const {
  std::vector<BlockEntry> entries;
  for (const CommittedBlock& b : blocks) {
    BlockEntry e;
    e.proposal = b.proposal;
    e.id = b.qc.block;
    e.qc = b.qc;
    for (const Bytes& encoded : b.proposal.txs) {
      auto tx = Tx::decode(encoded);
      if (!tx) return std::nullopt; // a quorum committed it: cannot be
      e.txs.push_back(std::move(*tx));
      e.txIds.push_back(core::hash(encoded));
    }
    if (txRootOf(e.txIds) != b.proposal.header.txRoot) return std::nullopt;
    entries.push_back(std::move(e));
  }
  return entries;
}

void Replica::executeBatch(std::vector<BlockEntry> entries, const BlockHeader& child,
                           const QuorumCert& childQc) {
  for (BlockEntry& e : entries) {
    Digest id = e.id;
    QuorumCert qc = *e.qc;
    if (!tree_.knows(id) && !tree_.add(BlockEntry(e))) return; // cannot happen: links checked
    tree_.commit(id);
    ++metrics_.syncedBlocks;
    executeCommitted(std::move(e), qc, child, childQc);
  }
}

void Replica::onSyncResponse(ReplicaIndex from, const SyncResponse& r, Time now) {
  if (r.blocks.empty() || !r.child || !r.childQc) return void(++metrics_.invalidMessages);
  syncAsked_.erase(from);
  takeEarly(from); // it answered with blocks: parts it sent before are of no snapshot we take
  // Blocks that end below where a snapshot arriving takes us would be checked and executed to
  // be overtaken: the snapshot goes on (it ends at its deadline at the latest).
  if (receivingSnapshot(now) && r.blocks.back().proposal.header.height <=
                                    incoming_->response.blocks.back().proposal.header.height)
    return void(++metrics_.staleMessages);
  syncRequestedAt_.reset();
  const std::uint64_t first = r.blocks.front().proposal.header.height;
  if (first <= tree_.tipHeight()) return void(++metrics_.staleMessages);
  // Hash links from our tip, heights in order, every certificate, and the commit proof.
  if (first != tree_.tipHeight() + 1 || !provenBatch(r.blocks, *r.child, *r.childQc, tree_.tipId()))
    return void(++metrics_.invalidMessages);
  // Proven. Execute in order; transactions are decoded, not verified again (a quorum did).
  auto entries = decodeBatch(r.blocks);
  if (!entries) return void(++metrics_.invalidMessages);
  executeBatch(std::move(*entries), *r.child, *r.childQc);
  afterSync(from, r.blocks.back().qc, *r.childQc, now);
}

void Replica::afterSync(ReplicaIndex from, const QuorumCert& lastQc, const QuorumCert& childQc,
                        Time now) {
  // A snapshot arriving that this took us past is of no use now (and would hold sync back).
  if (incoming_ && tree_.tipHeight() >= incoming_->response.blocks.back().proposal.header.height)
    endIncoming(false, now);
  tipQc_ = lastQc;
  processQc(lastQc, now);
  processQc(childQc, now);
  // More where those came from, asked even when we do not know of more: blocks we stored before
  // a restart may link the proof's certificate to our new tip and so hide how far ahead the
  // peer is (we would then sit behind in an idle pool). A peer with nothing above our tip does
  // not answer, which ends this.
  requestSync(from, now);
  retryAwaitingParent(now);
}

/// State transfer. Checked before anything changes: the blocks as a sync batch (but the base's
/// parent, which we do not hold), a quorum's signatures over the root at the base's height, and
/// the snapshot decoding to exactly that state. Then the ledger is the snapshot's, the base the
/// committed tip (its block not executed here), and the blocks after it execute as synced ones.
/// A snapshot in parts is kept, its proof checked, until its last part is in (onSnapshotPart).
void Replica::onSnapshotResponse(ReplicaIndex from, const SnapshotResponse& r, Time now) {
  syncRequestedAt_.reset();
  // What came before it from this peer, in the order it came: of this snapshot, or of none we
  // take (parts of an earlier answer's).
  std::vector<SnapshotPart> early = takeEarly(from);
  if (r.blocks.empty() || r.size < r.snapshot.size()) return void(++metrics_.invalidMessages);
  const CommittedBlock& base = r.blocks.front();
  const std::uint64_t height = base.proposal.header.height;
  if (height <= tree_.tipHeight()) return void(++metrics_.staleMessages);
  // The base just above our tip: nothing to skip, so its blocks are synced ones (executed, the
  // base included), with no gap in our chain.
  if (height == tree_.tipHeight() + 1)
    return onSyncResponse(from, SyncResponse{r.blocks, r.child, r.childQc}, now);
  // One snapshot in parts at a time, from a peer asked for blocks, and not replaced while it
  // arrives (a faulty peer could otherwise hold us waiting by sending its start again).
  const bool inParts = r.size > r.snapshot.size();
  const bool asked = syncAsked_.erase(from) > 0;
  auto barred = snapshotBarredUntil_.find(from);
  if (inParts && (receivingSnapshot(now) || !asked ||
                  (barred != snapshotBarredUntil_.end() && now < barred->second)))
    return void(++metrics_.staleMessages);
  if (inParts && (r.snapshot.empty() || r.size / r.snapshot.size() >= kMaxSnapshotParts))
    return void(++metrics_.invalidMessages);
  const QuorumCert& justify = base.proposal.justify;
  // The signatures as a stable checkpoint's: distinct, all valid, a quorum (at most n are
  // checked: the first repeat fails).
  if (height % genesis_.params.checkpointInterval != 0 || justify.height + 1 != height ||
      justify.round >= base.proposal.header.round ||
      !provenBatch(r.blocks, r.child, r.childQc, std::nullopt) || !verifiedQc(justify) ||
      !committee_.verifyCheckpoint(height, r.stateRoot, r.signatures))
    return void(++metrics_.invalidMessages);
  if (inParts) {
    const std::chrono::milliseconds sending(1000 * r.size / kMinSnapshotBytesPerSecond);
    incoming_ = IncomingSnapshot{
        from, r, {}, r.snapshot.size(), now, now + 2 * kSnapshotPartWait + sending};
    // The first that does not fit ends it.
    for (const SnapshotPart& p : early)
      if (incoming_ && p.height == height && p.stateRoot == r.stateRoot)
        onSnapshotPart(from, p, now);
    return;
  }
  // A whole one: a snapshot arriving in parts meanwhile ends only if this one takes us past it
  // (afterSync), not because a peer sent something (a faulty one could so end every one).
  installSnapshot(from, r, now);
}

std::vector<SnapshotPart> Replica::takeEarly(ReplicaIndex from) {
  std::vector<SnapshotPart> out;
  if (earlyParts_.empty()) return out; // the usual case: every sync answer asks
  std::vector<std::pair<ReplicaIndex, SnapshotPart>> kept;
  for (auto& [by, part] : earlyParts_) {
    if (by == from) {
      earlyBytes_ -= part.bytes.size();
      out.push_back(std::move(part));
    } else {
      kept.emplace_back(by, std::move(part));
    }
  }
  earlyParts_ = std::move(kept);
  return out;
}

/// Ends the snapshot arriving; a sender whose snapshot failed (a part that does not fit, a
/// whole that fails its check, silence, the deadline) starts no other for kSnapshotBar, or
/// until one is installed.
void Replica::endIncoming(bool failed, Time now) {
  if (!incoming_) return;
  if (failed) barSnapshots(incoming_->from, now);
  incoming_.reset();
}

void Replica::barSnapshots(ReplicaIndex from, Time now) {
  snapshotBarredUntil_[from] = now + kSnapshotBar;
}

/// A part of the snapshot arriving from `from`: of the same state, at a multiple of the first
/// part's length after it, that long (the last: the rest), within the size; a copy of one
/// already in is a duplicate. Anything else ends that snapshot (its sender is faulty) and sync
/// asks again. The whole is checked once every byte is in.
void Replica::onSnapshotPart(ReplicaIndex from, const SnapshotPart& p, Time now) {
  if (!incoming_ || incoming_->from != from) {
    // Ahead of its response (a simulated network reorders), from a peer asked: kept a while.
    if (!incoming_ && syncAsked_.count(from) && keepEarly(from, p)) return;
    return void(++metrics_.staleMessages);
  }
  IncomingSnapshot& in = *incoming_;
  SnapshotResponse& r = in.response;
  const std::uint64_t step = r.snapshot.size();
  auto fits = [&] {
    if (p.height != r.blocks.front().proposal.header.height || p.stateRoot != r.stateRoot ||
        p.offset < step || p.offset >= r.size || p.offset % step != 0)
      return false;
    return p.bytes.size() == std::min<std::uint64_t>(step, r.size - p.offset);
  };
  if (!fits()) {
    endIncoming(true, now);
    return void(++metrics_.invalidMessages);
  }
  if (auto same = in.parts.find(p.offset); same != in.parts.end()) {
    if (same->second == p.bytes) return void(++metrics_.staleMessages);
    endIncoming(true, now); // the same place, other bytes: one of them is a lie
    return void(++metrics_.invalidMessages);
  }
  ++metrics_.snapshotParts;
  in.received += p.bytes.size();
  in.parts.emplace(p.offset, p.bytes);
  in.lastPart = now;
  if (in.received < r.size) return;
  // Every byte, none twice: the parts lie end to end after the first.
  ++metrics_.snapshotsAssembled;
  SnapshotResponse whole = std::move(r);
  whole.snapshot.reserve(whole.size);
  for (auto& [offset, bytes] : in.parts) {
    FLO_CHECK(offset == whole.snapshot.size());
    whole.snapshot.insert(whole.snapshot.end(), bytes.begin(), bytes.end());
  }
  incoming_.reset();
  // Assembled, and not the state it claimed: its sender is faulty.
  if (!installSnapshot(from, whole, now)) barSnapshots(from, now);
}

bool Replica::keepEarly(ReplicaIndex from, const SnapshotPart& p) {
  if (earlyBytes_ + p.bytes.size() > kMaxEarlyBytes) return false;
  earlyBytes_ += p.bytes.size();
  earlyParts_.emplace_back(from, p);
  return true;
}

bool Replica::installSnapshot(ReplicaIndex from, const SnapshotResponse& r, Time now) {
  FLO_CHECK(!r.blocks.empty() && r.snapshot.size() == r.size);
  const CommittedBlock& base = r.blocks.front();
  const std::uint64_t height = base.proposal.header.height;
  // While its parts came, the tip may have moved (blocks synced from another answer).
  if (height <= tree_.tipHeight()) {
    ++metrics_.staleMessages;
    return true;
  }
  if (height == tree_.tipHeight() + 1) {
    onSyncResponse(from, SyncResponse{r.blocks, r.child, r.childQc}, now);
    return true; // its blocks were proven with the snapshot's proof
  }
  // The very bytes of that state (one state, one encoding): we keep them for good and serve
  // them, and a holder of our chain compares them with the state it computes.
  auto ledger = Ledger::decode(genesis_, r.snapshot);
  auto entries = decodeBatch(r.blocks); // the base's transactions must match its root too
  if (!ledger || ledger->height() != height || ledger->stateRoot() != r.stateRoot ||
      ledger->encode() != r.snapshot || !entries) {
    ++metrics_.invalidMessages;
    return false;
  }
  entries->erase(entries->begin()); // the base is installed, not executed

  ledger_ = std::move(*ledger);
  tree_ = BlockTree(base.qc.block, base.proposal.header);
  tipQc_ = base.qc;
  tipHasTxs_ = !base.proposal.txs.empty();
  rootsByHeight_.clear();
  rootsByHeight_[height] = r.stateRoot;
  stableCheckpoint_ = height;
  snapshots_.erase(snapshots_.begin(), snapshots_.upper_bound(height));
  checkpoints_.erase(checkpoints_.begin(), checkpoints_.upper_bound(height));
  // The nonces moved: what they made stale goes, its clients untold (whether it ran in a block
  // skipped is not known here; the replicas that executed those blocks told them).
  for (const Digest& stale : mempool_.onCommitted({}, ledger_)) waiting_.erase(stale);
  refillDue_ = !unverified_.empty();
  ++metrics_.snapshotsInstalled;
  snapshotBarredUntil_.clear();
  earlyParts_.clear();
  earlyBytes_ = 0;
  effects_.push_back(InstallSnapshot{
      base, r.child, r.childQc, StoreCheckpoint{height, r.stateRoot, r.signatures, r.snapshot}});
  executeBatch(std::move(*entries), r.child, r.childQc);
  afterSync(from, r.blocks.back().qc, r.childQc, now);
  return true;
}

/// The block and the uncommitted blocks it extends, oldest first: a peer asking for a certified
/// block usually lacks its parent too (it has at most the committed tip, from sync).
void Replica::onBlockRequest(ReplicaIndex from, const BlockRequest& r) {
  if (auto path = tree_.pathTo(r.block)) {
    FLO_CHECK(!path->empty() || r.block == tree_.tipId());
    std::size_t skip = path->size() > kMaxBlocksAnswered ? path->size() - kMaxBlocksAnswered : 0;
    for (std::size_t i = skip; i < path->size(); ++i)
      send(from, BlockResponse{(*path)[i]->proposal});
  } else if (const BlockEntry* e = tree_.find(r.block)) {
    send(from, BlockResponse{e->proposal});
  }
}

void Replica::onBlockResponse(ReplicaIndex from, const BlockResponse& r, Time now) {
  const Proposal& p = r.proposal;
  Digest id = p.header.id();
  if (tree_.knows(id) || p.header.height <= tree_.tipHeight()) return;
  if (!tree_.knows(p.header.parent)) return requestSync(from, now);
  if (!verifiedQc(p.justify)) return void(++metrics_.invalidMessages);
  // The TC names the view, and so the proposer checkProposal expects: it must hold too.
  if (p.tc && !verifiedTc(*p.tc)) return void(++metrics_.invalidMessages);
  std::vector<Tx> txs;
  std::vector<Digest> ids;
  if (!checkProposal(p, now, txs, ids)) return void(++metrics_.invalidMessages);
  if (!tree_.add(BlockEntry{p, id, std::move(txs), std::move(ids), std::nullopt})) return;
  // The certificates waiting for this block can now do their work.
  processQc(p.justify, now);
  if (safety_.highQc.block == id) processQc(safety_.highQc, now);
  retryAwaitingParent(now);
  maybePropose(now);
}

/// A proposal that waited for its parent, now known (by id or by sync), is handled as if it had
/// just arrived, if it is still of this round.
void Replica::retryAwaitingParent(Time now) {
  for (auto it = awaitingParent_.begin(); it != awaitingParent_.end();) {
    if (it->second.header.round < round_) {
      it = awaitingParent_.erase(it);
    } else if (tree_.knows(it->second.header.parent)) {
      auto [proposer, proposal] = std::move(*it);
      awaitingParent_.erase(it);
      onProposal(proposer, proposal, now);
      return; // the map may have changed under us; one proposal per round is all we vote on
    } else {
      ++it;
    }
  }
}

// ---- checkpoints ------------------------------------------------------------------------------

void Replica::makeCheckpoint() {
  std::uint64_t h = ledger_.height();
  Digest root = rootsByHeight_.at(h);
  snapshots_[h] = ledger_.encode();
  while (snapshots_.size() > 4) snapshots_.erase(snapshots_.begin());
  Checkpoint c{h, root, {self_, key_.sign(checkpointMessage(committee_.chain(), h, root))}};
  broadcast(c);
  onCheckpoint(self_, c, Time{}); // (our own: no check, no conviction, so no time needed)
}

void Replica::onCheckpoint(ReplicaIndex from, const Checkpoint& c, Time now) {
  if (c.by.replica != from || c.height <= stableCheckpoint_ ||
      c.height % genesis_.params.checkpointInterval != 0)
    return void(++metrics_.staleMessages);
  if (c.height > tree_.tipHeight() + 16 * genesis_.params.checkpointInterval) return;
  // One checkpoint a replica a height, and a failed signature of its own convicts it: repeats
  // and forgeries cost no signature check after the first.
  if (auto known = checkpoints_.find(c.height);
      known != checkpoints_.end() && known->second.count(from))
    return void(++metrics_.staleMessages);
  if (from != self_ &&
      !core::verifySignature(committee_.key(from), c.by.signature,
                             checkpointMessage(committee_.chain(), c.height, c.stateRoot)))
    return void(++metrics_.invalidMessages), convict(from, now);
  auto& at = checkpoints_[c.height];
  at.emplace(from, c);
  // Stable once a quorum signed the root we computed ourselves.
  auto mine = rootsByHeight_.find(c.height);
  auto snapshot = snapshots_.find(c.height);
  if (mine == rootsByHeight_.end() || snapshot == snapshots_.end()) return;
  std::vector<SignedBy> signatures;
  for (const auto& [r, x] : at)
    if (x.stateRoot == mine->second) signatures.push_back(x.by);
  if (signatures.size() < committee_.quorum()) return;
  stableCheckpoint_ = c.height;
  effects_.push_back(
      StoreCheckpoint{c.height, mine->second, std::move(signatures), std::move(snapshot->second)});
  snapshots_.erase(snapshots_.begin(), std::next(snapshot));
  checkpoints_.erase(checkpoints_.begin(), checkpoints_.upper_bound(c.height));
}

} // namespace flo::pool
