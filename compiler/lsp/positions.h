/// \file
/// Byte offsets (what the front end's SourceRange holds) to and from LSP positions: 0-based
/// lines and 0-based columns in UTF-16 code units, the protocol's default encoding. A character
/// outside the Basic Multilingual Plane (a 4-byte UTF-8 sequence) counts two units; bytes that are
/// not valid UTF-8 count one each. Lines end at '\n' (a '\r' before it belongs to no column a
/// client can address); a lone '\r' is not a line break here although LSP counts it as one.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace flo::lsp {

struct Position {
  std::uint32_t line = 0;
  std::uint32_t character = 0;
};

class LineIndex {
public:
  /// Indexes `text`, which must outlive the index.
  explicit LineIndex(std::string_view text);

  /// The position of a byte offset (clamped to the end of the text).
  Position position(std::uint32_t offset) const;
  /// The byte offset of a position; a line past the end gives the text's size, a character past
  /// the end of its line gives the line's end.
  std::uint32_t offset(Position p) const;
  Position end() const { return position(static_cast<std::uint32_t>(text_.size())); }

private:
  std::string_view text_;
  std::vector<std::uint32_t> lineStarts_;
};

nlohmann::json toJson(Position p);
/// An LSP Range of the byte range [begin, end).
nlohmann::json rangeJson(const LineIndex& index, std::uint32_t begin, std::uint32_t end);
/// Reads an LSP Position; throws nlohmann::json::exception when it is not one.
Position positionFromJson(const nlohmann::json& j);

} // namespace flo::lsp
