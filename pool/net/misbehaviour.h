/// \file
/// Faults a replica daemon commits when its config says so (`"misbehave"` in `fog pool run`'s
/// config): the byzantine replica of `fog bench pool --fault slow-leader|forger`, on real
/// processes. A replica of a real pool never sets it. It starts when the process gets SIGUSR1,
/// so that a benchmark can turn one replica byzantine once its load runs (the daemon logs it).
/// Each acts at the daemon's send edge, after the core: the consensus core runs correct code, as
/// under the simulator's byzantine strategies (pool/sim/scenarios.cpp), and only what leaves the
/// process is changed or added.
///
///   slow-proposals:MS  every proposal it sends leaves MS ms late: a slow-but-live leader (just
///                      under the round timeout, so no round of its times out)
///   forge-votes:RATE   besides what it sends, RATE votes a second to each other replica, for
///                      the round it is in and the two after, of random blocks and with random
///                      signatures of a canonical shape: each costs its receiver a full signature
///                      check unless the forger is muted (or already voted in that round)
#pragma once

#include "pool/core/effects.h"

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace flo::pool {

struct Misbehaviour {
  enum class Kind : std::uint8_t { None, SlowProposals, ForgeVotes };
  Kind kind = Kind::None;
  std::uint64_t amount = 0; ///< slow-proposals: ms; forge-votes: votes a second to each peer

  /// "slow-proposals:MS" (1-60000) or "forge-votes:RATE" (1-100000); nullopt with why for
  /// anything else.
  static std::optional<Misbehaviour> parse(std::string_view spec, std::string* error);
  std::string toString() const;
};

/// What a misbehaving daemon holds back and adds: it sees every message the daemon sends to
/// replicas, and is asked at each loop turn for what is due.
class Misbehaving {
public:
  using Clock = std::chrono::steady_clock;
  using Time = Clock::time_point;
  explicit Misbehaving(Misbehaviour what, std::uint64_t seed) : what_(what), rng_(seed) {}

  /// From now on it misbehaves (before, it holds nothing back and adds nothing).
  void start() { started_ = true; }
  bool started() const { return started_; }
  /// True when the daemon must not send `message` now: it is held (and comes back from due()).
  bool hold(const Message& message, std::optional<ReplicaIndex> to, Time now);
  /// A message to send now: to one replica, or to every other (nullopt).
  struct Out {
    std::optional<ReplicaIndex> to;
    Message message;
  };
  /// What is due at `now`: held messages whose time came, and forgeries (for `round`, from
  /// replica `self` of `replicas`).
  std::vector<Out> due(Time now, std::uint64_t round, ReplicaIndex self, std::size_t replicas);
  /// When due() next has something; nullopt: nothing planned.
  std::optional<Time> next(Time now) const;

private:
  Misbehaviour what_;
  bool started_ = false;
  std::mt19937_64 rng_;
  std::deque<std::pair<Time, Out>> held_; ///< in the order they were held (each held as long)
  std::optional<Time> lastForgery_;
  std::uint64_t credit_ = 0; ///< forgeries owed to each peer, in millionths
  static constexpr auto kForgeEvery = std::chrono::milliseconds(10);
};

} // namespace flo::pool
