/// \file
/// The market on the ledger (see ledger.h, docs/deploy.md): orders matched to groups of
/// capable foggers, escrow, assignments, receipts, refunds and slashing. Every amount moves
/// between two places the conservation check counts (a balance, a stake, an order's escrow), so
/// supply is conserved by construction; the tests check it after every block anyway.
#include "core/check.h"
#include "core/identity.h"
#include "pool/ledger/ledger.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace flo::pool {

using core::toBytes;

namespace {

TxResult refused(std::string why) {
  return {false, std::move(why)};
}
TxResult applied() {
  return {true, {}};
}

/// a × b × c, or nullopt past 64 bits (each factor is below 2^64, so the first product fits in
/// 128 bits, and the second is taken only when the first fits in 64).
std::optional<std::uint64_t> product(std::uint64_t a, std::uint64_t b, std::uint64_t c = 1) {
  unsigned __int128 v = (unsigned __int128)a * b;
  if (v > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  v *= c;
  if (v > std::numeric_limits<std::uint64_t>::max()) return std::nullopt;
  return std::uint64_t(v);
}

/// What one replica of an order may cost: the most it pays one fogger.
std::optional<std::uint64_t> perReplica(const PlaceOrder& t) {
  return product(t.maxPrice, t.costBound, t.runs);
}

std::string mib(std::uint64_t m) {
  return std::to_string(m) + " MiB";
}

std::string cores(std::uint32_t milli) {
  std::string s = std::to_string(milli / 1000);
  if (milli % 1000) {
    std::string frac = std::to_string(1000 + milli % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    s += "." + frac;
  }
  return s;
}

} // namespace

std::int64_t Provider::score() const {
  return std::int64_t(std::min<std::uint64_t>(completed, 1u << 30)) -
         2 * std::int64_t(std::min<std::uint64_t>(failed, 1u << 30)) -
         100 * std::int64_t(std::min<std::uint64_t>(slashed, 1u << 20));
}

const char* stateName(Assignment::State s) {
  switch (s) {
  case Assignment::State::Assigned:
    return "assigned";
  case Assignment::State::Started:
    return "started";
  case Assignment::State::Done:
    return "done";
  case Assignment::State::Lapsed:
    return "lapsed";
  case Assignment::State::Failed:
    return "failed";
  case Assignment::State::Cancelled:
    return "cancelled";
  }
  return "?";
}

const char* statusName(Order::Status s) {
  switch (s) {
  case Order::Status::Open:
    return "open";
  case Order::Status::Settled:
    return "settled";
  case Order::Status::Expired:
    return "expired";
  case Order::Status::Cancelled:
    return "cancelled";
  }
  return "?";
}

Value::Map Assignment::toMap() const {
  Value::Map m{{"fogger", toBytes(fogger)},
               {"state", std::uint64_t(state)},
               {"price", price},
               {"start_by", startBy},
               {"paid", paid},
               {"slashed", slashed}};
  if (result) m.emplace("result", result->body());
  return m;
}

std::size_t Order::done() const {
  return std::size_t(std::count_if(assignments.begin(), assignments.end(), [](const auto& a) {
    return a.state == Assignment::State::Done;
  }));
}

Value::Map Order::toMap() const {
  Value::Array g, as;
  for (const auto& id : group) g.emplace_back(toBytes(id));
  for (const auto& a : assignments) as.emplace_back(a.toMap());
  return {
      {"owner", toBytes(owner)},      {"terms", terms.body()}, {"placed_ms", placedMs},
      {"deadline_ms", deadlineMs},    {"height", height},      {"group", std::move(g)},
      {"assignments", std::move(as)}, {"escrow", escrow},      {"status", std::uint64_t(status)}};
}

std::optional<Order> Order::fromMap(const Value::Map& m, std::string* why) {
  Fields f(m);
  f.only({"owner", "terms", "placed_ms", "deadline_ms", "height", "group", "assignments", "escrow",
          "status"});
  Order o;
  o.owner = f.fixed<32>("owner");
  const auto* terms = f.map("terms");
  o.placedMs = f.u64("placed_ms");
  o.deadlineMs = f.u64("deadline_ms");
  o.height = f.u64("height");
  const auto* group = f.array("group", kMaxGroup);
  const auto* assignments = f.array("assignments", 1024);
  o.escrow = f.u64("escrow");
  o.status = Order::Status(f.u64Max("status", 3));
  auto fail = [&](std::string w) -> std::optional<Order> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  if (!f.ok()) return fail(f.error());
  Fields tf(*terms);
  o.terms = PlaceOrder::read(tf);
  if (!tf.ok()) return fail("terms: " + tf.error());
  for (const auto& v : *group) {
    auto id = fixedOf<32>(v);
    if (!id) return fail("group: expected account ids");
    o.group.push_back(*id);
  }
  for (const auto& v : *assignments) {
    if (!v.isMap()) return fail("assignments: expected maps");
    Fields af(v.asMap());
    af.only({"fogger", "state", "price", "start_by", "paid", "slashed", "result"});
    Assignment a;
    a.fogger = af.fixed<32>("fogger");
    a.state = Assignment::State(af.u64Max("state", 5));
    a.price = af.u64("price");
    a.startBy = af.u64("start_by");
    a.paid = af.u64("paid");
    a.slashed = af.flag("slashed");
    if (af.has("result"))
      if (const auto* r = af.map("result")) {
        Fields rf(*r);
        a.result = RunResult::read(rf);
        if (!rf.ok()) return fail("result: " + rf.error());
      }
    if (!af.ok()) return fail("assignment: " + af.error());
    o.assignments.push_back(std::move(a));
  }
  return o;
}

const Order* Ledger::order(const Digest& id) const {
  auto it = orders_.find(id);
  return it == orders_.end() ? nullptr : &it->second;
}

std::map<AccountId, std::uint64_t> Ledger::busyMiB() const {
  std::map<AccountId, std::uint64_t> busy;
  for (const Digest& id : openOrders_) {
    const Order& o = orders_.at(id);
    for (const auto& a : o.assignments)
      if (a.active()) busy[a.fogger] += o.terms.memoryMiB; // bounded: memory offered is < 2^40
  }
  return busy;
}

TxResult Ledger::apply(const AccountId& from, const PlaceOrder& t) {
  if (t.job.empty()) return refused("an order without a job");
  if (t.replicas == 0 || t.runs == 0) return refused("an order of no runs or no replicas");
  if (t.costBound == 0 || t.maxPrice == 0) return refused("an order without a cost bound or price");
  if (t.timeoutMs < PlaceOrder::kMinTimeoutMs)
    return refused("an order's timeout must be at least " +
                   std::to_string(PlaceOrder::kMinTimeoutMs) + " ms");
  auto each = perReplica(t);
  auto total = each ? product(*each, t.replicas) : std::nullopt;
  if (!total) return refused("the order's escrow does not fit in 64 bits");
  Account& owner = accounts_[from];
  if (*total > owner.balance)
    return refused("insufficient balance for escrow: has " + std::to_string(owner.balance) +
                   ", needs " + std::to_string(*total) + " (max price " +
                   std::to_string(t.maxPrice) + " × cost bound " + std::to_string(t.costBound) +
                   " × " + std::to_string(t.runs) + " runs × " + std::to_string(t.replicas) +
                   " replicas)");
  // Match: every provider that meets every need, counting why the others do not.
  struct Candidate {
    std::int64_t score;
    std::uint64_t price;
    AccountId id;
  };
  std::vector<Candidate> able;
  std::size_t wrongArch = 0, lowMemory = 0, fewCores = 0, dear = 0, unstaked = 0;
  std::uint64_t mostFree = 0;
  const auto busy = busyMiB();
  for (const auto& [id, p] : providers_) {
    const auto& arches = p.offer.architectures;
    auto taken = busy.find(id);
    std::uint64_t used = taken == busy.end() ? 0 : taken->second;
    std::uint64_t free = p.offer.memoryMiB - std::min(p.offer.memoryMiB, used);
    const Account* acc = account(id);
    if (t.arch != "any" && std::find(arches.begin(), arches.end(), t.arch) == arches.end())
      ++wrongArch;
    else if (free < t.memoryMiB)
      ++lowMemory, mostFree = std::max(mostFree, free);
    else if ((unsigned __int128)p.offer.cores * 1000 < t.milliCores)
      ++fewCores;
    else if (p.offer.price > t.maxPrice)
      ++dear;
    else if (!acc || acc->stake < kMinProviderStake)
      ++unstaked;
    else
      able.push_back({p.score(), p.offer.price, id});
  }
  if (able.size() < t.replicas) {
    std::string why = "no group of " + std::to_string(t.replicas) + " fogger" +
                      (t.replicas == 1 ? "" : "s") + " can take job '" + t.job + "' (needs " +
                      (t.arch == "any" ? std::string("any arch") : t.arch) + ", " +
                      mib(t.memoryMiB) + ", " + cores(t.milliCores) + " cores, price ≤ " +
                      std::to_string(t.maxPrice) + "): ";
    std::vector<std::string> parts;
    auto count = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " is" : " are"); };
    if (providers_.empty()) parts.push_back("no fogger is registered");
    if (!able.empty()) parts.push_back(std::to_string(able.size()) + " can");
    if (wrongArch) parts.push_back(count(wrongArch) + " not " + t.arch);
    if (lowMemory)
      parts.push_back(std::to_string(lowMemory) + " ha" + (lowMemory == 1 ? "s" : "ve") +
                      " less memory free (at most " + mib(mostFree) + ")");
    if (fewCores) parts.push_back(count(fewCores) + " short of cores");
    if (dear) parts.push_back(std::to_string(dear) + " ask" + (dear == 1 ? "s" : "") + " more");
    if (unstaked)
      parts.push_back(count(unstaked) + " staked less than " + std::to_string(kMinProviderStake));
    for (std::size_t i = 0; i < parts.size(); ++i) why += (i ? ", " : "") + parts[i];
    return refused(why);
  }
  std::sort(able.begin(), able.end(), [](const Candidate& a, const Candidate& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.price != b.price) return a.price < b.price;
    return a.id < b.id;
  });
  Digest id = orderId(from, accounts_[from].nonce - 1); // the nonce was used already
  FLO_CHECK(!orders_.count(id));                        // a nonce is used once
  Order o;
  o.owner = from;
  o.terms = t;
  o.placedMs = timeMs_;
  o.deadlineMs = timeMs_ + t.timeoutMs;
  o.height = height_;
  for (std::size_t i = 0; i < able.size() && i < kMaxGroup; ++i) o.group.push_back(able[i].id);
  o.escrow = *total;
  owner.balance -= *total;
  orders_.emplace(id, std::move(o));
  openOrders_.insert(id);
  dueOrders_[timeMs_ + t.timeoutMs].insert(id);
  touchedOrders_.insert(id);
  return applied();
}

