/// \file
/// Typing of deeds, filters and contracts (typecheck.h has the rules).
#include "compiler/sema/typecheck.h"

#include "lang/format.h"
#include "lang/number.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <ostream>

namespace flo::sema {

using namespace flo::tir;

using lang::Diagnostics;
using lang::ExprKind;

namespace {

constexpr __int128 kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr __int128 kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr __int128 kU64Max = std::numeric_limits<std::uint64_t>::max();

std::string quote(const std::string& s) {
  return "'" + s + "'";
}
std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s[0] == '"' || s[0] == '\'') && s.back() == s[0])
    return s.substr(1, s.size() - 2);
  return s;
}
/// "a u64 value", "an i64 value"
std::string aValue(const Type& t) {
  std::string n = typeName(t);
  bool vowel = n[0] == 'i' || n[0] == 'f'; // "an i64", "an f64", "a u64"
  return (vowel ? "an " : "a ") + n + " value";
}

enum class Dialect : std::uint8_t { Deed, Filter, Contract };

/// Types the expressions of one body over its variable table.
class Typer {
public:
  Typer(Diagnostics& diags, Dialect dialect, std::vector<Var>& vars)
      : diags_(diags), dialect_(dialect), vars_(vars) {}

  std::string hint; ///< note for an unknown name with no close match
  bool allowOld = false;

  std::optional<std::uint32_t> find(const std::string& name) const {
    for (std::uint32_t i = 0; i < vars_.size(); ++i)
      if (vars_[i].name == name) return i;
    return std::nullopt;
  }

  std::optional<Expr> expr(const lang::Expr& e) {
    auto r = exprUnbounded(e);
    if (r && !r->bounds && (r->type.isInteger() || r->type.base == Base::Bool))
      r->bounds = IntRange::of(r->type.base);
    return r;
  }

  /// A condition: a bool in contracts; anything with Python truthiness in deeds and filters.
  std::optional<Expr> condition(const lang::Expr& e, const char* what) {
    auto c = expr(e);
    if (!c) return c;
    if (dialect_ == Dialect::Contract ? c->type.base != Base::Bool : !truthable(c->type)) {
      error(e.range, std::string(what) + " must be a condition (bool), not " + aValue(c->type) +
                         " (" + quote(lang::formatExpr(e)) + ")");
      return std::nullopt;
    }
    return c;
  }

  /// `value` converted for assignment to a variable or map entry of type `to`.
  std::optional<Expr> assign(Expr value, const Type& to, const lang::Expr& src,
                             const std::string& target) {
    if (auto w = convert(value, to)) return w;
    std::string hint =
        to.base == Base::I64 && value.type.base == Base::F64 ? "; use floor, ceil or round"
        : to.base == Base::Bool && value.type.isNumber()     ? "; compare it, e.g. 'x != 0'"
                                                             : "";
    error(src.range, "cannot assign " + aValue(value.type) + " (" + quote(lang::formatExpr(src)) +
                         ") to " + quote(target) + " (" + typeName(to) + ")" + hint);
    return std::nullopt;
  }

  void error(lang::SourceRange r, std::string message) { diags_.error(r, std::move(message)); }

private:
  static bool truthable(const Type& t) {
    return t.isNumeric() || t.base == Base::Str || t.base == Base::Bytes;
  }

  Expr node(Op op, Type t, const lang::Expr& src) {
    Expr n;
    n.op = op;
    n.type = std::move(t);
    n.range = src.range;
    return n;
  }

  /// `e` as type `to` when the language converts it implicitly: widening along bool ->
  /// i64/u64 -> f64, and integer constants that fit the other integer type.
  std::optional<Expr> convert(Expr e, const Type& to) {
    if (e.type == to) return e;
    const Base from = e.type.base;
    if (e.op == Op::Const && from == Base::I64 && to.base == Base::U64 && e.i >= 0) {
      e.type = to;
      e.u = std::uint64_t(e.i);
      return e;
    }
    if (e.op == Op::Const && from == Base::U64 && to.base == Base::I64 && e.u <= kI64Max) {
      e.type = to;
      e.i = std::int64_t(e.u);
      return e;
    }
    bool widens = (from == Base::Bool && to.isNumber()) ||
                  ((from == Base::I64 || from == Base::U64) && to.base == Base::F64);
    if (!widens) return std::nullopt;
    Expr w;
    w.op = Op::Widen;
    w.type = to;
    w.range = e.range;
    if (to.isInteger()) w.bounds = e.bounds;
    w.args.push_back(std::move(e));
    return w;
  }

  /// The common type of two numeric operands, or empty when they do not mix (i64 and u64
  /// values, neither a constant that fits the other).
  std::optional<Type> join(const Expr& a, const Expr& b) {
    Base x = a.type.base, y = b.type.base;
    if (x == y) return a.type;
    if (x == Base::F64 || y == Base::F64) return Type::scalar(Base::F64);
    if (x == Base::Bool) return b.type;
    if (y == Base::Bool) return a.type;
    // i64 with u64: a constant takes the other's type.
    if (a.op == Op::Const && convert(a, b.type)) return b.type;
    if (b.op == Op::Const && convert(b, a.type)) return a.type;
    return std::nullopt;
  }

