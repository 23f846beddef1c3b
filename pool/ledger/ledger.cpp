/// \file
/// The ledger state machine (see ledger.h).
#include "pool/ledger/ledger.h"

#include "compiler/vm/compile.h"
#include "core/check.h"

#include <algorithm>

namespace flo::pool {

using core::toBytes;

namespace {

std::string insufficient(const char* what, std::uint64_t has, std::uint64_t needs) {
  return std::string("insufficient ") + what + ": has " + std::to_string(has) + ", needs " +
         std::to_string(needs);
}

TxResult refused(std::string why) {
  return {false, std::move(why)};
}
TxResult applied() {
  return {true, {}};
}

bool empty(const Account& a) {
  return a.balance == 0 && a.stake == 0 && a.unbonding.empty() && a.nonce == 0;
}

void putU64(Bytes& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(std::uint8_t(v >> (8 * i)));
}

/// Where an account sits in the Merkle maps: the hash of its id, so that the trie's depth does
/// not depend on how ids were chosen.
MerkleMap::Key treeKey(const AccountId& id) {
  return core::hash(id.data(), id.size());
}

/// An account's leaf: every field, fixed-width little-endian, with the number of unbonding
/// entries before them (so no two accounts encode alike).
Digest accountLeaf(const Account& a) {
  Bytes b;
  b.reserve(8 * (4 + 2 * a.unbonding.size()));
  putU64(b, a.balance);
  putU64(b, a.stake);
  putU64(b, a.nonce);
  putU64(b, a.unbonding.size());
  for (const auto& u : a.unbonding) {
    putU64(b, u.amount);
    putU64(b, u.releaseHeight);
  }
  return core::hash(b);
}

Value::Array providerEntry(const Provider& p) {
  return {Value(p.offer.body()), Value(p.since),  Value(p.updated),
          Value(p.completed),    Value(p.failed), Value(p.slashed)};
}

Digest providerLeaf(const Provider& p) {
  return core::hash(core::encode(Value(providerEntry(p))));
}

MerkleMap::Key orderKey(const Digest& id) {
  return core::hash(id.data(), id.size());
}

Digest orderLeaf(const Digest& id, const Order& o) {
  return core::hash(core::encode(Value(Value::Array{Value(toBytes(id)), Value(o.toMap())})));
}

Digest rootOf(const Digest& chain, std::uint64_t height, std::uint64_t timeMs, std::uint64_t supply,
              const Digest& accounts, const Digest& providers, const Digest& contracts,
              const Digest& orders, std::uint64_t fees) {
  Bytes b;
  std::string_view tag = "flo-ledger-root/3";
  b.insert(b.end(), tag.begin(), tag.end());
  b.insert(b.end(), chain.begin(), chain.end());
  putU64(b, height);
  putU64(b, timeMs);
  putU64(b, supply);
  b.insert(b.end(), accounts.begin(), accounts.end());
  b.insert(b.end(), providers.begin(), providers.end());
  b.insert(b.end(), contracts.begin(), contracts.end());
  b.insert(b.end(), orders.begin(), orders.end());
  putU64(b, fees);
  return core::hash(b);
}

/// Where a contract sits in the contracts' Merkle map: the hash of its name.
MerkleMap::Key contractKey(const std::string& name) {
  return core::hash(reinterpret_cast<const std::uint8_t*>(name.data()), name.size());
}

Digest contractLeaf(const std::string& name, const Contract& c) {
  return core::hash(core::encode(Value(Value::Array{Value(name), Value(c.toMap())})));
}

} // namespace

std::uint64_t Account::unbondingTotal() const {
  std::uint64_t total = 0;
  for (const auto& u : unbonding) total += u.amount; // bounded by the supply: cannot overflow
  return total;
}

Value::Map Account::toMap() const {
  Value::Array ub;
  for (const auto& u : unbonding)
    ub.emplace_back(Value::Array{Value(u.amount), Value(u.releaseHeight)});
  return {{"balance", balance}, {"stake", stake}, {"unbonding", std::move(ub)}, {"nonce", nonce}};
}

Ledger::Ledger(const Genesis& genesis)
    : chain_(genesis.chainId()), supply_(genesis.supply()),
      unstakeLock_(genesis.params.unstakeLockBlocks), timeMs_(genesis.timeMs) {
  for (const auto& a : genesis.accounts)
    if (a.balance > 0) accounts_[a.account].balance = a.balance;
  FLO_CHECK(conserved());
  rebuildDerived();
}

void Ledger::rebuildDerived() {
  trees_ = treesFromScratch();
  releases_.clear();
  touched_.clear();
  touchedProviders_.clear();
  touchedContracts_.clear();
  touchedOrders_.clear();
  openOrders_.clear();
  dueOrders_.clear();
  for (const auto& [id, o] : orders_) {
    if (o.status != Order::Status::Open) continue;
    openOrders_.insert(id);
    dueOrders_[o.deadlineMs].insert(id);
    for (const auto& x : o.assignments)
      if (x.state == Assignment::State::Assigned) dueOrders_[x.startBy].insert(id);
  }
  for (const auto& [id, a] : accounts_)
    for (const auto& u : a.unbonding) releases_[u.releaseHeight].insert(id);
  stateRoot_ = rootOver(trees_);
}

void Ledger::updateCommitment() {
  for (const AccountId& id : touched_) {
    auto it = accounts_.find(id);
    if (it == accounts_.end())
      trees_.accounts.erase(treeKey(id));
    else
      trees_.accounts.put(treeKey(id), accountLeaf(it->second));
  }
  for (const AccountId& id : touchedProviders_)
    trees_.providers.put(treeKey(id), providerLeaf(providers_.at(id)));
  for (const std::string& name : touchedContracts_)
    trees_.contracts.put(contractKey(name), contractLeaf(name, contracts_.at(name)));
  for (const Digest& id : touchedOrders_)
    trees_.orders.put(orderKey(id), orderLeaf(id, orders_.at(id)));
  touched_.clear();
  touchedProviders_.clear();
  touchedContracts_.clear();
  touchedOrders_.clear();
  stateRoot_ = rootOver(trees_);
  FLO_EXPENSIVE_CHECK(stateRoot_ == stateRootFromScratch());
}

Ledger::Trees Ledger::treesFromScratch() const {
  Trees trees;
  for (const auto& [id, a] : accounts_) trees.accounts.put(treeKey(id), accountLeaf(a));
  for (const auto& [id, p] : providers_) trees.providers.put(treeKey(id), providerLeaf(p));
  for (const auto& [name, c] : contracts_)
    trees.contracts.put(contractKey(name), contractLeaf(name, c));
  for (const auto& [id, o] : orders_) trees.orders.put(orderKey(id), orderLeaf(id, o));
  return trees;
}

Digest Ledger::rootOver(Trees& trees) const {
  return rootOf(chain_, height_, timeMs_, supply_, trees.accounts.root(), trees.providers.root(),
                trees.contracts.root(), trees.orders.root(), fees_);
}

Digest Ledger::stateRootFromScratch() const {
  Trees trees = treesFromScratch();
  return rootOver(trees);
}

const Account* Ledger::account(const AccountId& id) const {
  auto it = accounts_.find(id);
  return it == accounts_.end() ? nullptr : &it->second;
}

const Provider* Ledger::provider(const AccountId& id) const {
  auto it = providers_.find(id);
  return it == providers_.end() ? nullptr : &it->second;
}

bool Ledger::admissible(const Tx& tx, std::string* why) const {
  auto fail = [&](std::string w) {
    if (why) *why = std::move(w);
    return false;
  };
  if (tx.chain != chain_) return fail("a transaction for another pool");
  const Account* a = account(tx.from);
  std::uint64_t nonce = a ? a->nonce : 0;
  if (tx.nonce < nonce)
    return fail("nonce " + std::to_string(tx.nonce) + " already used (next is " +
                std::to_string(nonce) + ")");
  std::uint64_t balance = a ? a->balance : 0;
  if (const auto* t = std::get_if<Transfer>(&tx.body); t && t->amount > balance)
    return fail(insufficient("balance", balance, t->amount));
  if (const auto* s = std::get_if<Stake>(&tx.body); s && s->amount > balance)
    return fail(insufficient("balance", balance, s->amount));
  if (const auto* c = std::get_if<CallContract>(&tx.body); c && c->value > balance)
    return fail(insufficient("balance", balance, c->value));
  if (const auto* c = std::get_if<StakeContract>(&tx.body); c && c->amount > balance)
    return fail(insufficient("balance", balance, c->amount));
  return true;
}

std::vector<TxResult> Ledger::executeBlock(std::uint64_t height, std::uint64_t timeMs,
                                           const std::vector<Tx>& txs) {
  FLO_CHECK(height == height_ + 1);
  FLO_CHECK(timeMs >= timeMs_); // the consensus core admits no block time before its parent's
  height_ = height;
  timeMs_ = timeMs;
  releaseUnbonding();
  expireOrders();
  std::vector<TxResult> results;
  results.reserve(txs.size());
  for (const Tx& tx : txs) {
    if (tx.chain != chain_) {
      results.push_back(refused("a transaction for another pool"));
      continue;
    }
    Account& sender = accounts_[tx.from];
    touched_.insert(tx.from);
    if (tx.nonce != sender.nonce) {
      results.push_back(refused("nonce " + std::to_string(tx.nonce) + " is not the next (" +
                                std::to_string(sender.nonce) + ")"));
      if (empty(sender)) accounts_.erase(tx.from);
      continue;
    }
    ++sender.nonce; // used, whether the transaction applies or not: it can never run again
    results.push_back(std::visit([&](const auto& body) { return apply(tx.from, body); }, tx.body));
  }
  FLO_EXPENSIVE_CHECK(conserved());
  updateCommitment();
  return results;
}

/// What unbonds at this height (or before: a restored ledger may skip none, but be safe)
/// returns to the balances; only the accounts with something due are visited.
void Ledger::releaseUnbonding() {
  while (!releases_.empty() && releases_.begin()->first <= height_) {
    for (const AccountId& id : releases_.begin()->second) {
      auto it = accounts_.find(id);
      if (it == accounts_.end()) continue;
      Account& a = it->second;
      while (!a.unbonding.empty() && a.unbonding.front().releaseHeight <= height_) {
        a.balance += a.unbonding.front().amount;
        a.unbonding.erase(a.unbonding.begin());
      }
      touched_.insert(id);
    }
    releases_.erase(releases_.begin());
  }
}

TxResult Ledger::apply(const AccountId& from, const Transfer& t) {
  Account& a = accounts_[from];
  if (t.amount == 0) return refused("a transfer of nothing");
  if (t.to == from) return refused("a transfer to the sender itself");
  if (t.amount > a.balance) return refused(insufficient("balance", a.balance, t.amount));
  Account& b = accounts_[t.to]; // may rehash nothing: std::map keeps `a` where it is
  touched_.insert(t.to);
  a.balance -= t.amount;
  b.balance += t.amount; // cannot overflow: every balance is part of the supply
  return applied();
}

TxResult Ledger::apply(const AccountId& from, const Stake& t) {
  Account& a = accounts_[from];
  if (t.amount == 0) return refused("a stake of nothing");
  if (t.amount > a.balance) return refused(insufficient("balance", a.balance, t.amount));
  a.balance -= t.amount;
  a.stake += t.amount;
  return applied();
}

TxResult Ledger::apply(const AccountId& from, const Unstake& t) {
  Account& a = accounts_[from];
  if (t.amount == 0) return refused("an unstake of nothing");
  if (t.amount > a.stake) return refused(insufficient("stake", a.stake, t.amount));
  a.stake -= t.amount;
  a.unbonding.push_back({t.amount, height_ + unstakeLock_});
  releases_[height_ + unstakeLock_].insert(from);
  return applied();
}

TxResult Ledger::apply(const AccountId& from, const RegisterProvider& t) {
  if (t.architectures.empty()) return refused("a provider without an architecture");
  if (t.cores == 0 || t.memoryMiB == 0) return refused("a provider without cores or memory");
  auto [it, fresh] = providers_.try_emplace(from, Provider{t, height_, height_});
  touchedProviders_.insert(from);
  if (!fresh) {
    it->second.offer = t;
    it->second.updated = height_;
  }
  return applied();
}

bool Ledger::conserved(std::string* why) const {
  unsigned __int128 total = 0;
  for (const auto& [id, a] : accounts_) {
    total += a.balance;
    total += a.stake;
    total += a.unbondingTotal();
  }
  for (const auto& [name, c] : contracts_) total += (unsigned __int128)c.held + c.staked();
  for (const auto& [id, o] : orders_) total += o.escrow;
  total += fees_;
  if (total != supply_) {
    if (why)
      *why = "balances, stake, unbonding, contracts, escrow and fees sum to " +
             std::to_string(std::uint64_t(total)) + ", the supply is " + std::to_string(supply_);
    return false;
  }
  return true;
}

Bytes Ledger::encode() const {
  Value::Array accounts, providers, contracts, orders;
  for (const auto& [id, a] : accounts_)
    accounts.emplace_back(Value::Array{Value(toBytes(id)), Value(a.toMap())});
  for (const auto& [id, p] : providers_) {
    Value::Array entry = providerEntry(p);
    entry.insert(entry.begin(), Value(toBytes(id)));
    providers.emplace_back(std::move(entry));
  }
  for (const auto& [id, o] : orders_)
    orders.emplace_back(Value::Array{Value(toBytes(id)), Value(o.toMap())});
  for (const auto& [name, c] : contracts_)
    contracts.emplace_back(Value::Array{Value(name), Value(c.toMap())});
  return core::encodeRecord({"ledger-state",
                             core::kEncodingVersion,
                             {{"chain", toBytes(chain_)},
                              {"height", height_},
                              {"time_ms", timeMs_},
                              {"supply", supply_},
                              {"accounts", std::move(accounts)},
                              {"providers", std::move(providers)},
                              {"contracts", std::move(contracts)},
                              {"orders", std::move(orders)},
                              {"fees", fees_}}});
}

std::optional<Ledger> Ledger::decode(const Genesis& genesis, const Bytes& data,
                                     std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Ledger> {
    if (error) *error = "ledger state: " + std::move(why);
    return std::nullopt;
  };
  std::string why;
  auto record = core::decodeRecord(data, "ledger-state", &why);
  if (!record) return fail(why);
  Fields f(record->body);
  f.only({"chain", "height", "time_ms", "supply", "accounts", "providers", "contracts", "orders",
          "fees"});
  Ledger l(genesis);
  l.accounts_.clear();
  if (f.fixed<32>("chain") != l.chain_) return fail("another pool's state");
  l.height_ = f.u64("height");
  l.timeMs_ = f.u64("time_ms");
  if (f.u64("supply") != l.supply_) return fail("another supply");
  const auto* accounts = f.array("accounts", 1u << 24);
  const auto* providers = f.array("providers", 1u << 24);
  const auto* contracts = f.array("contracts", 1u << 24);
  // Snapshots from before the market have no orders.
  const auto* orders = f.has("orders") ? f.array("orders", 1u << 24) : nullptr;
  l.fees_ = f.u64("fees");
  if (!f.ok()) return fail(f.error());
  for (const auto& e : *accounts) {
    auto id = e.isArray() && e.asArray().size() == 2 ? fixedOf<32>(e.asArray()[0]) : std::nullopt;
    if (!id || !e.asArray()[1].isMap()) return fail("accounts: expected [id, account]");
    Fields af(e.asArray()[1].asMap());
    af.only({"balance", "stake", "unbonding", "nonce"});
    Account a;
    a.balance = af.u64("balance");
    a.stake = af.u64("stake");
    a.nonce = af.u64("nonce");
    if (const auto* ub = af.array("unbonding", 1u << 16)) {
      for (const auto& u : *ub) {
        if (!u.isArray() || u.asArray().size() != 2 || !u.asArray()[0].isUnsigned() ||
            !u.asArray()[1].isUnsigned())
          return fail("unbonding: expected [amount, release height]");
        a.unbonding.push_back({u.asArray()[0].asUnsigned(), u.asArray()[1].asUnsigned()});
      }
    }
    if (!af.ok()) return fail("account: " + af.error());
    if (!l.accounts_.emplace(*id, std::move(a)).second) return fail("an account twice");
  }
  for (const auto& e : *providers) {
    const auto* a = e.isArray() ? &e.asArray() : nullptr;
    auto id = a && a->size() == 7 ? fixedOf<32>((*a)[0]) : std::nullopt;
    if (!id || !(*a)[1].isMap() ||
        !std::all_of(a->begin() + 2, a->end(), [](const Value& v) { return v.isUnsigned(); }))
      return fail("providers: expected [id, offer, since, updated, completed, failed, slashed]");
    Fields pf((*a)[1].asMap());
    Provider p{RegisterProvider::read(pf), (*a)[2].asUnsigned(), (*a)[3].asUnsigned(),
               (*a)[4].asUnsigned(),       (*a)[5].asUnsigned(), (*a)[6].asUnsigned()};
    if (!pf.ok()) return fail("provider: " + pf.error());
    if (!l.providers_.emplace(*id, std::move(p)).second) return fail("a provider twice");
  }
  for (const auto& e : *contracts) {
    if (!e.isArray() || e.asArray().size() != 2 || !e.asArray()[0].isText() ||
        !e.asArray()[1].isMap())
      return fail("contracts: expected [name, contract]");
    auto c = Contract::fromMap(e.asArray()[1].asMap(), &why);
    if (!c) return fail("contract " + e.asArray()[0].asText() + ": " + why);
    if (c->code->contract->name != e.asArray()[0].asText()) return fail("a contract misnamed");
    if (!l.contracts_.emplace(e.asArray()[0].asText(), std::move(*c)).second)
      return fail("a contract twice");
  }
  static const Value::Array kNone;
  for (const auto& e : orders ? *orders : kNone) {
    auto id = e.isArray() && e.asArray().size() == 2 ? fixedOf<32>(e.asArray()[0]) : std::nullopt;
    if (!id || !e.asArray()[1].isMap()) return fail("orders: expected [id, order]");
    auto o = Order::fromMap(e.asArray()[1].asMap(), &why);
    if (!o) return fail("order: " + why);
    if (!l.orders_.emplace(*id, std::move(*o)).second) return fail("an order twice");
  }
  if (!l.conserved(&why)) return fail(why);
  l.rebuildDerived();
  return l;
}

} // namespace flo::pool