Order* Ledger::openOrder(const Digest& id, TxResult& refusal) {
  auto it = orders_.find(id);
  if (it == orders_.end()) return refusal = refused("no order " + core::toHex(id)), nullptr;
  if (it->second.status != Order::Status::Open)
    return refusal = refused("the order is " + std::string(statusName(it->second.status))), nullptr;
  return &it->second;
}

TxResult Ledger::apply(const AccountId& from, const AssignOrder& t) {
  TxResult why;
  Order* open = openOrder(t.order, why);
  if (!open) return why;
  Order& o = *open;
  if (o.owner != from) return refused("only the order's owner assigns it");
  if (t.foggers.empty()) return refused("an assignment of no fogger");
  std::size_t taken = o.done();
  for (const auto& a : o.assignments) taken += a.active();
  if (taken + t.foggers.size() > o.terms.replicas)
    return refused("the order runs on " + std::to_string(o.terms.replicas) + " fogger(s); " +
                   std::to_string(taken) + " assigned or done, " +
                   std::to_string(t.foggers.size()) + " more asked");
  for (std::size_t i = 0; i < t.foggers.size(); ++i) {
    const AccountId& f = t.foggers[i];
    if (std::find(o.group.begin(), o.group.end(), f) == o.group.end())
      return refused(core::didKey(f) + " is not in the order's group");
    if (std::find(t.foggers.begin(), t.foggers.begin() + std::ptrdiff_t(i), f) !=
        t.foggers.begin() + std::ptrdiff_t(i))
      return refused(core::didKey(f) + " is named twice");
    for (const auto& a : o.assignments)
      if (a.fogger == f && (a.active() || a.state == Assignment::State::Done))
        return refused(core::didKey(f) + " already has this order");
  }
  for (const AccountId& f : t.foggers) {
    const Provider* p = provider(f);
    FLO_CHECK(p); // group members are providers, and providers are never removed
    Assignment a;
    a.fogger = f;
    a.price = std::min(p->offer.price, o.terms.maxPrice);
    a.startBy = timeMs_ + kStartDeadlineMs;
    o.assignments.push_back(a);
    dueOrders_[a.startBy].insert(t.order);
  }
  touchedOrders_.insert(t.order);
  return applied();
}