  /// Converts both operands to one numeric type (bool stays bool only with `keepBool`).
  bool unify(Expr& a, Expr& b, const lang::Expr& src, bool keepBool, Type& out) {
    if (!a.type.isNumeric() || !b.type.isNumeric()) return false;
    auto t = join(a, b);
    if (!t) {
      error(src.range, "cannot mix " + aValue(a.type) + " and " + aValue(b.type) + " in " +
                           quote(lang::formatExpr(src)));
      return false;
    }
    if (t->base == Base::Bool && !keepBool) t = Type::scalar(Base::I64);
    a = *convert(std::move(a), *t);
    b = *convert(std::move(b), *t);
    out = *t;
    return true;
  }

  std::optional<Expr> number(const lang::Expr& e) {
    const std::string& text = e.literal.text;
    auto n = lang::readNumber(text);
    Expr c = node(Op::Const, Type::scalar(Base::I64), e);
    switch (n.kind) {
    case lang::NumberLiteral::Kind::Integer:
      c.i = n.integer;
      c.bounds = IntRange{n.integer, n.integer};
      return c;
    case lang::NumberLiteral::Kind::Real:
      c.type = Type::scalar(Base::F64);
      c.f = n.real;
      return c;
    case lang::NumberLiteral::Kind::IntegerTooLarge: {
      if (typedCode()) {
        error(e.range, "literal " + quote(text) + " is out of range for i64 (at most " +
                           std::to_string(std::numeric_limits<std::int64_t>::max()) + ")");
        return std::nullopt;
      }
      std::string digits;
      for (char ch : text)
        if (ch != '_') digits += ch;
      if (!digits.empty() && digits[0] == '+') digits.erase(0, 1);
      std::uint64_t u = 0;
      auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), u);
      if (ec == std::errc() && end == digits.data() + digits.size()) {
        c.type = Type::scalar(Base::U64);
        c.u = u;
        c.bounds = IntRange{u, u};
        return c;
      }
      error(e.range, "literal " + quote(text) + " is out of range for u64 (at most " +
                         std::to_string(std::numeric_limits<std::uint64_t>::max()) + ")");
      return std::nullopt;
    }
    case lang::NumberLiteral::Kind::RealTooLarge:
      error(e.range, "literal " + quote(text) + " is beyond the largest f64");
      return std::nullopt;
    case lang::NumberLiteral::Kind::NotANumber:
      break;
    }
    error(e.range, quote(text) + " is not a number");
    return std::nullopt;
  }

  std::optional<Expr> name(const lang::Expr& e) {
    if (auto v = find(e.text)) {
      Expr n = node(Op::Var, vars_[*v].type, e);
      n.var = *v;
      n.s = e.text;
      return n;
    }
    if (e.text == "true" || e.text == "false") {
      Expr n = node(Op::Const, Type::scalar(Base::Bool), e);
      n.b = e.text == "true";
      n.bounds = IntRange{n.b, n.b};
      return n;
    }
    error(e.range, "unknown name " + quote(e.text));
    std::vector<std::string> candidates;
    for (const Var& v : vars_) candidates.push_back(v.name);
    if (auto m = lang::closestMatch(e.text, candidates))
      diags_.note({}, "did you mean '" + *m + "'?");
    else if (!hint.empty())
      diags_.note({}, hint);
    return std::nullopt;
  }

  /// A construct the dialect does not compute: a located error naming it.
  std::optional<Expr> notInDeeds(const lang::Expr& e, const std::string& what) {
    error(e.range, what + " (" + quote(lang::formatExpr(e)) + ") is not supported in " +
                       (dialect_ == Dialect::Filter ? "filters" : "deeds"));
    return std::nullopt;
  }
  bool typedCode() const { return dialect_ != Dialect::Contract; }

  std::optional<Expr> exprUnbounded(const lang::Expr& e) {
    for (const auto& op : e.operands)
      if (!op) return std::nullopt; // a syntax error, already reported
    switch (e.kind) {
    case ExprKind::Literal:
      if (e.literal.kind == lang::WordKind::Number) return number(e);
      if (e.literal.kind == lang::WordKind::String) {
        if (typedCode()) return notInDeeds(e, "a string");
        Expr s = node(Op::Const, Type::scalar(Base::Str), e);
        s.s = unquote(e.literal.text);
        return s;
      }
      error(e.range, quote(e.literal.text) + " is not a value");
      return std::nullopt;
    case ExprKind::Name:
      return name(e);
    case ExprKind::Path:
      if (dialect_ == Dialect::Deed)
        error(e.range, "a deed cannot read the store path " + quote(e.text) +
                           "; bind it to an input port (`do DEED per PORT " + e.text + "`)");
      else if (dialect_ == Dialect::Filter)
        error(e.range,
              "a filter reads its item (`value`, `time`), not the store path " + quote(e.text));
      else
        error(e.range, "a contract reads its state, not the store path " + quote(e.text));
      return std::nullopt;
    case ExprKind::Neg:
      return negate(e);
    case ExprKind::Not: {
      auto a = expr(*e.operands[0]);
      if (!a) return a;
      if (!truthable(a->type)) return badOperand(e, *a);
      Expr n = node(Op::Not, Type::scalar(Base::Bool), e);
      n.args.push_back(std::move(*a));
      return n;
    }
    case ExprKind::Binary:
      return binary(e);
    case ExprKind::Compare:
      return compare(e);
    case ExprKind::And:
    case ExprKind::Or:
    case ExprKind::Cond:
      return choice(e);
    case ExprKind::Call:
      return call(e);
    case ExprKind::Index:
      return index(e);
    case ExprKind::Old:
      return old(e);
    case ExprKind::Aggregate:
      return aggregate(e);
    }
    error(e.range, "internal error: unknown expression kind");
    return std::nullopt;
  }

  std::optional<Expr> badOperand(const lang::Expr& e, const Expr& a) {
    error(e.range, "cannot apply " + quote(e.text) + " to " + aValue(a.type) + " (" +
                       quote(lang::formatExpr(e)) + ")");
    return std::nullopt;
  }

  std::optional<Expr> negate(const lang::Expr& e) {
    auto a = expr(*e.operands[0]);
    if (!a) return a;
    if (!a->type.isNumeric()) return badOperand(e, *a);
    if (a->type.base == Base::U64) {
      error(e.range, "cannot negate " + aValue(a->type) + " (" + quote(lang::formatExpr(e)) + ")");
      return std::nullopt;
    }
    Type t = a->type.base == Base::Bool ? Type::scalar(Base::I64) : a->type;
    Expr n = node(Op::Neg, t, e);
    n.s = lang::formatExpr(e);
    Expr x = *convert(std::move(*a), t);
    if (x.bounds) {
      n.bounds = IntRange{-x.bounds->hi, -x.bounds->lo};
      n.mayFault = !n.bounds->fitsI64();
      n.bounds = IntRange{std::max(n.bounds->lo, kI64Min), std::min(n.bounds->hi, kI64Max)};
    }
    if (t.base == Base::F64) n.mayFault = false;
    n.args.push_back(std::move(x));
    return n;
  }

  std::optional<Expr> binary(const lang::Expr& e) {
    auto a = expr(*e.operands[0]);
    auto b = expr(*e.operands[1]);
    if (!a || !b) return std::nullopt;
    static const std::pair<const char*, Op> ops[] = {
        {"+", Op::Add}, {"-", Op::Sub}, {"*", Op::Mul}, {"/", Op::Div}, {"%", Op::Mod}};
    auto it =
        std::find_if(std::begin(ops), std::end(ops), [&](auto& o) { return e.text == o.first; });
    if (it == std::end(ops)) {
      error(e.range, "unknown operator " + quote(e.text));
      return std::nullopt;
    }
    if (!a->type.isNumeric() || !b->type.isNumeric()) {
      const Expr& bad = a->type.isNumeric() ? *b : *a;
      error(e.range, "cannot apply " + quote(e.text) + " to " + aValue(bad.type) + " (" +
                         quote(lang::formatExpr(e)) + ")");
      return std::nullopt;
    }
    Type t;
    if (!unify(*a, *b, e, false, t)) return std::nullopt;
    if (it->second == Op::Div && typedCode() && t.base != Base::F64) {
      // Python's true division: two integers give a float.
      t = Type::scalar(Base::F64);
      a = convert(std::move(*a), t);
      b = convert(std::move(*b), t);
    }
    Expr n = node(it->second, t, e);
    n.s = lang::formatExpr(e);
    if (t.isInteger() && a->bounds && b->bounds) {
      IntRange math = arithBounds(it->second, *a, *b, t);
      const IntRange full = IntRange::of(t.base);
      const IntRange& y = *b->bounds;
      bool zeroDivisor = y.lo <= 0 && y.hi >= 0;
      switch (it->second) {
      case Op::Add:
      case Op::Sub:
      case Op::Mul:
        n.mayFault = math.lo < full.lo || math.hi > full.hi;
        break;
      case Op::Div: // integer division: INT64_MIN / -1 overflows
        n.mayFault = zeroDivisor || (t.base == Base::I64 && y.lo <= -1 && y.hi >= -1);
        break;
      default:
        n.mayFault = zeroDivisor;
      }
      n.bounds = IntRange{std::max(math.lo, full.lo), std::min(math.hi, full.hi)};
    } else if (t.base == Base::F64) {
      n.mayFault = it->second == Op::Div || it->second == Op::Mod; // by zero
    }
    n.args.push_back(std::move(*a));
    n.args.push_back(std::move(*b));
    return n;
  }

  /// The mathematical result's range (the type's when unknown); a result outside faults.
  static IntRange arithBounds(Op op, const Expr& a, const Expr& b, const Type& t) {
    const IntRange x = *a.bounds, y = *b.bounds, full = IntRange::of(t.base);
    IntRange r = full;
    switch (op) {
    case Op::Add:
      r = {x.lo + y.lo, x.hi + y.hi};
      break;
    case Op::Sub:
      r = {x.lo - y.hi, x.hi - y.lo};
      break;
    case Op::Mul: {
      // Factors within 64 bits: products fit in 128.
      __int128 c[] = {x.lo * y.lo, x.lo * y.hi, x.hi * y.lo, x.hi * y.hi};
      r = {*std::min_element(c, c + 4), *std::max_element(c, c + 4)};
      break;
    }
    case Op::Mod:
      if (y.lo > 0) r = {0, y.hi - 1};
      break;
    case Op::Div:
      if (y.lo > 0 && x.lo >= 0) r = {0, x.hi};
      break;
    default:
      break;
    }
    return r;
  }

  std::optional<Expr> compare(const lang::Expr& e) {
    auto a = expr(*e.operands[0]);
    auto b = expr(*e.operands[1]);
    if (!a || !b || !e.comparison) return std::nullopt;
    const lang::Comparison k = *e.comparison;
    const bool ordering = k != lang::Comparison::Eq && k != lang::Comparison::Ne;
    if (a->type.isNumeric() && b->type.isNumeric()) {
      Type t;
      if (!unify(*a, *b, e, true, t)) return std::nullopt;
    } else if (a->type == b->type && a->type.base != Base::Map) {
      if (ordering && a->type.base != Base::Str) {
        error(e.range, std::string(baseName(a->type.base)) +
                           " values compare only with == and "
                           "!= (" +
                           quote(lang::formatExpr(e)) + ")");
        return std::nullopt;
      }
    } else {
      error(e.range, "cannot compare " + aValue(a->type) + " with " + aValue(b->type) + " (" +
                         quote(lang::formatExpr(e)) + ")");
      return std::nullopt;
    }
    Expr n = node(Op::Cmp, Type::scalar(Base::Bool), e);
    n.cmp = k;
    n.args.push_back(std::move(*a));
    n.args.push_back(std::move(*b));
    return n;
  }

  /// `and`, `or` and `A if C else B`: the result is one of two operands, of their common type.
  std::optional<Expr> choice(const lang::Expr& e) {
    std::vector<Expr> ops;
    for (const auto& o : e.operands) {
      auto x = expr(*o);
      if (!x) return x;
      ops.push_back(std::move(*x));
    }
    const bool cond = e.kind == ExprKind::Cond;
    // Cond's operands are condition, then, else; the pair that must agree is the last two.
    Expr& a = ops[cond ? 1 : 0];
    Expr& b = ops[cond ? 2 : 1];
    if (cond && !truthable(ops[0].type)) return badOperand(e, ops[0]);
    if (!cond && (!truthable(a.type) || !truthable(b.type)))
      return badOperand(e, truthable(a.type) ? b : a);
    Type t = a.type;
    if (a.type.isNumeric() && b.type.isNumeric()) {
      if (!unify(a, b, e, true, t)) return std::nullopt;
    } else if (!(a.type == b.type)) {
      error(e.range, "the operands of " + quote(lang::formatExpr(e)) + " are " + aValue(a.type) +
                         " and " + aValue(b.type) + "; they must be of one type");
      return std::nullopt;
    }
    Op op = cond ? Op::Cond : e.kind == ExprKind::And ? Op::And : Op::Or;
    Expr n = node(op, t, e);
    if (a.bounds && b.bounds)
      n.bounds =
          IntRange{std::min(a.bounds->lo, b.bounds->lo), std::max(a.bounds->hi, b.bounds->hi)};
    n.args = std::move(ops);
    return n;
  }

  std::optional<Expr> call(const lang::Expr& e) {
    auto fn = fnByName(e.text);
    if (!fn) {
      error(e.range, "unknown function " + quote(e.text));
      std::vector<std::string> names;
      for (Fn x : allFns()) names.emplace_back(fnName(x));
      if (auto m = lang::closestMatch(e.text, names)) diags_.note({}, "did you mean '" + *m + "'?");
      return std::nullopt;
    }
    std::vector<Expr> args;
    for (const auto& o : e.operands) {
      auto x = expr(*o);
      if (!x) return x;
      args.push_back(std::move(*x));
    }
    auto arity = [&](std::size_t lo, std::size_t hi) {
      if (args.size() >= lo && args.size() <= hi) return true;
      std::string n = lo == hi ? std::to_string(lo) : "at least " + std::to_string(lo);
      error(e.range, quote(e.text) + " takes " + n + " argument" + (lo == 1 && hi == 1 ? "" : "s") +
                         ", not " + std::to_string(args.size()) + " (" +
                         quote(lang::formatExpr(e)) + ")");
      return false;
    };
    Expr n = node(Op::Call, Type::scalar(Base::F64), e);
    n.fn = *fn;
    n.s = lang::formatExpr(e);
    if (*fn == Fn::Len) {
      if (typedCode()) return notInDeeds(e, "`len`");
      if (!arity(1, 1)) return std::nullopt;
      Base b = args[0].type.base;
      if (b != Base::Str && b != Base::Bytes && b != Base::Map) {
        error(e.range, "`len` takes a str, bytes or a map, not " + aValue(args[0].type));
        return std::nullopt;
      }
      n.type = Type::scalar(Base::U64);
      n.args = std::move(args);
      return n;
    }
    for (std::size_t k = 0; k < args.size(); ++k)
      if (!args[k].type.isNumeric()) {
        error(e.operands[k]->range, quote(e.text) + " takes numbers, not " + aValue(args[k].type));
        return std::nullopt;
      }
    switch (*fn) {
    case Fn::Abs: {
      if (!arity(1, 1)) return std::nullopt;
      Base b = args[0].type.base == Base::Bool ? Base::I64 : args[0].type.base;
      n.type = Type::scalar(b);
      args[0] = *convert(std::move(args[0]), n.type);
      n.mayFault = b == Base::I64;
      if (auto* r = args[0].valueRange()) {
        __int128 lo = r->lo >= 0 ? r->lo : r->hi <= 0 ? -r->hi : 0;
        n.bounds = IntRange{lo, std::max(r->hi, -r->lo)};
        n.mayFault = b == Base::I64 && n.bounds->hi > kI64Max;
        n.bounds->hi = std::min(n.bounds->hi, IntRange::of(b).hi);
      }
      break;
    }
    case Fn::Sqrt:
    case Fn::Exp:
    case Fn::Log:
    case Fn::Sin:
    case Fn::Cos:
      if (!arity(1, 1)) return std::nullopt;
      n.type = Type::scalar(Base::F64);
      args[0] = *convert(std::move(args[0]), n.type);
      break;
    case Fn::Floor:
    case Fn::Ceil:
    case Fn::Round: {
      // An f64 is rounded to an i64; an integer (or a bool, widened) is itself.
      if (!arity(1, 1)) return std::nullopt;
      Base b = args[0].type.base;
      n.type = Type::scalar(b == Base::U64 ? Base::U64 : Base::I64);
      if (b == Base::F64) break;
      args[0] = *convert(std::move(args[0]), n.type);
      n.bounds = args[0].bounds;
      break;
    }
    case Fn::Min:
    case Fn::Max:
    case Fn::Clamp: {
      if (*fn == Fn::Clamp ? !arity(3, 3) : !arity(2, SIZE_MAX)) return std::nullopt;
      // The common type: f64 if any argument is; else bool if all are; else the integer
      // type of the non-constant arguments (constants adapt), which must agree.
      Type t = Type::scalar(Base::Bool);
      bool sawI64 = false, sawU64 = false;
      for (const Expr& a : args) {
        Base b = a.type.base;
        if (b == Base::F64) t = Type::scalar(Base::F64);
        if (t.base == Base::F64 || b == Base::Bool) continue;
        if (t.base == Base::Bool || a.op != Op::Const) t = Type::scalar(b);
        (a.op == Op::Const ? (void)0 : (void)((b == Base::U64 ? sawU64 : sawI64) = true));
      }
      if (sawI64 && sawU64) {
        error(e.range, "cannot mix i64 and u64 values in " + quote(lang::formatExpr(e)));
        return std::nullopt;
      }
      for (auto& a : args) {
        auto c = convert(std::move(a), t);
        if (!c) {
          error(e.range, "cannot mix the arguments of " + quote(lang::formatExpr(e)));
          return std::nullopt;
        }
        a = std::move(*c);
      }
      n.type = t;
      if (std::all_of(args.begin(), args.end(), [](const Expr& a) { return a.bounds; })) {
        IntRange r = *args[0].bounds;
        if (*fn == Fn::Clamp) {
          const IntRange &lo = *args[1].bounds, &hi = *args[2].bounds;
          IntRange m{std::max(r.lo, lo.lo), std::max(r.hi, lo.hi)};
          r = {std::min(m.lo, hi.lo), std::min(m.hi, hi.hi)};
        } else {
          for (std::size_t k = 1; k < args.size(); ++k) {
            const IntRange& y = *args[k].bounds;
            r = *fn == Fn::Min ? IntRange{std::min(r.lo, y.lo), std::min(r.hi, y.hi)}
                               : IntRange{std::max(r.lo, y.lo), std::max(r.hi, y.hi)};
          }
        }
        n.bounds = r;
      }
      break;
    }
    case Fn::Len:
      break;
    }
    n.args = std::move(args);
    return n;
  }

  std::optional<Expr> index(const lang::Expr& e) {
    if (typedCode()) return notInDeeds(e, "indexing");
    auto m = expr(*e.operands[0]);
    auto k = expr(*e.operands[1]);
    if (!m || !k) return std::nullopt;
    if (m->type.base != Base::Map) {
      error(e.range, quote(lang::formatExpr(*e.operands[0])) + " is " + aValue(m->type) +
                         "; only maps are indexed");
      return std::nullopt;
    }
    Type keyType = Type::scalar(m->type.key);
    auto key = convert(std::move(*k), keyType);
    if (!key) {
      error(e.operands[1]->range, "the key of " + quote(lang::formatExpr(*e.operands[0])) + " is " +
                                      typeName(keyType) + ", not " + typeName(k->type));
      return std::nullopt;
    }
    Expr n = node(Op::Index, *m->type.value, e);
    n.args.push_back(std::move(*m));
    n.args.push_back(std::move(*key));
    return n;
  }

  std::optional<Expr> old(const lang::Expr& e) {
    if (typedCode()) return notInDeeds(e, "`old`");
    if (!allowOld) {
      error(e.range, "`old` is allowed only in `ensures`");
      return std::nullopt;
    }
    auto a = expr(*e.operands[0]);
    if (!a) return a;
    Expr n = node(Op::Old, a->type, e);
    n.bounds = a->bounds;
    n.args.push_back(std::move(*a));
    return n;
  }

  std::optional<Expr> aggregate(const lang::Expr& e) {
    if (typedCode()) return notInDeeds(e, "`" + e.text + "`");
    auto a = expr(*e.operands[0]);
    if (!a) return a;
    if (a->type.base != Base::Map) {
      error(e.range, "`" + e.text + "` takes a map, not " + aValue(a->type));
      return std::nullopt;
    }
    if (e.text == "count") {
      Expr n = node(Op::Count, Type::scalar(Base::U64), e);
      n.bounds = IntRange{0, a->type.max ? __int128(*a->type.max) : kU64Max};
      n.args.push_back(std::move(*a));
      return n;
    }
    if (!a->type.value->isNumber()) {
      error(e.range, "`sum` takes a map of numbers, not of " + typeName(*a->type.value));
      return std::nullopt;
    }
    Expr n = node(Op::Sum, *a->type.value, e);
    n.args.push_back(std::move(*a));
    return n;
  }

  Diagnostics& diags_;
  Dialect dialect_;
  std::vector<Var>& vars_;
};

