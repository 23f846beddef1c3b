/// \file
/// A whole pool in one process on the simulated network (sim/): n replicas (the consensus core
/// unchanged, each with an in-memory store that survives its crashes), clients that submit
/// signed transactions and collect replies, and byzantine hooks (a replica's outgoing messages,
/// twins sharing a replica's key, the network tap). Runs are fixed by their seed.
///
/// Messages travel as their canonical encoding (pool/wire/message.h), one per datagram: the
/// transport's encryption and segmentation are tested on their own (core/transport) and are not
/// what these tests are about. A replica knows a peer by its address, as the transport would by
/// its DID; twins are two nodes at two addresses that both speak as one replica.
#pragma once

#include "pool/sim/memory_store.h"
#include "sim/network.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace flo::pool {

struct ClusterOptions {
  std::size_t replicas = 4;
  PoolParams params;
  std::size_t accounts = 8;          ///< client accounts funded at genesis
  std::uint64_t balance = 1'000'000; ///< each
  std::uint64_t seed = 1;
  /// Twins (POOL-TESTING §3.1): for each index listed, a second node with that replica's key at
  /// another address.
  std::vector<ReplicaIndex> twins;
  sim::LinkConfig link; ///< every link's default
  /// A replica's wall clock ahead (+) or behind (-) the others, in ms (POOL-TESTING F15).
  std::map<ReplicaIndex, std::int64_t> clockSkewMs;
  /// The most snapshot bytes a replica sends in one message (Replica::setSnapshotPartBytes);
  /// 0: the replicas' default, under which a simulated pool's small ledger goes whole.
  std::size_t snapshotPartBytes = 0;
};

/// One transaction a client submitted, and what it heard.
struct Submission {
  Digest id{};
  Bytes encoded;
  AccountId from{};
  std::uint64_t nonce = 0;
  std::map<std::size_t, TxStatus> replies; ///< by replica node
  core::Time sentAt{};
  std::optional<core::Time> ackedAt; ///< f+1 matching Committed replies
  std::uint64_t ackedHeight = 0;     ///< the height they named
};

class Cluster {
public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();

  const Genesis& genesis() const { return genesis_; }
  sim::Network& net() { return *net_; }
  std::size_t replicaCount() const { return options_.replicas; }
  /// Nodes: replicas 0..n-1, then twins, then the client.
  std::size_t nodeOfReplica(ReplicaIndex r) const { return r; }
  std::size_t nodeCount() const { return replicaNodes_.size(); }
  /// The replica (core) of a node, while it is up.
  Replica& replica(std::size_t node);
  MemoryStore& store(std::size_t node) { return *stores_.at(node); }
  ReplicaIndex indexOf(std::size_t node) const { return indexOfNode_.at(node); }
  bool isTwin(std::size_t node) const { return node >= options_.replicas; }

  /// Signs the next transaction of client account `account` (a transfer to the next account)
  /// and submits it to every replica (or only those listed).
  Digest submitTransfer(std::size_t account, std::uint64_t amount,
                        const std::vector<std::size_t>& toNodes = {});
  /// Submits raw bytes as a client would (garbage, forgeries).
  void submitRaw(const Bytes& tx, const std::vector<std::size_t>& toNodes = {});
  /// Sends every submission not yet acknowledged again (as a client does after a while), to
  /// the replicas it has not heard a commit from.
  void resubmitUnacknowledged();
  const std::vector<Submission>& submissions() const { return submissions_; }
  std::size_t acknowledged() const;
  const core::SigningKey& accountKey(std::size_t account) const { return accounts_.at(account); }

  /// Runs until every submission is acknowledged, or `limit` of virtual time passes.
  bool runUntilAcknowledged(std::chrono::milliseconds limit);
  bool runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit);
  void runFor(std::chrono::milliseconds span);

  /// A message on its way out of a replica: to one replica, or to all (nullopt).
  struct Routed {
    std::optional<ReplicaIndex> to;
    Message message;
  };
  /// A byzantine strategy (POOL-TESTING §5.3 (d), concord's IByzantineStrategy): sees each
  /// message a node sends and returns what to send instead (nothing, the same, changed copies,
  /// or different messages to different replicas). Kept across the node's restarts.
  using Strategy = std::function<std::vector<Routed>(const Routed&)>;
  void setStrategy(std::size_t node, Strategy strategy) { strategies_[node] = std::move(strategy); }
  /// A replica's signing key (for strategies that sign what they change).
  const core::SigningKey& replicaKey(ReplicaIndex r) const { return replicaKeys_.at(r); }
  void crash(std::size_t node) { net_->crash(node); }
  /// Restarts a node from its store (or from nothing, with `wipe`: a lost disk).
  void restart(std::size_t node, bool wipe = false);

  /// Replica nodes in different groups cannot reach each other (both ways); the clients still
  /// reach every replica. Replaces the previous split.
  void split(const std::vector<std::vector<std::size_t>>& groups);
  void heal();

  /// Where a replica came back from a crash below a height it had told a client (a commit
  /// reply's or a query answer's): the node, and what happened. None in a correct run (S8).
  const std::vector<std::pair<std::size_t, std::string>>& forgottenAnswers() const {
    return forgotten_;
  }

  /// Every committed height on which the nodes in `nodes` (default: every replica node that is
  /// not a twin) agree.
  std::uint64_t commonHeight(const std::vector<std::size_t>& nodes = {}) const;
  /// One line per node: round, view, height, counters (for a failing run to explain itself).
  std::string describe();

private:
  class ReplicaNode;
  class ClientNode;
  std::unique_ptr<sim::Node> makeReplica(std::size_t node, const sim::NodeContext& ctx);
  void onReply(std::size_t fromNode, const Message& m);
  /// What replica node `fromNode` says of one transaction.
  void onStatus(std::size_t fromNode, const TxStatus& status);
  /// A message a replica node sends a client (the heights it reports).
  void noteAnswer(std::size_t node, const Message& m);

  ClusterOptions options_;
  Genesis genesis_;
  std::vector<core::SigningKey> replicaKeys_;
  std::vector<core::SigningKey> accounts_;
  std::vector<std::uint64_t> nonces_;
  std::unique_ptr<sim::Network> net_;
  std::vector<std::size_t> replicaNodes_;
  std::map<std::size_t, ReplicaIndex> indexOfNode_;
  std::vector<std::unique_ptr<MemoryStore>> stores_;
  std::map<std::size_t, Strategy> strategies_;
  std::set<std::size_t> wipeOnStart_;
  std::set<std::pair<std::size_t, std::size_t>> blocked_;
  std::size_t clientNode_ = 0;
  std::vector<Submission> submissions_;
  std::map<Digest, std::size_t> submissionOf_;
  std::map<std::size_t, std::uint64_t> told_; ///< the highest height each node told a client
  std::vector<std::pair<std::size_t, std::string>> forgotten_;
};

} // namespace flo::pool