TxResult Ledger::apply(const AccountId& from, const StartRun& t) {
  TxResult why;
  Order* o = openOrder(t.order, why);
  if (!o) return why;
  for (auto& a : o->assignments)
    if (a.fogger == from && a.state == Assignment::State::Assigned) {
      a.state = Assignment::State::Started;
      touchedOrders_.insert(t.order);
      return applied();
    }
  return refused("the sender has no assignment of this order waiting to start");
}

TxResult Ledger::apply(const AccountId& from, const Receipt& t) {
  const RunResult& r = t.result;
  TxResult why;
  Order* open = openOrder(r.order, why);
  if (!open) return why;
  Order& o = *open;
  auto a = std::find_if(o.assignments.begin(), o.assignments.end(),
                        [&](const Assignment& x) { return x.fogger == from && x.active(); });
  if (a == o.assignments.end())
    return refused("the sender has no running assignment of this order");
  if (r.runs > o.terms.runs)
    return refused("a receipt for " + std::to_string(r.runs) + " runs of an order of " +
                   std::to_string(o.terms.runs));
  // Never more than the bound: work beyond it is not paid.
  std::uint64_t bound = o.terms.costBound * std::uint64_t(o.terms.runs); // fits: escrow did
  auto pay = product(a->price, std::min(r.work, bound));
  FLO_CHECK(pay && *pay <= o.escrow); // price ≤ max price and work ≤ bound: within escrow
  a->state = Assignment::State::Done;
  a->paid = *pay;
  a->result = r;
  o.escrow -= *pay;
  accounts_[from].balance += *pay;
  touched_.insert(from);
  Provider& p = providers_.at(from);
  ++p.completed;
  touchedProviders_.insert(from);
  touchedOrders_.insert(r.order);
  if (o.done() == o.terms.replicas)
    closeOrder(r.order, o, Order::Status::Settled, Assignment::State::Cancelled);
  return applied();
}

