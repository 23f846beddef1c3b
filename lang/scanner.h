/// \file
/// Internal to lang/: a hand-written scanner that produces exactly the tokens FloLexer.g4
/// specifies, several times faster than ANTLR's lexer simulator. FloScript's word rules are
/// simple (a word is a run of characters between blanks, brackets and quotes; its kind is the
/// first rule that matches all of it), so the grammar stays the specification and the tests
/// compare the two token streams on every golden file and on fuzzed input.
#pragma once

#include <antlr4-runtime.h>

#include <string_view>

namespace flo::lang {

/// A CommonToken whose storage is recycled: a parse makes and frees a declaration's tokens one
/// declaration at a time, so a small per-thread free list serves nearly every token after the
/// first declarations instead of malloc and free (one pair per token). The list keeps at most
/// kKept blocks; the rest go back to the heap.
class PooledToken : public antlr4::CommonToken {
public:
  using antlr4::CommonToken::CommonToken;

  static constexpr std::size_t kKept = 4096;
  static void* operator new(std::size_t size);
  static void operator delete(void* block, std::size_t size);
};

class Scanner : public antlr4::TokenSource {
public:
  /// `input` must be the ByteCharStream over `text` (tokens read their text from it).
  Scanner(std::string_view text, antlr4::CharStream* input);

  std::unique_ptr<antlr4::Token> nextToken() override;
  std::size_t getLine() const override { return line_; }
  std::size_t getCharPositionInLine() override { return pos_ - lineStart_; }
  antlr4::CharStream* getInputStream() override { return input_; }
  std::string getSourceName() override { return input_->getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override;

  /// Called for a character no rule accepts (a lone backslash before a bare carriage return or
  /// at end of file); the scanner skips it. Offsets are bytes.
  using ErrorHandler = std::function<void(std::size_t begin, std::size_t end)>;
  void setErrorHandler(ErrorHandler handler) { onError_ = std::move(handler); }

  /// The token type FloLexer gives a whole word (keyword, number, point, path, name or chunk).
  static std::size_t classifyWord(std::string_view word);

private:
  std::unique_ptr<antlr4::Token> make(std::size_t type, std::size_t start, std::size_t stop,
                                      std::size_t channel, std::size_t line, std::size_t column);
  void newline(std::size_t next) {
    ++line_;
    lineStart_ = next;
  }

  std::string_view text_;
  antlr4::CharStream* input_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::size_t lineStart_ = 0;
  ErrorHandler onError_;
};

} // namespace flo::lang
