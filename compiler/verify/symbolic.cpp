/// \file
/// Symbolic execution of contract actions over Z3 terms (see symbolic.h for the model).
#include "compiler/verify/symbolic.h"

#include <algorithm>
#include <cassert>

namespace flo::verify {

using tir::Base;
using tir::Expr;
using tir::Op;
using tir::Stmt;
using tir::Type;
using tir::Var;

namespace {

std::string decimal(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u =
      neg ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string s;
  while (u) {
    s.insert(s.begin(), char('0' + int(u % 10)));
    u /= 10;
  }
  return neg ? "-" + s : s;
}

int precedence(Op op) {
  switch (op) {
  case Op::Cond:
    return 1;
  case Op::Or:
    return 2;
  case Op::And:
    return 3;
  case Op::Not:
    return 4;
  case Op::Cmp:
    return 5;
  case Op::Add:
  case Op::Sub:
    return 6;
  case Op::Mul:
  case Op::Div:
  case Op::Mod:
    return 7;
  case Op::Neg:
  case Op::Old:
  case Op::Sum:
  case Op::Count:
    return 8;
  default:
    return 9;
  }
}

} // namespace

std::string sourceText(const std::vector<Var>& vars, const Expr& e) {
  auto sub = [&](const Expr& x, int min) {
    const Expr* y = &x;
    while (y->op == Op::Widen) y = &y->args[0];
    std::string t = sourceText(vars, *y);
    return precedence(y->op) < min ? "(" + t + ")" : t;
  };
  const int p = precedence(e.op);
  switch (e.op) {
  case Op::Const:
    switch (e.type.base) {
    case Base::Bool:
      return e.b ? "true" : "false";
    case Base::I64:
      return std::to_string(e.i);
    case Base::U64:
      return std::to_string(e.u);
    case Base::Str:
      return "\"" + e.s + "\"";
    default:
      return e.s.empty() ? std::to_string(e.f) : e.s;
    }
  case Op::Var:
    return e.var < vars.size() ? vars[e.var].name : "?";
  case Op::Widen:
    return sourceText(vars, e.args[0]);
  case Op::Neg:
    return "- " + sub(e.args[0], p);
  case Op::Not:
    return "not " + sub(e.args[0], p);
  case Op::Old:
    return "old " + sub(e.args[0], p);
  case Op::Sum:
    return "sum " + sub(e.args[0], p);
  case Op::Count:
    return "count " + sub(e.args[0], p);
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Mod: {
    static const char* names[] = {"+", "-", "*", "/", "%"};
    const char* name = names[int(e.op) - int(Op::Add)];
    return sub(e.args[0], p) + " " + name + " " + sub(e.args[1], p + 1);
  }
  case Op::Cmp:
    return sub(e.args[0], p + 1) + " " + lang::comparisonText(e.cmp) + " " + sub(e.args[1], p + 1);
  case Op::And:
  case Op::Or:
    return sub(e.args[0], p) + (e.op == Op::And ? " and " : " or ") + sub(e.args[1], p + 1);
  case Op::Cond:
    return sub(e.args[1], p + 1) + " if " + sub(e.args[0], p + 1) + " else " + sub(e.args[2], p);
  case Op::Call: {
    std::string s = std::string(tir::fnName(e.fn)) + "(";
    for (std::size_t i = 0; i < e.args.size(); ++i) s += (i ? ", " : "") + sub(e.args[i], 0);
    return s + ")";
  }
  case Op::Index:
    return sub(e.args[0], 9) + "[" + sub(e.args[1], 0) + "]";
  }
  return "?";
}

Encoder::Encoder(z3::context& c, const tir::TypedContract& contract) : c_(c), k_(contract) {}

z3::expr Encoder::num(__int128 v) {
  return c_.int_val(decimal(v).c_str());
}

z3::expr Encoder::inRange(const z3::expr& x, Base b) {
  if (b != Base::I64 && b != Base::U64) return c_.bool_val(true);
  const tir::IntRange r = tir::IntRange::of(b);
  return x >= num(r.lo) && x <= num(r.hi);
}

z3::sort Encoder::sortOf(const Type& t, lang::SourceRange where) {
  switch (t.base) {
  case Base::Bool:
    return c_.bool_sort();
  case Base::I64:
  case Base::U64:
    return c_.int_sort();
  case Base::Str:
    return c_.string_sort();
  case Base::Did:
    return c_.uninterpreted_sort("did");
  case Base::Bytes:
    return c_.uninterpreted_sort("bytes");
  case Base::Map:
    if (!t.value || t.value->base == Base::Map)
      throw Unsupported(where, "floc verify does not reason about maps of maps");
    return c_.array_sort(sortOf(Type::scalar(t.key), where), sortOf(*t.value, where));
  case Base::F64:
    break;
  }
  throw Unsupported(where, "floc verify does not reason about f64 values (keep token amounts and "
                           "contract state in integers)");
}

z3::expr Encoder::defaultOf(const Type& t, lang::SourceRange where) {
  switch (t.base) {
  case Base::Bool:
    return c_.bool_val(false);
  case Base::I64:
  case Base::U64:
    return c_.int_val(0);
  case Base::Str:
    return c_.string_val("");
  case Base::Did:
  case Base::Bytes: {
    std::string name = t.base == Base::Did ? "did.none" : "bytes.empty";
    auto it = defaults_.find(name);
    if (it == defaults_.end())
      it = defaults_.emplace(name, c_.constant(name.c_str(), sortOf(t, where))).first;
    return it->second;
  }
  default:
    sortOf(t, where); // throws for what is not supported
    throw Unsupported(where, "floc verify: a map has no default value");
  }
}

bool Encoder::isNumberVar(std::uint32_t var) const {
  const Type& t = k_.vars[var].type;
  return t.base == Base::Map && t.value && t.value->isInteger();
}

std::vector<std::uint32_t> Encoder::stateVars() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < k_.vars.size(); ++i)
    if (k_.vars[i].role == Var::Role::State) out.push_back(i);
  return out;
}

