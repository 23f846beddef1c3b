/// \file
/// The parse driver: byte char stream, the continuation-joining token filter, line-at-a-time
/// parsing with SLL prediction (retried in LL mode only on failure), syntax error messages, and
/// `load` handling with cycle detection.
#include "lang/parser.h"

#include "lang/ast_builder.h"
#include "lang/scanner.h"
#include "lang/token_stream.h"

#include <antlr4-runtime.h>

#include <algorithm>
#include <map>
#include <ostream>
#include <unordered_map>

#include "FloLexer.h"
#include "FloParser.h"

namespace flo::lang {

using grammar::FloLexer;
using grammar::FloParser;

namespace {

// ------------------------------------------------------------------------- verbs and usage

struct VerbInfo {
  std::string_view verb;
  std::string_view usage;
};

const std::vector<VerbInfo>& verbTable() {
  static const std::vector<VerbInfo> table = {
      {"load", "load FILE"},
      {"house", "house NAME"},
      {"init", "init PATH with DATA | init [FIELDS in] PATH from [FIELDS in] PATH"},
      {"framer", "framer NAME [be active|inactive|aux|slave|moot] [at PERIOD] "
                 "[in front|mid|back] [first FRAME] [via INODE]"},
      {"first", "first FRAME"},
      {"logger", "logger NAME [at PERIOD] [to PREFIX] [be active|inactive|slave] "
                 "[in front|mid|back] [flush SECS] [keep N] [cycle SECS] [size BYTES] [reuse]"},
      {"log", "log NAME [as text|binary] [to FILE] "
              "[on never|once|always|update|change|streak|deck]"},
      {"loggee", "loggee [FIELDS in] PATH [as TAG] ..."},
      {"server", "server NAME [at PERIOD] [be active|inactive|slave] [rx HOST:PORT] "
                 "[tx HOST:PORT] [in ORDER] [to PREFIX] [per DATA] [for [FIELDS in] PATH]"},
      {"frame", "frame NAME [in OVERFRAME] [via INODE]"},
      {"over", "over FRAME"},
      {"under", "under FRAME"},
      {"next", "next [FRAME]"},
      {"native", "native"},
      {"benter", "benter"},
      {"enter", "enter"},
      {"renter", "renter"},
      {"precur", "precur"},
      {"recur", "recur"},
      {"exit", "exit"},
      {"rexit", "rexit"},
      {"put", "put DATA into [FIELDS in] PATH"},
      {"inc", "inc [FIELDS in] PATH with DATA | inc [FIELDS in] PATH from [FIELDS in] PATH"},
      {"copy", "copy [FIELDS in] PATH into [FIELDS in] PATH"},
      {"set", "set elapsed|recurred with VALUE | set elapsed|recurred from [FIELDS in] PATH | "
              "set [FIELDS in] GOAL with DATA | set [FIELDS in] GOAL from [FIELDS in] PATH"},
      {"print", "print TEXT..."},
      {"do", "do KIND... [as NAME...] [at CONTEXT] [via INODE] [with DATA] "
             "[from [FIELDS in] PATH] [per DATA] [for [FIELDS in] PATH] [cum DATA] "
             "[qua [FIELDS in] PATH]"},
      {"go", "go FRAME|next|me [if [not] NEED [and [not] NEED]...]"},
      {"let", "let [me] if [not] NEED [and [not] NEED]...  |  let NAME = EXPR (in a deed)"},
      {"timeout", "timeout SECONDS"},
      {"repeat", "repeat COUNT"},
      {"aux", "aux FRAMER | aux FRAMER as mine|TAG [via INODE] | aux FRAMER if NEEDS"},
      {"done", "done [TASKER...]"},
      {"bid", "bid start|run|stop|abort|ready [TASKER...|me|all] [at PERIOD|[FIELD in] PATH]"},
      {"ready", "ready SLAVE"},
      {"start", "start SLAVE"},
      {"run", "run SLAVE  |  run framer|flow|deed NAME (in a job)"},
      {"stop", "stop SLAVE"},
      {"abort", "abort SLAVE"},
      {"rear", "rear MOOT [as mine] [be aux] in frame FRAME"},
      {"raze", "raze all|first|last [in frame [FRAME]]"},
      {"use", "use ... (reserved, ignored)"},
      {"flo", "flo ... (reserved, ignored)"},
      {"give", "give ... (reserved, ignored)"},
      {"take", "take ... (reserved, ignored)"},
      // Flo extensions
      {"deed", "deed NAME"},
      {"input", "input NAME as TYPE"},
      {"output", "output NAME as TYPE"},
      {"local", "local NAME as TYPE"},
      {"fail", "fail \"MESSAGE\" if EXPR"},
      {"flow", "flow NAME [from PATH]... [from every PERIOD] [by *]"},
      {"window", "window DURATION|COUNT [every DURATION]"},
      {"buffer", "buffer CAPACITY [block | drop oldest | drop newest]"},
      {"map", "map DEED"},
      {"filter", "filter EXPR"},
      {"reduce", "reduce FUNCTION into PATH"},
      {"job", "job NAME"},
      {"needs", "needs KEY VALUE [KEY VALUE]..."},
      {"price", "price AMOUNT per UNIT [max CAP]"},
      {"replicas", "replicas COUNT [PLACEMENT]"},
      {"trigger", "trigger every SECONDS | trigger on PATH"},
      {"limit", "limit N passes | limit DURATION"},
      {"contract", "contract NAME"},
      {"state", "state NAME as TYPE"},
      {"invariant", "invariant EXPR"},
      {"action", "action NAME [PARAM as TYPE]..."},
      {"requires", "requires EXPR"},
      {"ensures", "ensures EXPR"},
      {"pay", "pay AMOUNT to DID"},
      {"modifies", "modifies LOCATION..."},
  };
  return table;
}

/// Verb tokens are exactly the words of the verb table (one source of truth).
bool isVerbToken(std::size_t type) {
  static const std::vector<bool> verbs = [] {
    std::vector<bool> out;
    for (const auto& v : verbTable()) {
      std::size_t t = Scanner::classifyWord(v.verb);
      if (t >= out.size()) out.resize(t + 1, false);
      out[t] = true;
    }
    return out;
  }();
  return type < verbs.size() && verbs[type];
}

// ------------------------------------------------------------------- syntax error capture

/// Bails out of the current declaration at the first error, remembering what was expected.
/// The driver retries in LL mode and then reports; it never lets ANTLR print anything.
class LineErrorStrategy : public antlr4::DefaultErrorStrategy {
public:
  struct Failure {
    antlr4::Token* offending = nullptr;
    antlr4::misc::IntervalSet expected;
  };

