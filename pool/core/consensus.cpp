/// \file
/// Proposals, votes, certificates and commits (the protocol is in replica.h; docs/pool.md has
/// the picture). Each handler names what it relies on and checks everything a peer sent before
/// acting on it: a message that fails any check changes nothing and is counted.
#include "core/check.h"
#include "pool/core/replica.h"

#include <algorithm>
#include <unordered_map>

namespace flo::pool {

namespace {
void appendU64(Bytes& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(std::uint8_t(v >> (8 * i)));
}
/// What a certificate says and who signed it: two certificates for one block with different
/// signatures are different certificates (a forged one must not pass for a verified one).
Digest qcKey(const QuorumCert& qc) {
  Bytes b(qc.block.begin(), qc.block.end());
  appendU64(b, qc.round);
  appendU64(b, qc.height);
  for (const SignedBy& s : qc.votes) {
    appendU64(b, s.replica);
    b.insert(b.end(), s.signature.begin(), s.signature.end());
  }
  return core::hash(b);
}
/// One signature on one vote statement.
Digest voteKey(const Digest& block, std::uint64_t round, std::uint64_t height, const SignedBy& by) {
  return qcKey(QuorumCert{block, round, height, {by}});
}
} // namespace

bool Replica::verifiedQc(const QuorumCert& qc) {
  Digest key = qcKey(qc);
  if (verifiedQcs_.count(key)) return true;
  // The votes we received and verified ourselves need no second check.
  auto known = [&](const SignedBy& s) {
    return verifiedVotes_.count(voteKey(qc.block, qc.round, qc.height, s)) > 0;
  };
  if (!committee_.verify(qc, nullptr, known)) return false;
  if (verifiedQcs_.size() > 4096) verifiedQcs_.clear(); // a cache: correctness does not need it
  verifiedQcs_.insert(key);
  return true;
}

/// The TC that opened our round was checked when it came (or formed here): its copies in the
/// round's proposals are not checked again.
bool Replica::verifiedTc(const TimeoutCert& tc) const {
  return (lastTc_ && *lastTc_ == tc) || committee_.verify(tc);
}

// ---- proposals --------------------------------------------------------------------------------

/// Everything a vote relies on, except the round rules tryVote checks: the proposer leads the
/// view its justification gives, signed the block, the block extends the certified parent by one
/// height, its time is not before its parent's nor far ahead of our clock, what it says was
/// executed matches what we executed, and every transaction decodes and verifies.
bool Replica::checkProposal(const Proposal& p, Time now, std::vector<Tx>& txs,
                            std::vector<Digest>& ids, std::optional<ReplicaIndex> sender) {
  const BlockHeader& h = p.header;
  const BlockHeader* parent = tree_.header(h.parent);
  if (!parent || h.parent != p.justify.block || h.height != parent->height + 1) return false;
  std::uint64_t view;
  if (p.justify.round + 1 == h.round) {
    view = parent->view; // a certificate keeps the view
  } else if (p.tc && p.tc->round + 1 == h.round && p.justify.round >= p.tc->maxHighQcRound()) {
    view = p.tc->view(committee_.faults()) + 1;
  } else {
    return false;
  }
  if (h.view != view || h.proposer != leaderOf(view)) return false;
  if (!committee_.verifyProposal(p)) {
    // A proposal its proposer sent us proves it faulty; one relayed (a block response) proves
    // nothing of the proposer, whose copy someone may have changed.
    if (sender == h.proposer) convict(h.proposer, now);
    return false;
  }
  if (h.timeMs < parent->timeMs || h.timeMs > wall_(now) + kMaxClockDriftMs) return false;
  if (h.executedHeight < parent->executedHeight || h.executedHeight > parent->height) return false;
  if (auto r = rootsByHeight_.find(h.executedHeight);
      r != rootsByHeight_.end() && r->second != h.executedRoot)
    return false;
  if (p.txs.size() > genesis_.params.maxBlockTxs) return false;
  std::set<Digest> seen;
  for (const Bytes& encoded : p.txs) {
    Digest id = core::hash(encoded);
    if (!seen.insert(id).second) return false;
    auto tx = mempool_.verifiedForBlock(encoded, id, committee_.chain());
    if (!tx) return false; // a leader that orders an invalid transaction is faulty
    txs.push_back(std::move(*tx));
    ids.push_back(id);
  }
  return txRootOf(ids) == h.txRoot;
}

void Replica::onProposal(ReplicaIndex from, const Proposal& p, Time now) {
  const BlockHeader& h = p.header;
  if (h.chain != committee_.chain() || h.proposer != from) {
    ++metrics_.invalidMessages;
    return;
  }
  // The justification first: it may move us to the proposal's round. A proposal of a round we
  // left, opened by a TC: nothing in its TC can move us, and checking it would cost 2f+1
  // signatures a copy (a faulty replica could replay one without end). Its certificate may still
  // teach us (cached when known); its block, if a certificate needs it, comes by request, where
  // the TC is checked.
  const bool pastTc = p.tc && p.tc->round + 1 < round_;
  if (p.tc && !pastTc) {
    if (!verifiedTc(*p.tc)) return void(++metrics_.invalidMessages), convict(from, now);
    processTc(*p.tc, now);
  }
  if (!verifiedQc(p.justify)) return void(++metrics_.invalidMessages), convict(from, now);
  processQc(p.justify, now);
  if (pastTc || h.height <= tree_.tipHeight()) return void(++metrics_.staleMessages);
  if (!tree_.knows(h.parent)) {
    // We are behind: what the proposal extends must come first, committed blocks by sync and
    // the certified ones above them by id, from the proposer, which extends them. The proposal
    // waits for them: the latest of each proposer (a faulty one cannot push out another's).
    requestSync(from, now);
    send(from, BlockRequest{h.parent});
    if (committee_.verifyProposal(p)) awaitingParent_[from] = p;
    return;
  }
  Digest id = h.id();
  if (tree_.knows(id)) return; // a copy (a retransmission, or our own)
  std::vector<Tx> txs;
  std::vector<Digest> ids;
  if (!checkProposal(p, now, txs, ids, from)) return void(++metrics_.invalidMessages);
  if (h.round == round_) watch_.proposalCame(now); // the leader's, checked: how long it took
  BlockEntry e{p, id, std::move(txs), std::move(ids), std::nullopt};
  if (!tree_.add(std::move(e))) return;
  const BlockEntry* added = tree_.find(id);
  FLO_CHECK(added);
  tryVote(*added, now);
  // A block we were missing may complete what certificates we hold (its children's).
  if (safety_.highQc.block == id) processQc(safety_.highQc, now);
  maybePropose(now);
}

/// Jolteon's voting rule, with the proposal already checked: vote only in the current round,
/// only once per round (persisted before the vote leaves), never in a round timed out.
void Replica::tryVote(const BlockEntry& b, Time now) {
  const BlockHeader& h = b.proposal.header;
  if (h.round != round_ || h.round <= safety_.lastVotedRound || h.round == abstainRound_) return;
  safety_.lastVotedRound = h.round;
  effects_.push_back(StoreBlock{b.proposal});
  persistSafety();
  Vote v;
  v.block = b.id;
  v.round = h.round;
  v.height = h.height;
  v.by = {self_, key_.sign(voteMessage(committee_.chain(), b.id, h.round, h.height))};
  ++metrics_.votes;
  // Every replica collects the votes (all to all), so each forms the certificate itself, one
  // message delay after the votes, and commits what it completes then: not one proposal later.
  broadcast(VoteMsg{v});
  onVote(self_, v, now);
}

void Replica::onVote(ReplicaIndex from, const Vote& v, Time now) {
  if (v.by.replica != from) return void(++metrics_.invalidMessages);
  if (v.round <= safety_.highQc.round) return void(++metrics_.staleMessages);
  if (v.round > round_ + 64) return void(++metrics_.staleMessages); // far ahead: not ours yet
  auto& round = votes_[v.round]; // at most 65 rounds, each with a group per verified statement
  // Votes count together only for one statement: the block *and* its height (a vote signed for
  // the right block at another height verifies on its own, but not in a certificate of the
  // others': one such vote from a faulty replica would make every certificate it joins invalid,
  // and the timeouts carrying it too, and stop the pool).
  const std::pair<Digest, std::uint64_t> statement{v.block, v.height};
  for (const auto& [other, voters] : round) {
    if (other != statement && voters.count(from)) { // a second vote in one round
      ++metrics_.equivocations;
      return;
    }
  }
  if (auto known = round.find(statement); known != round.end() && known->second.count(from)) return;
  // A group is made only for a verified vote: invalid ones with ever new statements must not
  // leave empty groups behind for every later vote to walk.
  if (from != self_ && !committee_.verify(v))
    return void(++metrics_.invalidMessages), convict(from, now);
  if (verifiedVotes_.size() > 4096) verifiedVotes_.clear(); // a cache, as verifiedQcs_
  verifiedVotes_.insert(voteKey(v.block, v.round, v.height, v.by));
  auto& voters = round[statement];
  voters.emplace(from, v);
  if (voters.size() < committee_.quorum()) return;
  QuorumCert qc;
  qc.block = v.block;
  qc.round = v.round;
  qc.height = v.height;
  for (const auto& [r, vote] : voters) qc.votes.push_back(vote.by); // sorted by replica
  verifiedQcs_.insert(qcKey(qc));
  ++metrics_.qcsFormed;
  votes_.erase(votes_.begin(), votes_.upper_bound(v.round));
  const BlockHeader* certified = tree_.header(qc.block);
  bool collector = certified && leaderOf(certified->view) == self_;
  processQc(qc, now, /*fromVotes=*/true);
  maybePropose(now); // the leader of the next round may now hold its justification
  // The leader with nothing to propose: a replica that missed a vote would not hear of this
  // certificate (nor of what it commits) until the next proposal; tell them now.
  if (collector && proposedRound_ < round_ && !flushAt_)
    broadcast(CertificateMsg{qc}, Leave::Early);
}

/// A certificate carrying our own signature proves we signed in that round, whatever our disk
/// remembers (a replica that lost its safety state learns it back this way, as CometBFT's
/// double-sign check does): never vote in that round again.
void Replica::noteOwnSignature(std::uint64_t round, bool ours) {
  if (ours && round > safety_.lastVotedRound) {
    safety_.lastVotedRound = round;
    persistSafety();
  }
}

// ---- certificates and commits -----------------------------------------------------------------

void Replica::processQc(const QuorumCert& qc, Time now, bool fromVotes) {
  noteOwnSignature(qc.round, std::any_of(qc.votes.begin(), qc.votes.end(),
                                         [&](const SignedBy& s) { return s.replica == self_; }));
  if (qc.height <= tree_.tipHeight() && qc.round <= safety_.highQc.round) return;
  if (qc.round > safety_.highQc.round) safety_.highQc = qc; // persisted before the next vote
  if (BlockEntry* b1 = tree_.find(qc.block)) {
    if (!b1->qc) b1->qc = qc;
    // The two-chain rule: a certified block whose parent is of the round just before it
    // commits that parent.
    const BlockHeader* b0 = tree_.header(b1->parent());
    if (b0 && b1->round() == b0->round + 1 && b0->height > tree_.tipHeight())
      commitUpTo(b1->parent(), b1->proposal.header, qc);
  } else if (qc.height > tree_.tipHeight() && !qc.votes.empty() && !fromVotes) {
    // Certified by a quorum, but we never saw the block: ask one of its voters. (Not for a
    // certificate we made from votes that overtook the proposal: it is on its way, and the
    // retry while behind asks if it was lost.)
    ReplicaIndex ask = qc.votes.front().replica == self_ && qc.votes.size() > 1
                           ? qc.votes[1].replica
                           : qc.votes.front().replica;
    if (ask != self_) send(ask, BlockRequest{qc.block});
  }
  if (qc.round + 1 > round_) {
    consecutiveTimeouts_ = 0;
    const BlockHeader* h = tree_.header(qc.block);
    advanceRound(qc.round + 1, h ? h->view : view_, now);
  }
}

void Replica::commitUpTo(const Digest& id, const BlockHeader& child, const QuorumCert& childQc) {
  auto path = tree_.pathTo(id);
  const BlockEntry* childEntry = tree_.find(child.id());
  if (!path || path->empty() || !childEntry) return;
  // Each committed block's certificate: its child's justification.
  std::vector<QuorumCert> qcs;
  for (std::size_t i = 0; i + 1 < path->size(); ++i)
    qcs.push_back((*path)[i + 1]->proposal.justify);
  qcs.push_back(childEntry->proposal.justify);
  std::vector<BlockEntry> committed = tree_.commit(id);
  FLO_CHECK(committed.size() == qcs.size());
  for (std::size_t i = 0; i < committed.size(); ++i)
    executeCommitted(std::move(committed[i]), qcs[i], child, childQc);
  tipQc_ = qcs.back();
  // Collections for rounds the commit left behind are no use any more.
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(tree_.tip().round));
}

