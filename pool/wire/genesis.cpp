/// \file
/// The genesis: canonical encoding, JSON form, validation (see genesis.h).
#include "pool/wire/genesis.h"

#include <nlohmann/json.hpp>

#include <set>

namespace flo::pool {

using core::toBytes;

namespace {

Value::Map paramsMap(const PoolParams& p) {
  return {{"max_block_txs", std::uint64_t(p.maxBlockTxs)},
          {"flush_us", std::uint64_t(p.flushMicros)},
          {"round_timeout_ms", std::uint64_t(p.roundTimeoutMs)},
          {"max_round_timeout_ms", std::uint64_t(p.maxRoundTimeoutMs)},
          {"term_rounds", p.termRounds},
          {"checkpoint_interval", p.checkpointInterval},
          {"unstake_lock_blocks", p.unstakeLockBlocks},
          {"max_mempool", std::uint64_t(p.maxMempool)},
          {"max_pending_per_account", std::uint64_t(p.maxPendingPerAccount)}};
}

PoolParams readParams(Fields& f) {
  PoolParams p;
  p.maxBlockTxs = std::uint32_t(f.u64Max("max_block_txs", 1u << 16));
  p.flushMicros = std::uint32_t(f.u64Max("flush_us", 10'000'000));
  p.roundTimeoutMs = std::uint32_t(f.u64Max("round_timeout_ms", 3'600'000));
  p.maxRoundTimeoutMs = std::uint32_t(f.u64Max("max_round_timeout_ms", 3'600'000));
  p.termRounds = f.u64("term_rounds");
  p.checkpointInterval = f.u64("checkpoint_interval");
  p.unstakeLockBlocks = f.u64("unstake_lock_blocks");
  p.maxMempool = std::uint32_t(f.u64Max("max_mempool", 1u << 24));
  p.maxPendingPerAccount = std::uint32_t(f.u64Max("max_pending_per_account", 1u << 24));
  return p;
}

} // namespace

std::uint64_t Genesis::supply() const {
  std::uint64_t total = 0;
  for (const auto& a : accounts) {
    if (__builtin_add_overflow(total, a.balance, &total)) return 0;
  }
  return total;
}

Bytes Genesis::encode() const {
  Value::Array reps, accs;
  for (const auto& r : replicas)
    reps.emplace_back(Value::Map{{"did", r.did},
                                 {"key", toBytes(r.key)},
                                 {"host", r.host},
                                 {"port", std::uint64_t(r.port)}});
  for (const auto& a : accounts)
    accs.emplace_back(
        Value::Map{{"name", a.name}, {"account", toBytes(a.account)}, {"balance", a.balance}});
  return core::encodeRecord({"genesis",
                             core::kEncodingVersion,
                             {{"name", name},
                              {"time_ms", timeMs},
                              {"replicas", std::move(reps)},
                              {"accounts", std::move(accs)},
                              {"params", paramsMap(params)}}});
}

std::optional<Genesis> Genesis::decode(const Bytes& data, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Genesis> {
    if (error) *error = "genesis: " + std::move(why);
    return std::nullopt;
  };
  std::string why;
  auto record = core::decodeRecord(data, "genesis", &why);
  if (!record) return fail(why);
  Fields f(record->body);
  f.only({"name", "time_ms", "replicas", "accounts", "params"});
  Genesis g;
  g.name = f.text("name", 64);
  g.timeMs = f.u64("time_ms");
  const auto* reps = f.array("replicas", 1024);
  const auto* accs = f.array("accounts", 1u << 20);
  const auto* params = f.map("params");
  if (!f.ok()) return fail(f.error());
  for (const auto& r : *reps) {
    if (!r.isMap()) return fail("replicas: expected maps");
    Fields rf(r.asMap());
    rf.only({"did", "key", "host", "port"});
    ReplicaInfo info{rf.text("did", 128), rf.fixed<32>("key"), rf.text("host", 64),
                     std::uint16_t(rf.u64Max("port", 65535))};
    if (!rf.ok()) return fail("replica: " + rf.error());
    g.replicas.push_back(std::move(info));
  }
  for (const auto& a : *accs) {
    if (!a.isMap()) return fail("accounts: expected maps");
    Fields af(a.asMap());
    af.only({"name", "account", "balance"});
    GenesisAccount acc{af.text("name", 64), af.fixed<32>("account"), af.u64("balance")};
    if (!af.ok()) return fail("account: " + af.error());
    g.accounts.push_back(std::move(acc));
  }
  Fields pf(*params);
  pf.only({"max_block_txs", "flush_us", "round_timeout_ms", "max_round_timeout_ms", "term_rounds",
           "checkpoint_interval", "unstake_lock_blocks", "max_mempool", "max_pending_per_account"});
  g.params = readParams(pf);
  if (!pf.ok()) return fail("params: " + pf.error());
  return g;
}

Digest Genesis::chainId() const {
  return core::hash(encode());
}

bool Genesis::validate(std::string* error) const {
  auto fail = [&](std::string why) {
    if (error) *error = "genesis: " + std::move(why);
    return false;
  };
  if (replicas.empty()) return fail("no replicas");
  std::set<PublicKey> keys;
  std::set<std::string> dids;
  std::set<std::pair<std::string, std::uint16_t>> addresses;
  for (const auto& r : replicas) {
    if (!keys.insert(r.key).second) return fail("two replicas share a key");
    if (r.did.empty() || !dids.insert(r.did).second) return fail("replica DIDs must be distinct");
    if (r.host.empty() || r.port == 0) return fail("replica " + r.did + " has no address");
    if (!addresses.insert({r.host, r.port}).second) return fail("two replicas share an address");
  }
  std::set<AccountId> accounts_;
  std::uint64_t total = 0;
  for (const auto& a : accounts) {
    if (!accounts_.insert(a.account).second) return fail("an account is listed twice");
    if (__builtin_add_overflow(total, a.balance, &total)) return fail("the supply overflows");
  }
  const PoolParams& p = params;
  if (p.maxBlockTxs == 0 || p.roundTimeoutMs == 0 || p.maxRoundTimeoutMs < p.roundTimeoutMs ||
      p.termRounds == 0 || p.checkpointInterval == 0 || p.maxMempool == 0 ||
      p.maxPendingPerAccount == 0)
    return fail("parameters out of range");
  return true;
}

std::string Genesis::toJson() const {
  nlohmann::json j;
  j["name"] = name;
  j["time_ms"] = timeMs;
  j["replicas"] = nlohmann::json::array();
  for (const auto& r : replicas)
    j["replicas"].push_back(
        {{"did", r.did}, {"key", core::toHex(r.key)}, {"host", r.host}, {"port", r.port}});
  j["accounts"] = nlohmann::json::array();
  for (const auto& a : accounts)
    j["accounts"].push_back(
        {{"name", a.name}, {"account", core::toHex(a.account)}, {"balance", a.balance}});
  nlohmann::json p;
  for (const auto& [k, v] : paramsMap(params))
    p[k] = v.isBool() ? nlohmann::json(v.asBool()) : nlohmann::json(v.asUnsigned());
  j["params"] = p;
  return j.dump(2);
}

std::optional<Genesis> Genesis::fromJson(const std::string& text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Genesis> {
    if (error) *error = "genesis: " + std::move(why);
    return std::nullopt;
  };
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  try {
    Genesis g;
    g.name = j.at("name").get<std::string>();
    g.timeMs = j.at("time_ms").get<std::uint64_t>();
    auto key32 = [&](const nlohmann::json& v, const char* what) {
      auto b = core::fromHex(v.get<std::string>());
      if (!b || b->size() != 32) throw std::invalid_argument(std::string(what) + ": 64 hex digits");
      PublicKey k{};
      std::copy(b->begin(), b->end(), k.begin());
      return k;
    };
    for (const auto& r : j.at("replicas"))
      g.replicas.push_back({r.at("did").get<std::string>(), key32(r.at("key"), "replica key"),
                            r.at("host").get<std::string>(), r.at("port").get<std::uint16_t>()});
    for (const auto& a : j.at("accounts"))
      g.accounts.push_back({a.value("name", std::string()), key32(a.at("account"), "account"),
                            a.at("balance").get<std::uint64_t>()});
    Value::Map pm;
    for (const auto& [k, v] : j.at("params").items()) pm.emplace(k, v.get<std::uint64_t>());
    Fields pf(pm);
    g.params = readParams(pf);
    if (!pf.ok()) return fail("params: " + pf.error());
    return g;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
}

} // namespace flo::pool
