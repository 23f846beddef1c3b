/// \file
/// A daemon's faults on purpose (misbehaviour.h).
#include "pool/net/misbehaviour.h"

#include "core/check.h"

#include <charconv>

namespace flo::pool {

std::optional<Misbehaviour> Misbehaviour::parse(std::string_view spec, std::string* error) {
  auto fail = [&](const std::string& why) -> std::optional<Misbehaviour> {
    if (error) *error = "misbehave: " + why;
    return std::nullopt;
  };
  auto colon = spec.find(':');
  if (colon == std::string_view::npos)
    return fail("expected slow-proposals:MS or forge-votes:RATE, got '" + std::string(spec) + "'");
  std::string_view name = spec.substr(0, colon), number = spec.substr(colon + 1);
  Misbehaviour m;
  std::uint64_t max = 0;
  if (name == "slow-proposals") {
    m.kind = Kind::SlowProposals;
    max = 60'000;
  } else if (name == "forge-votes") {
    m.kind = Kind::ForgeVotes;
    max = 100'000;
  } else {
    return fail("unknown fault '" + std::string(name) +
                "' (expected slow-proposals or forge-votes)");
  }
  auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), m.amount);
  if (ec != std::errc() || end != number.data() + number.size() || m.amount == 0 || m.amount > max)
    return fail("expected a whole number from 1 to " + std::to_string(max) + " after '" +
                std::string(name) + ":', got '" + std::string(number) + "'");
  return m;
}

std::string Misbehaviour::toString() const {
  switch (kind) {
  case Kind::SlowProposals:
    return "slow-proposals:" + std::to_string(amount);
  case Kind::ForgeVotes:
    return "forge-votes:" + std::to_string(amount);
  case Kind::None:
    break;
  }
  return "";
}

bool Misbehaving::hold(const Message& message, std::optional<ReplicaIndex> to, Time now) {
  if (!started_ || what_.kind != Misbehaviour::Kind::SlowProposals ||
      !std::holds_alternative<ProposalMsg>(message))
    return false;
  held_.push_back({now + std::chrono::milliseconds(what_.amount), Out{to, message}});
  return true;
}

std::vector<Misbehaving::Out> Misbehaving::due(Time now, std::uint64_t round, ReplicaIndex self,
                                               std::size_t replicas) {
  std::vector<Out> out;
  while (!held_.empty() && held_.front().first <= now) {
    out.push_back(std::move(held_.front().second));
    held_.pop_front();
  }
  if (!started_ || what_.kind != Misbehaviour::Kind::ForgeVotes) return out;
  if (!lastForgery_) lastForgery_ = now;
  auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(now - *lastForgery_);
  if (elapsed < kForgeEvery) return out;
  // The votes this interval owes each peer, the fraction of one carried to the next (at most a
  // second's worth at once).
  credit_ = std::min<std::uint64_t>(credit_ + what_.amount * std::uint64_t(elapsed.count()),
                                    what_.amount * 1'000'000);
  std::uint64_t owed = credit_ / 1'000'000;
  credit_ -= owed * 1'000'000;
  lastForgery_ = now;
  for (ReplicaIndex to = 0; to < replicas; ++to) {
    if (to == self) continue;
    for (std::uint64_t k = 0; k < owed; ++k) {
      Vote v;
      for (auto& b : v.block) b = std::uint8_t(rng_());
      v.round = round + (rng_() % 3);
      v.height = 1;
      v.by.replica = self;
      for (auto& b : v.by.signature) b = std::uint8_t(rng_());
      // S below 2^252, so below the group order: a canonical signature's shape, which the
      // receiver's libsodium must check in full (random bytes would fail its cheap test first
      // fifteen times in sixteen).
      v.by.signature[63] &= 0x0f;
      out.push_back({to, VoteMsg{v}});
    }
  }
  return out;
}

std::optional<Misbehaving::Time> Misbehaving::next(Time now) const {
  std::optional<Time> t;
  if (!held_.empty()) t = held_.front().first;
  if (started_ && what_.kind == Misbehaviour::Kind::ForgeVotes) {
    Time f = lastForgery_ ? *lastForgery_ + kForgeEvery : now;
    if (!t || f < *t) t = f;
  }
  return t;
}

} // namespace flo::pool
