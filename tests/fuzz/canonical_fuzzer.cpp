/// \file
/// libFuzzer target for the canonical decoder: arbitrary bytes must be rejected cleanly or be
/// exactly the canonical encoding of what they decode to (encode(decode(b)) == b). The record
/// decoder runs on the same bytes. Any crash, sanitizer report or mismatch is a bug.
#include "core/canonical.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flo::core;
  std::string error;
  std::optional<Value> value = decode(data, size, &error);
  if (value) {
    Bytes again = encode(*value);
    if (again.size() != size || (size != 0 && std::memcmp(again.data(), data, size) != 0))
      __builtin_trap();
    std::optional<Value> twice = decode(again);
    if (!twice || !(*twice == *value)) __builtin_trap();
    (void)toJson(*value);
  } else if (error.rfind("offset ", 0) != 0) {
    __builtin_trap(); // every rejection names its offset
  }

  Bytes bytes(data, data + size);
  std::optional<Record> record = decodeRecord(bytes, "", &error);
  if (record) {
    if (!value || encodeRecord(*record) != bytes) __builtin_trap();
  }
  return 0;
}
