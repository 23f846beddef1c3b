/// \file
/// The deployer-fogger messages (see wire.h).
#include "fogger/wire.h"

#include "pool/wire/fields.h"

namespace flo::fogger {

using core::Value;
using pool::Fields;

namespace {

Value::Map body(const BundleOffer& m) {
  return {{"order", core::toBytes(m.order)}, {"job", m.job},
          {"runs", std::uint64_t(m.runs)},   {"triple", m.triple},
          {"manifest", m.manifest},          {"object", m.object}};
}
Value::Map body(const RunOutput& m) {
  Value::Array records, payloads;
  for (const auto& r : m.records) records.emplace_back(r);
  for (const auto& p : m.payloads) payloads.emplace_back(p);
  return {{"result", m.result},
          {"sig", core::toBytes(m.signature)},
          {"records", std::move(records)},
          {"payloads", std::move(payloads)},
          {"log", m.log}};
}
Value::Map body(const Refusal& m) {
  return {{"order", core::toBytes(m.order)}, {"reason", m.reason}};
}

void read(Fields& f, BundleOffer& m) {
  f.only({"order", "job", "runs", "triple", "manifest", "object"});
  m.order = f.fixed<32>("order");
  m.job = f.text("job", pool::PlaceOrder::kMaxJob);
  m.runs = std::uint32_t(f.u64Max("runs", pool::PlaceOrder::kMaxRuns));
  m.triple = f.text("triple", 64);
  m.manifest = f.bytes("manifest", BundleOffer::kMaxManifest);
  m.object = f.bytes("object", BundleOffer::kMaxObject);
}
void read(Fields& f, RunOutput& m) {
  f.only({"result", "sig", "records", "payloads", "log"});
  m.result = f.bytes("result", pool::SlashFogger::kMaxStatement);
  m.signature = f.fixed<64>("sig");
  const auto* records = f.array("records", RunOutput::kMaxItems);
  const auto* payloads = f.array("payloads", RunOutput::kMaxItems);
  m.log = f.text("log", RunOutput::kMaxLog);
  if (!records || !payloads) return;
  for (const auto& r : *records) {
    if (!r.isBytes() || r.asBytes().size() > 16384) return f.fail("records: expected records");
    m.records.push_back(r.asBytes());
  }
  for (const auto& p : *payloads) {
    if (!p.isText() || p.asText().size() > RunOutput::kMaxLine)
      return f.fail("payloads: expected lines of at most " + std::to_string(RunOutput::kMaxLine) +
                    " bytes");
    m.payloads.push_back(p.asText());
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
