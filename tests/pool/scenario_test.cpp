/// \file
/// Every scenario of the fault matrix (pool/sim/scenarios.h), at each replica count it is meant
/// for, from several seeds (FLO_POOL_SEEDS=N for more), plus the seeds that ever failed, pinned.
/// The negative control must be caught.
#include "pool/sim/scenarios.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace flo::pool {
namespace {

/// Seeds that once failed a scenario: they stay, so a regression shows at once.
/// (Each found a bug while the pool was written: the seed, and what it was.)
const std::map<std::string, std::vector<std::uint64_t>> kPinned = {
    // a replica behind with no proposal coming never asked again (sync retry timer)
    {"crash-restart", {2}},
    // a replayed submission overwrote a client's commit reply (ack height lost)
    {"replayed-messages", {1}},
    // the two halves never learned each other's TC after the heal (timeouts carry the last TC)
    {"even-split", {1}},
    // replicas restarted in rounds one apart, no TC either side (f+1 timeouts move a replica)
    {"restart-all", {1}},
    // client replies lost with no resend (the client resends, replicas answer from recent
    // commits)
    {"lossy-20", {1}},
    // with no flush time, a round timeout's new round armed the flush timer at `now`, which
    // the pacemaker forbids (a flush time of 0 now arms no timer)
    {"lossy-5", {8403}},
};

std::vector<std::uint64_t> seedsFor(const std::string& name) {
  std::uint64_t count = 3;
  if (const char* env = std::getenv("FLO_POOL_SEEDS")) count = std::strtoull(env, nullptr, 10);
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t s = 1; s <= count; ++s) seeds.push_back(s);
  if (auto p = kPinned.find(name); p != kPinned.end())
    seeds.insert(seeds.end(), p->second.begin(), p->second.end());
  return seeds;
}

class ScenarioTest : public testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, HoldsFromEverySeed) {
  const Scenario* s = findScenario(GetParam());
  ASSERT_NE(s, nullptr);
  for (std::size_t n : s->replicas) {
    for (std::uint64_t seed : seedsFor(s->name)) {
      ScenarioResult r = s->run(seed, n);
      std::string replay = "replay: build/bin/fog pool sim --scenario " + s->name + " --seed " +
                           std::to_string(seed) + " --replicas " + std::to_string(n);
      if (s->expectViolation) {
        EXPECT_FALSE(r.holds()) << "the negative control was not caught; " << replay;
        continue;
      }
      for (const Verdict& v : r.verdicts)
        EXPECT_TRUE(v.ok) << s->name << " n=" << n << " seed " << seed << ": " << v.checker << ": "
                          << v.detail << "\n"
                          << replay << "\n"
                          << r.notes;
    }
  }
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& s : scenarios()) out.push_back(s.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(FaultMatrix, ScenarioTest, testing::ValuesIn(names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

} // namespace
} // namespace flo::pool
