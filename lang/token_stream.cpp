/// \file
/// ByteCharStream and TokenFilter (see token_stream.h).
#include "lang/token_stream.h"

#include "lang/scanner.h"

#include <algorithm>
#include <cctype>

#include "FloLexer.h"

namespace flo::lang {

using grammar::FloLexer;

void ByteCharStream::consume() {
  if (pos_ >= data_.size()) throw antlr4::IllegalStateException("cannot consume EOF");
  ++pos_;
}

std::size_t ByteCharStream::LA(ssize_t i) {
  if (i == 0) return 0;
  ssize_t at = i > 0 ? ssize_t(pos_) + i - 1 : ssize_t(pos_) + i;
  if (at < 0 || std::size_t(at) >= data_.size()) return antlr4::IntStream::EOF;
  return static_cast<unsigned char>(data_[std::size_t(at)]);
}

std::string ByteCharStream::getText(const antlr4::misc::Interval& interval) {
  if (interval.a < 0 || interval.b < interval.a) return {};
  auto a = std::size_t(interval.a);
  if (a >= data_.size()) return {};
  auto b = std::min(std::size_t(interval.b), data_.size() - 1);
  return std::string(data_.substr(a, b - a + 1));
}

TokenFilter::TokenFilter(antlr4::TokenSource& source, FileId file, Diagnostics& diags,
                         std::vector<Comment>* comments)
    : source_(source), file_(file), diags_(diags), comments_(comments) {}

namespace {
bool isReserved(std::size_t type) {
  return type >= FloLexer::TO && type <= FloLexer::GT;
}

bool isExpressionVerb(std::size_t type) {
  switch (type) {
  case FloLexer::LET:
  case FloLexer::FAIL:
  case FloLexer::FILTER:
  case FloLexer::INVARIANT:
  case FloLexer::REQUIRES:
  case FloLexer::ENSURES:
  case FloLexer::PAY:
  case FloLexer::MODIFIES:
    return true;
  default:
    return false;
  }
}

// Tokens that deepen an expression tree (brackets, prefix and infix operators): the parse tree
// and the AST are as deep as the count of these, so bounding it bounds recursion.
bool isNesting(std::size_t type) {
  switch (type) {
  case FloLexer::LPAREN:
  case FloLexer::LBRACK:
  case FloLexer::NOT:
  case FloLexer::MINUS:
  case FloLexer::OLD:
  case FloLexer::SUM:
  case FloLexer::COUNT:
  case FloLexer::IF:
  case FloLexer::PLUS:
  case FloLexer::STAR:
  case FloLexer::SLASH:
  case FloLexer::PERCENT:
  case FloLexer::AND:
  case FloLexer::OR:
  case FloLexer::EQ:
  case FloLexer::NE:
  case FloLexer::LT:
  case FloLexer::LE:
  case FloLexer::GT:
  case FloLexer::GE:
    return true;
  default:
    return false;
  }
}
/// The pieces of a word in an expression, by byte offset and length: operators (`==`, `!=`,
/// `<=`, `>=`, `+`, `-`, `*`, `/`, `%`, `<`, `>`, `=`) split it, except a sign after a number's
/// exponent (`1e-5`) and a `*` segment of a path (`.room.*.temp`).
std::vector<std::pair<std::size_t, std::size_t>> expressionPieces(std::string_view w) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  auto isOp = [](char c) {
    return std::string_view("+-*/%<>=!").find(c) != std::string_view::npos;
  };
  std::size_t i = 0, start = 0;
  auto flush = [&] {
    if (i > start) out.emplace_back(start, i - start);
  };
  while (i < w.size()) {
    char c = w[i];
    if (!isOp(c)) {
      ++i;
      continue;
    }
    std::string_view sofar = w.substr(start, i - start);
    // 1e-5, 2.5E+3: the sign belongs to a number's exponent.
    if ((c == '+' || c == '-') && sofar.size() >= 2 &&
        (sofar.back() == 'e' || sofar.back() == 'E') && i + 1 < w.size() &&
        std::isdigit(static_cast<unsigned char>(w[i + 1])) &&
        std::all_of(
            sofar.begin(), sofar.end() - 1,
            [](char d) { return std::isdigit(static_cast<unsigned char>(d)) || d == '.'; }) &&
        (std::isdigit(static_cast<unsigned char>(sofar.front())) || sofar.front() == '.')) {
      ++i;
      continue;
    }
    // .room.*.temp: a whole `*` segment of a path.
    if (c == '*' && !sofar.empty() && sofar.back() == '.' &&
        (i + 1 == w.size() || w[i + 1] == '.')) {
      ++i;
      continue;
    }
    flush();
    std::size_t len = 1;
    if (i + 1 < w.size() && w[i + 1] == '=' &&
        std::string_view("=!<>").find(c) != std::string_view::npos)
      len = 2;
    out.emplace_back(i, len);
    i += len;
    start = i;
  }
  flush();
  return out;
}
} // namespace