  void recover(antlr4::Parser* parser, std::exception_ptr e) override {
    capture(parser, e);
    throw antlr4::ParseCancellationException();
  }
  antlr4::Token* recoverInline(antlr4::Parser* parser) override {
    failure_.offending = parser->getCurrentToken();
    failure_.expected = parser->getExpectedTokens();
    throw antlr4::ParseCancellationException();
  }
  void sync(antlr4::Parser*) override {}
  void reportError(antlr4::Parser*, const antlr4::RecognitionException&) override {}

  const Failure& failure() const { return failure_; }

private:
  void capture(antlr4::Parser* parser, std::exception_ptr e) {
    failure_.offending = parser->getCurrentToken();
    failure_.expected = parser->getExpectedTokens();
    try {
      std::rethrow_exception(e);
    } catch (const antlr4::RecognitionException& re) {
      if (re.getOffendingToken()) failure_.offending = re.getOffendingToken();
      auto expected = re.getExpectedTokens();
      if (!expected.isEmpty()) failure_.expected = expected;
    } catch (...) {
    }
  }

  Failure failure_;
};

class SilentListener : public antlr4::BaseErrorListener {};

// Describes an expected token for people: keywords quoted, classes named.
std::string describeExpected(const antlr4::misc::IntervalSet& set,
                             const antlr4::dfa::Vocabulary& v) {
  std::vector<std::string> keywords;
  bool name = false, number = false, string = false, path = false, word = false, end = false;
  bool comparison = false;
  bool operators = false; // + - * / % = : data words, or operators in an expression
  std::size_t softKeywords = 0;
  for (std::size_t t : set.toList()) {
    switch (t) {
    case FloLexer::ID:
      name = true;
      break;
    case FloLexer::NUMBER:
      number = true;
      break;
    case FloLexer::DQ_STRING:
    case FloLexer::SQ_STRING:
      string = true;
      break;
    case FloLexer::DOTPATH:
    case FloLexer::RELPATH:
      path = true;
      break;
    case FloLexer::CHUNK:
    case FloLexer::POINT:
    case FloLexer::COORD:
      word = true;
      break;
    case FloLexer::NEWLINE:
    case antlr4::Token::EOF:
      end = true;
      break;
    case FloLexer::EQ:
    case FloLexer::NE:
    case FloLexer::LT:
    case FloLexer::LE:
    case FloLexer::GE:
    case FloLexer::GT:
      comparison = true;
      break;
    default: {
      std::string lit = v.getLiteralName(t);
      if (lit.size() >= 2 && lit.front() == '\'') lit = lit.substr(1, lit.size() - 2);
      if (t == FloLexer::PLUS || t == FloLexer::MINUS || t == FloLexer::STAR ||
          t == FloLexer::SLASH || t == FloLexer::PERCENT || t == FloLexer::ASSIGN) {
        operators = true;
      } else if (t >= FloLexer::LOAD && t <= FloLexer::COUNT) {
        ++softKeywords;
        keywords.push_back("'" + lit + "'");
      } else if (!lit.empty()) {
        keywords.push_back("'" + lit + "'");
      }
    }
    }
  }
  // A name position admits every soft keyword: say "a name" instead of listing them.
  if (name && softKeywords > 20) {
    keywords.erase(std::remove_if(keywords.begin(), keywords.end(),
                                  [&](const std::string& k) {
                                    std::string bare = k.substr(1, k.size() - 2);
                                    for (std::size_t t = FloLexer::LOAD; t <= FloLexer::COUNT;
                                         ++t) {
                                      std::string lit = v.getLiteralName(t);
                                      if (lit == "'" + bare + "'") return true;
                                    }
                                    return false;
                                  }),
                   keywords.end());
  }
  std::vector<std::string> parts;
  if (keywords.size() > 8) keywords.resize(8), keywords.push_back("...");
  for (auto& k : keywords) parts.push_back(k);
  if (comparison) parts.push_back("a comparison");
  if (operators && !(word && name)) parts.push_back("an operator");
  if (word && name) {
    parts.push_back("a value");
  } else {
    if (name) parts.push_back("a name");
    if (path) parts.push_back("a path");
    if (number) parts.push_back("a number");
    if (string) parts.push_back("a string");
    if (word) parts.push_back("a value");
  }
  if (end) parts.push_back("end of line");
  if (parts.empty()) return {};
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i) out += i + 1 == parts.size() ? " or " : ", ";
    out += parts[i];
  }
  return out;
}

