/// \file
/// Every message of the pool's protocol, between replicas and between clients and replicas, as
/// one canonical record `pool` with a kind and its fields. The transport authenticates who
/// sent a message (its DID); the signatures inside (votes, timeouts, proposals, transactions)
/// are what a third party can check later.
#pragma once

#include "pool/wire/consensus.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace flo::pool {

/// A committed block with what proves it: its proposal (header, transactions, the certificate of
/// its parent) and its own certificate.
struct CommittedBlock {
  Proposal proposal;
  QuorumCert qc; ///< certifies proposal.header
  Value::Map toMap() const;
  static CommittedBlock read(Fields& f, std::size_t maxTxs);
  bool operator==(const CommittedBlock&) const = default;
};

/// Asks a peer for committed blocks from `fromHeight` on (at most `max`).
struct SyncRequest {
  static constexpr std::string_view kName = "sync-request";
  std::uint64_t fromHeight = 0;
  std::uint32_t max = 0;
  bool operator==(const SyncRequest&) const = default;
};

/// Committed blocks in height order, and the proof that the last is committed: the header of a
/// child in the next round, with the child's certificate (the 2-chain commit rule).
struct SyncResponse {
  static constexpr std::string_view kName = "sync-response";
  std::vector<CommittedBlock> blocks;
  std::optional<BlockHeader> child;
  std::optional<QuorumCert> childQc;
  bool operator==(const SyncResponse&) const = default;
};

/// State transfer: what a peer far behind gets in place of every block it missed (a peer answers
/// a SyncRequest so when its latest stable checkpoint is far enough above the height asked
/// for). The checkpoint's ledger (Ledger::encode) with the quorum's signatures over its root;
/// the committed block at its height (the base) and the blocks after it up to the one a commit
/// proof commits directly, with that proof (a child of the next round and its certificate), as
/// in a SyncResponse. The receiver trusts none of it unchecked: the certificates prove the
/// blocks committed, the signatures prove the root, and the snapshot must decode to exactly
/// that root at the base's height.
///
/// A snapshot larger than one message carries (the transport's are at most 16 MiB, the blocks
/// and proofs included) comes in parts: this message with its first bytes and its whole `size`,
/// then SnapshotPart messages with the rest, in order, from the same peer.
struct SnapshotResponse {
  static constexpr std::string_view kName = "snapshot";
  /// The most snapshot bytes in this message (the whole snapshot, or its first part).
  static constexpr std::size_t kMaxSnapshot = 11u << 20;
  /// The largest snapshot sent at all, in parts: a larger ledger is caught up block by block.
  static constexpr std::uint64_t kMaxSize = 256u << 20;
  Digest stateRoot{};
  std::vector<SignedBy> signatures; ///< over checkpointMessage(chain, height, stateRoot)
  Bytes snapshot; ///< the whole snapshot, or the first snapshot.size() bytes of `size`
  /// The whole snapshot's bytes: more than snapshot.size() when parts follow (encoded only
  /// then: one encoding per message).
  std::uint64_t size = 0;
  std::vector<CommittedBlock> blocks; ///< the base first
  BlockHeader child;
  QuorumCert childQc;
  bool operator==(const SnapshotResponse&) const = default;
};

/// The next bytes of a snapshot whose SnapshotResponse said more follow: its base's height and
/// its root (the state it is part of), and where the bytes go in it. Checked as a whole once
/// the last part is in (the root covers the state, not its parts).
struct SnapshotPart {
  static constexpr std::string_view kName = "snapshot-part";
  static constexpr std::size_t kMaxBytes = 12u << 20;
  std::uint64_t height = 0;
  Digest stateRoot{};
  std::uint64_t offset = 0;
  Bytes bytes;
  bool operator==(const SnapshotPart&) const = default;
};

/// Asks for one block by id (an ancestor of a proposal we cannot place).
struct BlockRequest {
  static constexpr std::string_view kName = "block-request";
  Digest block{};
  bool operator==(const BlockRequest&) const = default;
};

struct BlockResponse {
  static constexpr std::string_view kName = "block-response";
  Proposal proposal;
  bool operator==(const BlockResponse&) const = default;
};

struct ProposalMsg {
  static constexpr std::string_view kName = "proposal";
  Proposal proposal;
  bool operator==(const ProposalMsg&) const = default;
};
struct VoteMsg {
  static constexpr std::string_view kName = "vote";
  Vote vote;
  bool operator==(const VoteMsg&) const = default;
};
struct TimeoutMsg {
  static constexpr std::string_view kName = "timeout";
  Timeout timeout;
  bool operator==(const TimeoutMsg&) const = default;
};

/// A client's transaction.
struct Submit {
  static constexpr std::string_view kName = "submit";
  Bytes tx;
  bool operator==(const Submit&) const = default;
};

/// What became of a submitted transaction: refused at admission, or committed (applied or
/// refused by execution) at a height.
struct TxStatus {
  static constexpr std::string_view kName = "tx-status";
  enum class State : std::uint8_t { Refused, Committed };
  Digest tx{};
  State state = State::Refused;
  bool applied = false;
  std::uint64_t height = 0;
  Digest stateRoot{}; ///< after the block (Committed)
  std::string error;
  bool operator==(const TxStatus&) const = default;
};

