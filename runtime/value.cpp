/// \file
/// Values as FloScript sees them: Python's truthiness, equality with tolerance, ordering,
/// addition (for `inc`) and repr, over the FloValue cells of the store (FLOSCRIPT.md §12.2-12.5).
#include "runtime/value.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace flo::rt {

bool isNumeric(const FloValue& v) {
  return v.tag == FLO_BOOL || v.tag == FLO_INT || v.tag == FLO_FLOAT;
}

namespace {
struct PointKind {
  const char* name;
  const char* fields;
};
const PointKind kPointKinds[] = {{"Pxy", "xy"},   {"Pxyz", "xyz"}, {"Pne", "ne"},
                                 {"Pned", "ned"}, {"Pfs", "fs"},   {"Pfsb", "fsb"}};
const PointKind& pointKind(const FloValue& v) {
  return kPointKinds[v.aux < 6 ? v.aux : 0];
}
} // namespace

int pointCoords(const FloValue& v, double out[3]) {
  std::memcpy(out, v.u.s, 3 * sizeof(double));
  return int(std::strlen(pointKind(v).fields));
}

double asDouble(const FloValue& v) {
  return v.tag == FLO_FLOAT ? v.u.f : double(v.u.i);
}

bool truthy(const FloValue& v) {
  switch (v.tag) {
  case FLO_BOOL:
  case FLO_INT:
    return v.u.i != 0;
  case FLO_FLOAT:
    return v.u.f != 0.0;
  case FLO_STR:
    return v.aux != 0;
  case FLO_POINT:
    return true; // a non-empty tuple
  default:
    return false;
  }
}

const char* typeName(const FloValue& v) {
  switch (v.tag) {
  case FLO_NONE:
    return "NoneType";
  case FLO_BOOL:
    return "bool";
  case FLO_INT:
    return "int";
  case FLO_FLOAT:
    return "float";
  case FLO_STR:
    return "str";
  case FLO_POINT:
    return pointKind(v).name;
  }
  return "?";
}

