/// \file
/// The simulation harness itself: virtual clock and timer queue, the seeded generator and its
/// sub-streams, and the simulated network's links, partitions, crashes, tap, trace and
/// schedule, driven by a scripted node that sends what it is told when it is told; and the
/// adapter that puts a transport Endpoint on the network.
#include "sim/clock.h"
#include "sim/endpoint_node.h"
#include "sim/network.h"
#include "sim/random.h"
#include "sim/schedule.h"
#include "sim/seed.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

namespace flo::sim {
namespace {

using namespace std::chrono_literals;
using core::Address;
using core::Bytes;
using core::Time;

/// A node that sends datagrams at the times it is given, optionally echoes what it receives,
/// and records what it received and the first bytes of its random stream.
class ScriptNode final : public Node {
public:
  struct Received {
    Time at;
    Address from;
    Bytes bytes;
  };

  explicit ScriptNode(const NodeContext& context, bool echo = false)
      : incarnation(context.incarnation), echo_(echo) {
    context.random(randomBytes.data(), randomBytes.size());
  }

  void sendAt(Time at, Address to, Bytes bytes) {
    pending_.emplace(std::pair{at, sequence_++}, core::Datagram{std::move(to), std::move(bytes)});
  }

  void onPacket(const Address& from, const Bytes& bytes, Time now) override {
    received.push_back({now, from, bytes});
    if (echo_) outgoing_.push_back({from, bytes});
  }
  void onTimer(Time now) override {
    while (!pending_.empty() && pending_.begin()->first.first <= now) {
      outgoing_.push_back(std::move(pending_.begin()->second));
      pending_.erase(pending_.begin());
    }
  }
  std::optional<Time> nextTimer() const override {
    if (pending_.empty()) return std::nullopt;
    return pending_.begin()->first.first;
  }
  std::vector<core::Datagram> takeOutgoing() override { return std::exchange(outgoing_, {}); }