std::string tokenDisplay(const antlr4::Token* t) {
  if (!t || t->getType() == antlr4::Token::EOF) return "end of file";
  if (t->getType() == FloLexer::NEWLINE) return "end of line";
  std::string text = t->getText();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return "'" + text + "'";
}

// Guide-era, obsolete and common forms that deserve a specific hint. `words` are the
// declaration's tokens up to and including the offending one.
std::string hintFor(const std::string& verb, const antlr4::Token* offending,
                    const std::vector<const antlr4::Token*>& words) {
  std::string text = offending ? offending->getText() : "";
  if (verb == "inc" && text == "by")
    return "Ioflo 2 increments only `with` data or `from` a share; the guide's `inc ... by` form "
           "was removed";
  if (verb == "set" && text == "to")
    return "`set ... to` works only for `elapsed` and `recurred`; write `set PATH with DATA`";
  if (text == "or") return "needs are joined only with `and`; split the condition into two `go`s";
  if (verb == "do" && (text == "to" || text == "by"))
    return "deed clauses are with, from, per, for, cum, qua, via, at and as; the guide's `to`/`by` "
           "forms were removed";
  // Needs written in the guide's obsolete word order (FLOSCRIPT.md §10).
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    std::size_t type = words[i]->getType();
    bool needStart = i > 0 && (words[i - 1]->getType() == FloLexer::IF ||
                               words[i - 1]->getType() == FloLexer::AND ||
                               words[i - 1]->getType() == FloLexer::NOT);
    if (!needStart) continue;
    std::string next = words[i + 1]->getText();
    if (type == FloLexer::DONE)
      return "obsolete need `done " + next + "`; write `" + next + " is done`";
    if (words[i]->getText() == "status")
      return "obsolete need `status " + next + " is ...`; write `" + next + " is STATUS`";
    if (type == FloLexer::CHANGE)
      return "obsolete need `change " + next + "`; write `" + next + " is changed`";
    if (type == FloLexer::UPDATE)
      return "obsolete need `update ...`; write `PATH is updated [in frame FRAME]`";
  }
  if (offending && offending->getType() == FloLexer::CHUNK && text.size() > 1 &&
      std::string_view("+-*/%").find(text[0]) != std::string_view::npos)
    return std::string("operators are words of their own: write `") + text[0] + " " +
           text.substr(1) + "`";
  if (verb == "put" && offending && offending->getType() != FloLexer::INTO)
    return "`put` takes one value, or field/value pairs, before `into`";
  return {};
}

