/// \file
/// Reading the body of a canonical record (core/canonical.h) field by field, with the first
/// problem kept as a message: every decoder in pool/wire validates what it reads here, so a
/// malformed message or transaction is refused with a reason before anything acts on it.
#pragma once

#include "core/canonical.h"
#include "core/crypto.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace flo::pool {

using core::Bytes;
using core::Digest;
using core::PublicKey;
using core::Signature;
using core::Value;

/// A byte string of exactly N bytes as an array (a key, an id in a list); nullopt for anything
/// else. Fields::fixed is the same for a named field.
template <std::size_t N> std::optional<std::array<std::uint8_t, N>> fixedOf(const Value& v) {
  if (!v.isBytes() || v.asBytes().size() != N) return std::nullopt;
  std::array<std::uint8_t, N> out{};
  std::copy(v.asBytes().begin(), v.asBytes().end(), out.begin());
  return out;
}

class Fields {
public:
  explicit Fields(const Value::Map& map) : map_(map) {}

  /// False once any read failed; error() says which field and why.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  /// Records a problem found by the caller (keeps the first).
  void fail(std::string message);

  std::uint64_t u64(std::string_view key);
  /// An unsigned integer no larger than `max`.
  std::uint64_t u64Max(std::string_view key, std::uint64_t max);
  bool flag(std::string_view key);
  std::string text(std::string_view key, std::size_t maxLength);
  Bytes bytes(std::string_view key, std::size_t maxLength);
  template <std::size_t N> std::array<std::uint8_t, N> fixed(std::string_view key) {
    std::array<std::uint8_t, N> out{};
    const Value* v = get(key);
    if (!v) return out;
    if (!v->isBytes() || v->asBytes().size() != N) {
      fail(std::string(key) + ": expected " + std::to_string(N) + " bytes");
      return out;
    }
    std::copy(v->asBytes().begin(), v->asBytes().end(), out.begin());
    return out;
  }
  const Value::Array* array(std::string_view key, std::size_t maxItems);
  const Value::Map* map(std::string_view key);
  /// Whether the field is present (for optional ones).
  bool has(std::string_view key) const { return map_.count(std::string(key)) > 0; }
  /// Whether the map has exactly these keys (an unknown field is refused, not ignored).
  void only(std::initializer_list<std::string_view> keys);

private:
  const Value* get(std::string_view key);
  const Value::Map& map_;
  std::string error_;
};

} // namespace flo::pool