TxResult Ledger::apply(const AccountId& from, const CancelOrder& t) {
  TxResult why;
  Order* o = openOrder(t.order, why);
  if (!o) return why;
  if (o->owner != from) return refused("only the order's owner cancels it");
  closeOrder(t.order, *o, Order::Status::Cancelled, Assignment::State::Cancelled);
  return applied();
}

TxResult Ledger::apply(const AccountId& /*from*/, const SlashFogger& t) {
  std::string why;
  auto r = RunResult::decode(t.statement, &why);
  if (!r) return refused(why);
  if (!core::verifySignature(t.fogger, t.signature, runResultMessage(*r)))
    return refused("the statement is not signed by " + core::didKey(t.fogger));
  auto it = orders_.find(r->order);
  if (it == orders_.end()) return refused("no order " + core::toHex(r->order));
  Order& o = it->second;
  auto a = std::find_if(o.assignments.begin(), o.assignments.end(), [&](const Assignment& x) {
    return x.fogger == t.fogger && x.result.has_value();
  });
  if (a == o.assignments.end()) return refused("the fogger gave no receipt for this order");
  if (*a->result == *r) return refused("the statement agrees with the fogger's receipt");
  if (a->slashed) return refused("the fogger was slashed for this order already");
  a->slashed = true;
  Account& f = accounts_[t.fogger];
  std::uint64_t taken = f.stake;
  f.stake = 0;
  accounts_[o.owner].balance += taken;
  touched_.insert(t.fogger);
  touched_.insert(o.owner);
  Provider& p = providers_.at(t.fogger);
  ++p.slashed;
  touchedProviders_.insert(t.fogger);
  touchedOrders_.insert(r->order);
  return applied();
}

