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

/// Turns the lexer's rare failures (a lone backslash at end of file) into diagnostics.
class LexErrorListener : public antlr4::BaseErrorListener {
public:
  LexErrorListener(FileId file, Diagnostics& diags) : file_(file), diags_(diags) {}
  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, std::size_t line,
                   std::size_t column, const std::string& msg, std::exception_ptr e) override;

private:
  FileId file_;
  Diagnostics& diags_;
};

/// Sits between the lexer and the parser:
/// - drops blank lines and comments (optionally recording comments for the formatter);
/// - joins a line that starts with a reserved word (connective or comparison) to the declaration
///   above it, except after `load` (FLOSCRIPT.md §2);
/// - reports unterminated strings and passes them on as strings, so one mistake is one error;
/// - bounds the nesting of extension expressions, so deep input cannot exhaust the stack.
class TokenFilter : public antlr4::TokenSource {
public:
  static constexpr int kMaxNesting = 200;

  TokenFilter(antlr4::Lexer& lexer, FileId file, Diagnostics& diags,
              std::vector<Comment>* comments);

  std::unique_ptr<antlr4::Token> nextToken() override;
  std::size_t getLine() const override { return lexer_.getLine(); }
  std::size_t getCharPositionInLine() override { return lexer_.getCharPositionInLine(); }
  antlr4::CharStream* getInputStream() override { return lexer_.getInputStream(); }
  std::string getSourceName() override { return lexer_.getSourceName(); }
  antlr4::TokenFactory<antlr4::CommonToken>* getTokenFactory() override {
    return lexer_.getTokenFactory();
  }

  /// True when the declaration starting at this byte offset was cut short (and reported).
  bool poisoned(std::uint32_t statementStart) const {
    return poisoned_.count(statementStart) != 0;
  }

private:
  std::unique_ptr<antlr4::Token> pull();
  std::unique_ptr<antlr4::Token> makeNewline(const antlr4::Token& at);

  antlr4::Lexer& lexer_;
  FileId file_;
  Diagnostics& diags_;
  std::vector<Comment>* comments_;
  std::deque<std::unique_ptr<antlr4::Token>> ahead_;
  bool atStatementStart_ = true;
  std::size_t statementVerb_ = 0;
  std::uint32_t statementStart_ = 0;
  int nesting_ = 0;
  std::size_t lastTokenLine_ = 0;
  std::unordered_set<std::uint32_t> poisoned_;
  std::unordered_set<std::uint32_t> unterminated_;
};

} // namespace flo::lang
