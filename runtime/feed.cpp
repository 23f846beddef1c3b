/// \file
/// Feed lines (see feed.h).
#include "runtime/feed.h"

#include <charconv>
#include <cmath>

namespace flo::rt::feed {

namespace {

constexpr std::string_view kPrefix = "feed: ";

std::string_view segment(std::string_view& rest) {
  // rest starts after a '.'; returns up to the next '.' and leaves rest after it
  auto dot = rest.find('.');
  std::string_view s = rest.substr(0, dot);
  rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
  return s;
}

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool plain(unsigned char c) {
  return c > 0x20 && c < 0x7f && c != '%' && c != '=';
}

/// The next space-separated word of `rest` (empty at its end).
std::string_view word(std::string_view& rest) {
  auto space = rest.find(' ');
  std::string_view w = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return w;
}

std::optional<FloValue> decodeValue(std::string_view text, Arena& arena) {
  FloValue v{};
  if (text == "n") return v;
  if (text.size() < 2 || text[1] != ':') return std::nullopt;
  std::string_view body = text.substr(2);
  const char* end = body.data() + body.size();
  switch (text[0]) {
  case 'b':
    if (body != "0" && body != "1") return std::nullopt;
    v.tag = FLO_BOOL;
    v.u.i = body == "1";
    return v;
  case 'i': {
    v.tag = FLO_INT;
    auto r = std::from_chars(body.data(), end, v.u.i);
    if (body.empty() || r.ec != std::errc() || r.ptr != end) return std::nullopt;
    return v;
  }
  case 'f': {
    v.tag = FLO_FLOAT;
    if (body == "nan" || body == "inf" || body == "-inf") {
      v.u.f = body == "nan" ? std::nan("") : body == "inf" ? HUGE_VAL : -HUGE_VAL;
      return v;
    }
    auto r = std::from_chars(body.data(), end, v.u.f);
    if (body.empty() || r.ec != std::errc() || r.ptr != end) return std::nullopt;
    return v;
  }
  case 's': {
    std::string s;
    for (std::size_t k = 0; k < body.size(); ++k) {
      if (body[k] != '%') {
        s += body[k];
        continue;
      }
      if (k + 2 >= body.size()) return std::nullopt;
      int hi = hexDigit(body[k + 1]), lo = hexDigit(body[k + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      s += char(hi * 16 + lo);
      k += 2;
    }
    return arena.string(s);
  }
  default:
    return std::nullopt;
  }
}

} // namespace

bool matches(std::string_view pattern, std::string_view path) {
  if (pattern.empty() || path.empty() || pattern[0] != '.' || path[0] != '.') return false;
  pattern.remove_prefix(1);
  path.remove_prefix(1);
  for (;;) {
    std::string_view p = segment(pattern), s = segment(path);
    if (p == "**" && pattern.empty()) return !s.empty();
    if (p.empty() || s.empty()) return false;
    if (p != "*" && p != s) return false;
    if (pattern.empty() || path.empty()) return pattern.empty() && path.empty();
  }
}

std::optional<std::string> encodeValue(const FloValue& v) {
  char buf[64];
  switch (v.tag) {
  case FLO_NONE:
    return "n";
  case FLO_BOOL:
    return v.u.i ? "b:1" : "b:0";
  case FLO_INT:
    return "i:" + std::to_string(v.u.i);
  case FLO_FLOAT: {
    if (std::isnan(v.u.f)) return "f:nan";
    if (std::isinf(v.u.f)) return v.u.f < 0 ? "f:-inf" : "f:inf";
    auto r = std::to_chars(buf, buf + sizeof buf, v.u.f); // shortest that reads back exactly
    return "f:" + std::string(buf, r.ptr);
  }
  case FLO_STR: {
    std::string out = "s:";
    for (unsigned char c : std::string_view(v.u.s, v.aux)) {
      if (plain(c)) {
        out += char(c);
      } else {
        static const char hex[] = "0123456789ABCDEF";
        out += '%';
        out += hex[c >> 4];
        out += hex[c & 15];
      }
    }
    return out;
  }
  default:
    return std::nullopt;
  }
}

std::optional<std::string> formatLine(double time, std::string_view path, const char* const* fields,
                                      const FloValue* values, std::uint32_t n) {
  std::string line(kPrefix);
  char t[64];
  auto r = std::to_chars(t, t + sizeof t, time); // shortest that reads back exactly
  line.append(t, r.ptr);
  line += ' ';
  line += path;
  for (std::uint32_t k = 0; k < n; ++k) {
    auto v = encodeValue(values[k]);
    if (!v) return std::nullopt;
    line += ' ';
    line += fields[k];
    line += '=';
    line += *v;
  }
  line += '\n';
  return line;
}

Line parse(std::string_view line, Item& item, Arena& arena, std::string& error) {
  if (line.substr(0, kPrefix.size()) != kPrefix) return Line::Other;
  std::string_view rest = line.substr(kPrefix.size());
  if (rest == "end") return Line::End;
  std::string_view t = word(rest), path = word(rest);
  auto r = std::from_chars(t.data(), t.data() + t.size(), item.time);
  if (t.empty() || r.ec != std::errc() || r.ptr != t.data() + t.size() ||
      !std::isfinite(item.time) || item.time < 0)
    return error = "expected a time, got '" + std::string(t) + "'", Line::Malformed;
  if (path.size() < 2 || path[0] != '.')
    return error = "expected a share's path, got '" + std::string(path) + "'", Line::Malformed;
  item.path = path;
  item.fields.clear();
  while (!rest.empty()) {
    std::string_view f = word(rest);
    auto eq = f.find('=');
    if (eq == 0 || eq == std::string_view::npos)
      return error = "expected FIELD=VALUE, got '" + std::string(f) + "'", Line::Malformed;
    auto v = decodeValue(f.substr(eq + 1), arena);
    if (!v)
      return error = "malformed value of field '" + std::string(f.substr(0, eq)) + "'",
             Line::Malformed;
    item.fields.emplace_back(std::string(f.substr(0, eq)), *v);
  }
  if (item.fields.empty()) return error = "an item with no field", Line::Malformed;
  return Line::Item;
}

} // namespace flo::rt::feed