/// True when an "expected" set is just the tokens that may start a declaration: it says nothing
/// useful about what this declaration lacks.
bool isStatementStartSet(const antlr4::misc::IntervalSet& set) {
  return set.contains(std::size_t(FloLexer::LOAD)) && set.contains(std::size_t(FloLexer::HOUSE)) &&
         set.contains(std::size_t(FloLexer::CONTRACT));
}

/// The line of each offset asked for, found by scanning forward from the last one: the driver
/// asks for each declaration's first and last line in file order, where a binary search over
/// the whole line table would miss the cache at every step. Going back searches afresh.
class LineCursor {
public:
  LineCursor(const SourceManager& sources, FileId file)
      : sources_(sources), file_(file), count_(sources.lineCount(file)) {}

  std::uint32_t lineOf(std::uint32_t offset) {
    if (line_ == 0 || offset < sources_.lineStart(file_, line_))
      return line_ = sources_.lineCol(file_, offset).line;
    while (line_ < count_ && sources_.lineStart(file_, line_ + 1) <= offset) ++line_;
    return line_;
  }

private:
  const SourceManager& sources_;
  FileId file_;
  std::uint32_t count_;
  std::uint32_t line_ = 0;
};

/// The scanner's report of a character no token rule accepts.
Scanner::ErrorHandler unexpectedCharacter(FileId file, Diagnostics& diags) {
  return [file, &diags](std::size_t begin, std::size_t end) {
    diags.error({file, std::uint32_t(begin), std::uint32_t(end)}, "unexpected character");
    diags.note({}, "a backslash continues a line only when it is the last character on it");
  };
}

} // namespace

std::string_view verbUsage(std::string_view verb) {
  for (const auto& v : verbTable())
    if (v.verb == verb) return v.usage;
  return {};
}

const std::vector<std::string>& knownVerbs() {
  static const std::vector<std::string> verbs = [] {
    std::vector<std::string> out;
    for (const auto& v : verbTable()) out.emplace_back(v.verb);
    return out;
  }();
  return verbs;
}

// ----------------------------------------------------------------------------- the driver

namespace {

class ProgramParser {
public:
  ProgramParser(SourceManager& sources, Diagnostics& diags, const ParseOptions& options)
      : sources_(sources), diags_(diags), options_(options) {}

