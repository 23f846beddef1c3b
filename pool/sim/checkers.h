/// \file
/// The always-on checkers of the fault matrix (POOL-TESTING §5.3), over a simulated pool's
/// stores and clients:
///   S1 agreement       the same block at every height on every correct replica
///   S2 determinism     the same state root after every block
///   S3 conservation    balances + stake + unbonding = supply after every block (re-executed)
///   S4 exactly-once    each (sender, nonce) applied at most once
///   S5 no lost acks    every transaction a client saw committed (f+1 matching replies) is in
///                      the chain of every correct replica that reached its height
///   S6 no double sign  no correct replica voted for two blocks in one round (its signing log)
///   S7 verify once     no replica verified more client signatures than there were distinct
///                      transactions
///   S8 durable answers no correct replica came back from a crash below a height it had told a
///                      client (a commit reply's, a query answer's): see pool/core/outbox.h
/// A checker that finds a violation says where, so a failing seed explains itself.
#pragma once

#include "pool/sim/cluster.h"

#include <set>
#include <string>
#include <vector>

namespace flo::pool {

struct Verdict {
  std::string checker; ///< "S1 agreement", ...
  bool ok = true;
  std::string detail; ///< what was violated, where; or what was checked
};

/// Runs every checker over the nodes in `correct` (replica nodes, not twins and not byzantine).
/// `distinctTxs`: how many distinct valid transactions the test made (for S7).
std::vector<Verdict> checkSafety(Cluster& cluster, const std::set<std::size_t>& correct,
                                 std::size_t distinctTxs);

/// Whether every verdict holds.
bool allHold(const std::vector<Verdict>& verdicts);

} // namespace flo::pool