  std::uint32_t incarnation;
  std::array<std::uint8_t, 16> randomBytes{};
  std::vector<Received> received;

private:
  bool echo_;
  std::uint64_t sequence_ = 0;
  std::map<std::pair<Time, std::uint64_t>, core::Datagram> pending_;
  std::vector<core::Datagram> outgoing_;
};

NodeFactory script(bool echo = false) {
  return [echo](const NodeContext& context) { return std::make_unique<ScriptNode>(context, echo); };
}

/// A datagram whose first four bytes number it.
Bytes numbered(std::uint32_t n, std::size_t size = 64) {
  Bytes b(std::max<std::size_t>(size, 4), std::uint8_t(n * 7));
  for (int i = 0; i < 4; ++i) b[i] = std::uint8_t(n >> (8 * i));
  return b;
}

std::uint32_t numberOf(const Bytes& b) {
  return b[0] | b[1] << 8 | b[2] << 16 | std::uint32_t(b[3]) << 24;
}

std::string testName() {
  const auto* info = testing::UnitTest::GetInstance()->current_test_info();
  return std::string(info->test_suite_name()) + "." + info->name();
}

/// The seed for this test (FLO_SIM_SEED may name another), printed with every failure.
std::uint64_t seedFor(std::uint64_t fallback) {
  return chooseSeed(testName(), fallback, std::getenv(kSeedVariable));
}

// ---- clock and timers ---------------------------------------------------------------------

TEST(SimClock, StartsAtTheEpochAndMovesOnlyWhenTold) {
  Clock clock;
  EXPECT_EQ(clock.now(), Clock::kEpoch);
  EXPECT_EQ(clock.elapsed(), Duration::zero());
  clock.advanceTo(Clock::kEpoch + 5ms);
  clock.advanceTo(Clock::kEpoch + 5ms); // staying put is allowed
  EXPECT_EQ(clock.elapsed(), 5ms);
  EXPECT_EQ(Clock().now(), Clock::kEpoch); // every clock starts at the same epoch
}

TEST(SimTimerQueue, RunsInTimeOrderAndTiesInSchedulingOrder) {
  TimerQueue queue;
  std::string ran;
  const Time t = Clock::kEpoch;
  queue.schedule(t + 3ms, [&] { ran += 'c'; });
  queue.schedule(t + 1ms, [&] { ran += 'a'; });
  auto cancelled = queue.schedule(t + 2ms, [&] { ran += 'x'; });
  queue.schedule(t + 3ms, [&] { ran += 'd'; });
  queue.schedule(t + 1ms, [&] { ran += 'b'; });
  EXPECT_TRUE(queue.cancel(cancelled));
  EXPECT_FALSE(queue.cancel(cancelled));
  EXPECT_EQ(queue.size(), 4u);
  EXPECT_EQ(queue.nextTime(), t + 1ms);
  EXPECT_FALSE(queue.popDue(t)); // nothing due yet
  while (auto action = queue.popDue(t + 2ms)) (*action)();
  EXPECT_EQ(ran, "ab");
  // An action scheduled now for an earlier time than the rest runs first.
  queue.schedule(t + 2ms, [&] { ran += 'e'; });
  while (auto action = queue.popDue(t + 10ms)) (*action)();
  EXPECT_EQ(ran, "abecd");
  EXPECT_TRUE(queue.empty());
  EXPECT_FALSE(queue.nextTime());
}

// ---- randomness ---------------------------------------------------------------------------

TEST(SimRng, KnownValuesReplayOnEveryPlatform) {
  // Reference values from an independent implementation of SplitMix64 and xoshiro256**.
  std::uint64_t state = 0;
  EXPECT_EQ(splitMix64(state), 0xe220a8397b1dcdafull);
  Rng zero(0);
  EXPECT_EQ(zero.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(zero.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(zero.next(), 0x1a5f849d4933e6e0ull);
  Rng answer(42);
  EXPECT_DOUBLE_EQ(answer.unit(), 0.08386297105988216); // 0x15780b2e0c2ec716 >> 11, / 2^53
  EXPECT_EQ(answer.next(), 0x6104d9866d113a7eull);
}

TEST(SimRng, ConversionsStayInRange) {
  Rng rng(seedFor(7));
  bool sawLo = false, sawHi = false;
  std::array<int, 6> histogram{};
  for (int i = 0; i < 60'000; ++i) {
    double u = rng.unit();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    std::int64_t v = rng.between(-2, 3);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 3);
    sawLo |= v == -2;
    sawHi |= v == 3;
    ++histogram[std::size_t(rng.below(6))];
  }
  EXPECT_TRUE(sawLo && sawHi); // both ends are included
  for (int n : histogram) EXPECT_NEAR(n, 10'000, 500);
  EXPECT_EQ(rng.between(5, 5), 5);
  std::uint8_t bytes[13] = {};
  rng.fill(bytes, sizeof bytes);
  EXPECT_TRUE(std::any_of(bytes, bytes + 13, [](std::uint8_t b) { return b != 0; }));
}

TEST(SimRng, SubStreamsDependOnTheirPathOnly) {
  const std::uint64_t seed = 99;
  EXPECT_EQ(deriveSeed(seed, {kNodeStream, 3, 0}), deriveSeed(seed, {kNodeStream, 3, 0}));
  std::set<std::uint64_t> seeds{deriveSeed(seed, {kNodeStream, 3, 0}),
                                deriveSeed(seed, {kNodeStream, 3, 1}),
                                deriveSeed(seed, {kNodeStream, 0, 3}),
                                deriveSeed(seed, {kLinkStream, 3, 0}),
                                deriveSeed(seed + 1, {kNodeStream, 3, 0}),
                                deriveSeed(seed, {kNodeStream, 3}),
                                seed};
  EXPECT_EQ(seeds.size(), 7u);
  // The RandomSource adapter gives the generator's stream.
  auto random = randomSource(5);
  std::uint8_t bytes[8];
  random(bytes, 8);
  std::uint64_t word = 0;
  for (int i = 7; i >= 0; --i) word = word << 8 | bytes[i];
  EXPECT_EQ(word, Rng(5).next());
}

TEST(SimNetwork, AddingANodeLeavesTheOtherStreamsAlone) {
  Network two(11), three(11);
  for (int i = 0; i < 2; ++i) two.add(script());
  for (int i = 0; i < 3; ++i) three.add(script());
  for (NodeId id = 0; id < 2; ++id)
    EXPECT_EQ(two.nodeAs<ScriptNode>(id).randomBytes, three.nodeAs<ScriptNode>(id).randomBytes);
  EXPECT_NE(three.nodeAs<ScriptNode>(0).randomBytes, three.nodeAs<ScriptNode>(1).randomBytes);
  EXPECT_NE(three.nodeAs<ScriptNode>(1).randomBytes, three.nodeAs<ScriptNode>(2).randomBytes);
}

// ---- links --------------------------------------------------------------------------------

TEST(SimNetwork, LinkDropRateMatchesOverManyDatagrams) {
  Network net(seedFor(1));
  net.defaultLink().drop = 0.1;
  NodeId a = net.add(script()), b = net.add(script());
  for (std::uint32_t i = 0; i < 10'000; ++i)
    net.nodeAs<ScriptNode>(a).sendAt(net.now() + i * 100us, net.address(b), numbered(i));
  ASSERT_TRUE(net.runFor(2s));
  const std::size_t got = net.nodeAs<ScriptNode>(b).received.size();
  EXPECT_NEAR(double(got), 9'000, 300); // 10 standard deviations
  EXPECT_EQ(net.stats().sent, 10'000u);
  EXPECT_EQ(net.stats().droppedFor(DropCause::Loss), 10'000u - got);
  EXPECT_EQ(net.stats().delivered, got);
}

TEST(SimNetwork, DelayIsBoundedAndALinkKeepsOrderUnlessReordering) {
  for (double reorder : {0.0, 0.2}) {
    Network net(seedFor(2));
    LinkConfig& link = net.defaultLink();
    link.delay = 3ms;
    link.jitter = 4ms;
    link.reorder = reorder;
    NodeId a = net.add(script()), b = net.add(script());
    for (std::uint32_t i = 0; i < 1000; ++i)
      net.nodeAs<ScriptNode>(a).sendAt(Clock::kEpoch + i * 1ms, net.address(b), numbered(i));
    ASSERT_TRUE(net.runFor(2s));
    const auto& got = net.nodeAs<ScriptNode>(b).received;
    ASSERT_EQ(got.size(), 1000u);
    std::size_t overtaken = 0, held = 0;
    std::uint32_t highest = 0;
    for (const auto& r : got) {
      const std::uint32_t n = numberOf(r.bytes);
      const Duration transit = r.at - (Clock::kEpoch + n * 1ms);
      EXPECT_GE(transit, 3ms) << n;
      // Held back by `reorder`, or on time: FIFO keeps a datagram behind an earlier one, which
      // left at least 1 ms before it and arrived within delay + jitter.
      if (transit >= 30ms)
        ++held;
      else
        EXPECT_LE(transit, 3ms + 4ms) << n;
      if (n < highest) ++overtaken;
      highest = std::max(highest, n);
    }
    if (reorder == 0) {
      EXPECT_EQ(overtaken, 0u);
      EXPECT_EQ(held, 0u);
    } else {
      EXPECT_NEAR(double(held), 200, 60);
      EXPECT_GT(overtaken, 100u);
    }
  }
}

TEST(SimNetwork, DuplicationDeliversCopies) {
  Network net(seedFor(3));
  net.defaultLink().duplicate = 1;
  NodeId a = net.add(script()), b = net.add(script()), c = net.add(script());
  net.setLink(a, c, LinkConfig{.duplicate = 0.25});
  for (std::uint32_t i = 0; i < 4000; ++i) {
    net.nodeAs<ScriptNode>(a).sendAt(net.now() + i * 10us, net.address(b), numbered(i));
    net.nodeAs<ScriptNode>(a).sendAt(net.now() + i * 10us, net.address(c), numbered(i));
  }
  ASSERT_TRUE(net.runFor(1s));
  EXPECT_EQ(net.nodeAs<ScriptNode>(b).received.size(), 8000u);
  EXPECT_NEAR(double(net.nodeAs<ScriptNode>(c).received.size()), 5000, 150);
  EXPECT_EQ(net.link(a, c).duplicate, 0.25);
  net.clearLink(a, c);
  EXPECT_EQ(net.link(a, c).duplicate, 1.0);
}

// ---- partitions, crashes, tap ---------------------------------------------------------------

/// Sends one datagram from every node to every other at `at`; returns (from, to) of those
/// that arrived.
std::set<std::pair<NodeId, NodeId>> exchange(Network& net, Time at) {
  std::map<NodeId, std::size_t> before;
  for (NodeId i = 0; i < net.size(); ++i) before[i] = net.nodeAs<ScriptNode>(i).received.size();
  for (NodeId i = 0; i < net.size(); ++i)
    for (NodeId j = 0; j < net.size(); ++j)
      if (i != j) net.nodeAs<ScriptNode>(i).sendAt(at, net.address(j), numbered(std::uint32_t(i)));
  EXPECT_TRUE(net.runFor(at + 50ms - net.now()));
  std::set<std::pair<NodeId, NodeId>> arrived;
  for (NodeId j = 0; j < net.size(); ++j) {
    const auto& got = net.nodeAs<ScriptNode>(j).received;
    for (std::size_t k = before[j]; k < got.size(); ++k)
      arrived.insert({numberOf(got[k].bytes), j});
  }
  return arrived;
}

TEST(SimNetwork, PartitionsAndOneWayBlocks) {
  Network net(seedFor(4));
  for (int i = 0; i < 4; ++i) net.add(script());
  using Pairs = std::set<std::pair<NodeId, NodeId>>;
  EXPECT_EQ(exchange(net, net.now()).size(), 12u);

  net.partition({{0, 1}, {2, 3}});
  EXPECT_EQ(exchange(net, net.now()), (Pairs{{0, 1}, {1, 0}, {2, 3}, {3, 2}}));
  EXPECT_EQ(net.stats().droppedFor(DropCause::Partition), 8u);

  net.partition({{2}}); // replaces the last one: 2 alone, the rest together
  EXPECT_EQ(exchange(net, net.now()), (Pairs{{0, 1}, {1, 0}, {0, 3}, {3, 0}, {1, 3}, {3, 1}}));

  net.heal();
  net.block(0, 1);
  Pairs all = exchange(net, net.now());
  EXPECT_EQ(all.size(), 11u);
  EXPECT_FALSE(all.count({0, 1}));
  EXPECT_TRUE(all.count({1, 0})); // one way only
  EXPECT_FALSE(net.canReach(0, 1));
  net.unblock(0, 1);
  EXPECT_EQ(exchange(net, net.now()).size(), 12u);

  // What is in flight when a partition starts does not arrive.
  net.defaultLink().delay = 20ms;
  net.nodeAs<ScriptNode>(0).sendAt(net.now(), net.address(1), numbered(0));
  ASSERT_TRUE(net.runFor(1ms));
  net.partition({{0}, {1}});
  const auto partitioned = net.stats().droppedFor(DropCause::Partition);
  ASSERT_TRUE(net.runFor(50ms));
  EXPECT_EQ(net.stats().droppedFor(DropCause::Partition), partitioned + 1);
}

TEST(SimNetwork, CrashedNodeHearsNothingAndRestartsAfresh) {
  Network net(seedFor(5));
  NodeId a = net.add(script()), b = net.add(script(/*echo=*/true));
  const auto firstBytes = net.nodeAs<ScriptNode>(b).randomBytes;
  net.nodeAs<ScriptNode>(a).sendAt(net.now() + 1ms, net.address(b), numbered(1));
  ASSERT_TRUE(net.runFor(20ms));
  EXPECT_EQ(net.nodeAs<ScriptNode>(a).received.size(), 1u); // the echo

  net.nodeAs<ScriptNode>(b).sendAt(net.now() + 5ms, net.address(a), numbered(99)); // never sent
  net.crash(b);
  EXPECT_FALSE(net.isUp(b));
  net.nodeAs<ScriptNode>(a).sendAt(net.now() + 1ms, net.address(b), numbered(2));
  ASSERT_TRUE(net.runFor(20ms));
  EXPECT_EQ(net.stats().droppedFor(DropCause::NodeDown), 1u);
  EXPECT_EQ(net.nodeAs<ScriptNode>(a).received.size(), 1u); // no echo, no timer
  EXPECT_EQ(net.nodeAs<ScriptNode>(b).received.size(), 1u); // the old state is still readable

  net.restart(b);
  EXPECT_TRUE(net.isUp(b));
  EXPECT_EQ(net.incarnation(b), 1u);
  ScriptNode& fresh = net.nodeAs<ScriptNode>(b);
  EXPECT_EQ(fresh.incarnation, 1u);
  EXPECT_TRUE(fresh.received.empty());
  EXPECT_NE(fresh.randomBytes, firstBytes); // a new stream for the new incarnation
  net.nodeAs<ScriptNode>(a).sendAt(net.now() + 1ms, net.address(b), numbered(3));
  ASSERT_TRUE(net.runFor(20ms));
  ASSERT_EQ(fresh.received.size(), 1u);
  EXPECT_EQ(numberOf(fresh.received[0].bytes), 3u);
  EXPECT_EQ(net.nodeAs<ScriptNode>(a).received.size(), 2u);
}

TEST(SimNetwork, TapAltersOrSwallowsAndInjectionBypassesLinks) {
  Network net(seedFor(6));
  NodeId a = net.add(script()), b = net.add(script(/*echo=*/true));
  net.setTap([&](const Address& from, const Address&, Bytes& bytes) {
    if (from == net.address(b)) return false; // every echo is swallowed
    bytes[4] ^= 0xff;
    return true;
  });
  net.nodeAs<ScriptNode>(a).sendAt(net.now(), net.address(b), numbered(1));
  ASSERT_TRUE(net.runFor(20ms));
  const auto& got = net.nodeAs<ScriptNode>(b).received;
  ASSERT_EQ(got.size(), 1u);
  Bytes expected = numbered(1);
  expected[4] ^= 0xff;
  EXPECT_EQ(got[0].bytes, expected);
  EXPECT_EQ(net.stats().droppedFor(DropCause::Tap), 1u);
  EXPECT_TRUE(net.nodeAs<ScriptNode>(a).received.empty());
  // The trace holds the datagram as delivered, altered.
  auto delivered =
      std::find_if(net.trace().entries().begin(), net.trace().entries().end(),
                   [](const TraceEntry& e) { return e.kind == TraceEntry::Kind::Delivered; });
  ASSERT_NE(delivered, net.trace().entries().end());
  EXPECT_EQ(delivered->hash, hashBytes(expected.data(), expected.size()));
  EXPECT_EQ(delivered->size, expected.size());

  // An injected datagram arrives though every link drops everything (b's echo of it does
  // not); one to an address nobody has is dropped.
  net.setTap(nullptr);
  net.defaultLink().drop = 1;
  net.inject(net.address(a), net.address(b), numbered(7), 2ms);
  net.inject(Address{"10.6.6.6", 66}, Address{"nowhere", 1}, numbered(8));
  ASSERT_TRUE(net.runFor(20ms));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].from, net.address(a));
  EXPECT_EQ(got[1].at, Clock::kEpoch + 20ms + 2ms); // injected after the first 20 ms
  EXPECT_EQ(net.stats().droppedFor(DropCause::NoRoute), 1u);
  EXPECT_EQ(net.stats().droppedFor(DropCause::Loss), 1u);
  EXPECT_TRUE(net.nodeAs<ScriptNode>(a).received.empty());
}

TEST(SimNetwork, RunForMovesTheClockEvenWhenIdle) {
  Network net(1);
  net.add(script());
  ASSERT_TRUE(net.runFor(250ms));
  EXPECT_EQ(net.clock().elapsed(), 250ms);
  EXPECT_FALSE(net.runUntil([] { return false; }, 1s)); // nothing will ever happen
  EXPECT_EQ(net.clock().elapsed(), 250ms);
}

// ---- trace, replay and schedule ---------------------------------------------------------------

struct Outcome {
  std::uint64_t digest = 0, recorded = 0, delivered = 0;
};

/// Three echoing nodes exchanging datagrams of random sizes at random times over lossy,
/// duplicating, reordering links, with a crash, a restart and a partition on the way.
Outcome chatter(std::uint64_t seed) {
  Network net(seed);
  LinkConfig& link = net.defaultLink();
  link.drop = 0.1;
  link.duplicate = 0.05;
  link.reorder = 0.1;
  for (int i = 0; i < 3; ++i) net.add(script(/*echo=*/i == 2));
  Rng choices = net.stream(1);
  for (std::uint32_t k = 0; k < 300; ++k) {
    NodeId from = choices.below(2), to = 1 + choices.below(2);
    if (from == to) to = 0;
    net.nodeAs<ScriptNode>(from).sendAt(net.now() +
                                            std::chrono::microseconds(choices.below(500'000)),
                                        net.address(to), numbered(k, choices.below(1200)));
  }
  Schedule faults;
  faults.crash(100ms, 1).restart(150ms, 1).partition(200ms, {{0}, {1, 2}}).heal(300ms);
  net.play(faults);
  EXPECT_TRUE(net.runFor(1s));
  return {net.digest(), net.trace().recorded(), net.stats().delivered};
}

TEST(SimNetwork, SameSeedSameTraceDigest) {
  const std::uint64_t seed = seedFor(8);
  SCOPED_TRACE(replayHint(testName(), seed));
  const Outcome first = chatter(seed), again = chatter(seed), other = chatter(seed + 1);
  EXPECT_EQ(again.digest, first.digest);
  EXPECT_EQ(again.recorded, first.recorded);
  EXPECT_EQ(again.delivered, first.delivered);
  EXPECT_GT(first.delivered, 100u);
  EXPECT_NE(other.digest, first.digest);
}

TEST(SimNetwork, TraceRecordsDeliveriesDropsAndFaults) {
  Network net(seedFor(9), /*traceCapacity=*/4);
  NodeId a = net.add(script()), b = net.add(script());
  net.nodeAs<ScriptNode>(a).sendAt(net.now(), net.address(b), numbered(1, 100));
  ASSERT_TRUE(net.runFor(20ms));
  net.block(a, b);
  net.nodeAs<ScriptNode>(a).sendAt(net.now(), net.address(b), numbered(2, 100));
  ASSERT_TRUE(net.runFor(20ms));
  const auto& entries = net.trace().entries();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].kind, TraceEntry::Kind::Delivered);
  EXPECT_EQ(entries[0].from, net.address(a));
  EXPECT_EQ(entries[0].to, net.address(b));
  EXPECT_EQ(entries[0].size, 100u);
  EXPECT_GE(entries[0].at, Clock::kEpoch + 2ms); // the default link's delay
  EXPECT_EQ(entries[1].kind, TraceEntry::Kind::Fault);
  EXPECT_EQ(entries[1].note, "block 0->1");
  EXPECT_EQ(entries[2].kind, TraceEntry::Kind::Dropped);
  EXPECT_EQ(entries[2].cause, DropCause::Partition);
  EXPECT_NE(Trace::format(entries[2]).find("(partition)"), std::string::npos);
  // Only the latest entries are kept; the digest covers every one.
  const std::uint64_t digest = net.digest();
  for (int i = 0; i < 3; ++i) net.note("n" + std::to_string(i));
  EXPECT_EQ(entries.size(), 4u);
  EXPECT_EQ(net.trace().recorded(), 6u);
  EXPECT_EQ(entries.front().kind, TraceEntry::Kind::Dropped);
  EXPECT_NE(net.digest(), digest);
  EXPECT_NE(net.trace().tail(2).find("n2"), std::string::npos);
}

TEST(SimSchedule, StepsFireInOrderAtTheirTimes) {
  Network net(seedFor(10));
  for (int i = 0; i < 3; ++i) net.add(script());
  ASSERT_TRUE(net.runFor(5ms));
  const Time start = net.now();
  std::vector<std::pair<std::string, Duration>> fired;
  auto mark = [&](std::string label) {
    return [&fired, &start, label](Network& n) { fired.emplace_back(label, n.now() - start); };
  };
  Schedule schedule;
  schedule.at(30ms, "c", mark("c"))
      .at(10ms, "a", mark("a"))
      .at(30ms, "d", mark("d"))
      .crash(20ms, 2)
      .at(20ms, "b", mark("b"))
      .restart(40ms, 2);
  net.play(schedule);
  ASSERT_TRUE(net.runFor(15ms));
  EXPECT_EQ(fired.size(), 1u); // only what is due has run
  ASSERT_TRUE(net.runFor(100ms));
  using Fired = std::vector<std::pair<std::string, Duration>>;
  EXPECT_EQ(fired, (Fired{{"a", 10ms}, {"b", 20ms}, {"c", 30ms}, {"d", 30ms}}));
  EXPECT_TRUE(net.isUp(2));
  EXPECT_EQ(net.incarnation(2), 1u);
  std::vector<std::string> notes;
  for (const auto& e : net.trace().entries())
    if (e.kind == TraceEntry::Kind::Fault) notes.push_back(e.note);
  EXPECT_EQ(notes, (std::vector<std::string>{"a", "crash 2", "b", "c", "d",
                                             "restart 2 as incarnation 1"}));
}

// ---- the transport's adapter ---------------------------------------------------------------

TEST(SimEndpointNode, CarriesAMessageOverALossyLink) {
  Network net(seedFor(12));
  net.defaultLink().drop = 0.2;
  // Each endpoint's key and its randomness come from its node's own stream.
  auto endpoint = [](const NodeContext& context) {
    core::SigningKey key = core::SigningKey::generate(context.random);
    return std::make_unique<EndpointNode>(
        std::make_unique<core::Endpoint>(key, core::TransportConfig{}, context.random));
  };
  NodeId a = net.add(endpoint), b = net.add(endpoint);
  EndpointNode& alice = net.nodeAs<EndpointNode>(a);
  EndpointNode& bob = net.nodeAs<EndpointNode>(b);
  core::MessageId id =
      alice.endpoint().send(net.address(b), bob.endpoint().publicKey(), {'h', 'i'}, net.now());
  net.flush();
  auto acknowledged = [&] {
    return std::any_of(alice.events().begin(), alice.events().end(), [&](const auto& e) {
      return e.kind == core::TransportEvent::Kind::Acknowledged && e.id == id;
    });
  };
  ASSERT_TRUE(net.runUntil(acknowledged, 30s));
  ASSERT_EQ(bob.delivered().size(), 1u);
  EXPECT_EQ(bob.delivered()[0].message, (Bytes{'h', 'i'}));
  EXPECT_EQ(bob.delivered()[0].from, net.address(a));
  EXPECT_EQ(bob.delivered()[0].peer, alice.endpoint().publicKey());
}

/// The worked example of docs/testing.md, kept compiling and passing here.
TEST(SimDocs, MessageCrossesAHealedPartition) {
  const std::uint64_t seed =
      sim::chooseSeed("SimDocs.MessageCrossesAHealedPartition", 7, std::getenv(sim::kSeedVariable));
  SCOPED_TRACE(sim::replayHint("SimDocs.MessageCrossesAHealedPartition", seed));
  sim::Network net(seed);
  net.defaultLink().drop = 0.2; // every link: 20% loss, 2-8 ms one way
  auto endpoint = [](const sim::NodeContext& context) {
    auto key = core::SigningKey::generate(context.random);
    return std::make_unique<sim::EndpointNode>(
        std::make_unique<core::Endpoint>(key, core::TransportConfig{}, context.random));
  };
  sim::NodeId a = net.add(endpoint), b = net.add(endpoint); // at {"sim", 0} and {"sim", 1}
  auto& alice = net.nodeAs<sim::EndpointNode>(a);
  auto& bob = net.nodeAs<sim::EndpointNode>(b);

  sim::Schedule faults;
  faults.partition(0ms, {{a}, {b}}).heal(2s); // times count from play()
  net.play(faults);

  alice.endpoint().send(net.address(b), bob.endpoint().publicKey(), {'h', 'i'}, net.now());
  net.flush(); // after driving a node directly
  ASSERT_TRUE(net.runUntil([&] { return !bob.delivered().empty(); }, 30s));
  EXPECT_GE(net.now(), sim::Clock::kEpoch + 2s); // not before the heal
  ASSERT_TRUE(net.runFor(5s));
  EXPECT_EQ(bob.delivered().size(), 1u); // exactly once
}

// ---- seeds ------------------------------------------------------------------------------------

TEST(SimSeed, TheVariableOverridesEveryOrNamedTests) {
  EXPECT_EQ(chooseSeed("A.B", 5, nullptr), 5u);
  EXPECT_EQ(chooseSeed("A.B", 5, ""), 5u);
  EXPECT_EQ(chooseSeed("A.B", 5, "77"), 77u);
  EXPECT_EQ(chooseSeed("A.B", 5, "0x10"), 16u);
  EXPECT_EQ(chooseSeed("C.D", 5, "A.B=6, C.D=18446744073709551615"), ~std::uint64_t(0));
  EXPECT_EQ(chooseSeed("X.Y", 5, "A.B=6,C.D=7"), 5u);
  for (const char* bad : {"bad", "A.B=", "=3", "A.B=-1", "99999999999999999999"})
    EXPECT_THROW(chooseSeed("A.B", 5, bad), std::invalid_argument) << bad;
  const std::string hint = replayHint("A.B", 42);
  EXPECT_NE(hint.find("FLO_SIM_SEED=A.B=42"), std::string::npos) << hint;
  EXPECT_NE(hint.find("--gtest_filter=A.B"), std::string::npos) << hint;
}

} // namespace
} // namespace flo::sim
