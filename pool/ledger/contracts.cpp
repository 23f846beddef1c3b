/// \file
/// Contracts on the ledger (see ledger.h, docs/verify.md): deploy compiles the source on every
/// replica; a call charges its fee, moves its value into the contract, runs the action on the
/// contract machine (compiler/vm) and applies what it pays, or, when the action aborts,
/// returns the value and changes nothing else.
#include "compiler/vm/compile.h"
#include "core/check.h"
#include "core/identity.h"
#include "pool/ledger/ledger.h"
#include "pool/wire/fields.h"

#include <nlohmann/json.hpp>

namespace flo::pool {

using core::toBytes;
using tir::Base;

namespace {

Value encodeValue(const vm::Value& v) {
  switch (v.base) {
  case Base::Bool:
    return Value(v.b);
  case Base::I64:
    return Value(v.i);
  case Base::U64:
    return Value(v.u);
  case Base::Bytes:
    return Value(Bytes(v.s.begin(), v.s.end()));
  default:
    return Value(v.s);
  }
}

std::optional<vm::Value> decodeValue(const Value& x, Base base) {
  switch (base) {
  case Base::Bool:
    if (!x.isBool()) return std::nullopt;
    return vm::Value::ofBool(x.asBool());
  case Base::I64:
    if (auto i = x.asInt64()) return vm::Value::ofI64(*i);
    return std::nullopt;
  case Base::U64:
    if (!x.isUnsigned()) return std::nullopt;
    return vm::Value::ofU64(x.asUnsigned());
  case Base::Bytes:
    if (!x.isBytes()) return std::nullopt;
    return vm::Value::ofText(base, std::string(x.asBytes().begin(), x.asBytes().end()));
  case Base::Str:
  case Base::Did:
    if (!x.isText()) return std::nullopt;
    return vm::Value::ofText(base, x.asText());
  default:
    return std::nullopt;
  }
}

nlohmann::json jsonValue(const vm::Value& v) {
  switch (v.base) {
  case Base::Bool:
    return v.b;
  case Base::I64:
    return v.i;
  case Base::U64:
    return v.u;
  case Base::Bytes:
    return core::toHex(reinterpret_cast<const std::uint8_t*>(v.s.data()), v.s.size());
  default:
    return v.s;
  }
}

TxResult refused(std::string why) {
  if (why.size() > 400) why = why.substr(0, 397) + "...";
  return {false, std::move(why)};
}

std::string insufficient(std::uint64_t has, unsigned __int128 needs) {
  return "insufficient balance: has " + std::to_string(has) + ", needs " +
         std::to_string(std::uint64_t(needs)) + (needs >> 64 ? " and more" : "");
}

/// Runs the front end or the machine on what a stranger sent: whatever they throw (they are not
/// meant to) becomes a refusal on every replica alike, never a replica that stops.
template <class F> auto guarded(F&& f, std::string* why) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& e) {
    *why = std::string("internal error: ") + e.what();
  } catch (...) {
    *why = "internal error";
  }
  return {};
}

} // namespace

Value::Map Contract::toMap() const {
  const tir::TypedContract& k = *code->contract;
  Value::Map vars, maps;
  for (std::uint32_t i = 0; i < k.vars.size(); ++i) {
    const tir::Var& v = k.vars[i];
    if (v.role != tir::Var::Role::State) continue;
    if (v.type.base != Base::Map) {
      vars.emplace(v.name, encodeValue(state.vars[i]));
      continue;
    }
    Value::Array entries;
    if (auto it = state.maps.find(i); it != state.maps.end())
      for (const auto& [key, value] : it->second)
        entries.emplace_back(Value::Array{encodeValue(key), encodeValue(value)});
    maps.emplace(v.name, std::move(entries));
  }
  Value::Array bonded;
  for (const auto& [who, amount] : stakes)
    bonded.emplace_back(Value::Array{Value(toBytes(who)), Value(amount)});
  return {{"creator", toBytes(creator)},
          {"source", source},
          {"held", held},
          {"deployed", deployed},
          {"stakes", std::move(bonded)},
          {"state", Value::Map{{"vars", std::move(vars)}, {"maps", std::move(maps)}}}};
}

std::string Contract::stateJson() const {
  const tir::TypedContract& k = *code->contract;
  nlohmann::json j = nlohmann::json::object();
  for (std::uint32_t i = 0; i < k.vars.size(); ++i) {
    const tir::Var& v = k.vars[i];
    if (v.role != tir::Var::Role::State) continue;
    if (v.type.base != Base::Map) {
      j[v.name] = jsonValue(state.vars[i]);
      continue;
    }
    nlohmann::json entries = nlohmann::json::array();
    if (auto it = state.maps.find(i); it != state.maps.end())
      for (const auto& [key, value] : it->second)
        entries.push_back({jsonValue(key), jsonValue(value)});
    j[v.name] = std::move(entries);
  }
  return j.dump();
}

