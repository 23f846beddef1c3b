/// \file
/// libFuzzer target for feeds between foggers (docs/deploy.md, "Federation"), where one fogger's
/// bytes become another's job input: the consumer's runtime parses each line (runtime/feed.h)
/// without crashing, says why it refuses one, and reads every value it accepts back exactly
/// from its own encoding; and a consumer's FeedReceiver (fogger/feed.h) fed the same lines as
/// FeedItems in arbitrary numbering never hands its job more than the producer was allowed to
/// send, nor an item twice.
#include "runtime/feed.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fogger/feed.h"

namespace {

bool same(const FloValue& a, const FloValue& b) {
  if (a.tag != b.tag) return false;
  switch (a.tag) {
  case FLO_NONE:
    return true;
  case FLO_BOOL:
  case FLO_INT:
    return a.u.i == b.u.i;
  case FLO_FLOAT:
    return (std::isnan(a.u.f) && std::isnan(b.u.f)) ||
           std::memcmp(&a.u.f, &b.u.f, sizeof(double)) == 0;
  case FLO_STR:
    return a.aux == b.aux && std::memcmp(a.u.s, b.u.s, a.aux) == 0;
  default:
    return false;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flo;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  rt::Arena arena;
  core::Digest source{}, order{};
  source[0] = 1;
  const std::uint64_t window = 1 + (size % 7);
  fogger::FeedReceiver receiver(source, order, window);
  std::uint64_t taken = 0, first = 0;
  for (std::size_t at = 0; at <= input.size();) {
    std::size_t nl = input.find('\n', at);
    if (nl == std::string_view::npos) nl = input.size();
    std::string_view line = input.substr(at, nl - at);
    at = nl + 1;
    rt::feed::Item item;
    std::string error;
    switch (rt::feed::parse(line, item, arena, error)) {
    case rt::feed::Line::Malformed:
      if (error.empty()) __builtin_trap(); // every refusal says why
      break;
    case rt::feed::Line::Item:
      for (const auto& [field, value] : item.fields) {
        auto text = rt::feed::encodeValue(value);
        if (!text) __builtin_trap(); // a feed reads only what it can write
        std::string again = "feed: 0 .x " + field + "=" + *text;
        rt::feed::Item back;
        if (rt::feed::parse(again, back, arena, error) != rt::feed::Line::Item ||
            back.fields.size() != 1 || !same(back.fields[0].second, value))
          __builtin_trap();
      }
      break;
    default:
      break;
    }
    // The line as one item of a message whose numbering the input's first byte bends.
    fogger::FeedItems m;
    m.source = source;
    m.first =
        line.empty() ? first : first - std::min<std::uint64_t>(first, std::uint8_t(line[0]) % 3);
    m.items = {std::string(line)};
    m.end = !line.empty() && line[0] == 'E';
    std::vector<std::string> out;
    if (receiver.receive(m, out, error)) {
      first = receiver.received();
      taken += out.size();
      if (taken != receiver.received()) __builtin_trap(); // each item once, in order
      if (receiver.waiting() > window) __builtin_trap();  // never beyond the credit
      if (!out.empty() && (line.size() % 2)) receiver.delivered(receiver.waiting());
    } else if (error.empty()) {
      __builtin_trap();
    }
  }
  return 0;
}
