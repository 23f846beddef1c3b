/// \file
/// A replica's durable storage: one SQLite file holding what the consensus core's durable
/// effects (pool/core/effects.h) ask to keep, with the contract of the in-memory fake
/// (pool/sim/memory_store.h): apply the effects, answer the core's ChainReader, and rebuild what
/// a restarting replica needs (Restored).
///
/// Durability. WAL journal. A transaction holding a PersistSafety or a StoreBlock is fsynced
/// (synchronous=FULL) before apply() returns, so they are on disk before the vote after them
/// leaves. One holding only CommitBlock and StoreCheckpoint effects is written to the file but
/// not fsynced (synchronous=NORMAL): it survives the process's crash, and the next fsync (the
/// next vote's) makes it durable too. A commit needs no more (effects.h says why). apply(vector)
/// writes every durable effect of one step in ONE transaction (at most one fsync): the daemon
/// applies a step's effects at once, so the StoreBlock and PersistSafety before a vote land
/// together or not at all. A
/// crash mid-transaction leaves the previous one: SQLite discards a WAL tail that is torn or
/// fails its checksums (POOL-TESTING F16), so what reopens is always a prefix of what was
/// applied, at a step boundary.
///
/// Bad disks (F16). open() refuses, with the reason, rather than run on state it cannot trust:
/// a file of another pool (the chain id is stored and compared), of another kind or a newer
/// schema, one that fails PRAGMA quick_check, a row that does not decode or contradicts its
/// neighbours (the error names the table and the height), a gap in the chain (but one a state
/// transfer left: the block above it is the base, a checkpoint kept with its snapshot). It
/// rebuilds the restart state then and there (the ledger from the last stable checkpoint plus
/// the blocks after it, re-executed against the stored roots), so a replica that opened its
/// store can restart from it. Blocks below that checkpoint are read only to serve peers (who check
/// them) and by verifyChain (verify_chain.h), which checks everything. A failed write (disk full,
/// an I/O or fsync error) fails that apply and every later one: the caller must not send what came
/// after the effects, and restarts from what the disk holds (a retried fsync proves nothing).
///
/// Schema (PRAGMA application_id 0x666c6f50 "floP", user_version 3; a file of version 1 or 2 is
/// brought to 3 when it opens); every BLOB but the roots, ids and snapshot is a canonical record
/// of records.h:
///   meta(key TEXT PRIMARY KEY, value BLOB)      'chain' -> chain id, 'genesis' -> Genesis::encode
///   safety(id = 0, last_voted_round, state)     one row: SafetyState
///   proposals(height, id, proposal), key (height, id)
///                                               every block stored: the committed chain's, and
///                                               those above the tip that may yet commit
///   blocks(height INTEGER PRIMARY KEY, id, qc, child, child_qc, results, state_root)
///                                               the committed chain, 1..tip: its block is the
///                                               proposal (height, id), certified by qc, with
///                                               the commit proof (child, child_qc); a state
///                                               transfer's base has no results (not executed
///                                               here) and the heights below it since the old
///                                               tip are not held
///   checkpoints(height INTEGER PRIMARY KEY, state_root, signatures, snapshot)
///                                               stable checkpoints; the snapshot (Ledger::encode)
///                                               is kept for the latest and for the bases of
///                                               state transfers (the others NULL)
/// A round writes a proposal at the right edge of its table, a small commit row at the end of
/// the chain, and the safety row; a block's bytes are written once (until version 2 a commit
/// wrote the whole block again, and the proposal's pages went through the free list).
///
/// Not thread-safe: one store (one connection) per thread; other processes may read the file
/// (verifyChain) while it is open. The store checkpoints its WAL on a thread and connection of
/// its own (wal_checkpointer.h), so no commit waits for a checkpoint. Nothing here throws.
#pragma once

#include "pool/core/replica.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::pool {

class SqliteStore final : public ReplicaStore {
public:
  /// The file a replica's data directory keeps its store in.
  static constexpr const char* kFileName = "replica.db";

