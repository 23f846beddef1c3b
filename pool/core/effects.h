/// \file
/// What the consensus core asks of the world, in order. The layer above applies the effects in
/// the order given, as pool/core/outbox.h lays down (the daemon and the simulator share it): a
/// PersistSafety (and a StoreBlock) is durable (fdatasync) before any Send or Broadcast after it,
/// which is how a restarted replica never signs two conflicting votes. A CommitBlock and a
/// StoreCheckpoint hold back no message to a replica: the layer above may write them later, in
/// order with the other durable effects (with the next vote's transaction, or soon after when
/// none comes). The pool loses nothing meanwhile: a block is committed once a quorum voted for
/// its child, and those n-f voters had each made a certificate of the block durable before
/// voting, as the block's own voters had the block (the two-chain rule's own argument). Every
/// later certificate extends it, so a replica that loses its CommitBlock in a crash commits the
/// same block at the same height again. A message to a client does wait for them: a replica
/// must not come back from a crash below a height it told a client (outbox.h says why).
/// The one exception is a message marked Leave::Early, which depends on nothing durable and may
/// leave before the durable effects of its batch (the daemon sends it while it writes).
#pragma once

#include "pool/ledger/ledger.h"
#include "pool/wire/message.h"

#include <variant>
#include <vector>

namespace flo::pool {

/// A client as the layer above knows it (an address and DID); opaque to the core.
using ClientId = std::uint64_t;

/// What a replica must remember across a crash so it never votes against itself: the highest
/// round it voted or timed out in, and the highest certificate it holds (which its timeouts
/// report; forgetting it could let a timeout certificate skip a committed block).
struct SafetyState {
  std::uint64_t lastVotedRound = 0;
  QuorumCert highQc;
  bool operator==(const SafetyState&) const = default;
};

/// When a message may leave. Ordered: after every durable effect before it (the default).
/// Early: it commits this replica to nothing a crash could make it forget, so it need not wait
/// for the write: a proposal (a leader's vote for its own block is counted only when the others'
/// votes come back, after the write; a second proposal for the round after a crash is harmless,
/// as a voter votes once per round) and a certificate (its signatures are votes already durable
/// at their signers).
enum class Leave : std::uint8_t { Ordered, Early };

struct SendTo {
  ReplicaIndex to = 0;
  Message message;
};
struct Broadcast { ///< to every other replica
  Message message;
  Leave leave = Leave::Ordered; ///< (proposals and certificates: Early)
};
struct ReplyTo {
  ClientId client = 0;
  Message message;
};
struct PersistSafety {
  SafetyState state;
};
/// A block this replica voted for or saw certified, kept for a restart.
struct StoreBlock {
  Proposal proposal;
};
/// The next committed block, executed: what the chain and the ledger now hold.
struct CommitBlock {
  CommittedBlock block;
  std::vector<TxResult> results;
  Digest stateRoot{}; ///< after the block
  /// The child header and certificate that prove the commit (the 2-chain rule).
  BlockHeader child;
  QuorumCert childQc;
};
/// A stable checkpoint: a quorum signed this state root at this height; the ledger snapshot
/// goes with it, for restarts and for replicas that lost their disk.
struct StoreCheckpoint {
  std::uint64_t height = 0;
  Digest stateRoot{};
  std::vector<SignedBy> signatures;
  Bytes snapshot; ///< Ledger::encode() at that height
};

/// State transfer (sync.cpp): the replica skipped from its tip to a peer's stable checkpoint,
/// proven (SnapshotResponse). The store keeps the checkpoint's block as the committed tip, with
/// its commit proof and no results (it was not executed here), and the checkpoint with its
/// snapshot, which it keeps for good: the blocks between the old tip and this one are not held,
/// and the chain above them starts from this state. Like a CommitBlock, it holds back no
/// message: lost in a crash, the replica transfers again.
struct InstallSnapshot {
  CommittedBlock block;
  BlockHeader child;
  QuorumCert childQc;
  StoreCheckpoint checkpoint; ///< at the block's height
};

using Effect = std::variant<SendTo, Broadcast, ReplyTo, PersistSafety, StoreBlock, CommitBlock,
                            StoreCheckpoint, InstallSnapshot>;

/// What a store keeps: PersistSafety, StoreBlock, CommitBlock, StoreCheckpoint, InstallSnapshot.
inline bool isDurable(const Effect& e) {
  return std::holds_alternative<PersistSafety>(e) || std::holds_alternative<StoreBlock>(e) ||
         std::holds_alternative<CommitBlock>(e) || std::holds_alternative<StoreCheckpoint>(e) ||
         std::holds_alternative<InstallSnapshot>(e);
}
/// What must be durable (fsynced) before the messages after it leave: what a vote relies on.
inline bool holdsBackMessages(const Effect& e) {
  return std::holds_alternative<PersistSafety>(e) || std::holds_alternative<StoreBlock>(e);
}

/// A committed block as the chain keeps it: with the proof of its commit (the child and the
/// child's certificate of the CommitBlock that committed it; for a block committed with later
/// ones, the proof commits the last of them, a descendant).
struct StoredBlock {
  CommittedBlock block;
  BlockHeader child;
  QuorumCert childQc;
};

/// Read access to the committed chain the layer above keeps (SQLite, or memory in tests), for
/// answering a peer that is behind. Reads may lag the CommitBlock effects not applied yet.
class ChainReader {
public:
  virtual ~ChainReader() = default;
  /// The committed block at `height` (1..tip), if held (not below a state transfer's base).
  virtual std::optional<StoredBlock> committed(std::uint64_t height) const = 0;
  /// The latest stable checkpoint with its snapshot, if any (what a peer far behind is sent).
  virtual std::optional<StoreCheckpoint> latestCheckpoint() const = 0;
};

/// What a replica restarts from: its safety state, the committed tip and the ledger there, and
/// the uncommitted blocks it had stored.
struct Restored {
  SafetyState safety;
  Ledger ledger;
  BlockHeader tip;               ///< the last committed block's header (genesis: height 0)
  QuorumCert tipQc;              ///< its certificate (the genesis certificate at height 0)
  std::vector<Proposal> pending; ///< stored blocks above the tip, any order
};

/// A replica's durable storage, as the daemon and the simulator see it: the SQLite store
/// (pool/store) and the in-memory fake (pool/sim) both keep this contract.
class ReplicaStore : public ChainReader {
public:
  /// Makes the durable effects among `effects` durable, together (one transaction, one sync),
  /// before it returns; the others are ignored. False, with why, when it could not: then
  /// nothing of them is kept, and the caller must send nothing that came after them (the daemon
  /// stops rather than vote on what it could not keep).
  virtual bool applyDurable(const std::vector<Effect>& effects, std::string* error) = 0;
  /// What a restarting replica needs (see Restored).
  virtual Restored restore() const = 0;
  /// Nothing stored yet: the replica starts at genesis.
  virtual bool empty() const = 0;
};

} // namespace flo::pool
