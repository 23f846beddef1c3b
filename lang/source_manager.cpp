/// \file
/// Implementation of SourceManager: file loading with clear errors and lazy line tables.
#include "lang/source_manager.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <fstream>
#include <system_error>

namespace flo::lang {

SourceRange SourceRange::merge(const SourceRange& other) const {
  if (!other.valid() || other.file != file) return *this;
  if (!valid()) return other;
  return {file, std::min(begin, other.begin), std::max(end, other.end)};
}

struct SourceManager::File {
  std::string name;
  std::filesystem::path path;
  std::string text;
  mutable std::vector<std::uint32_t> lineStarts; // computed on first use

  const std::vector<std::uint32_t>& lines() const {
    if (lineStarts.empty()) {
      lineStarts.push_back(0);
      if (std::memchr(text.data(), '\r', text.size()) == nullptr) {
        // Lines end at '\n' only: found by memchr, many bytes a step.
        const char* begin = text.data();
        const char* end = begin + text.size();
        for (const char* p = begin; (p = static_cast<const char*>(std::memchr(p, '\n', end - p)));)
          lineStarts.push_back(std::uint32_t(++p - begin));
        return lineStarts;
      }
      for (std::uint32_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') {
          lineStarts.push_back(i + 1);
        } else if (c == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) {
          lineStarts.push_back(i + 1);
        }
      }
    }
    return lineStarts;
  }
};

SourceManager::SourceManager() = default;
SourceManager::~SourceManager() = default;

std::optional<FileId> SourceManager::loadFile(const std::filesystem::path& path,
                                              std::string& error) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    error = "no such file";
    return std::nullopt;
  }
  if (std::filesystem::is_directory(status)) {
    error = "is a directory, not a file";
    return std::nullopt;
  }
  auto canonical = std::filesystem::weakly_canonical(path, ec);
  if (ec) canonical = path;
  for (std::size_t i = 0; i < files_.size(); ++i) {
    if (!files_[i]->path.empty() && files_[i]->path == canonical) return FileId(i + 1);
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = "cannot be opened for reading";
    return std::nullopt;
  }
  std::string text;
  in.seekg(0, std::ios::end);
  auto size = in.tellg();
  if (size > 0) {
    if (static_cast<std::uint64_t>(size) >= kMaxFileSize) {
      error = "is too large (limit 2 GiB)";
      return std::nullopt;
    }
    text.resize(static_cast<std::size_t>(size));
    in.seekg(0);
    in.read(text.data(), size);
    if (!in) {
      error = "could not be read";
      return std::nullopt;
    }
  } else {
    // Not seekable (a pipe or a special file): read what there is, up to the limit.
    in.clear();
    in.seekg(0);
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
      text.append(buf, static_cast<std::size_t>(in.gcount()));
      if (text.size() >= kMaxFileSize) {
        error = "is too large (limit 2 GiB)";
        return std::nullopt;
      }
    }
  }
  auto file = std::make_unique<File>();
  file->name = path.string();
  file->path = canonical;
  file->text = std::move(text);
  files_.push_back(std::move(file));
  return FileId(files_.size());
}

FileId SourceManager::addBuffer(std::string name, std::string text,
                                const std::filesystem::path& path) {
  assert(text.size() < kMaxFileSize);
  auto file = std::make_unique<File>();
  file->name = std::move(name);
  file->text = std::move(text);
  if (!path.empty()) {
    std::error_code ec;
    file->path = std::filesystem::weakly_canonical(path, ec);
    if (ec) file->path = path;
  }
  files_.push_back(std::move(file));
  return FileId(files_.size());
}

const SourceManager::File& SourceManager::file(FileId id) const {
  assert(id != kNoFile && id <= files_.size());
  return *files_[id - 1];
}

std::string_view SourceManager::text(FileId id) const {
  return file(id).text;
}
const std::string& SourceManager::name(FileId id) const {
  return file(id).name;
}
const std::filesystem::path& SourceManager::path(FileId id) const {
  return file(id).path;
}
std::size_t SourceManager::fileCount() const {
  return files_.size();
}

LineCol SourceManager::lineCol(FileId id, std::uint32_t offset) const {
  const auto& starts = file(id).lines();
  auto it = std::upper_bound(starts.begin(), starts.end(), offset);
  auto line = static_cast<std::uint32_t>(it - starts.begin());
  return {line, offset - starts[line - 1] + 1};
}

std::uint32_t SourceManager::lineCount(FileId id) const {
  return static_cast<std::uint32_t>(file(id).lines().size());
}

std::uint32_t SourceManager::lineStart(FileId id, std::uint32_t line) const {
  const auto& starts = file(id).lines();
  assert(line >= 1 && line <= starts.size());
  return starts[line - 1];
}

std::string_view SourceManager::lineText(FileId id, std::uint32_t line) const {
  const File& f = file(id);
  const auto& starts = f.lines();
  if (line < 1 || line > starts.size()) return {};
  std::uint32_t begin = starts[line - 1];
  std::uint32_t end = line < starts.size() ? starts[line] : std::uint32_t(f.text.size());
  std::string_view view(f.text.data() + begin, end - begin);
  while (!view.empty() && (view.back() == '\n' || view.back() == '\r')) view.remove_suffix(1);
  return view;
}

std::optional<std::size_t> findInvalidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    // ASCII, eight bytes a step.
    std::uint64_t eight;
    if (i + 8 <= n && (std::memcpy(&eight, s + i, 8), (eight & 0x8080808080808080u) == 0)) {
      i += 8;
      continue;
    }
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    std::uint32_t min;
    std::uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    } else {
      return i;
    }
    if (i + len > n) return i;
    for (std::size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::nullopt;
}

} // namespace flo::lang
