/// \file
/// The contract machine (see machine.h): a tree-walking evaluator over the typed IR with exact
/// integers (boost::multiprecision::cpp_int), checked where a statement computes.
#include "compiler/vm/machine.h"

#include <boost/multiprecision/cpp_int.hpp>

#include <algorithm>
#include <cassert>
#include <optional>

namespace flo::vm {

using boost::multiprecision::cpp_int;
using tir::Base;
using tir::Expr;
using tir::Op;
using tir::Stmt;
using tir::Var;

std::string Value::text() const {
  switch (base) {
  case Base::Bool:
    return b ? "true" : "false";
  case Base::I64:
    return std::to_string(i);
  case Base::U64:
    return std::to_string(u);
  case Base::Str:
    return "\"" + s + "\"";
  default:
    return s.empty() ? "none" : s;
  }
}

State deployed(const tir::TypedContract& k) {
  State s;
  for (const Var& v : k.vars)
    s.vars.push_back(Value::defaultOf(v.type.base == Base::Map ? v.type.value->base : v.type.base));
  return s;
}

namespace {

/// A value while it is computed: integers (and bools used as integers) exact.
struct V {
  Base base = Base::U64;
  bool b = false;
  cpp_int n;
  std::string s;
};

struct Fault {
  std::string kind, message;
  lang::SourceRange at;
};

V fromValue(const Value& v) {
  V x;
  x.base = v.base;
  x.b = v.b;
  x.s = v.s;
  if (v.base == Base::I64) x.n = v.i;
  if (v.base == Base::U64) x.n = v.u;
  return x;
}

cpp_int lo(Base b) {
  return b == Base::I64 ? cpp_int(std::numeric_limits<std::int64_t>::min()) : cpp_int(0);
}
cpp_int hi(Base b) {
  return b == Base::I64 ? cpp_int(std::numeric_limits<std::int64_t>::max())
                        : cpp_int(std::numeric_limits<std::uint64_t>::max());
}
bool fits(const cpp_int& n, Base b) {
  return n >= lo(b) && n <= hi(b);
}

Value toValue(const V& x, Base base) {
  Value v = Value::defaultOf(base);
  switch (base) {
  case Base::Bool:
    v.b = x.base == Base::Bool ? x.b : x.n != 0;
    break;
  case Base::I64:
    v.i = x.base == Base::Bool ? std::int64_t(x.b) : x.n.convert_to<std::int64_t>();
    break;
  case Base::U64:
    v.u = x.base == Base::Bool ? std::uint64_t(x.b) : x.n.convert_to<std::uint64_t>();
    break;
  default:
    v.s = x.s;
  }
  return v;
}

bool truthy(const V& x) {
  if (x.base == Base::Bool) return x.b;
  if (x.base == Base::I64 || x.base == Base::U64) return x.n != 0;
  return !x.s.empty();
}

cpp_int number(const V& x) {
  return x.base == Base::Bool ? cpp_int(x.b ? 1 : 0) : x.n;
}

V boolean(bool b) {
  V x;
  x.base = Base::Bool;
  x.b = b;
  return x;
}

V integer(Base base, cpp_int n) {
  V x;
  x.base = base;
  x.n = std::move(n);
  return x;
}

/// Floored division and remainder (the remainder takes the divisor's sign); b != 0.
std::pair<cpp_int, cpp_int> floored(const cpp_int& a, const cpp_int& b) {
  cpp_int q = a / b, r = a % b; // truncated
  if (r != 0 && ((r < 0) != (b < 0))) {
    q -= 1;
    r += b;
  }
  return {q, r};
}

class Machine {
public:
  Machine(const tir::TypedContract& k, State& cur, const Context& ctx, const Call* call,
          const tir::TypedAction* action)
      : k_(k), cur_(&cur), ctx_(ctx), call_(call), action_(action) {}

  cpp_int held;
  cpp_int oldHeld;
  const State* old = nullptr;
  bool exec = false; ///< check operations against their types (statements)
  std::uint64_t ops = 0;
  std::vector<Payment> pays;

  /// What each write replaced, to put back when the call aborts (a write of a map entry keeps
  /// the entry it replaced, or none).
  struct Undo {
    std::uint32_t var;
    std::optional<Value> key;
    std::optional<Value> before;
  };
  std::vector<Undo> undo;