  std::unique_ptr<Program> run(FileId root) {
    program_ = std::make_unique<Program>();
    program_->root = parseFile(root);
    return std::move(program_);
  }

private:
  const Module* parseFile(FileId file) {
    if (auto it = parsed_.find(file); it != parsed_.end()) return it->second;
    auto module = std::make_unique<Module>();
    module->file = file;
    Module* raw = module.get();
    program_->modules.push_back(std::move(module));
    parsed_[file] = raw;
    stack_.push_back(file);
    parseInto(*raw);
    stack_.pop_back();
    return raw;
  }

  void parseInto(Module& module) {
    FileId file = module.file;
    std::string_view text = sources_.text(file);
    if (auto bad = findInvalidUtf8(text)) {
      auto byte = static_cast<unsigned char>(text[*bad]);
      char hex[8];
      std::snprintf(hex, sizeof hex, "%02X", byte);
      diags_.error({file, std::uint32_t(*bad), std::uint32_t(*bad + 1)},
                   std::string("invalid UTF-8 (byte 0x") + hex +
                       "); Flo source files must be UTF-8");
    }
    warnInteriorTabs(file, text);
    ByteCharStream chars(text, sources_.name(file));
    Scanner scanner(text, &chars);
    scanner.setErrorHandler(unexpectedCharacter(file, diags_));
    TokenFilter filter(scanner, file, diags_, options_.keepComments ? &module.comments : nullptr);
    DeclarationTokenStream tokens(&filter);
    FloParser parser(&tokens);
    parser.removeErrorListeners();
    auto strategy = std::make_shared<LineErrorStrategy>();
    parser.setErrorHandler(strategy);
    auto* interp = parser.getInterpreter<antlr4::atn::ParserATNSimulator>();
    AstBuilder builder(file, diags_);
    LineCursor lines(sources_, file);
    vocabulary_ = &parser.getVocabulary();

    while (tokens.LA(1) != antlr4::Token::EOF) {
      tokens.dropConsumed(); // between declarations: keeps memory flat (see token_stream.h)
      std::size_t start = tokens.index();
      antlr4::Token* first = tokens.LT(1);
      if (first->getType() == FloLexer::NEWLINE) {
        tokens.consume();
        continue;
      }
      if (!isVerbToken(first->getType())) {
        reportNotAVerb(file, first);
        skipDeclaration(tokens);
        ++program_->droppedDeclarations;
        continue;
      }
      lastVerb_ = first->getType();
      FloParser::LineContext* line = nullptr;
      interp->setPredictionMode(antlr4::atn::PredictionMode::SLL);
      try {
        line = parser.line();
      } catch (const antlr4::ParseCancellationException&) {
        tokens.seek(start);
        interp->setPredictionMode(antlr4::atn::PredictionMode::LL);
        try {
          line = parser.line();
        } catch (const antlr4::ParseCancellationException&) {
          line = nullptr;
        }
      }
      std::uint32_t startOffset = std::uint32_t(first->getStartIndex());
      if (filter.poisoned(startOffset)) {
        // Already reported by the filter (nesting too deep); drop the declaration.
        if (!line) skipDeclaration(tokens);
        ++program_->droppedDeclarations;
      } else if (!line) {
        reportSyntaxError(file, first, strategy->failure(), tokens, start);
        skipDeclaration(tokens);
        ++program_->droppedDeclarations;
      } else if (line->statement()) {
        auto stmt = builder.build(line->statement());
        if (!stmt) ++program_->droppedDeclarations;
        if (stmt) {
          if (stmt->kind == StmtKind::Load) handleLoad(static_cast<LoadStmt&>(*stmt));
          module.startLines.push_back(lines.lineOf(stmt->range.begin));
          module.endLines.push_back(lines.lineOf(stmt->range.end > 0 ? stmt->range.end - 1 : 0));
          module.stmts.push_back(std::move(stmt));
        }
      }
      parser.getTreeTracker().reset();
    }
  }

