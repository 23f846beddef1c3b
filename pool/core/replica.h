/// \file
/// One replica's consensus core, sans I/O: peer messages, client requests and timer ticks in;
/// effects out (effects.h). It opens no socket, touches no disk and reads no clock: the time is
/// an argument, storage is effects plus a read-only ChainReader, so the same code runs n copies
/// in one simulated process from a seed (tests/pool) and as a daemon on the transport (pool/net).
///
/// The protocol (docs/pool.md has the picture and the invariants): a two-chain HotStuff with
/// quadratic view change, Jolteon / DiemBFT v4, with a stable leader:
///   * Rounds and views. Every block has a round (one more than its certificate's, or than the
///     timed-out round before it) and a view; its leader is replica view mod n. A block certified
///     by a QC keeps its parent's view, so a leader keeps leading while its rounds succeed; after
///     a timeout certificate the view is the one the TC attests plus one, so a crashed, silent or
///     slow leader costs one timeout and the next replica leads from then on. The view only
///     chooses who may propose: the safety rules are Jolteon's, on rounds.
///   * Proposal. The leader of round r proposes a block extending the block of its highest QC,
///     carrying that QC (and, after a timeout, the TC of round r-1).
///   * Vote. A replica votes for the first valid proposal of its current round if the round is
///     above every round it voted or timed out in, and either the QC is of round r-1, or the TC is
///     of round r-1 and carries no high QC newer than the proposal's QC. The vote goes to every
///     replica, and each makes the QC from n-f votes (the leader to propose on it, the others to
///     commit without waiting for the next proposal).
///   * Commit. A QC for block B1 whose parent B0 is of the round just before B1's commits B0 and
///     its ancestors. Committed blocks execute in height order on the ledger.
///   * Timeout. A round without progress for its timeout (doubling after each timeout, reset by a
///     QC) makes a replica stop voting in it and broadcast a signed timeout with its high QC;
///     n-f timeouts form the TC. f+1 timeouts for a round make a replica join them.
///   * Safety state (last voted round, high QC) is persisted before every vote and timeout.
#pragma once

#include "core/check.h"
#include "pool/core/block_tree.h"
#include "pool/core/effects.h"
#include "pool/core/leader_watch.h"
#include "pool/core/mempool.h"

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace flo::pool {

using Clock = std::chrono::steady_clock;
using Time = Clock::time_point;

/// Counters: what the tests use as oracles (POOL-TESTING S7) and what status shows.
struct ReplicaMetrics {
  std::uint64_t proposals = 0, votes = 0, timeoutsSent = 0, qcsFormed = 0, tcsFormed = 0;
  std::uint64_t committedBlocks = 0, committedTxs = 0;
  std::uint64_t invalidMessages = 0; ///< bad signature, shape or claim: dropped
  std::uint64_t staleMessages = 0;   ///< for rounds or heights already past
  std::uint64_t equivocations = 0;   ///< two different votes or proposals for one round by one
  std::uint64_t syncRequests = 0, syncedBlocks = 0;
  std::uint64_t snapshotsSent = 0, snapshotsInstalled = 0; ///< state transfers (sync.cpp)
  std::uint64_t snapshotParts = 0;      ///< SnapshotParts taken in (not counting refused ones)
  std::uint64_t snapshotsAssembled = 0; ///< snapshots in parts complete, then checked whole
  std::uint64_t refusedTxs = 0;
  std::uint64_t queuedTxs = 0; ///< submissions whose signature check waited for room (overload)
  std::uint64_t throttledRequests = 0;  ///< sync and block requests beyond a peer's budget
  std::uint64_t slowLeaderTimeouts = 0; ///< rounds timed out at their start (LeaderWatch)
  std::uint64_t convictions = 0;        ///< peers proven faulty by a signature (Replica::convict)
  std::uint64_t mutedMessages = 0;      ///< dropped unread: their sender was convicted
};

/// How many sync and block requests a peer gets answered: a burst of kBurst, then kPerSecond.
/// An answer can be megabytes (a sync batch, a chain of blocks) for a request of a few bytes,
/// so a faulty replica asking without end must not turn us into its amplifier; a correct one
/// asks a few times per round and on a 200 ms retry.
class ServeBudget {
public:
  static constexpr std::int64_t kBurst = 16, kPerSecond = 40;
  bool take(Time now) {
    if (!last_) {
      last_ = now;
    } else {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - *last_).count();
      std::int64_t earned = ms * kPerSecond / 1000;
      if (earned > 0) {
        tokens_ = std::min(kBurst, tokens_ + earned);
        *last_ += std::chrono::milliseconds(earned * 1000 / kPerSecond);
      }
    }
    if (tokens_ == 0) return false;
    --tokens_;
    return true;
  }

private:
  std::int64_t tokens_ = kBurst;
  std::optional<Time> last_;
};