void Ledger::closeOrder(const Digest& id, Order& o, Order::Status status, Assignment::State ended) {
  FLO_CHECK(o.status == Order::Status::Open);
  for (auto& a : o.assignments)
    if (a.active()) {
      a.state = ended;
      if (ended == Assignment::State::Failed) {
        ++providers_.at(a.fogger).failed;
        touchedProviders_.insert(a.fogger);
      }
    }
  accounts_[o.owner].balance += o.escrow;
  touched_.insert(o.owner);
  o.escrow = 0;
  o.status = status;
  openOrders_.erase(id);
  touchedOrders_.insert(id);
}

void Ledger::expireOrders() {
  std::set<Digest> due;
  while (!dueOrders_.empty() && dueOrders_.begin()->first <= timeMs_) {
    due.merge(dueOrders_.begin()->second);
    dueOrders_.erase(dueOrders_.begin());
  }
  for (const Digest& id : due) {
    if (!openOrders_.count(id)) continue; // closed since
    Order& o = orders_.at(id);
    if (timeMs_ >= o.deadlineMs) {
      closeOrder(id, o, Order::Status::Expired, Assignment::State::Failed);
      continue;
    }
    for (auto& a : o.assignments)
      if (a.state == Assignment::State::Assigned && timeMs_ >= a.startBy) {
        a.state = Assignment::State::Lapsed;
        ++providers_.at(a.fogger).failed;
        touchedProviders_.insert(a.fogger);
        touchedOrders_.insert(id);
      }
  }
}

namespace {

nlohmann::json providerJson(const AccountId& id, const Provider& p, const Account* acc) {
  return {{"did", core::didKey(id)},
          {"address", p.offer.address},
          {"architectures", p.offer.architectures},
          {"cores", p.offer.cores},
          {"memory_mib", p.offer.memoryMiB},
          {"zone", p.offer.zone},
          {"price", p.offer.price},
          {"stake", acc ? acc->stake : 0},
          {"completed", p.completed},
          {"failed", p.failed},
          {"slashed", p.slashed}};
}

} // namespace

std::string Ledger::orderJson(const Digest& id) const {
  const Order* o = order(id);
  if (!o) return "";
  nlohmann::json group = nlohmann::json::array(), assignments = nlohmann::json::array();
  for (const auto& g : o->group) group.push_back(providerJson(g, providers_.at(g), account(g)));
  for (const auto& a : o->assignments) {
    nlohmann::json j = {{"fogger", core::didKey(a.fogger)},
                        {"state", stateName(a.state)},
                        {"price", a.price},
                        {"start_by_ms", a.startBy},
                        {"paid", a.paid},
                        {"slashed", a.slashed}};
    if (a.result)
      j["result"] = {{"head", core::toHex(a.result->head)},
                     {"items", a.result->items},
                     {"work", a.result->work},
                     {"runs", a.result->runs},
                     {"status", a.result->status}};
    assignments.push_back(std::move(j));
  }
  const PlaceOrder& t = o->terms;
  nlohmann::json j = {{"id", core::toHex(id)},
                      {"owner", core::didKey(o->owner)},
                      {"manifest", core::toHex(t.manifest)},
                      {"job", t.job},
                      {"arch", t.arch},
                      {"memory_mib", t.memoryMiB},
                      {"milli_cores", t.milliCores},
                      {"runs", t.runs},
                      {"replicas", t.replicas},
                      {"cost_bound", t.costBound},
                      {"max_price", t.maxPrice},
                      {"placed_ms", o->placedMs},
                      {"deadline_ms", o->deadlineMs},
                      {"height", o->height},
                      {"status", statusName(o->status)},
                      {"escrow", o->escrow},
                      {"group", std::move(group)},
                      {"assignments", std::move(assignments)}};
  return j.dump();
}

std::string Ledger::providersJson() const {
  nlohmann::json all = nlohmann::json::array();
  for (const auto& [id, p] : providers_) all.push_back(providerJson(id, p, account(id)));
  return all.dump();
}

} // namespace flo::pool
