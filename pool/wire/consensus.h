/// \file
/// What replicas sign and exchange to agree on blocks (pool/core explains the protocol; this
/// file is only the data): block headers, votes and the quorum certificates they make,
/// timeouts and the timeout certificates they make, and proposals.
///
/// Every signature covers a canonical record that names the chain id, what kind of statement it
/// is, and its fields, so no signature can be replayed as another statement or on another pool:
///   vote     ["vote",     chain, block id, round, height]   by each voter
///   timeout  ["timeout",  chain, round, high QC round, view] by each replica that timed out
///   proposal ["proposal", chain, block id]                  by the round's leader
/// A block's id is the BLAKE2b-256 of its header's encoding; the header names its parent, its
/// transactions (by the digest of their ids) and the state after the last block its proposer had
/// executed, so a chain of headers with their certificates verifies without trusting who served it.
#pragma once

#include "pool/wire/genesis.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::pool {

struct BlockHeader {
  Digest chain{};
  std::uint64_t height = 0; ///< 0 is the genesis block
  std::uint64_t round = 0;
  std::uint64_t view = 0; ///< its leader is replica view mod n (pool/core explains views)
  Digest parent{};
  ReplicaIndex proposer = 0;
  std::uint64_t timeMs = 0;         ///< the agreed block time: not before the parent's
  Digest txRoot{};                  ///< txRootOf(the block's transaction ids)
  std::uint64_t executedHeight = 0; ///< the last block the proposer had executed...
  Digest executedRoot{};            ///< ...and the state root after it
  Value::Map toMap() const;
  static BlockHeader read(Fields& f);
  Digest id() const;
  bool operator==(const BlockHeader&) const = default;
};

/// The header of height 0: it names the chain and the genesis state.
BlockHeader genesisHeader(const Genesis& genesis, const Digest& genesisStateRoot);

/// The digest of a block's transaction ids, in order.
Digest txRootOf(const std::vector<Digest>& ids);

struct SignedBy {
  ReplicaIndex replica = 0;
  Signature signature{};
  bool operator==(const SignedBy&) const = default;
};

/// 2f+1 votes for one block in one round. The genesis block's certificate has no votes.
/// A signature by a replica as the records hold it: [replica, signature]; false when `v` is not
/// one.
Value signedByValue(const SignedBy& s);
bool readSignedBy(const Value& v, SignedBy& out);

struct QuorumCert {
  Digest block{};
  std::uint64_t round = 0;
  std::uint64_t height = 0;
  std::vector<SignedBy> votes; ///< sorted by replica, distinct
  bool isGenesis() const { return round == 0 && height == 0 && votes.empty(); }
  Value::Map toMap() const;
  static QuorumCert read(Fields& f);
  bool operator==(const QuorumCert&) const = default;
};

struct Vote {
  Digest block{};
  std::uint64_t round = 0;
  std::uint64_t height = 0;
  SignedBy by;
  Value::Map toMap() const;
  static Vote read(Fields& f);
  bool operator==(const Vote&) const = default;
};

struct TimeoutCert;

struct Timeout {
  std::uint64_t round = 0;
  std::uint64_t view = 0; ///< the view the sender was in, in that round
  QuorumCert highQc;      ///< the highest certificate the sender holds
  SignedBy by;
  /// The TC that took the sender into this round, if one did (not signed: it carries its own
  /// signatures): a replica that missed it catches up from here (DiemBFT's last-round TC).
  std::shared_ptr<const TimeoutCert> lastTc;
  Value::Map toMap() const;
  static Timeout read(Fields& f);
  bool operator==(const Timeout& o) const;
};

/// 2f+1 timeouts for one round; each entry names the round of its sender's high QC and the
/// view it was in.
struct TimeoutCert {
  struct Entry {
    SignedBy by;
    std::uint64_t highQcRound = 0;
    std::uint64_t view = 0;
    bool operator==(const Entry&) const = default;
  };
  std::uint64_t round = 0;
  std::vector<Entry> entries; ///< sorted by replica, distinct
  std::uint64_t maxHighQcRound() const;
  /// The view the round was in, as the certificate attests it: the (f+1)-th highest of the
  /// entries' views, so the f faulty senders can neither raise nor lower it past every honest
  /// one. The round after the certificate is in the view after this one.
  std::uint64_t view(std::size_t faults) const;
  Value::Map toMap() const;
  static TimeoutCert read(Fields& f);
  bool operator==(const TimeoutCert&) const = default;
};

struct Proposal {
  BlockHeader header;
  std::vector<Bytes> txs;        ///< encoded transactions
  QuorumCert justify;            ///< certifies header.parent
  std::optional<TimeoutCert> tc; ///< when the previous round timed out
  Signature signature{};         ///< the proposer's, over proposalMessage
  Value::Map toMap() const;
  static Proposal read(Fields& f, std::size_t maxTxs);
  bool operator==(const Proposal&) const = default;
};

/// The bytes each kind of signature covers.
Bytes voteMessage(const Digest& chain, const Digest& block, std::uint64_t round,
                  std::uint64_t height);
Bytes timeoutMessage(const Digest& chain, std::uint64_t round, std::uint64_t highQcRound,
                     std::uint64_t view);
Bytes proposalMessage(const Digest& chain, const Digest& block);
/// What a checkpoint signs.
Bytes checkpointMessage(const Digest& chain, std::uint64_t height, const Digest& stateRoot);

/// The replicas' keys, and checks of signatures and certificates against them.
class Committee {
public:
  explicit Committee(const Genesis& genesis);
  std::size_t size() const { return keys_.size(); }
  std::size_t quorum() const { return quorum_; }
  std::size_t faults() const { return keys_.size() - quorum_; }
  const Digest& chain() const { return chain_; }
  const PublicKey& key(ReplicaIndex i) const { return keys_.at(i); }
  /// Whether a certificate carries a quorum of distinct, valid votes (the genesis certificate
  /// is valid for the genesis block alone). False, with why, otherwise. A vote for which
  /// `verified` answers true is taken as verified already (the caller checked that very
  /// signature on that very statement: a vote it received).
  bool verify(const QuorumCert& qc, std::string* why = nullptr,
              const std::function<bool(const SignedBy&)>& verified = {}) const;
  bool verify(const TimeoutCert& tc, std::string* why = nullptr) const;
  bool verify(const Vote& vote) const;
  bool verify(const Timeout& timeout) const;
  bool verifyProposal(const Proposal& p) const;
  /// Whether `signatures` make a stable checkpoint of `stateRoot` at `height`: distinct
  /// replicas of the committee, each valid (checkpointMessage), a quorum of them. False, with
  /// why, otherwise.
  bool verifyCheckpoint(std::uint64_t height, const Digest& stateRoot,
                        const std::vector<SignedBy>& signatures, std::string* why = nullptr) const;
  std::uint64_t signatureChecks() const { return checks_; }

private:
  Digest chain_{};
  Digest genesisBlock_{};
  std::vector<PublicKey> keys_;
  std::size_t quorum_ = 0;
  mutable std::uint64_t checks_ = 0;

public:
  /// The id of the genesis block, the one block certified without votes.
  void setGenesisBlock(const Digest& id) { genesisBlock_ = id; }
};

} // namespace flo::pool