class Replica {
public:
  /// A fresh replica at genesis.
  /// Unix time in ms for a local time: what a leader stamps on its blocks, and what a voter
  /// checks a stamp against (the real system clock, or a function of virtual time).
  using WallClock = std::function<std::uint64_t(Time)>;

  /// A fresh replica at genesis.
  Replica(const Genesis& genesis, ReplicaIndex self, core::SigningKey key, const ChainReader& chain,
          WallClock wall, Time now);
  /// A replica restarting from what it stored.
  Replica(const Genesis& genesis, ReplicaIndex self, core::SigningKey key, const ChainReader& chain,
          WallClock wall, Restored restored, Time now);

  /// How far ahead of a voter's clock a block time may be.
  static constexpr std::uint64_t kMaxClockDriftMs = 30'000;
  /// How long a convicted peer's messages are dropped unread (convict).
  static constexpr auto kMute = std::chrono::seconds(60);

  /// A message from replica `from` (the transport authenticated the sender).
  void onReplicaMessage(ReplicaIndex from, const Message& message, Time now);
  /// A message from a client: Submit or Query.
  void onClientMessage(ClientId client, const Message& message, Time now);
  void onTimer(Time now);
  std::optional<Time> nextTimer() const;
  std::vector<Effect> takeEffects();
  bool hasEffects() const { return !effects_.empty(); }