/// In an expression, operators split words (`a*b` is `a * b`, `-x` is `- x`), so expressions
/// read as they are written in other languages; the rest of FloScript keeps its words whole.
/// Each piece is classified as the lexer would classify it alone.
void TokenFilter::splitExpressionWord(std::unique_ptr<antlr4::Token>& t) {
  std::string text = t->getText();
  auto pieces = expressionPieces(text);
  if (pieces.size() < 2) return;
  std::vector<std::unique_ptr<antlr4::Token>> made;
  for (auto [offset, length] : pieces) {
    std::string piece = text.substr(offset, length);
    auto token = std::make_unique<PooledToken>(t.get());
    token->setType(Scanner::classifyWord(piece));
    token->setText(piece);
    token->setStartIndex(t->getStartIndex() + offset);
    token->setStopIndex(t->getStartIndex() + offset + length - 1);
    token->setCharPositionInLine(t->getCharPositionInLine() + offset);
    made.push_back(std::move(token));
  }
  for (std::size_t k = made.size(); k-- > 1;) ahead_.push_front(std::move(made[k]));
  t = std::move(made.front());
}

std::unique_ptr<antlr4::Token> TokenFilter::pull() {
  for (;;) {
    auto t = source_.nextToken();
    std::size_t type = t->getType();
    if (type == FloLexer::COMMENT) {
      if (comments_) {
        auto begin = std::uint32_t(t->getStartIndex());
        auto end = std::uint32_t(t->getStopIndex() + 1);
        std::string text = t->getText();
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        comments_->push_back(
            {{file_, begin, end}, std::move(text), lastTokenLine_ == t->getLine()});
      }
      continue;
    }
    if (type == FloLexer::UNTERMINATED_STRING) {
      auto begin = std::uint32_t(t->getStartIndex());
      auto end = std::uint32_t(t->getStopIndex() + 1);
      char quote = t->getText()[0];
      diags_.error({file_, begin, end}, "unterminated string: missing closing " +
                                            std::string(quote == '"' ? "\"" : "'"));
      diags_.note({}, "Ioflo silently drops an unmatched quote; Flo requires strings to end on "
                      "the line where they start");
      unterminated_.insert(begin); // the declaration holding it is dropped: one error, not two
      auto* ct = static_cast<antlr4::CommonToken*>(t.get());
      ct->setType(quote == '"' ? FloLexer::DQ_STRING : FloLexer::SQ_STRING);
      ct->setText(t->getText() + quote);
    }
    if (type != FloLexer::NEWLINE && type != antlr4::Token::EOF) lastTokenLine_ = t->getLine();
    return t;
  }
}

std::unique_ptr<antlr4::Token> TokenFilter::makeNewline(const antlr4::Token& at) {
  auto t = std::make_unique<PooledToken>(FloLexer::NEWLINE, "\n");
  t->setStartIndex(at.getStartIndex());
  t->setStopIndex(at.getStartIndex() - 1);
  t->setLine(at.getLine());
  t->setCharPositionInLine(at.getCharPositionInLine());
  return t;
}

