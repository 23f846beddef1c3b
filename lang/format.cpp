/// \file
/// Canonical text of declarations and modules (see format.h).
#include "lang/format.h"

#include <ostream>

namespace flo::lang {

namespace {

void append(std::string& out, std::string_view piece) {
  if (piece.empty()) return;
  if (!out.empty()) out += ' ';
  out += piece;
}

std::string words(const std::vector<Word>& ws) {
  std::string out;
  for (const auto& w : ws) append(out, w.text);
  return out;
}

std::string idents(const std::vector<Ident>& ids) {
  std::string out;
  for (const auto& i : ids) append(out, i.text);
  return out;
}

const char* relationName(RelationKind k) {
  switch (k) {
  case RelationKind::Root:
    return "root";
  case RelationKind::Me:
    return "me";
  case RelationKind::Framer:
    return "framer";
  case RelationKind::Frame:
    return "frame";
  case RelationKind::Actor:
    return "actor";
  }
  return "root";
}

const char* statusName(TaskerStatus s) {
  switch (s) {
  case TaskerStatus::Done:
    return "done";
  case TaskerStatus::Readied:
    return "readied";
  case TaskerStatus::Started:
    return "started";
  case TaskerStatus::Running:
    return "running";
  case TaskerStatus::Stopped:
    return "stopped";
  case TaskerStatus::Aborted:
    return "aborted";
  }
  return "done";
}

std::string formatNeed(const Need& n) {
  std::string out = n.negated ? "not" : "";
  switch (n.kind) {
  case NeedKind::FramerState:
    append(out, n.recurred ? "recurred" : "elapsed");
    if (n.hasRe) append(out, "re");
    if (n.re) append(out, n.re->text);
    break;
  case NeedKind::AuxDone:
    if (n.auxForm == AuxForm::Any)
      append(out, "any");
    else if (n.auxForm == AuxForm::All)
      append(out, "all");
    else {
      if (n.auxKeyword) append(out, "aux");
      append(out, n.name->text);
    }
    if (n.inFrame) {
      append(out, "in frame");
      if (n.frame) append(out, n.frame->text);
    }
    if (n.inFramer) {
      append(out, "in framer");
      if (n.framer) append(out, n.framer->text);
    }
    append(out, "is done");
    return out;
  case NeedKind::Tasker:
    append(out, n.name->text);
    append(out, "is");
    append(out, statusName(n.status));
    return out;
  case NeedKind::Mark:
    append(out, formatPath(n.state.path));
    append(out, n.changed ? "is changed" : "is updated");
    if (n.inFrame) {
      append(out, "in frame");
      if (n.frame) append(out, n.frame->text);
    }
    if (n.by) append(out, "by"), append(out, n.by->text);
    return out;
  case NeedKind::Compare:
    append(out, formatFieldsPath(n.state));
    break;
  }
  if (n.comparison) {
    append(out, comparisonText(*n.comparison));
    append(out, formatFieldsPath(*n.goal));
    if (n.tolerance) append(out, "+-"), append(out, n.tolerance->text);
  }
  return out;
}

std::string clauseText(const TaskerClause& c) {
  std::string out = taskerClauseName(c.kind);
  if (c.name) append(out, c.name->text);
  if (c.word) append(out, c.word->text);
  if (c.path) append(out, formatPath(*c.path));
  if (c.data) append(out, words(c.data->words));
  if (c.fieldsPath) append(out, formatFieldsPath(*c.fieldsPath));
  return out;
}

} // namespace

std::string formatPath(const Path& p) {
  std::string out = p.head.text;
  for (const auto& r : p.relations) {
    append(out, "of");
    append(out, relationName(r.kind));
    if (r.target && r.kind != RelationKind::Root && r.kind != RelationKind::Me)
      append(out, r.target->text);
  }
  return out;
}

std::string formatFieldsPath(const FieldsPath& fp) {
  std::string out = idents(fp.fields);
  if (!fp.fields.empty()) append(out, "in");
  append(out, formatPath(fp.path));
  return out;
}

namespace {
/// A flow's source `i`: `PATH`, or `FIELD in PATH` for a record's item field.
std::string flowSource(const FlowStmt& n, std::size_t i) {
  std::string path = formatPath(n.sources[i]);
  if (i < n.sourceFields.size() && n.sourceFields[i])
    return n.sourceFields[i]->text + " in " + path;
  return path;
}
} // namespace

std::string formatNeeds(const std::vector<Need>& needs) {
  std::string out;
  for (std::size_t i = 0; i < needs.size(); ++i) {
    if (i) append(out, "and");
    append(out, formatNeed(needs[i]));
  }
  return out;
}

std::string formatType(const TypeRef& t) {
  if (t.kind == TypeRef::Kind::Named) return t.name.text;
  std::string out = "map " + formatType(*t.key) + " " + formatType(*t.value);
  if (t.max) out += " max " + t.max->text;
  return out;
}

namespace {
// Binding strength, for parenthesising only where needed (mirrors the grammar's order).
int precedence(const Expr& e) {
  switch (e.kind) {
  case ExprKind::Cond:
    return 1;
  case ExprKind::Or:
    return 2;
  case ExprKind::And:
    return 3;
  case ExprKind::Not:
    return 4;
  case ExprKind::Compare:
    return 5;
  case ExprKind::Binary:
    return e.text == "+" || e.text == "-" ? 6 : 7;
  case ExprKind::Neg:
  case ExprKind::Old:
  case ExprKind::Aggregate:
    return 8;
  case ExprKind::Index:
  case ExprKind::Call:
    return 9;
  default:
    return 10;
  }
}

std::string sub(const Expr& e, int min) {
  std::string s = formatExpr(e);
  return precedence(e) < min ? "( " + s + " )" : s;
}
} // namespace

std::string formatExpr(const Expr& e) {
  int p = precedence(e);
  switch (e.kind) {
  case ExprKind::Literal:
    return e.literal.text;
  case ExprKind::Name:
  case ExprKind::Path:
    return e.text;
  case ExprKind::Index:
    return sub(*e.operands[0], 9) + "[" + formatExpr(*e.operands[1]) + "]";
  case ExprKind::Call: {
    std::string out = e.text + "(";
    for (std::size_t i = 0; i < e.operands.size(); ++i) {
      if (i) out += ", ";
      out += formatExpr(*e.operands[i]);
    }
    return out + ")";
  }
  case ExprKind::Old:
  case ExprKind::Aggregate:
  case ExprKind::Not:
  case ExprKind::Neg:
    return e.text + " " + sub(*e.operands[0], p);
  case ExprKind::Binary:
  case ExprKind::Compare:
  case ExprKind::And:
  case ExprKind::Or:
    // left-associative: the right operand needs brackets at equal precedence
    return sub(*e.operands[0], p) + " " + e.text + " " + sub(*e.operands[1], p + 1);
  case ExprKind::Cond:
    return sub(*e.operands[1], p + 1) + " if " + sub(*e.operands[0], p + 1) + " else " +
           sub(*e.operands[2], p);
  }
  return {};
}

std::string formatStatement(const Stmt& s) {
  std::string out;
  switch (s.kind) {
  case StmtKind::Load:
    return "load " + as<LoadStmt>(s).file.text;
  case StmtKind::House:
  case StmtKind::First:
  case StmtKind::Over:
  case StmtKind::Under:
  case StmtKind::Deed:
  case StmtKind::Job:
  case StmtKind::Contract:
  case StmtKind::Map:
  case StmtKind::Next: {
    out = stmtKindName(s.kind);
    if (const auto& n = static_cast<const NameStmt&>(s).name) append(out, n->text);
    return out;
  }
  case StmtKind::Init: {
    const auto& n = as<InitStmt>(s);
    out = "init";
    append(out, formatFieldsPath(n.dest));
    if (n.fromSource) {
      append(out, "from");
      append(out, formatFieldsPath(n.src));
    } else {
      append(out, n.deprecatedTo ? "to" : "with");
      append(out, words(n.data.words));
    }
    return out;
  }
  case StmtKind::Framer:
  case StmtKind::Logger:
  case StmtKind::Log:
  case StmtKind::Server: {
    const auto& n = static_cast<const TaskerStmt&>(s);
    out = stmtKindName(s.kind);
    append(out, n.name.text);
    for (const auto& c : n.clauses) append(out, clauseText(c));
    return out;
  }
  case StmtKind::Loggee: {
    out = "loggee";
    for (const auto& l : as<LoggeeStmt>(s).loggees) {
      append(out, formatFieldsPath(l.path));
      if (l.tag) append(out, "as"), append(out, l.tag->text);
    }
    return out;
  }
  case StmtKind::Frame: {
    const auto& n = as<FrameStmt>(s);
    out = "frame " + n.name.text;
    if (n.over) append(out, "in"), append(out, n.over->text);
    if (n.via) append(out, "via"), append(out, formatPath(*n.via));
    return out;
  }
  case StmtKind::Context:
    return actionContextName(as<ContextStmt>(s).context);
  case StmtKind::Put:
  case StmtKind::Inc:
  case StmtKind::Copy:
  case StmtKind::Set: {
    const auto& n = static_cast<const DataStmt&>(s);
    out = stmtKindName(s.kind);
    if (n.framerGoal) {
      append(out, n.framerGoal->text);
      if (n.form == DataStmt::Form::FromSource) {
        append(out, n.deprecatedConnective ? "by" : "from");
        append(out, formatFieldsPath(n.src));
      } else {
        append(out, n.deprecatedConnective ? "to" : "with");
        append(out, n.goalValue->text);
      }
      return out;
    }
    if (s.kind == StmtKind::Put) {
      append(out, words(n.data.words));
      append(out, "into");
      append(out, formatFieldsPath(n.dest));
      return out;
    }
    if (s.kind == StmtKind::Copy) {
      append(out, formatFieldsPath(n.src));
      append(out, "into");
      append(out, formatFieldsPath(n.dest));
      return out;
    }
    append(out, formatFieldsPath(n.dest));
    if (n.form == DataStmt::Form::FromSource) {
      append(out, "from");
      append(out, formatFieldsPath(n.src));
    } else {
      append(out, "with");
      append(out, words(n.data.words));
    }
    return out;
  }
  case StmtKind::Print: {
    out = "print";
    append(out, as<PrintStmt>(s).message);
    return out;
  }
  case StmtKind::Do: {
    const auto& n = as<DoStmt>(s);
    out = "do";
    append(out, idents(n.kindParts));
    if (!n.asParts.empty()) append(out, "as"), append(out, idents(n.asParts));
    for (const auto& c : n.clauses) {
      append(out, doClauseName(c.kind));
      if (c.context) append(out, c.context->text);
      if (c.path) append(out, formatPath(*c.path));
      if (c.data) append(out, words(c.data->words));
      if (c.source) append(out, formatFieldsPath(*c.source));
    }
    return out;
  }
  case StmtKind::Go: {
    const auto& n = as<GoStmt>(s);
    out = "go " + n.target.text;
    if (!n.needs.empty()) append(out, "if"), append(out, formatNeeds(n.needs));
    return out;
  }
  case StmtKind::Let: {
    const auto& n = as<LetStmt>(s);
    out = n.me ? "let me if" : "let if";
    append(out, formatNeeds(n.needs));
    return out;
  }
  case StmtKind::Timeout:
  case StmtKind::Repeat:
    return std::string(stmtKindName(s.kind)) + " " + static_cast<const WordStmt&>(s).value.text;
  case StmtKind::Window: {
    const auto& n = as<WindowStmt>(s);
    out = "window " + n.length.text;
    if (n.every) append(out, "every"), append(out, n.every->text);
    return out;
  }
  case StmtKind::Buffer: {
    const auto& n = as<BufferStmt>(s);
    out = "buffer " + n.capacity.text;
    for (const auto& p : n.policy) append(out, p.text);
    return out;
  }
  case StmtKind::Aux: {
    const auto& n = as<AuxStmt>(s);
    out = "aux " + n.framer.text;
    if (n.tag) append(out, "as"), append(out, n.tag->text);
    if (n.via) append(out, "via"), append(out, formatPath(*n.via));
    if (n.conditional) append(out, "if"), append(out, formatNeeds(n.needs));
    return out;
  }
  case StmtKind::Done: {
    out = "done";
    append(out, idents(as<DoneStmt>(s).taskers));
    return out;
  }
  case StmtKind::Bid: {
    const auto& n = as<BidStmt>(s);
    out = std::string("bid ") + controlName(n.control);
    append(out, idents(n.taskers));
    if (n.at) append(out, "at"), append(out, formatFieldsPath(*n.at));
    return out;
  }
  case StmtKind::Fiat: {
    const auto& n = as<FiatStmt>(s);
    return std::string(controlName(n.control)) + " " + n.slave.text;
  }
  case StmtKind::Rear: {
    const auto& n = as<RearStmt>(s);
    out = "rear " + n.original.text;
    if (n.asMine) append(out, "as mine");
    if (n.beAux) append(out, "be aux");
    append(out, "in frame");
    append(out, n.frame.text);
    return out;
  }
  case StmtKind::Raze: {
    const auto& n = as<RazeStmt>(s);
    out = n.which == RazeStmt::Which::All     ? "raze all"
          : n.which == RazeStmt::Which::First ? "raze first"
                                              : "raze last";
    if (n.inFrame) append(out, "in frame");
    if (n.frame) append(out, n.frame->text);
    return out;
  }
  case StmtKind::Reserved: {
    const auto& n = as<ReservedStmt>(s);
    out = n.verb;
    append(out, n.rest);
    return out;
  }
  case StmtKind::Port: {
    const auto& n = as<PortStmt>(s);
    out = n.port == PortStmt::Kind::Input    ? "input"
          : n.port == PortStmt::Kind::Output ? "output"
                                             : "local";
    return out + " " + n.name.text + " as " + formatType(n.type);
  }
  case StmtKind::Assign: {
    const auto& n = as<AssignStmt>(s);
    out = "let " + n.target.name.text;
    if (n.target.index) out += "[" + formatExpr(*n.target.index) + "]";
    return out + " = " + formatExpr(*n.value);
  }
  case StmtKind::Fail: {
    const auto& n = as<FailStmt>(s);
    return "fail " + n.message.text + " if " + formatExpr(*n.condition);
  }
  case StmtKind::Flow: {
    const auto& n = as<FlowStmt>(s);
    out = "flow " + n.name.text;
    for (std::size_t i = 0; i < n.sources.size(); ++i)
      append(out, "from"), append(out, flowSource(n, i));
    for (const auto& w : n.clocks) append(out, "from every"), append(out, w.text);
    if (n.by) append(out, "by"), append(out, n.by->text);
    if (n.byLimit) append(out, "max"), append(out, n.byLimit->text);
    return out;
  }
  case StmtKind::Filter:
  case StmtKind::Invariant:
  case StmtKind::Requires:
  case StmtKind::Ensures:
    return std::string(stmtKindName(s.kind)) + " " +
           formatExpr(*static_cast<const ExprStmt&>(s).expr);
  case StmtKind::Reduce: {
    const auto& n = as<ReduceStmt>(s);
    return "reduce " + n.function.text + " into " + formatPath(n.into);
  }
  case StmtKind::Pay: {
    const auto& n = as<PayStmt>(s);
    return "pay " + formatExpr(*n.amount) + " to " + formatExpr(*n.recipient);
  }
  case StmtKind::Modifies: {
    out = "modifies";
    for (const auto& l : as<ModifiesStmt>(s).locations)
      append(out, l.name.text + (l.index ? "[" + formatExpr(*l.index) + "]" : ""));
    return out;
  }
  case StmtKind::Needs: {
    out = "needs";
    for (const auto& [k, v] : as<NeedsStmt>(s).items) append(out, k.text), append(out, v.text);
    return out;
  }
  case StmtKind::Price: {
    const auto& n = as<PriceStmt>(s);
    out = "price " + n.amount.text + " per " + n.unit.text;
    if (n.max) append(out, "max"), append(out, n.max->text);
    return out;
  }
  case StmtKind::Replicas: {
    const auto& n = as<ReplicasStmt>(s);
    out = "replicas " + n.count.text;
    if (n.placement) append(out, n.placement->text);
    return out;
  }
  case StmtKind::Trigger: {
    const auto& n = as<TriggerStmt>(s);
    if (n.every) return "trigger every " + n.every->text;
    return "trigger on " + formatPath(*n.on);
  }
  case StmtKind::JobRun: {
    const auto& n = as<JobRunStmt>(s);
    const char* kind = n.target == JobRunStmt::Kind::Framer ? "framer"
                       : n.target == JobRunStmt::Kind::Flow ? "flow"
                                                            : "deed";
    return std::string("run ") + kind + " " + n.name.text;
  }
  case StmtKind::Limit: {
    const auto& n = as<LimitStmt>(s);
    out = "limit " + n.amount.text;
    if (n.unit) append(out, n.unit->text);
    return out;
  }
  case StmtKind::State: {
    const auto& n = as<StateStmt>(s);
    return "state " + n.name.text + " as " + formatType(n.type);
  }
  case StmtKind::Action: {
    const auto& n = as<ActionStmt>(s);
    out = "action " + n.name.text;
    for (const auto& p : n.params) append(out, p.name.text + " as " + formatType(p.type));
    return out;
  }
  }
  return out;
}

std::vector<std::string> formatStatementLines(const Stmt& s) {
  constexpr std::size_t kWrapAt = 100;
  if (s.kind == StmtKind::Flow) {
    const auto& n = as<FlowStmt>(s);
    std::vector<std::string> lines{"flow " + n.name.text};
    for (std::size_t i = 0; i < n.sources.size(); ++i) lines.push_back("from " + flowSource(n, i));
    for (const auto& w : n.clocks) lines.push_back("from every " + w.text);
    if (n.by) lines.push_back("by " + n.by->text + (n.byLimit ? " max " + n.byLimit->text : ""));
    return lines;
  }
  std::string one = formatStatement(s);
  const std::vector<Need>* needs = nullptr;
  if (s.kind == StmtKind::Go)
    needs = &as<GoStmt>(s).needs;
  else if (s.kind == StmtKind::Let)
    needs = &as<LetStmt>(s).needs;
  else if (s.kind == StmtKind::Aux && as<AuxStmt>(s).conditional)
    needs = &as<AuxStmt>(s).needs;
  if (!needs || needs->size() < 2 || one.size() <= kWrapAt) return {one};
  // `go x if A` then one `and B` per continuation line
  std::string head = one.substr(0, one.size() - formatNeeds(*needs).size());
  std::vector<std::string> lines{head + formatNeed((*needs)[0])};
  for (std::size_t i = 1; i < needs->size(); ++i) lines.push_back("and " + formatNeed((*needs)[i]));
  return lines;
}

// ------------------------------------------------------------------------------- modules

namespace {

/// Tracks where a declaration sits (house ▸ framer ▸ frame ▸ context, or an extension block)
/// to give it its indentation level.
class Indenter {
public:
  int levelOf(const Stmt& s) {
    switch (s.kind) {
    case StmtKind::House:
      reset(Block::House);
      return 0;
    case StmtKind::Deed:
    case StmtKind::Flow:
    case StmtKind::Job:
    case StmtKind::Contract:
      reset(Block::Extension);
      return 0;
    case StmtKind::Load:
      return block_ == Block::None ? 0 : top();
    case StmtKind::Init:
      return block_ == Block::None ? 0 : 1;
    case StmtKind::Framer:
    case StmtKind::Logger:
    case StmtKind::Server:
      block_ = Block::House;
      framer_ = s.kind == StmtKind::Framer;
      logger_ = s.kind == StmtKind::Logger;
      frame_ = log_ = false;
      return 1;
    case StmtKind::First:
      return 2;
    case StmtKind::Log:
      log_ = true;
      return 2;
    case StmtKind::Loggee:
      return 3;
    case StmtKind::Frame:
      frame_ = true;
      context_ = false;
      return 2;
    case StmtKind::Over:
    case StmtKind::Under:
    case StmtKind::Next:
      return 3;
    case StmtKind::Context:
      context_ = as<ContextStmt>(s).context != ActionContext::Native;
      return 3;
    case StmtKind::Action:
      action_ = true;
      return 1;
    case StmtKind::State:
    case StmtKind::Invariant:
      action_ = false;
      return 1;
    case StmtKind::Requires:
    case StmtKind::Ensures:
    case StmtKind::Pay:
    case StmtKind::Modifies:
      return action_ ? 2 : 1;
    case StmtKind::Assign:
    case StmtKind::Fail:
      if (block_ == Block::Extension) return action_ ? 2 : 1;
      return actionLevel();
    case StmtKind::Port:
    case StmtKind::Window:
    case StmtKind::Buffer:
    case StmtKind::Map:
    case StmtKind::Filter:
    case StmtKind::Reduce:
    case StmtKind::Needs:
    case StmtKind::Price:
    case StmtKind::Replicas:
    case StmtKind::Trigger:
    case StmtKind::JobRun:
    case StmtKind::Limit:
      return block_ == Block::Extension ? 1 : actionLevel();
    default:
      // A transition, `let`, `aux` or `do ... at` keeps its own context: a context verb above
      // does not own it, so it stands at the frame's body level.
      if (frame_ && hasOwnContext(s)) return 3;
      return actionLevel();
    }
  }

private:
  enum class Block { None, House, Extension };
  void reset(Block b) {
    block_ = b;
    framer_ = logger_ = frame_ = log_ = context_ = action_ = false;
  }
  int top() const { return frame_ ? 3 : (framer_ || logger_) ? 2 : 1; }
  int actionLevel() const {
    if (frame_) return context_ ? 4 : 3;
    if (framer_ || logger_) return 2;
    return block_ == Block::None ? 0 : 1;
  }

