/// \file
/// The deployer-fogger messages (see wire.h).
#include "fogger/wire.h"

#include "pool/wire/fields.h"

namespace flo::fogger {

using core::Value;
using pool::Fields;

namespace {

Value::Array texts(const std::vector<std::string>& list) {
  Value::Array out;
  for (const auto& t : list) out.emplace_back(t);
  return out;
}

/// A list of at most `max` texts of at most `maxLength` bytes each (`what` names them in the
/// error).
std::vector<std::string> readTexts(Fields& f, std::string_view key, std::size_t max,
                                   std::size_t maxLength, std::string_view what = "texts") {
  std::vector<std::string> out;
  const auto* list = f.array(key, max);
  if (!list) return out;
  for (const auto& t : *list) {
    if (!t.isText() || t.asText().size() > maxLength) {
      f.fail(std::string(key) + ": expected " + std::string(what) + " of at most " +
             std::to_string(maxLength) + " bytes");
      return {};
    }
    out.push_back(t.asText());
  }
  return out;
}

Value::Map body(const BundleOffer& m) {
  Value::Map b = {{"order", core::toBytes(m.order)}, {"job", m.job},
                  {"runs", std::uint64_t(m.runs)},   {"triple", m.triple},
                  {"manifest", m.manifest},          {"object", m.object}};
  // The feed fields only when there is a feed: an offer without one is as it always was.
  if (!m.feedOut.empty()) b.emplace("feed_out", texts(m.feedOut));
  if (m.feedIn)
    b.emplace("feed_in", Value::Map{{"order", core::toBytes(m.feedIn->order)},
                                    {"fogger", m.feedIn->fogger},
                                    {"address", m.feedIn->address}});
  return b;
}
Value::Map body(const Probe&) {
  return {};
}
Value::Map body(const FeedCredit& m) {
  return {{"source", core::toBytes(m.source)},
          {"order", core::toBytes(m.order)},
          {"up_to", m.upTo},
          {"closed", m.closed}};
}
Value::Map body(const FeedItems& m) {
  return {{"source", core::toBytes(m.source)},
          {"first", m.first},
          {"items", texts(m.items)},
          {"end", m.end}};
}
Value::Map body(const RunOutput& m) {
  Value::Array records;
  for (const auto& r : m.records) records.emplace_back(r);
  return {{"result", m.result},
          {"sig", core::toBytes(m.signature)},
          {"records", std::move(records)},
          {"payloads", texts(m.payloads)},
          {"log", m.log}};
}
Value::Map body(const Refusal& m) {
  return {{"order", core::toBytes(m.order)}, {"reason", m.reason}};
}

void read(Fields& f, BundleOffer& m) {
  f.only({"order", "job", "runs", "triple", "manifest", "object", "feed_out", "feed_in"});
  m.order = f.fixed<32>("order");
  m.job = f.text("job", pool::PlaceOrder::kMaxJob);
  m.runs = std::uint32_t(f.u64Max("runs", pool::PlaceOrder::kMaxRuns));
  m.triple = f.text("triple", 64);
  m.manifest = f.bytes("manifest", BundleOffer::kMaxManifest);
  m.object = f.bytes("object", BundleOffer::kMaxObject);
  if (f.has("feed_out")) {
    m.feedOut = readTexts(f, "feed_out", BundleOffer::kMaxFeedOut, 1024);
    if (m.feedOut.empty()) f.fail("feed_out: expected at least one share");
  }
  if (f.has("feed_in")) {
    const Value::Map* in = f.map("feed_in");
    if (!in) return;
    Fields g(*in);
    g.only({"order", "fogger", "address"});
    FeedSource s;
    s.order = g.fixed<32>("order");
    s.fogger = g.text("fogger", 256);
    s.address = g.text("address", 256);
    if (!g.ok()) return f.fail("feed_in: " + g.error());
    m.feedIn = std::move(s);
  }
}
void read(Fields& f, Probe&) {
  f.only({});
}
void read(Fields& f, FeedCredit& m) {
  f.only({"source", "order", "up_to", "closed"});
  m.source = f.fixed<32>("source");
  m.order = f.fixed<32>("order");
  m.upTo = f.u64("up_to");
  m.closed = f.flag("closed");
}
void read(Fields& f, FeedItems& m) {
  f.only({"source", "first", "items", "end"});
  m.source = f.fixed<32>("source");
  m.first = f.u64("first");
  m.items = readTexts(f, "items", FeedItems::kMaxItems, FeedItems::kMaxItem);
  m.end = f.flag("end");
  if (m.first > (std::uint64_t(1) << 62)) f.fail("first: out of range");
}
void read(Fields& f, RunOutput& m) {
  f.only({"result", "sig", "records", "payloads", "log"});
  m.result = f.bytes("result", pool::SlashFogger::kMaxStatement);
  m.signature = f.fixed<64>("sig");
  const auto* records = f.array("records", RunOutput::kMaxItems);
  m.payloads = readTexts(f, "payloads", RunOutput::kMaxItems, RunOutput::kMaxLine, "lines");
  m.log = f.text("log", RunOutput::kMaxLog);
  if (!records || !f.ok()) return;
  for (const auto& r : *records) {
    if (!r.isBytes() || r.asBytes().size() > 16384) return f.fail("records: expected records");
    m.records.push_back(r.asBytes());
  }
  if (m.records.size() != m.payloads.size()) f.fail("a payload for every record");
}
void read(Fields& f, Refusal& m) {
  f.only({"order", "reason"});
  m.order = f.fixed<32>("order");
  m.reason = f.text("reason", 1024);
}

template <std::size_t I = 0> bool readMessage(std::string_view name, Fields& f, Message& out) {
  if constexpr (I == std::variant_size_v<Message>) {
    return false;
  } else {
    using Kind = std::variant_alternative_t<I, Message>;
    if (name == Kind::kName) {
      Kind k;
      read(f, k);
      out = std::move(k);
      return true;
    }
    return readMessage<I + 1>(name, f, out);
  }
}

} // namespace

Bytes encode(const Message& m) {
  Value::Map b = std::visit([](const auto& x) { return body(x); }, m);
  b.emplace("kind", std::string(std::visit(
                        [](const auto& x) { return std::decay_t<decltype(x)>::kName; }, m)));
  return core::encodeRecord({"fogger", core::kEncodingVersion, std::move(b)});
}

std::optional<Message> decode(const Bytes& data, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Message> {
    if (error) *error = "fogger message: " + std::move(why);
    return std::nullopt;
  };
  std::string why;
  auto record = core::decodeRecord(data, "fogger", &why);
  if (!record) return fail(why);
  auto kind = record->body.find("kind");
  if (kind == record->body.end() || !kind->second.isText()) return fail("no kind");
  std::string name = kind->second.asText();
  record->body.erase(kind);
  Fields f(record->body);
  Message m;
  if (!readMessage(name, f, m)) return fail("unknown kind '" + name + "'");
  if (!f.ok()) return fail(name + ": " + f.error());
  return m;
}

} // namespace flo::fogger
