/// \file
/// SourceManager: loading, errors, line/column mapping, UTF-8 validation.
#include "lang/source_manager.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace flo::lang {
namespace {

namespace fs = std::filesystem;

fs::path tempDir() {
  fs::path dir = fs::temp_directory_path() / ("flo_sm_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

TEST(SourceManager, LineColumnMappingAcrossLineEndings) {
  SourceManager sm;
  FileId id = sm.addBuffer("t.flo", "ab\ncd\r\nef\rgh");
  EXPECT_EQ(sm.lineCount(id), 4u);
  EXPECT_EQ(sm.lineCol(id, 0).line, 1u);
  EXPECT_EQ(sm.lineCol(id, 1).column, 2u);
  EXPECT_EQ(sm.lineCol(id, 3).line, 2u);
  EXPECT_EQ(sm.lineCol(id, 3).column, 1u);
  EXPECT_EQ(sm.lineCol(id, 7).line, 3u);
  EXPECT_EQ(sm.lineCol(id, 10).line, 4u);
  EXPECT_EQ(sm.lineText(id, 2), "cd");
  EXPECT_EQ(sm.lineText(id, 3), "ef");
  EXPECT_EQ(sm.lineText(id, 4), "gh");
  EXPECT_EQ(sm.lineText(id, 9), "");
}

TEST(SourceManager, MissingFileAndDirectoryAreErrors) {
  SourceManager sm;
  std::string error;
  EXPECT_FALSE(sm.loadFile("/nonexistent/x.flo", error));
  EXPECT_EQ(error, "no such file");
  EXPECT_FALSE(sm.loadFile(tempDir(), error));
  EXPECT_NE(error.find("directory"), std::string::npos);
}

TEST(SourceManager, SameFileLoadsOnce) {
  fs::path file = tempDir() / "same.flo";
  std::ofstream(file) << "house h\n";
  SourceManager sm;
  std::string error;
  auto a = sm.loadFile(file, error);
  auto b = sm.loadFile(file.parent_path() / "." / "same.flo", error);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(sm.text(*a), "house h\n");
}

TEST(SourceManager, FindsInvalidUtf8) {
  EXPECT_FALSE(findInvalidUtf8("plain ascii"));
  EXPECT_FALSE(findInvalidUtf8("caf\xC3\xA9 \xF0\x9F\x98\x80"));
  EXPECT_EQ(findInvalidUtf8("ab\xFF"), 2u);
  EXPECT_EQ(findInvalidUtf8("a\xC3"), 1u);         // truncated sequence
  EXPECT_EQ(findInvalidUtf8("\xC0\xAF"), 0u);      // overlong
  EXPECT_EQ(findInvalidUtf8("x\xED\xA0\x80"), 1u); // surrogate
}

TEST(SourceRange, MergeCoversBoth) {
  SourceRange a{1, 5, 8}, b{1, 2, 6};
  SourceRange m = a.merge(b);
  EXPECT_EQ(m.begin, 2u);
  EXPECT_EQ(m.end, 8u);
  SourceRange other{2, 0, 1};
  EXPECT_EQ(a.merge(other).begin, 5u);
}

} // namespace
} // namespace flo::lang
