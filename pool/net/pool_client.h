/// \file
/// A client of the pool on the encrypted transport: what `fog account`, `fog status`, `fog
/// stake` and the benchmark use. It sends to every replica and believes only what f+1 of them
/// say alike (at least one is correct): a transaction is committed when f+1 replicas report it
/// committed at the same height with the same outcome and state root; an account's state is
/// what a quorum (n-f) of replicas report identically.
///
/// Why a quorum for reads: a client reads its own writes. An acknowledged transaction is
/// committed at f+1 replicas, and the others may still be behind (a follower commits a block
/// one message later than the leader; a restarted replica answers from its old state while it
/// catches up). Two such replicas agree on the old state of the account, so f+1 of them could
/// give the nonce already used, and the next transaction, signed with it, would be the same
/// bytes as the one before: the pool answers "committed" for the old one, and a second transfer
/// is acknowledged but never applied. n-f answers include one of the f+1 that committed (with
/// crash faults; a Byzantine replica in that intersection can still answer stale).
#pragma once

#include "core/net/udp_node.h"
#include "pool/wire/message.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flo::pool {

struct SubmitOutcome {
  bool committed = false; ///< false: refused before ordering (error says why)
  bool applied = false;   ///< committed and applied (false: refused by execution)
  std::uint64_t height = 0;
  Digest stateRoot{};
  Digest tx{};
  std::string error;
};

class PoolClient {
public:
  /// Speaks through `node` (which must outlive the client) to the replicas of `genesis`.
  PoolClient(core::UdpNode& node, Genesis genesis);

  /// Submits an encoded transaction to every replica and waits for f+1 matching answers
  /// (Committed, or Refused with the same reason). nullopt, with why, when none came within
  /// `timeout` (it names how many replicas answered what).
  std::optional<SubmitOutcome> submit(const Bytes& tx, std::chrono::milliseconds timeout,
                                      std::string& error);
  /// The same in two halves, so that a caller can work while the pool orders the transaction:
  /// post() sends it to every replica; await() waits for its outcome as submit() does (sending
  /// it again now and then). Nothing else may use the client in between (a query forgets the
  /// answers that came).
  void post(const Bytes& tx);
  std::optional<SubmitOutcome> await(const Bytes& tx, std::chrono::milliseconds timeout,
                                     std::string& error);
  /// The account's state (or, without an account, any state) as n-f replicas report it alike
  /// (see the file comment); asked again every 500 ms until they agree or `timeout` passes.
  /// With `contract`, the answers also carry that contract's state, held tokens and source.
  std::optional<QueryAnswer> query(const std::optional<AccountId>& account,
                                   std::chrono::milliseconds timeout, std::string& error,
                                   const std::optional<std::string>& contract = std::nullopt);
  /// The same for any query (its id is set here): an order, the providers, ...
  std::optional<QueryAnswer> ask(Query q, std::chrono::milliseconds timeout, std::string& error);
  /// Every replica's own answer to a status query (nullopt for one that did not answer).
  std::vector<std::optional<QueryAnswer>> status(std::chrono::milliseconds timeout);

  /// The next nonce of `account` (its committed nonce, from query()).
  std::optional<std::uint64_t> nextNonce(const AccountId& account,
                                         std::chrono::milliseconds timeout, std::string& error);
  const Genesis& genesis() const { return genesis_; }

private:
  void sendAll(const Message& m);
  void onDelivery(const core::Delivery& d);

  core::UdpNode& node_;
  Genesis genesis_;
  std::map<std::string, ReplicaIndex, std::less<>> byDid_;
  std::map<ReplicaIndex, Message> answers_; ///< the latest from each replica
  std::uint64_t nextQuery_ = 1;
};

} // namespace flo::pool
