/// \file
/// The canonical encoder and its strict decoder. The encoder writes every argument in its
/// shortest form and sorts map entries by their encoded keys; the decoder accepts exactly those
/// bytes and nothing else, so decode followed by encode reproduces the input. The decoder reads
/// untrusted input: every length and count is checked against the bytes that remain before
/// anything is allocated for it.
#include "core/canonical.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

namespace flo::core {

Value::Value(std::int64_t i) {
  if (i >= 0)
    v_ = std::uint64_t(i);
  else
    v_ = NegInt{~std::uint64_t(i)}; // -1 - i, without signed overflow
}

std::optional<std::int64_t> Value::asInt64() const {
  constexpr std::uint64_t kMax = std::uint64_t(INT64_MAX);
  if (isUnsigned()) {
    std::uint64_t u = asUnsigned();
    if (u > kMax) return std::nullopt;
    return std::int64_t(u);
  }
  if (isNegative()) {
    std::uint64_t n = negativeRaw();
    if (n > kMax) return std::nullopt;
    return -1 - std::int64_t(n);
  }
  return std::nullopt;
}

const Value* Value::find(std::string_view key) const {
  if (!isMap()) return nullptr;
  const Map& map = asMap();
  auto it = map.find(std::string(key));
  return it == map.end() ? nullptr : &it->second;
}

namespace {

enum Major : std::uint8_t {
  kUnsigned = 0,
  kNegative = 1,
  kByteString = 2,
  kTextString = 3,
  kArray = 4,
  kMap = 5,
  kTag = 6,
  kSimple = 7,
};

constexpr std::uint8_t kFalse = 0xf4;
constexpr std::uint8_t kTrue = 0xf5;
constexpr std::uint8_t kNull = 0xf6;

// ---- encoding ----------------------------------------------------------------------------

/// The canonical order of text keys: that of their encodings, i.e. shorter first, then bytewise.
bool keyLess(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

void writeHead(Bytes& out, Major major, std::uint64_t arg) {
  std::uint8_t top = std::uint8_t(major << 5);
  int width = 0;
  if (arg < 24) {
    out.push_back(std::uint8_t(top | arg));
    return;
  }
  if (arg <= 0xff) {
    out.push_back(top | 24);
    width = 1;
  } else if (arg <= 0xffff) {
    out.push_back(top | 25);
    width = 2;
  } else if (arg <= 0xffffffff) {
    out.push_back(top | 26);
    width = 4;
  } else {
    out.push_back(top | 27);
    width = 8;
  }
  for (int i = width - 1; i >= 0; --i) out.push_back(std::uint8_t(arg >> (8 * i)));
}

void encodeMapInto(Bytes& out, const Value::Map& m);

void encodeTextInto(Bytes& out, std::string_view s) {
  writeHead(out, kTextString, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void encodeInto(Bytes& out, const Value& value) {
  if (value.isNull()) {
    out.push_back(kNull);
  } else if (value.isBool()) {
    out.push_back(value.asBool() ? kTrue : kFalse);
  } else if (value.isUnsigned()) {
    writeHead(out, kUnsigned, value.asUnsigned());
  } else if (value.isNegative()) {
    writeHead(out, kNegative, value.negativeRaw());
  } else if (value.isBytes()) {
    const Bytes& b = value.asBytes();
    writeHead(out, kByteString, b.size());
    out.insert(out.end(), b.begin(), b.end());
  } else if (value.isText()) {
    encodeTextInto(out, value.asText());
  } else if (value.isArray()) {
    const Value::Array& a = value.asArray();
    writeHead(out, kArray, a.size());
    for (const Value& v : a) encodeInto(out, v);
  } else {
    encodeMapInto(out, value.asMap());
  }
}

/// A map's entries in canonical key order. The order of std::map (bytewise) differs from it
/// only where key lengths differ, so the entries are sorted again; a map of the size records
/// have is sorted on the stack.
void encodeMapInto(Bytes& out, const Value::Map& m) {
  using Entry = const Value::Map::value_type*;
  constexpr std::size_t kOnStack = 32;
  std::array<Entry, kOnStack> small;
  std::vector<Entry> large;
  Entry* entries = small.data();
  if (m.size() > kOnStack) {
    large.resize(m.size());
    entries = large.data();
  }
  std::size_t n = 0;
  for (const auto& entry : m) entries[n++] = &entry;
  std::sort(entries, entries + n, [](Entry a, Entry b) { return keyLess(a->first, b->first); });
  writeHead(out, kMap, n);
  for (std::size_t i = 0; i < n; ++i) {
    encodeTextInto(out, entries[i]->first);
    encodeInto(out, entries[i]->second);
  }
}

// ---- decoding ----------------------------------------------------------------------------

/// The offset of the first byte that is not part of valid UTF-8 (rejecting overlong forms,
/// surrogates and code points above U+10FFFF), or nullopt when all of `s` is valid.
std::optional<std::size_t> findInvalidUtf8(const std::uint8_t* s, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    std::uint8_t c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t extra = 0;
    std::uint8_t lo = 0x80, hi = 0xbf; // allowed range of the first continuation byte
    if (c >= 0xc2 && c <= 0xdf) {
      extra = 1;
    } else if (c == 0xe0) {
      extra = 2;
      lo = 0xa0;
    } else if (c >= 0xe1 && c <= 0xec) {
      extra = 2;
    } else if (c == 0xed) {
      extra = 2;
      hi = 0x9f;
    } else if (c >= 0xee && c <= 0xef) {
      extra = 2;
    } else if (c == 0xf0) {
      extra = 3;
      lo = 0x90;
    } else if (c >= 0xf1 && c <= 0xf3) {
      extra = 3;
    } else if (c == 0xf4) {
      extra = 3;
      hi = 0x8f;
    } else {
      return i;
    }
    if (n - i - 1 < extra) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i + 1;
    for (std::size_t k = 2; k <= extra; ++k)
      if (s[i + k] < 0x80 || s[i + k] > 0xbf) return i + k;
    i += extra + 1;
  }
  return std::nullopt;
}

class Decoder {
public:
  Decoder(const std::uint8_t* data, std::size_t size, const DecodeLimits& limits)
      : data_(data), size_(size), limits_(limits) {}

  std::optional<Value> decodeAll() {
    std::optional<Value> value = decodeValue(0);
    if (!value) return std::nullopt;
    if (pos_ != size_) return fail(pos_, std::to_string(size_ - pos_) + " trailing byte(s)");
    return value;
  }

  const std::string& error() const { return error_; }

private:
  struct Head {
    std::size_t offset; ///< of the initial byte
    Major major;
    std::uint64_t arg;
  };

  std::nullopt_t fail(std::size_t offset, std::string message) {
    if (error_.empty()) error_ = "offset " + std::to_string(offset) + ": " + std::move(message);
    return std::nullopt;
  }

  std::size_t remaining() const { return size_ - pos_; }

  /// Reads an initial byte and its argument (for major types 0-6), enforcing the shortest form.
  std::optional<Head> readHead() {
    std::size_t start = pos_;
    if (pos_ >= size_) return fail(start, "truncated: expected a data item");
    std::uint8_t initial = data_[pos_++];
    Major major = Major(initial >> 5);
    std::uint8_t info = initial & 0x1f;
    if (major == kSimple) return Head{start, major, info};
    if (info < 24) return Head{start, major, info};
    if (info == 31) return fail(start, "indefinite length is not canonical");
    if (info > 27) return fail(start, "reserved additional information " + std::to_string(info));
    std::size_t width = std::size_t(1) << (info - 24);
    if (remaining() < width)
      return fail(start, "truncated: argument needs " + std::to_string(width) + " byte(s)");
    std::uint64_t arg = 0;
    for (std::size_t i = 0; i < width; ++i) arg = (arg << 8) | data_[pos_++];
    static constexpr std::uint64_t kMinimum[] = {24, 0x100, 0x10000, 0x100000000};
    if (arg < kMinimum[info - 24])
      return fail(start, "argument " + std::to_string(arg) + " is not in its shortest form");
    return Head{start, major, arg};
  }

  /// Checks a string length against the limits and the remaining input; consumes the bytes.
  const std::uint8_t* takeString(const Head& head) {
    if (head.arg > limits_.maxLength) {
      fail(head.offset, "string of " + std::to_string(head.arg) + " bytes exceeds the limit of " +
                            std::to_string(limits_.maxLength));
      return nullptr;
    }
    if (head.arg > remaining()) {
      fail(head.offset, "truncated: string of " + std::to_string(head.arg) + " bytes but only " +
                            std::to_string(remaining()) + " remain");
      return nullptr;
    }
    const std::uint8_t* p = data_ + pos_;
    pos_ += std::size_t(head.arg);
    return p;
  }

  std::optional<std::string> takeText(const Head& head) {
    const std::uint8_t* p = takeString(head);
    if (!p) return std::nullopt;
    std::size_t n = std::size_t(head.arg);
    if (auto bad = findInvalidUtf8(p, n))
      return fail(std::size_t(p - data_) + *bad, "invalid UTF-8 in text string");
    return std::string(reinterpret_cast<const char*>(p), n);
  }

  /// Checks a container's element count against the limits and the remaining input (each
  /// element takes at least `minBytes` bytes) before anything is reserved for it.
  bool checkCount(const Head& head, std::size_t depth, std::size_t minBytes, const char* what) {
    if (depth + 1 > limits_.maxDepth) {
      fail(head.offset, "nesting deeper than " + std::to_string(limits_.maxDepth));
      return false;
    }
    if (head.arg > limits_.maxItems) {
      fail(head.offset, std::string(what) + " of " + std::to_string(head.arg) +
                            " elements exceeds the limit of " + std::to_string(limits_.maxItems));
      return false;
    }
    if (head.arg > remaining() / minBytes) {
      fail(head.offset, std::string("truncated: ") + what + " of " + std::to_string(head.arg) +
                            " elements but only " + std::to_string(remaining()) + " bytes remain");
      return false;
    }
    return true;
  }

  std::optional<Value> decodeValue(std::size_t depth) {
    std::optional<Head> head = readHead();
    if (!head) return std::nullopt;
    switch (head->major) {
    case kUnsigned:
      return Value(head->arg);
    case kNegative:
      return Value::negative(head->arg);
    case kByteString: {
      const std::uint8_t* p = takeString(*head);
      if (!p) return std::nullopt;
      return Value(Bytes(p, p + head->arg));
    }
    case kTextString: {
      std::optional<std::string> s = takeText(*head);
      if (!s) return std::nullopt;
      return Value(std::move(*s));
    }
    case kArray: {
      if (!checkCount(*head, depth, 1, "array")) return std::nullopt;
      Value::Array array;
      array.reserve(std::size_t(head->arg));
      for (std::uint64_t i = 0; i < head->arg; ++i) {
        std::optional<Value> element = decodeValue(depth + 1);
        if (!element) return std::nullopt;
        array.push_back(std::move(*element));
      }
      return Value(std::move(array));
    }
    case kMap:
      return decodeMap(*head, depth);
    case kTag:
      return fail(head->offset, "tags are not allowed");
    case kSimple:
      return decodeSimple(*head);
    }
    return fail(head->offset, "unknown major type");
  }

  std::optional<Value> decodeMap(const Head& head, std::size_t depth) {
    if (!checkCount(head, depth, 2, "map")) return std::nullopt;
    Value::Map map;
    std::optional<std::string> previous;
    for (std::uint64_t i = 0; i < head.arg; ++i) {
      std::optional<Head> keyHead = readHead();
      if (!keyHead) return std::nullopt;
      if (keyHead->major != kTextString)
        return fail(keyHead->offset, "map key is not a text string");
      std::optional<std::string> key = takeText(*keyHead);
      if (!key) return std::nullopt;
      if (previous) {
        if (*key == *previous) return fail(keyHead->offset, "duplicate map key \"" + *key + "\"");
        if (!keyLess(*previous, *key))
          return fail(keyHead->offset, "map key \"" + *key + "\" is out of canonical order");
      }
      std::optional<Value> value = decodeValue(depth + 1);
      if (!value) return std::nullopt;
      previous = *key;
      map.emplace(std::move(*key), std::move(*value));
    }
    return Value(std::move(map));
  }

  std::optional<Value> decodeSimple(const Head& head) {
    std::uint8_t initial = data_[head.offset];
    switch (initial) {
    case kFalse:
      return Value(false);
    case kTrue:
      return Value(true);
    case kNull:
      return Value(nullptr);
    case 0xf7:
      return fail(head.offset, "undefined is not allowed");
    case 0xf9:
    case 0xfa:
    case 0xfb:
      return fail(head.offset, "floating-point numbers are not allowed");
    case 0xff:
      return fail(head.offset, "unexpected break");
    case 0xfc:
    case 0xfd:
    case 0xfe:
      return fail(head.offset, "reserved additional information " + std::to_string(head.arg));
    default:
      return fail(head.offset, "simple value is not allowed");
    }
  }

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  DecodeLimits limits_;
  std::string error_;
};

// ---- JSON --------------------------------------------------------------------------------

constexpr std::uint64_t kJsonSafe = std::uint64_t(1) << 53;

std::string hex(const Bytes& bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

nlohmann::json toJsonValue(const Value& value) {
  if (value.isNull()) return nullptr;
  if (value.isBool()) return value.asBool();
  if (value.isUnsigned()) {
    std::uint64_t u = value.asUnsigned();
    if (u <= kJsonSafe) return u;
    return std::to_string(u);
  }
  if (value.isNegative()) {
    std::uint64_t n = value.negativeRaw(); // the value is -(n + 1)
    if (n < kJsonSafe) return -1 - std::int64_t(n);
    if (n == UINT64_MAX) return "-18446744073709551616";
    return "-" + std::to_string(n + 1);
  }
  if (value.isBytes()) return nlohmann::json{{"$bytes", hex(value.asBytes())}};
  if (value.isText()) return value.asText();
  if (value.isArray()) {
    nlohmann::json array = nlohmann::json::array();
    for (const Value& v : value.asArray()) array.push_back(toJsonValue(v));
    return array;
  }
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, v] : value.asMap()) object[key] = toJsonValue(v);
  return object;
}

} // namespace

Bytes encode(const Value& value) {
  Bytes out;
  encodeInto(out, value);
  return out;
}

std::optional<Value> decode(const std::uint8_t* data, std::size_t size, std::string* error,
                            const DecodeLimits& limits) {
  Decoder decoder(data, size, limits);
  std::optional<Value> value = decoder.decodeAll();
  if (!value && error) *error = decoder.error();
  return value;
}

std::string toJson(const Value& value, int indent) {
  // Text decoded from the canonical form is valid UTF-8; a hand-built value may not be, and the
  // rendering is for people, so replace rather than throw.
  return toJsonValue(value).dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- records -----------------------------------------------------------------------------

namespace {
constexpr const char* kMagic = "difuon";
} // namespace

Bytes encodeRecord(const Record& record) {
  // encode(["difuon", version, type, body]), written without copying the body into an array.
  Bytes out;
  writeHead(out, kArray, 4);
  encodeTextInto(out, kMagic);
  writeHead(out, kUnsigned, record.version);
  encodeTextInto(out, record.type);
  encodeMapInto(out, record.body);
  return out;
}

std::optional<Record> decodeRecord(const Bytes& data, std::string_view expectedType,
                                   std::string* error) {
  auto fail = [&](std::string message) -> std::optional<Record> {
    if (error) *error = "record: " + std::move(message);
    return std::nullopt;
  };
  std::string decodeError;
  std::optional<Value> value = decode(data, &decodeError);
  if (!value) return fail(decodeError);
  if (!value->isArray() || value->asArray().size() != 4)
    return fail("expected an array of 4 elements [\"difuon\", version, type, body]");
  Value::Array& items = value->asArray();
  if (!items[0].isText() || items[0].asText() != kMagic)
    return fail("expected the magic \"difuon\" as the first element");
  if (!items[1].isUnsigned()) return fail("expected an unsigned version as the second element");
  std::uint64_t version = items[1].asUnsigned();
  if (version != kEncodingVersion)
    return fail("unsupported encoding version " + std::to_string(version) +
                " (this reader understands version " + std::to_string(kEncodingVersion) + ")");
  if (!items[2].isText()) return fail("expected a text type as the third element");
  if (!expectedType.empty() && items[2].asText() != expectedType)
    return fail("expected a record of type \"" + std::string(expectedType) + "\", got \"" +
                items[2].asText() + "\"");
  if (!items[3].isMap()) return fail("expected a map body as the fourth element");
  Record record;
  record.type = items[2].asText();
  record.version = version;
  record.body = std::move(items[3].asMap());
  return record;
}

} // namespace flo::core