namespace {

/// Python's int/float comparison, exact for the integers a double cannot hold.
int compareNumbers(const FloValue& a, const FloValue& b) {
  if (a.tag != FLO_FLOAT && b.tag != FLO_FLOAT) return a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
  double x = asDouble(a), y = asDouble(b);
  if (a.tag != FLO_FLOAT && b.tag == FLO_FLOAT && std::isfinite(y) && y == std::trunc(y) &&
      std::fabs(y) < 9.2e18) {
    auto yi = static_cast<std::int64_t>(y);
    return a.u.i < yi ? -1 : a.u.i > yi;
  }
  if (a.tag == FLO_FLOAT && b.tag != FLO_FLOAT && std::isfinite(x) && x == std::trunc(x) &&
      std::fabs(x) < 9.2e18) {
    auto xi = static_cast<std::int64_t>(x);
    return xi < b.u.i ? -1 : xi > b.u.i;
  }
  if (std::isnan(x) || std::isnan(y)) return 2; // unordered
  return x < y ? -1 : x > y;
}

/// Tuples compare element by element, then by length (Python).
int comparePoints(const FloValue& a, const FloValue& b) {
  double x[3], y[3];
  int n = pointCoords(a, x), m = pointCoords(b, y);
  for (int i = 0; i < std::min(n, m); ++i) {
    if (std::isnan(x[i]) || std::isnan(y[i])) return 2;
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return n < m ? -1 : n > m;
}

int compareStrings(const FloValue& a, const FloValue& b) {
  std::size_t n = std::min(a.aux, b.aux);
  int c = std::memcmp(a.u.s, b.u.s, n);
  if (c != 0) return c < 0 ? -1 : 1;
  return a.aux < b.aux ? -1 : a.aux > b.aux;
}

} // namespace

bool pyEqual(const FloValue& a, const FloValue& b) {
  if (isNumeric(a) && isNumeric(b)) return compareNumbers(a, b) == 0;
  if (a.tag != b.tag) return false;
  if (a.tag == FLO_NONE) return true;
  if (a.tag == FLO_STR) return compareStrings(a, b) == 0;
  if (a.tag == FLO_POINT) return comparePoints(a, b) == 0;
  return false;
}

std::optional<bool> compare(FloCmp op, const FloValue& s, const FloValue& g, double tol,
                            std::string& error) {
  if (op == FLO_EQ || op == FLO_NE) {
    bool eq;
    if (isNumeric(s) && isNumeric(g)) {
      if (tol == 0.0) {
        eq = compareNumbers(s, g) == 0;
      } else {
        double x = asDouble(s), y = asDouble(g);
        eq = y - tol <= x && x <= y + tol;
      }
    } else {
      eq = pyEqual(s, g);
    }
    return op == FLO_EQ ? eq : !eq;
  }
  int c;
  if (isNumeric(s) && isNumeric(g)) {
    c = compareNumbers(s, g);
    if (c == 2) return false;
  } else if (s.tag == FLO_STR && g.tag == FLO_STR) {
    c = compareStrings(s, g);
  } else if (s.tag == FLO_POINT && g.tag == FLO_POINT) {
    c = comparePoints(s, g);
    if (c == 2) return false;
  } else {
    static const char* const ops[] = {"==", "!=", "<", "<=", ">=", ">"};
    error = std::string("'") + ops[op] + "' not supported between instances of '" + typeName(s) +
            "' and '" + typeName(g) + "'";
    return std::nullopt;
  }
  switch (op) {
  case FLO_LT:
    return c < 0;
  case FLO_LE:
    return c <= 0;
  case FLO_GE:
    return c >= 0;
  case FLO_GT:
    return c > 0;
  default:
    return false;
  }
}

std::optional<FloValue> add(const FloValue& a, const FloValue& b, std::string& error,
                            Arena& arena) {
  FloValue r{};
  if (isNumeric(a) && isNumeric(b)) {
    if (a.tag != FLO_FLOAT && b.tag != FLO_FLOAT) {
      r.tag = FLO_INT;
      if (__builtin_add_overflow(a.u.i, b.u.i, &r.u.i)) {
        error = "integer overflow in addition";
        return std::nullopt;
      }
      return r;
    }
    r.tag = FLO_FLOAT;
    r.u.f = asDouble(a) + asDouble(b);
    return r;
  }
  if (a.tag == FLO_STR && b.tag == FLO_STR) {
    std::string joined = std::string(a.u.s, a.aux) + std::string(b.u.s, b.aux);
    return arena.string(joined);
  }
  if (a.tag == FLO_STR || b.tag == FLO_STR) {
    error = a.tag == FLO_STR
                ? std::string("can only concatenate str (not \"") + typeName(b) + "\") to str"
                : std::string("unsupported operand type(s) for +: '") + typeName(a) + "' and 'str'";
    return std::nullopt;
  }
  error = std::string("unsupported operand type(s) for +: '") + typeName(a) + "' and '" +
          typeName(b) + "'";
  return std::nullopt;
}

FloValue Arena::string(std::string_view text) {
  auto& s = strings_.emplace_back(text);
  FloValue v{};
  v.tag = FLO_STR;
  v.aux = static_cast<std::uint32_t>(s.size());
  v.u.s = s.c_str();
  return v;
}

std::string floatRepr(double x) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x < 0 ? "-inf" : "inf";
  if (x == 0.0) return std::signbit(x) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, x, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  auto e = sci.find('e');
  std::string mant = sci.substr(0, e);
  int exp = std::stoi(sci.substr(e + 1));
  std::string digits;
  for (char c : mant)
    if (c != '.') digits += c;
  int decpt = exp + 1; // value = 0.digits * 10^decpt
  std::string out;
  if (decpt > -4 && decpt <= 16) {
    if (decpt <= 0) {
      out = "0." + std::string(std::size_t(-decpt), '0') + digits;
    } else if (std::size_t(decpt) >= digits.size()) {
      out = digits + std::string(std::size_t(decpt) - digits.size(), '0') + ".0";
    } else {
      out = digits.substr(0, std::size_t(decpt)) + "." + digits.substr(std::size_t(decpt));
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    int shown = decpt - 1;
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", shown < 0 ? '-' : '+', shown < 0 ? -shown : shown);
    out += eb;
  }
  return sign + out;
}

std::string repr(const FloValue& v) {
  switch (v.tag) {
  case FLO_NONE:
    return "None";
  case FLO_BOOL:
    return v.u.i ? "True" : "False";
  case FLO_INT:
    return std::to_string(v.u.i);
  case FLO_FLOAT:
    return floatRepr(v.u.f);
  case FLO_STR: {
    std::string_view s(v.u.s, v.aux);
    char q = (s.find('\'') != std::string_view::npos && s.find('"') == std::string_view::npos)
                 ? '"'
                 : '\'';
    std::string out(1, q);
    for (unsigned char c : s) {
      if (c == '\\')
        out += "\\\\";
      else if (c == static_cast<unsigned char>(q))
        out += std::string("\\") + q;
      else if (c == '\n')
        out += "\\n";
      else if (c == '\t')
        out += "\\t";
      else if (c == '\r')
        out += "\\r";
      else if (c < 0x20 || c == 0x7f) {
        char b[8];
        std::snprintf(b, sizeof b, "\\x%02x", c);
        out += b;
      } else
        out += char(c);
    }
    return out + q;
  }
  case FLO_POINT: {
    double c[3];
    int n = pointCoords(v, c);
    const PointKind& k = pointKind(v);
    std::string out = std::string(k.name) + "(";
    for (int i = 0; i < n; ++i)
      out += std::string(i ? ", " : "") + k.fields[i] + "=" + floatRepr(c[i]);
    return out + ")";
  }
  }
  return "?";
}

} // namespace flo::rt