std::optional<Contract> Contract::fromMap(const Value::Map& m, std::string* why) {
  Fields f(m);
  f.only({"creator", "source", "held", "deployed", "stakes", "state"});
  Contract c;
  c.creator = f.fixed<32>("creator");
  c.source = f.text("source", DeployContract::kMaxSource);
  c.held = f.u64("held");
  c.deployed = f.u64("deployed");
  const Value::Array* bonded = f.array("stakes", 1u << 24);
  const Value::Map* st = f.map("state");
  if (!f.ok()) return *why = f.error(), std::nullopt;
  for (const auto& e : *bonded) {
    auto who = e.isArray() && e.asArray().size() == 2 ? fixedOf<32>(e.asArray()[0]) : std::nullopt;
    if (!who || !e.asArray()[1].isUnsigned() || e.asArray()[1].asUnsigned() == 0)
      return *why = "stakes: expected [account, amount]", std::nullopt;
    if (!c.stakes.emplace(*who, e.asArray()[1].asUnsigned()).second)
      return *why = "stakes: an account twice", std::nullopt;
  }
  c.code = vm::compile(c.source, why);
  if (!c.code) return std::nullopt;
  const tir::TypedContract& k = *c.code->contract;
  c.state = vm::deployed(k);
  Fields sf(*st);
  sf.only({"vars", "maps"});
  const Value::Map* vars = sf.map("vars");
  const Value::Map* maps = sf.map("maps");
  if (!sf.ok()) return *why = sf.error(), std::nullopt;
  for (std::uint32_t i = 0; i < k.vars.size(); ++i) {
    const tir::Var& v = k.vars[i];
    if (v.role != tir::Var::Role::State) continue;
    if (v.type.base != Base::Map) {
      auto it = vars->find(v.name);
      auto x = it == vars->end() ? std::nullopt : decodeValue(it->second, v.type.base);
      if (!x)
        return *why = "state '" + v.name + "' missing or not a " + tir::typeName(v.type),
               std::nullopt;
      c.state.vars[i] = *x;
      continue;
    }
    auto it = maps->find(v.name);
    if (it == maps->end() || !it->second.isArray())
      return *why = "map '" + v.name + "' missing", std::nullopt;
    auto& out = c.state.maps[i];
    for (const auto& e : it->second.asArray()) {
      if (!e.isArray() || e.asArray().size() != 2)
        return *why = "map '" + v.name + "': expected [key, value]", std::nullopt;
      auto key = decodeValue(e.asArray()[0], v.type.key);
      auto value = decodeValue(e.asArray()[1], v.type.value->base);
      if (!key || !value || value->isDefault() || !out.emplace(*key, *value).second)
        return *why = "map '" + v.name + "': a bad entry", std::nullopt;
    }
    if (v.type.max && out.size() > *v.type.max)
      return *why = "map '" + v.name + "' holds more than its max", std::nullopt;
    if (out.empty()) c.state.maps.erase(i);
  }
  return c;
}

std::uint64_t Contract::staked() const {
  std::uint64_t total = 0;
  for (const auto& [who, amount] : stakes) total += amount; // within the supply
  return total;
}

const Contract* Ledger::contract(const std::string& name) const {
  auto it = contracts_.find(name);
  return it == contracts_.end() ? nullptr : &it->second;
}

TxResult Ledger::apply(const AccountId& from, const DeployContract& t) {
  Account& a = accounts_[from];
  const unsigned __int128 fee = (unsigned __int128)t.source.size() * kDeployFeePerByte;
  if (fee > a.balance) return refused(insufficient(a.balance, fee));
  // Compiling is the work the fee pays for: charged whether or not the source compiles.
  a.balance -= std::uint64_t(fee);
  fees_ += std::uint64_t(fee);
  std::string why;
  auto code = guarded([&] { return vm::compile(t.source, &why); }, &why);
  if (!code) return refused("the contract does not compile: " + why);
  const std::string& name = code->contract->name;
  if (contracts_.count(name)) return refused("a contract named '" + name + "' exists");
  Contract c;
  c.creator = from;
  c.source = t.source;
  c.deployed = height_;
  c.state = vm::deployed(*code->contract);
  c.code = std::move(code);
  contracts_.emplace(name, std::move(c));
  touchedContracts_.insert(name);
  return {true, {}};
}