/// Points the variables of `e`, typed over a scope, at the contract's table (`table[i]` is the
/// table index of the scope's variable i).
void remap(Expr& e, const std::vector<std::uint32_t>& table) {
  if (e.op == Op::Var) e.var = table.at(e.var);
  for (auto& x : e.args) remap(x, table);
}

/// Ports a deed computes with (code generation lowers these three).
bool deedPortType(const Type& t) {
  return t.base == Base::F64 || t.base == Base::I64 || t.base == Base::Bool;
}

} // namespace

std::optional<Type> typeOf(const lang::TypeRef& t) {
  if (t.kind == lang::TypeRef::Kind::Map) {
    if (!t.key || !t.value) return std::nullopt;
    auto k = typeOf(*t.key), v = typeOf(*t.value);
    if (!k || !v || k->base == Base::Map) return std::nullopt;
    Type m;
    m.base = Base::Map;
    m.key = k->base;
    m.value = std::make_shared<const Type>(*v);
    if (t.max) {
      auto n = lang::readNumber(t.max->text);
      if (n.kind != lang::NumberLiteral::Kind::Integer || n.integer < 0) return std::nullopt;
      m.max = std::uint64_t(n.integer);
    }
    return m;
  }
  static const std::pair<const char*, Base> names[] = {
      {"bool", Base::Bool}, {"i64", Base::I64},     {"u64", Base::U64}, {"f64", Base::F64},
      {"str", Base::Str},   {"bytes", Base::Bytes}, {"did", Base::Did}};
  for (const auto& [n, b] : names)
    if (t.name.text == n) return Type::scalar(b);
  return std::nullopt;
}