  /// Opens the store at `path` for the pool of `genesis`, creating it when absent, and checks
  /// it (see the file comment). Null, with why in `error`, when it cannot be opened or must not
  /// be trusted; the file is then left as it was.
  static std::unique_ptr<SqliteStore> open(const std::string& path, const Genesis& genesis,
                                           std::string* error = nullptr);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// Keeps what an effect makes durable (PersistSafety, StoreBlock, CommitBlock,
  /// StoreCheckpoint), durably, before returning; other effects are ignored. The invariants the
  /// core keeps (the last voted round never decreases, blocks commit in height order, a
  /// checkpoint is at or below the tip) are checked with FLO_CHECK, as MemoryStore does. False,
  /// with why, when the write failed: then nothing of it is stored, and every later apply fails.
  [[nodiscard]] bool apply(const Effect& effect, std::string* error = nullptr);
  /// The durable effects of one step, in order, in one transaction: all stored or none.
  [[nodiscard]] bool apply(const std::vector<Effect>& effects, std::string* error = nullptr);
  bool applyDurable(const std::vector<Effect>& effects, std::string* error) override {
    return apply(effects, error);
  }

  /// The committed block at `height` with its commit proof; nullopt above the tip, or when the
  /// row cannot be read or decoded (counted in corruptReads()).
  std::optional<StoredBlock> committed(std::uint64_t height) const override;
  /// The latest stable checkpoint with its snapshot; nullopt when none, or when its row cannot
  /// be decoded (counted in corruptReads()).
  std::optional<StoreCheckpoint> latestCheckpoint() const override;

  /// What a restart starts from, as MemoryStore::restore() gives it. The state was checked when
  /// the store opened; a row that went bad since aborts (FLO_CHECK): use tryRestore to handle it.
  Restored restore() const override;
  /// The same, or nullopt with why (naming the table and height) when the stored state does not
  /// decode or re-execute to the stored roots.
  std::optional<Restored> tryRestore(std::string* error = nullptr) const;
  /// Nothing committed and no safety state: a replica starts fresh from genesis.
  bool empty() const override { return tip_ == 0 && !hasSafety_; }

  // ---- for tools (fog pool status, verify-chain) and tests ----
  const Genesis& genesis() const { return genesis_; }
  const std::string& path() const { return path_; }
  std::uint64_t tipHeight() const { return tip_; }
  /// The height of the latest stable checkpoint with its snapshot (0: none).
  std::uint64_t stableCheckpoint() const { return checkpoint_; }
  std::optional<SafetyState> safety() const;
  /// The state root after `height` (0: the genesis state); nullopt above the tip or unreadable.
  std::optional<Digest> stateRoot(std::uint64_t height) const;
  /// What became of the transactions of the block at `height`; nullopt when not held.
  std::optional<std::vector<TxResult>> results(std::uint64_t height) const;
  /// How many blocks are stored above the tip (rows of the pending table).
  std::size_t pendingCount() const;
  /// Whether a write failed (every apply fails from then on), and why.
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  /// committed() reads that found a row they could not decode.
  std::uint64_t corruptReads() const { return corruptReads_; }

private:
  struct Db;
  SqliteStore(std::string path, const Genesis& genesis, std::unique_ptr<Db> db);
  bool applyAll(const std::vector<const Effect*>& effects, std::string* error);
  bool fail(std::string* error, std::string why);
  /// "path: table T, height H: why" (no height when `height` is empty).
  std::string rowError(const char* table, std::optional<std::uint64_t> height,
                       const std::string& why) const;

  /// What a proposal holds besides its id (the header, and through its tx root the
  /// transactions, are the id): two proposals of one block may differ here (another quorum's
  /// certificate of the parent, a timeout certificate, the proposer's signature).
  struct Unbound {
    QuorumCert justify;
    std::optional<TimeoutCert> tc;
    Signature signature{};
    explicit Unbound(const Proposal& p) : justify(p.justify), tc(p.tc), signature(p.signature) {}
    bool operator==(const Unbound&) const = default;
  };
  using Stored = std::map<std::pair<std::uint64_t, Digest>, Unbound>;

  std::string path_;
  Genesis genesis_;
  Digest genesisId_{};
  Digest genesisRoot_{};
  std::unique_ptr<Db> db_; ///< the connection and its prepared statements
  std::uint64_t tip_ = 0;
  std::uint64_t checkpoint_ = 0;
  bool hasSafety_ = false;
  std::uint64_t lastVotedRound_ = 0;
  /// The proposals stored above the tip, by (height, id): a commit writes its block's proposal
  /// only when it is not the one stored (state transfer commits a peer's copy, perhaps of a block
  /// stored here with another certificate), without reading or encoding it otherwise. An entry
  /// missing here is only written again; one here is in the table (changed after a commit).
  Stored above_;
  std::string failure_;
  mutable std::uint64_t corruptReads_ = 0;
  /// The restart state rebuilt by open(), handed out by the first restore(); any apply drops it.
  mutable std::optional<Restored> restored_;
};

} // namespace flo::pool
