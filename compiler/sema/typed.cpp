/// \file
/// The typed expression IR's types and its printer (typed.h).
#include "compiler/sema/typed.h"

#include <charconv>
#include <limits>
#include <ostream>

namespace flo::tir {

namespace {

constexpr __int128 kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr __int128 kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr __int128 kU64Max = std::numeric_limits<std::uint64_t>::max();

struct Fns {
  const char* name;
  Fn fn;
};
constexpr Fns kFns[] = {{"abs", Fn::Abs},     {"min", Fn::Min},   {"max", Fn::Max},
                        {"clamp", Fn::Clamp}, {"sqrt", Fn::Sqrt}, {"exp", Fn::Exp},
                        {"log", Fn::Log},     {"sin", Fn::Sin},   {"cos", Fn::Cos},
                        {"floor", Fn::Floor}, {"ceil", Fn::Ceil}, {"round", Fn::Round},
                        {"len", Fn::Len}};

} // namespace

std::optional<Fn> fnByName(std::string_view name) {
  for (const auto& x : kFns)
    if (name == x.name) return x.fn;
  return std::nullopt;
}

std::vector<Fn> allFns() {
  std::vector<Fn> out;
  for (const auto& x : kFns) out.push_back(x.fn);
  return out;
}

IntRange IntRange::of(Base b) {
  switch (b) {
  case Base::Bool:
    return {0, 1};
  case Base::U64:
    return {0, kU64Max};
  default:
    return {kI64Min, kI64Max};
  }
}

// ---------------------------------------------------------------------------------- types

bool Type::operator==(const Type& o) const {
  if (base != o.base) return false;
  if (base != Base::Map) return true;
  return key == o.key && max == o.max && value && o.value && *value == *o.value;
}

const char* baseName(Base b) {
  switch (b) {
  case Base::Bool:
    return "bool";
  case Base::I64:
    return "i64";
  case Base::U64:
    return "u64";
  case Base::F64:
    return "f64";
  case Base::Str:
    return "str";
  case Base::Bytes:
    return "bytes";
  case Base::Did:
    return "did";
  case Base::Map:
    return "map";
  }
  return "?";
}

std::string typeName(const Type& t) {
  if (t.base != Base::Map) return baseName(t.base);
  std::string s = std::string("map ") + baseName(t.key) + " " + typeName(*t.value);
  if (t.max) s += " max " + std::to_string(*t.max);
  return s;
}

bool IntRange::fitsI64() const {
  return lo >= kI64Min && hi <= kI64Max;
}
bool IntRange::fitsU64() const {
  return lo >= 0 && hi <= kU64Max;
}

std::vector<std::uint32_t> TypedDeed::inputsAndOutputs() const {
  std::vector<std::uint32_t> out;
  for (std::uint32_t i = 0; i < vars.size(); ++i)
    if (vars[i].role != Var::Role::Local) out.push_back(i);
  return out;
}

// ---------------------------------------------------------------------------------- printing

const char* fnName(Fn f) {
  for (const auto& x : kFns)
    if (x.fn == f) return x.name;
  return "?";
}

const char* roleName(Var::Role r) {
  switch (r) {
  case Var::Role::Input:
    return "input";
  case Var::Role::Output:
    return "output";
  case Var::Role::Local:
    return "local";
  case Var::Role::State:
    return "state";
  case Var::Role::Param:
    return "param";
  case Var::Role::Item:
    return "item";
  case Var::Role::ItemTime:
    return "time";
  case Var::Role::Builtin:
    return "builtin";
  }
  return "?";
}

namespace {
std::string shortest(double f) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, f);
  std::string s(buf, r.ptr);
  if (s.find_first_of(".en") == std::string::npos) s += ".0";
  return s;
}
std::string int128(__int128 v) {
  if (v == 0) return "0";
  bool neg = v < 0;
  unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
  std::string s;
  while (u) s.insert(s.begin(), char('0' + int(u % 10))), u /= 10;
  return neg ? "-" + s : s;
}
const char* opName(Op op) {
  switch (op) {
  case Op::Const:
    return "const";
  case Op::Var:
    return "var";
  case Op::Widen:
    return "widen";
  case Op::Neg:
    return "neg";
  case Op::Not:
    return "not";
  case Op::Add:
    return "add";
  case Op::Sub:
    return "sub";
  case Op::Mul:
    return "mul";
  case Op::Div:
    return "div";
  case Op::Mod:
    return "mod";
  case Op::Cmp:
    return "cmp";
  case Op::And:
    return "and";
  case Op::Or:
    return "or";
  case Op::Cond:
    return "cond";
  case Op::Call:
    return "call";
  case Op::Index:
    return "index";
  case Op::Old:
    return "old";
  case Op::Sum:
    return "sum";
  case Op::Count:
    return "count";
  }
  return "?";
}
const char* cmpName(lang::Comparison c) {
  static const char* names[] = {"==", "!=", "<", "<=", ">=", ">"};
  return names[int(c)];
}
} // namespace

std::string printExpr(const std::vector<Var>& vars, const Expr& e) {
  std::string head;
  switch (e.op) {
  case Op::Const:
    head = e.type.base == Base::Bool  ? (e.b ? "true" : "false")
           : e.type.base == Base::I64 ? std::to_string(e.i)
           : e.type.base == Base::U64 ? std::to_string(e.u)
           : e.type.base == Base::Str ? "\"" + e.s + "\""
                                      : shortest(e.f);
    break;
  case Op::Var:
    head = e.var < vars.size() ? vars[e.var].name : "?";
    break;
  case Op::Cmp:
    head = cmpName(e.cmp);
    break;
  case Op::Call:
    head = fnName(e.fn);
    break;
  default:
    head = opName(e.op);
  }
  std::string out = head + ":" + typeName(e.type);
  if (e.bounds && e.op != Op::Const && e.type.base != Base::Bool) {
    IntRange full = IntRange::of(e.type.base);
    if (e.bounds->lo != full.lo || e.bounds->hi != full.hi)
      out += "[" + int128(e.bounds->lo) + ".." + int128(e.bounds->hi) + "]";
  }
  if (e.op == Op::Const || e.op == Op::Var) return out;
  out += "(";
  for (std::size_t i = 0; i < e.args.size(); ++i)
    out += (i ? ", " : "") + printExpr(vars, e.args[i]);
  return out + ")";
}

void print(const std::vector<Var>& vars, const std::vector<Stmt>& body, std::ostream& out,
           const std::string& indent) {
  for (const Var& v : vars)
    out << indent << roleName(v.role) << " " << v.name << ": " << typeName(v.type) << "\n";
  for (const Stmt& s : body) {
    out << indent;
    switch (s.kind) {
    case Stmt::Kind::Assign:
      out << "let " << (s.target < vars.size() ? vars[s.target].name : "?");
      if (s.index) out << "[" << printExpr(vars, *s.index) << "]";
      out << " = ";
      break;
    case Stmt::Kind::Fail:
      out << "fail \"" << s.message << "\" if ";
      break;
    case Stmt::Kind::Requires:
      out << "requires ";
      break;
    case Stmt::Kind::Ensures:
      out << "ensures ";
      break;
    case Stmt::Kind::Pay:
      out << "pay to " << (s.index ? printExpr(vars, *s.index) : "?") << ": ";
      break;
    }
    out << printExpr(vars, s.value) << "\n";
  }
}

} // namespace flo::tir