// ---------------------------------------------------------------------------------- bodies

std::shared_ptr<const TypedDeed> typeDeed(const DeedDef& deed, Diagnostics& diags) {
  auto out = std::make_shared<TypedDeed>();
  out->name = deed.name;
  if (deed.decl) out->range = deed.decl->range;
  bool ok = true;
  for (const lang::Stmt* s : deed.body) {
    if (s->kind != lang::StmtKind::Port) continue;
    const auto& p = lang::as<lang::PortStmt>(*s);
    auto t = typeOf(p.type);
    if (!t) {
      ok = false; // an unknown type: reported by the checker
      continue;
    }
    if (!deedPortType(*t)) {
      diags.error(p.type.range, "type " + quote(lang::formatType(p.type)) + " (port " +
                                    quote(p.name.text) +
                                    ") is not supported in deeds; deeds compute with f64, i64 "
                                    "and bool");
      ok = false;
    }
    Var v;
    v.name = p.name.text;
    v.type = *t;
    v.role = p.port == lang::PortStmt::Kind::Input    ? Var::Role::Input
             : p.port == lang::PortStmt::Kind::Output ? Var::Role::Output
                                                      : Var::Role::Local;
    v.decl = p.name.range;
    out->vars.push_back(std::move(v));
  }
  Typer typer(diags, Dialect::Deed, out->vars);
  for (const lang::Stmt* s : deed.body) {
    if (s->kind == lang::StmtKind::Assign) {
      const auto& a = lang::as<lang::AssignStmt>(*s);
      auto target = typer.find(a.target.name.text);
      auto value = a.value ? typer.expr(*a.value) : std::nullopt;
      if (!target || out->vars[*target].role == Var::Role::Input) {
        ok = false; // reported by the checker
        continue;
      }
      if (a.target.index) {
        typer.error(a.target.range, "indexed assignment ('let " + a.target.name.text + "[" +
                                        lang::formatExpr(*a.target.index) +
                                        "] = ...') is not supported in deeds");
        ok = false;
        continue;
      }
      if (!value) {
        ok = false;
        continue;
      }
      auto converted =
          typer.assign(std::move(*value), out->vars[*target].type, *a.value, a.target.name.text);
      if (!converted) {
        ok = false;
        continue;
      }
      Stmt st;
      st.kind = Stmt::Kind::Assign;
      st.range = s->range;
      st.target = *target;
      st.value = std::move(*converted);
      out->body.push_back(std::move(st));
    } else if (s->kind == lang::StmtKind::Fail) {
      const auto& f = lang::as<lang::FailStmt>(*s);
      auto c =
          f.condition ? typer.condition(*f.condition, "the condition of `fail`") : std::nullopt;
      if (!c || f.message.kind != lang::WordKind::String) {
        ok = false;
        continue;
      }
      Stmt st;
      st.kind = Stmt::Kind::Fail;
      st.range = s->range;
      st.value = std::move(*c);
      st.message = unquote(f.message.text);
      out->body.push_back(std::move(st));
    }
  }
  if (!ok) return nullptr;
  return out;
}

