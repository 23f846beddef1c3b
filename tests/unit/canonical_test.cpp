/// \file
/// The canonical encoding: round trips, exact bytes against RFC 8949 Appendix A, key order,
/// rejection of every non-canonical form, limits, versioned records and the JSON rendering.
#include "core/canonical.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace flo::core {
namespace {

Bytes fromHex(std::string_view hex) {
  Bytes out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(std::uint8_t(std::stoul(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

std::string toHex(const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

/// Encodes, checks that decoding gives the value back and re-encoding the same bytes.
void expectRoundTrip(const Value& v) {
  Bytes bytes = encode(v);
  std::string error;
  std::optional<Value> back = decode(bytes, &error);
  ASSERT_TRUE(back) << toHex(bytes) << ": " << error;
  EXPECT_EQ(*back, v) << toHex(bytes);
  EXPECT_EQ(encode(*back), bytes);
}

/// Expects `hex` to be rejected with a message that contains `fragment`.
void expectRejected(std::string_view hex, std::string_view fragment,
                    const DecodeLimits& limits = {}) {
  std::string error;
  std::optional<Value> v = decode(fromHex(hex), &error, limits);
  EXPECT_FALSE(v) << hex << " was accepted";
  EXPECT_NE(error.find(fragment), std::string::npos) << hex << ": " << error;
  EXPECT_EQ(error.rfind("offset ", 0), 0u) << hex << ": " << error;
}

/// Expects `hex` to decode and re-encode to exactly itself.
void expectCanonical(std::string_view hex) {
  std::string error;
  std::optional<Value> v = decode(fromHex(hex), &error);
  ASSERT_TRUE(v) << hex << ": " << error;
  EXPECT_EQ(toHex(encode(*v)), hex);
}

TEST(CanonicalValue, IntegersFromInt64) {
  EXPECT_TRUE(Value(0).isUnsigned());
  EXPECT_TRUE(Value(std::int64_t(5)).isUnsigned());
  EXPECT_EQ(Value(std::int64_t(5)), Value(std::uint64_t(5)));
  EXPECT_TRUE(Value(-1).isNegative());
  EXPECT_EQ(Value(-1).negativeRaw(), 0u);
  EXPECT_EQ(Value(std::numeric_limits<std::int64_t>::min()).negativeRaw(),
            std::uint64_t(std::numeric_limits<std::int64_t>::max()));
  EXPECT_EQ(Value(-42).asInt64(), -42);
  EXPECT_EQ(Value(std::numeric_limits<std::int64_t>::min()).asInt64(),
            std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(Value(std::numeric_limits<std::int64_t>::max()).asInt64(),
            std::numeric_limits<std::int64_t>::max());
  EXPECT_FALSE(Value(std::uint64_t(1) << 63).asInt64());
  EXPECT_FALSE(Value::negative(std::uint64_t(1) << 63).asInt64());
  EXPECT_FALSE(Value("x").asInt64());
}

TEST(CanonicalValue, Find) {
  Value m(Value::Map{{"a", 1}, {"b", "two"}});
  ASSERT_NE(m.find("b"), nullptr);
  EXPECT_EQ(m.find("b")->asText(), "two");
  EXPECT_EQ(m.find("c"), nullptr);
  EXPECT_EQ(Value(1).find("a"), nullptr);
}

TEST(CanonicalRoundTrip, IntegerBoundaries) {
  const std::uint64_t unsignedCases[] = {0,
                                         1,
                                         23,
                                         24,
                                         255,
                                         256,
                                         65535,
                                         65536,
                                         0xffffffffull,
                                         1ull << 32,
                                         1ull << 53,
                                         (1ull << 53) + 1,
                                         1ull << 63,
                                         UINT64_MAX - 1,
                                         UINT64_MAX};
  for (std::uint64_t u : unsignedCases) expectRoundTrip(Value(u));
  const std::int64_t signedCases[] = {-1,          -23,       -24,           -25,      -255,
                                      -256,        -257,      -65536,        -65537,   -4294967296,
                                      -4294967297, INT64_MIN, INT64_MIN + 1, INT64_MAX};
  for (std::int64_t i : signedCases) expectRoundTrip(Value(i));
  expectRoundTrip(Value::negative(UINT64_MAX)); // -2^64
  expectRoundTrip(Value::negative(std::uint64_t(1) << 63));
}

TEST(CanonicalRoundTrip, StringsAndSimpleValues) {
  expectRoundTrip(Value(""));
  expectRoundTrip(Value(Bytes{}));
  expectRoundTrip(Value(Bytes{0, 1, 2, 0xff}));
  expectRoundTrip(Value("hello"));
  expectRoundTrip(Value("\xc3\xbc\xe6\xb0\xb4\xf0\x9f\x98\x80")); // ü, 水, 😀
  expectRoundTrip(Value(std::string(23, 'a')));
  expectRoundTrip(Value(std::string(24, 'a')));
  expectRoundTrip(Value(std::string(256, 'b')));
  expectRoundTrip(Value(std::string(70000, 'c')));
  expectRoundTrip(Value(Bytes(300, 7)));
  expectRoundTrip(Value(true));
  expectRoundTrip(Value(false));
  expectRoundTrip(Value(nullptr));
  expectRoundTrip(Value());
}

TEST(CanonicalRoundTrip, NestedContainers) {
  expectRoundTrip(Value(Value::Array{}));
  expectRoundTrip(Value(Value::Map{}));
  Value::Array big;
  for (int i = 0; i < 1000; ++i) big.push_back(Value(i - 500));
  expectRoundTrip(Value(big));
  Value nested(Value::Map{
      {"z", Value(Value::Array{1, "two", Value(Bytes{3}), Value(Value::Map{{"k", nullptr}})})},
      {"aa", Value(Value::Map{{"inner", Value(Value::Array{Value(Value::Array{})})}})},
      {"", true},
      {"\xc3\xa9", -7},
  });
  expectRoundTrip(nested);
  Value deep(1);
  for (int i = 0; i < 60; ++i) deep = Value(Value::Array{deep});
  expectRoundTrip(deep);
}

TEST(CanonicalEncode, AppendixAExamples) {
  EXPECT_EQ(toHex(encode(0)), "00");
  EXPECT_EQ(toHex(encode(1)), "01");
  EXPECT_EQ(toHex(encode(10)), "0a");
  EXPECT_EQ(toHex(encode(23)), "17");
  EXPECT_EQ(toHex(encode(24)), "1818");
  EXPECT_EQ(toHex(encode(25)), "1819");
  EXPECT_EQ(toHex(encode(100)), "1864");
  EXPECT_EQ(toHex(encode(1000)), "1903e8");
  EXPECT_EQ(toHex(encode(1000000)), "1a000f4240");
  EXPECT_EQ(toHex(encode(std::uint64_t(1000000000000))), "1b000000e8d4a51000");
  EXPECT_EQ(toHex(encode(UINT64_MAX)), "1bffffffffffffffff");
  EXPECT_EQ(toHex(encode(Value::negative(UINT64_MAX))), "3bffffffffffffffff");
  EXPECT_EQ(toHex(encode(-1)), "20");
  EXPECT_EQ(toHex(encode(-10)), "29");
  EXPECT_EQ(toHex(encode(-100)), "3863");
  EXPECT_EQ(toHex(encode(-1000)), "3903e7");
  EXPECT_EQ(toHex(encode(false)), "f4");
  EXPECT_EQ(toHex(encode(true)), "f5");
  EXPECT_EQ(toHex(encode(nullptr)), "f6");
  EXPECT_EQ(toHex(encode(Bytes{})), "40");
  EXPECT_EQ(toHex(encode(Bytes{1, 2, 3, 4})), "4401020304");
  EXPECT_EQ(toHex(encode("")), "60");
  EXPECT_EQ(toHex(encode("a")), "6161");
  EXPECT_EQ(toHex(encode("IETF")), "6449455446");
  EXPECT_EQ(toHex(encode("\"\\")), "62225c");
  EXPECT_EQ(toHex(encode("\xc3\xbc")), "62c3bc");
  EXPECT_EQ(toHex(encode("\xe6\xb0\xb4")), "63e6b0b4");
  EXPECT_EQ(toHex(encode("\xf0\x90\x85\x91")), "64f0908591");
  EXPECT_EQ(toHex(encode(Value::Array{})), "80");
  EXPECT_EQ(toHex(encode(Value::Array{1, 2, 3})), "83010203");
  EXPECT_EQ(toHex(encode(Value::Array{1, Value::Array{2, 3}, Value::Array{4, 5}})),
            "8301820203820405");
  Value::Array twentyFive;
  for (int i = 1; i <= 25; ++i) twentyFive.push_back(i);
  EXPECT_EQ(toHex(encode(twentyFive)),
            "98190102030405060708090a0b0c0d0e0f101112131415161718181819");
  EXPECT_EQ(toHex(encode(Value::Map{})), "a0");
  EXPECT_EQ(toHex(encode(Value::Map{{"a", 1}, {"b", Value::Array{2, 3}}})), "a26161016162820203");
  EXPECT_EQ(toHex(encode(Value::Array{"a", Value::Map{{"b", "c"}}})), "826161a161626163");
  EXPECT_EQ(toHex(encode(Value::Map{{"a", "A"}, {"b", "B"}, {"c", "C"}, {"d", "D"}, {"e", "E"}})),
            "a56161614161626142616361436164614461656145");
}

TEST(CanonicalEncode, KeysSortedByEncodedForm) {
  // std::map puts "aa" before "b"; the canonical order puts the shorter key first.
  Value m(Value::Map{{"aa", 1}, {"b", 2}});
  EXPECT_EQ(toHex(encode(m)), "a2616202626161"
                              "01");
  Value m2(Value::Map{{"ab", 0}, {"aa", 0}, {"c", 0}, {"", 0}, {"\xc3\xa9", 0}, {"z", 0}});
  // "" < "c" < "z" < "aa" < "ab" < "é" (0xc3 0xa9: two bytes, bytewise after "ab").
  EXPECT_EQ(toHex(encode(m2)), "a6"
                               "6000"
                               "616300"
                               "617a00"
                               "62616100"
                               "62616200"
                               "62c3a900");
  // A 24-byte key (head 0x78 0x18) sorts after every 23-byte key.
  Value m3(Value::Map{{std::string(24, 'a'), 0}, {std::string(23, 'z'), 0}});
  Bytes bytes = encode(m3);
  EXPECT_EQ(bytes[1], 0x77);
  expectRoundTrip(m3);
}

TEST(CanonicalDecode, AcceptsCanonicalBytes) {
  for (std::string_view hex : {"00",
                               "17",
                               "1818",
                               "18ff",
                               "190100",
                               "19ffff",
                               "1a00010000",
                               "1affffffff",
                               "1b0000000100000000",
                               "1bffffffffffffffff",
                               "20",
                               "37",
                               "3818",
                               "3bffffffffffffffff",
                               "40",
                               "60",
                               "6161",
                               "80",
                               "a0",
                               "f4",
                               "f5",
                               "f6",
                               "a26161016162820203",
                               "a2616202626161"
                               "01",
                               "8301820203820405",
                               "62c3bc",
                               "64f0908591",
                               "63efbfbf",
                               "64f48fbfbf"})
    expectCanonical(hex);
}

TEST(CanonicalDecode, RejectsTruncation) {
  expectRejected("", "truncated");
  expectRejected("18", "truncated");
  expectRejected("19ff", "truncated");
  expectRejected("1a000001", "truncated");
  expectRejected("1b00000001000000", "truncated");
  expectRejected("6261", "truncated");
  expectRejected("4301", "truncated");
  expectRejected("83", "truncated");
  expectRejected("8201", "truncated");
  expectRejected("a16161", "truncated");
  expectRejected("a1", "truncated");
}

TEST(CanonicalDecode, RejectsTrailingBytes) {
  expectRejected("0000", "trailing");
  expectRejected("f6f6", "trailing");
  expectRejected("8001", "trailing");
  std::string error;
  EXPECT_FALSE(decode(fromHex("616100"), &error));
  EXPECT_EQ(error, "offset 2: 1 trailing byte(s)");
}

TEST(CanonicalDecode, RejectsNonShortestArguments) {
  expectRejected("1800", "shortest");               // 0 in one byte
  expectRejected("1817", "shortest");               // 23 in one byte
  expectRejected("190018", "shortest");             // 24 in two bytes
  expectRejected("1900ff", "shortest");             // 255 in two bytes
  expectRejected("1a0000ffff", "shortest");         // 65535 in four bytes
  expectRejected("1b00000000ffffffff", "shortest"); // 2^32-1 in eight bytes
  expectRejected("3800", "shortest");               // -1 in one byte
  expectRejected("5801ff", "shortest");             // length 1 in one byte
  expectRejected("780161", "shortest");             // text length 1 in one byte
  expectRejected("98020102", "shortest");           // array count 2 in one byte
  expectRejected("b800", "shortest");               // map count 0 in one byte
  expectRejected("81190017", "shortest");           // nested
  std::string error;
  EXPECT_FALSE(decode(fromHex("821900ff01"), &error));
  EXPECT_EQ(error.rfind("offset 1:", 0), 0u) << error;
}

TEST(CanonicalDecode, RejectsIndefiniteAndReserved) {
  expectRejected("5f42010243030405ff", "indefinite");
  expectRejected("7f6161ff", "indefinite");
  expectRejected("9f01ff", "indefinite");
  expectRejected("bf616101ff", "indefinite");
  expectRejected("1f", "indefinite");
  expectRejected("3f", "indefinite");
  expectRejected("ff", "break");
  expectRejected("1c", "reserved");
  expectRejected("1d", "reserved");
  expectRejected("3e", "reserved");
  expectRejected("5c", "reserved");
  expectRejected("9e", "reserved");
  expectRejected("fc", "reserved");
}

TEST(CanonicalDecode, RejectsBadMapKeys) {
  expectRejected("a10101", "not a text string");              // {1: 1}
  expectRejected("a1410101", "not a text string");            // {h'01': 1}
  expectRejected("a180f6", "not a text string");              // {[]: null}
  expectRejected("a2616201616102", "out of canonical order"); // "b" before "a"
  expectRejected("a2626161016162"
                 "02",
                 "out of canonical order");      // "aa" before "b"
  expectRejected("a2616101616102", "duplicate"); // "a" twice
  std::string error;
  EXPECT_FALSE(decode(fromHex("a2616201616102"), &error));
  EXPECT_EQ(error.rfind("offset 4:", 0), 0u) << error;
}

TEST(CanonicalDecode, RejectsInvalidUtf8) {
  expectRejected("61ff", "UTF-8");
  expectRejected("6180", "UTF-8");       // lone continuation
  expectRejected("62c0af", "UTF-8");     // overlong '/'
  expectRejected("62c1bf", "UTF-8");     // overlong
  expectRejected("63e080af", "UTF-8");   // overlong three-byte
  expectRejected("64f08080af", "UTF-8"); // overlong four-byte
  expectRejected("63eda080", "UTF-8");   // surrogate U+D800
  expectRejected("63edbfbf", "UTF-8");   // surrogate U+DFFF
  expectRejected("64f4908080", "UTF-8"); // above U+10FFFF
  expectRejected("61c3", "UTF-8");       // cut short
  expectRejected("62e6b0", "UTF-8");     // cut short
  expectRejected("62c328", "UTF-8");     // bad continuation
  expectRejected("a161ff00", "UTF-8");   // in a map key
  std::string error;
  EXPECT_FALSE(decode(fromHex("8263616263"
                              "62c328"),
                      &error));
  EXPECT_EQ(error.rfind("offset 7:", 0), 0u) << error;
}

TEST(CanonicalDecode, RejectsFloatsTagsAndSimpleValues) {
  expectRejected("f93c00", "floating-point");
  expectRejected("fa47c35000", "floating-point");
  expectRejected("fb3ff199999999999a", "floating-point");
  expectRejected("c11a514b67b0", "tags");
  expectRejected("d82076687474703a2f2f7777772e6578616d706c652e636f6d", "tags");
  expectRejected("f7", "undefined");
  expectRejected("f0", "simple value");
  expectRejected("f3", "simple value");
  expectRejected("e0", "simple value");
  expectRejected("f810", "simple value");
  expectRejected("f8ff", "simple value");
  expectRejected("8201f7", "undefined");
}

TEST(CanonicalDecode, EnforcesLimits) {
  DecodeLimits limits;
  limits.maxDepth = 3;
  expectCanonical("838080"
                  "818100");
  EXPECT_TRUE(decode(fromHex("818181"
                             "00"),
                     nullptr, limits));
  expectRejected("81818181"
                 "00",
                 "nesting", limits);
  expectRejected("a1616181a0"
                 "",
                 "nesting", DecodeLimits{2, 100, 100});
  limits = {};
  limits.maxItems = 2;
  EXPECT_TRUE(decode(fromHex("820102"), nullptr, limits));
  expectRejected("83010203", "limit", limits);
  expectRejected("a3616101616202616303", "limit", limits);
  limits = {};
  limits.maxLength = 2;
  EXPECT_TRUE(decode(fromHex("426161"), nullptr, limits));
  expectRejected("43616161", "limit", limits);
  expectRejected("63616161", "limit", limits);
  // Huge declared lengths and counts are rejected without allocating for them.
  expectRejected("9bffffffffffffffff", "limit");
  expectRejected("9a000fffff", "truncated");
  expectRejected("ba000fffff", "truncated");
  expectRejected("5affffffff", "limit");
  expectRejected("5a00ffffff", "truncated");
  expectRejected("7a00ffffff", "truncated");
  DecodeLimits unlimited{64, SIZE_MAX, SIZE_MAX};
  expectRejected("9bffffffffffffffff", "truncated", unlimited);
  expectRejected("bbffffffffffffffff", "truncated", unlimited);
  expectRejected("5bffffffffffffffff", "truncated", unlimited);
  // The default depth limit: 64 nested arrays decode, 65 do not.
  Bytes deep(64, 0x81);
  deep.push_back(0);
  EXPECT_TRUE(decode(deep));
  deep.insert(deep.begin(), 0x81);
  std::string error;
  EXPECT_FALSE(decode(deep, &error));
  EXPECT_NE(error.find("nesting"), std::string::npos) << error;
}

TEST(CanonicalRecord, RoundTrip) {
  Record r;
  r.type = "tx";
  r.body = {{"amount", 5}, {"to", Bytes{1, 2}}, {"memo", "hi"}};
  Bytes bytes = encodeRecord(r);
  EXPECT_EQ(toHex(Bytes(bytes.begin(), bytes.begin() + 11)), "8466646966756f6e016274");
  std::string error;
  std::optional<Record> back = decodeRecord(bytes, "tx", &error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->type, "tx");
  EXPECT_EQ(back->version, kEncodingVersion);
  EXPECT_EQ(back->body, r.body);
  EXPECT_TRUE(decodeRecord(bytes, "", &error));
}

TEST(CanonicalRecord, IsTheEncodingOfItsArray) {
  // encodeRecord writes the envelope itself; it must stay encode(["difuon", v, type, body]),
  // for maps sorted on the stack and for those too large for it (keys of mixed lengths, so
  // the canonical order is not std::map's).
  for (std::size_t keys : {0, 3, 32, 33, 200}) {
    Record r;
    r.type = "block";
    r.version = 7;
    for (std::size_t i = 0; i < keys; ++i)
      r.body.emplace(std::string(1 + i % 5, char('a' + i % 26)) + std::to_string(i),
                     Value::Map{{"k" + std::to_string(i), Bytes(i, 0xab)}, {"z", i}});
    Value array(Value::Array{"difuon", r.version, r.type, r.body});
    EXPECT_EQ(encodeRecord(r), encode(array)) << keys << " keys";
    EXPECT_EQ(decode(encodeRecord(r)), std::optional<Value>(array)) << keys << " keys";
  }
}

TEST(CanonicalRecord, Rejections) {
  auto reject = [](const Bytes& bytes, std::string_view type, std::string_view fragment) {
    std::string error;
    EXPECT_FALSE(decodeRecord(bytes, type, &error)) << toHex(bytes);
    EXPECT_NE(error.find(fragment), std::string::npos) << error;
  };
  Record r;
  r.type = "block";
  r.body = {{"height", 7}};
  reject(encodeRecord(r), "tx", "expected a record of type \"tx\", got \"block\"");
  r.version = 2;
  reject(encodeRecord(r), "block", "unsupported encoding version 2");
  reject(encode(Value::Array{"difuon", 1, "tx", Value::Map{}, 0}), "", "array of 4");
  reject(encode(Value::Map{}), "", "array of 4");
  reject(encode(Value::Array{"flotsam", 1, "tx", Value::Map{}}), "", "magic");
  reject(encode(Value::Array{Bytes{1}, 1, "tx", Value::Map{}}), "", "magic");
  reject(encode(Value::Array{"difuon", -1, "tx", Value::Map{}}), "", "version");
  reject(encode(Value::Array{"difuon", 1, 5, Value::Map{}}), "", "type");
  reject(encode(Value::Array{"difuon", 1, "tx", Value::Array{}}), "", "body");
  reject(fromHex("846664696675"), "", "truncated");
}

TEST(CanonicalJson, Rendering) {
  Value v(Value::Map{
      {"u", 5},
      {"n", -5},
      {"big", UINT64_MAX},
      {"safe", std::uint64_t(1) << 53},
      {"unsafe", (std::uint64_t(1) << 53) + 1},
      {"minSafe", Value::negative((std::uint64_t(1) << 53) - 1)},
      {"neg", Value::negative(std::uint64_t(1) << 53)},
      {"min", Value::negative(UINT64_MAX)},
      {"b", Bytes{0x00, 0xab, 0xff}},
      {"t", "text"},
      {"a", Value::Array{true, false, nullptr}},
  });
  nlohmann::json j = nlohmann::json::parse(toJson(v));
  EXPECT_EQ(j["u"], 5);
  EXPECT_EQ(j["n"], -5);
  EXPECT_EQ(j["big"], "18446744073709551615");
  EXPECT_EQ(j["safe"], 9007199254740992ull);
  EXPECT_EQ(j["unsafe"], "9007199254740993");
  EXPECT_EQ(j["minSafe"], -9007199254740992ll);
  EXPECT_EQ(j["neg"], "-9007199254740993");
  EXPECT_EQ(j["min"], "-18446744073709551616");
  EXPECT_EQ(j["b"], nlohmann::json({{"$bytes", "00abff"}}));
  EXPECT_EQ(j["t"], "text");
  EXPECT_EQ(j["a"], nlohmann::json::parse("[true,false,null]"));
  EXPECT_EQ(toJson(Value::Array{1, "x"}, -1), "[1,\"x\"]");
  // Invalid UTF-8 in a hand-built value is replaced, not thrown.
  EXPECT_NO_THROW(toJson(Value(std::string("\xff"))));
}

} // namespace
} // namespace flo::core
