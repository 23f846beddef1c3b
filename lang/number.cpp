/// \file
/// Reading number words (see number.h).
#include "lang/number.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <string>

namespace flo::lang {

NumberLiteral readNumber(std::string_view text) {
  NumberLiteral out;
  std::string t;
  t.reserve(text.size());
  for (char c : text)
    if (c != '_') t += c;
  if (t.empty()) return out;
  const bool neg = t[0] == '-';
  std::string_view body(t);
  if (t[0] == '-' || t[0] == '+') body.remove_prefix(1);
  if (body.empty()) return out;

  int base = 10;
  if (body.size() > 2 && body[0] == '0') {
    char k = char(std::tolower(static_cast<unsigned char>(body[1])));
    base = k == 'x' ? 16 : k == 'b' ? 2 : k == 'o' ? 8 : 10;
    if (base != 10) body.remove_prefix(2);
  }
  auto digitOfBase = [&](char c) {
    auto u = static_cast<unsigned char>(c);
    return base == 16 ? std::isxdigit(u) != 0 : c >= '0' && c < char('0' + std::min(base, 10));
  };
  bool integer = !body.empty();
  for (char c : body) integer = integer && digitOfBase(c);
  if (integer) {
    std::uint64_t u = 0;
    auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), u, base);
    const std::uint64_t limit = std::uint64_t(std::numeric_limits<std::int64_t>::max()) + neg;
    if (ec == std::errc() && end == body.data() + body.size() && u <= limit) {
      out.kind = NumberLiteral::Kind::Integer;
      out.integer = neg ? std::int64_t(0 - u) : std::int64_t(u);
      return out;
    }
    // Beyond 64 bits: the nearest double. strtod rounds a decimal correctly; other bases add
    // their digits (exact for powers of two up to the double's precision).
    double v = 0;
    if (base == 10) {
      v = std::strtod(std::string(body).c_str(), nullptr);
    } else {
      for (char c : body) {
        int d = std::isdigit(static_cast<unsigned char>(c))
                    ? c - '0'
                    : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
        v = v * base + d;
      }
    }
    out.kind = NumberLiteral::Kind::IntegerTooLarge;
    out.real = neg ? -v : v;
    return out;
  }
  if (base != 10) return out;
  // Infinity and not-a-number by name, as Python's float() reads them (Ioflo plans compare
  // with `-inf`).
  std::string lower;
  for (char c : body) lower += char(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "inf" || lower == "infinity" || lower == "nan") {
    out.kind = NumberLiteral::Kind::Real;
    out.real = lower == "nan" ? std::numeric_limits<double>::quiet_NaN()
                              : std::numeric_limits<double>::infinity();
    if (neg) out.real = -out.real;
    return out;
  }
  // A float: all of the word, in the C locale's form (digits, '.', an exponent).
  for (char c : body)
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != 'e' && c != 'E' &&
        c != '+' && c != '-')
      return out;
  double v = 0;
  auto [end, ec] = std::from_chars(t.data() + (t[0] == '+'), t.data() + t.size(), v);
  if (end != t.data() + t.size()) return out;
  if (ec == std::errc::result_out_of_range) {
    // from_chars says so for overflow and for underflow alike: only overflow is an error
    // (strtod gives the underflow its nearest double, 0 or a denormal).
    v = std::strtod(t.c_str(), nullptr);
    if (std::fabs(v) == HUGE_VAL) {
      out.kind = NumberLiteral::Kind::RealTooLarge;
      return out;
    }
  } else if (ec != std::errc()) {
    return out;
  }
  out.kind = NumberLiteral::Kind::Real;
  out.real = v;
  return out;
}

} // namespace flo::lang
