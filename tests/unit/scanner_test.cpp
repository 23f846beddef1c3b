/// \file
/// The hand-written scanner must produce exactly the tokens of the ANTLR lexer generated from
/// FloLexer.g4 (the specification): same types, offsets, channels, lines and columns. Checked on
/// every golden file, example and fuzz seed, on tricky snippets, and on random text.
#include "lang/scanner.h"
#include "lang/token_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "FloLexer.h"

namespace flo::lang {
namespace {

struct Tok {
  std::size_t type, start, stop, channel, line, column;
  bool operator==(const Tok&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Tok& t) {
  return out << "{type " << t.type << " [" << t.start << "," << t.stop << "] ch " << t.channel
             << " " << t.line << ":" << t.column << "}";
}

std::vector<Tok> drain(antlr4::TokenSource& source) {
  std::vector<Tok> out;
  for (;;) {
    auto t = source.nextToken();
    out.push_back({t->getType(), t->getStartIndex(), t->getStopIndex(), t->getChannel(),
                   t->getLine(), t->getCharPositionInLine()});
    if (t->getType() == antlr4::Token::EOF) break;
  }
  return out;
}

class CountErrors : public antlr4::BaseErrorListener {
public:
  void syntaxError(antlr4::Recognizer*, antlr4::Token*, std::size_t, std::size_t,
                   const std::string&, std::exception_ptr) override {
    ++count;
  }
  int count = 0;
};

void expectSameTokens(const std::string& text, const std::string& what) {
  ByteCharStream a(text, "a"), b(text, "b");
  grammar::FloLexer lexer(&a);
  lexer.removeErrorListeners();
  CountErrors lexerErrors;
  lexer.addErrorListener(&lexerErrors);
  Scanner scanner(text, &b);
  int scannerErrors = 0;
  scanner.setErrorHandler([&](std::size_t, std::size_t) { ++scannerErrors; });
  auto expected = drain(lexer);
  auto actual = drain(scanner);
  ASSERT_EQ(expected.size(), actual.size()) << what;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    // ANTLR leaves EOF's stop at start-1 and its column wherever the last line ended.
    if (expected[i].type == antlr4::Token::EOF) {
      EXPECT_EQ(actual[i].type, expected[i].type) << what;
      EXPECT_EQ(actual[i].start, expected[i].start) << what;
      continue;
    }
    ASSERT_EQ(expected[i], actual[i]) << what << " token " << i;
  }
  EXPECT_EQ(lexerErrors.count, scannerErrors) << what;
}

TEST(Scanner, MatchesLexerOnTrickySnippets) {
  const char* snippets[] = {
      "house h\nframer f be active\n",
      "put 1e5 0x1F 0b11 0o17 1_000 -1.5 +2 .5 1. 1.e5 -inf +NaN +Infinity into .x\n",
      "put 1.5x2y -1n2.5e 1f2s3b 1x2y3 40N30.5 111w45.2 1e5.0 into .p\n",
      ".a.b .a. a.b a. a.b.* .room.*.temp _x x_1 Go go gox\n",
      "print x\"y\"z 'a b' \"unterminated\nprint 'also\n",
      "a#b # comment \\\n still comment\nnext\n",
      "# backslash at end \\",
      "print a \\\nb\\\r\nc\r\nd\re\n",
      "let o = (a + b) * c[1], f(x, y) % 2 == 3 != 4 <= 5 >= 6 < 7 > 8 +- 9 = -\n",
      "a\\ b \\x \\\\ end\\",
      "\\\r",
      "\t\f\v x\t\ty  \n\n\n",
      "\xFF\xFE bytes \x80 and \xC3\xA9\n",
      "",
      "\n",
      "#",
      "\"",
      "'",
      "(",
      "\\",
  };
  for (const char* s : snippets) expectSameTokens(s, std::string("snippet: ") + s);
}

TEST(Scanner, MatchesLexerOnEveryCheckedInFile) {
  namespace fs = std::filesystem;
  fs::path root = fs::path(FLO_SOURCE_DIR);
  std::size_t files = 0;
  for (const char* dir :
       {"tests/golden/check", "tests/golden/check/inputs", "examples", "tests/fuzz/corpus"}) {
    if (!fs::exists(root / dir)) continue;
    for (const auto& entry : fs::directory_iterator(root / dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream buf;
      buf << in.rdbuf();
      expectSameTokens(buf.str(), entry.path().string());
      ++files;
    }
  }
  EXPECT_GT(files, 20u);
}

TEST(Scanner, MatchesLexerOnRandomText) {
  // Text built from the characters that matter to the rules, bounded in count and size.
  const std::string alphabet = " \t\n\r\\#\"'()[],.+-*/%=<>!_0123456789abefinoxyzNEWSX";
  std::mt19937 rng(20261124);
  const int kRounds =
      std::getenv("FLO_SCANNER_ROUNDS") ? std::atoi(std::getenv("FLO_SCANNER_ROUNDS")) : 3000;
  for (int round = 0; round < kRounds; ++round) {
    std::string text;
    std::size_t len = rng() % (round % 10 == 0 ? 400 : 40);
    for (std::size_t i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    expectSameTokens(text, "random: " + text);
    if (HasFatalFailure()) return;
  }
}

TEST(Scanner, ClassifiesWordsLikeTheGrammar) {
  using L = grammar::FloLexer;
  EXPECT_EQ(Scanner::classifyWord("into"), std::size_t(L::INTO));
  EXPECT_EQ(Scanner::classifyWord("+-"), std::size_t(L::PLUSMINUS));
  EXPECT_EQ(Scanner::classifyWord("1e5"), std::size_t(L::NUMBER));
  EXPECT_EQ(Scanner::classifyWord("1e5.0"), std::size_t(L::COORD));
  EXPECT_EQ(Scanner::classifyWord("1.5x2y"), std::size_t(L::POINT));
  EXPECT_EQ(Scanner::classifyWord(".a.b"), std::size_t(L::DOTPATH));
  EXPECT_EQ(Scanner::classifyWord("a.b."), std::size_t(L::RELPATH));
  EXPECT_EQ(Scanner::classifyWord("abc"), std::size_t(L::ID));
  EXPECT_EQ(Scanner::classifyWord("12ab"), std::size_t(L::CHUNK));
}

} // namespace
} // namespace flo::lang