TxResult Ledger::apply(const AccountId& from, const CallContract& t) {
  auto it = contracts_.find(t.contract);
  if (it == contracts_.end()) return refused("no contract named '" + t.contract + "'");
  Contract& k = it->second;
  const vm::Compiled& code = *k.code;
  auto cost = code.cost.find(t.action);
  if (cost == code.cost.end()) {
    std::string names;
    for (const auto& [n, c] : code.cost) names += (names.empty() ? "" : ", ") + n;
    return refused("contract '" + t.contract + "' has no action '" + t.action +
                   "' (its actions: " + names + ")");
  }
  const tir::TypedAction* action = nullptr;
  for (const auto& x : code.contract->actions)
    if (x.name == t.action) action = &x;
  if (t.args.size() != action->params.size())
    return refused("'" + t.action + "' takes " + std::to_string(action->params.size()) +
                   " argument(s), not " + std::to_string(t.args.size()));
  vm::Call call{t.action, {}, core::didKey(from), t.value, timeMs_ / 1000};
  for (std::size_t i = 0; i < t.args.size(); ++i) {
    const tir::Var& p = code.contract->vars[action->params[i]];
    vm::Value v;
    std::string why;
    if (!vm::parseArgument(p.type, t.args[i], &v, &why))
      return refused("argument '" + p.name + "': " + why);
    call.args.push_back(std::move(v));
  }
  Account& a = accounts_[from];
  const unsigned __int128 fee = (unsigned __int128)cost->second * kFeePerOperation;
  if (fee + t.value > a.balance) return refused(insufficient(a.balance, fee + t.value));
  a.balance -= std::uint64_t(fee) + t.value;
  fees_ += std::uint64_t(fee);
  // Every payment must reach an account (a did:key), or the call aborts and changes nothing.
  std::vector<std::pair<AccountId, std::uint64_t>> pays;
  auto accept = [&](const std::vector<vm::Payment>& out) -> std::optional<std::string> {
    pays.clear();
    for (const auto& p : out) {
      auto to = core::parseDidKey(p.to);
      if (!to) return "it pays '" + p.to + "', which is not an account (a did:key)";
      pays.emplace_back(*to, p.amount);
    }
    return std::nullopt;
  };
  std::string failure;
  // In place: the machine logs what the call writes and puts it back if the call aborts.
  auto ran = guarded(
      [&] {
        return std::optional(
            vm::run(*code.contract, k.state, {core::didKey(k.creator), k.held}, call, accept));
      },
      &failure);
  if (!ran) {
    a.balance += t.value;
    return refused("contract '" + t.contract + "': '" + t.action + "': " + failure);
  }
  vm::Outcome& o = *ran;
  auto abort = [&](std::string why) {
    a.balance += t.value; // the call's value goes back; the fee stays
    return refused("contract '" + t.contract + "': '" + t.action + "' aborted" +
                   (o.at.valid() ? " at " + code.where(o.at) : std::string()) + ": " + why);
  };
  if (!o.ok) return abort(o.message);
  FLO_CHECK(o.held <= k.held + t.value);
  k.held = o.held; // the state is already the call's
  for (const auto& [to, amount] : pays) {
    accounts_[to].balance += amount; // part of what the contract held: within the supply
    touched_.insert(to);
  }
  touchedContracts_.insert(t.contract);
  return {true, {}};
}

TxResult Ledger::apply(const AccountId& from, const StakeContract& t) {
  auto it = contracts_.find(t.contract);
  if (it == contracts_.end()) return refused("no contract named '" + t.contract + "'");
  Account& a = accounts_[from];
  if (t.amount == 0) return refused("a stake of nothing");
  if (t.amount > a.balance) return refused(insufficient(a.balance, t.amount));
  a.balance -= t.amount;
  it->second.stakes[from] += t.amount;
  touchedContracts_.insert(t.contract);
  return {true, {}};
}

TxResult Ledger::apply(const AccountId& from, const UnstakeContract& t) {
  auto it = contracts_.find(t.contract);
  if (it == contracts_.end()) return refused("no contract named '" + t.contract + "'");
  auto s = it->second.stakes.find(from);
  const std::uint64_t has = s == it->second.stakes.end() ? 0 : s->second;
  if (t.amount == 0) return refused("an unstake of nothing");
  if (t.amount > has)
    return refused("insufficient stake on '" + t.contract + "': has " + std::to_string(has) +
                   ", needs " + std::to_string(t.amount));
  s->second -= t.amount;
  if (s->second == 0) it->second.stakes.erase(s);
  accounts_[from].balance += t.amount;
  touchedContracts_.insert(t.contract);
  return {true, {}};
}

} // namespace flo::pool
