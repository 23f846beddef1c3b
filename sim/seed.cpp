/// \file
/// Parsing FLO_SIM_SEED.
#include "sim/seed.h"

#include <charconv>
#include <optional>
#include <stdexcept>

namespace flo::sim {

namespace {

std::optional<std::uint64_t> parseNumber(std::string_view text) {
  int base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  std::uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

} // namespace

std::uint64_t chooseSeed(std::string_view test, std::uint64_t fallback, const char* spec) {
  if (!spec || trim(spec).empty()) return fallback;
  std::string_view rest = trim(spec);
  if (auto all = parseNumber(rest)) return *all;
  std::optional<std::uint64_t> chosen;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    std::size_t equals = item.find('=');
    std::optional<std::uint64_t> seed;
    if (equals != std::string_view::npos) seed = parseNumber(trim(item.substr(equals + 1)));
    if (!seed || equals == 0)
      throw std::invalid_argument(std::string(kSeedVariable) + ": expected SEED or " +
                                  "Suite.Name=SEED[,...], not '" + std::string(item) + "'");
    if (trim(item.substr(0, equals)) == test) chosen = seed;
  }
  return chosen.value_or(fallback);
}

std::string replayHint(std::string_view test, std::uint64_t seed) {
  const std::string name(test), number = std::to_string(seed);
  return "simulation seed " + number + "; replay with " + kSeedVariable + "=" + name + "=" +
         number + " build/bin/flo_unit_tests --gtest_filter=" + name;
}

} // namespace flo::sim
