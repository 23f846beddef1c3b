/// \file
/// The order of a replica's writes and messages (pool/core/outbox.h), on hand-made effects: what
/// a vote relies on is written before it leaves, commits wait for the next write, and nothing
/// reaches a client before the commits it may report are written.
#include "pool/core/outbox.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <set>

namespace flo::pool {
namespace {

using namespace std::chrono_literals;

const Time t0 = Time{} + 1h;

Effect vote(std::uint64_t round) {
  Vote v;
  v.round = round;
  return Broadcast{VoteMsg{v}, Leave::Ordered};
}
Effect proposal(std::uint64_t round) {
  Proposal p;
  p.header.round = round;
  return Broadcast{ProposalMsg{p}, Leave::Early};
}
Effect reply(ClientId client, std::uint64_t height) {
  TxStatus s;
  s.state = TxStatus::State::Committed;
  s.height = height;
  return ReplyTo{client, s};
}
Effect commit(std::uint64_t height) {
  CommitBlock c;
  c.block.proposal.header.height = height;
  return c;
}
Effect safety(std::uint64_t round) {
  return PersistSafety{SafetyState{round, {}}};
}

Effect toReplica(std::uint64_t round) {
  Vote v;
  v.round = round;
  return SendTo{1, VoteMsg{v}};
}
Effect answer(std::uint64_t height) {
  return reply(1, height);
}
Effect storeBlock(std::uint64_t round) {
  StoreBlock b;
  b.proposal.header.round = round;
  return b;
}
Effect checkpoint(std::uint64_t height) {
  StoreCheckpoint c;
  c.height = height;
  return c;
}

/// What each effect is, in order, as one letter each with its number: P(roposal) V(ote)
/// R(eply) C(ommit) S(afety).
std::string names(const std::vector<Effect>& effects) {
  std::string out;
  for (const Effect& e : effects) {
    if (!out.empty()) out += ' ';
    if (const auto* b = std::get_if<Broadcast>(&e)) {
      if (const auto* p = std::get_if<ProposalMsg>(&b->message))
        out += "P" + std::to_string(p->proposal.header.round);
      else if (const auto* v = std::get_if<VoteMsg>(&b->message))
        out += "V" + std::to_string(v->vote.round);
    } else if (const auto* r = std::get_if<ReplyTo>(&e)) {
      out += "R" + std::to_string(std::get<TxStatus>(r->message).height);
    } else if (const auto* c = std::get_if<CommitBlock>(&e)) {
      out += "C" + std::to_string(c->block.proposal.header.height);
    } else if (const auto* s = std::get_if<PersistSafety>(&e)) {
      out += "S" + std::to_string(s->state.lastVotedRound);
    } else {
      out += "?";
    }
  }
  return out;
}

/// A step's three parts, as names(): "first | write | after".
std::string parts(const Outbox::Step& s) {
  return names(s.first) + " | " + names(s.write) + " | " + names(s.after);
}

TEST(Outbox, AVoteLeavesAfterItsWriteAndAProposalBeforeIt) {
  Outbox o;
  EXPECT_EQ(parts(o.take({proposal(7), safety(7), vote(7)}, t0)), "P7 | S7 | V7");
  EXPECT_FALSE(o.keeping());
  EXPECT_FALSE(o.due());
}

TEST(Outbox, ACommitWaitsForTheNextVotesWriteAndSoDoItsReplies) {
  Outbox o;
  // A certificate's commit, with the replies to its clients: kept, and held.
  EXPECT_EQ(parts(o.take({commit(3), reply(1, 3), reply(2, 3)}, t0)), " |  | ");
  ASSERT_TRUE(o.due());
  EXPECT_EQ(*o.due(), t0 + Outbox::kHoldAnswers);
  // Another reply meanwhile (a query answer, say) waits behind them, in order.
  EXPECT_EQ(parts(o.take({reply(3, 3)}, t0 + 100us)), " |  | ");
  // The next vote: the commit is written first, with the vote's safety state, and the replies
  // leave after the write, before the vote's own messages.
  EXPECT_EQ(parts(o.take({proposal(9), safety(9), vote(9)}, t0 + 200us)),
            "P9 | C3 S9 | R3 R3 R3 V9");
  EXPECT_FALSE(o.keeping());
  EXPECT_FALSE(o.due());
}

TEST(Outbox, CommitsWithNoClientWaitingAreKeptLonger) {
  Outbox o;
  EXPECT_EQ(parts(o.take({commit(4)}, t0)), " |  | ");
  ASSERT_TRUE(o.due());
  EXPECT_EQ(*o.due(), t0 + Outbox::kKeepCommits);
  // A reply that comes later makes the write due soon after it.
  EXPECT_EQ(parts(o.take({reply(1, 4)}, t0 + 5ms)), " |  | ");
  EXPECT_EQ(*o.due(), t0 + 5ms + Outbox::kHoldAnswers);
  EXPECT_EQ(parts(o.writeKept()), " | C4 | R4");
  EXPECT_FALSE(o.keeping());
  EXPECT_TRUE(o.writeKept().write.empty());
}

TEST(Outbox, RepliesWithNothingKeptLeaveAtOnceAndMessagesToReplicasNeverWaitForCommits) {
  Outbox o;
  EXPECT_EQ(parts(o.take({reply(1, 2)}, t0)), " |  | R2");
  // A commit kept: a reply before it in the same batch leaves, one after it waits.
  EXPECT_EQ(parts(o.take({reply(1, 2), commit(3), reply(2, 3)}, t0)), " |  | R2");
  // A message to a replica in a batch without a write leaves at once, past the held reply.
  Outbox::Step s = o.take({Effect{SendTo{2, VoteMsg{}}}}, t0);
  ASSERT_EQ(s.after.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<SendTo>(s.after.front()));
  EXPECT_EQ(parts(o.writeKept()), " | C3 | R3");
}

/// Random runs of effects, each numbered in the core's order: whatever the Outbox does with
/// them, everything durable is written once and in order, every message leaves once, a vote
/// (or any message to a replica) only after what a vote relies on before it is written, and an
/// answer to a client only after every commit before it is written.
TEST(Outbox, RandomRunsKeepEveryRule) {
  // The number of an effect, where each kind keeps it (see make below).
  auto numberOf = [](const Effect& e) -> std::uint64_t {
    if (const auto* b = std::get_if<Broadcast>(&e)) {
      if (const auto* p = std::get_if<ProposalMsg>(&b->message)) return p->proposal.header.round;
      return std::get<VoteMsg>(b->message).vote.round;
    }
    if (const auto* x = std::get_if<SendTo>(&e)) return std::get<VoteMsg>(x->message).vote.round;
    if (const auto* r = std::get_if<ReplyTo>(&e)) return std::get<TxStatus>(r->message).height;
    if (const auto* c = std::get_if<CommitBlock>(&e)) return c->block.proposal.header.height;
    if (const auto* p = std::get_if<PersistSafety>(&e)) return p->state.lastVotedRound;
    if (const auto* b = std::get_if<StoreBlock>(&e)) return b->proposal.header.round;
    return std::get<StoreCheckpoint>(e).height;
  };
  // Kinds 0-3 are messages (a proposal, a vote, one to a replica, an answer), 4-7 durable (a
  // commit, a safety state, a block, a checkpoint); each carries its number.
  using Make = Effect (*)(std::uint64_t);
  const std::array<Make, 8> make = {proposal, vote,   toReplica,  answer,
                                    commit,   safety, storeBlock, checkpoint};
  for (std::uint64_t seed = 1; seed <= 50; ++seed) {
    std::mt19937_64 rng(seed);
    Outbox o;
    std::uint64_t next = 1;
    std::set<std::uint64_t> commits, holders, durable, messages; // made so far, by kind
    std::set<std::uint64_t> written, sent;
    Time now = t0;
    auto check = [&](Outbox::Step step) {
      for (const Effect& e : step.first) {
        ASSERT_TRUE(std::holds_alternative<Broadcast>(e) &&
                    std::get<Broadcast>(e).leave == Leave::Early)
            << "seed " << seed;
        EXPECT_TRUE(sent.insert(numberOf(e)).second) << "seed " << seed;
      }
      std::uint64_t last = 0;
      for (const Effect& e : step.write) {
        ASSERT_TRUE(isDurable(e)) << "seed " << seed;
        std::uint64_t n = numberOf(e);
        EXPECT_GT(n, last) << "seed " << seed << ": written out of order";
        EXPECT_TRUE(written.insert(n).second) << "seed " << seed << ": written twice";
        last = n;
      }
      for (const Effect& e : step.after) {
        std::uint64_t n = numberOf(e);
        EXPECT_TRUE(sent.insert(n).second) << "seed " << seed << ": sent twice";
        // What it may rely on: every commit before an answer, every vote's state before a
        // message to a replica.
        const auto& before = std::holds_alternative<ReplyTo>(e) ? commits : holders;
        for (auto it = before.begin(); it != before.end() && *it < n; ++it)
          EXPECT_TRUE(written.count(*it)) << "seed " << seed << ": message " << n
                                          << " left before effect " << *it << " was written";
      }
    };
    for (int batch = 0; batch < 200; ++batch) {
      std::vector<Effect> effects;
      for (int k = int(rng() % 6); k > 0; --k) {
        const std::uint64_t n = next++;
        const std::uint64_t kind = rng() % 8;
        if (kind < 4)
          messages.insert(n);
        else
          durable.insert(n);
        if (kind == 4) commits.insert(n);
        if (kind == 5 || kind == 6) holders.insert(n);
        effects.push_back(make.at(kind)(n));
      }
      now += std::chrono::microseconds(rng() % 3000);
      check(o.take(std::move(effects), now));
      if (auto due = o.due(); due && (now >= *due || rng() % 10 == 0)) check(o.writeKept());
    }
    check(o.writeKept());
    EXPECT_EQ(written, durable) << "seed " << seed;
    EXPECT_EQ(sent, messages) << "seed " << seed;
  }
}

} // namespace
} // namespace flo::pool
