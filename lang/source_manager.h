/// \file
/// The source manager owns the text of every file the front end reads and maps byte offsets to
/// lines and columns. Files are identified by a small integer; ranges are byte offsets, so every
/// AST node can carry a location without holding a pointer into a buffer.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flo::lang {

using FileId = std::uint32_t;
inline constexpr FileId kNoFile = 0;

/// A half-open byte range [begin, end) in one file. An empty range is a point.
struct SourceRange {
  FileId file = kNoFile;
  std::uint32_t begin = 0;
  std::uint32_t end = 0;

  bool valid() const { return file != kNoFile; }
  /// The smallest range covering both (they must be in the same file; otherwise `*this`).
  SourceRange merge(const SourceRange& other) const;
};

/// A 1-based line and a 1-based column counted in bytes (as clang and GCC do).
struct LineCol {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};

class SourceManager {
public:
  SourceManager();
  ~SourceManager();
  SourceManager(const SourceManager&) = delete;
  SourceManager& operator=(const SourceManager&) = delete;

  /// Reads a file. Returns its id, or nullopt with a message in `error` ("no such file",
  /// "is a directory", "too large"). The same canonical path read twice gives the same id.
  std::optional<FileId> loadFile(const std::filesystem::path& path, std::string& error);

  /// Adds text that did not come from disk (stdin, tests, the fuzzer). With a `path` (an
  /// editor's unsaved buffer of that file), `load` resolves against the path's directory and a
  /// file that loads `path` gets this text instead of the disk's.
  FileId addBuffer(std::string name, std::string text, const std::filesystem::path& path = {});

  std::string_view text(FileId file) const;
  /// The name as given by the user (used in diagnostics).
  const std::string& name(FileId file) const;
  /// The canonical absolute path, empty for buffers.
  const std::filesystem::path& path(FileId file) const;
  std::size_t fileCount() const;

  LineCol lineCol(FileId file, std::uint32_t offset) const;
  std::uint32_t lineCount(FileId file) const;
  /// The text of a 1-based line without its line terminator.
  std::string_view lineText(FileId file, std::uint32_t line) const;
  /// Byte offset where a 1-based line starts.
  std::uint32_t lineStart(FileId file, std::uint32_t line) const;

  /// Largest file accepted (offsets are 32-bit).
  static constexpr std::uint64_t kMaxFileSize = 1ull << 31;

private:
  struct File;
  const File& file(FileId id) const;
  std::vector<std::unique_ptr<File>> files_;
};

/// Returns the offset of the first byte that is not part of valid UTF-8, or nullopt.
std::optional<std::size_t> findInvalidUtf8(std::string_view text);

} // namespace flo::lang