  /// Puts back everything the call wrote, newest first.
  void rollback() {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      if (!it->key) {
        cur_->vars[it->var] = *it->before;
        continue;
      }
      auto& m = cur_->maps[it->var];
      if (it->before)
        m[*it->key] = *it->before;
      else
        m.erase(*it->key);
      if (m.empty()) cur_->maps.erase(it->var);
    }
    undo.clear();
  }

  V eval(const Expr& e) {
    ++ops;
    switch (e.op) {
    case Op::Const: {
      V x;
      x.base = e.type.base;
      if (e.type.base == Base::Bool) x.b = e.b;
      if (e.type.base == Base::I64) x.n = e.i;
      if (e.type.base == Base::U64) x.n = e.u;
      if (e.type.base == Base::Str) x.s = e.s;
      if (e.type.base == Base::F64) unsupported(e);
      return x;
    }
    case Op::Var:
      return var(e);
    case Op::Widen: {
      if (e.type.base == Base::F64) unsupported(e);
      V a = eval(e.args[0]);
      return integer(e.type.base, number(a));
    }
    case Op::Neg: {
      cpp_int r = -number(eval(e.args[0]));
      check(e, r);
      return integer(e.type.base, r);
    }
    case Op::Not:
      return boolean(!truthy(eval(e.args[0])));
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod:
      return arith(e);
    case Op::Cmp:
      return compare(e);
    case Op::And:
    case Op::Or: {
      V a = eval(e.args[0]);
      if ((e.op == Op::And) != truthy(a)) return a; // short-circuit: the left operand
      return eval(e.args[1]);
    }
    case Op::Cond:
      return truthy(eval(e.args[0])) ? eval(e.args[1]) : eval(e.args[2]);
    case Op::Call:
      return callFn(e);
    case Op::Index: {
      const auto& m = mapOf(e.args[0]);
      V key = eval(e.args[1]);
      const Type& t = k_.vars[mapVar(e.args[0])].type;
      auto it = m.find(toValue(key, t.key));
      return fromValue(it == m.end() ? Value::defaultOf(t.value->base) : it->second);
    }
    case Op::Old: {
      assert(old && "`old` outside `ensures`");
      Machine o(k_, const_cast<State&>(*old), ctx_, call_, action_);
      o.held = oldHeld;
      V r = o.eval(e.args[0]);
      ops += o.ops;
      return r;
    }
    case Op::Sum: {
      cpp_int total = 0;
      for (const auto& [key, v] : mapOf(e.args[0])) total += number(fromValue(v));
      check(e, total);
      return integer(e.type.base, total);
    }
    case Op::Count:
      return integer(Base::U64, cpp_int(mapOf(e.args[0]).size()));
    }
    unsupported(e);
  }

  void run(const Stmt& s) {
    ++ops;
    switch (s.kind) {
    case Stmt::Kind::Requires:
      exec = false; // a specification: exact
      if (!truthy(eval(s.value)))
        throw Fault{"requires", "the call does not meet its `requires`", s.range};
      return;
    case Stmt::Kind::Ensures:
      --ops; // proven, not run
      return;
    case Stmt::Kind::Fail:
      exec = true;
      if (truthy(eval(s.value))) throw Fault{"fail", s.message, s.range};
      return;
    case Stmt::Kind::Pay: {
      exec = true;
      cpp_int amount = number(eval(s.value));
      V to = eval(*s.index);
      if (amount > held)
        throw Fault{"pay", "pays " + amount.str() + " but the contract holds " + held.str(),
                    s.value.range};
      held -= amount;
      pays.push_back({to.s, amount.convert_to<std::uint64_t>()});
      return;
    }
    case Stmt::Kind::Assign: {
      exec = true;
      const Type& t = k_.vars[s.target].type;
      if (!s.index) {
        Value v = toValue(eval(s.value), t.base);
        undo.push_back({s.target, std::nullopt, cur_->vars[s.target]});
        cur_->vars[s.target] = std::move(v);
        return;
      }
      V key = eval(*s.index);
      V v = eval(s.value);
      auto& m = cur_->maps[s.target];
      Value kv = toValue(key, t.key), vv = toValue(v, t.value->base);
      auto it = m.find(kv);
      undo.push_back({s.target, kv, it == m.end() ? std::nullopt : std::optional(it->second)});
      if (vv.isDefault()) {
        if (it != m.end()) m.erase(it);
      } else if (it != m.end()) {
        it->second = vv;
      } else {
        if (t.max && m.size() >= *t.max)
          throw Fault{"full",
                      "the map '" + k_.vars[s.target].name + "' is full (max " +
                          std::to_string(*t.max) + ")",
                      s.range};
        m.emplace(kv, vv);
      }
      return;
    }
    }
  }

private:
  using Type = tir::Type;

