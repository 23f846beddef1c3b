/// \file
/// The replica's set-up, its effects and its clients (see replica.h; consensus.cpp,
/// pacemaker.cpp and sync.cpp hold the protocol).
#include "pool/core/replica.h"

#include "core/check.h"
#include "core/identity.h"

#include <algorithm>
#include <utility>

namespace flo::pool {

namespace {

QuorumCert genesisQc(const Digest& genesisId) {
  QuorumCert qc;
  qc.block = genesisId;
  return qc;
}

BlockHeader startHeader(const Genesis& genesis) {
  return genesisHeader(genesis, Ledger(genesis).stateRoot());
}

} // namespace

Replica::Replica(const Genesis& genesis, ReplicaIndex self, core::SigningKey key,
                 const ChainReader& chain, WallClock wall, Time now)
    : genesis_(genesis), self_(self), key_(std::move(key)), chain_(chain), committee_(genesis),
      ledger_(genesis), tree_(startHeader(genesis).id(), startHeader(genesis)),
      mempool_(mempoolFor(genesis.params)), wall_(std::move(wall)) {
  init(genesis, now);
  tipQc_ = genesisQc(genesisId_);
  safety_.highQc = tipQc_;
  rootsByHeight_[0] = ledger_.stateRoot();
}

Replica::Replica(const Genesis& genesis, ReplicaIndex self, core::SigningKey key,
                 const ChainReader& chain, WallClock wall, Restored restored, Time now)
    : genesis_(genesis), self_(self), key_(std::move(key)), chain_(chain), committee_(genesis),
      safety_(std::move(restored.safety)), ledger_(std::move(restored.ledger)),
      tree_(restored.tip.id(), restored.tip), tipQc_(std::move(restored.tipQc)),
      mempool_(mempoolFor(genesis.params)), wall_(std::move(wall)) {
  init(genesis, now);
  FLO_CHECK(ledger_.height() == tree_.tipHeight());
  rootsByHeight_[ledger_.height()] = ledger_.stateRoot();
  if (safety_.highQc.round == 0) safety_.highQc = genesisQc(genesisId_);
  // The blocks stored above the tip, parents first.
  std::sort(restored.pending.begin(), restored.pending.end(),
            [](const Proposal& a, const Proposal& b) { return a.header.height < b.header.height; });
  for (const Proposal& p : restored.pending) {
    BlockEntry e;
    e.proposal = p;
    e.id = p.header.id();
    bool ok = true;
    for (const Bytes& t : p.txs) {
      Digest id = core::hash(t);
      auto tx = mempool_.verifiedForBlock(t, id, committee_.chain());
      if (!tx) {
        ok = false;
        break;
      }
      e.txs.push_back(std::move(*tx));
      e.txIds.push_back(id);
    }
    if (ok) tree_.add(std::move(e));
  }
  for (const Proposal& p : restored.pending) {
    if (BlockEntry* parent = tree_.find(p.justify.block)) parent->qc = p.justify;
  }
  round_ = std::max(safety_.highQc.round, safety_.lastVotedRound) + 1;
  tipHasTxs_ = tree_.tip().txRoot != txRootOf({});
  if (const BlockHeader* h = tree_.header(safety_.highQc.block)) view_ = h->view;
  // Blocks of transactions restored above the tip are work: without a leader's justification
  // for this round (we may have voted past our certificate), only a timeout moves the pool on,
  // and no client may come to prompt one.
  armTimer(now);
}

void Replica::init(const Genesis& genesis, Time now) {
  FLO_CHECK(self_ < genesis.replicas.size());
  FLO_CHECK(key_.publicKey() == genesis.replicas[self_].key);
  genesisId_ = startHeader(genesis).id();
  committee_.setGenesisBlock(genesisId_);
  (void)now;
  // Whether the others went on without us (we were down, or lost our disk): a peer ahead answers
  // with the next committed block and its proof, whose certificate shows how far behind we are;
  // an idle pool would otherwise never tell us, and we would answer reads from an old state.
  broadcast(SyncRequest{tree_.tipHeight() + 1, 1});
  // A peer holding no blocks below our tip answers with a snapshot, maybe in parts: asked.
  for (ReplicaIndex i = 0; i < genesis.replicas.size(); ++i)
    if (i != self_) syncAsked_.insert(i);
}

std::string Replica::explain(Time now) const {
  auto ms = [&](std::optional<Time> t) {
    if (!t) return std::string("-");
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(*t - now).count()) +
           "ms";
  };
  std::string s =
      "work " + std::string(hasWork() ? "yes" : "no") + " executable " +
      (mempool_.hasExecutable(ledger_) ? "yes" : "no") + " behind " + (behind() ? "yes" : "no") +
      " deadline " + ms(roundDeadline_) + " flush " + ms(flushAt_) + " held " +
      std::to_string(tree_.size()) + " lastTc " + (lastTc_ ? std::to_string(lastTc_->round) : "-") +
      " proposed " + std::to_string(proposedRound_) + " consecutive " +
      std::to_string(consecutiveTimeouts_) + " hqcHeight " + std::to_string(safety_.highQc.height);
  return s;
}

