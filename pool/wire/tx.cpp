/// \file
/// Ledger transactions (see tx.h).
#include "pool/wire/tx.h"

#include <algorithm>

namespace flo::pool {

using core::toBytes;

Value::Map Transfer::body() const {
  return {{"to", toBytes(to)}, {"amount", amount}};
}
Transfer Transfer::read(Fields& f) {
  f.only({"to", "amount"});
  return {f.fixed<32>("to"), f.u64("amount")};
}

Value::Map Stake::body() const {
  return {{"amount", amount}};
}
Stake Stake::read(Fields& f) {
  f.only({"amount"});
  return {f.u64("amount")};
}

Value::Map Unstake::body() const {
  return {{"amount", amount}};
}
Unstake Unstake::read(Fields& f) {
  f.only({"amount"});
  return {f.u64("amount")};
}

Value::Map RegisterProvider::body() const {
  Value::Array arches;
  for (const auto& a : architectures) arches.emplace_back(a);
  Value::Map m{{"architectures", std::move(arches)},
               {"cores", std::uint64_t(cores)},
               {"memory_mib", memoryMiB},
               {"zone", zone},
               {"price", price}};
  if (!address.empty()) m.emplace("address", address); // absent when empty: older encodings hold
  return m;
}
RegisterProvider RegisterProvider::read(Fields& f) {
  f.only({"architectures", "cores", "memory_mib", "zone", "price", "address"});
  RegisterProvider p;
  if (const auto* arches = f.array("architectures", kMaxArchitectures)) {
    for (const auto& a : *arches) {
      if (!a.isText() || a.asText().empty() || a.asText().size() > kMaxName) {
        f.fail("architectures: expected names of 1 to " + std::to_string(kMaxName) + " bytes");
        break;
      }
      p.architectures.push_back(a.asText());
    }
    if (!std::is_sorted(p.architectures.begin(), p.architectures.end()) ||
        std::adjacent_find(p.architectures.begin(), p.architectures.end()) != p.architectures.end())
      f.fail("architectures: expected sorted, distinct names");
  }
  p.cores = std::uint32_t(f.u64Max("cores", 1u << 16));
  p.memoryMiB = f.u64Max("memory_mib", std::uint64_t(1) << 40);
  p.zone = f.text("zone", kMaxName);
  p.price = f.u64("price");
  if (f.has("address")) p.address = f.text("address", kMaxAddress);
  return p;
}

Value::Map DeployContract::body() const {
  return {{"source", source}};
}
DeployContract DeployContract::read(Fields& f) {
  f.only({"source"});
  return {f.text("source", kMaxSource)};
}

Value::Map CallContract::body() const {
  Value::Array a;
  for (const auto& x : args) a.emplace_back(x);
  return {{"contract", contract}, {"action", action}, {"args", std::move(a)}, {"value", value}};
}
CallContract CallContract::read(Fields& f) {
  f.only({"contract", "action", "args", "value"});
  CallContract c;
  c.contract = f.text("contract", kMaxName);
  c.action = f.text("action", kMaxName);
  if (const auto* args = f.array("args", kMaxArgs))
    for (const auto& a : *args) {
      if (!a.isText() || a.asText().size() > kMaxArg) {
        f.fail("args: expected texts of at most " + std::to_string(kMaxArg) + " bytes");
        break;
      }
      c.args.push_back(a.asText());
    }
  c.value = f.u64("value");
  return c;
}

Value::Map StakeContract::body() const {
  return {{"contract", contract}, {"amount", amount}};
}
StakeContract StakeContract::read(Fields& f) {
  f.only({"contract", "amount"});
  return {f.text("contract", CallContract::kMaxName), f.u64("amount")};
}

Value::Map UnstakeContract::body() const {
  return {{"contract", contract}, {"amount", amount}};
}
UnstakeContract UnstakeContract::read(Fields& f) {
  f.only({"contract", "amount"});
  return {f.text("contract", CallContract::kMaxName), f.u64("amount")};
}

namespace {

Value::Array idList(const std::vector<AccountId>& ids) {
  Value::Array a;
  for (const auto& id : ids) a.emplace_back(toBytes(id));
  return a;
}

} // namespace

Value::Map PlaceOrder::body() const {
  return {{"manifest", toBytes(manifest)},
          {"job", job},
          {"arch", arch},
          {"memory_mib", memoryMiB},
          {"milli_cores", std::uint64_t(milliCores)},
          {"runs", std::uint64_t(runs)},
          {"replicas", std::uint64_t(replicas)},
          {"cost_bound", costBound},
          {"max_price", maxPrice},
          {"timeout_ms", timeoutMs}};
}
PlaceOrder PlaceOrder::read(Fields& f) {
  f.only({"manifest", "job", "arch", "memory_mib", "milli_cores", "runs", "replicas", "cost_bound",
          "max_price", "timeout_ms"});
  PlaceOrder o;
  o.manifest = f.fixed<32>("manifest");
  o.job = f.text("job", kMaxJob);
  o.arch = f.text("arch", RegisterProvider::kMaxName);
  o.memoryMiB = f.u64Max("memory_mib", std::uint64_t(1) << 40);
  o.milliCores = std::uint32_t(f.u64Max("milli_cores", 1u << 26));
  o.runs = std::uint32_t(f.u64Max("runs", kMaxRuns));
  o.replicas = std::uint32_t(f.u64Max("replicas", kMaxReplicas));
  o.costBound = f.u64("cost_bound");
  o.maxPrice = f.u64("max_price");
  o.timeoutMs = f.u64Max("timeout_ms", kMaxTimeoutMs);
  return o;
}

Value::Map AssignOrder::body() const {
  return {{"order", toBytes(order)}, {"foggers", idList(foggers)}};
}
AssignOrder AssignOrder::read(Fields& f) {
  f.only({"order", "foggers"});
  AssignOrder a;
  a.order = f.fixed<32>("order");
  if (const auto* list = f.array("foggers", PlaceOrder::kMaxReplicas))
    for (const auto& v : *list) {
      auto id = fixedOf<32>(v);
      if (!id) {
        f.fail("foggers: expected 32-byte account ids");
        break;
      }
      a.foggers.push_back(*id);
    }
  return a;
}

Value::Map StartRun::body() const {
  return {{"order", toBytes(order)}};
}
StartRun StartRun::read(Fields& f) {
  f.only({"order"});
  return {f.fixed<32>("order")};
}

Value::Map RunResult::body() const {
  return {{"order", toBytes(order)},
          {"head", toBytes(head)},
          {"items", items},
          {"work", work},
          {"runs", std::uint64_t(runs)},
          {"status", std::uint64_t(status)}};
}
RunResult RunResult::read(Fields& f) {
  f.only({"order", "head", "items", "work", "runs", "status"});
  RunResult r;
  r.order = f.fixed<32>("order");
  r.head = f.fixed<32>("head");
  r.items = f.u64("items");
  r.work = f.u64("work");
  r.runs = std::uint32_t(f.u64Max("runs", PlaceOrder::kMaxRuns));
  r.status = std::uint32_t(f.u64Max("status", 255));
  return r;
}
Bytes RunResult::encode() const {
  return core::encodeRecord({"run-result", core::kEncodingVersion, body()});
}
std::optional<RunResult> RunResult::decode(const Bytes& data, std::string* error) {
  std::string why;
  auto record = core::decodeRecord(data, "run-result", &why);
  if (!record) {
    if (error) *error = "run result: " + why;
    return std::nullopt;
  }
  Fields f(record->body);
  RunResult r = read(f);
  if (!f.ok()) {
    if (error) *error = "run result: " + f.error();
    return std::nullopt;
  }
  return r;
}

Bytes runResultMessage(const RunResult& r) {
  std::string_view tag = "difuon/run-result/1";
  Bytes m(tag.begin(), tag.end());
  Bytes e = r.encode();
  m.insert(m.end(), e.begin(), e.end());
  return m;
}

Value::Map Receipt::body() const {
  return result.body();
}
Receipt Receipt::read(Fields& f) {
  return {RunResult::read(f)};
}

Value::Map CancelOrder::body() const {
  return {{"order", toBytes(order)}};
}
CancelOrder CancelOrder::read(Fields& f) {
  f.only({"order"});
  return {f.fixed<32>("order")};
}

Value::Map SlashFogger::body() const {
  return {{"fogger", toBytes(fogger)}, {"statement", statement}, {"sig", toBytes(signature)}};
}
SlashFogger SlashFogger::read(Fields& f) {
  f.only({"fogger", "statement", "sig"});
  SlashFogger s;
  s.fogger = f.fixed<32>("fogger");
  s.statement = f.bytes("statement", kMaxStatement);
  s.signature = f.fixed<64>("sig");
  return s;
}

Digest orderId(const AccountId& owner, std::uint64_t nonce) {
  std::string_view tag = "difuon/order/1";
  Bytes b(tag.begin(), tag.end());
  b.insert(b.end(), owner.begin(), owner.end());
  for (int i = 0; i < 8; ++i) b.push_back(std::uint8_t(nonce >> (8 * i)));
  return core::hash(b);
}

std::string_view kindName(const TxBody& body) {
  return std::visit([](const auto& b) { return std::decay_t<decltype(b)>::kName; }, body);
}

namespace {

/// Reads the body of kind `name` into `out`, trying each alternative of TxBody in turn.
template <std::size_t I = 0> bool readBody(std::string_view name, Fields& f, TxBody& out) {
  if constexpr (I == std::variant_size_v<TxBody>) {
    return false;
  } else {
    using Kind = std::variant_alternative_t<I, TxBody>;
    if (name == Kind::kName) {
      out = Kind::read(f);
      return true;
    }
    return readBody<I + 1>(name, f, out);
  }
}

Value::Map unsignedBody(const Tx& tx) {
  return {{"chain", toBytes(tx.chain)},
          {"from", toBytes(tx.from)},
          {"nonce", tx.nonce},
          {"kind", std::string(kindName(tx.body))},
          {"body", std::visit([](const auto& b) { return b.body(); }, tx.body)}};
}

} // namespace

Bytes Tx::signedBytes() const {
  return core::encodeRecord({"tx-signed", core::kEncodingVersion, unsignedBody(*this)});
}

Bytes Tx::encode() const {
  Value::Map m = unsignedBody(*this);
  m.emplace("sig", toBytes(signature));
  return core::encodeRecord({"tx", core::kEncodingVersion, std::move(m)});
}

Digest Tx::id() const {
  return core::hash(encode());
}

std::optional<Tx> Tx::decode(const std::uint8_t* data, std::size_t size, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Tx> {
    if (error) *error = "transaction: " + std::move(why);
    return std::nullopt;
  };
  if (size > kMaxEncodedDeploy)
    return fail("larger than " + std::to_string(kMaxEncodedDeploy) + " bytes");
  std::string why;
  auto record = core::decodeRecord(Bytes(data, data + size), "tx", &why);
  if (!record) return fail(why);
  Fields f(record->body);
  f.only({"chain", "from", "nonce", "kind", "body", "sig"});
  Tx tx;
  tx.chain = f.fixed<32>("chain");
  tx.from = f.fixed<32>("from");
  tx.nonce = f.u64("nonce");
  std::string kind = f.text("kind", 32);
  tx.signature = f.fixed<64>("sig");
  const Value::Map* body = f.map("body");
  if (!f.ok()) return fail(f.error());
  Fields b(*body);
  if (!readBody(kind, b, tx.body)) return fail("unknown kind '" + kind + "'");
  if (!b.ok()) return fail(kind + ": " + b.error());
  if (size > kMaxEncoded && !std::holds_alternative<DeployContract>(tx.body))
    return fail("larger than " + std::to_string(kMaxEncoded) + " bytes");
  return tx;
}

bool Tx::verify() const {
  return core::verifySignature(from, signature, signedBytes());
}

Tx makeTx(const core::SigningKey& key, const Digest& chain, std::uint64_t nonce, TxBody body) {
  Tx tx;
  tx.chain = chain;
  tx.from = key.publicKey();
  tx.nonce = nonce;
  tx.body = std::move(body);
  tx.signature = key.sign(tx.signedBytes());
  return tx;
}

} // namespace flo::pool
