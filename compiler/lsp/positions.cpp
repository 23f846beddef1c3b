/// \file
/// UTF-8 byte offsets to and from LSP's UTF-16 line/character positions.
#include "compiler/lsp/positions.h"

#include <algorithm>

namespace flo::lsp {

namespace {
/// UTF-16 code units of the UTF-8 sequence led by byte `c` (0 for a continuation byte).
std::uint32_t utf16Units(unsigned char c) {
  if ((c & 0xC0) == 0x80) return 0;
  return c >= 0xF0 ? 2 : 1;
}
} // namespace

LineIndex::LineIndex(std::string_view text) : text_(text) {
  lineStarts_.push_back(0);
  for (std::size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') lineStarts_.push_back(static_cast<std::uint32_t>(i + 1));
}

Position LineIndex::position(std::uint32_t offset) const {
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text_.size()));
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  auto line = static_cast<std::uint32_t>(it - lineStarts_.begin() - 1);
  std::uint32_t units = 0;
  for (std::uint32_t i = lineStarts_[line]; i < offset; ++i)
    units += utf16Units(static_cast<unsigned char>(text_[i]));
  return {line, units};
}

std::uint32_t LineIndex::offset(Position p) const {
  if (p.line >= lineStarts_.size()) return static_cast<std::uint32_t>(text_.size());
  std::uint32_t i = lineStarts_[p.line];
  std::uint32_t lineEnd = p.line + 1 < lineStarts_.size()
                              ? lineStarts_[p.line + 1] - 1
                              : static_cast<std::uint32_t>(text_.size());
  std::uint32_t units = 0;
  while (i < lineEnd) {
    std::uint32_t u = utf16Units(static_cast<unsigned char>(text_[i]));
    if (u && units + u > p.character) break;
    units += u;
    ++i;
  }
  // Never stop inside a multi-byte sequence.
  while (i < lineEnd && utf16Units(static_cast<unsigned char>(text_[i])) == 0) ++i;
  return i;
}

nlohmann::json toJson(Position p) {
  return {{"line", p.line}, {"character", p.character}};
}

nlohmann::json rangeJson(const LineIndex& index, std::uint32_t begin, std::uint32_t end) {
  return {{"start", toJson(index.position(begin))}, {"end", toJson(index.position(end))}};
}

Position positionFromJson(const nlohmann::json& j) {
  return {j.at("line").get<std::uint32_t>(), j.at("character").get<std::uint32_t>()};
}

} // namespace flo::lsp
