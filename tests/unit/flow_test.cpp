/// \file
/// runtime/flow partitioned `by FIELD` (docs/runtime.md, "Flows"): what a key may be, the
/// order partitions are made and written in, the `max` limit, and a job's runs keeping the
/// partitions while emptying their windows. The end-to-end behaviour, codegen included, is in
/// tests/golden/flows/by_field.flo.
#include "runtime/flow.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace flo::rt {
namespace {

FloValue number(double x) {
  FloValue v{};
  v.tag = FLO_FLOAT;
  v.u.f = x;
  return v;
}

FloValue integer(std::int64_t i) {
  FloValue v{};
  v.tag = FLO_INT;
  v.u.i = i;
  return v;
}

FloValue boolean(bool b) {
  FloValue v{};
  v.tag = FLO_BOOL;
  v.u.i = b;
  return v;
}

FloValue text(const char* s) {
  FloValue v{};
  v.tag = FLO_STR;
  v.u.s = s;
  v.aux = std::uint32_t(std::char_traits<char>::length(s));
  return v;
}

std::string keyOf(const FloValue& v) {
  std::string out;
  return flowKeyText(v, out) ? out : "<none>";
}

TEST(FlowByField, KeysAreIntsBoolsAndNames) {
  EXPECT_EQ(keyOf(integer(7)), "7");
  EXPECT_EQ(keyOf(integer(-12)), "-12");
  EXPECT_EQ(keyOf(boolean(true)), "True");
  EXPECT_EQ(keyOf(boolean(false)), "False");
  EXPECT_EQ(keyOf(text("kitchen")), "kitchen");
  EXPECT_EQ(keyOf(text("room_2-b")), "room_2-b");
  EXPECT_EQ(keyOf(text("a.b")), "<none>"); // a dot would add a path segment
  EXPECT_EQ(keyOf(text("a b")), "<none>");
  EXPECT_EQ(keyOf(text("")), "<none>");
  EXPECT_EQ(keyOf(text("caf\xc3\xa9")), "<none>"); // ASCII only, whatever the locale
  std::string longest(255, 'k'), tooLong(256, 'k');
  EXPECT_EQ(keyOf(text(longest.c_str())), longest);
  EXPECT_EQ(keyOf(text(tooLong.c_str())), "<none>");
  EXPECT_EQ(keyOf(number(1.0)), "<none>");
  EXPECT_EQ(keyOf(FloValue{}), "<none>"); // None
}

struct Written {
  std::string key;
  double value;
};

/// A flow `by FIELD max 2` over one record source, windows of one pass, reducing with `sum`.
struct Harness {
  FloCtx ctx{};
  std::vector<Written> out;
  Flow flow;

  static FlowDef def() {
    FlowDef d;
    d.name = "perroom";
    d.reducer = FlowReducer::Sum;
    d.partitionLimit = 2;
    d.into = ".avg.*";
    d.sources.push_back(FlowSource{0, 0, 0, 1});
    return d;
  }
  Harness()
      : flow(
            def(), ctx,
            [this](std::uint32_t p, FloValue v) { out.push_back({flow.key(p), v.u.f}); }, [] {}) {}
  void item(double x, const FloValue& key, double time) { flow.written(0, number(x), time, &key); }
};

TEST(FlowByField, PartitionsInFirstSeenOrderUpToTheLimit) {
  Harness h;
  h.item(1.0, text("b"), 0.0);
  h.item(2.0, text("a"), 0.0);
  h.item(4.0, text("b"), 0.0);
  h.item(8.0, text("c"), 0.0);   // a third key: beyond `max 2`
  h.item(16.0, FloValue{}, 0.0); // None: no key
  h.flow.run(0.0);
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out[0].key, "b"); // first seen, not sorted
  EXPECT_EQ(h.out[0].value, 5.0);
  EXPECT_EQ(h.out[1].key, "a");
  EXPECT_EQ(h.out[1].value, 2.0);
  EXPECT_EQ(h.flow.partitions(), 2u);
  EXPECT_EQ(h.flow.stats().overflow, 1u);
  EXPECT_EQ(h.flow.stats().unkeyed, 1u);
  EXPECT_EQ(h.flow.stats().items, 3u);
}

TEST(FlowByField, ARejectedValueMakesNoPartition) {
  Harness h;
  const FloValue a = text("a");
  h.flow.written(0, text("hot"), 0.0, &a); // not a number: rejected before its key is read
  h.item(1.0, text("b"), 0.0);
  h.item(2.0, text("a"), 0.0);
  h.flow.run(0.0);
  ASSERT_EQ(h.out.size(), 2u);
  EXPECT_EQ(h.out[0].key, "b");
  EXPECT_EQ(h.flow.stats().rejected, 1u);
}

TEST(FlowByField, AJobsRunsKeepThePartitionsNotTheirWindows) {
  Harness h;
  h.flow.resume(0.0);
  h.item(1.0, text("b"), 0.0);
  h.item(2.0, text("a"), 0.0);
  h.flow.pause(); // the run ends before the flow's turn: nothing written
  h.flow.resume(1.0);
  h.item(4.0, text("c"), 1.0); // still beyond the limit: b and a stay
  h.item(8.0, text("a"), 1.0);
  h.flow.run(1.0);
  ASSERT_EQ(h.out.size(), 1u);
  EXPECT_EQ(h.out[0].key, "a");
  EXPECT_EQ(h.out[0].value, 8.0);
  EXPECT_EQ(h.flow.stats().overflow, 1u);
}

} // namespace
} // namespace flo::rt
