/// \file
/// The one canonical, versioned binary encoding of everything Difuon signs or hashes (messages,
/// ledger transactions, blocks, receipts, provenance records, bundle manifests): a strict subset
/// of CBOR's core deterministic encoding (RFC 8949 §4.2.1). One value has exactly one encoding,
/// so hashes and signatures are computed over exactly those bytes; the decoder rejects every
/// other encoding of the same value. A JSON rendering is for people and logs only.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace flo::core {

using Bytes = std::vector<std::uint8_t>;

/// A canonical value: unsigned and negative integers (full 64-bit range each, as CBOR), byte
/// strings, UTF-8 text, arrays, maps with text keys, booleans and null. No floats, no tags.
class Value {
public:
  struct Null {
    bool operator==(const Null&) const = default;
  };
  using Array = std::vector<Value>;
  using Map = std::map<std::string, Value>; ///< text keys; encoded in canonical key order

  Value() : v_(Null{}) {}
  Value(std::nullptr_t) : v_(Null{}) {}
  Value(bool b) : v_(b) {}
  Value(std::uint64_t u) : v_(u) {}
  Value(std::int64_t i);
  Value(int i) : Value(std::int64_t(i)) {}
  Value(Bytes b) : v_(std::move(b)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Map m) : v_(std::move(m)) {}

  bool isNull() const { return std::holds_alternative<Null>(v_); }
  bool isBool() const { return std::holds_alternative<bool>(v_); }
  bool isUnsigned() const { return std::holds_alternative<std::uint64_t>(v_); }
  /// Negative integers are kept as CBOR does: n stands for -1 - n.
  bool isNegative() const { return std::holds_alternative<NegInt>(v_); }
  bool isBytes() const { return std::holds_alternative<Bytes>(v_); }
  bool isText() const { return std::holds_alternative<std::string>(v_); }
  bool isArray() const { return std::holds_alternative<Array>(v_); }
  bool isMap() const { return std::holds_alternative<Map>(v_); }

  bool asBool() const { return std::get<bool>(v_); }
  std::uint64_t asUnsigned() const { return std::get<std::uint64_t>(v_); }
  /// The value of an integer that fits in int64 (unsigned or negative); nullopt otherwise.
  std::optional<std::int64_t> asInt64() const;
  const Bytes& asBytes() const { return std::get<Bytes>(v_); }
  const std::string& asText() const { return std::get<std::string>(v_); }
  const Array& asArray() const { return std::get<Array>(v_); }
  const Map& asMap() const { return std::get<Map>(v_); }
  Array& asArray() { return std::get<Array>(v_); }
  Map& asMap() { return std::get<Map>(v_); }

  /// Map lookup; nullptr when this is not a map or the key is absent.
  const Value* find(std::string_view key) const;

  bool operator==(const Value& other) const = default;

  struct NegInt {
    std::uint64_t n; ///< the value is -1 - n
    bool operator==(const NegInt&) const = default;
  };
  static Value negative(std::uint64_t n) {
    Value v;
    v.v_ = NegInt{n};
    return v;
  }
  std::uint64_t negativeRaw() const { return std::get<NegInt>(v_).n; }

private:
  std::variant<Null, bool, std::uint64_t, NegInt, Bytes, std::string, Array, Map> v_;
};

/// Limits the decoder enforces on untrusted input.
struct DecodeLimits {
  std::size_t maxDepth = 64;         ///< nesting of arrays and maps
  std::size_t maxItems = 1u << 20;   ///< elements of one array or entries of one map
  std::size_t maxLength = 16u << 20; ///< bytes of one byte or text string
};

/// The canonical encoding of a value (never fails). Text must be valid UTF-8 (the caller's
/// duty): otherwise the bytes are still written, but decode rejects them.
Bytes encode(const Value& value);

/// Decodes exactly one value occupying all of `data`. Returns nullopt and a message (with the
/// byte offset) for anything that is not the canonical encoding of a value: truncated input,
/// trailing bytes, non-shortest integer or length, indefinite length, map keys that are not
/// text, unsorted or duplicate keys, invalid UTF-8, floats, tags, undefined or other simple
/// values, excessive depth, count or length.
std::optional<Value> decode(const std::uint8_t* data, std::size_t size,
                            std::string* error = nullptr, const DecodeLimits& limits = {});
inline std::optional<Value> decode(const Bytes& data, std::string* error = nullptr,
                                   const DecodeLimits& limits = {}) {
  return decode(data.data(), data.size(), error, limits);
}

/// JSON for people: integers as numbers (as strings beyond ±2^53), bytes as
/// {"$bytes": "<lowercase hex>"}, text, arrays and maps as themselves. Not canonical; never
/// hashed.
std::string toJson(const Value& value, int indent = 2);

// ---- versioned records -------------------------------------------------------------------

/// Every signed or hashed object is a record: the array ["difuon", version, type, body], so a
/// decoder knows what it reads and an old reader refuses a newer version clearly.
inline constexpr std::uint64_t kEncodingVersion = 1;

struct Record {
  std::string type; ///< "signature", "kel-event", "tx", "block", "receipt", "provenance"...
  std::uint64_t version = kEncodingVersion;
  Value::Map body;
};

Bytes encodeRecord(const Record& record);
/// Decodes a record of the expected type (any type when empty); rejects other versions.
std::optional<Record> decodeRecord(const Bytes& data, std::string_view expectedType,
                                   std::string* error = nullptr);

} // namespace flo::core