  ReplicaIndex self() const { return self_; }
  std::uint64_t round() const { return round_; }
  std::uint64_t committedHeight() const { return tree_.tipHeight(); }
  const Digest& committedId() const { return tree_.tipId(); }
  const Ledger& ledger() const { return ledger_; }
  const SafetyState& safety() const { return safety_; }
  const Mempool& mempool() const { return mempool_; }
  const ReplicaMetrics& metrics() const { return metrics_; }
  const LeaderWatch& leaderWatch() const { return watch_; }
  std::uint64_t signatureChecks() const { return committee_.signatureChecks(); }
  /// One line of internal state for diagnostics: timers, work, whether behind, the blocks held.
  std::string explain(Time now) const;
  /// The leader of view `view`.
  ReplicaIndex leaderOf(std::uint64_t view) const;
  /// The most snapshot bytes this replica puts in one message when it sends a state transfer
  /// (the rest follows in SnapshotParts). A test or a simulated pool sets it small so that
  /// small ledgers come in parts too.
  void setSnapshotPartBytes(std::size_t bytes) {
    FLO_CHECK(bytes > 0 && bytes <= SnapshotResponse::kMaxSnapshot &&
              bytes <= SnapshotPart::kMaxBytes);
    snapshotPartBytes_ = bytes;
  }
  static constexpr std::size_t kSnapshotPartBytes = 4u << 20;
  /// How long a snapshot in parts may fall silent before sync asks another peer.
  static constexpr auto kSnapshotPartWait = std::chrono::seconds(5);
  /// How long a peer whose snapshot in parts failed starts no other.
  static constexpr auto kSnapshotBar = std::chrono::seconds(60);
  std::uint64_t view() const { return view_; }
  /// The genesis block's id (height 0).
  const Digest& genesisId() const { return genesisId_; }
  /// Block time of the last committed block.
  std::uint64_t lastCommitMs() const { return tree_.tip().timeMs; }

private:
  // replica.cpp: plumbing
  void init(const Genesis& genesis, Time now);
  void send(ReplicaIndex to, Message m);
  void broadcast(Message m, Leave leave = Leave::Ordered);
  void reply(ClientId client, Message m);
  void persistSafety();
  void onSubmit(ClientId client, const Submit& s, Time now);
  /// Admits a transaction (`id` its hash) to the mempool now, its signature checked, telling
  /// the clients waiting for it when it is refused.
  void admitNow(const Bytes& tx, const Digest& id, Time now);
  void noteWaiting(ClientId client, const Digest& id);
  /// Tells the clients waiting for `id` that it was refused, and forgets them.
  void refuseWaiting(const Digest& id, Mempool::Admit a, const std::string& why);
  /// Checks up to `max` queued submissions, oldest first, while the mempool has room.
  void refill(Time now, std::size_t max);
  /// After an input: the queued submissions its commits made room for (refillDue_).
  void refillIfDue(Time now) {
    if (std::exchange(refillDue_, false)) refill(now, kRefillBatch);
  }
  /// Queued submissions checked at a time: a few milliseconds of signature checks at most.
  static constexpr std::size_t kRefillBatch = 64;
  /// The mempool the parameters ask for; transactions behind a nonce gap take at most half of
  /// the room verifyAhead() leaves them (Mempool's third bound).
  static Mempool mempoolFor(const PoolParams& p) {
    return Mempool(p.maxMempool, p.maxPendingPerAccount, 2 * std::size_t(p.maxBlockTxs));
  }
  /// The mempool size past which a submission's signature check waits: a few blocks' worth.
  std::size_t verifyAhead() const { return 4 * std::size_t(genesis_.params.maxBlockTxs); }
  void onQuery(ClientId client, const Query& q);
  // consensus.cpp: proposals, votes, certificates, commits
  void onProposal(ReplicaIndex from, const Proposal& p, Time now);
  /// `sender`: the replica that sent it, when it came from its proposer (a conviction if its
  /// signature fails), not relayed.
  bool checkProposal(const Proposal& p, Time now, std::vector<Tx>& txs, std::vector<Digest>& ids,
                     std::optional<ReplicaIndex> sender = std::nullopt);
  void tryVote(const BlockEntry& b, Time now);
  void onVote(ReplicaIndex from, const Vote& v, Time now);
  /// A QC, verified: raises the high QC, commits what it completes, advances the round.
  void processQc(const QuorumCert& qc, Time now, bool fromVotes = false);
  bool verifiedQc(const QuorumCert& qc);
  bool verifiedTc(const TimeoutCert& tc) const;
  void noteOwnSignature(std::uint64_t round, bool ours);
  void commitUpTo(const Digest& id, const BlockHeader& child, const QuorumCert& childQc);
  /// Executes the next committed block and tells the world (CommitBlock, then the replies).
  void executeCommitted(BlockEntry entry, const QuorumCert& qc, const BlockHeader& child,
                        const QuorumCert& childQc);
  void maybePropose(Time now);
  bool pathHasTxs(const Digest& id) const;
  /// `peer` is proven faulty: a signature of its own (its vote's, timeout's or proposal's) or a
  /// certificate it passed on (a proposal's justification, a timeout's high QC or TC, a
  /// certificate message) failed to verify, in a message the transport authenticated as its. A
  /// correct replica sends neither (what it passes on it verified or formed), so its messages
  /// are dropped unread for kMute (Aardvark's lesson): a flood of forgeries then costs each
  /// replica one signature check a minute, not one per forgery. (The caller counts the message
  /// as invalid.)
  void convict(ReplicaIndex peer, Time now);
  // pacemaker.cpp: rounds and timeouts
  void advanceRound(std::uint64_t round, std::uint64_t view, Time now);
  void onRoundTimeout(Time now);
  void onTimeout(ReplicaIndex from, const Timeout& t, Time now);
  void processTc(const TimeoutCert& tc, Time now);
  Clock::duration roundTimeout() const;
  /// Rounds of a view longer than this on average make its leader slow (LeaderWatch): three
  /// quarters of the genesis's round timeout.
  Clock::duration slowRoundLimit() const;
  bool hasWork() const;
  void armTimer(Time now);
  // sync.cpp: catching up
  void onSyncRequest(ReplicaIndex from, const SyncRequest& r, Time now);
  void onSyncResponse(ReplicaIndex from, const SyncResponse& r, Time now);
  void onSnapshotResponse(ReplicaIndex from, const SnapshotResponse& r, Time now);
  void onSnapshotPart(ReplicaIndex from, const SnapshotPart& p, Time now);
  /// A whole snapshot whose proof (blocks, certificates, checkpoint signatures) held: decoded,
  /// checked against its root, and installed.
  /// False when the snapshot is not the state it claims (its sender is faulty).
  bool installSnapshot(ReplicaIndex from, const SnapshotResponse& r, Time now);
  bool sendSnapshot(ReplicaIndex to, std::uint64_t fromHeight, std::uint64_t gap, Time now);
  /// Whether a snapshot coming in parts is still arriving (its last part less than
  /// kSnapshotPartWait ago): no sync is asked for meanwhile.
  bool receivingSnapshot(Time now) const;
  /// How far behind a peer asking for blocks must be to get a snapshot instead: two
  /// checkpoints (a stable checkpoint lags the tip by about one).
  std::uint64_t snapshotGap() const;
  /// A snapshot at most this often to one peer, and a large one no faster than
  /// kSnapshotBytesPerSecond (a request of a few bytes must not make us send hundreds of MB).
  static constexpr auto kSnapshotEvery = std::chrono::seconds(1);
  static constexpr std::uint64_t kSnapshotBytesPerSecond = 64u << 20;
  /// Whether `blocks` (heights in order, each certified by the next one's justification) are
  /// committed: hash-linked (from `parent`, when given), every certificate valid, and the last
  /// with a certified `child` of the next round (the two-chain rule).
  bool provenBatch(const std::vector<CommittedBlock>& blocks, const BlockHeader& child,
                   const QuorumCert& childQc, std::optional<Digest> parent);
  /// The blocks with their transactions decoded (not verified: a quorum did), or nullopt when
  /// one does not decode or does not match its header's tx root.
  std::optional<std::vector<BlockEntry>>
  decodeBatch(const std::vector<CommittedBlock>& blocks) const;
  /// Commits and executes proven blocks that extend the tip, in order.
  void executeBatch(std::vector<BlockEntry> entries, const BlockHeader& child,
                    const QuorumCert& childQc);
  /// After a batch: the certificates it ends with, and the next request.
  void afterSync(ReplicaIndex from, const QuorumCert& lastQc, const QuorumCert& childQc, Time now);
  void onBlockRequest(ReplicaIndex from, const BlockRequest& r);
  void onBlockResponse(ReplicaIndex from, const BlockResponse& r, Time now);
  void requestSync(ReplicaIndex from, Time now);
  void retryAwaitingParent(Time now);
  void retrySync(Time now);
  std::optional<Time> syncRetryAt() const;
  void onCheckpoint(ReplicaIndex from, const Checkpoint& c, Time now);
  void makeCheckpoint();