Env Encoder::fresh(const std::string& tag) {
  Env env;
  env.reserve(k_.vars.size());
  for (const Var& v : k_.vars) {
    const std::string name = tag + "." + v.name;
    if (v.type.base != Base::Map) {
      env.push_back({c_.constant(name.c_str(), sortOf(v.type, v.decl)), {}, {}});
      continue;
    }
    Sym s{c_.constant(name.c_str(), sortOf(v.type, v.decl)), {}, {}};
    if (v.type.value->isInteger()) s.sum = c_.int_const((name + ".sum").c_str());
    s.count = c_.int_const((name + ".count").c_str());
    env.push_back(std::move(s));
  }
  return env;
}

Env Encoder::initial(const std::string& tag) {
  Env env = fresh(tag);
  for (std::uint32_t i = 0; i < k_.vars.size(); ++i) {
    const Var& v = k_.vars[i];
    if (v.role == Var::Role::Builtin && v.name == "held") env[i].v = c_.int_val(0);
    if (v.role != Var::Role::State) continue;
    if (v.type.base != Base::Map) {
      env[i].v = defaultOf(v.type, v.decl);
      continue;
    }
    env[i].v =
        z3::const_array(sortOf(Type::scalar(v.type.key), v.decl), defaultOf(*v.type.value, v.decl));
    if (env[i].sum) env[i].sum = c_.int_val(0);
    env[i].count = c_.int_val(0);
  }
  return env;
}

z3::expr Encoder::typeFacts(const Env& env, const std::vector<std::uint32_t>& vars) {
  z3::expr_vector out(c_);
  for (std::uint32_t i : vars) {
    const Type& t = k_.vars[i].type;
    const Sym& s = env[i];
    if (t.base != Base::Map) {
      out.push_back(inRange(s.v, t.base));
      continue;
    }
    out.push_back(*s.count >= 0);
    if (t.max) out.push_back(*s.count <= num(*t.max));
    if (s.sum && t.value->base == Base::U64) out.push_back(*s.sum >= *s.count); // entries >= 1
    if (s.sum) out.push_back(z3::implies(*s.count == 0, *s.sum == 0));
  }
  return z3::mk_and(out);
}