ReplicaIndex Replica::leaderOf(std::uint64_t view) const {
  return ReplicaIndex(view % genesis_.replicas.size());
}

std::vector<Effect> Replica::takeEffects() {
  return std::exchange(effects_, {});
}

void Replica::send(ReplicaIndex to, Message m) {
  FLO_CHECK(to < genesis_.replicas.size());
  effects_.push_back(SendTo{to, std::move(m)});
}

void Replica::broadcast(Message m, Leave leave) {
  effects_.push_back(Broadcast{std::move(m), leave});
}

void Replica::reply(ClientId client, Message m) {
  effects_.push_back(ReplyTo{client, std::move(m)});
}

void Replica::persistSafety() {
  effects_.push_back(PersistSafety{safety_});
}

// ---- inputs -----------------------------------------------------------------------------------

void Replica::onReplicaMessage(ReplicaIndex from, const Message& message, Time now) {
  if (from >= genesis_.replicas.size() || from == self_) {
    ++metrics_.invalidMessages;
    return;
  }
  if (auto muted = mutedUntil_.find(from); muted != mutedUntil_.end()) {
    if (now < muted->second) return void(++metrics_.mutedMessages);
    mutedUntil_.erase(muted);
  }
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, ProposalMsg>) {
          onProposal(from, m.proposal, now);
        } else if constexpr (std::is_same_v<M, VoteMsg>) {
          onVote(from, m.vote, now);
        } else if constexpr (std::is_same_v<M, TimeoutMsg>) {
          onTimeout(from, m.timeout, now);
        } else if constexpr (std::is_same_v<M, SyncRequest>) {
          if (!serveBudget_[from].take(now)) return void(++metrics_.throttledRequests);
          onSyncRequest(from, m, now);
        } else if constexpr (std::is_same_v<M, SyncResponse>) {
          onSyncResponse(from, m, now);
        } else if constexpr (std::is_same_v<M, SnapshotResponse>) {
          onSnapshotResponse(from, m, now);
        } else if constexpr (std::is_same_v<M, SnapshotPart>) {
          onSnapshotPart(from, m, now);
        } else if constexpr (std::is_same_v<M, BlockRequest>) {
          if (!serveBudget_[from].take(now)) return void(++metrics_.throttledRequests);
          onBlockRequest(from, m);
        } else if constexpr (std::is_same_v<M, BlockResponse>) {
          onBlockResponse(from, m, now);
        } else if constexpr (std::is_same_v<M, Checkpoint>) {
          onCheckpoint(from, m, now);
        } else if constexpr (std::is_same_v<M, CertificateMsg>) {
          if (!verifiedQc(m.qc)) return void(++metrics_.invalidMessages), convict(from, now);
          processQc(m.qc, now);
          maybePropose(now);
        } else if constexpr (std::is_same_v<M, Submit>) {
          // A replica forwarding a client's transaction: admitted like any other.
          onSubmit(0, m, now);
        } else {
          ++metrics_.invalidMessages; // client-side messages have no business here
        }
      },
      message);
  // Queued submissions the commits made room for, checked now that the message is handled (not
  // inside it: admitting one may propose, which must not happen half way through a certificate).
  refillIfDue(now);
  armTimer(now);
}

void Replica::convict(ReplicaIndex peer, Time now) {
  FLO_CHECK(peer < genesis_.replicas.size());
  if (peer == self_) return; // our own twin (a test's), or a copy of ours: nothing to mute
  if (!mutedUntil_.count(peer)) ++metrics_.convictions;
  mutedUntil_[peer] = now + kMute;
}

void Replica::onClientMessage(ClientId client, const Message& message, Time now) {
  if (const auto* s = std::get_if<Submit>(&message)) {
    onSubmit(client, *s, now);
  } else if (const auto* q = std::get_if<Query>(&message)) {
    onQuery(client, *q);
  } else {
    ++metrics_.invalidMessages;
  }
  refillIfDue(now);
  armTimer(now);
}

void Replica::noteWaiting(ClientId client, const Digest& id) {
  if (client == 0) return;
  auto& waiting = waiting_[id];
  if (std::find(waiting.begin(), waiting.end(), client) == waiting.end()) waiting.push_back(client);
}

