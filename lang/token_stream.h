/// \file
/// Internal to lang/: the byte-level character stream fed to the ANTLR lexer, and the token filter
/// that implements FloScript's line structure (blank lines, comments, connective continuation).
#pragma once

#include "lang/ast.h"
#include "lang/diagnostics.h"

#include <antlr4-runtime.h>

#include <deque>
#include <string_view>
#include <unordered_set>

namespace flo::lang {

/// Feeds bytes to the lexer one per symbol, so token indices are byte offsets and malformed
/// UTF-8 can never throw inside ANTLR (the parser reports it separately).
class ByteCharStream : public antlr4::CharStream {
public:
  ByteCharStream(std::string_view data, std::string name) : data_(data), name_(std::move(name)) {}

  void consume() override;
  std::size_t LA(ssize_t i) override;
  ssize_t mark() override { return -1; }
  void release(ssize_t) override {}
  std::size_t index() override { return pos_; }
  void seek(std::size_t index) override { pos_ = std::min(index, data_.size()); }
  std::size_t size() override { return data_.size(); }
  std::string getSourceName() const override { return name_; }
  std::string getText(const antlr4::misc::Interval& interval) override;
  std::string toString() const override { return std::string(data_); }

private:
  std::string_view data_;
  std::string name_;
  std::size_t pos_ = 0;
};

/// Sits between the scanner and the parser:
/// - drops blank lines and comments (optionally recording comments for the formatter);
/// - joins a line that starts with a reserved word (connective or comparison) to the declaration
///   above it, except after `load` (FLOSCRIPT.md §2);
/// - reports unterminated strings and passes them on as strings, so one mistake is one error;
/// - bounds the nesting of extension expressions, so deep input cannot exhaust the stack, and
///   the length of declarations, names and paths (docs/language.md, "Limits").
class TokenFilter : public antlr4::TokenSource {
public:
  static constexpr int kMaxNesting = 200;

  /// Declarations longer than this many words are reported and dropped: memory per
  /// declaration stays bounded (a parse holds all tokens of the declaration it is in).
  static constexpr std::size_t kMaxDeclarationTokens = 100000;

  /// Names and share paths longer than this are reported and their declaration dropped: the
  /// checker and lowering look up every prefix of a path (linux's PATH_MAX is 4096).
  static constexpr std::uint32_t kMaxWordLength = 1024;

  TokenFilter(antlr4::TokenSource& source, FileId file, Diagnostics& diags,
              std::vector<Comment>* comments);

  std::unique_ptr<antlr4::Token> nextToken() override;
  std::size_t getLine() const override { return source_.getLine(); }
  std::size_t getCharPositionInLine() override { return source_.getCharPositionInLine(); }
  antlr4::CharStream* getInputStream() override { return source_.getInputStream(); }
  std::string getSourceName() override { return source_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override {
    return source_.getTokenFactory();
  }

  /// True when the declaration starting at this byte offset was cut short (and reported).
  bool poisoned(std::uint32_t statementStart) const { return poisoned_.count(statementStart) != 0; }

private:
  std::unique_ptr<antlr4::Token> pull();
  /// The next token, from the look-ahead buffer first.
  std::unique_ptr<antlr4::Token> takeNext();
  std::unique_ptr<antlr4::Token> makeNewline(const antlr4::Token& at);
  /// Reports nothing itself: drops the rest of the current declaration and ends it at `at`.
  std::unique_ptr<antlr4::Token> cutDeclaration(const antlr4::Token& at);
  /// In an expression: a word with operators in it becomes its pieces (the first in `t`, the
  /// rest queued ahead).
  void splitExpressionWord(std::unique_ptr<antlr4::Token>& t);

  antlr4::TokenSource& source_;
  FileId file_;
  Diagnostics& diags_;
  std::vector<Comment>* comments_;
  std::deque<std::unique_ptr<antlr4::Token>> ahead_;
  bool atStatementStart_ = true;
  std::size_t statementVerb_ = 0;
  std::uint32_t statementStart_ = 0;
  int nesting_ = 0;
  bool inExpression_ = false; ///< past the start of the declaration's expression
  std::size_t statementTokens_ = 0;
  std::size_t lastTokenLine_ = 0;
  std::unordered_set<std::uint32_t> poisoned_;
  std::unordered_set<std::uint32_t> unterminated_;
};

/// The parser's token buffer. ANTLR's CommonTokenStream keeps every token of the file until the
/// parse ends (about 1 KB a line); declarations are parsed one at a time and nothing refers to
/// the tokens of a finished declaration, so the driver drops them between declarations.
///
/// Every token reaching it is a CommonToken (the scanner's, the lexer's or the filter's own), so
/// it numbers them without the runtime's dynamic_cast per token.
class DeclarationTokenStream : public antlr4::CommonTokenStream {
public:
  explicit DeclarationTokenStream(TokenFilter* filter) : antlr4::CommonTokenStream(filter) {}

  /// Frees every token before the current one except the last (so LT(-1) still answers) and
  /// renumbers the rest from 0. Call only between declarations, never during a parse.
  void dropConsumed() {
    if (_p == size_t(-1) || _p < 2 || _p > _tokens.size()) return;
    std::size_t drop = _p - 1;
    _tokens.erase(_tokens.begin(), _tokens.begin() + std::ptrdiff_t(drop));
    for (std::size_t i = 0; i < _tokens.size(); ++i)
      static_cast<antlr4::WritableToken*>(_tokens[i].get())->setTokenIndex(i);
    _p -= drop;
  }

  /// CommonTokenStream's LT, LA, consume and seek skip tokens off the parser's channel, one virtual
  /// call per token looked at; every token reaching this stream is on the default channel (the
  /// filter drops comments), so the next and the previous token are simply the neighbours in
  /// the buffer. Before the first look (the base class sets itself up then) and past the
  /// tokens fetched so far, the base class answers.
  antlr4::Token* LT(ssize_t k) override {
    if (ready_) {
      if (k == 1) return _tokens[_p].get();
      if (k == -1 && _p > 0) return _tokens[_p - 1].get();
    }
    antlr4::Token* t = antlr4::CommonTokenStream::LT(k);
    ready_ = true;
    return t;
  }
  std::size_t LA(ssize_t i) override { return LT(i)->getType(); }
  /// Every prediction seeks back to where it started.
  void seek(std::size_t index) override {
    if (ready_ && index < _tokens.size()) {
      _p = index;
      return;
    }
    antlr4::CommonTokenStream::seek(index);
    ready_ = true;
  }
  void consume() override {
    // The token at _p is not EOF: EOF is the last token fetched.
    if (ready_ && _p + 1 < _tokens.size()) {
      ++_p;
      return;
    }
    antlr4::CommonTokenStream::consume();
  }

protected:
  /// BufferedTokenStream::fetch, numbering each token by a static cast.
  std::size_t fetch(std::size_t n) override {
    if (_fetchedEOF) return 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::unique_ptr<antlr4::Token> t = _tokenSource->nextToken();
      static_cast<antlr4::WritableToken*>(t.get())->setTokenIndex(_tokens.size());
      bool eof = t->getType() == antlr4::Token::EOF;
      _tokens.push_back(std::move(t));
      if (eof) {
        _fetchedEOF = true;
        return i + 1;
      }
    }
    return n;
  }

private:
  bool ready_ = false; ///< the base class has set itself up: _p indexes a fetched token
};

} // namespace flo::lang