z3::expr Encoder::keyFacts(const Env& env) {
  z3::expr_vector out(c_);
  for (auto& [var, keys] : keys_) {
    const Type& t = k_.vars[var].type;
    const Sym& m = env[var];
    // Distinct terms only (Z3 hash-conses: one id per term).
    std::vector<z3::expr> ks;
    std::vector<unsigned> seen;
    for (const auto& k : keys) {
      unsigned id = k.id();
      if (std::find(seen.begin(), seen.end(), id) != seen.end()) continue;
      seen.push_back(id);
      ks.push_back(k);
    }
    const bool unsignedSum = m.sum && t.value->base == Base::U64;
    // The rest of the map: its entries are the count less those among the keys, each at least
    // 1 when the values are unsigned, so they add up to at least that many.
    const z3::expr none = defaultOf(*t.value, k_.vars[var].decl);
    auto nz = [&](const z3::expr& x) { return z3::ite(x != none, c_.int_val(1), c_.int_val(0)); };
    auto rest = [&](const z3::expr& when, const z3::expr& values, const z3::expr& entries) {
      out.push_back(z3::implies(when, *m.count - entries >= 0));
      if (unsignedSum) out.push_back(z3::implies(when, *m.sum - values >= *m.count - entries));
      // No other entry, nothing else in the sum.
      if (m.sum) out.push_back(z3::implies(when && *m.count == entries, *m.sum == values));
    };
    for (std::size_t a = 0; a < ks.size(); ++a) {
      z3::expr x = z3::select(m.v, ks[a]);
      out.push_back(inRange(x, t.value->base));
      rest(c_.bool_val(true), m.sum ? x : c_.int_val(0), nz(x));
      for (std::size_t b = a + 1; b < ks.size(); ++b) {
        z3::expr y = z3::select(m.v, ks[b]);
        rest(ks[a] != ks[b], m.sum ? x + y : c_.int_val(0), nz(x) + nz(y));
      }
    }
  }
  for (const auto& n : lengths_) out.push_back(inRange(n, Base::U64));
  return z3::mk_and(out);
}

void Encoder::useKey(std::uint32_t var, const z3::expr& key) {
  keys_[var].push_back(key);
}

z3::expr Encoder::invariants(Env& env) {
  z3::expr_vector out(c_);
  for (const auto& inv : k_.invariants) out.push_back(spec(inv, env, nullptr));
  return z3::mk_and(out);
}

z3::expr Encoder::spec(const Expr& e, Env& cur, const Env* old) {
  Frame f{&cur, old, nullptr, c_.bool_val(true)};
  return eval(e, f);
}

z3::expr Encoder::pathCondition(const Path& p, const z3::expr& guard) {
  z3::expr_vector v(c_);
  for (const auto& x : p.pc) v.push_back(x);
  v.push_back(guard);
  return z3::mk_and(v);
}

void Encoder::need(Frame& f, Obligation::Kind kind, const Expr& at, z3::expr cond, std::string what,
                   std::vector<std::pair<std::string, z3::expr>> show) {
  if (!f.path) return; // a specification: mathematical integers
  Path& p = *f.path;
  p.obligations.push_back({kind, at.type.base, at.range, std::move(what), pathCondition(p, f.guard),
                           cond, std::move(show)});
  // Checked here, assumed after: a run where it fails aborts at this point.
  p.pc.push_back(z3::implies(f.guard, cond));
}

z3::expr Encoder::truthy(const z3::expr& x) {
  if (x.is_bool()) return x;
  if (x.is_arith()) return x != 0;
  return x != c_.string_val("");
}

z3::expr Encoder::mapOf(const Expr& e, Frame& f, const Sym** sym) {
  if (e.op == Op::Var) {
    *sym = &(*f.cur)[e.var];
    return (*sym)->v;
  }
  if (e.op == Op::Old && f.old) {
    Frame g{const_cast<Env*>(f.old), f.old, f.path, f.guard};
    return mapOf(e.args[0], g, sym);
  }
  throw Unsupported(e.range, "floc verify reads a map only by its name");
}