/// A replica's answer to one client for that client's transactions in one committed block: one
/// message a block rather than a TxStatus a transaction, so that a client with many in flight
/// (the benchmark's) takes in and decodes a few messages a block instead of hundreds. Each
/// transaction reads as the TxStatus it stands for (statusOf).
struct CommitAnswer {
  static constexpr std::string_view kName = "commit-answer";
  /// Transactions of one answer: a replica sends a client with more in a block several, and a
  /// decoder refuses more (within what decodeMessage lets any client's array hold).
  static constexpr std::size_t kMaxTxs = 1024;
  std::uint64_t height = 0;
  Digest stateRoot{};                                  ///< after the block
  std::vector<Digest> applied;                         ///< committed and executed
  std::vector<std::pair<Digest, std::string>> refused; ///< committed, refused by execution: why
  std::size_t size() const { return applied.size() + refused.size(); }
  /// Adds a transaction's outcome (a Committed status of this block).
  void add(const TxStatus& status);
  /// What it says of `tx`, as a TxStatus; nullopt if it does not name it.
  std::optional<TxStatus> statusOf(const Digest& tx) const;
  /// What it says of each transaction, applied ones first.
  std::vector<TxStatus> statuses() const;
  bool operator==(const CommitAnswer&) const = default;
};

/// A client asks for an account's state, or the replica's status.
struct Query {
  static constexpr std::string_view kName = "query";
  std::optional<AccountId> account;    ///< none: the replica's status
  std::uint64_t id = 0;                ///< echoed in the answer
  std::optional<std::string> contract; ///< a contract's state, by name
  std::optional<Digest> order;         ///< an order, by id
  bool providers = false;              ///< every provider
  bool operator==(const Query&) const = default;
};

struct QueryAnswer {
  static constexpr std::string_view kName = "answer";
  std::uint64_t id = 0;
  std::uint64_t height = 0;
  Digest stateRoot{};
  std::uint64_t round = 0;
  std::uint64_t view = 0;
  std::uint64_t lastCommitMs = 0; ///< block time of the last commit
  ReplicaIndex replica = 0;
  /// Client signatures this replica process verified, and transactions it saw committed: the
  /// verify-once oracle (each transaction verified once per replica) from outside.
  std::uint64_t signaturesVerified = 0, transactionsCommitted = 0, mempool = 0;
  /// The slow-leader watch (pool/core/leader_watch.h): the time this replica had work in rounds
  /// others led, the part of it spent waiting for their proposals, and the rounds it timed out of
  /// at their start because their leader was slow.
  std::uint64_t leaderWorkMs = 0, leaderWaitMs = 0, slowLeaderTimeouts = 0;
  /// Peers this replica convicted of a forged signature, and their messages dropped unread.
  std::uint64_t convictions = 0, mutedMessages = 0;
  // the account asked for
  bool found = false;
  std::uint64_t balance = 0, stake = 0, unbonding = 0, nonce = 0;
  bool provider = false;
  // the contract asked for (its state as canonical JSON: each variable, maps as [key, value])
  bool contractFound = false;
  std::string contractCreator, contractSource, contractState;
  std::uint64_t contractHeld = 0, contractDeployed = 0, contractStaked = 0;
  // the order asked for, and the providers (JSON text, the same on every replica)
  std::string orderJson, providersJson;
  bool operator==(const QueryAnswer&) const = default;
};

/// A signed checkpoint: the state root after a height every checkpointInterval blocks.
struct Checkpoint {
  static constexpr std::string_view kName = "checkpoint";
  std::uint64_t height = 0;
  Digest stateRoot{};
  SignedBy by;
  bool operator==(const Checkpoint&) const = default;
};

/// A certificate the leader formed and will not carry in a proposal soon (nothing left to
/// propose): the replicas learn from it what it commits.
struct CertificateMsg {
  static constexpr std::string_view kName = "certificate";
  QuorumCert qc;
  bool operator==(const CertificateMsg&) const = default;
};

using Message =
    std::variant<ProposalMsg, VoteMsg, TimeoutMsg, SyncRequest, SyncResponse, SnapshotResponse,
                 SnapshotPart, BlockRequest, BlockResponse, Submit, TxStatus, CommitAnswer, Query,
                 QueryAnswer, Checkpoint, CertificateMsg>;

/// What a TxStatus or a CommitAnswer says of `tx`; nullopt for any other message, or one that
/// does not name it.
std::optional<TxStatus> statusOf(const Message& m, const Digest& tx);
/// What a TxStatus or a CommitAnswer says, a status a transaction; empty for any other message.
std::vector<TxStatus> statusesIn(const Message& m);

std::string_view messageName(const Message& m);
Bytes encodeMessage(const Message& m);
/// Decodes and checks the shape of any message (signatures are checked by whoever acts on it).
/// `maxTxs` bounds the transactions of one block. nullopt, with why, for anything else.
std::optional<Message> decodeMessage(const std::uint8_t* data, std::size_t size, std::size_t maxTxs,
                                     std::string* error = nullptr);

} // namespace flo::pool
