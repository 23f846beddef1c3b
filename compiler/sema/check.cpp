/// \file
/// The structure and name checker. Pass 1 walks the declarations in file order (following
/// `load`s where they stand, as Ioflo's builder does) and rebuilds houses, taskers and frames,
/// checking that each verb stands where it means something. Pass 2 resolves every name a
/// declaration refers to and reports reachability.
#include "compiler/sema/check.h"

#include "compiler/sema/typecheck.h"
#include "lang/format.h"
#include "lang/number.h"
#include "stdlib/builtins.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace flo::sema {

using namespace lang;

const char* scheduleName(Schedule s) {
  switch (s) {
  case Schedule::Active:
    return "active";
  case Schedule::Inactive:
    return "inactive";
  case Schedule::Aux:
    return "aux";
  case Schedule::Slave:
    return "slave";
  case Schedule::Moot:
    return "moot";
  }
  return "inactive";
}

namespace {

bool isPublicName(std::string_view s) {
  if (s.empty() || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

std::string quote(std::string_view s) {
  return "'" + std::string(s) + "'";
}

/// Flo's reading of a number word (FLOSCRIPT.md top: no base-16 fallback).
/// A number word's value as the checker compares it (lang/number.h reads it, for every stage):
/// nullopt when it is not a number, or a float beyond the largest double.
std::optional<double> numberValue(const Word& w) {
  if (w.kind != WordKind::Number) return std::nullopt;
  auto n = lang::readNumber(w.text);
  if (n.ok() || n.kind == lang::NumberLiteral::Kind::IntegerTooLarge) return n.asDouble();
  return std::nullopt;
}

/// True when Ioflo would read this number word differently: it fails a decimal int parse but
/// parses as base 16 (1e5 -> 485, 0b11 -> 2833), FLOSCRIPT.md §2.
bool iofloReadsAsHex(const Word& w) {
  if (w.kind != WordKind::Number) return false;
  std::string_view t = w.text;
  if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
  if (t.size() > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) return false;
  bool allDecimal = true;
  for (char c : t) {
    if (c == '_') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    if (!std::isdigit(static_cast<unsigned char>(c))) allDecimal = false;
  }
  return !allDecimal;
}

/// Bare words of hex digits are numbers to Ioflo in a need goal (`== abc` is 2748).
bool isHexDigitWord(const Word& w) {
  if (w.kind != WordKind::Name) return false;
  return std::all_of(w.text.begin(), w.text.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

bool isLiteralWord(const Word& w) {
  switch (w.kind) {
  case WordKind::Number:
  case WordKind::String:
  case WordKind::Point:
  case WordKind::Coord:
    return true;
  case WordKind::Name: {
    std::string lower;
    for (char c : w.text) lower += char(std::tolower(static_cast<unsigned char>(c)));
    return lower == "true" || lower == "false" || lower == "yes" || lower == "no" ||
           lower == "none";
  }
  default:
    return false;
  }
}

/// A positive number followed by one of `units` (suffix, scale), scaled: `10s`, `16M`.
std::optional<double>
scaledQuantity(std::string_view text,
               std::initializer_list<std::pair<std::string_view, double>> units) {
  for (auto [suffix, scale] : units) {
    if (text.size() <= suffix.size() || !text.ends_with(suffix)) continue;
    std::string num(text.substr(0, text.size() - suffix.size()));
    try {
      std::size_t used = 0;
      double v = std::stod(num, &used);
      if (used == num.size() && v > 0) return v * scale;
    } catch (...) {
    }
  }
  return std::nullopt;
}

std::optional<double> durationSeconds(std::string_view text) {
  return scaledQuantity(text, {{"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}});
}

/// A job's run lasts at most this many passes; a duration limit counts passes of the job clock.
constexpr int kMaxJobPasses = 1000000;
constexpr double kJobPassSeconds = 0.125;

std::optional<double> sizeBytes(std::string_view text) {
  return scaledQuantity(text, {{"K", 1024.0},
                               {"k", 1024.0},
                               {"M", 1048576.0},
                               {"m", 1048576.0},
                               {"G", 1073741824.0},
                               {"g", 1073741824.0}});
}

const std::vector<std::string>& scalarTypes() {
  static const std::vector<std::string> types = {"i64", "u64",   "f64", "bool",
                                                 "str", "bytes", "did"};
  return types;
}

class Checker {
public:
  explicit Checker(Diagnostics& diags) : diags_(diags), model_(std::make_unique<Model>()) {}

  std::unique_ptr<Model> run(const Program& program) {
    complete_ = program.droppedDeclarations == 0;
    if (program.root) visitModule(*program.root);
    for (auto& house : model_->houses) resolveHouse(house);
    checkExtensions();
    for (auto& house : model_->houses) reportUnused(house);
    reportSharesCrossed();
    return std::move(model_);
  }

private:
  // ------------------------------------------------------------------------- pass 1
  enum class Block : std::uint8_t { None, Deed, Flow, Job, Contract };

  void visitModule(const Module& m) {
    for (std::size_t i = 0; i < m.stmts.size(); ++i) {
      const auto& s = m.stmts[i];
      next_ = {&m, i + 1};
      visit(*s);
      if (s->kind == StmtKind::Load) {
        if (const Module* loaded = as<LoadStmt>(*s).module) visitModule(*loaded);
      }
    }
  }

  /// The declarations of the current module after the one being visited that `counted` accepts,
  /// up to the first that `ends`: what a house's or a framer's vectors are sized for (a growth
  /// moved every framer or frame, each with its vectors and index).
  template <class Ends, class Counted> std::size_t ahead(Ends ends, Counted counted) const {
    std::size_t n = 0;
    if (!next_.module) return n;
    const auto& stmts = next_.module->stmts;
    for (std::size_t i = next_.index; i < stmts.size() && !ends(stmts[i]->kind); ++i)
      n += counted(stmts[i]->kind) ? 1 : 0;
    return n;
  }

  House* house() { return houseIdx_ == kNone ? nullptr : &model_->houses[houseIdx_]; }
  Tasker* tasker() {
    House* h = house();
    return h && taskerIdx_ != kNone ? &h->taskers[taskerIdx_] : nullptr;
  }
  Frame* frame() {
    Tasker* t = tasker();
    return t && frameIdx_ != kNone ? &t->frames[frameIdx_] : nullptr;
  }

  void checkName(const Ident& name, std::string_view what) {
    if (!isPublicName(name.text))
      diags_.error(name.range, "invalid " + std::string(what) + " name " + quote(name.text) +
                                   ": names start with a letter and hold letters, digits and _");
  }

  bool requireHouse(const Stmt& s) {
    if (house()) return true;
    diags_.error(s.verbRange, std::string("`") + verbOf(s) + "` outside a house");
    diags_.note({}, "declare `house NAME` first");
    return false;
  }

  bool requireFramer(const Stmt& s) {
    Tasker* t = tasker();
    if (t && t->kind == Tasker::Kind::Framer) return true;
    diags_.error(s.verbRange, std::string("`") + verbOf(s) + "` outside a framer");
    diags_.note({}, "declare `framer NAME` first");
    return false;
  }

  bool requireFrame(const Stmt& s) {
    if (frame() && block_ == Block::None) return true;
    if (block_ != Block::None) {
      diags_.error(s.verbRange,
                   std::string("`") + verbOf(s) + "` cannot appear in a " + blockName(block_));
      diags_.note({}, "FloScript actions belong in a frame; start one with `framer` and `frame`");
      return false;
    }
    diags_.error(s.verbRange, std::string("`") + verbOf(s) + "` outside a frame");
    diags_.note({}, "actions belong in a frame: declare `frame NAME` in a framer first");
    return false;
  }

  static const char* blockName(Block b) {
    switch (b) {
    case Block::Deed:
      return "deed";
    case Block::Flow:
      return "flow";
    case Block::Job:
      return "job";
    case Block::Contract:
      return "contract";
    default:
      return "block";
    }
  }

  static std::string verbOf(const Stmt& s) {
    switch (s.kind) {
    case StmtKind::Context:
      return actionContextName(as<ContextStmt>(s).context);
    case StmtKind::Fiat:
      return controlName(as<FiatStmt>(s).control);
    case StmtKind::Reserved:
      return as<ReservedStmt>(s).verb;
    case StmtKind::Port: {
      auto k = as<PortStmt>(s).port;
      return k == PortStmt::Kind::Input    ? "input"
             : k == PortStmt::Kind::Output ? "output"
                                           : "local";
    }
    case StmtKind::Assign:
      return "let";
    default:
      return stmtKindName(s.kind);
    }
  }

  /// The context an action runs in (FLOSCRIPT.md §5): go, timeout, repeat and conditional aux
  /// are always preacts, let always a beact; others use the current context or their native one.
  ActionContext effectiveContext(const Stmt& s) const {
    switch (s.kind) {
    case StmtKind::Go:
    case StmtKind::Timeout:
    case StmtKind::Repeat:
      return ActionContext::Precur;
    case StmtKind::Let:
      return ActionContext::Benter;
    case StmtKind::Aux:
      return ActionContext::Precur;
    default:
      break;
    }
    if (s.kind == StmtKind::Do) {
      for (const auto& c : as<DoStmt>(s).clauses)
        if (c.kind == DoClause::Kind::At && c.context)
          if (auto ctx = actionContextByName(c.context->text)) {
            if (*ctx != ActionContext::Native) return *ctx;
            return ActionContext::Recur;
          }
    }
    if (context_ != ActionContext::Native) return context_;
    switch (s.kind) {
    case StmtKind::Do:
      return ActionContext::Recur;
    case StmtKind::Fiat:
      switch (as<FiatStmt>(s).control) {
      case Control::Ready:
        return ActionContext::Benter;
      case Control::Run:
        return ActionContext::Recur;
      case Control::Stop:
        return ActionContext::Exit;
      default:
        return ActionContext::Enter;
      }
    case StmtKind::Raze:
      return ActionContext::Exit;
    default:
      return ActionContext::Enter;
    }
  }

  void endBlock() {
    block_ = Block::None;
    inAction_ = false;
  }

  void visit(const Stmt& s) {
    switch (s.kind) {
    case StmtKind::Load:
      return;
    case StmtKind::House:
      return visitHouse(static_cast<const NameStmt&>(s));
    case StmtKind::Init:
      endBlock();
      return visitInit(as<InitStmt>(s));
    case StmtKind::Framer:
    case StmtKind::Logger:
    case StmtKind::Server:
      endBlock();
      return visitTasker(static_cast<const TaskerStmt&>(s));
    case StmtKind::First: {
      endBlock();
      if (!requireFramer(s)) return;
      const auto& n = static_cast<const NameStmt&>(s);
      checkName(*n.name, "frame");
      tasker()->firstName = *n.name;
      return;
    }
    case StmtKind::Log:
      return visitLog(static_cast<const TaskerStmt&>(s));
    case StmtKind::Loggee:
      return visitLoggee(as<LoggeeStmt>(s));
    case StmtKind::Frame:
      endBlock();
      return visitFrame(as<FrameStmt>(s));
    case StmtKind::Over:
    case StmtKind::Under:
    case StmtKind::Next: {
      if (!requireFrame(s)) return;
      const auto& n = static_cast<const NameStmt&>(s);
      Frame* f = frame();
      if (s.kind == StmtKind::Over)
        f->overName = *n.name;
      else if (s.kind == StmtKind::Under)
        f->underName = *n.name;
      else
        f->nextName = n.name; // absent: back to the lexical default
      return;
    }
    case StmtKind::Context:
      if (!requireFrame(s)) return;
      context_ = as<ContextStmt>(s).context;
      earlierContextVerb_ = contextVerb_ != nullptr;
      contextVerb_ = context_ == ActionContext::Native ? nullptr : &s;
      return;
    case StmtKind::Reserved:
      diags_.warning(Warning::ReservedVerb, s.verbRange,
                     "`" + as<ReservedStmt>(s).verb +
                         "` is reserved by FloScript and does nothing; the declaration is ignored");
      return;
    case StmtKind::Put:
    case StmtKind::Inc:
    case StmtKind::Copy:
    case StmtKind::Set:
    case StmtKind::Print:
    case StmtKind::Do:
    case StmtKind::Go:
    case StmtKind::Let:
    case StmtKind::Timeout:
    case StmtKind::Repeat:
    case StmtKind::Aux:
    case StmtKind::Done:
    case StmtKind::Bid:
    case StmtKind::Fiat:
    case StmtKind::Rear:
    case StmtKind::Raze:
      return visitAction(s);
    // ---- extensions ----
    case StmtKind::Deed:
      return openBlock(s, Block::Deed);
    case StmtKind::Flow:
      return openBlock(s, Block::Flow);
    case StmtKind::Job:
      return openBlock(s, Block::Job);
    case StmtKind::Contract:
      return openBlock(s, Block::Contract);
    case StmtKind::Port:
      return inBlock(s, Block::Deed);
    case StmtKind::Assign:
    case StmtKind::Fail:
      if (block_ == Block::Contract && !inAction_) {
        diags_.error(s.verbRange, "`" + verbOf(s) + "` in a contract belongs in an `action`");
        return;
      }
      if (block_ == Block::Contract) return addToBlock(s);
      return inBlock(s, Block::Deed);
    case StmtKind::Window:
    case StmtKind::Buffer:
    case StmtKind::Map:
    case StmtKind::Filter:
    case StmtKind::Reduce:
      return inBlock(s, Block::Flow);
    case StmtKind::Needs:
    case StmtKind::Price:
    case StmtKind::Replicas:
    case StmtKind::Trigger:
    case StmtKind::JobRun:
    case StmtKind::Limit:
      return inBlock(s, Block::Job);
    case StmtKind::State:
    case StmtKind::Invariant:
      if (block_ == Block::Contract && inAction_) {
        diags_.error(s.verbRange,
                     "`" + verbOf(s) + "` belongs to the contract, before its actions");
        return;
      }
      return inBlock(s, Block::Contract);
    case StmtKind::Action:
      if (block_ == Block::Contract) inAction_ = true;
      return inBlock(s, Block::Contract);
    case StmtKind::Requires:
    case StmtKind::Ensures:
    case StmtKind::Pay:
    case StmtKind::Modifies:
      if (block_ == Block::Contract && !inAction_) {
        diags_.error(s.verbRange, "`" + verbOf(s) + "` belongs in a contract `action`");
        return;
      }
      return inBlock(s, Block::Contract);
    }
  }

  void visitHouse(const NameStmt& s) {
    endBlock();
    checkName(*s.name, "house");
    for (const auto& h : model_->houses) {
      if (h.name == s.name->text) {
        diags_.error(s.name->range, "house " + quote(h.name) + " is already declared");
        diags_.note(h.range, "first declared here");
        break;
      }
    }
    House h;
    h.name = s.name->text;
    h.range = s.name->range;
    std::size_t taskers =
        ahead([](StmtKind k) { return k == StmtKind::House; },
              [](StmtKind k) {
                return k == StmtKind::Framer || k == StmtKind::Logger || k == StmtKind::Server;
              });
    h.taskers.reserve(taskers);
    h.taskerIndex.reserve(taskers);
    model_->houses.push_back(std::move(h));
    houseIdx_ = model_->houses.size() - 1;
    taskerIdx_ = frameIdx_ = kNone;
    inLog_ = false;
    initialized_.clear();
  }

  std::string rootPath(const Path& p) {
    std::string t = p.head.text;
    if (t.empty() || t[0] != '.') t = "." + t;
    return t;
  }

  void visitInit(const InitStmt& s) {
    if (!requireHouse(s)) return;
    if (s.deprecatedTo)
      diags_.warning(Warning::Deprecated, s.verbRange,
                     "`init ... to` is deprecated; write `init ... with`");
    for (const FieldsPath* fp : {&s.dest, s.fromSource ? &s.src : nullptr}) {
      if (!fp) continue;
      checkSharePath(fp->path, "init");
      if (!fp->path.relations.empty())
        diags_.error(fp->path.relations.front().range,
                     "`init` takes only absolute or root-relative paths (no `of` relations)");
    }
    if (s.fromSource) {
      std::string src = rootPath(s.src.path);
      static const char* const automatic[] = {".meta.", ".ioflo.",   ".framer.",
                                              ".time",  ".realtime", ".datetime"};
      bool known = initialized_.count(src) != 0;
      for (const char* a : automatic) known = known || src.rfind(a, 0) == 0;
      if (!known) {
        diags_.error(s.src.path.range, "`init ... from` needs a share that exists when this line "
                                       "is read; " +
                                           quote(src) + " was not initialized before");
      }
    } else {
      checkData(s.data, "init", false);
    }
    initialized_.insert(rootPath(s.dest.path));
    recordShare(s.dest.path);
    if (s.fromSource) recordShare(s.src.path);
  }

  void visitTasker(const TaskerStmt& s) {
    frameIdx_ = kNone;
    inLog_ = false;
    if (!requireHouse(s)) {
      taskerIdx_ = kNone;
      return;
    }
    checkName(s.name, stmtKindName(s.kind));
    House& h = *house();
    Tasker t;
    t.kind = s.kind == StmtKind::Framer   ? Tasker::Kind::Framer
             : s.kind == StmtKind::Logger ? Tasker::Kind::Logger
                                          : Tasker::Kind::Server;
    t.name = s.name.text;
    t.decl = &s;
    std::size_t frames = ahead(
        [](StmtKind k) {
          return k == StmtKind::House || k == StmtKind::Framer || k == StmtKind::Logger ||
                 k == StmtKind::Server;
        },
        [](StmtKind k) { return k == StmtKind::Frame; });
    t.frames.reserve(frames);
    t.frameIndex.reserve(frames);
    // Defaults (FLOSCRIPT.md §10): framers inactive, loggers and servers active.
    t.schedule = t.kind == Tasker::Kind::Framer ? Schedule::Inactive : Schedule::Active;
    std::set<TaskerClause::Kind> seen;
    for (const auto& c : s.clauses) {
      if (!seen.insert(c.kind).second)
        diags_.warning(Warning::Duplicate, c.range,
                       std::string("`") + taskerClauseName(c.kind) +
                           "` given twice; the later one wins");
      switch (c.kind) {
      case TaskerClause::Kind::Be: {
        static const std::pair<std::string_view, Schedule> schedules[] = {
            {"active", Schedule::Active},
            {"inactive", Schedule::Inactive},
            {"aux", Schedule::Aux},
            {"slave", Schedule::Slave},
            {"moot", Schedule::Moot}};
        bool ok = false;
        for (auto [name, value] : schedules) {
          bool allowed =
              t.kind == Tasker::Kind::Framer || (value != Schedule::Aux && value != Schedule::Moot);
          if (c.name->text == name && allowed) t.schedule = value, ok = true;
        }
        if (!ok) {
          diags_.error(c.name->range, "unknown schedule " + quote(c.name->text) + " for a " +
                                          stmtKindName(s.kind));
          diags_.note({}, t.kind == Tasker::Kind::Framer
                              ? "a framer is active, inactive, aux, slave or moot"
                              : "a logger or server is active, inactive or slave");
        }
        break;
      }
      case TaskerClause::Kind::In: {
        const std::string& o = c.name->text;
        if (o == "front")
          t.order = Order::Front;
        else if (o == "mid")
          t.order = Order::Mid;
        else if (o == "back")
          t.order = Order::Back;
        else
          diags_.error(c.name->range,
                       "unknown order " + quote(o) + "; expected front, mid or back");
        break;
      }
      case TaskerClause::Kind::At:
      case TaskerClause::Kind::Flush:
      case TaskerClause::Kind::Keep:
      case TaskerClause::Kind::Cycle:
      case TaskerClause::Kind::Size:
        requireNumber(*c.word, taskerClauseName(c.kind));
        break;
      case TaskerClause::Kind::First:
        checkName(*c.name, "frame");
        t.firstName = *c.name;
        break;
      case TaskerClause::Kind::Via:
        checkSharePath(*c.path, "via");
        break;
      case TaskerClause::Kind::Per:
        checkData(*c.data, "server", false);
        break;
      case TaskerClause::Kind::For:
        checkSharePath(c.fieldsPath->path, "for");
        break;
      default:
        break;
      }
    }
    if (auto it = h.taskerIndex.find(t.name); it != h.taskerIndex.end()) {
      diags_.error(s.name.range,
                   "a tasker named " + quote(t.name) + " already exists in house " + quote(h.name));
      diags_.note(h.taskers[it->second].decl->name.range, "first declared here");
    } else {
      h.taskerIndex.emplace(t.name, h.taskers.size());
    }
    h.taskers.push_back(std::move(t));
    taskerIdx_ = h.taskers.size() - 1;
  }

  void visitLog(const TaskerStmt& s) {
    endBlock();
    Tasker* t = tasker();
    if (!t || t->kind != Tasker::Kind::Logger) {
      diags_.error(s.verbRange, "`log` outside a logger");
      diags_.note({}, "declare `logger NAME` first");
      return;
    }
    checkName(s.name, "log");
    if (std::find(t->logs.begin(), t->logs.end(), s.name.text) != t->logs.end())
      diags_.error(s.name.range,
                   "logger " + quote(t->name) + " already has a log named " + quote(s.name.text));
    t->logs.push_back(s.name.text);
    inLog_ = true;
    logRule_.clear();
    logLoggees_ = 0;
    for (const auto& c : s.clauses) {
      if (c.kind == TaskerClause::Kind::As && c.name->text != "text" && c.name->text != "binary")
        diags_.error(c.name->range,
                     "unknown log kind " + quote(c.name->text) + "; expected text or binary");
      if (c.kind == TaskerClause::Kind::On) {
        static const std::set<std::string, std::less<>> rules = {
            "never", "once", "always", "update", "change", "streak", "deck"};
        std::string rule;
        for (char ch : c.name->text) rule += char(std::tolower(static_cast<unsigned char>(ch)));
        logRule_ = rule;
        if (!rules.count(rule)) {
          diags_.error(c.name->range, "unknown log rule " + quote(c.name->text));
          diags_.note({}, "a log is written never, once, always, or on update, change, streak or "
                          "deck");
        }
      }
    }
  }

  void visitLoggee(const LoggeeStmt& s) {
    if (!inLog_ || !tasker() || tasker()->kind != Tasker::Kind::Logger) {
      diags_.error(s.verbRange, "`loggee` outside a log");
      diags_.note({}, "declare `log NAME` in a logger first");
      return;
    }
    for (const auto& l : s.loggees) {
      checkSharePath(l.path.path, "loggee");
      recordShare(l.path.path);
      if (++logLoggees_ > 1 && (logRule_ == "streak" || logRule_ == "deck"))
        diags_.error(l.range, "a log `on " + logRule_ + "` takes exactly one loggee");
    }
  }

  void visitFrame(const FrameStmt& s) {
    if (!requireFramer(s)) {
      frameIdx_ = kNone;
      return;
    }
    checkName(s.name, "frame");
    Tasker& t = *tasker();
    if (s.name.text == "next" || s.name.text == "prev") {
      diags_.error(s.name.range, "frame name " + quote(s.name.text) +
                                     " is reserved (it names a transition target)");
    }
    Frame f;
    f.name = s.name.text;
    f.decl = &s;
    if (s.over) {
      checkName(*s.over, "frame");
      f.overName = *s.over;
    }
    if (s.via) checkSharePath(*s.via, "via");
    if (auto it = t.frameIndex.find(f.name); it != t.frameIndex.end()) {
      diags_.error(s.name.range,
                   "framer " + quote(t.name) + " already has a frame named " + quote(f.name));
      diags_.note(t.frames[it->second].decl->name.range, "first declared here");
    } else {
      t.frameIndex.emplace(f.name, t.frames.size());
    }
    t.frames.push_back(std::move(f));
    frameIdx_ = t.frames.size() - 1;
    context_ = ActionContext::Native;
    contextVerb_ = nullptr;
    earlierContextVerb_ = false;
  }

  void visitAction(const Stmt& s) {
    if (!requireFrame(s)) return;
    Frame& f = *frame();
    ActionContext ctx = effectiveContext(s);
    f.acts.push_back({&s, ctx});
    warnMisleadingIndentation(s, ctx);
    // Any act in benter is an entry guard (FLOSCRIPT.md §9.4).
    bool guard = s.kind == StmtKind::Let ||
                 (s.kind == StmtKind::Fiat && as<FiatStmt>(s).control == Control::Ready);
    if (ctx == ActionContext::Benter && !guard) {
      diags_.warning(Warning::IofloQuirk, s.verbRange,
                     "`" + verbOf(s) +
                         "` in `benter` acts as an entry guard: it runs at each "
                         "attempted entry and blocks it");
      diags_.note({}, "only needs (`let`) and `ready` make sense in benter");
    }
  }

  /// FloScript nests by order, not indentation: an act after a context verb belongs to that
  /// context until the next one. Warns where the act stands at or left of the verb's column, so
  /// that it reads as the frame's body, and where that reading would run it elsewhere.
  void warnMisleadingIndentation(const Stmt& s, ActionContext ctx) {
    // An act with its own context (lang::hasOwnContext) runs there, not in the verb's.
    if (!contextVerb_ || ctx != context_) return;
    const SourceRange verb = contextVerb_->verbRange;
    if (!verb.valid() || !s.verbRange.valid() || verb.file != s.verbRange.file) return;
    ActionContext owned = context_;
    context_ = ActionContext::Native;
    ActionContext native = effectiveContext(s);
    context_ = owned;
    if (native == owned) return; // the same context either way: nothing is misread
    const SourceManager& sm = diags_.sources();
    auto at = sm.lineCol(s.verbRange.file, s.verbRange.begin);
    auto ctxAt = sm.lineCol(verb.file, verb.begin);
    if (at.column > ctxAt.column) return;
    std::string ctxName = actionContextName(owned);
    std::string nativeName = actionContextName(native);
    diags_.warning(Warning::MisleadingIndentation, s.verbRange,
                   "this " + quote(verbOf(s)) + " belongs to the " + quote(ctxName) +
                       " context above (line " + std::to_string(ctxAt.line) +
                       "), not to the frame's body");
    diags_.note(verb, "the " + quote(ctxName) +
                          " context lasts until the next context verb, however the acts after "
                          "it are indented");
    diags_.note(
        {}, "to run it in the frame's body (" + quote(nativeName) + "), " +
                (earlierContextVerb_ ? std::string() : "move it above " + quote(ctxName) + " or ") +
                "write " + quote("native") + " or " + quote(nativeName) +
                " on the line before it; if it belongs to " + quote(ctxName) +
                ", indent it under " + quote(ctxName));
  }

  void openBlock(const Stmt& s, Block b) {
    const Ident& name = blockIdent(s);
    checkName(name, blockName(b));
    std::vector<ExtensionBlock>* list = nullptr;
    if (b == Block::Flow)
      list = &model_->flows;
    else if (b == Block::Job)
      list = &model_->jobs;
    else if (b == Block::Contract)
      list = &model_->contracts;
    taskerIdx_ = frameIdx_ = kNone;
    block_ = b;
    inAction_ = false;
    if (b == Block::Deed) {
      std::string key = stdlib::registryKey({name.text});
      for (const auto& d : model_->deeds)
        if (stdlib::registryKey({d.name}) == key) {
          diags_.error(name.range, "deed " + quote(name.text) + " is already declared");
          diags_.note(d.decl->name->range, "first declared here");
        }
      if (stdlib::findBuiltinDeed(key))
        diags_.error(name.range, "deed " + quote(name.text) + " would shadow a built-in deed");
      model_->deeds.push_back({name.text, &static_cast<const NameStmt&>(s), {}, nullptr});
      return;
    }
    for (const auto& e : *list)
      if (e.name == name.text) {
        diags_.error(name.range,
                     std::string(blockName(b)) + " " + quote(e.name) + " is already declared");
        diags_.note(blockIdent(*e.decl).range, "first declared here");
      }
    list->push_back({name.text, &s, {}});
  }

  void addToBlock(const Stmt& s) {
    switch (block_) {
    case Block::Deed:
      model_->deeds.back().body.push_back(&s);
      break;
    case Block::Flow:
      model_->flows.back().body.push_back(&s);
      break;
    case Block::Job:
      model_->jobs.back().body.push_back(&s);
      break;
    case Block::Contract:
      model_->contracts.back().body.push_back(&s);
      break;
    default:
      break;
    }
  }

  void inBlock(const Stmt& s, Block b) {
    if (block_ == b) return addToBlock(s);
    diags_.error(
        s.verbRange,
        "`" + verbOf(s) + "` belongs in a " + blockName(b) +
            (block_ == Block::None ? std::string() : std::string(", not a ") + blockName(block_)));
    diags_.note({}, std::string("start one with `") + blockName(b) + " NAME`");
  }

  // ------------------------------------------------------------------ shared checks

  void requireNumber(const Word& w, std::string_view what) {
    if (reportOutOfRange(w)) return;
    if (!numberValue(w)) {
      diags_.error(w.range, "`" + std::string(what) + "` expects a number, not " + quote(w.text));
      return;
    }
    warnHexReading(w);
  }

  /// A number word Flo cannot hold as written: an integer beyond 64 bits (a warning: Flo keeps
  /// the nearest float, where Ioflo's Python keeps every digit) or a float beyond the largest
  /// double (an error). True when it said something.
  bool reportOutOfRange(const Word& w) {
    if (w.kind != WordKind::Number) return false;
    auto n = lang::readNumber(w.text);
    if (n.kind == lang::NumberLiteral::Kind::IntegerTooLarge) {
      char nearest[64];
      std::snprintf(nearest, sizeof nearest, "%.17g", n.real);
      diags_.warning(Warning::IofloDivergence, w.range,
                     "integer " + quote(w.text) +
                         " does not fit in 64 bits: Flo stores the nearest float, " + nearest +
                         "; Ioflo keeps every digit");
      diags_.note({}, "Flo's integers run from -9223372036854775808 to 9223372036854775807; "
                      "write it as a float (with a '.' or an exponent) to say the float is meant");
      return true;
    }
    if (n.kind == lang::NumberLiteral::Kind::RealTooLarge) {
      diags_.error(w.range, "number " + quote(w.text) +
                                " is beyond the largest 64-bit float (about 1.8e308)");
      return true;
    }
    return false;
  }

  /// Warns where Ioflo's data conversion (FLOSCRIPT.md §2) reads a word differently from Flo.
  void warnHexReading(const Word& w) {
    if (reportOutOfRange(w)) return;
    if (iofloReadsAsHex(w)) {
      diags_.warning(Warning::IofloDivergence, w.range,
                     "Flo reads " + quote(w.text) +
                         " as the number it denotes; Ioflo reads it as "
                         "base 16");
    } else if (w.kind == WordKind::Number && w.text.find_first_of("oO") != std::string::npos) {
      diags_.warning(Warning::IofloDivergence, w.range,
                     "Flo reads " + quote(w.text) +
                         " as an octal number; Ioflo keeps it as a "
                         "string");
    } else if (w.kind == WordKind::Chunk && isHexChunk(w.text)) {
      diags_.warning(Warning::IofloDivergence, w.range,
                     "Flo reads " + quote(w.text) +
                         " as a string; Ioflo reads it as a base-16 "
                         "number");
    }
  }

  static bool isHexChunk(std::string_view t) {
    if (!t.empty() && (t[0] == '+' || t[0] == '-')) t.remove_prefix(1);
    if (t.empty() || !std::isdigit(static_cast<unsigned char>(t[0]))) return false;
    return std::all_of(t.begin(), t.end(), [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == '_';
    });
  }

  /// Direct data: one value, or field/value pairs; `value` may not be mixed with other fields.
  void checkData(const DirectData& d, std::string_view verb, bool numbersOnly) {
    for (const auto& w : d.words) warnHexReading(w);
    if (d.words.size() >= 2) {
      bool hasValue = false;
      for (std::size_t i = 0; i < d.words.size(); i += 2) hasValue |= d.words[i].text == "value";
      if (hasValue && d.words.size() > 2)
        diags_.error(d.range, "a share with a `value` field may have no other field");
      for (std::size_t i = 0; i < d.words.size(); i += 2)
        if (!isPublicName(d.words[i].text))
          diags_.error(d.words[i].range, "invalid field name " + quote(d.words[i].text));
    }
    if (numbersOnly) {
      for (std::size_t i = d.words.size() == 1 ? 0 : 1; i < d.words.size(); i += 2) {
        const Word& w = d.words[i];
        std::string lower;
        for (char c : w.text) lower += char(std::tolower(static_cast<unsigned char>(c)));
        bool boolean = lower == "true" || lower == "false" || lower == "yes" || lower == "no";
        if (!numberValue(w) && !boolean)
          diags_.error(w.range, "`" + std::string(verb) +
                                    " ... with` takes numbers or booleans, "
                                    "not " +
                                    quote(w.text));
      }
    }
  }

  void checkSharePath(const Path& p, std::string_view) {
    if (isLiteralWord(p.head) && p.head.kind != WordKind::Name) {
      diags_.error(p.head.range, "expected a share path, not the literal " + quote(p.head.text));
      return;
    }
    if (p.head.kind == WordKind::Chunk) {
      diags_.error(p.head.range, "invalid share path " + quote(p.head.text));
      return;
    }
    if (p.head.text.find('*') != std::string::npos)
      diags_.error(p.head.range, "a pattern (`*`) is allowed only in a flow's `from`");
  }

  // -------------------------------------------------------------------------- pass 2

  struct Scope {
    House* house;
    Tasker* framer;
    std::size_t frameIdx;
  };

  void resolveHouse(House& h) {
    for (auto& t : h.taskers) {
      if (t.kind != Tasker::Kind::Framer) continue;
      resolveFrames(h, t);
    }
    for (auto& t : h.taskers) {
      if (t.kind != Tasker::Kind::Framer) continue;
      for (std::size_t i = 0; i < t.frames.size(); ++i)
        for (const Act& a : t.frames[i].acts) checkAct(Scope{&h, &t, i}, a);
    }
  }

  void reportUnused(House& h) {
    // A `bid ... all` reaches every active or inactive tasker of the house.
    for (auto& t : h.taskers) {
      if (t.kind != Tasker::Kind::Framer) continue;
      reportUnreachable(t);
      bool needsReference = t.schedule == Schedule::Aux || t.schedule == Schedule::Slave ||
                            t.schedule == Schedule::Moot ||
                            (t.schedule == Schedule::Inactive && !bidAll_.count(&h));
      if (needsReference && !t.referenced && complete_)
        diags_.warning(
            Warning::UnusedFramer, t.decl->name.range,
            std::string(scheduleName(t.schedule)) + " framer " + quote(t.name) + " is never " +
                (t.schedule == Schedule::Inactive ? "started (no `bid` names it)" : "used"));
    }
  }

  std::optional<std::size_t> findFrame(Tasker& t, const Ident& name, bool report) {
    if (auto it = t.frameIndex.find(name.text); it != t.frameIndex.end()) return it->second;
    if (report) {
      diags_.error(name.range,
                   "no frame named " + quote(name.text) + " in framer " + quote(t.name));
      std::vector<std::string> names;
      for (const auto& f : t.frames) names.push_back(f.name);
      if (auto m = closestMatch(name.text, names)) diags_.note({}, "did you mean '" + *m + "'?");
    }
    return std::nullopt;
  }

  /// Refuses frames nested more than kMaxFrameNesting deep: each frame's outline, which the
  /// image stores whole, stays bounded. A frame past the limit is reported and detached from
  /// its over (so the frames under it count again from there). Needs an acyclic hierarchy.
  void limitNesting(Tasker& t) {
    std::vector<std::size_t> depth(t.frames.size(), 0), chain; // 0: not known yet
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      std::size_t cur = i;
      for (; cur != kNone && depth[cur] == 0; cur = t.frames[cur].over) chain.push_back(cur);
      std::size_t above = cur == kNone ? 0 : depth[cur];
      for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        Frame& f = t.frames[*it];
        if (above >= kMaxFrameNesting) {
          diags_.error(f.overRange, "frame " + quote(f.name) + " is nested too deeply (more than " +
                                        std::to_string(kMaxFrameNesting) + " levels of frames)");
          diags_.note({}, "flatten the hierarchy; an outline holds at most " +
                              std::to_string(kMaxFrameNesting) + " frames over each other");
          f.over = kNone;
          above = 0;
        }
        depth[*it] = ++above;
      }
      chain.clear();
    }
  }

  void resolveFrames(House&, Tasker& t) {
    if (t.frames.empty()) {
      if (complete_) diags_.error(t.decl->name.range, "framer " + quote(t.name) + " has no frames");
      return;
    }
    // first
    t.first = 0;
    if (t.firstName) {
      if (auto i = findFrame(t, *t.firstName, true)) t.first = *i;
    }
    // over links
    for (auto& f : t.frames) {
      if (!f.overName) continue;
      if (auto i = findFrame(t, *f.overName, true)) {
        if (&t.frames[*i] == &f) {
          diags_.error(f.overName->range, "frame " + quote(f.name) + " cannot be over itself");
        } else {
          f.over = *i;
          f.overRange = f.overName->range;
        }
      }
    }
    // over cycles, in one pass: each walk up the over links stops at a frame an earlier walk
    // finished (state 2) or at one of its own (state 1: a cycle). A cycle is reported from its
    // first-declared frame, whose link is cut so that later walks terminate.
    std::vector<std::uint8_t> state(t.frames.size(), 0);
    std::vector<std::size_t> chain, cycleStarts;
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      chain.clear();
      std::size_t cur = i;
      while (cur != kNone && state[cur] == 0) {
        state[cur] = 1;
        chain.push_back(cur);
        cur = t.frames[cur].over;
      }
      if (cur != kNone && state[cur] == 1) {
        auto from = std::find(chain.begin(), chain.end(), cur);
        cycleStarts.push_back(*std::min_element(from, chain.end()));
      }
      for (std::size_t k : chain) state[k] = 2;
    }
    std::sort(cycleStarts.begin(), cycleStarts.end());
    for (std::size_t i : cycleStarts) {
      std::string path = t.frames[i].name;
      for (std::size_t k = t.frames[i].over; k != i; k = t.frames[k].over)
        path += " in " + t.frames[k].name;
      path += " in " + t.frames[i].name;
      diags_.error(t.frames[i].overRange, "frame hierarchy has a cycle: " + path);
      t.frames[i].over = kNone; // break it so later walks terminate
    }
    limitNesting(t);
    // unders (FLOSCRIPT.md §9.5): each frame in declaration order walks up its over chain,
    // appending every not-yet-linked lower frame to its over's unders. A walk stops at a linked
    // frame: the walk that linked it went on to the top.
    std::vector<bool> linked(t.frames.size(), false);
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      for (std::size_t cur = i; t.frames[cur].over != kNone && !linked[cur];) {
        std::size_t over = t.frames[cur].over;
        t.frames[over].unders.push_back(cur);
        linked[cur] = true;
        cur = over;
      }
    }
    for (std::size_t i = 0; i < t.frames.size(); ++i) {
      Frame& f = t.frames[i];
      if (f.underName) {
        if (auto u = findFrame(t, *f.underName, true)) {
          auto it = std::find(f.unders.begin(), f.unders.end(), *u);
          if (it == f.unders.end()) {
            diags_.error(f.underName->range,
                         "frame " + quote(f.underName->text) + " is not under " + quote(f.name));
            diags_.note({}, "declare it with `frame " + f.underName->text + " in " + f.name + "`");
          } else {
            f.unders.erase(it);
            f.unders.insert(f.unders.begin(), *u);
          }
        }
      }
      // next: explicit, or the next frame declared in the framer
      if (f.nextName) {
        if (auto n = findFrame(t, *f.nextName, true)) f.next = *n;
      } else if (i + 1 < t.frames.size()) {
        f.next = i + 1;
      }
    }
  }

  Tasker* findTasker(House& h, const Ident& name, bool report, std::string_view what) {
    if (auto it = h.taskerIndex.find(name.text); it != h.taskerIndex.end()) {
      Tasker* t = &h.taskers[it->second];
      t->referenced = true;
      return t;
    }
    if (report) {
      diags_.error(name.range, "no " + std::string(what) + " named " + quote(name.text) +
                                   " in house " + quote(h.name));
      std::vector<std::string> names;
      for (const auto& t : h.taskers) names.push_back(t.name);
      if (auto m = closestMatch(name.text, names)) diags_.note({}, "did you mean '" + *m + "'?");
    }
    return nullptr;
  }

  void requireNext(const Scope& sc, SourceRange where, std::string_view what) {
    Frame& f = sc.framer->frames[sc.frameIdx];
    if (f.next != kNone) return;
    diags_.error(where, "`" + std::string(what) + "` in frame " + quote(f.name) +
                            ", which has no next frame (it is the last frame of framer " +
                            quote(sc.framer->name) + ")");
    diags_.note({}, "name the target with `go FRAME`, or give the frame a `next FRAME`");
  }

  void checkAct(const Scope& sc, const Act& act) {
    const Stmt& s = *act.stmt;
    House& h = *sc.house;
    Tasker& fr = *sc.framer;
    Frame& f = fr.frames[sc.frameIdx];
    switch (s.kind) {
    case StmtKind::Go: {
      const auto& g = as<GoStmt>(s);
      const std::string& target = g.target.text;
      if (target == "next")
        requireNext(sc, g.target.range, "go next");
      else if (target == "prev") {
        diags_.error(g.target.range, "`go prev` is not supported (Ioflo reserves `prev` but "
                                     "cannot resolve it)");
      } else if (target != "me") {
        findFrame(fr, g.target, true);
      }
      checkNeeds(sc, g.needs);
      break;
    }
    case StmtKind::Let:
      checkNeeds(sc, as<LetStmt>(s).needs);
      break;
    case StmtKind::Timeout:
    case StmtKind::Repeat: {
      const auto& w = static_cast<const WordStmt&>(s);
      requireNumber(w.value, stmtKindName(s.kind));
      requireNext(sc, s.verbRange, stmtKindName(s.kind));
      if (auto v = numberValue(w.value); v && *v < 0)
        diags_.warning(Warning::IofloQuirk, w.value.range,
                       "`" + std::string(stmtKindName(s.kind)) + "` uses the absolute value: " +
                           quote(w.value.text) + " counts as " + w.value.text.substr(1));
      if (s.kind == StmtKind::Repeat) {
        if (auto v = numberValue(w.value); v && std::floor(std::fabs(*v)) != std::fabs(*v))
          diags_.warning(Warning::IofloQuirk, w.value.range,
                         "`repeat` truncates " + quote(w.value.text) + " to " +
                             std::to_string(long(std::fabs(*v))));
      }
      break;
    }
    case StmtKind::Aux: {
      const auto& a = as<AuxStmt>(s);
      Tasker* t = findTasker(h, a.framer, true, "framer");
      if (t) {
        if (t->kind != Tasker::Kind::Framer) {
          diags_.error(a.framer.range, quote(a.framer.text) + " is not a framer");
        } else if (a.tag && t->schedule != Schedule::Moot) {
          diags_.error(a.framer.range, "`aux " + a.framer.text + " as " + a.tag->text +
                                           "` clones a moot framer, but " + quote(t->name) +
                                           " is " + scheduleName(t->schedule));
          diags_.note(t->decl->name.range, "declare it `be moot` to use it as a template");
        } else if (!a.tag && t->schedule != Schedule::Aux) {
          diags_.error(a.framer.range, "framer " + quote(t->name) + " is " +
                                           scheduleName(t->schedule) + ", not aux");
          diags_.note(t->decl->name.range,
                      t->schedule == Schedule::Moot
                          ? "a moot framer is a template: attach a clone with `aux " + t->name +
                                " as mine`"
                          : "declare it `be aux` to run it inside a frame");
        } else if (t == &fr) {
          diags_.error(a.framer.range, "framer " + quote(t->name) + " cannot be its own aux");
        } else {
          f.auxes.push_back(std::size_t(t - h.taskers.data()));
          if (a.tag && a.tag->text != "mine") {
            checkName(*a.tag, "clone");
            cloneTags_[&fr].insert(a.tag->text);
          }
        }
      }
      if (a.via) checkSharePath(*a.via, "via");
      if (a.conditional) checkNeeds(sc, a.needs);
      break;
    }
    case StmtKind::Done:
      for (const auto& name : as<DoneStmt>(s).taskers) {
        if (name.text == "me") continue;
        if (Tasker* t = findTasker(h, name, true, "framer")) {
          if (t->kind != Tasker::Kind::Framer ||
              (t->schedule != Schedule::Aux && t->schedule != Schedule::Slave))
            diags_.error(name.range, "`done` names aux or slave framers; " + quote(name.text) +
                                         " is " + scheduleName(t->schedule));
        }
      }
      break;
    case StmtKind::Bid: {
      const auto& b = as<BidStmt>(s);
      for (const auto& name : b.taskers) {
        if (name.text == "all") {
          bidAll_.insert(&h);
          continue;
        }
        if (name.text == "me") {
          if (fr.schedule == Schedule::Aux || fr.schedule == Schedule::Slave ||
              fr.schedule == Schedule::Moot)
            diags_.warning(Warning::IofloQuirk, name.range,
                           "`bid ... me` in " + std::string(scheduleName(fr.schedule)) +
                               " framer " + quote(fr.name) + " has no effect");
          continue;
        }
        if (Tasker* t = findTasker(h, name, true, "tasker")) {
          if (t->schedule != Schedule::Active && t->schedule != Schedule::Inactive) {
            diags_.error(name.range, "cannot bid on " + std::string(scheduleName(t->schedule)) +
                                         " framer " + quote(t->name));
            diags_.note({}, t->schedule == Schedule::Slave
                                ? "a slave is controlled by `ready`, `start`, `run`, `stop` and "
                                  "`abort` in its master's frame"
                                : "auxes run inside their main frame");
          }
        }
      }
      if (b.at) checkGoalOrPath(sc, *b.at);
      break;
    }
    case StmtKind::Fiat: {
      const auto& fi = as<FiatStmt>(s);
      if (Tasker* t = findTasker(h, fi.slave, true, "slave")) {
        if (t->schedule != Schedule::Slave) {
          diags_.error(fi.slave.range, std::string("`") + controlName(fi.control) +
                                           "` steps a slave; " + quote(t->name) + " is " +
                                           scheduleName(t->schedule));
          diags_.note(t->decl->name.range, "declare it `be slave`, or use `bid` for active and "
                                           "inactive taskers");
        }
      }
      break;
    }
    case StmtKind::Rear: {
      const auto& r = as<RearStmt>(s);
      if (Tasker* t = findTasker(h, r.original, true, "framer")) {
        if (t->schedule != Schedule::Moot)
          diags_.error(r.original.range, "`rear` clones a moot framer; " + quote(t->name) + " is " +
                                             scheduleName(t->schedule));
      }
      if (auto target = findFrame(fr, r.frame, true)) {
        // The rearing frame's outline: the frames over it, itself, its primary-child chain.
        std::set<std::size_t> outline;
        for (std::size_t cur = sc.frameIdx, n = 0; cur != kNone && n <= fr.frames.size();
             cur = fr.frames[cur].over, ++n)
          outline.insert(cur);
        for (std::size_t cur = sc.frameIdx, n = 0;
             !fr.frames[cur].unders.empty() && n <= fr.frames.size(); ++n) {
          cur = fr.frames[cur].unders.front();
          outline.insert(cur);
        }
        if (outline.count(*target))
          diags_.warning(Warning::IofloQuirk, r.frame.range,
                         "`rear` into frame " + quote(r.frame.text) +
                             ", which is in the rearing "
                             "frame's own outline: Ioflo only logs an error at run time");
      }
      break;
    }
    case StmtKind::Raze: {
      const auto& r = as<RazeStmt>(s);
      if (r.frame) findFrame(fr, *r.frame, true);
      break;
    }
    case StmtKind::Do:
      checkDo(sc, as<DoStmt>(s));
      break;
    case StmtKind::Put:
    case StmtKind::Inc:
    case StmtKind::Copy:
    case StmtKind::Set: {
      const auto& d = static_cast<const DataStmt&>(s);
      if (d.framerGoal) {
        // `set elapsed to` / `set recurred by` are still plain forms (FLOSCRIPT.md §10).
        if (d.goalValue) requireNumber(*d.goalValue, "set " + d.framerGoal->text);
        if (d.form == DataStmt::Form::FromSource) checkFieldsPath(sc, d.src);
        break;
      }
      checkFieldsPath(sc, d.dest);
      if (d.form == DataStmt::Form::FromSource)
        checkFieldsPath(sc, d.src);
      else
        checkData(d.data, stmtKindName(s.kind), s.kind == StmtKind::Inc);
      if (d.form == DataStmt::Form::FromSource && !d.src.fields.empty() && !d.dest.fields.empty() &&
          d.src.fields.size() != d.dest.fields.size())
        diags_.error(d.range, "fields map by position: " + std::to_string(d.src.fields.size()) +
                                  " source field(s) but " + std::to_string(d.dest.fields.size()) +
                                  " destination field(s)");
      break;
    }
    default:
      break;
    }
  }

  void checkDo(const Scope& sc, const DoStmt& d) {
    std::vector<std::string> parts;
    for (const auto& p : d.kindParts) {
      parts.push_back(p.text);
      if (!isPublicName(p.text)) diags_.error(p.range, "invalid deed word " + quote(p.text));
    }
    std::string key = stdlib::registryKey(parts);
    SourceRange kindRange = d.kindParts.front().range.merge(d.kindParts.back().range);
    const stdlib::BuiltinDeed* builtin = stdlib::findBuiltinDeed(key);
    bool user = false;
    for (const auto& def : model_->deeds) user |= stdlib::registryKey({def.name}) == key;
    if (!builtin && !user) {
      std::string spelled;
      for (const auto& p : parts) spelled += (spelled.empty() ? "" : " ") + p;
      diags_.error(kindRange, "unknown deed " + quote(spelled));
      std::vector<std::string> candidates;
      for (const auto& b : stdlib::builtinDeeds()) candidates.emplace_back(b.spelling);
      for (const auto& def : model_->deeds) candidates.push_back(def.name);
      if (auto m = closestMatch(spelled, candidates))
        diags_.note({}, "did you mean '" + *m + "'?");
      else
        diags_.note({}, "a deed is built in (such as `doer`) or declared with `deed NAME`");
    } else if (builtin && !builtin->implemented) {
      diags_.error(kindRange, "deed " + quote(builtin->spelling) +
                                  " is one of Ioflo's demonstration models; Flo does not run "
                                  "it");
    }
    if (!d.asParts.empty()) {
      for (const auto& p : d.asParts) checkName(p, "deed instance");
      // Ioflo's `as` name runs on until with/cum/at/for/qua, swallowing a via/from/per that
      // follows it directly (FLOSCRIPT.md §10); any other clause ends the name.
      const DoClause* after = nullptr;
      for (const auto& c : d.clauses)
        if (c.range.begin > d.asRange.begin && (!after || c.range.begin < after->range.begin))
          after = &c;
      if (after && (after->kind == DoClause::Kind::Via || after->kind == DoClause::Kind::From ||
                    after->kind == DoClause::Kind::Per)) {
        diags_.warning(Warning::IofloDivergence, after->range,
                       std::string("Ioflo reads `") + doClauseName(after->kind) +
                           " ...` after `as NAME` as part of the instance name; Flo reads it "
                           "as a clause");
        diags_.note({}, "put `as NAME` last for a program that behaves the same under Ioflo");
      }
    }
    for (const auto& c : d.clauses) {
      switch (c.kind) {
      case DoClause::Kind::At:
        if (!actionContextByName(c.context->text)) {
          diags_.error(c.context->range, "unknown action context " + quote(c.context->text));
          diags_.note({}, "contexts are native, benter, enter, renter, precur, recur, exit, rexit");
        }
        break;
      case DoClause::Kind::Via:
        checkPath(sc, *c.path);
        break;
      case DoClause::Kind::With:
      case DoClause::Kind::Cum:
        checkData(*c.data, "do", false);
        break;
      case DoClause::Kind::Per:
        checkData(*c.data, "do", false);
        if (c.data->words.size() == 1)
          diags_.error(c.data->range, "`per` binds ports to paths: write `per PORT PATH ...`");
        break;
      case DoClause::Kind::From:
      case DoClause::Kind::For:
      case DoClause::Kind::Qua:
        checkFieldsPath(sc, *c.source);
        break;
      }
    }
  }

  /// Remembers an absolute share path, to find paths that descend through a share later.
  void recordShare(const Path& p) {
    const std::string& t = p.head.text;
    if (!p.relations.empty() || t.size() < 2 || t[0] != '.' || t.back() == '.') return;
    if (p.head.kind != WordKind::DotPath) return;
    sharePaths_.try_emplace(t, p.head.range); // no key copied when the path is known
  }

  void reportSharesCrossed() {
    // A path descends through a share only if some share is also a node (a proper prefix of
    // another path). The nodes are gathered from the longest prefix of each path down, until
    // one is known (its own prefixes are then known too); without such a share, as in a
    // program without this error, no path's prefixes are looked up one by one.
    std::unordered_set<std::string_view> nodes;
    nodes.reserve(sharePaths_.size());
    for (const auto& [path, range] : sharePaths_) {
      std::string_view p = path;
      for (std::size_t dot = p.rfind('.'); dot != std::string_view::npos && dot > 0;
           dot = p.rfind('.', dot - 1))
        if (!nodes.insert(p.substr(0, dot)).second) break;
    }
    if (std::none_of(sharePaths_.begin(), sharePaths_.end(),
                     [&](const auto& entry) { return nodes.count(entry.first) != 0; }))
      return;
    // Reported in path order.
    std::vector<const std::pair<const std::string, SourceRange>*> sorted;
    sorted.reserve(sharePaths_.size());
    for (const auto& entry : sharePaths_) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    for (const auto* entry : sorted) {
      const auto& [path, range] = *entry;
      for (std::size_t dot = path.find('.', 1); dot != std::string::npos;
           dot = path.find('.', dot + 1)) {
        auto it = sharePaths_.find(std::string_view(path).substr(0, dot));
        if (it == sharePaths_.end()) continue;
        diags_.error(range, "path " + quote(path) + " descends through share " + quote(it->first));
        diags_.note(it->second, quote(it->first) + " is used as a share here");
        diags_.note({},
                    "select a field instead: `" + path.substr(dot + 1) + " in " + it->first + "`");
        break;
      }
    }
  }

  void checkFieldsPath(const Scope& sc, const FieldsPath& fp) {
    recordShare(fp.path);
    for (const auto& f : fp.fields)
      if (!isPublicName(f.text)) diags_.error(f.range, "invalid field name " + quote(f.text));
    checkSharePath(fp.path, "");
    checkPath(sc, fp.path);
  }

  /// Relations: `of framer X`, `of frame F`, `main` only in clones.
  void checkPath(const Scope& sc, const Path& p) {
    if (p.head.kind == WordKind::RelPath && !p.relations.empty()) {
      // A relpath is scanned for inline framer./frame./actor. segments; naming the same kind
      // again with `of` is a conflict (FLOSCRIPT.md §8).
      std::string_view text = p.head.text;
      std::size_t start = 0;
      while (start < text.size()) {
        std::size_t dot = text.find('.', start);
        std::string_view seg =
            text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
        std::optional<RelationKind> inlineKind;
        if (seg == "framer")
          inlineKind = RelationKind::Framer;
        else if (seg == "frame")
          inlineKind = RelationKind::Frame;
        else if (seg == "actor")
          inlineKind = RelationKind::Actor;
        if (inlineKind)
          for (const Relation& r : p.relations)
            if (r.kind == *inlineKind)
              diags_.error(r.range, "path " + quote(p.head.text) + " names its " +
                                        std::string(seg) + " inline and again with `of " +
                                        std::string(seg) + "`");
        if (dot == std::string_view::npos) break;
        start = dot + 1;
      }
    }
    House& h = *sc.house;
    Tasker* framer = sc.framer;
    bool frameSeen = false;
    for (auto it = p.relations.rbegin(); it != p.relations.rend(); ++it) {
      const Relation& r = *it;
      if (!r.target) continue;
      const std::string& t = r.target->text;
      if (t == "main") {
        if (sc.framer->schedule != Schedule::Moot)
          diags_.error(r.target->range, "`main` names the main framer or frame of a cloned aux; "
                                        "framer " +
                                            quote(sc.framer->name) + " is not a moot");
        continue;
      }
      if (t == "me") continue;
      if (r.kind == RelationKind::Framer) {
        if (Tasker* x = findTasker(h, *r.target, true, "framer")) framer = x;
      } else if (r.kind == RelationKind::Frame && framer && !frameSeen) {
        frameSeen = true;
        findFrame(*framer, *r.target, true);
      }
    }
    // Inline `framer.X.` / `frame.F.` segments of a relpath are resolved with code generation.
  }

  void checkGoalOrPath(const Scope& sc, const FieldsPath& fp) {
    if (fp.fields.empty() && fp.path.relations.empty() && isLiteralWord(fp.path.head)) {
      warnHexReading(fp.path.head);
      return;
    }
    checkFieldsPath(sc, fp);
  }

  void checkNeeds(const Scope& sc, const std::vector<Need>& needs) {
    House& h = *sc.house;
    Tasker& fr = *sc.framer;
    for (const Need& n : needs) {
      switch (n.kind) {
      case NeedKind::FramerState:
        if (!n.hasRe)
          diags_.warning(Warning::Deprecated, n.state.range,
                         std::string("bare `") + (n.recurred ? "recurred" : "elapsed") +
                             "` is the deprecated short form; write `" +
                             (n.recurred ? "recurred" : "elapsed") + " re me`");
        else if (n.re && n.re->text != "me")
          findTasker(h, *n.re, true, "framer");
        checkGoal(sc, n);
        break;
      case NeedKind::AuxDone: {
        Tasker* target = &fr;
        if (n.inFramer && n.framer && n.framer->text != "me")
          target = findTasker(h, *n.framer, true, "framer");
        if (target && n.inFrame && n.frame && n.frame->text != "me")
          findFrame(*target, *n.frame, true);
        if (n.auxForm == AuxForm::Named && n.name && !cloneTags_[&fr].count(n.name->text)) {
          if (Tasker* aux = findTasker(h, *n.name, true, "aux framer")) {
            if (aux->schedule != Schedule::Aux && aux->schedule != Schedule::Moot)
              diags_.error(n.name->range, "framer " + quote(aux->name) + " is " +
                                              scheduleName(aux->schedule) + ", not aux");
          }
        }
        break;
      }
      case NeedKind::Tasker:
        if (n.name->text != "me" && !findTasker(h, *n.name, true, "tasker") &&
            cloneTags_[&fr].count(n.name->text))
          diags_.note({}, "'" + n.name->text + "' is a clone tag: write `aux " + n.name->text +
                              " is done`");
        break;
      case NeedKind::Mark:
        checkSharePath(n.state.path, "");
        recordShare(n.state.path);
        checkPath(sc, n.state.path);
        if (n.frame && n.frame->text != "me") findFrame(fr, *n.frame, true);
        break;
      case NeedKind::Compare:
        if (n.state.fields.empty() && isLiteralWord(n.state.path.head) &&
            n.state.path.head.kind != WordKind::Name) {
          diags_.error(n.state.path.head.range, "a need compares a share; " +
                                                    quote(n.state.path.head.text) +
                                                    " is a literal");
          break;
        }
        checkFieldsPath(sc, n.state);
        if (n.comparison) checkGoal(sc, n);
        break;
      }
      if (n.tolerance) requireNumber(*n.tolerance, "+-");
    }
  }

  void checkGoal(const Scope& sc, const Need& n) {
    const FieldsPath& g = *n.goal;
    if (g.fields.empty() && g.path.relations.empty()) {
      const Word& w = g.path.head;
      if (w.text == "goal" && n.kind == NeedKind::FramerState) return;
      if (isLiteralWord(w) || w.kind == WordKind::Chunk)
        return warnHexReading(w); // a chunk is a string
      if (isHexDigitWord(w)) {
        diags_.warning(Warning::IofloDivergence, w.range,
                       "Flo reads " + quote(w.text) +
                           " as a share path; Ioflo reads a bare word "
                           "of hex digits in a goal as a number");
        diags_.note({}, "write \"" + w.text + "\" for a string, or .path for a share");
      }
    }
    checkFieldsPath(sc, g);
  }

  void reportUnreachable(Tasker& t) {
    if (!complete_ || t.frames.empty() || t.first == kNone) return;
    std::vector<bool> seen(t.frames.size(), false);
    std::deque<std::size_t> work;
    std::vector<bool> chainSeen(t.frames.size(), false); // primary-child chain below walked
    auto reachOutline = [&](std::size_t i) {
      // the target, the frames over it, and its primary-child chain. Each walk stops where an
      // earlier one went: the frames over a seen frame are seen.
      for (std::size_t cur = i; cur != kNone && !seen[cur]; cur = t.frames[cur].over)
        seen[cur] = true, work.push_back(cur);
      for (std::size_t cur = i; !chainSeen[cur] && !t.frames[cur].unders.empty();) {
        chainSeen[cur] = true;
        cur = t.frames[cur].unders.front();
        if (!seen[cur]) seen[cur] = true, work.push_back(cur);
      }
    };
    reachOutline(t.first);
    while (!work.empty()) {
      std::size_t i = work.front();
      work.pop_front();
      for (const Act& a : t.frames[i].acts) {
        const Stmt& s = *a.stmt;
        std::optional<std::size_t> target;
        if (s.kind == StmtKind::Go) {
          const std::string& name = as<GoStmt>(s).target.text;
          if (name == "next")
            target = t.frames[i].next;
          else if (auto it = t.frameIndex.find(name); it != t.frameIndex.end())
            target = it->second;
        } else if (s.kind == StmtKind::Timeout || s.kind == StmtKind::Repeat) {
          target = t.frames[i].next;
        }
        if (target && *target != kNone) reachOutline(*target);
      }
    }
    for (std::size_t i = 0; i < t.frames.size(); ++i)
      if (!seen[i])
        diags_.warning(Warning::UnreachableFrame, t.frames[i].decl->name.range,
                       "frame " + quote(t.frames[i].name) + " of framer " + quote(t.name) +
                           " is never entered");
  }

  // ---------------------------------------------------------------------- extensions

  void checkType(const TypeRef& t) {
    if (t.kind == TypeRef::Kind::Map) {
      checkType(*t.key);
      checkType(*t.value);
      if (t.key->kind == TypeRef::Kind::Map)
        diags_.error(t.key->range, "a map key must be a scalar type");
      if (t.max) requireNumber(*t.max, "max");
      return;
    }
    const auto& scalars = scalarTypes();
    if (std::find(scalars.begin(), scalars.end(), t.name.text) == scalars.end()) {
      diags_.error(t.name.range, "unknown type " + quote(t.name.text));
      if (auto m = closestMatch(t.name.text, scalars))
        diags_.note({}, "did you mean '" + *m + "'?");
      else
        diags_.note({}, "types are i64, u64, f64, bool, str, bytes, did and map K V");
    }
  }

  void checkExtensions() {
    for (auto& deed : model_->deeds) checkDeed(deed);
    for (const auto& flow : model_->flows) model_->flowSpecs.push_back(checkFlow(flow));
    for (const auto& job : model_->jobs) checkJob(job);
    for (const auto& contract : model_->contracts)
      model_->typedContracts.push_back(checkContract(contract));
  }

  void declare(std::map<std::string, SourceRange, std::less<>>& names, const Ident& id,
               std::string_view what) {
    checkName(id, what);
    auto [it, fresh] = names.emplace(id.text, id.range);
    if (!fresh) {
      diags_.error(id.range, std::string(what) + " " + quote(id.text) + " is already declared");
      diags_.note(it->second, "first declared here");
    }
  }

  void checkDeed(DeedDef& deed) {
    std::map<std::string, SourceRange, std::less<>> ports;
    std::set<std::string, std::less<>> assignable, inputs;
    for (const Stmt* s : deed.body)
      if (s->kind == StmtKind::Port) {
        const auto& p = as<PortStmt>(*s);
        declare(ports, p.name, "port");
        checkType(p.type);
        (p.port == PortStmt::Kind::Input ? inputs : assignable).insert(p.name.text);
      }
    bool assignsOutput = false;
    for (const Stmt* s : deed.body) {
      if (s->kind == StmtKind::Assign) {
        const auto& a = as<AssignStmt>(*s);
        if (inputs.count(a.target.name.text)) {
          diags_.error(a.target.name.range, "cannot assign to input " + quote(a.target.name.text));
        } else if (!assignable.count(a.target.name.text)) {
          diags_.error(a.target.name.range,
                       "assignment to undeclared " + quote(a.target.name.text));
          diags_.note({}, "declare it with `output NAME as TYPE` or `local NAME as TYPE`");
        }
        assignsOutput = true;
      } else if (s->kind == StmtKind::Fail) {
        const auto& f = as<FailStmt>(*s);
        if (f.message.kind != WordKind::String)
          diags_.error(f.message.range, "`fail` takes a quoted message");
      }
    }
    if (!assignsOutput && complete_)
      diags_.error(deed.decl->name->range, "deed " + quote(deed.name) + " computes nothing");
    deed.typed = typeDeed(deed, diags_);
  }

  bool deedExists(const std::string& name) {
    std::string key = stdlib::registryKey({name});
    if (stdlib::findBuiltinDeed(key)) return true;
    for (const auto& d : model_->deeds)
      if (stdlib::registryKey({d.name}) == key) return true;
    return false;
  }

  /// The user deed named `name` for a flow stage, checked to take `inputs` f64 inputs and give
  /// one f64 output; null (reported) otherwise.
  std::shared_ptr<const tir::TypedDeed> flowDeed(const Ident& name, std::size_t inputs,
                                                 const char* role) {
    std::string key = stdlib::registryKey({name.text});
    const DeedDef* def = nullptr;
    for (const auto& d : model_->deeds)
      if (stdlib::registryKey({d.name}) == key) def = &d;
    if (!def) {
      if (stdlib::findBuiltinDeed(key)) {
        diags_.error(name.range, std::string(role) + " takes a deed written in Flo; " +
                                     quote(name.text) + " is one of Ioflo's built-in deeds");
        return nullptr;
      }
      diags_.error(name.range, "unknown deed " + quote(name.text));
      std::vector<std::string> names;
      for (const auto& d : model_->deeds) names.push_back(d.name);
      if (auto c = closestMatch(name.text, names)) diags_.note({}, "did you mean '" + *c + "'?");
      return nullptr;
    }
    if (!def->typed) return nullptr; // its own errors are reported
    std::size_t in = 0, out = 0;
    bool f64 = true;
    for (const auto& v : def->typed->vars) {
      if (v.role == tir::Var::Role::Local) continue;
      (v.role == tir::Var::Role::Input ? in : out)++;
      f64 &= v.type.base == tir::Base::F64;
    }
    if (in != inputs || out != 1 || !f64) {
      diags_.error(name.range, std::string(role) + " needs a deed with " +
                                   (inputs == 1 ? "one f64 input" : "two f64 inputs") +
                                   " and one f64 output; " + quote(def->name) + " has " +
                                   std::to_string(in) + " input" + (in == 1 ? "" : "s") + " and " +
                                   std::to_string(out) + " output" + (out == 1 ? "" : "s") +
                                   (f64 ? "" : ", not all f64"));
      diags_.note(def->decl->name->range, "deed " + quote(def->name) + " is declared here");
      return nullptr;
    }
    return def->typed;
  }

  /// The shortest period, window or slide a flow takes: finer than any pass, coarse enough that
  /// one pass never has an unbounded number of ticks or windows to make.
  static constexpr double kFlowResolution = 1e-7;

  /// A duration in seconds (`10s`, `500ms`, `1m`, or a plain number of seconds) of at least
  /// the flows' resolution, 100 ns.
  std::optional<double> seconds(const Word& w) {
    auto d = durationSeconds(w.text);
    if (!d) d = numberValue(w);
    if (!d || !(*d >= kFlowResolution) || !std::isfinite(*d)) return std::nullopt;
    return d;
  }

  static std::size_t stars(std::string_view path) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = path.find(".*", at)) != std::string_view::npos; at += 2)
      if (at + 2 == path.size() || path[at + 2] == '.') ++n;
    return n;
  }

  /// `by FIELD [max N]`: FIELD names a field of record sources (`from ITEM in PATH`; a share
  /// holding `value` holds nothing else, FLOSCRIPT.md §3), other than the item.
  template <typename Bad> void checkByField(const FlowStmt& decl, FlowSpec& spec, Bad& bad) {
    const Word& key = *decl.by;
    spec.byField = key.text; // the sink is checked against it even when it is not a name
    if (key.kind != WordKind::Name) {
      bad(key.range, "a flow is partitioned `by *` (its sources' `*` segments) or `by FIELD` "
                     "(a field of its record sources)");
      return;
    }
    spec.byRange = key.range;
    spec.partitionLimit = FlowSpec::kDefaultPartitions;
    if (decl.byLimit) {
      auto n = numberValue(*decl.byLimit);
      if (!n || *n < 1 || std::floor(*n) != *n || *n > FlowSpec::kMaxPartitions)
        bad(decl.byLimit->range, "`by " + key.text +
                                     " max N` takes a whole number of "
                                     "partitions from 1 to " +
                                     std::to_string(FlowSpec::kMaxPartitions));
      else
        spec.partitionLimit = std::uint32_t(*n);
    }
    for (std::size_t i = 0; i < spec.sources.size(); ++i) {
      const auto& src = spec.sources[i];
      bool named = i < decl.sourceFields.size() && decl.sourceFields[i];
      if (!named) {
        bad(src.range, "a flow `by " + key.text +
                           "` takes a field of a record: name the item "
                           "field, as in `from FIELD in " +
                           src.path + "` (a share with `value` holds no other field)");
      } else if (src.field == key.text) {
        bad(decl.sourceFields[i]->range, "the item field " + quote(src.field) +
                                             " is also the partition key (`by " + key.text +
                                             "`): an item is another field of the record");
      }
    }
  }

  std::shared_ptr<const FlowSpec> checkFlow(const ExtensionBlock& flow) {
    const auto& decl = as<FlowStmt>(*flow.decl);
    auto spec = std::make_shared<FlowSpec>();
    bool ok = true;
    auto bad = [&](SourceRange r, const std::string& message) {
      diags_.error(r, message);
      ok = false;
    };
    spec->name = flow.name;
    spec->range = decl.range;
    if (decl.sources.empty() && decl.clocks.empty() && complete_) {
      bad(decl.name.range, "flow " + quote(flow.name) + " has no source");
      diags_.note({}, "name one with `from .path` or `from every 1s` on the next line");
    }
    for (std::size_t i = 0; i < decl.sources.size(); ++i) {
      const auto& src = decl.sources[i];
      if (!src.absolute() || !src.relations.empty())
        bad(src.range, "a flow source is an absolute path (starting with '.')");
      FlowSpec::Source source{src.head.text, src.range};
      if (i < decl.sourceFields.size() && decl.sourceFields[i])
        source.field = decl.sourceFields[i]->text;
      spec->sources.push_back(std::move(source));
    }
    const bool byStar = decl.by && decl.by->text == "*";
    const bool byField = decl.by && !byStar;
    for (const auto& w : decl.clocks) {
      if (auto p = seconds(w))
        spec->clocks.push_back(*p);
      else
        bad(w.range, "a clock source takes a period of at least 100ns (`from every 1s`)");
      if (byStar)
        bad(w.range, "a clock tick has no `*` segment to partition by: a flow `by *` cannot "
                     "take clock ticks (give them a flow of their own)");
      else if (byField)
        bad(w.range, "a clock tick has no field " + quote(decl.by->text) +
                         " to partition by: a flow `by FIELD` cannot take clock ticks (give "
                         "them a flow of their own)");
    }
    std::size_t sourceStars = kNone;
    for (const auto& src : spec->sources) {
      std::size_t n = stars(src.path);
      if (sourceStars != kNone && n != sourceStars && byStar)
        bad(src.range, "with `by *`, every source needs the same number of `*` segments");
      sourceStars = n;
    }
    if (byStar) {
      if (sourceStars == 0 || sourceStars == kNone)
        bad(decl.by->range, "`by *` needs a source path with a `*` segment");
      if (decl.byLimit)
        bad(decl.byLimit->range, "`max` bounds the partitions of a flow `by FIELD`; a flow "
                                 "`by *` has one per source share, known when it is built");
      spec->byKey = true;
    } else if (byField) {
      checkByField(decl, *spec, bad);
    }
    bool sink = false, windowed = false, buffered = false;
    for (const Stmt* s : flow.body) {
      if (sink && s->kind != StmtKind::Buffer) {
        bad(s->verbRange, "`" + std::string(stmtKindName(s->kind)) +
                              "` after `reduce`: the sink is a flow's last stage");
        continue;
      }
      switch (s->kind) {
      case StmtKind::Window: {
        const auto& w = as<WindowStmt>(*s);
        if (windowed) bad(w.verbRange, "a flow has one `window`");
        windowed = true;
        auto n = numberValue(w.length);
        if (auto d = durationSeconds(w.length.text); d && *d >= kFlowResolution) {
          spec->window = FlowSpec::Window::Time;
          spec->length = *d;
        } else if (n && *n >= 1 && std::floor(*n) == *n && *n <= 1e9) {
          spec->window = FlowSpec::Window::Count;
          spec->count = std::uint64_t(*n);
        } else {
          bad(w.length.range, "a window is a duration (10s, 500ms, 1m) or a count of items");
        }
        if (w.every) {
          auto e = durationSeconds(w.every->text);
          if (spec->window != FlowSpec::Window::Time)
            bad(w.every->range, "sliding windows are by time (`window 10s every 2s`)");
          else if (!e || !(*e >= kFlowResolution))
            bad(w.every->range, "`every` takes a duration of at least 100ns (2s, 500ms)");
          else
            spec->every = *e;
        }
        break;
      }
      case StmtKind::Map: {
        const auto& m = static_cast<const NameStmt&>(*s);
        FlowSpec::Stage st;
        st.kind = FlowSpec::Stage::Kind::Map;
        st.deed = flowDeed(*m.name, 1, "`map`");
        st.range = s->range;
        st.text = formatStatement(*s);
        if (!st.deed) ok = false;
        spec->stages.push_back(std::move(st));
        break;
      }
      case StmtKind::Filter: {
        auto e = typeFilter(*static_cast<const ExprStmt&>(*s).expr,
                            tir::Type::scalar(tir::Base::F64), diags_);
        FlowSpec::Stage st;
        st.kind = FlowSpec::Stage::Kind::Filter;
        if (e)
          st.filter = std::make_shared<const tir::Expr>(std::move(*e));
        else
          ok = false;
        st.range = s->range;
        st.text = formatStatement(*s);
        spec->stages.push_back(std::move(st));
        break;
      }
      case StmtKind::Buffer: {
        const auto& b = as<BufferStmt>(*s);
        if (buffered) bad(b.verbRange, "a flow has one `buffer`");
        buffered = true;
        auto n = numberValue(b.capacity);
        if (!n || *n < 1 || std::floor(*n) != *n || *n > double(1u << 24))
          bad(b.capacity.range, "a buffer holds a whole number of items from 1 to 16777216");
        else
          spec->capacity = std::uint32_t(*n);
        std::string policy;
        for (const auto& p : b.policy) policy += (policy.empty() ? "" : " ") + p.text;
        if (policy == "block")
          spec->policy = FlowSpec::Policy::Block;
        else if (policy == "drop newest")
          spec->policy = FlowSpec::Policy::DropNewest;
        else if (policy == "drop oldest" || policy.empty())
          spec->policy = FlowSpec::Policy::DropOldest;
        else
          bad(b.policy.front().range, "unknown buffer policy " + quote(policy) +
                                          "; expected block, drop oldest or drop newest");
        break;
      }
      case StmtKind::Reduce: {
        const auto& r = as<ReduceStmt>(*s);
        const auto& reducers = stdlib::flowReducers();
        spec->reduceRange = r.function.range;
        if (std::find(reducers.begin(), reducers.end(), r.function.text) != reducers.end()) {
          spec->reducer = r.function.text;
        } else if (deedExists(r.function.text)) {
          spec->reduceDeed = flowDeed(r.function, 2, "`reduce` with a deed");
          if (!spec->reduceDeed) ok = false;
        } else {
          bad(r.function.range, "unknown reducer " + quote(r.function.text));
          std::vector<std::string> names = reducers;
          for (const auto& d : model_->deeds) names.push_back(d.name);
          if (auto c = closestMatch(r.function.text, names))
            diags_.note({}, "did you mean '" + *c + "'?");
          else
            diags_.note({}, "a reducer is mean, sum, min, max, count, first, last, median or a "
                            "deed with two f64 inputs and one f64 output");
        }
        if (!r.into.absolute() || !r.into.relations.empty()) {
          bad(r.into.range, "`reduce ... into` takes an absolute path");
        } else {
          spec->into = r.into.head.text;
          spec->intoRange = r.into.range;
          std::size_t n = stars(spec->into);
          if (!spec->byField.empty() && n != 1)
            bad(r.into.range, "the sink of a flow `by " + spec->byField +
                                  "` has one `*`, filled by the partition's key");
          else if (spec->byKey && sourceStars != kNone && n != sourceStars)
            bad(r.into.range, "the sink of a flow `by *` has a `*` for each of its sources' (" +
                                  std::to_string(sourceStars) + "), filled by the partition");
          else if (!spec->byKey && spec->byField.empty() && n)
            bad(r.into.range, "a `*` in the sink names a partition: partition the flow with "
                              "`by *` or `by FIELD`");
        }
        sink = true;
        break;
      }
      default:
        break;
      }
    }
    if (!sink && complete_) bad(decl.name.range, "flow " + quote(flow.name) + " has no sink");
    // A count window that keeps its items (for a median) holds its whole count at once.
    if (spec->window == FlowSpec::Window::Count && spec->reducer == "median" &&
        spec->count > spec->capacity)
      for (const Stmt* s : flow.body)
        if (s->kind == StmtKind::Window)
          bad(as<WindowStmt>(*s).length.range,
              "a count window of " + std::to_string(spec->count) +
                  " items kept for `median` needs a buffer of at least " +
                  std::to_string(spec->count) + " (it has " + std::to_string(spec->capacity) + ")");
    if (!ok || !sink) return nullptr;
    return spec;
  }

  void checkJob(const ExtensionBlock& job) {
    int runs = 0;
    const auto& decl = static_cast<const NameStmt&>(*job.decl);
    const JobRunStmt* run = nullptr;
    const LimitStmt* limit = nullptr;
    for (const Stmt* s : job.body) {
      switch (s->kind) {
      case StmtKind::Limit: {
        const auto& l = as<LimitStmt>(*s);
        if (limit) {
          diags_.error(l.verbRange, "job " + quote(job.name) + " has more than one `limit`");
          diags_.note(limit->verbRange, "first limit here");
          break;
        }
        limit = &l;
        if (l.unit) {
          auto n = numberValue(l.amount);
          if (l.unit->text != "passes" && l.unit->text != "pass")
            diags_.error(l.unit->range, "unknown limit unit " + quote(l.unit->text) +
                                            "; expected `passes`, or a duration such as 30s");
          else if (!n || *n < 1 || std::floor(*n) != *n || *n > double(kMaxJobPasses))
            diags_.error(l.amount.range, "expected a whole number of passes from 1 to " +
                                             std::to_string(kMaxJobPasses));
        } else if (auto d = durationSeconds(l.amount.text); !d) {
          diags_.error(l.amount.range,
                       "expected `N passes` or a duration such as 30s, 500ms or 2m");
        } else if (*d / kJobPassSeconds > double(kMaxJobPasses)) {
          diags_.error(l.amount.range, "a run may last at most " + std::to_string(kMaxJobPasses) +
                                           " passes of " + "0.125 s");
        }
        break;
      }
      case StmtKind::Needs:
        for (const auto& [key, value] : as<NeedsStmt>(*s).items) {
          if (key.text == "arch") {
            if (value.text != "any" && value.text != "x86_64" && value.text != "aarch64")
              diags_.error(value.range, "unknown architecture " + quote(value.text) +
                                            "; expected any, x86_64 or aarch64");
          } else if (key.text == "mem" || key.text == "disk") {
            if (!sizeBytes(value.text))
              diags_.error(value.range, "expected a size such as 16M or 1G");
          } else if (key.text == "cpu") {
            auto v = numberValue(value);
            if (!v || *v <= 0) diags_.error(value.range, "expected a positive number of CPUs");
          } else {
            diags_.error(key.range, "unknown requirement " + quote(key.text) +
                                        "; expected arch, mem, disk or cpu");
          }
        }
        break;
      case StmtKind::Price: {
        const auto& p = as<PriceStmt>(*s);
        requireNumber(p.amount, "price");
        static const std::set<std::string, std::less<>> units = {"second", "minute", "hour", "run"};
        if (!units.count(p.unit.text))
          diags_.error(p.unit.range, "unknown price unit " + quote(p.unit.text) +
                                         "; expected second, minute, hour or run");
        if (p.max) requireNumber(*p.max, "max");
        break;
      }
      case StmtKind::Replicas: {
        const auto& r = as<ReplicasStmt>(*s);
        auto n = numberValue(r.count);
        if (!n || *n < 1 || std::floor(*n) != *n)
          diags_.error(r.count.range, "expected a positive whole number of replicas");
        if (r.placement && r.placement->text != "near" && r.placement->text != "spread" &&
            r.placement->text != "any")
          diags_.error(r.placement->range, "unknown placement " + quote(r.placement->text) +
                                               "; expected near, spread or any");
        break;
      }
      case StmtKind::Trigger: {
        const auto& t = as<TriggerStmt>(*s);
        if (t.every) {
          auto v = numberValue(*t.every);
          if (!v && !durationSeconds(t.every->text))
            diags_.error(t.every->range, "expected a period in seconds");
          else if (v && *v <= 0)
            diags_.error(t.every->range, "the period must be positive");
        } else if (!t.on->absolute()) {
          diags_.error(t.on->range, "`trigger on` takes an absolute path");
        }
        break;
      }
      case StmtKind::JobRun: {
        ++runs;
        const auto& r = as<JobRunStmt>(*s);
        run = &r;
        bool found = false;
        if (r.target == JobRunStmt::Kind::Framer) {
          for (auto& h : model_->houses)
            if (auto it = h.taskerIndex.find(r.name.text); it != h.taskerIndex.end()) {
              found = true;
              Tasker& t = h.taskers[it->second];
              t.referenced = true;
              if (t.kind != Tasker::Kind::Framer) {
                diags_.error(r.name.range, quote(r.name.text) + " is not a framer");
              } else if (t.schedule != Schedule::Inactive) {
                diags_.error(r.name.range, "framer " + quote(r.name.text) +
                                               " must be inactive to be run by a job");
                diags_.note(t.decl ? t.decl->verbRange : SourceRange{},
                            "declare it `be inactive`: the job's trigger starts each run");
              }
            }
        } else if (r.target == JobRunStmt::Kind::Flow) {
          for (const auto& f : model_->flows) found |= f.name == r.name.text;
        } else {
          found = deedExists(r.name.text);
        }
        if (!found)
          diags_.error(r.name.range,
                       "no " +
                           std::string(r.target == JobRunStmt::Kind::Framer ? "framer"
                                       : r.target == JobRunStmt::Kind::Flow ? "flow"
                                                                            : "deed") +
                           " named " + quote(r.name.text));
        break;
      }
      default:
        break;
      }
    }
    if (runs == 0 && complete_) {
      diags_.error(decl.name->range, "job " + quote(job.name) + " runs nothing");
      diags_.note({}, "add `run framer NAME`, `run flow NAME` or `run deed NAME`");
    } else if (runs > 1) {
      diags_.error(decl.name->range, "job " + quote(job.name) + " has more than one `run`");
    }
    // The work of one run must have a static bound (docs/language.md, "Extension: job"): a
    // framer runs until it stops itself, which no compiler can promise, so it needs a limit; a
    // deed runs once per trigger and needs none.
    if (runs != 1) run = nullptr; // reported above
    const bool lasts = run && run->target != JobRunStmt::Kind::Deed;
    if (lasts && !limit) {
      bool framer = run->target == JobRunStmt::Kind::Framer;
      diags_.error(decl.name->range, "the work of job " + quote(job.name) + " is unbounded: " +
                                         (framer ? "framer " : "flow ") + quote(run->name.text) +
                                         (framer ? " may run for ever" : " takes items for ever"));
      diags_.note(run->range, "add `limit N passes` or `limit DURATION` (such as 30s) to the job");
    } else if (run && !lasts && limit) {
      diags_.error(limit->verbRange, "`limit` applies to a job that runs a framer or a flow; a "
                                     "deed runs once per trigger");
    }
  }

  std::shared_ptr<const tir::TypedContract> checkContract(const ExtensionBlock& contract) {
    std::map<std::string, SourceRange, std::less<>> state;
    std::map<std::string, SourceRange, std::less<>> actions;
    for (const Stmt* s : contract.body)
      if (s->kind == StmtKind::State) {
        const auto& st = as<StateStmt>(*s);
        declare(state, st.name, "state");
        checkType(st.type);
        for (const auto& b : tir::kContractBuiltins)
          if (st.name.text == b.name)
            diags_.error(st.name.range, "state " + quote(st.name.text) +
                                            " would hide the built-in " + quote(st.name.text) +
                                            " (" + tir::baseName(b.type) + ")");
      }
    for (const Stmt* s : contract.body) {
      switch (s->kind) {
      case StmtKind::Action: {
        const auto& a = as<ActionStmt>(*s);
        declare(actions, a.name, "action");
        std::map<std::string, SourceRange, std::less<>> params;
        for (const auto& p : a.params) {
          declare(params, p.name, "parameter");
          checkType(p.type);
          if (state.count(p.name.text))
            diags_.error(p.name.range,
                         "parameter " + quote(p.name.text) + " shadows contract state");
          for (const auto& b : tir::kContractBuiltins)
            if (p.name.text == b.name)
              diags_.error(p.name.range, "parameter " + quote(p.name.text) +
                                             " would hide the built-in " + quote(p.name.text));
        }
        break;
      }
      case StmtKind::Assign: {
        const auto& a = as<AssignStmt>(*s);
        if (!state.count(a.target.name.text))
          diags_.error(a.target.name.range, "an action assigns contract state; " +
                                                quote(a.target.name.text) + " is not state");
        break;
      }
      case StmtKind::Fail: {
        const auto& f = as<FailStmt>(*s);
        if (f.message.kind != WordKind::String)
          diags_.error(f.message.range, "`fail` takes a quoted message");
        break;
      }
      default:
        break;
      }
    }
    if (actions.empty() && complete_)
      diags_.error(static_cast<const NameStmt&>(*contract.decl).name->range,
                   "contract " + quote(contract.name) + " has no actions");
    return typeContract(contract, diags_);
  }

  Diagnostics& diags_;
  std::unique_ptr<Model> model_;
  std::size_t houseIdx_ = kNone;
  std::size_t taskerIdx_ = kNone;
  std::size_t frameIdx_ = kNone;
  ActionContext context_ = ActionContext::Native;
  const Stmt* contextVerb_ = nullptr; ///< the context verb in force in this frame, if any
  bool earlierContextVerb_ = false;   ///< the frame had another context verb before it
  bool inLog_ = false;
  Block block_ = Block::None;
  bool inAction_ = false;
  std::set<std::string, std::less<>> initialized_;
  std::set<const House*> bidAll_;
  std::map<const Tasker*, std::set<std::string, std::less<>>> cloneTags_;
  /// The first use of each share path.
  std::unordered_map<std::string, SourceRange, NameHash, std::equal_to<>> sharePaths_;
  /// The declaration after the one being visited (see ahead()).
  struct {
    const Module* module = nullptr;
    std::size_t index = 0;
  } next_;
  bool complete_ = true;       ///< no declaration was dropped by a syntax error
  std::string logRule_;        ///< rule of the current log
  std::size_t logLoggees_ = 0; ///< loggees of the current log so far
};

} // namespace

std::unique_ptr<Model> check(const Program& program, Diagnostics& diags) {
  return Checker(diags).run(program);
}

} // namespace flo::sema
