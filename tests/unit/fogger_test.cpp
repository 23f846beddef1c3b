// The deployer-fogger messages and output chains (fogger/wire.h, fogger/chain.h): messages round
// trip and bad ones are refused with a reason; a fogger's signed output passes the deployer's
// check, and every way of tampering with it (a line, the order of items, another signer, the
// head, the item count, a record of another job) is caught. Feeds between foggers
// (fogger/feed.h): the credit bounds what is in flight, the consumer takes every item once and
// in order whatever the network repeats, and both sides' digests agree.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fogger/chain.h"
#include "fogger/feed.h"
#include "fogger/wire.h"

namespace flo::fogger {
namespace {

core::SigningKey key(std::uint8_t n) {
  core::Seed seed;
  std::fill(seed.data(), seed.data() + seed.size(), n);
  return core::SigningKey::fromSeed(seed);
}

struct Output : ::testing::Test {
  core::SigningKey fogger = key(7);
  Digest order = core::hash(std::string_view("order"));
  std::vector<std::string> lines = {"*** heating on ***", "*** heating off ***", "*** done ***"};

  RunOutput make(const std::vector<core::ProvenanceRecord>& records, pool::RunResult r,
                 const core::SigningKey& signer) {
    RunOutput out;
    out.result = r.encode();
    out.signature = signer.sign(pool::runResultMessage(r));
    for (const auto& rec : records) out.records.push_back(rec.encode());
    out.payloads = lines;
    return out;
  }
  pool::RunResult resultOf(const std::vector<core::ProvenanceRecord>& records) {
    pool::RunResult r;
    r.order = order;
    r.head = headOf(records);
    r.items = records.size();
    r.work = 40;
    r.runs = 3;
    return r;
  }
  std::string check(const RunOutput& out) {
    std::vector<core::ProvenanceRecord> records;
    std::string error;
    auto r = checkOutput(out, fogger.publicKey(), order, records, error);
    if (r) EXPECT_EQ(records.size(), out.records.size());
    return r ? "ok" : error;
  }
};

TEST_F(Output, SignedChainVerifiesAndTamperingIsCaught) {
  auto records = buildChain(fogger, jobLabel(order, "thermostat"), lines, 1000);
  auto good = make(records, resultOf(records), fogger);
  EXPECT_EQ(check(good), "ok");
  EXPECT_EQ(records[1].parents, std::vector<std::string>{records[0].itemId});

  auto line = good;
  line.payloads[1] = "*** heating OFF ***";
  EXPECT_NE(check(line).find("does not match its record"), std::string::npos);

  auto swapped = good;
  std::swap(swapped.records[0], swapped.records[1]);
  std::swap(swapped.payloads[0], swapped.payloads[1]);
  EXPECT_NE(check(swapped).find("does not follow"), std::string::npos);

  auto stranger = make(records, resultOf(records), key(8));
  EXPECT_NE(check(stranger).find("not signed by"), std::string::npos);

  auto otherKey = buildChain(key(8), jobLabel(order, "thermostat"), lines, 1000);
  auto theirs = make(otherKey, resultOf(otherKey), fogger);
  EXPECT_NE(check(theirs).find("is not the fogger's"), std::string::npos);

  auto head = resultOf(records);
  head.head = records[1].itemId.empty() ? Digest{} : *core::parseItemId(records[1].itemId);
  EXPECT_NE(check(make(records, head, fogger)).find("head"), std::string::npos);

  auto fewer = resultOf(records);
  fewer.items = 2;
  EXPECT_NE(check(make(records, fewer, fogger)).find("names 2 items"), std::string::npos);

  auto otherOrder = buildChain(fogger, jobLabel(core::hash(std::string_view("x")), "t"), lines, 1);
  EXPECT_NE(check(make(otherOrder, resultOf(otherOrder), fogger)).find("another job"),
            std::string::npos);

  auto wrongOrder = resultOf(records);
  wrongOrder.order = Digest{};
  EXPECT_NE(check(make(records, wrongOrder, fogger)).find("another order"), std::string::npos);

  lines.clear();
  auto none = buildChain(fogger, jobLabel(order, "thermostat"), lines, 1000);
  EXPECT_EQ(check(make(none, resultOf(none), fogger)), "ok") << "a run may print nothing";
}

TEST(FinalShares, TheProgramsSharesNotTheRuntimesAndTheRestKept) {
  std::string rest;
  auto shares = finalShares("job j: run 1 at 0.0 s: work 3 (bound 9)\n"
                            "store: .framer.f.state.active value='a'\n"
                            "store: .meta.name value='h'\n"
                            "store: .room.temp value=20.5\n"
                            "store: h2:.time value=1.0\n"
                            "store: h2:.room.count value=3 unit='n'\n"
                            "flo-host: sandbox: rlimits",
                            rest);
  EXPECT_EQ(shares, (std::vector<std::string>{"share .room.temp value=20.5",
                                              "share h2:.room.count value=3 unit='n'"}));
  EXPECT_EQ(rest, "job j: run 1 at 0.0 s: work 3 (bound 9)\nflo-host: sandbox: rlimits\n");
}

TEST_F(Output, MessagesRoundTripAndBadOnesAreRefused) {
  auto records = buildChain(fogger, jobLabel(order, "thermostat"), lines, 1000);
  std::vector<Message> all = {
      BundleOffer{order, "thermostat", 3, "x86_64-linux-gnu", {1, 2, 3}, {4, 5}, {}, {}},
      make(records, resultOf(records), fogger),
      Refusal{order, "not assigned"},
      FeedCredit{order, core::hash(std::string_view("consumer")), 128, false},
      FeedItems{order, 7, {"feed: 0.125 .a value=f:1.5", "feed: 0.25 .a value=n"}, true},
      BundleOffer{order,
                  "average",
                  1,
                  "aarch64-linux-gnu",
                  {1},
                  {2},
                  {".sensor.a", ".sensor.b"},
                  FeedSource{order, "did:key:z6Mk", "127.0.0.1:9"}},
      Probe{}};
  for (const auto& m : all) {
    core::Bytes bytes = encode(m);
    std::string error;
    auto back = decode(bytes, &error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, m);
    // Seeds for the fuzz target (tests/fuzz/fogger_corpus), written when asked.
    if (const char* dir = std::getenv("FLO_WRITE_FOGGER_SEEDS")) {
      std::ofstream(std::filesystem::path(dir) / ("seed-" + std::to_string(&m - all.data())),
                    std::ios::binary)
          .write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    }
    bytes.pop_back();
    EXPECT_FALSE(decode(bytes, &error));
    EXPECT_FALSE(error.empty());
  }
  std::string error;
  EXPECT_FALSE(decode(core::Bytes{0xa0}, &error));
  auto tooMany = make(records, resultOf(records), fogger);
  tooMany.payloads.pop_back();
  EXPECT_FALSE(decode(encode(tooMany), &error));
  EXPECT_NE(error.find("a payload for every record"), std::string::npos) << error;
}

// ---- feeds ----------------------------------------------------------------------------------

struct Feed : ::testing::Test {
  Digest source = core::hash(std::string_view("producer")),
         order = core::hash(std::string_view("consumer"));
  static std::string item(int k) {
    return "feed: " + std::to_string(k) + " .a value=i:" + std::to_string(k);
  }
};

TEST_F(Feed, CreditBoundsWhatIsInFlightAndEveryItemArrivesOnceInOrder) {
  const std::uint64_t window = 8;
  FeedSender sender(source);
  FeedReceiver receiver(source, order, window);
  EXPECT_FALSE(sender.next()) << "nothing goes before the consumer subscribes";
  std::vector<std::string> taken;
  int pushed = 0;
  const int total = 1000;
  sender.credit(receiver.subscribe().upTo, false);
  std::uint64_t rounds = 0;
  while (!receiver.ended() && rounds++ < 10000) {
    while (pushed < total && !sender.full()) sender.push(item(pushed++));
    if (pushed == total) sender.finish();
    while (auto m = sender.next()) {
      std::vector<std::string> out;
      std::string error;
      ASSERT_TRUE(receiver.receive(*m, out, error)) << error;
      // The network repeats a message: nothing is taken twice.
      std::vector<std::string> again;
      ASSERT_TRUE(receiver.receive(*m, again, error)) << error;
      EXPECT_TRUE(again.empty());
      taken.insert(taken.end(), out.begin(), out.end());
      ASSERT_LE(receiver.waiting(), window) << "more than the window waits at the consumer";
    }
    // The consumer's job takes three items a round: the producer waits for its credit.
    std::uint64_t n = std::min<std::uint64_t>(3, receiver.waiting());
    if (auto c = receiver.delivered(n)) sender.credit(c->upTo, c->closed);
  }
  ASSERT_TRUE(receiver.ended());
  ASSERT_EQ(taken.size(), std::size_t(total));
  for (int k = 0; k < total; ++k) ASSERT_EQ(taken[std::size_t(k)], item(k));
  EXPECT_LE(sender.maxInFlight(), window);
  EXPECT_GT(sender.maxInFlight(), 0u);
  EXPECT_EQ(sender.digest(), receiver.digest());
  EXPECT_EQ(feedSentLine(sender.sent(), sender.digest()),
            "feed sent 1000 items sha256 " + core::toHex(receiver.digest()));
}

TEST_F(Feed, AProducerThatBreaksTheProtocolIsRefused) {
  FeedReceiver receiver(source, order, 4);
  std::vector<std::string> out;
  std::string error;
  EXPECT_FALSE(receiver.receive(
      FeedItems{source, 0, {item(0), item(1), item(2), item(3), item(4)}, false}, out, error));
  EXPECT_NE(error.find("beyond the credit of 4"), std::string::npos) << error;
  EXPECT_FALSE(receiver.receive(FeedItems{source, 2, {item(2)}, false}, out, error));
  EXPECT_NE(error.find("when 0 is next"), std::string::npos) << error;
  EXPECT_FALSE(receiver.receive(FeedItems{order, 0, {item(0)}, false}, out, error));
  EXPECT_TRUE(out.empty());
}

TEST_F(Feed, AClosedFeedDropsTheRestAndIsDone) {
  FeedSender sender(source);
  sender.credit(2, false);
  for (int k = 0; k < 5; ++k) sender.push(item(k));
  auto m = sender.next();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->items.size(), 2u);
  EXPECT_FALSE(sender.next()) << "no more than the credit";
  sender.credit(1000, true);
  EXPECT_TRUE(sender.done());
  EXPECT_EQ(sender.dropped(), 3u);
  sender.push(item(5));
  EXPECT_EQ(sender.dropped(), 4u);
  EXPECT_FALSE(sender.next());
}

} // namespace
} // namespace flo::fogger