z3::expr Encoder::arith(const Expr& e, Frame& f) {
  const Base t = e.type.base;
  if (t != Base::I64 && t != Base::U64)
    throw Unsupported(e.range, "floc verify does not reason about f64 arithmetic ('" +
                                   sourceText(k_.vars, e) + "')");
  z3::expr a = eval(e.args[0], f);
  if (e.op == Op::Neg) {
    z3::expr r = -a;
    if (e.mayFault)
      need(f, Obligation::Kind::Overflow, e, inRange(r, t), sourceText(k_.vars, e),
           {{sourceText(k_.vars, e.args[0]), a}, {"=", r}});
    return r;
  }
  z3::expr b = eval(e.args[1], f);
  std::vector<std::pair<std::string, z3::expr>> show{{sourceText(k_.vars, e.args[0]), a},
                                                     {sourceText(k_.vars, e.args[1]), b}};
  std::optional<z3::expr> r;
  switch (e.op) {
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
    r = tir::ring(e.op, a, b);
    break;
  case Op::Div:
  case Op::Mod: {
    if (e.mayFault) need(f, Obligation::Kind::Division, e, b != 0, sourceText(k_.vars, e), show);
    // Floored: Z3's integer division is Euclidean (the remainder is never negative), which
    // floors for a positive divisor; for a negative one, floor(a / b) = floor(-a / -b).
    z3::expr q = z3::ite(b >= 0, a / b, (-a) / (-b));
    r = e.op == Op::Div ? q : a - b * q;
    break;
  }
  default:
    assert(false && "arith: not an arithmetic node");
    r = a;
  }
  if (e.mayFault && e.op != Op::Mod) {
    show.emplace_back("=", *r);
    need(f, Obligation::Kind::Overflow, e, inRange(*r, t), sourceText(k_.vars, e), show);
  }
  return *r;
}

z3::expr Encoder::strLiteral(const std::string& s) {
  return c_.string_val(s);
}

