/// \file
/// Diagnostics: rendering with caret, notes, warning flags, -Werror, JSON, error limit.
#include "lang/diagnostics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>

namespace flo::lang {
namespace {

TEST(Diagnostics, RendersLocationLineAndCaret) {
  SourceManager sm;
  FileId id = sm.addBuffer("m.flo", "house h\n  go nowhere\n");
  Diagnostics d(sm);
  d.error({id, 13, 20}, "no frame named 'nowhere'");
  d.note({}, "did you mean 'north'?");
  std::ostringstream out;
  d.renderText(out);
  EXPECT_EQ(out.str(), "m.flo:2:6: error: no frame named 'nowhere'\n"
                       "  go nowhere\n"
                       "     ^~~~~~~\n"
                       "note: did you mean 'north'?\n");
  EXPECT_EQ(d.errorCount(), 1u);
}

TEST(Diagnostics, CaretFollowsTabs) {
  SourceManager sm;
  FileId id = sm.addBuffer("t.flo", "\tput x\n");
  Diagnostics d(sm);
  d.error({id, 5, 6}, "bad");
  std::ostringstream out;
  d.renderText(out);
  EXPECT_NE(out.str().find("\n\tput x\n\t    ^\n"), std::string::npos) << out.str();
}

TEST(Diagnostics, WarningsAreNamedAndSwitchable) {
  SourceManager sm;
  FileId id = sm.addBuffer("w.flo", "init .x to 1\n");
  Diagnostics d(sm);
  ASSERT_NE(d.warning(Warning::Deprecated, {id, 8, 10}, "old form"), nullptr);
  std::ostringstream out;
  d.renderText(out);
  EXPECT_NE(out.str().find("warning: old form [-Wdeprecated]"), std::string::npos);

  EXPECT_TRUE(d.applyFlag("-Wno-deprecated"));
  EXPECT_EQ(d.warning(Warning::Deprecated, {id, 8, 10}, "old form"), nullptr);
  d.note({}, "dropped with its warning");
  EXPECT_EQ(d.all().back().notes.size(), 0u);
  EXPECT_FALSE(d.applyFlag("-Wno-such-warning"));
}

TEST(Diagnostics, WerrorPromotesWarnings) {
  SourceManager sm;
  FileId id = sm.addBuffer("w.flo", "x\n");
  Diagnostics d(sm);
  EXPECT_TRUE(d.applyFlag("-Werror"));
  d.warning(Warning::Duplicate, {id, 0, 1}, "twice");
  EXPECT_TRUE(d.hasErrors());
  std::ostringstream out;
  d.renderText(out);
  EXPECT_NE(out.str().find("error: twice [-Wduplicate]"), std::string::npos);
}

TEST(Diagnostics, JsonHasLocationsAndValidUtf8) {
  SourceManager sm;
  FileId id = sm.addBuffer("j.flo", "go \xFF\n");
  Diagnostics d(sm);
  d.error({id, 3, 4}, "bad byte \xFF here");
  std::ostringstream out;
  d.renderJson(out);
  auto doc = nlohmann::json::parse(out.str());
  ASSERT_EQ(doc["diagnostics"].size(), 1u);
  auto diag = doc["diagnostics"][0];
  EXPECT_EQ(diag["severity"], "error");
  EXPECT_EQ(diag["location"]["line"], 1);
  EXPECT_EQ(diag["location"]["column"], 4);
  EXPECT_EQ(doc["errors"], 1);
}

TEST(Diagnostics, ErrorLimitStopsRecording) {
  SourceManager sm;
  FileId id = sm.addBuffer("l.flo", "x\n");
  Diagnostics d(sm);
  d.setErrorLimit(2);
  for (int i = 0; i < 5; ++i) d.error({id, 0, 1}, "e" + std::to_string(i));
  EXPECT_EQ(d.all().size(), 2u);
  EXPECT_TRUE(d.limitReached());
  std::ostringstream out;
  d.renderText(out);
  EXPECT_NE(out.str().find("too many errors"), std::string::npos);
}

TEST(Diagnostics, ClosestMatchSuggestsOnlyNearWords) {
  std::vector<std::string> verbs = {"frame", "framer", "print", "put"};
  EXPECT_EQ(closestMatch("fram", verbs).value_or(""), "frame");
  EXPECT_EQ(closestMatch("prnt", verbs).value_or(""), "print");
  EXPECT_FALSE(closestMatch("zzzzzz", verbs));
  EXPECT_FALSE(closestMatch("pu", verbs)); // too short to guess
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

} // namespace
} // namespace flo::lang
