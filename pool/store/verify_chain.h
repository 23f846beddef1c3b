/// \file
/// Verifying a replica's stored chain trusting nothing but the genesis (what `fog pool
/// verify-chain DIR` runs): a third party, given the store file, learns whether it holds a chain
/// the pool's committee committed and the state it leads to, or where it first goes wrong.
///
/// Checked, in height order, for every committed block: heights contiguous from 1 and hash
/// links (header.parent is the block below's id); the proposal signed by the leader of its view,
/// its round and view following from its justification (a QC of the round before, or a timeout
/// certificate, as the core checks them); its justification certifies the parent and its own QC
/// certifies it (Committee::verify with the genesis committee); the header's executed root
/// claims match the stored roots; the transactions decode, are distinct, match the tx root and
/// (by default) carry their senders' signatures; re-executing them on a fresh Ledger(genesis)
/// conserves the supply and gives the stored results and state root; and its commit proof (a
/// certified child of the next round whose parent is this block or the last block committed
/// with it). Every stable checkpoint carries a quorum of signatures over its root, equal to the
/// chain's, and its snapshot, when kept, is exactly the re-executed ledger. A gap in the heights
/// is allowed where a state transfer left it: the block above it (the base) must be a stable
/// checkpoint's, with its snapshot; the base is checked but for what follows from its parent
/// (not held), is not executed, and the chain above it re-executes from its snapshot, whose
/// root is the base's and the checkpoint quorum's. The file passes
/// PRAGMA integrity_check first; the safety state and pending blocks must decode.
#pragma once

#include "pool/wire/genesis.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace flo::pool {

struct VerifyOptions {
  /// Also check every transaction's client signature (a committed block's transactions were
  /// checked by a quorum; this trusts no quorum with them).
  bool txSignatures = true;
};

/// The first thing found wrong.
struct VerifyProblem {
  std::uint64_t height = 0; ///< the block or checkpoint it concerns; 0 for the file as a whole
  std::string table;        ///< "blocks", "checkpoints", "meta", ...; empty for the file
  std::string reason;       ///< for people: what was expected and what was found
  bool operator==(const VerifyProblem&) const = default;
};

struct VerifyReport {
  std::string path;                 ///< the store file read
  Digest chain{};                   ///< the chain id verified against
  std::uint64_t storedHeight = 0;   ///< the highest committed block stored
  std::uint64_t verifiedHeight = 0; ///< blocks 1..verifiedHeight passed every check
  std::uint64_t blocks = 0;         ///< blocks verified (verifiedHeight less the gaps)
  /// Heights not held, first and last of each: skipped by a state transfer (the block above
  /// each is a stable checkpoint's, and the chain goes on from its snapshot).
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;
  std::uint64_t txs = 0;             ///< transactions in them
  std::uint64_t appliedTxs = 0;      ///< of which applied (the rest were refused by execution)
  std::uint64_t checkpoints = 0;     ///< stable checkpoints verified
  std::uint64_t signatureChecks = 0; ///< consensus signatures checked (votes, proposals, ...)
  Digest stateRoot{};                ///< the state after verifiedHeight
  std::optional<VerifyProblem> problem;
  bool ok() const { return !problem; }
  /// The report as a JSON object (digests in hex; "problem" null when there is none).
  std::string toJson(int indent = 2) const;
};

/// Verifies the store at `dbPath` (a store file, or a data directory holding
/// SqliteStore::kFileName) against `genesis`, or, when null, against the genesis stored in the
/// file (whose chain id must then match the one stored with it). Opens the file read-only, so
/// it may run beside the replica using it. Never throws; every failure, including a file that
/// cannot be opened, is the report's problem.
VerifyReport verifyChain(const std::string& dbPath, const Genesis* genesis = nullptr,
                         const VerifyOptions& options = {});

} // namespace flo::pool