  Genesis genesis_;
  ReplicaIndex self_;
  core::SigningKey key_;
  const ChainReader& chain_;
  Committee committee_;
  Digest genesisId_{};
  SafetyState safety_;
  Ledger ledger_;
  BlockTree tree_;
  QuorumCert tipQc_; ///< certifies the committed tip
  Mempool mempool_;
  WallClock wall_;
  std::uint64_t round_ = 1;
  std::uint64_t view_ = 0;            ///< the view of the current round, as this replica entered it
  std::optional<TimeoutCert> lastTc_; ///< the TC that opened the current round, if one did
  unsigned consecutiveTimeouts_ = 0;
  std::optional<Time> roundDeadline_;
  LeaderWatch watch_; ///< how long the rounds of the view take (and the wait for proposals)
  /// A round whose leader the watch found slow: no vote in it (its timeout is due at once).
  std::uint64_t abstainRound_ = 0;
  std::map<ReplicaIndex, Time> mutedUntil_; ///< convicted peers (convict), until then
  std::optional<Time> flushAt_;             ///< the leader proposes a partial block then
  bool flushDue_ = false;                   ///< inside onTimer, when the flush timer ran out
  /// When the oldest transaction admitted since our last proposal came (the flush time counts
  /// from it); the proposal's time when that proposal left transactions behind.
  std::optional<Time> waitingSince_;
  std::uint64_t proposedRound_ = 0; ///< the last round this replica proposed in
  /// Votes collected (every replica collects them): by round, then by what they certify (block
  /// and height), then by voter. Only verified votes are kept.
  std::map<std::uint64_t, std::map<std::pair<Digest, std::uint64_t>, std::map<ReplicaIndex, Vote>>>
      votes_;
  std::map<std::uint64_t, std::map<ReplicaIndex, Timeout>> timeouts_;
  std::set<Digest> verifiedQcs_;   ///< QCs (statement and signatures) already verified
  std::set<Digest> verifiedVotes_; ///< votes (statement and signature) verified on arrival
  std::map<std::uint64_t, Digest> rootsByHeight_; ///< recent state roots, to check headers
  bool tipHasTxs_ = false;                        ///< the committed tip holds transactions
  std::map<std::uint64_t, std::map<ReplicaIndex, Checkpoint>> checkpoints_;
  std::map<std::uint64_t, Bytes> snapshots_; ///< ledger at checkpoint heights, until stable
  std::uint64_t stableCheckpoint_ = 0;
  std::optional<Time> syncRequestedAt_;
  std::map<ReplicaIndex, ServeBudget> serveBudget_; ///< by peer
  std::map<ReplicaIndex, Time> snapshotAllowedAt_;  ///< a peer's next snapshot, not before
  std::size_t snapshotPartBytes_ = kSnapshotPartBytes;
  /// A snapshot arriving in parts, its proof checked: the response (with the first part), and
  /// the parts from its sender by offset, in whatever order they come (the transport keeps
  /// order, a simulated network need not). Every part but the last is as long as the first (the
  /// sender's part size), at a multiple of it: they cannot overlap, and there are at most
  /// kMaxSnapshotParts. It ends when complete, at a part that does not fit, when its sender
  /// falls silent for kSnapshotPartWait, or at its deadline, which nothing extends.
  struct IncomingSnapshot {
    ReplicaIndex from = 0;
    SnapshotResponse response;
    std::map<std::uint64_t, Bytes> parts;
    std::uint64_t received = 0; ///< bytes, the first part's included
    Time lastPart, deadline;
  };
  /// When the snapshot arriving stops being waited for (silence or deadline).
  Time incomingEnds() const;
  /// The peers asked for blocks (a SyncRequest) that have not answered since: the only ones
  /// whose snapshot in parts is taken (a faulty peer cannot start one unasked).
  std::set<ReplicaIndex> syncAsked_;
  /// Parts from a peer asked that came before its response (a simulated network reorders; the
  /// transport does not), while no snapshot arrives, at most kMaxEarlyBytes in all; taken or
  /// dropped when that peer's next answer (blocks or snapshot) comes, and dropped when a
  /// snapshot is installed.
  std::vector<std::pair<ReplicaIndex, SnapshotPart>> earlyParts_;
  std::size_t earlyBytes_ = 0;
  /// Keeps `p` among the early parts; false when they hold kMaxEarlyBytes already.
  bool keepEarly(ReplicaIndex from, const SnapshotPart& p);
  /// Removes and returns the early parts from `from` (its response came).
  std::vector<SnapshotPart> takeEarly(ReplicaIndex from);
  void endIncoming(bool failed, Time now);
  /// `from` starts no snapshot in parts for kSnapshotBar (its last one failed).
  void barSnapshots(ReplicaIndex from, Time now);
  /// Peers whose snapshot in parts failed: they start no other until then (or until one is
  /// installed). A faulty peer so holds a replica up at most one deadline a bar.
  std::map<ReplicaIndex, Time> snapshotBarredUntil_;
  static constexpr std::size_t kMaxSnapshotParts = 4096;
  static constexpr std::size_t kMaxEarlyBytes = 16u << 20;
  /// The slowest a snapshot may come: its deadline is twice kSnapshotPartWait plus its size at
  /// this rate, from its response.
  static constexpr std::uint64_t kMinSnapshotBytesPerSecond = 8u << 20;
  std::optional<IncomingSnapshot> incoming_;
  /// Each proposer's last proposal whose parent we lacked (and asked for): checked and voted
  /// on once the parent arrives.
  std::map<ReplicaIndex, Proposal> awaitingParent_;
  ReplicaIndex syncPeer_ = 0; ///< whom to ask next while behind (rotates on each retry)
  /// Whether we hold a certificate for a block we cannot link to our tip (we are behind).
  bool behind() const;
  /// Recently committed transactions, so a client resending one hears how it ended (bounded,
  /// oldest forgotten first).
  std::unordered_map<Digest, TxStatus, DigestHash> recentlyCommitted_;
  std::deque<Digest> recentOrder_;
  /// Submissions whose signature check waits (docs/pool.md, "Overload"): while the mempool
  /// holds more than the next blocks can take (verifyAhead()), a submission is queued, in
  /// arrival order, and checked when commits make room. An overloaded replica so spends its
  /// time on the transactions it can order, not on verifying ones it cannot order yet (receive
  /// livelock); each is still checked once, and its client waits as for any other.
  struct Unverified {
    Digest id{};
    AccountId from{};
    Bytes tx;
  };
  std::deque<Unverified> unverified_;
  std::unordered_set<Digest, DigestHash> unverifiedIds_;
  std::map<AccountId, std::size_t> queuedBySender_; ///< each sender's share of the queue
  std::optional<Time> refillAt_;                    ///< when to check more queued submissions
  bool refillDue_ = false; ///< a commit made room while a message was handled
  /// Clients waiting for their transaction, by transaction id.
  std::unordered_map<Digest, std::vector<ClientId>, DigestHash> waiting_;
  std::vector<Effect> effects_;
  ReplicaMetrics metrics_;
};

} // namespace flo::pool