z3::expr Encoder::eval(const Expr& e, Frame& f) {
  switch (e.op) {
  case Op::Const:
    switch (e.type.base) {
    case Base::Bool:
      return c_.bool_val(e.b);
    case Base::I64:
      return num(e.i);
    case Base::U64:
      return num(e.u);
    case Base::Str:
      return strLiteral(e.s);
    default:
      throw Unsupported(e.range, "floc verify does not reason about f64 values ('" +
                                     sourceText(k_.vars, e) + "')");
    }
  case Op::Var: {
    assert(e.var < f.cur->size());
    return (*f.cur)[e.var].v;
  }
  case Op::Widen: {
    if (e.type.base == Base::F64)
      throw Unsupported(e.range, "floc verify does not reason about f64 values ('" +
                                     sourceText(k_.vars, e) + "')");
    z3::expr a = eval(e.args[0], f);
    return a.is_bool() ? z3::ite(a, c_.int_val(1), c_.int_val(0)) : a;
  }
  case Op::Neg:
  case Op::Add:
  case Op::Sub:
  case Op::Mul:
  case Op::Div:
  case Op::Mod:
    return arith(e, f);
  case Op::Not:
    return !truthy(eval(e.args[0], f));
  case Op::Cmp: {
    z3::expr a = eval(e.args[0], f), b = eval(e.args[1], f);
    if (a.is_bool() && b.is_bool() && e.cmp != lang::Comparison::Eq &&
        e.cmp != lang::Comparison::Ne) {
      a = z3::ite(a, c_.int_val(1), c_.int_val(0));
      b = z3::ite(b, c_.int_val(1), c_.int_val(0));
    }
    auto lt = [&](const z3::expr& x, const z3::expr& y, bool orEqual) {
      if (x.is_arith()) return orEqual ? x <= y : x < y;
      Z3_ast r = orEqual ? Z3_mk_str_le(c_, x, y) : Z3_mk_str_lt(c_, x, y);
      return z3::expr(c_, r);
    };
    switch (e.cmp) {
    case lang::Comparison::Eq:
      return a == b;
    case lang::Comparison::Ne:
      return a != b;
    case lang::Comparison::Lt:
      return lt(a, b, false);
    case lang::Comparison::Le:
      return lt(a, b, true);
    case lang::Comparison::Gt:
      return lt(b, a, false);
    case lang::Comparison::Ge:
      return lt(b, a, true);
    }
    break;
  }
  case Op::And:
  case Op::Or: {
    z3::expr a = eval(e.args[0], f);
    const bool isAnd = e.op == Op::And;
    Frame g = f;
    g.guard = f.guard && (isAnd ? truthy(a) : !truthy(a)); // b runs only then
    z3::expr b = eval(e.args[1], g);
    if (a.is_bool() && b.is_bool()) return isAnd ? a && b : a || b;
    return isAnd ? z3::ite(truthy(a), b, a) : z3::ite(truthy(a), a, b);
  }
  case Op::Cond: {
    z3::expr c = truthy(eval(e.args[0], f));
    Frame g = f, h = f;
    g.guard = f.guard && c;
    h.guard = f.guard && !c;
    z3::expr t = eval(e.args[1], g);
    z3::expr o = eval(e.args[2], h);
    return z3::ite(c, t, o);
  }
  case Op::Call: {
    std::vector<z3::expr> a;
    if (e.fn == tir::Fn::Len) {
      const Expr& x = e.args[0];
      if (x.type.base == Base::Map) {
        const Sym* s = nullptr;
        mapOf(x, f, &s);
        return *s->count;
      }
      z3::expr v = eval(x, f);
      z3::func_decl len = c_.function(x.type.base == Base::Str ? "len.str" : "len.bytes",
                                      v.get_sort(), c_.int_sort());
      lengths_.push_back(len(v)); // within u64: a fact (keyFacts)
      return lengths_.back();
    }
    for (const auto& x : e.args) a.push_back(eval(x, f));
    if (e.type.base == Base::F64 || (!a.empty() && !a[0].is_arith() && !a[0].is_bool()))
      throw Unsupported(e.range, "floc verify does not reason about '" +
                                     std::string(tir::fnName(e.fn)) + "' of f64 values");
    switch (e.fn) {
    case tir::Fn::Abs: {
      z3::expr r = z3::ite(a[0] >= 0, a[0], -a[0]);
      if (e.mayFault)
        need(f, Obligation::Kind::Overflow, e, inRange(r, e.type.base), sourceText(k_.vars, e),
             {{sourceText(k_.vars, e.args[0]), a[0]}, {"=", r}});
      return r;
    }
    case tir::Fn::Min:
    case tir::Fn::Max: {
      z3::expr r = a[0];
      for (std::size_t i = 1; i < a.size(); ++i)
        r = e.fn == tir::Fn::Min ? z3::ite(a[i] < r, a[i], r) : z3::ite(a[i] > r, a[i], r);
      return r;
    }
    case tir::Fn::Clamp: {
      z3::expr m = z3::ite(a[0] < a[1], a[1], a[0]);
      return z3::ite(m > a[2], a[2], m);
    }
    case tir::Fn::Floor:
    case tir::Fn::Ceil:
    case tir::Fn::Round:
      return a[0]; // of an integer: itself
    default:
      throw Unsupported(e.range, "floc verify does not reason about '" +
                                     std::string(tir::fnName(e.fn)) + "' (an f64 function)");
    }
  }
  case Op::Index: {
    const Sym* s = nullptr;
    std::uint32_t var = e.args[0].op == Op::Var ? e.args[0].var : tir::kNoVar;
    z3::expr m = mapOf(e.args[0], f, &s);
    z3::expr k = eval(e.args[1], f);
    if (var != tir::kNoVar) useKey(var, k);
    return z3::select(m, k);
  }
  case Op::Old: {
    if (!f.old) throw Unsupported(e.range, "`old` outside `ensures`");
    Frame g{const_cast<Env*>(f.old), f.old, f.path, f.guard};
    return eval(e.args[0], g);
  }
  case Op::Sum:
  case Op::Count: {
    const Sym* s = nullptr;
    mapOf(e.args[0], f, &s);
    if (e.op == Op::Count) return *s->count;
    if (!s->sum) throw Unsupported(e.range, "`sum` of a map that is not of integers");
    z3::expr r = *s->sum;
    need(f, Obligation::Kind::Overflow, e, inRange(r, e.type.base), sourceText(k_.vars, e),
         {{"=", r}});
    return r;
  }
  }
  throw Unsupported(e.range, "floc verify: an expression it does not know");
}

