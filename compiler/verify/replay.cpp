/// \file
/// Counterexamples replayed on the contract machine (see replay.h).
#include "compiler/verify/replay.h"

#include <charconv>

namespace flo::verify {

using tir::Base;
using vm::Value;

namespace {

bool number(const std::string& text, long long* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool unsignedNumber(const std::string& text, std::uint64_t* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

/// A value as `floc verify` prints it (numbers, `true`, quoted strs, `did#1`, `none`).
std::optional<Value> parse(Base base, const std::string& text) {
  long long i = 0;
  std::uint64_t u = 0;
  switch (base) {
  case Base::Bool:
    return Value::ofBool(text == "true");
  case Base::I64:
    if (!number(text, &i)) return std::nullopt;
    return Value::ofI64(i);
  case Base::U64:
    if (!unsignedNumber(text, &u)) return std::nullopt;
    return Value::ofU64(u);
  case Base::Str:
    if (text.size() < 2) return std::nullopt;
    return Value::ofText(base, text.substr(1, text.size() - 2));
  default:
    return Value::ofText(base, text == "none" || text == "empty" ? "" : text);
  }
}

/// A key no witness uses, for the entries of a map the counterexample does not show.
Value fillerKey(Base base, int i) {
  switch (base) {
  case Base::I64:
    return Value::ofI64(-777000 - i);
  case Base::U64:
    return Value::ofU64(777000 + std::uint64_t(i));
  case Base::Bool:
    return Value::ofBool(i == 0);
  default:
    return Value::ofText(base, "filler#" + std::to_string(i));
  }
}

std::optional<std::uint32_t> stateNamed(const tir::TypedContract& k, const std::string& name) {
  for (std::uint32_t i = 0; i < k.vars.size(); ++i)
    if (k.vars[i].name == name && k.vars[i].role == tir::Var::Role::State) return i;
  return std::nullopt;
}

} // namespace

bool realize(const tir::TypedContract& k, const Witness& w, vm::State* s, vm::Context* ctx,
             vm::Call* c, std::string* why) {
  auto fail = [&](std::string reason) {
    *why = std::move(reason);
    return false;
  };
  *s = vm::deployed(k);
  for (std::uint32_t i = 0; i < k.vars.size(); ++i) {
    const tir::Var& v = k.vars[i];
    if (v.role != tir::Var::Role::State) continue;
    if (v.type.base != Base::Map) {
      auto it = w.scalars.find(v.name);
      auto x = it == w.scalars.end() ? std::nullopt : parse(v.type.base, it->second);
      if (!x) return fail(v.name + ": no value");
      s->vars[i] = *x;
      continue;
    }
    auto view = w.maps.find(v.name);
    if (view == w.maps.end()) return fail(v.name + ": no entries");
    auto& m = s->maps[i];
    __int128 shownSum = 0;
    long long shown = 0;
    for (const auto& [kt, vt] : view->second.entries) {
      auto key = parse(v.type.key, kt);
      auto val = parse(v.type.value->base, vt);
      if (!key || !val) return fail(v.name + ": an entry that does not read");
      if (val->isDefault()) continue;
      m[*key] = *val;
      ++shown;
      shownSum += val->base == Base::U64 ? __int128(val->u) : __int128(val->i);
    }
    long long count = 0, sum = 0;
    if (!number(view->second.count, &count)) return fail(v.name + ": a count that does not read");
    const bool numeric = !view->second.sum.empty();
    if (numeric && !number(view->second.sum, &sum)) return fail(v.name + ": a sum out of range");
    const long long rest = count - shown;
    const __int128 restSum = numeric ? __int128(sum) - shownSum : 0;
    if (rest < 0) return fail(v.name + ": more entries shown than counted");
    if (rest > 1000) return fail(v.name + ": too many entries to fill in");
    if (rest == 0 && restSum != 0) return fail(v.name + ": a sum with no entries");
    for (long long j = 0; j < rest; ++j) {
      Value val = Value::defaultOf(v.type.value->base);
      if (numeric) {
        __int128 x = j == 0 ? restSum - (rest - 1) : 1;
        if (val.base == Base::U64) {
          if (x <= 0 || x > __int128(UINT64_MAX)) return fail(v.name + ": the rest of the sum");
          val.u = std::uint64_t(x);
        } else {
          if (x == 0 || x > INT64_MAX || x < INT64_MIN) return fail(v.name + ": an i64 filler");
          val.i = std::int64_t(x);
        }
      } else if (val.base == Base::Bool) {
        val.b = true;
      } else {
        val.s = "filler";
      }
      m[fillerKey(v.type.key, int(j))] = val;
    }
  }
  ctx->creator = parse(Base::Did, w.creator)->s;
  std::uint64_t held = 0, value = 0, now = 0;
  if (!unsignedNumber(w.held, &held)) return fail("held does not read");
  ctx->held = held;
  c->action = w.action;
  c->args.clear();
  if (w.action.empty()) return true;
  c->caller = parse(Base::Did, w.caller)->s;
  if (!unsignedNumber(w.value, &value) || !unsignedNumber(w.now, &now))
    return fail("value or now does not read");
  c->value = value;
  c->now = now;
  for (const auto& a : k.actions)
    if (a.name == w.action) {
      if (w.args.size() != a.params.size()) return fail("the arguments are not the action's");
      for (std::size_t i = 0; i < a.params.size(); ++i) {
        auto x = parse(k.vars[a.params[i]].type.base, w.args[i]);
        if (!x) return fail("an argument does not read");
        c->args.push_back(*x);
      }
    }
  return true;
}

Replay replay(const tir::TypedContract& k, const Property& p, std::string* why) {
  auto differs = [&](std::string reason) {
    *why = std::move(reason);
    return Replay::Differs;
  };
  if (!p.witness) return differs("no witness");
  vm::State s;
  vm::Context ctx;
  vm::Call c;
  if (!realize(k, *p.witness, &s, &ctx, &c, why)) return Replay::Unrealizable;
  auto invariantAt = [&]() -> const tir::Expr* {
    for (const auto& inv : k.invariants)
      if (inv.range.begin == p.range.begin && inv.range.file == p.range.file) return &inv;
    return nullptr;
  };
  if (p.kind == "invariant-initial") {
    const tir::Expr* inv = invariantAt();
    if (!inv) return differs("no invariant there");
    return vm::holds(k, *inv, s, ctx.held, ctx) ? differs("the invariant holds when deployed")
                                                : Replay::AsPredicted;
  }
  vm::Outcome o = vm::call(k, s, ctx, c);
  if (p.kind == "overflow" || p.kind == "division" || p.kind == "pay") {
    if (o.ok) return differs("the call completed");
    if (o.fault != p.kind) return differs("it aborted with " + o.fault + ": " + o.message);
    if (o.at.begin != p.range.begin) return differs("it faulted elsewhere: " + o.message);
    return Replay::AsPredicted;
  }
  if (!o.ok) return differs("the call aborted (" + o.fault + ": " + o.message + ")");
  const tir::TypedAction* action = nullptr;
  for (const auto& a : k.actions)
    if (a.name == c.action) action = &a;
  if (!action) return differs("no action " + c.action);
  if (p.kind == "invariant") {
    const tir::Expr* inv = invariantAt();
    if (!inv) return differs("no invariant there");
    return vm::holds(k, *inv, o.after, o.held, ctx) ? differs("the invariant holds after the call")
                                                    : Replay::AsPredicted;
  }
  if (p.kind == "ensures") {
    for (const auto& st : action->body)
      if (st.kind == tir::Stmt::Kind::Ensures && st.range.begin == p.range.begin)
        return vm::holds(k, st.value, o.after, o.held, ctx, &c, &s, ctx.held + c.value)
                   ? differs("the ensures holds after the call")
                   : Replay::AsPredicted;
    return differs("no ensures there");
  }
  if (p.kind == "modifies") {
    auto v = stateNamed(k, p.text);
    if (!v) return differs("no state " + p.text);
    bool changed = o.after.vars[*v] != s.vars[*v] || o.after.maps[*v] != s.maps[*v];
    return changed ? Replay::AsPredicted : differs("'" + p.text + "' did not change");
  }
  return differs("no replay for " + p.kind);
}

} // namespace flo::verify
