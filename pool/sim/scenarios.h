/// \file
/// The fault matrix (POOL-TESTING §5.3) as named scenarios on a simulated pool: each builds a
/// cluster from a seed, runs a load while it injects its fault, and returns the checkers'
/// verdicts (S1-S8) and a liveness verdict (L1: every transaction submitted to the correct
/// replicas is acknowledged within the scenario's budget of virtual time, once its faults
/// stop). `fog pool sim --scenario NAME --seed N` runs one; the tests run every one from many
/// seeds. The negative control, `twins-negative-control`, puts more than f twins in the pool:
/// its checkers must find a violation, or the harness could not see one.
#pragma once

#include "pool/sim/checkers.h"

#include <functional>
#include <string>
#include <vector>

namespace flo::pool {

struct ScenarioResult {
  std::string scenario;
  std::uint64_t seed = 0;
  std::size_t replicas = 0;
  std::vector<Verdict> verdicts; ///< S1-S8, then L1
  std::uint64_t committedHeight = 0;
  std::size_t submitted = 0, acknowledged = 0;
  double virtualSeconds = 0;
  std::uint64_t traceDigest = 0;
  std::string notes; ///< what the scenario measured (e.g. time to the first commit after a crash)
  bool holds() const { return allHold(verdicts); }
};

struct Scenario {
  std::string name;
  std::string description;
  /// Replica counts it is meant for (the first is the default).
  std::vector<std::size_t> replicas;
  /// True for the negative control: a run "passes" when a checker reports a violation.
  bool expectViolation = false;
  std::function<ScenarioResult(std::uint64_t seed, std::size_t replicas)> run;
};

/// Every scenario, in a fixed order.
const std::vector<Scenario>& scenarios();
const Scenario* findScenario(const std::string& name);

/// A forged copy of a genuine state transfer, one lie of three by `variant` (mod 3): another
/// ledger under the signed root (one unit moved between the first two accounts: it conserves
/// the supply and decodes); that ledger with its own root (the quorum signed another); the
/// signatures cut below a quorum. The byzantine snapshot server of `lying-snapshot`, and tests.
SnapshotResponse forgedSnapshot(const SnapshotResponse& genuine, const Genesis& genesis,
                                std::uint64_t variant);

/// The result as JSON (for `fog pool sim --json`).
std::string toJson(const ScenarioResult& result);

} // namespace flo::pool
