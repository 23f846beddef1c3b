/// \file
/// The hand-written scanner (see scanner.h). Every rule here mirrors one of FloLexer.g4; the
/// differential tests (tests/unit/scanner_test.cpp, tests/fuzz/lexer_diff_fuzzer.cpp) hold the
/// two to the same output.
#include "lang/scanner.h"

#include <algorithm>
#include <cassert>
#include <vector>

#include "FloLexer.h"

namespace flo::lang {

using grammar::FloLexer;

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isHex(char c) {
  return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool isBlank(char c) {
  return c == ' ' || c == '\t' || c == '\f' || c == '\v';
}

/// Characters that end a word (CHUNK_CHAR in the grammar); a backslash is handled apart.
bool endsWord(char c) {
  switch (c) {
  case ' ':
  case '\t':
  case '\f':
  case '\v':
  case '\r':
  case '\n':
  case '"':
  case '\'':
  case '(':
  case ')':
  case '[':
  case ']':
  case ',':
  case '\\':
    return true;
  default:
    return false;
  }
}

/// A tiny cursor for whole-word matching.
struct Cursor {
  std::string_view s;
  std::size_t i = 0;
  bool end() const { return i >= s.size(); }
  char peek(std::size_t k = 0) const { return i + k < s.size() ? s[i + k] : '\0'; }
  bool eat(char c) {
    if (peek() == c && !end()) return ++i, true;
    return false;
  }
  bool eatAny(std::string_view set) {
    if (!end() && set.find(s[i]) != std::string_view::npos) return ++i, true;
    return false;
  }
  /// [0-9]+ ( '_' [0-9]+ )*  (with `digit` as the class)
  template <class Pred> bool digitGroups(Pred digit) {
    if (end() || !digit(peek())) return false;
    while (!end() && digit(peek())) ++i;
    while (peek() == '_' && digit(peek(1))) {
      ++i;
      while (!end() && digit(peek())) ++i;
    }
    return true;
  }
  bool plainDigits() {
    if (end() || !isDigit(peek())) return false;
    while (!end() && isDigit(peek())) ++i;
    return true;
  }
};

bool matchInfNan(std::string_view w) {
  if (w.size() < 4 || (w[0] != '+' && w[0] != '-')) return false;
  std::string lower;
  for (char c : w.substr(1)) lower += char(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return lower == "inf" || lower == "infinity" || lower == "nan";
}

bool matchNumber(std::string_view w) {
  if (matchInfNan(w)) return true;
  // based integers
  {
    Cursor c{w};
    c.eatAny("+-");
    if (c.peek() == '0' && (c.peek(1) == 'x' || c.peek(1) == 'X')) {
      c.i += 2;
      return c.digitGroups(isHex) && c.end();
    }
    if (c.peek() == '0' && (c.peek(1) == 'b' || c.peek(1) == 'B')) {
      c.i += 2;
      return c.digitGroups([](char ch) { return ch == '0' || ch == '1'; }) && c.end();
    }
    if (c.peek() == '0' && (c.peek(1) == 'o' || c.peek(1) == 'O')) {
      c.i += 2;
      return c.digitGroups([](char ch) { return ch >= '0' && ch <= '7'; }) && c.end();
    }
  }
  Cursor c{w};
  c.eatAny("+-");
  if (isDigit(c.peek())) {
    c.digitGroups(isDigit);
    if (c.eat('.')) {
      if (isDigit(c.peek())) c.digitGroups(isDigit);
    }
  } else if (c.peek() == '.' && isDigit(c.peek(1))) {
    ++c.i;
    c.digitGroups(isDigit);
  } else {
    return false;
  }
  if (c.peek() == 'e' || c.peek() == 'E') {
    ++c.i;
    c.eatAny("+-");
    if (!c.plainDigits()) return false;
  }
  return c.end();
}

// SNUM : '-'? [0-9]+ ( '.' [0-9]* )?
bool snum(Cursor& c) {
  c.eat('-');
  if (!c.plainDigits()) return false;
  if (c.eat('.'))
    while (isDigit(c.peek())) ++c.i;
  return true;
}

bool matchPoint(std::string_view w) {
  static const char* const forms[] = {"xyz", "ned", "fsb"};
  for (const char* f : forms) {
    Cursor c{w};
    if (!snum(c) || !c.eat(f[0]) || !snum(c) || !c.eat(f[1])) continue;
    if (c.end()) return true;
    if (snum(c) && c.eat(f[2]) && c.end()) return true;
  }
  return false;
}

bool matchCoord(std::string_view w) {
  Cursor c{w};
  return c.digitGroups(isDigit) && c.eatAny("NnSsEeWw") && c.digitGroups(isDigit) && c.eat('.') &&
         c.digitGroups(isDigit) && c.end();
}

bool segment(Cursor& c) {
  if (c.eat('*')) return true;
  if (!(isAlpha(c.peek()) || c.peek() == '_') || c.end()) return false;
  while (!c.end() && (isAlpha(c.peek()) || isDigit(c.peek()) || c.peek() == '_')) ++c.i;
  return true;
}

bool matchDotPath(std::string_view w) {
  Cursor c{w};
  if (!c.eat('.') || !segment(c)) return false;
  while (c.peek() == '.' && !c.end()) {
    ++c.i;
    if (c.end()) return true; // trailing '.' names a node
    if (!segment(c)) return false;
  }
  return c.end();
}

bool matchRelPath(std::string_view w) {
  Cursor c{w};
  if (!segment(c) || !c.eat('.')) return false;
  if (c.end()) return true; // SEGMENT '.'
  if (!segment(c)) return false;
  while (c.peek() == '.' && !c.end()) {
    ++c.i;
    if (c.end()) return true;
    if (!segment(c)) return false;
  }
  return c.end();
}

bool matchId(std::string_view w) {
  if (w.empty() || !(isAlpha(w[0]) || w[0] == '_')) return false;
  for (char c : w)
    if (!(isAlpha(c) || isDigit(c) || c == '_')) return false;
  return true;
}

/// Every token whose rule is a plain literal ('to', '+-', '(' ...), found by an open-addressed
/// table with a hash of a few characters: std::unordered_map's hash of every byte and its node
/// chase were ~4 % of a check (most words are short enough to be looked up).
class KeywordTable {
public:
  KeywordTable() {
    std::fill(std::begin(slots_), std::end(slots_), kEmpty);
    const antlr4::dfa::Vocabulary& v = FloLexer(nullptr).getVocabulary();
    for (std::size_t type = 1; type <= v.getMaxTokenType(); ++type) {
      std::string lit = v.getLiteralName(type);
      if (lit.size() < 3 || lit.front() != '\'') continue;
      // ANTLR escapes a few characters in literal names; none of ours needs it but '\'' etc.
      words_.push_back(lit.substr(1, lit.size() - 2));
      types_.push_back(type);
      longest_ = std::max(longest_, words_.back().size());
    }
    assert(words_.size() < kEmpty); // a slot holds a word's index as 16 bits
    for (std::size_t k = 0; k < words_.size(); ++k) {
      std::size_t at = hash(words_[k]);
      while (slots_[at] != kEmpty) {
        if (words_[slots_[at]] == words_[k]) break; // a literal named twice: the first wins
        at = (at + 1) % kSlots;
      }
      if (slots_[at] == kEmpty) slots_[at] = std::uint16_t(k);
    }
  }

  /// The token type of a keyword, or 0.
  std::size_t find(std::string_view w) const {
    if (w.empty() || w.size() > longest_) return 0;
    for (std::size_t at = hash(w);; at = (at + 1) % kSlots) {
      std::uint16_t k = slots_[at];
      if (k == kEmpty) return 0;
      if (words_[k] == w) return types_[k];
    }
  }

  std::size_t longest() const { return longest_; }

private:
  static constexpr std::size_t kSlots = 1024; // a power of two, several times the keywords
  static constexpr std::uint16_t kEmpty = 0xffff;

  static std::size_t hash(std::string_view w) {
    auto at = [&](std::size_t i) { return std::size_t(static_cast<unsigned char>(w[i])); };
    std::size_t n = w.size();
    std::size_t h = n * 0x9e37 + at(0) * 0x2f1 + at(n - 1) * 0x65 + at(n / 2) * 0x1b3;
    if (n > 2) h += at(1) * 0x3d;
    return (h ^ (h >> 7)) % kSlots;
  }

  std::vector<std::string> words_;
  std::vector<std::size_t> types_;
  std::uint16_t slots_[kSlots];
  std::size_t longest_ = 0;
};

const KeywordTable& keywords() {
  static const KeywordTable table;
  return table;
}

/// The length of the longest keyword: a longer word (a path, most often) is not looked up.
std::size_t longestKeyword() {
  return keywords().longest();
}

} // namespace

std::size_t Scanner::classifyWord(std::string_view w) {
  if (std::size_t type = keywords().find(w)) return type;
  if (matchNumber(w)) return FloLexer::NUMBER;
  if (matchPoint(w)) return FloLexer::POINT;
  if (matchCoord(w)) return FloLexer::COORD;
  if (matchDotPath(w)) return FloLexer::DOTPATH;
  if (matchRelPath(w)) return FloLexer::RELPATH;
  if (matchId(w)) return FloLexer::ID;
  return FloLexer::CHUNK;
}

namespace {
/// Free blocks of sizeof(PooledToken) bytes, per thread (the language server parses on its own).
thread_local bool tokenBlocksGone = false; // the list is destroyed: tokens freed later go back
struct TokenBlocks {
  std::vector<void*> free;
  ~TokenBlocks() {
    for (void* block : free) ::operator delete(block);
    tokenBlocksGone = true;
  }
};
thread_local TokenBlocks tokenBlocks;
} // namespace

void* PooledToken::operator new(std::size_t size) {
  if (size != sizeof(PooledToken) || tokenBlocksGone) return ::operator new(size);
  auto& blocks = tokenBlocks.free;
  if (blocks.empty()) return ::operator new(size);
  void* block = blocks.back();
  blocks.pop_back();
  return block;
}

void PooledToken::operator delete(void* block, std::size_t size) {
  if (size != sizeof(PooledToken) || tokenBlocksGone) return ::operator delete(block);
  auto& blocks = tokenBlocks.free;
  if (blocks.size() >= kKept) return ::operator delete(block);
  if (blocks.capacity() == 0) blocks.reserve(kKept);
  blocks.push_back(block);
}

Scanner::Scanner(std::string_view text, antlr4::CharStream* input) : text_(text), input_(input) {
  longestKeyword(); // build the table before the first token, not inside a timing loop
}

antlr4::TokenFactory<antlr4::CommonToken>* Scanner::getTokenFactory() {
  return antlr4::CommonTokenFactory::DEFAULT.get();
}

std::unique_ptr<antlr4::Token> Scanner::make(std::size_t type, std::size_t start, std::size_t stop,
                                             std::size_t channel, std::size_t line,
                                             std::size_t column) {
  auto t = std::make_unique<PooledToken>(
      std::pair<antlr4::TokenSource*, antlr4::CharStream*>(this, input_), type, channel, start,
      stop);
  t->setLine(line);
  t->setCharPositionInLine(column);
  return t;
}

std::unique_ptr<antlr4::Token> Scanner::nextToken() {
  const std::size_t n = text_.size();
  for (;;) {
    if (pos_ >= n)
      return make(antlr4::Token::EOF, n, n - 1, antlr4::Token::DEFAULT_CHANNEL, line_,
                  pos_ - lineStart_);
    const std::size_t start = pos_;
    const std::size_t line = line_;
    const std::size_t column = start - lineStart_;
    const char c = text_[pos_];
    if (isBlank(c)) {
      while (pos_ < n && isBlank(text_[pos_])) ++pos_;
      continue;
    }
    if (c == '\n' || c == '\r') {
      std::size_t len = (c == '\r' && pos_ + 1 < n && text_[pos_ + 1] == '\n') ? 2 : 1;
      pos_ += len;
      if (text_[pos_ - 1] == '\n') newline(pos_); // ANTLR counts lines at '\n' only
      return make(FloLexer::NEWLINE, start, pos_ - 1, antlr4::Token::DEFAULT_CHANNEL, line, column);
    }
    if (c == '\\') {
      char next = pos_ + 1 < n ? text_[pos_ + 1] : '\0';
      if (next == '\n') {
        pos_ += 2;
        newline(pos_);
        continue;
      }
      if (next == '\r' && pos_ + 2 < n && text_[pos_ + 2] == '\n') {
        pos_ += 3;
        newline(pos_);
        continue;
      }
      if (pos_ + 1 >= n || next == '\r') {
        // No rule matches. Like ANTLR's lexer, drop what the failed match consumed (the
        // backslash and a bare carriage return) and then one more character.
        pos_ += next == '\r' ? 2 : 1;
        if (pos_ < n) ++pos_;
        if (onError_) onError_(start, pos_);
        continue;
      }
      // otherwise a backslash pair starts a word: fall through to the word scan
    }
    if (c == '#') {
      std::size_t p = pos_ + 1;
      for (;;) {
        if (p >= n || text_[p] == '\r' || text_[p] == '\n') break;
        if (text_[p] == '\\') {
          if (p + 1 < n && text_[p + 1] == '\n') {
            p += 2;
            newline(p);
            continue;
          }
          if (p + 2 < n && text_[p + 1] == '\r' && text_[p + 2] == '\n') {
            p += 3;
            newline(p);
            continue;
          }
          if (p + 1 < n && text_[p + 1] != '\r') {
            p += 2;
            continue;
          }
          ++p; // the optional trailing backslash
          break;
        }
        ++p;
      }
      pos_ = p;
      return make(FloLexer::COMMENT, start, p - 1, antlr4::Token::HIDDEN_CHANNEL, line, column);
    }
    if (c == '"' || c == '\'') {
      std::size_t p = pos_ + 1;
      while (p < n && text_[p] != c && text_[p] != '\r' && text_[p] != '\n') ++p;
      if (p < n && text_[p] == c) {
        pos_ = p + 1;
        return make(c == '"' ? FloLexer::DQ_STRING : FloLexer::SQ_STRING, start, p,
                    antlr4::Token::DEFAULT_CHANNEL, line, column);
      }
      pos_ = p;
      return make(FloLexer::UNTERMINATED_STRING, start, p - 1, antlr4::Token::DEFAULT_CHANNEL, line,
                  column);
    }
    switch (c) {
    case '(':
      ++pos_;
      return make(FloLexer::LPAREN, start, start, 0, line, column);
    case ')':
      ++pos_;
      return make(FloLexer::RPAREN, start, start, 0, line, column);
    case '[':
      ++pos_;
      return make(FloLexer::LBRACK, start, start, 0, line, column);
    case ']':
      ++pos_;
      return make(FloLexer::RBRACK, start, start, 0, line, column);
    case ',':
      ++pos_;
      return make(FloLexer::COMMA, start, start, 0, line, column);
    default:
      break;
    }
    // A word: the longest run of word characters (a backslash takes the next character along).
    std::size_t p = pos_;
    while (p < n) {
      char ch = text_[p];
      if (ch == '\\') {
        if (p + 1 < n && text_[p + 1] != '\r' && text_[p + 1] != '\n') {
          p += 2;
          continue;
        }
        break;
      }
      if (endsWord(ch)) break;
      ++p;
    }
    pos_ = p;
    return make(classifyWord(text_.substr(start, p - start)), start, p - 1,
                antlr4::Token::DEFAULT_CHANNEL, line, column);
  }
}

} // namespace flo::lang