void Replica::onSubmit(ClientId client, const Submit& s, Time now) {
  const Digest id = core::hash(s.tx);
  if (client != 0) { // a resent transaction that already committed: say how it ended
    auto known = recentlyCommitted_.find(id);
    if (known != recentlyCommitted_.end()) return reply(client, known->second);
  }
  // The mempool holds more than the next blocks can take, or others wait already (arrival
  // order is kept): the signature check waits for room. What is cheap to refuse is refused now.
  if ((!unverified_.empty() || mempool_.size() >= verifyAhead()) && !mempool_.contains(id)) {
    noteWaiting(client, id);
    if (unverifiedIds_.count(id)) return; // a resend: already queued
    // What the mempool would refuse before the signature check is refused now: only a
    // transaction of a funded sender, in its nonce window, waits (and at most a sender's quota
    // of them), so that unchecked junk cannot fill the queue.
    std::string why;
    std::optional<Tx> tx;
    Mempool::Admit pre = mempool_.precheck(s.tx, id, ledger_, why, tx, /*gaps=*/false);
    if (pre != Mempool::Admit::Added) return refuseWaiting(id, pre, why);
    std::size_t& mine = queuedBySender_[tx->from];
    if (unverified_.size() >= genesis_.params.maxMempool ||
        mine >= genesis_.params.maxPendingPerAccount) {
      const bool quota = mine > 0;
      if (!quota) queuedBySender_.erase(tx->from);
      return refuseWaiting(id, Mempool::Admit::Full,
                           quota ? "too many waiting from this sender" : "the pool is full");
    }
    ++mine;
    ++metrics_.queuedTxs;
    unverified_.push_back({id, tx->from, s.tx});
    unverifiedIds_.insert(id);
    return refill(now, 1); // room made since the last check is used as submissions come
  }
  noteWaiting(client, id);
  admitNow(s.tx, id, now);
}

void Replica::refuseWaiting(const Digest& id, Mempool::Admit a, const std::string& why) {
  ++metrics_.refusedTxs;
  auto w = waiting_.find(id);
  if (w == waiting_.end()) return;
  TxStatus status;
  status.tx = id;
  status.state = TxStatus::State::Refused;
  status.height = tree_.tipHeight();
  status.error = std::string(Mempool::admitName(a)) + ": " + why;
  for (ClientId c : w->second) reply(c, status);
  waiting_.erase(w);
}

void Replica::admitNow(const Bytes& tx, const Digest& id, Time now) {
  std::string why;
  Mempool::Admit a = mempool_.admit(tx, id, ledger_, why);
  if (a == Mempool::Admit::Added || a == Mempool::Admit::Duplicate) {
    if (a == Mempool::Admit::Added) {
      if (!waitingSince_) waitingSince_ = now;
      maybePropose(now);
    }
    return;
  }
  refuseWaiting(id, a, why);
}

void Replica::refill(Time now, std::size_t max) {
  for (std::size_t n = 0; n < max && !unverified_.empty() && mempool_.size() < verifyAhead(); ++n) {
    Unverified u = std::move(unverified_.front());
    unverified_.pop_front();
    unverifiedIds_.erase(u.id);
    if (auto q = queuedBySender_.find(u.from); q != queuedBySender_.end() && --q->second == 0)
      queuedBySender_.erase(q);
    if (recentlyCommitted_.count(u.id)) continue; // a proposal brought it, and it committed
    admitNow(u.tx, u.id, now);
  }
  FLO_CHECK(unverified_.size() == unverifiedIds_.size());
  // More room than this call used: the rest a moment later (onTimer), so that a long queue
  // never holds the loop for long.
  if (!unverified_.empty() && mempool_.size() < verifyAhead())
    refillAt_ = now + std::chrono::milliseconds(1);
  else
    refillAt_.reset();
}

void Replica::onQuery(ClientId client, const Query& q) {
  QueryAnswer a;
  a.id = q.id;
  a.height = ledger_.height();
  a.stateRoot = rootsByHeight_.empty() ? ledger_.stateRoot() : rootsByHeight_.rbegin()->second;
  a.round = round_;
  a.view = view_;
  a.lastCommitMs = lastCommitMs();
  a.replica = self_;
  a.signaturesVerified = mempool_.signaturesVerified();
  a.transactionsCommitted = metrics_.committedTxs;
  a.mempool = mempool_.size() + unverified_.size();
  using Ms = std::chrono::milliseconds;
  a.leaderWorkMs = std::uint64_t(std::chrono::duration_cast<Ms>(watch_.totalWorked()).count());
  a.leaderWaitMs = std::uint64_t(std::chrono::duration_cast<Ms>(watch_.totalWaited()).count());
  a.slowLeaderTimeouts = metrics_.slowLeaderTimeouts;
  a.convictions = metrics_.convictions;
  a.mutedMessages = metrics_.mutedMessages;
  if (q.account) {
    if (const Account* acc = ledger_.account(*q.account)) {
      a.found = true;
      a.balance = acc->balance;
      a.stake = acc->stake;
      a.unbonding = acc->unbondingTotal();
      a.nonce = acc->nonce;
    }
    a.provider = ledger_.provider(*q.account) != nullptr;
  }
  if (q.contract)
    if (const Contract* c = ledger_.contract(*q.contract)) {
      a.contractFound = true;
      a.contractCreator = core::didKey(c->creator);
      a.contractSource = c->source;
      a.contractHeld = c->held;
      a.contractDeployed = c->deployed;
      a.contractStaked = c->staked();
      a.contractState = c->stateJson();
      if (a.contractState.size() > (1u << 20)) a.contractState = "\"(too large to show)\"";
    }
  if (q.order) a.orderJson = ledger_.orderJson(*q.order);
  if (q.providers) {
    a.providersJson = ledger_.providersJson();
    if (a.providersJson.size() > (1u << 20)) a.providersJson = "[]";
  }
  reply(client, std::move(a));
}

} // namespace flo::pool