std::unique_ptr<antlr4::Token> TokenFilter::takeNext() {
  if (ahead_.empty()) return pull();
  auto t = std::move(ahead_.front());
  ahead_.pop_front();
  return t;
}

std::unique_ptr<antlr4::Token> TokenFilter::nextToken() {
  for (;;) {
    std::unique_ptr<antlr4::Token> t = takeNext();
    std::size_t type = t->getType();
    if (type == FloLexer::NEWLINE) {
      // Look past blank and comment-only lines to the next token.
      std::unique_ptr<antlr4::Token> next = pull();
      while (next->getType() == FloLexer::NEWLINE) next = pull();
      std::size_t nextType = next->getType();
      ahead_.push_back(std::move(next));
      if (atStatementStart_) continue; // blank lines before the first declaration
      if (isReserved(nextType) && statementVerb_ != FloLexer::LOAD) continue; // continuation
      atStatementStart_ = true;
      return t;
    }
    if (type == antlr4::Token::EOF) return t;
    if (atStatementStart_) {
      atStatementStart_ = false;
      statementVerb_ = type;
      statementStart_ = std::uint32_t(t->getStartIndex());
      nesting_ = 0;
      statementTokens_ = 0;
      inExpression_ = type == FloLexer::FILTER || type == FloLexer::INVARIANT ||
                      type == FloLexer::REQUIRES || type == FloLexer::ENSURES ||
                      type == FloLexer::PAY || type == FloLexer::MODIFIES;
    } else if ((statementVerb_ == FloLexer::LET && type == FloLexer::ASSIGN) ||
               (statementVerb_ == FloLexer::FAIL && type == FloLexer::IF)) {
      inExpression_ = true; // `let NAME = EXPR`, `fail WORD if EXPR`
    }
    if (inExpression_ && type == FloLexer::CHUNK) {
      splitExpressionWord(t);
      type = t->getType();
    }
    if (!unterminated_.empty() && unterminated_.count(std::uint32_t(t->getStartIndex())))
      poisoned_.insert(statementStart_);
    SourceRange here{file_, std::uint32_t(t->getStartIndex()),
                     std::uint32_t(t->getStopIndex() + 1)};
    if (isExpressionVerb(statementVerb_) && isNesting(type) && ++nesting_ > kMaxNesting) {
      diags_.error(here, "expression too complex (more than " + std::to_string(kMaxNesting) +
                             " operators and brackets)");
      return cutDeclaration(*t);
    }
    if ((type == FloLexer::ID || type == FloLexer::DOTPATH || type == FloLexer::RELPATH) &&
        here.end - here.begin > kMaxWordLength) {
      diags_.error({file_, here.begin, here.begin + 1},
                   "name or path too long (" + std::to_string(here.end - here.begin) +
                       " characters; the limit is " + std::to_string(kMaxWordLength) + ")");
      return cutDeclaration(*t);
    }
    if (++statementTokens_ > kMaxDeclarationTokens) {
      diags_.error(here, "declaration too long (more than " +
                             std::to_string(kMaxDeclarationTokens) + " words)");
      diags_.note({}, "split the data or the condition over several declarations");
      return cutDeclaration(*t);
    }
    return t;
  }
}

std::unique_ptr<antlr4::Token> TokenFilter::cutDeclaration(const antlr4::Token& at) {
  poisoned_.insert(statementStart_);
  auto newline = makeNewline(at);
  for (;;) {
    std::unique_ptr<antlr4::Token> rest = takeNext();
    if (rest->getType() == antlr4::Token::EOF || rest->getType() == FloLexer::NEWLINE) {
      ahead_.push_back(std::move(rest));
      break;
    }
  }
  atStatementStart_ = true;
  return newline;
}

} // namespace flo::lang