void Replica::executeCommitted(BlockEntry entry, const QuorumCert& qc, const BlockHeader& child,
                               const QuorumCert& childQc) {
  const std::uint64_t height = entry.proposal.header.height;
  FLO_CHECK(height == ledger_.height() + 1 && qc.block == entry.id);
  std::vector<TxResult> results =
      ledger_.executeBlock(height, entry.proposal.header.timeMs, entry.txs);
  Digest root = ledger_.stateRoot();
  rootsByHeight_[height] = root;
  while (rootsByHeight_.size() > 1024) rootsByHeight_.erase(rootsByHeight_.begin());
  ++metrics_.committedBlocks;
  metrics_.committedTxs += entry.txs.size();
  tipHasTxs_ = !entry.txs.empty();
  // The commit and (at most) an answer per transaction: room for them at once (an effect is a few
  // hundred bytes, moved on every growth), still doubling across commits in a row. The block's
  // transactions move into the commit: the entry is ours, and only its ids and decoded
  // transactions are read below.
  if (std::size_t need = effects_.size() + 1 + entry.txIds.size(); need > effects_.capacity())
    effects_.reserve(std::max(need, 2 * effects_.capacity())); // commits in a row: amortized
  effects_.push_back(
      CommitBlock{CommittedBlock{std::move(entry.proposal), qc}, results, root, child, childQc});
  // Another transaction of the same sender and nonce committed: the clients of those dropped
  // hear so now, rather than wait for what can never run.
  for (const Digest& stale : mempool_.onCommitted(entry.txIds, ledger_))
    refuseWaiting(stale, Mempool::Admit::StaleNonce, "another transaction used its nonce");
  refillDue_ = !unverified_.empty(); // room for queued submissions, taken once this message is done
  // One answer per waiting client for the block, not one per transaction (CommitAnswer); in the
  // order the clients first wait in it.
  // (An answer holds at most CommitAnswer::kMaxTxs, what every client decodes: a client with
  // more in one block gets several.)
  std::vector<std::pair<ClientId, CommitAnswer>> answers;
  std::unordered_map<ClientId, std::size_t> answerOf; // its latest answer
  auto answerTo = [&](ClientId c) -> CommitAnswer& {
    auto [it, fresh] = answerOf.try_emplace(c, answers.size());
    if (fresh || answers[it->second].second.size() >= CommitAnswer::kMaxTxs) {
      it->second = answers.size();
      CommitAnswer& a = answers.emplace_back(c, CommitAnswer{}).second;
      a.height = height;
      a.stateRoot = root;
    }
    return answers[it->second].second;
  };
  for (std::size_t i = 0; i < entry.txIds.size(); ++i) {
    TxStatus s;
    s.tx = entry.txIds[i];
    s.state = TxStatus::State::Committed;
    s.applied = results[i].applied;
    s.height = height;
    s.stateRoot = root;
    s.error = results[i].error;
    if (recentOrder_.size() >= genesis_.params.maxMempool) {
      recentlyCommitted_.erase(recentOrder_.front());
      recentOrder_.pop_front();
    }
    if (recentlyCommitted_.emplace(s.tx, s).second) recentOrder_.push_back(s.tx);
    auto w = waiting_.find(entry.txIds[i]);
    if (w == waiting_.end()) continue;
    for (ClientId c : w->second) answerTo(c).add(s);
    waiting_.erase(w);
  }
  for (auto& [client, answer] : answers) reply(client, std::move(answer));
  if (height % genesis_.params.checkpointInterval == 0) makeCheckpoint();
}

