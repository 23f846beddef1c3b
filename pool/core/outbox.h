/// \file
/// The order in which a replica's effects reach its store and the network, as a policy without
/// I/O that the daemon (pool/net) and the simulator (pool/sim) share: the simulated fault
/// matrix crashes a replica exactly where a real one can lose what it had not written.
///
/// - Messages marked Leave::Early depend on nothing durable: they leave first (effects.h).
/// - What a vote relies on (PersistSafety, StoreBlock) is written, with the commits kept since
///   the last write, before any message after it leaves: one transaction, one sync.
/// - Commits and checkpoints alone hold back no message to a replica (effects.h): they are kept
///   for the next write (a vote comes about once a round), which saves a sync per round.
/// - A message to a client leaves only once every commit before it is durable. A commit reply
///   or a query answer reports the ledger at some height, and a replica must never come back
///   from a crash below a height it told a client: the f+1 replicas that acknowledged a
///   transfer would otherwise restart without it, and a quorum of them could answer a read as
///   if it had never happened (until the pool committed it again). Answers that wait for a
///   commit make the write due soon (kHoldAnswers) rather than wait out kKeepCommits for a vote.
#pragma once

#include "pool/core/replica.h"

#include <chrono>
#include <optional>
#include <vector>

namespace flo::pool {

class Outbox {
public:
  /// What the layer above does next, in this order: send `first`; write `write` if it is not
  /// empty (ReplicaStore::applyDurable), and if the write fails send nothing more; send
  /// `after`. Each holds effects in the core's order.
  struct Step {
    std::vector<Effect> first; ///< messages that leave before the write
    std::vector<Effect> write; ///< durable effects to write now, together
    std::vector<Effect> after; ///< messages that leave once the write is durable
  };

  /// Commits wait at most this long for a vote's write when no client waits for them...
  static constexpr std::chrono::milliseconds kKeepCommits{20};
  /// ...and at most this long when an answer to a client waits for them.
  static constexpr std::chrono::milliseconds kHoldAnswers{1};

  /// The step for a batch of the core's effects (Replica::takeEffects()).
  Step take(std::vector<Effect> effects, Time now);
  /// Everything kept, to write now, and the answers that waited for it (when due(), before the
  /// store is read for a peer, and when the replica stops). Empty when nothing is kept.
  Step writeKept();
  /// When writeKept() must run, if something is kept.
  std::optional<Time> due() const;
  bool keeping() const { return !kept_.empty(); }

private:
  std::vector<Effect> kept_; ///< durable effects not written yet
  std::vector<Effect> held_; ///< client messages that wait for them
  Time keptSince_{};
  Time heldSince_{};
};

} // namespace flo::pool
