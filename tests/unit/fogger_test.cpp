// The deployer-fogger messages and output chains (fogger/wire.h, fogger/chain.h): messages round
// trip and bad ones are refused with a reason; a fogger's signed output passes the deployer's
// check, and every way of tampering with it (a line, the order of items, another signer, the
// head, the item count, a record of another job) is caught.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "fogger/chain.h"
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
      BundleOffer{order, "thermostat", 3, "x86_64-linux-gnu", {1, 2, 3}, {4, 5}},
      make(records, resultOf(records), fogger), Refusal{order, "not assigned"}};
  for (const auto& m : all) {
    core::Bytes bytes = encode(m);
    std::string error;
    auto back = decode(bytes, &error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(*back, m);
    // Seeds for the fuzz target (tests/fuzz/fogger_corpus), written when asked.
    if (const char* dir = std::getenv("FLO_WRITE_FOGGER_SEEDS")) {
      std::ofstream(std::filesystem::path(dir) / ("seed-" + std::to_string(m.index())),
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

} // namespace
} // namespace flo::fogger