  [[noreturn]] void unsupported(const Expr& e) {
    throw Fault{"unsupported", "the contract machine does not compute f64 values", e.range};
  }

  void check(const Expr& e, const cpp_int& r) {
    if (!exec || fits(r, e.type.base)) return;
    throw Fault{"overflow",
                "'" + (e.s.empty() ? std::string("the sum") : e.s) + "' " +
                    (r < lo(e.type.base) ? "underflows " : "overflows ") +
                    tir::baseName(e.type.base) + " (" + r.str() + ")",
                e.range};
  }

  V var(const Expr& e) {
    const Var& v = k_.vars[e.var];
    switch (v.role) {
    case Var::Role::State:
      if (v.type.base == Base::Map) return V{}; // read through mapOf
      return fromValue(cur_->vars[e.var]);
    case Var::Role::Param: {
      assert(call_ && action_);
      auto it = std::find(action_->params.begin(), action_->params.end(), e.var);
      assert(it != action_->params.end());
      return fromValue(call_->args[std::size_t(it - action_->params.begin())]);
    }
    case Var::Role::Builtin:
      if (v.name == "held") return integer(Base::U64, held);
      if (v.name == "creator") return fromValue(Value::ofText(Base::Did, ctx_.creator));
      assert(call_);
      if (v.name == "caller") return fromValue(Value::ofText(Base::Did, call_->caller));
      if (v.name == "value") return integer(Base::U64, call_->value);
      if (v.name == "now") return integer(Base::U64, call_->now);
      break;
    default:
      break;
    }
    throw Fault{"unsupported", "a variable the contract machine does not know: " + v.name, e.range};
  }

  std::uint32_t mapVar(const Expr& e) {
    if (e.op == Op::Var) return e.var;
    if (e.op == Op::Old) return mapVar(e.args[0]);
    throw Fault{"unsupported", "a map is read by its name", e.range};
  }

  const std::map<Value, Value>& mapOf(const Expr& e) {
    static const std::map<Value, Value> empty;
    const State* s = e.op == Op::Old ? old : cur_;
    assert(s);
    auto it = s->maps.find(mapVar(e));
    return it == s->maps.end() ? empty : it->second;
  }

  V arith(const Expr& e) {
    if (e.type.base == Base::F64) unsupported(e);
    cpp_int a = number(eval(e.args[0])), b = number(eval(e.args[1]));
    cpp_int r;
    if (e.op == Op::Add || e.op == Op::Sub || e.op == Op::Mul) {
      r = tir::ring(e.op, a, b);
    } else if (b == 0) {
      if (exec) throw Fault{"division", "'" + e.s + "' divides by zero", e.range};
      r = 0; // a specification dividing by zero: Z3's choice is free; the machine says 0
    } else {
      r = e.op == Op::Div ? floored(a, b).first : floored(a, b).second;
    }
    check(e, r);
    return integer(e.type.base, r);
  }

  V compare(const Expr& e) {
    V a = eval(e.args[0]), b = eval(e.args[1]);
    int c;
    const bool numeric = a.base == Base::Bool || a.base == Base::I64 || a.base == Base::U64;
    if (numeric) {
      cpp_int x = number(a), y = number(b);
      c = x < y ? -1 : x > y ? 1 : 0;
    } else {
      c = a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
    }
    switch (e.cmp) {
    case lang::Comparison::Eq:
      return boolean(c == 0);
    case lang::Comparison::Ne:
      return boolean(c != 0);
    case lang::Comparison::Lt:
      return boolean(c < 0);
    case lang::Comparison::Le:
      return boolean(c <= 0);
    case lang::Comparison::Gt:
      return boolean(c > 0);
    case lang::Comparison::Ge:
      return boolean(c >= 0);
    }
    return boolean(false);
  }