  /// Ioflo splits words only at spaces, so a tab between two words stays inside one word there;
  /// Flo treats it as a blank. Warn where that changes the reading (once per file).
  void warnInteriorTabs(FileId file, std::string_view text) {
    std::size_t pos = text.find('\t');
    while (pos != std::string_view::npos) {
      std::size_t lineStart = text.rfind('\n', pos);
      lineStart = lineStart == std::string_view::npos ? 0 : lineStart + 1;
      std::size_t lineEnd = text.find('\n', pos);
      if (lineEnd == std::string_view::npos) lineEnd = text.size();
      std::string_view line = text.substr(lineStart, lineEnd - lineStart);
      // Inside a line, outside quotes and comments, between two non-blank characters.
      char quote = 0;
      for (std::size_t i = 0; i < line.size(); ++i) {
        char c = line[i];
        if (quote) {
          if (c == quote) quote = 0;
          continue;
        }
        if (c == '"' || c == '\'') {
          quote = c;
          continue;
        }
        if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) break;
        if (c != '\t') continue;
        std::size_t before = line.find_last_not_of(" \t", i);
        std::size_t after = line.find_first_not_of(" \t\r", i);
        if (before == std::string_view::npos || after == std::string_view::npos) continue;
        auto at = std::uint32_t(lineStart + i);
        diags_.warning(Warning::IofloDivergence, {file, at, at + 1},
                       "a tab separates words in Flo; Ioflo keeps it inside the word");
        diags_.note({}, "use spaces between words for a program that reads the same under Ioflo");
        return;
      }
      pos = text.find('\t', lineEnd);
    }
  }

  static void skipDeclaration(antlr4::CommonTokenStream& tokens) {
    while (tokens.LA(1) != FloLexer::NEWLINE && tokens.LA(1) != antlr4::Token::EOF)
      tokens.consume();
    if (tokens.LA(1) == FloLexer::NEWLINE) tokens.consume();
  }

  SourceRange rangeOf(FileId file, const antlr4::Token* t) const {
    auto begin = std::uint32_t(t->getStartIndex());
    auto end = t->getType() == antlr4::Token::EOF ? begin : std::uint32_t(t->getStopIndex() + 1);
    return {file, begin, std::max(begin, end)};
  }

  void reportNotAVerb(FileId file, const antlr4::Token* t) {
    std::string text = t->getText();
    SourceRange r = rangeOf(file, t);
    std::size_t type = t->getType();
    if (type >= FloLexer::TO && type <= FloLexer::GT) {
      diags_.error(r, "a declaration cannot start with '" + text + "'");
      diags_.note({}, lastVerb_ == FloLexer::LOAD
                          ? "a line that starts with a connective continues the declaration "
                            "above it, but a `load` line is never continued"
                          : "a line that starts with a connective or comparison continues the "
                            "declaration above it, and there is none here");
      return;
    }
    diags_.error(r,
                 "unknown verb '" + (text.size() > 40 ? text.substr(0, 37) + "..." : text) + "'");
    std::string lower = text;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    if (lower != text && !verbUsage(lower).empty()) {
      diags_.note({}, "verbs are lower case: did you mean '" + lower + "'?");
    } else if (text == "tasker") {
      diags_.note({}, "`tasker` is no longer a FloScript verb; declare a `framer`");
    } else if (auto m = closestMatch(text, knownVerbs())) {
      diags_.note({}, "did you mean '" + *m + "'?");
    }
  }