// ---- proposing --------------------------------------------------------------------------------

bool Replica::pathHasTxs(const Digest& id) const {
  auto path = tree_.pathTo(id);
  if (!path) return false;
  return std::any_of(path->begin(), path->end(),
                     [](const BlockEntry* e) { return !e->txs.empty(); });
}

/// The leader of the current round proposes once it holds the round's justification (a QC of
/// the round before, or a TC of it), when there is something to order or to commit, after the
/// flush timer unless a full block waits.
void Replica::maybePropose(Time now) {
  const BlockHeader* parent = tree_.header(safety_.highQc.block);
  if (!parent) return; // the block of our high QC is on its way (BlockRequest)
  if (proposedRound_ >= round_ || safety_.lastVotedRound >= round_) return;
  // Our justification for the round: the QC of the round before keeps its block's view; a TC
  // of it opens the next view. When both exist (some replicas saw the one, some the other),
  // either makes a valid proposal: we lead if either names us.
  std::optional<TimeoutCert> tc;
  std::uint64_t view;
  bool byQc = safety_.highQc.round + 1 == round_ && leaderOf(parent->view) == self_;
  bool byTc = lastTc_ && lastTc_->round + 1 == round_ &&
              leaderOf(lastTc_->view(committee_.faults()) + 1) == self_ &&
              safety_.highQc.round >= lastTc_->maxHighQcRound();
  if (byQc) {
    view = parent->view;
  } else if (byTc) {
    tc = lastTc_;
    view = lastTc_->view(committee_.faults()) + 1;
  } else {
    flushAt_.reset(); // not ours to propose: no flush timer either
    return;
  }
  // What the chain being extended already holds, and the nonces it expects next.
  auto path = tree_.pathTo(safety_.highQc.block);
  if (!path) return;
  // Cheap checks before the selection, which walks the pool: called on every submission, it
  // must cost nothing while a partial block waits for the flush timer.
  std::size_t inPath = 0;
  for (const BlockEntry* e : *path) inPath += e->txs.size();
  bool carry = inPath > 0 || (tipHasTxs_ && safety_.highQc.round == tree_.tip().round + 1);
  if (mempool_.size() <= inPath && !carry) return;
  // A partial block waits until its oldest transaction has waited the flush time, counted from
  // its admission, not from the certificate that lets us propose: what came while the last
  // block was being certified has waited a round already. A block that would only carry another
  // to its commit waits the flush time from now for something to carry along (a transaction
  // that came just after would otherwise wait a whole round), and no longer once one comes.
  // (A flush time of 0 arms no timer: the block goes now.)
  const auto flush = std::chrono::microseconds(genesis_.params.flushMicros);
  if (mempool_.size() < inPath + genesis_.params.maxBlockTxs && !flushDue_ && flush.count() > 0) {
    bool partial = mempool_.size() > inPath;
    Time due = (partial ? waitingSince_.value_or(now) : now) + flush;
    if (flushAt_) due = std::min(due, *flushAt_);
    if (now < due) {
      flushAt_ = due;
      return; // the flush timer (onTimer) lets the block go
    }
  }
  std::set<Digest> exclude;
  std::map<AccountId, std::uint64_t> nextNonce;
  bool pending = false;
  for (const BlockEntry* e : *path) {
    pending = pending || !e->txs.empty();
    for (std::size_t i = 0; i < e->txs.size(); ++i) {
      exclude.insert(e->txIds[i]);
      auto& n = nextNonce.try_emplace(e->txs[i].from, 0).first->second;
      n = std::max(n, e->txs[i].nonce + 1);
    }
  }
  for (auto& [from, n] : nextNonce) {
    const Account* a = ledger_.account(from);
    n = std::max(n, a ? a->nonce : 0);
  }
  auto picked = mempool_.select(genesis_.params.maxBlockTxs, ledger_, nextNonce, exclude);
  // An empty block only to carry a pending block to its commit: until the certificate that
  // commits the last block with transactions has gone out in a proposal.
  pending = pending || carry;
  if (picked.empty() && !pending) return;
  flushAt_.reset();
  // What this block leaves in the pool has waited since now at least.
  waitingSince_.reset();
  if (mempool_.size() > inPath + picked.size()) waitingSince_ = now;

  Proposal p;
  BlockHeader& h = p.header;
  h.chain = committee_.chain();
  h.height = parent->height + 1;
  h.round = round_;
  h.view = view;
  h.parent = safety_.highQc.block;
  h.proposer = self_;
  h.timeMs = std::max(parent->timeMs, wall_(now));
  std::vector<Digest> ids;
  for (const PooledTx* t : picked) {
    p.txs.push_back(t->encoded);
    ids.push_back(t->id);
  }
  h.txRoot = txRootOf(ids);
  h.executedHeight = tree_.tipHeight();
  h.executedRoot = rootsByHeight_.at(tree_.tipHeight());
  p.justify = safety_.highQc;
  p.tc = tc;
  p.signature = key_.sign(proposalMessage(committee_.chain(), h.id()));
  proposedRound_ = round_;
  ++metrics_.proposals;
  // It leaves before our vote for it is durable (Leave::Early): the write and the voters' work
  // overlap, and our vote counts only with theirs, which come after the write.
  broadcast(ProposalMsg{p}, Leave::Early);
  // Our own proposal, as any replica takes it (and our vote for it).
  std::vector<Tx> txs;
  for (const PooledTx* t : picked) txs.push_back(t->tx);
  Digest id = h.id();
  if (tree_.add(BlockEntry{p, id, std::move(txs), std::move(ids), std::nullopt}))
    tryVote(*tree_.find(id), now);
}

} // namespace flo::pool
