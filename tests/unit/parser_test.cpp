/// \file
/// Parser and AST builder: FloScript's lexical rules, continuation, print text, load handling,
/// and bad input of every kind.
#include "lang/format.h"
#include "lang/parser.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace flo::lang {
namespace {

struct Parsed {
  SourceManager sm;
  std::unique_ptr<Diagnostics> diags;
  std::unique_ptr<Program> program;
  const Module& root() const { return *program->root; }
  std::string errors() const {
    std::ostringstream out;
    diags->renderText(out);
    return out.str();
  }
};

std::unique_ptr<Parsed> parse(std::string text, ParseOptions options = {}) {
  auto p = std::make_unique<Parsed>();
  p->diags = std::make_unique<Diagnostics>(p->sm);
  FileId id = p->sm.addBuffer("t.flo", std::move(text));
  p->program = parseProgram(p->sm, id, *p->diags, options);
  return p;
}

TEST(Parser, OneStatementPerDeclaration) {
  auto p = parse("house h\n\n  # comment\nframer f be active\n  frame a\n    print hi\n");
  EXPECT_FALSE(p->diags->hasErrors()) << p->errors();
  ASSERT_EQ(p->root().stmts.size(), 4u);
  EXPECT_EQ(p->root().stmts[0]->kind, StmtKind::House);
  EXPECT_EQ(p->root().stmts[3]->kind, StmtKind::Print);
}

TEST(Parser, ConnectiveContinuationJoinsLines) {
  auto p = parse("go next\n   if .x >= 2\n   # note\n\n   and .y < 3\nprint hello\n  and more\n");
  ASSERT_FALSE(p->diags->hasErrors()) << p->errors();
  ASSERT_EQ(p->root().stmts.size(), 2u);
  const auto& go = as<GoStmt>(*p->root().stmts[0]);
  EXPECT_EQ(go.needs.size(), 2u);
  EXPECT_EQ(as<PrintStmt>(*p->root().stmts[1]).message, "hello and more");
}

TEST(Parser, LoadIsNeverContinued) {
  auto p = parse("load x.flo\nas y\n", {.followLoads = false});
  EXPECT_TRUE(p->diags->hasErrors());
  EXPECT_NE(p->errors().find("cannot start with 'as'"), std::string::npos) << p->errors();
}

TEST(Parser, BackslashJoinsLines) {
  auto p = parse("print a \\\nb\nprint c\\\nd\n");
  ASSERT_FALSE(p->diags->hasErrors()) << p->errors();
  EXPECT_EQ(as<PrintStmt>(*p->root().stmts[0]).message, "a b");
  EXPECT_EQ(as<PrintStmt>(*p->root().stmts[1]).message, "c d");
}

TEST(Parser, PrintKeepsTokensVerbatim) {
  // FLOSCRIPT.md §12.1
  auto p = parse("print 1.0 1e5 0x10 true None\nprint  \"a  b\"  'c'\nprint a#b # note\nprint\n"
                 "print x\"y\"z\nprint Hello, World!\n");
  ASSERT_FALSE(p->diags->hasErrors()) << p->errors();
  const auto& s = p->root().stmts;
  EXPECT_EQ(as<PrintStmt>(*s[0]).message, "1.0 1e5 0x10 true None");
  EXPECT_EQ(as<PrintStmt>(*s[1]).message, "\"a  b\" 'c'");
  EXPECT_EQ(as<PrintStmt>(*s[2]).message, "a#b");
  EXPECT_EQ(as<PrintStmt>(*s[3]).message, "");
  EXPECT_EQ(as<PrintStmt>(*s[4]).message, "x \"y\" z");
  EXPECT_EQ(as<PrintStmt>(*s[5]).message, "Hello, World!");
}

TEST(Parser, WordKinds) {
  auto p = parse("put 1e5 into .a\nput 1.5x2y into .b\nput 40N30.5 into .c\nput \"s\" into .d\n"
                 "put 10s into .e\nput a.b into .f\n");
  ASSERT_FALSE(p->diags->hasErrors()) << p->errors();
  auto kind = [&](std::size_t i) { return as<DataStmt>(*p->root().stmts[i]).data.words[0].kind; };
  EXPECT_EQ(kind(0), WordKind::Number);
  EXPECT_EQ(kind(1), WordKind::Point);
  EXPECT_EQ(kind(2), WordKind::Coord);
  EXPECT_EQ(kind(3), WordKind::String);
  EXPECT_EQ(kind(4), WordKind::Chunk);
  EXPECT_EQ(kind(5), WordKind::RelPath);
}

TEST(Parser, OddDataIsLocatedError) {
  auto p = parse("put 1 2 3 into .x\n");
  EXPECT_TRUE(p->diags->hasErrors());
  EXPECT_NE(p->errors().find("t.flo:1:9: error: odd number of data words"), std::string::npos)
      << p->errors();
}

TEST(Parser, AllErrorsReportedOnePerDeclaration) {
  auto p = parse("put into .x\ngo\nframer\nhouse ok\nfoo bar\n");
  EXPECT_EQ(p->diags->errorCount(), 4u) << p->errors();
  EXPECT_EQ(p->root().stmts.size(), 1u); // house ok
  EXPECT_NE(p->errors().find("unknown verb 'foo'"), std::string::npos);
  EXPECT_NE(p->errors().find("note: usage: go "), std::string::npos);
}

TEST(Parser, UnknownVerbSuggestions) {
  auto p = parse("Go next\ntasker t\nfram x\n");
  std::string e = p->errors();
  EXPECT_NE(e.find("verbs are lower case: did you mean 'go'?"), std::string::npos) << e;
  EXPECT_NE(e.find("`tasker` is no longer a FloScript verb"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'frame'?"), std::string::npos) << e;
}

TEST(Parser, UnterminatedStringIsOneError) {
  auto p = parse("print \"abc\nput 'x into .y\n");
  EXPECT_EQ(p->diags->errorCount(), 2u) << p->errors();
  EXPECT_NE(p->errors().find("unterminated string"), std::string::npos);
}

TEST(Parser, DeepExpressionNestingIsBounded) {
  std::string deep = "deed d\n  output o as f64\n  let o = " + std::string(100000, '(') + "1" +
                     std::string(100000, ')') + "\n";
  auto p = parse(deep);
  EXPECT_EQ(p->diags->errorCount(), 1u);
  EXPECT_NE(p->errors().find("expression too complex"), std::string::npos);
  std::string longChain = "deed d\n  output o as f64\n  let o = 1";
  for (int i = 0; i < 50000; ++i) longChain += " + 1";
  auto q = parse(longChain + "\n");
  EXPECT_EQ(q->diags->errorCount(), 1u);
}

TEST(Parser, GarbageNeverThrows) {
  std::string garbage;
  for (int i = 0; i < 20000; ++i) garbage += char((i * 7919 + 13) % 256);
  auto p = parse(garbage);
  EXPECT_TRUE(p->diags->hasErrors());
  EXPECT_NE(p->errors().find("invalid UTF-8"), std::string::npos);
}

TEST(Parser, LoadFollowsRelativePathsAndReportsCycles) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("flo_load_" + std::to_string(::getpid()));
  fs::create_directories(dir / "sub");
  std::ofstream(dir / "main.flo") << "house h\nload sub/a.flo\n";
  std::ofstream(dir / "sub" / "a.flo") << "framer f\nload b.flo\n";
  std::ofstream(dir / "sub" / "b.flo") << "load a.flo\nload missing.flo\nload .\n";
  SourceManager sm;
  Diagnostics d(sm);
  std::string error;
  auto id = sm.loadFile(dir / "main.flo", error);
  ASSERT_TRUE(id);
  auto program = parseProgram(sm, *id, d);
  std::ostringstream out;
  d.renderText(out);
  EXPECT_EQ(program->modules.size(), 3u);
  EXPECT_NE(out.str().find("`load` cycle"), std::string::npos) << out.str();
  EXPECT_NE(out.str().find("note: loaded from here"), std::string::npos);
  EXPECT_NE(out.str().find("cannot load 'missing.flo': no such file"), std::string::npos);
  EXPECT_NE(out.str().find("is a directory"), std::string::npos);
  EXPECT_EQ(d.errorCount(), 3u);
}

TEST(Format, CanonicalAndIdempotent) {
  const char* text = "house h # top\n"
                     "   framer f be active\n"
                     "frame a\n"
                     "enter\n"
                     "put 1 into .x\n"
                     "go b if .x == 1\n"
                     "   and elapsed >= 2\n\n\n"
                     "      frame b in a\n";
  ParseOptions po;
  po.keepComments = true;
  auto p = parse(text, po);
  ASSERT_FALSE(p->diags->hasErrors()) << p->errors();
  std::ostringstream once;
  formatModule(p->root(), p->sm, once);
  EXPECT_EQ(once.str(), "house h  # top\n"
                        "  framer f be active\n"
                        "    frame a\n"
                        "      enter\n"
                        "        put 1 into .x\n"
                        "      go b if .x == 1 and elapsed >= 2\n"
                        "\n"
                        "    frame b in a\n");
  auto q = parse(once.str(), po);
  std::ostringstream twice;
  formatModule(q->root(), q->sm, twice);
  EXPECT_EQ(once.str(), twice.str());
}

// Transitions, `let`, `aux` and `do ... at` keep their own context: a context verb above does
// not own them, so they stand at the frame's body level, and the acts after them that the verb
// does own stay under it (issue 15).
TEST(Format, OwnContextActsAtBodyLevel) {
  const char* text = "house h\n"
                     "framer f be active\n"
                     "frame a\n"
                     "enter\n"
                     "put 1 into .x\n"
                     "go b if .x == 1\n"
                     "timeout 2\n"
                     "repeat 3\n"
                     "let me if .x\n"
                     "aux g\n"
                     "do doer at exit\n"
                     "do doer\n"
                     "print in_enter\n"
                     "frame b\n"
                     "framer g be aux\n"
                     "frame c\n";
  auto p = parse(text);
  ASSERT_FALSE(p->diags->hasErrors()) << p->errors();
  std::ostringstream out;
  formatModule(p->root(), p->sm, out);
  EXPECT_EQ(out.str(), "house h\n"
                       "  framer f be active\n"
                       "    frame a\n"
                       "      enter\n"
                       "        put 1 into .x\n"
                       "      go b if .x == 1\n"
                       "      timeout 2\n"
                       "      repeat 3\n"
                       "      let me if .x\n"
                       "      aux g\n"
                       "      do doer at exit\n"
                       "        do doer\n"
                       "        print in_enter\n"
                       "    frame b\n"
                       "  framer g be aux\n"
                       "    frame c\n");
}

} // namespace
} // namespace flo::lang