  void reportSyntaxError(FileId file, const antlr4::Token* first,
                         const LineErrorStrategy::Failure& failure,
                         antlr4::CommonTokenStream& tokens, std::size_t start) {
    const antlr4::Token* bad = failure.offending;
    std::string verb = first->getText();
    std::string expected = isStatementStartSet(failure.expected)
                               ? std::string()
                               : describeExpected(failure.expected, *vocabulary_);
    SourceRange where;
    std::string message;
    bool atEnd =
        !bad || bad->getType() == FloLexer::NEWLINE || bad->getType() == antlr4::Token::EOF;
    if (atEnd) {
      // Point just past the last token of the declaration.
      const antlr4::Token* last = first;
      if (bad && bad->getTokenIndex() > start) last = tokens.get(bad->getTokenIndex() - 1);
      auto end = std::uint32_t(last->getStopIndex() + 1);
      where = {file, end, end};
      message = "incomplete `" + verb + "` declaration";
    } else {
      where = rangeOf(file, bad);
      message = "unexpected " + tokenDisplay(bad) + " in `" + verb + "` declaration";
    }
    std::vector<const antlr4::Token*> words;
    for (std::size_t i = start; i < tokens.size(); ++i) {
      const antlr4::Token* t = tokens.get(i);
      if (t->getType() == FloLexer::NEWLINE || t->getType() == antlr4::Token::EOF) break;
      words.push_back(t);
      if (t == bad) break;
    }
    std::string hint = hintFor(verb, bad, words);
    // For an obsolete form the hint says what to write; a list of tokens would only mislead.
    if (!expected.empty() && hint.rfind("obsolete", 0) != 0) message += "; expected " + expected;
    diags_.error(where, message);
    if (!hint.empty()) diags_.note({}, hint);
    if (auto usage = verbUsage(verb); !usage.empty())
      diags_.note({}, "usage: " + std::string(usage));
  }

  void handleLoad(LoadStmt& load) {
    if (!options_.followLoads) return;
    FileId from = load.range.file;
    std::string name = load.file.text;
    if (name.size() >= 2 && (name.front() == '"' || name.front() == '\''))
      name = name.substr(1, name.size() - 2);
    std::filesystem::path target(name);
    if (target.is_relative()) {
      std::filesystem::path base = sources_.path(from);
      target = (base.empty() ? std::filesystem::current_path() : base.parent_path()) / target;
    }
    if (stack_.size() >= options_.maxLoadDepth) {
      diags_.error(load.file.range, "`load` nested too deeply (more than " +
                                        std::to_string(options_.maxLoadDepth) + " files)");
      return;
    }
    std::string error;
    auto id = sources_.loadFile(target, error);
    if (!id) {
      diags_.error(load.file.range, "cannot load '" + name + "': " + error);
      return;
    }
    if (std::find(stack_.begin(), stack_.end(), *id) != stack_.end()) {
      diags_.error(load.file.range, "`load` cycle: '" + name + "' is already being loaded");
      for (auto it = loadSites_.rbegin(); it != loadSites_.rend(); ++it) {
        diags_.note(*it, "loaded from here");
        if (it->file == *id) break;
      }
      return;
    }
    loadSites_.push_back(load.file.range);
    load.module = parseFile(*id);
    loadSites_.pop_back();
  }

  SourceManager& sources_;
  Diagnostics& diags_;
  const ParseOptions& options_;
  std::unique_ptr<Program> program_;
  std::unordered_map<FileId, const Module*> parsed_;
  std::vector<FileId> stack_;
  std::vector<SourceRange> loadSites_;
  const antlr4::dfa::Vocabulary* vocabulary_ = nullptr;
  std::size_t lastVerb_ = 0;
};

} // namespace

std::unique_ptr<Program> parseProgram(SourceManager& sources, FileId root, Diagnostics& diags,
                                      const ParseOptions& options) {
  return ProgramParser(sources, diags, options).run(root);
}

void dumpTokens(const SourceManager& sources, FileId file, Diagnostics& diags, std::ostream& out) {
  std::string_view text = sources.text(file);
  ByteCharStream chars(text, sources.name(file));
  Scanner scanner(text, &chars);
  scanner.setErrorHandler(unexpectedCharacter(file, diags));
  TokenFilter filter(scanner, file, diags, nullptr);
  FloLexer vocabularyOwner(&chars);
  const auto& vocabulary = vocabularyOwner.getVocabulary();
  for (;;) {
    auto t = filter.nextToken();
    LineCol lc = sources.lineCol(file, std::uint32_t(t->getStartIndex()));
    out << sources.name(file) << ':' << lc.line << ':' << lc.column << ' ';
    if (t->getType() == antlr4::Token::EOF) {
      out << "EOF\n";
      break;
    }
    out << vocabulary.getSymbolicName(t->getType());
    if (t->getType() != FloLexer::NEWLINE) out << " '" << t->getText() << "'";
    out << '\n';
  }
}

} // namespace flo::lang