std::optional<Expr> typeFilter(const lang::Expr& e, const Type& item, Diagnostics& diags) {
  std::vector<Var> vars(2);
  vars[0].name = "value";
  vars[0].type = item;
  vars[0].role = Var::Role::Item;
  vars[1].name = "time";
  vars[1].type = Type::scalar(Base::F64);
  vars[1].role = Var::Role::ItemTime;
  Typer typer(diags, Dialect::Filter, vars);
  typer.hint = "in a filter the item is `value` and its time stamp `time`";
  return typer.condition(e, "a filter");
}

std::shared_ptr<const TypedContract> typeContract(const ExtensionBlock& contract,
                                                  Diagnostics& diags) {
  auto out = std::make_shared<TypedContract>();
  out->name = contract.name;
  if (contract.decl) out->range = contract.decl->range;
  bool ok = true;
  for (const lang::Stmt* s : contract.body)
    if (s->kind == lang::StmtKind::State) {
      const auto& st = lang::as<lang::StateStmt>(*s);
      auto t = typeOf(st.type);
      if (!t) {
        ok = false;
        continue;
      }
      out->vars.push_back({st.name.text, *t, Var::Role::State, st.name.range});
    }
  const std::size_t stateCount = out->vars.size();
  for (const auto& b : kContractBuiltins)
    out->vars.push_back({b.name, Type::scalar(b.type), Var::Role::Builtin, {}});
  const std::size_t shared = out->vars.size(); // state and built-ins: in every action's scope
  TypedAction* action = nullptr;
  for (const lang::Stmt* s : contract.body) {
    switch (s->kind) {
    case lang::StmtKind::Invariant: {
      // The state and the built-ins about the contract itself (`held`, `creator`); a name a
      // call brings (`caller`, `value`, `now`) is not one an invariant can read.
      std::vector<Var> state(out->vars.begin(), out->vars.begin() + long(stateCount));
      std::vector<std::uint32_t> toTable(stateCount);
      for (std::uint32_t i = 0; i < stateCount; ++i) toTable[i] = i;
      for (std::size_t i = 0; i < std::size(kContractBuiltins); ++i)
        if (kContractBuiltins[i].inInvariants) {
          state.push_back(out->vars[stateCount + i]);
          toTable.push_back(std::uint32_t(stateCount + i));
        }
      Typer typer(diags, Dialect::Contract, state);
      typer.hint = "an invariant reads the contract's state, `held` and `creator`";
      auto c = typer.condition(*static_cast<const lang::ExprStmt&>(*s).expr, "an invariant");
      if (c) {
        remap(*c, toTable);
        out->invariants.push_back(std::move(*c));
      } else {
        ok = false;
      }
      break;
    }
    case lang::StmtKind::Action: {
      const auto& a = lang::as<lang::ActionStmt>(*s);
      out->actions.emplace_back();
      action = &out->actions.back();
      action->name = a.name.text;
      action->range = a.range;
      for (const auto& p : a.params) {
        auto t = typeOf(p.type);
        if (!t) {
          ok = false;
          continue;
        }
        action->params.push_back(std::uint32_t(out->vars.size()));
        out->vars.push_back({p.name.text, *t, Var::Role::Param, p.name.range});
      }
      break;
    }
    case lang::StmtKind::Requires:
    case lang::StmtKind::Ensures:
    case lang::StmtKind::Assign:
    case lang::StmtKind::Fail:
    case lang::StmtKind::Pay:
    case lang::StmtKind::Modifies: {
      if (!action) break; // outside an action: reported by the checker
      // The action's scope: the state, the built-ins and its own parameters.
      std::vector<Var> scope(out->vars.begin(), out->vars.begin() + long(shared));
      for (std::uint32_t p : action->params) scope.push_back(out->vars[p]);
      std::vector<std::uint32_t> toTable(scope.size());
      for (std::uint32_t i = 0; i < shared; ++i) toTable[i] = i;
      for (std::size_t k = 0; k < action->params.size(); ++k)
        toTable[shared + k] = action->params[k];
      Typer typer(diags, Dialect::Contract, scope);
      Stmt st;
      st.range = s->range;
      std::optional<Expr> v;
      if (s->kind == lang::StmtKind::Requires || s->kind == lang::StmtKind::Ensures) {
        st.kind = s->kind == lang::StmtKind::Requires ? Stmt::Kind::Requires : Stmt::Kind::Ensures;
        typer.allowOld = s->kind == lang::StmtKind::Ensures;
        v = typer.condition(*static_cast<const lang::ExprStmt&>(*s).expr,
                            st.kind == Stmt::Kind::Requires ? "`requires`" : "`ensures`");
      } else if (s->kind == lang::StmtKind::Pay) {
        const auto& p = lang::as<lang::PayStmt>(*s);
        st.kind = Stmt::Kind::Pay;
        auto amount = p.amount ? typer.expr(*p.amount) : std::nullopt;
        auto to = p.recipient ? typer.expr(*p.recipient) : std::nullopt;
        if (amount)
          v = typer.assign(std::move(*amount), Type::scalar(Base::U64), *p.amount,
                           "the amount of `pay`");
        if (to)
          to = typer.assign(std::move(*to), Type::scalar(Base::Did), *p.recipient,
                            "the recipient of `pay`");
        if (!to) {
          ok = false;
          break;
        }
        remap(*to, toTable);
        st.index = std::move(*to);
      } else if (s->kind == lang::StmtKind::Modifies) {
        const auto& m = lang::as<lang::ModifiesStmt>(*s);
        if (!action->modifies) action->modifies.emplace();
        for (const auto& l : m.locations) {
          auto var = typer.find(l.name.text);
          if (!var || *var >= stateCount) {
            typer.error(l.name.range,
                        "`modifies` names contract state; " + quote(l.name.text) + " is not state");
            ok = false;
            continue;
          }
          Location loc;
          loc.var = *var;
          loc.range = l.range;
          if (l.index) {
            const Type& t = scope[*var].type;
            if (t.base != Base::Map) {
              typer.error(l.range,
                          quote(l.name.text) + " is " + typeName(t) + "; only a map has entries");
              ok = false;
              continue;
            }
            auto k = typer.expr(*l.index);
            if (k)
              k = typer.assign(std::move(*k), Type::scalar(t.key), *l.index,
                               "the key of " + l.name.text);
            if (!k) {
              ok = false;
              continue;
            }
            remap(*k, toTable);
            loc.key = std::move(*k);
          }
          action->modifies->push_back(std::move(loc));
        }
        break;
      } else if (s->kind == lang::StmtKind::Fail) {
        const auto& f = lang::as<lang::FailStmt>(*s);
        st.kind = Stmt::Kind::Fail;
        st.message = unquote(f.message.text);
        if (f.condition) v = typer.condition(*f.condition, "the condition of `fail`");
      } else {
        const auto& a = lang::as<lang::AssignStmt>(*s);
        st.kind = Stmt::Kind::Assign;
        auto target = typer.find(a.target.name.text);
        if (!target || *target >= stateCount || !a.value) {
          ok = false; // not state: reported by the checker
          break;
        }
        st.target = *target;
        Type want = scope[*target].type;
        std::string name = a.target.name.text;
        if (a.target.index) {
          if (want.base != Base::Map) {
            typer.error(a.target.range,
                        quote(name) + " is " + typeName(want) + "; only maps are indexed");
            ok = false;
            break;
          }
          auto k = typer.expr(*a.target.index);
          if (!k) {
            ok = false;
            break;
          }
          auto key = typer.assign(std::move(*k), Type::scalar(want.key), *a.target.index,
                                  "the key of " + name);
          if (!key) {
            ok = false;
            break;
          }
          remap(*key, toTable);
          st.index = std::move(*key);
          want = *want.value;
          name += "[" + lang::formatExpr(*a.target.index) + "]";
        }
        auto value = typer.expr(*a.value);
        if (value) v = typer.assign(std::move(*value), want, *a.value, name);
      }
      if (!v) {
        ok = false;
        break;
      }
      remap(*v, toTable);
      st.value = std::move(*v);
      action->body.push_back(std::move(st));
      break;
    }
    default:
      break;
    }
  }
  if (!ok) return nullptr;
  return out;
}

} // namespace flo::sema