  Block block_ = Block::None;
  bool framer_ = false, logger_ = false, frame_ = false, log_ = false, context_ = false;
  bool action_ = false;
};

} // namespace

void formatModule(const Module& module, const SourceManager& sources, std::ostream& out) {
  Indenter indenter;
  std::size_t c = 0; // next comment
  const auto& comments = module.comments;
  auto commentLine = [&](std::size_t i) {
    return sources.lineCol(module.file, comments[i].range.begin).line;
  };
  std::uint32_t lastLine = 0; // last source line written (statement or comment)
  bool wroteAnything = false;
  auto blankBefore = [&](std::uint32_t line) {
    if (wroteAnything && lastLine != 0 && line > lastLine + 1) out << '\n';
  };
  int level = 0;
  for (std::size_t i = 0; i < module.stmts.size(); ++i) {
    const Stmt& s = *module.stmts[i];
    std::uint32_t start = module.startLines[i];
    std::uint32_t end = module.endLines[i];
    level = indenter.levelOf(s);
    std::string indent(std::size_t(level) * 2, ' ');
    // Leading comments, indented like the declaration that follows them.
    while (c < comments.size() && commentLine(c) < start) {
      std::uint32_t line = commentLine(c);
      blankBefore(line);
      out << indent << comments[c].text << '\n';
      lastLine = line;
      wroteAnything = true;
      ++c;
    }
    blankBefore(start);
    auto lines = formatStatementLines(s);
    out << indent << lines[0];
    // A flow's sources line up with its stages; a condition's `and`s hang deeper.
    const char* hang = s.kind == StmtKind::Flow ? "  " : "    ";
    for (std::size_t k = 1; k < lines.size(); ++k) out << '\n' << indent << hang << lines[k];
    // Trailing comments on the declaration's lines.
    while (c < comments.size() && commentLine(c) <= end) {
      out << "  " << comments[c].text;
      ++c;
    }
    out << '\n';
    lastLine = end;
    wroteAnything = true;
  }
  std::string indent(std::size_t(level) * 2, ' ');
  for (; c < comments.size(); ++c) {
    std::uint32_t line = commentLine(c);
    blankBefore(line);
    out << (module.stmts.empty() ? "" : indent) << comments[c].text << '\n';
    lastLine = line;
    wroteAnything = true;
  }
}

// ------------------------------------------------------------------------------ AST dump

namespace {

std::string loc(const SourceManager& sm, const SourceRange& r) {
  if (!r.valid()) return "?";
  LineCol b = sm.lineCol(r.file, r.begin);
  LineCol e = sm.lineCol(r.file, r.end);
  return sm.name(r.file) + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) + "-" +
         std::to_string(e.line) + ":" + std::to_string(e.column);
}

const char* needKindName(NeedKind k) {
  switch (k) {
  case NeedKind::FramerState:
    return "framer-state";
  case NeedKind::AuxDone:
    return "aux-done";
  case NeedKind::Tasker:
    return "tasker";
  case NeedKind::Mark:
    return "mark";
  case NeedKind::Compare:
    return "compare";
  }
  return "compare";
}

const char* exprKindName(ExprKind k) {
  static const char* const names[] = {"literal", "name",      "path", "index", "call",
                                      "old",     "aggregate", "neg",  "not",   "binary",
                                      "compare", "and",       "or",   "cond"};
  return names[std::size_t(k)];
}

void dumpExpr(const Expr& e, const SourceManager& sm, std::ostream& out, int depth) {
  out << std::string(std::size_t(depth) * 2, ' ') << loc(sm, e.range) << ' '
      << exprKindName(e.kind);
  if (!e.text.empty()) out << " '" << e.text << "'";
  out << '\n';
  for (const auto& op : e.operands) dumpExpr(*op, sm, out, depth + 1);
}

void dumpNeeds(const std::vector<Need>& needs, const SourceManager& sm, std::ostream& out) {
  for (const auto& n : needs)
    out << "  " << loc(sm, n.range) << " need " << needKindName(n.kind) << ": " << formatNeed(n)
        << '\n';
}

void dumpModule(const Module& m, const SourceManager& sm, std::ostream& out) {
  out << "module " << sm.name(m.file) << '\n';
  for (const auto& sp : m.stmts) {
    const Stmt& s = *sp;
    out << loc(sm, s.range) << ' ' << stmtKindName(s.kind) << ": " << formatStatement(s) << '\n';
    switch (s.kind) {
    case StmtKind::Go:
      dumpNeeds(as<GoStmt>(s).needs, sm, out);
      break;
    case StmtKind::Let:
      dumpNeeds(as<LetStmt>(s).needs, sm, out);
      break;
    case StmtKind::Aux:
      dumpNeeds(as<AuxStmt>(s).needs, sm, out);
      break;
    case StmtKind::Assign:
      dumpExpr(*as<AssignStmt>(s).value, sm, out, 1);
      break;
    case StmtKind::Fail:
      dumpExpr(*as<FailStmt>(s).condition, sm, out, 1);
      break;
    case StmtKind::Filter:
    case StmtKind::Invariant:
    case StmtKind::Requires:
    case StmtKind::Ensures:
      dumpExpr(*static_cast<const ExprStmt&>(s).expr, sm, out, 1);
      break;
    case StmtKind::Load:
      if (!as<LoadStmt>(s).module) out << "  (not loaded)\n";
      break;
    default:
      break;
    }
  }
}

} // namespace

void dumpAst(const Program& program, const SourceManager& sources, std::ostream& out) {
  for (const auto& m : program.modules) dumpModule(*m, sources, out);
}

} // namespace flo::lang