void Encoder::assign(const Stmt& s, Frame& f) {
  Path& p = *f.path;
  Sym& target = (*f.cur)[s.target];
  if (!s.index) {
    z3::expr v = eval(s.value, f);
    p.writes.push_back({&s, pathCondition(p, f.guard), std::nullopt});
    target.v = v;
    return;
  }
  const Type& t = k_.vars[s.target].type;
  z3::expr k = eval(*s.index, f);
  z3::expr v = eval(s.value, f);
  useKey(s.target, k);
  Sym& m = (*f.cur)[s.target]; // eval does not resize the environment
  z3::expr before = z3::select(m.v, k);
  const z3::expr none = defaultOf(*t.value, s.range);
  z3::expr comes = before == none && v != none, goes = before != none && v == none;
  // A new entry in a full map aborts the call: only runs with room go on.
  if (t.max) p.pc.push_back(!comes || *m.count < num(*t.max));
  p.writes.push_back({&s, pathCondition(p, f.guard), k});
  if (m.sum) m.sum = *m.sum - before + v;
  m.count = *m.count + z3::ite(comes, c_.int_val(1), c_.int_val(0)) -
            z3::ite(goes, c_.int_val(1), c_.int_val(0));
  m.v = z3::store(m.v, k, v);
  (void)target;
}

Path Encoder::run(const tir::TypedAction& action) {
  keys_.clear();
  lengths_.clear();
  Env pre = fresh(action.name);
  std::uint32_t held = tir::kNoVar, value = tir::kNoVar;
  for (std::uint32_t i = 0; i < k_.vars.size(); ++i)
    if (k_.vars[i].role == Var::Role::Builtin) {
      if (k_.vars[i].name == "held") held = i;
      if (k_.vars[i].name == "value") value = i;
    }
  assert(held != tir::kNoVar && value != tir::kNoVar);
  Path p{pre, pre, pre[held].v, {}, {}, {}, {}, {}};
  // The call's tokens are the contract's before the action starts.
  p.pre[held].v = p.held0 + pre[value].v;
  p.pc.push_back(p.pre[held].v <= num(tir::IntRange::of(Base::U64).hi));
  Env cur = p.pre;
  Frame f{&cur, &p.pre, &p, c_.bool_val(true)};
  for (const Stmt& s : action.body) {
    switch (s.kind) {
    case Stmt::Kind::Requires: {
      z3::expr c = spec(s.value, cur, &p.pre);
      p.requirements.push_back(c);
      p.pc.push_back(c);
      break;
    }
    case Stmt::Kind::Ensures:
      p.ensures.push_back(&s);
      break;
    case Stmt::Kind::Fail:
      p.pc.push_back(!truthy(eval(s.value, f)));
      break;
    case Stmt::Kind::Assign:
      assign(s, f);
      break;
    case Stmt::Kind::Pay: {
      z3::expr amount = eval(s.value, f);
      if (s.index) eval(*s.index, f);
      need(f, Obligation::Kind::Pay, s.value, amount <= cur[held].v,
           "pay " + sourceText(k_.vars, s.value),
           {{sourceText(k_.vars, s.value), amount}, {"held", cur[held].v}});
      cur[held].v = cur[held].v - amount;
      break;
    }
    }
  }
  p.post = cur;
  return p;
}

} // namespace flo::verify