  V callFn(const Expr& e) {
    if (e.fn == tir::Fn::Len) {
      const Expr& x = e.args[0];
      if (x.type.base == Base::Map) return integer(Base::U64, cpp_int(mapOf(x).size()));
      return integer(Base::U64, cpp_int(eval(x).s.size()));
    }
    if (e.type.base == Base::F64) unsupported(e);
    std::vector<cpp_int> a;
    for (const auto& x : e.args) a.push_back(number(eval(x)));
    switch (e.fn) {
    case tir::Fn::Abs: {
      cpp_int r = a[0] < 0 ? cpp_int(-a[0]) : a[0];
      check(e, r);
      return integer(e.type.base, r);
    }
    case tir::Fn::Min:
      return integer(e.type.base, *std::min_element(a.begin(), a.end()));
    case tir::Fn::Max:
      return integer(e.type.base, *std::max_element(a.begin(), a.end()));
    case tir::Fn::Clamp: {
      cpp_int m = a[0] < a[1] ? a[1] : a[0];
      return integer(e.type.base, m > a[2] ? a[2] : m);
    }
    case tir::Fn::Floor:
    case tir::Fn::Ceil:
    case tir::Fn::Round:
      return integer(e.type.base, a[0]);
    default:
      unsupported(e);
    }
  }

  const tir::TypedContract& k_;
  State* cur_;
  const Context& ctx_;
  const Call* call_;
  const tir::TypedAction* action_;
};

bool argumentsFit(const tir::TypedContract& k, const tir::TypedAction& a, const Call& c,
                  std::string* why) {
  if (c.args.size() != a.params.size()) {
    *why = "'" + a.name + "' takes " + std::to_string(a.params.size()) + " argument(s), not " +
           std::to_string(c.args.size());
    return false;
  }
  for (std::size_t i = 0; i < c.args.size(); ++i) {
    const Var& p = k.vars[a.params[i]];
    if (c.args[i].base != p.type.base) {
      *why = "argument '" + p.name + "' is " + tir::typeName(p.type) + ", not " +
             tir::baseName(c.args[i].base);
      return false;
    }
  }
  return true;
}

} // namespace

Outcome run(const tir::TypedContract& k, State& state, const Context& ctx, const Call& c,
            const Acceptance& accept) {
  Outcome out;
  out.held = ctx.held;
  const tir::TypedAction* action = nullptr;
  for (const auto& a : k.actions)
    if (a.name == c.action) action = &a;
  std::string why;
  if (!action) {
    out.fault = "arguments";
    out.message = "contract '" + k.name + "' has no action '" + c.action + "'";
    return out;
  }
  if (!argumentsFit(k, *action, c, &why)) {
    out.fault = "arguments";
    out.message = why;
    out.at = action->range;
    return out;
  }
  Machine m(k, state, ctx, &c, action);
  m.held = cpp_int(ctx.held) + c.value;
  m.oldHeld = m.held;
  // `old X` is read only by `ensures`, which a call does not run: no copy of the state.
  try {
    for (const Stmt& s : action->body) m.run(s);
  } catch (const Fault& f) {
    m.rollback(); // nothing changes; `value` stays with the caller
    out.fault = f.kind;
    out.message = f.message;
    out.at = f.at;
    out.ops = m.ops;
    return out;
  } catch (...) {
    m.rollback(); // the state as it was, whatever went wrong
    throw;
  }
  if (accept) {
    if (auto why = accept(m.pays)) {
      m.rollback();
      out.fault = "pay";
      out.message = *why;
      out.ops = m.ops;
      return out;
    }
  }
  out.ok = true;
  out.held = m.held.convert_to<std::uint64_t>();
  out.pays = std::move(m.pays);
  out.ops = m.ops;
  return out;
}

Outcome call(const tir::TypedContract& k, const State& before, const Context& ctx, const Call& c) {
  State state = before;
  Outcome out = run(k, state, ctx, c, {});
  out.after = out.ok ? std::move(state) : before;
  return out;
}

namespace {

std::uint64_t nodes(const Expr& e) {
  std::uint64_t n = 1;
  for (const auto& a : e.args) n += nodes(a);
  return n;
}

} // namespace

std::uint64_t costBound(const tir::TypedAction& action) {
  std::uint64_t n = 0;
  for (const auto& s : action.body)
    if (s.kind != Stmt::Kind::Ensures) n += 1 + nodes(s.value) + (s.index ? nodes(*s.index) : 0);
  return n;
}

bool holds(const tir::TypedContract& k, const Expr& spec, const State& state, std::uint64_t held,
           const Context& ctx, const Call* c, const State* old, std::uint64_t oldHeld) {
  const tir::TypedAction* action = nullptr;
  if (c)
    for (const auto& a : k.actions)
      if (a.name == c->action) action = &a;
  State cur = state;
  Machine m(k, cur, ctx, c, action);
  m.held = held;
  m.old = old;
  m.oldHeld = oldHeld;
  try {
    return truthy(m.eval(spec));
  } catch (const Fault&) {
    return false;
  }
}

} // namespace flo::vm
