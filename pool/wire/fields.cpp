/// \file
/// Field-by-field reading of record bodies (see fields.h).
#include "pool/wire/fields.h"

#include <algorithm>

namespace flo::pool {

void Fields::fail(std::string message) {
  if (error_.empty()) error_ = std::move(message);
}

const Value* Fields::get(std::string_view key) {
  auto it = map_.find(std::string(key));
  if (it == map_.end()) {
    fail(std::string(key) + ": missing");
    return nullptr;
  }
  return &it->second;
}

std::uint64_t Fields::u64(std::string_view key) {
  const Value* v = get(key);
  if (!v) return 0;
  if (!v->isUnsigned()) return fail(std::string(key) + ": expected an unsigned integer"), 0;
  return v->asUnsigned();
}

std::uint64_t Fields::u64Max(std::string_view key, std::uint64_t max) {
  std::uint64_t n = u64(key);
  if (n > max) return fail(std::string(key) + ": over " + std::to_string(max)), 0;
  return n;
}

bool Fields::flag(std::string_view key) {
  const Value* v = get(key);
  if (!v) return false;
  if (!v->isBool()) return fail(std::string(key) + ": expected a boolean"), false;
  return v->asBool();
}

std::string Fields::text(std::string_view key, std::size_t maxLength) {
  const Value* v = get(key);
  if (!v) return {};
  if (!v->isText()) return fail(std::string(key) + ": expected text"), std::string();
  if (v->asText().size() > maxLength)
    return fail(std::string(key) + ": longer than " + std::to_string(maxLength)), std::string();
  return v->asText();
}

Bytes Fields::bytes(std::string_view key, std::size_t maxLength) {
  const Value* v = get(key);
  if (!v) return {};
  if (!v->isBytes()) return fail(std::string(key) + ": expected bytes"), Bytes();
  if (v->asBytes().size() > maxLength)
    return fail(std::string(key) + ": longer than " + std::to_string(maxLength)), Bytes();
  return v->asBytes();
}

const Value::Array* Fields::array(std::string_view key, std::size_t maxItems) {
  const Value* v = get(key);
  if (!v) return nullptr;
  if (!v->isArray()) return fail(std::string(key) + ": expected an array"), nullptr;
  if (v->asArray().size() > maxItems)
    return fail(std::string(key) + ": more than " + std::to_string(maxItems) + " items"), nullptr;
  return &v->asArray();
}

const Value::Map* Fields::map(std::string_view key) {
  const Value* v = get(key);
  if (!v) return nullptr;
  if (!v->isMap()) return fail(std::string(key) + ": expected a map"), nullptr;
  return &v->asMap();
}

void Fields::only(std::initializer_list<std::string_view> keys) {
  for (const auto& [k, v] : map_)
    if (std::find(keys.begin(), keys.end(), k) == keys.end()) fail("unknown field '" + k + "'");
}

} // namespace flo::pool
