/// \file
/// The genesis of a pool: its replicas (DID, signing key, address), the initial accounts and
/// the parameters every replica must agree on. Its canonical encoding's digest is the chain id,
/// which every transaction and every consensus signature carries, so nothing signed for one pool
/// counts in another. On disk it is JSON, for people to read and edit; the digest is over the
/// canonical encoding, whatever the JSON's spacing.
#pragma once

#include "pool/wire/tx.h"

#include <optional>
#include <string>
#include <vector>

namespace flo::pool {

using ReplicaIndex = std::uint32_t;

struct ReplicaInfo {
  std::string did;  ///< the replica's did:difuon (or did:key), as the transport names it
  PublicKey key{};  ///< the key that signs its votes
  std::string host; ///< where it listens (numeric)
  std::uint16_t port = 0;
  bool operator==(const ReplicaInfo&) const = default;
};

struct GenesisAccount {
  std::string name; ///< a label for people ("genesis", "alice"); not part of the state
  AccountId account{};
  std::uint64_t balance = 0;
  bool operator==(const GenesisAccount&) const = default;
};

/// What every replica must agree on besides the replicas and accounts.
struct PoolParams {
  std::uint32_t maxBlockTxs = 512; ///< a block's size cap
  /// The leader proposes a partial block after this long (0: at once, no timer). With one block
  /// in flight at a time, what comes while it is certified makes the next block anyway; 200 µs
  /// measured 25 % less latency than 1 ms at half load with the same throughput
  /// (docs/benchmarks.md).
  std::uint32_t flushMicros = 200;
  std::uint32_t roundTimeoutMs = 500; ///< a round without progress times out (doubling per
                                      ///< consecutive timeout, to maxRoundTimeoutMs)
  std::uint32_t maxRoundTimeoutMs = 8000;
  std::uint64_t termRounds = 100000; ///< rounds per leader term (leaders also rotate this often)
  std::uint64_t checkpointInterval = 128;    ///< blocks between checkpoints
  std::uint64_t unstakeLockBlocks = 64;      ///< blocks an unstaked amount stays locked
  std::uint32_t maxMempool = 100000;         ///< transactions waiting, per replica
  std::uint32_t maxPendingPerAccount = 1024; ///< of them from one account (Aardvark: quotas)
  bool operator==(const PoolParams&) const = default;
};

struct Genesis {
  std::string name;
  std::uint64_t timeMs = 0; ///< block time of the genesis (ms since the Unix epoch)
  std::vector<ReplicaInfo> replicas;
  std::vector<GenesisAccount> accounts;
  PoolParams params;

  /// The largest number of faulty replicas tolerated: (n - 1) / 3.
  std::size_t faults() const { return (replicas.size() - 1) / 3; }
  /// Votes that make a certificate: n - f (2f + 1 when n = 3f + 1); any two such sets share an
  /// honest replica.
  std::size_t quorum() const { return replicas.size() - faults(); }
  /// The total supply: the sum of the initial balances (checked not to overflow).
  std::uint64_t supply() const;

  Bytes encode() const;
  static std::optional<Genesis> decode(const Bytes& data, std::string* error = nullptr);
  /// The chain id: BLAKE2b-256 of encode().
  Digest chainId() const;
  /// Checks what a pool needs: at least one replica, distinct keys and DIDs, addresses, no
  /// overflow in the supply, sane parameters. False with the first problem.
  bool validate(std::string* error) const;

  std::string toJson() const;
  static std::optional<Genesis> fromJson(const std::string& text, std::string* error = nullptr);
  bool operator==(const Genesis&) const = default;
};

} // namespace flo::pool
