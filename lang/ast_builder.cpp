/// \file
/// Parse tree to AST, one declaration at a time. Shapes the grammar admits but the language
/// forbids (odd data counts, a conditional clone aux) are reported here with their location.
#include "lang/ast_builder.h"

#include <typeinfo>

#include "FloLexer.h"

namespace flo::lang {

using grammar::FloLexer;
using P = grammar::FloParser;

namespace {

/// The children of `ctx` that are `T` contexts, in order, as the generated `ctx->t()` returns
/// them, but found by comparing each child's exact type: the generated accessor tries a
/// dynamic_cast on every child, and each failed one compares type names across the runtime's
/// shared library. Only for a rule without labelled alternatives, whose contexts are all `T`.
template <class T> std::vector<T*> childrenOf(antlr4::ParserRuleContext* ctx) {
  std::vector<T*> out;
  for (antlr4::tree::ParseTree* c : ctx->children)
    if (typeid(*c) == typeid(T)) out.push_back(static_cast<T*>(c));
  return out;
}

/// `c` as a `T`, or null: the dynamic_cast for a labelled alternative's context, which no class
/// derives from, so that its exact type answers (one type_info compare, as childrenOf).
template <class T, class From> T* exactly(From* c) {
  return c && typeid(*c) == typeid(T) ? static_cast<T*>(c) : nullptr;
}

/// The first child of `ctx` that is a `T` context (null if none), as childrenOf.
template <class T> T* childOf(antlr4::ParserRuleContext* ctx) {
  for (antlr4::tree::ParseTree* c : ctx->children)
    if (typeid(*c) == typeid(T)) return static_cast<T*>(c);
  return nullptr;
}

} // namespace

SourceRange AstBuilder::range(antlr4::ParserRuleContext* ctx) const {
  auto* start = ctx->getStart();
  auto* stop = ctx->getStop();
  auto begin = std::uint32_t(start->getStartIndex());
  std::uint32_t end = begin;
  if (stop && stop->getType() != antlr4::Token::EOF && stop->getType() != FloLexer::NEWLINE &&
      stop->getStopIndex() + 1 > begin)
    end = std::uint32_t(stop->getStopIndex() + 1);
  else if (stop && stop->getType() == FloLexer::NEWLINE && stop->getStartIndex() > begin)
    end = std::uint32_t(stop->getStartIndex());
  return {file_, begin, end};
}

SourceRange AstBuilder::range(antlr4::Token* t) const {
  auto begin = std::uint32_t(t->getStartIndex());
  return {file_, begin, std::max(begin, std::uint32_t(t->getStopIndex() + 1))};
}

Ident AstBuilder::ident(antlr4::Token* t) const {
  return {t->getText(), range(t)};
}
Ident AstBuilder::ident(P::NameContext* ctx) const {
  return ident(ctx->getStart());
}

Word AstBuilder::word(antlr4::Token* t) const {
  Word w;
  w.text = t->getText();
  w.range = range(t);
  switch (t->getType()) {
  case FloLexer::NUMBER:
    w.kind = WordKind::Number;
    break;
  case FloLexer::DQ_STRING:
  case FloLexer::SQ_STRING:
    w.kind = WordKind::String;
    break;
  case FloLexer::POINT:
    w.kind = WordKind::Point;
    break;
  case FloLexer::COORD:
    w.kind = WordKind::Coord;
    break;
  case FloLexer::DOTPATH:
    w.kind = WordKind::DotPath;
    break;
  case FloLexer::RELPATH:
    w.kind = WordKind::RelPath;
    break;
  case FloLexer::CHUNK:
  case FloLexer::PLUS:
  case FloLexer::MINUS:
  case FloLexer::STAR:
  case FloLexer::SLASH:
  case FloLexer::PERCENT:
  case FloLexer::ASSIGN:
    w.kind = WordKind::Chunk;
    break;
  default:
    w.kind = WordKind::Name;
    break;
  }
  return w;
}

Path AstBuilder::path(P::PathContext* ctx) const {
  Path p;
  p.head = word(childOf<P::PathHeadContext>(ctx)->getStart());
  p.range = range(ctx);
  if (ctx->children.size() > 1)
    for (auto* rel : childrenOf<P::RelationContext>(ctx)) {
      Relation r;
      r.range = range(rel);
      if (rel->ROOT())
        r.kind = RelationKind::Root;
      else if (rel->ME())
        r.kind = RelationKind::Me;
      else if (rel->FRAMER())
        r.kind = RelationKind::Framer;
      else if (rel->FRAME())
        r.kind = RelationKind::Frame;
      else
        r.kind = RelationKind::Actor;
      if (childOf<P::NameContext>(rel)) r.target = ident(childOf<P::NameContext>(rel));
      p.relations.push_back(std::move(r));
    }
  return p;
}

FieldsPath AstBuilder::fieldsPath(P::FieldsPathContext* ctx) const {
  FieldsPath fp;
  for (antlr4::tree::ParseTree* c : ctx->children) {
    if (typeid(*c) == typeid(P::NameContext))
      fp.fields.push_back(ident(static_cast<P::NameContext*>(c)));
    else if (typeid(*c) == typeid(P::PathContext))
      fp.path = path(static_cast<P::PathContext*>(c));
  }
  fp.range = range(ctx);
  return fp;
}

DirectData AstBuilder::data(P::DirectDataContext* ctx) const {
  DirectData d;
  d.words.reserve(ctx->children.size());
  for (auto* w : childrenOf<P::WordContext>(ctx)) d.words.push_back(word(w));
  d.range = range(ctx);
  return d;
}

// One value, or field/value pairs (FLOSCRIPT.md §7).
bool AstBuilder::checkData(const DirectData& d, std::string_view verb) {
  std::size_t n = d.words.size();
  if (n == 1 || n % 2 == 0) return true;
  diags_.error(d.words.back().range, "odd number of data words in `" + std::string(verb) +
                                         "`: a field is missing its value");
  diags_.note({}, "data is one value, or field/value pairs: `put 1 into .x` or "
                  "`put north 1 east 2 into .pos`");
  return false;
}

Need AstBuilder::need(P::NeedContext* ctx) const {
  Need n;
  // `not` is reserved: no need term starts with it.
  n.negated = ctx->getStart()->getType() == FloLexer::NOT;
  n.range = range(ctx);
  auto* term = ctx->needTerm();
  auto comparisonOf = [](P::ComparisonContext* c) {
    switch (c->getStart()->getType()) {
    case FloLexer::EQ:
      return Comparison::Eq;
    case FloLexer::NE:
      return Comparison::Ne;
    case FloLexer::LT:
      return Comparison::Lt;
    case FloLexer::LE:
      return Comparison::Le;
    case FloLexer::GE:
      return Comparison::Ge;
    default:
      return Comparison::Gt;
    }
  };
  if (auto* fs = exactly<P::FramerStateNeedContext>(term)) {
    n.kind = NeedKind::FramerState;
    n.recurred = fs->which->getType() == FloLexer::RECURRED;
    n.state.path.head = word(fs->which);
    n.state.path.range = n.state.range = range(fs->which);
    n.hasRe = fs->RE() != nullptr;
    if (fs->reName) n.re = ident(fs->reName);
    n.comparison = comparisonOf(childOf<P::ComparisonContext>(fs));
    n.goal = fieldsPath(childOf<P::FieldsPathContext>(childOf<P::GoalTermContext>(fs)));
    if (childOf<P::ToleranceContext>(fs))
      n.tolerance = word(childOf<P::WordContext>(childOf<P::ToleranceContext>(fs)));
  } else if (auto* ad = exactly<P::AuxDoneNeedContext>(term)) {
    n.kind = NeedKind::AuxDone;
    n.auxKeyword = ad->AUX() != nullptr;
    n.auxForm = ad->ANY() ? AuxForm::Any : ad->ALL() ? AuxForm::All : AuxForm::Named;
    if (ad->auxName) n.name = ident(ad->auxName);
    if (auto* place = ad->auxPlace()) {
      n.inFrame = place->FRAME() != nullptr;
      n.inFramer = place->FRAMER() != nullptr;
      if (place->frame) n.frame = ident(place->frame);
      if (place->framer) n.framer = ident(place->framer);
    }
  } else if (auto* tn = exactly<P::TaskerNeedContext>(term)) {
    n.kind = NeedKind::Tasker;
    n.name = ident(childOf<P::NameContext>(tn));
    switch (tn->status->getType()) {
    case FloLexer::DONE:
      n.status = TaskerStatus::Done;
      break;
    case FloLexer::READIED:
      n.status = TaskerStatus::Readied;
      break;
    case FloLexer::STARTED:
      n.status = TaskerStatus::Started;
      break;
    case FloLexer::RUNNING:
      n.status = TaskerStatus::Running;
      break;
    case FloLexer::STOPPED:
      n.status = TaskerStatus::Stopped;
      break;
    default:
      n.status = TaskerStatus::Aborted;
      break;
    }
  } else if (auto* mk = exactly<P::MarkNeedContext>(term)) {
    n.kind = NeedKind::Mark;
    n.changed = mk->mark->getType() == FloLexer::CHANGED;
    n.state.path = path(childOf<P::PathContext>(mk));
    n.state.range = n.state.path.range;
    n.inFrame = mk->FRAME() != nullptr;
    if (mk->markFrame) n.frame = ident(mk->markFrame);
    if (mk->marker) n.by = ident(mk->marker);
  } else {
    auto* cmp = static_cast<P::CompareNeedContext*>(term);
    n.kind = NeedKind::Compare;
    n.state = fieldsPath(childOf<P::FieldsPathContext>(cmp));
    if (childOf<P::ComparisonContext>(cmp)) {
      n.comparison = comparisonOf(childOf<P::ComparisonContext>(cmp));
      n.goal = fieldsPath(childOf<P::FieldsPathContext>(childOf<P::GoalTermContext>(cmp)));
      if (childOf<P::ToleranceContext>(cmp))
        n.tolerance = word(childOf<P::WordContext>(childOf<P::ToleranceContext>(cmp)));
    }
  }
  return n;
}

std::vector<Need> AstBuilder::needs(P::NeedsContext* ctx) const {
  std::vector<Need> out;
  if (!ctx) return out;
  out.reserve(ctx->children.size() / 2 + 1);
  for (auto* n : childrenOf<P::NeedContext>(ctx)) out.push_back(need(n));
  return out;
}

TypeRef AstBuilder::type(P::TypeContext* ctx) const {
  TypeRef t;
  t.range = range(ctx);
  if (auto* m = exactly<P::MapTypeContext>(ctx)) {
    t.kind = TypeRef::Kind::Map;
    t.key = std::make_unique<TypeRef>(type(m->key));
    t.value = std::make_unique<TypeRef>(type(m->value));
    if (childOf<P::WordContext>(m)) t.max = word(childOf<P::WordContext>(m));
  } else {
    t.name = ident(static_cast<P::NamedTypeContext*>(ctx)->name());
  }
  return t;
}

std::unique_ptr<Expr> AstBuilder::primary(P::PrimaryContext* ctx) const {
  if (auto* paren = exactly<P::ParenPrimaryContext>(ctx)) return expr(paren->expr());
  auto e = std::make_unique<Expr>();
  e->range = range(ctx);
  e->text = ctx->getStart()->getText();
  if (exactly<P::LiteralPrimaryContext>(ctx)) {
    e->kind = ExprKind::Literal;
    e->literal = word(ctx->getStart());
  } else if (exactly<P::PathPrimaryContext>(ctx)) {
    e->kind = ExprKind::Path;
  } else {
    e->kind = ExprKind::Name;
  }
  return e;
}

std::unique_ptr<Expr> AstBuilder::expr(P::ExprContext* ctx) const {
  auto e = std::make_unique<Expr>();
  e->range = range(ctx);
  auto binary = [&](ExprKind kind, P::ExprContext* a, P::ExprContext* b, std::string op) {
    e->kind = kind;
    e->text = std::move(op);
    e->operands.push_back(expr(a));
    e->operands.push_back(expr(b));
  };
  if (auto* p = exactly<P::PrimaryExprContext>(ctx)) return primary(p->primary());
  if (auto* x = exactly<P::IndexExprContext>(ctx)) {
    binary(ExprKind::Index, x->expr(0), x->expr(1), "[]");
  } else if (auto* x = exactly<P::CallExprContext>(ctx)) {
    e->kind = ExprKind::Call;
    e->text = childOf<P::NameContext>(x)->getText();
    for (auto* a : x->expr()) e->operands.push_back(expr(a));
  } else if (auto* x = exactly<P::OldExprContext>(ctx)) {
    e->kind = ExprKind::Old;
    e->text = "old";
    e->operands.push_back(expr(x->expr()));
  } else if (auto* x = exactly<P::AggregateExprContext>(ctx)) {
    e->kind = ExprKind::Aggregate;
    e->text = x->agg->getText();
    e->operands.push_back(expr(x->expr()));
  } else if (auto* x = exactly<P::NegExprContext>(ctx)) {
    e->kind = ExprKind::Neg;
    e->text = "-";
    e->operands.push_back(expr(x->expr()));
  } else if (auto* x = exactly<P::NotExprContext>(ctx)) {
    e->kind = ExprKind::Not;
    e->text = "not";
    e->operands.push_back(expr(x->expr()));
  } else if (auto* x = exactly<P::MulExprContext>(ctx)) {
    binary(ExprKind::Binary, x->expr(0), x->expr(1), x->op->getText());
  } else if (auto* x = exactly<P::AddExprContext>(ctx)) {
    binary(ExprKind::Binary, x->expr(0), x->expr(1), x->op->getText());
  } else if (auto* x = exactly<P::CompareExprContext>(ctx)) {
    binary(ExprKind::Compare, x->expr(0), x->expr(1), childOf<P::ComparisonContext>(x)->getText());
    switch (childOf<P::ComparisonContext>(x)->getStart()->getType()) {
    case FloLexer::EQ:
      e->comparison = Comparison::Eq;
      break;
    case FloLexer::NE:
      e->comparison = Comparison::Ne;
      break;
    case FloLexer::LT:
      e->comparison = Comparison::Lt;
      break;
    case FloLexer::LE:
      e->comparison = Comparison::Le;
      break;
    case FloLexer::GE:
      e->comparison = Comparison::Ge;
      break;
    default:
      e->comparison = Comparison::Gt;
      break;
    }
  } else if (auto* x = exactly<P::AndExprContext>(ctx)) {
    binary(ExprKind::And, x->expr(0), x->expr(1), "and");
  } else if (auto* x = exactly<P::OrExprContext>(ctx)) {
    binary(ExprKind::Or, x->expr(0), x->expr(1), "or");
  } else if (auto* x = exactly<P::CondExprContext>(ctx)) {
    e->kind = ExprKind::Cond;
    e->text = "if";
    // `a if c else b`: operands are condition, then-value, else-value.
    e->operands.push_back(expr(x->expr(1)));
    e->operands.push_back(expr(x->expr(0)));
    e->operands.push_back(expr(x->expr(2)));
  }
  return e;
}

std::vector<TaskerClause>
AstBuilder::framerClauses(const std::vector<P::FramerClauseContext*>& cs) const {
  std::vector<TaskerClause> out;
  for (auto* c : cs) {
    TaskerClause tc{};
    tc.range = range(c);
    switch (c->getStart()->getType()) {
    case FloLexer::BE:
      tc.kind = TaskerClause::Kind::Be, tc.name = ident(c->schedule);
      break;
    case FloLexer::AT:
      tc.kind = TaskerClause::Kind::At, tc.word = word(childOf<P::WordContext>(c));
      break;
    case FloLexer::IN:
      tc.kind = TaskerClause::Kind::In, tc.name = ident(c->order);
      break;
    case FloLexer::FIRST:
      tc.kind = TaskerClause::Kind::First, tc.name = ident(childOf<P::NameContext>(c));
      break;
    default:
      tc.kind = TaskerClause::Kind::Via, tc.path = path(childOf<P::PathContext>(c));
      break;
    }
    out.push_back(std::move(tc));
  }
  return out;
}

std::vector<TaskerClause>
AstBuilder::loggerClauses(const std::vector<P::LoggerClauseContext*>& cs) const {
  std::vector<TaskerClause> out;
  for (auto* c : cs) {
    TaskerClause tc{};
    tc.range = range(c);
    switch (c->getStart()->getType()) {
    case FloLexer::AT:
      tc.kind = TaskerClause::Kind::At;
      break;
    case FloLexer::TO:
      tc.kind = TaskerClause::Kind::To;
      break;
    case FloLexer::BE:
      tc.kind = TaskerClause::Kind::Be, tc.name = ident(c->schedule);
      break;
    case FloLexer::IN:
      tc.kind = TaskerClause::Kind::In, tc.name = ident(c->order);
      break;
    case FloLexer::FLUSH:
      tc.kind = TaskerClause::Kind::Flush;
      break;
    case FloLexer::KEEP:
      tc.kind = TaskerClause::Kind::Keep;
      break;
    case FloLexer::CYCLE:
      tc.kind = TaskerClause::Kind::Cycle;
      break;
    case FloLexer::SIZE:
      tc.kind = TaskerClause::Kind::Size;
      break;
    default:
      tc.kind = TaskerClause::Kind::Reuse;
      break;
    }
    if (childOf<P::WordContext>(c)) tc.word = word(childOf<P::WordContext>(c));
    out.push_back(std::move(tc));
  }
  return out;
}

std::vector<TaskerClause>
AstBuilder::logClauses(const std::vector<P::LogClauseContext*>& cs) const {
  std::vector<TaskerClause> out;
  for (auto* c : cs) {
    TaskerClause tc{};
    tc.range = range(c);
    switch (c->getStart()->getType()) {
    case FloLexer::AS:
      tc.kind = TaskerClause::Kind::As, tc.name = ident(c->kind);
      break;
    case FloLexer::TO:
      tc.kind = TaskerClause::Kind::To, tc.word = word(childOf<P::WordContext>(c));
      break;
    default:
      tc.kind = TaskerClause::Kind::On, tc.name = ident(c->logRule);
      break;
    }
    out.push_back(std::move(tc));
  }
  return out;
}

std::vector<TaskerClause>
AstBuilder::serverClauses(const std::vector<P::ServerClauseContext*>& cs) const {
  std::vector<TaskerClause> out;
  for (auto* c : cs) {
    TaskerClause tc{};
    tc.range = range(c);
    switch (c->getStart()->getType()) {
    case FloLexer::AT:
      tc.kind = TaskerClause::Kind::At;
      break;
    case FloLexer::BE:
      tc.kind = TaskerClause::Kind::Be, tc.name = ident(c->schedule);
      break;
    case FloLexer::RX:
      tc.kind = TaskerClause::Kind::Rx;
      break;
    case FloLexer::TX:
      tc.kind = TaskerClause::Kind::Tx;
      break;
    case FloLexer::IN:
      tc.kind = TaskerClause::Kind::In, tc.name = ident(c->order);
      break;
    case FloLexer::TO:
      tc.kind = TaskerClause::Kind::To;
      break;
    case FloLexer::PER:
      tc.kind = TaskerClause::Kind::Per, tc.data = data(c->directData());
      break;
    default:
      tc.kind = TaskerClause::Kind::For,
      tc.fieldsPath = fieldsPath(childOf<P::FieldsPathContext>(c));
      break;
    }
    if (childOf<P::WordContext>(c)) tc.word = word(childOf<P::WordContext>(c));
    out.push_back(std::move(tc));
  }
  return out;
}

// Ioflo joins the words after `print` with one space; words our lexer split (at brackets and
// commas) are glued back when nothing separated them in the source. Quoted strings always stand
// apart, as in Ioflo's tokenizer (`x"y"z` prints `x "y" z`).
std::string AstBuilder::printMessage(P::PrintStmtContext* ctx) const {
  std::string message;
  antlr4::Token* prev = nullptr;
  for (auto* any : ctx->anyToken()) {
    antlr4::Token* t = any->getStart();
    bool quoted = t->getType() == FloLexer::DQ_STRING || t->getType() == FloLexer::SQ_STRING;
    bool prevQuoted =
        prev && (prev->getType() == FloLexer::DQ_STRING || prev->getType() == FloLexer::SQ_STRING);
    if (prev) {
      bool adjacent = prev->getStopIndex() + 1 == t->getStartIndex();
      if (!adjacent || quoted || prevQuoted) message += ' ';
    }
    message += t->getText();
    prev = t;
  }
  return message;
}

namespace {
template <class T> std::unique_ptr<T> node(SourceRange range, SourceRange verb) {
  auto n = std::make_unique<T>();
  n->range = range;
  n->verbRange = verb;
  return n;
}
std::unique_ptr<NameStmt> nameNode(StmtKind kind, SourceRange range, SourceRange verb) {
  auto n = std::make_unique<NameStmt>(kind);
  n->range = range;
  n->verbRange = verb;
  return n;
}
Control controlOf(std::size_t type) {
  switch (type) {
  case FloLexer::START:
    return Control::Start;
  case FloLexer::RUN:
    return Control::Run;
  case FloLexer::STOP:
    return Control::Stop;
  case FloLexer::ABORT:
    return Control::Abort;
  default:
    return Control::Ready;
  }
}
} // namespace

std::unique_ptr<Stmt> AstBuilder::build(P::StatementContext* ctx) {
  SourceRange all = range(ctx);
  SourceRange verb = range(ctx->getStart());
  const std::size_t verb_ = ctx->getStart()->getType();

  // FloScript: file, house, store
  if (verb_ == FloLexer::LOAD)
    if (auto* c = exactly<P::LoadStmtContext>(ctx)) {
      auto n = node<LoadStmt>(all, verb);
      n->file = word(childOf<P::WordContext>(c));
      return n;
    }
  if (verb_ == FloLexer::HOUSE)
    if (auto* c = exactly<P::HouseStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::House, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::INIT)
    if (auto* c = exactly<P::InitWithStmtContext>(ctx)) {
      auto n = node<InitStmt>(all, verb);
      n->dest.path = path(c->dest);
      n->dest.range = n->dest.path.range;
      n->deprecatedTo = c->TO() != nullptr;
      n->data = data(c->directData());
      if (!checkData(n->data, "init")) return nullptr;
      return n;
    }
  if (verb_ == FloLexer::INIT)
    if (auto* c = exactly<P::InitFromStmtContext>(ctx)) {
      auto n = node<InitStmt>(all, verb);
      n->fromSource = true;
      n->dest = fieldsPath(c->dst);
      n->src = fieldsPath(c->src);
      return n;
    }
  // taskers
  if (verb_ == FloLexer::FRAMER)
    if (auto* c = exactly<P::FramerStmtContext>(ctx)) {
      auto n = std::make_unique<TaskerStmt>(StmtKind::Framer);
      n->range = all, n->verbRange = verb;
      n->name = ident(childOf<P::NameContext>(c));
      n->clauses = framerClauses(c->framerClause());
      return n;
    }
  if (verb_ == FloLexer::FIRST)
    if (auto* c = exactly<P::FirstStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::First, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::LOGGER)
    if (auto* c = exactly<P::LoggerStmtContext>(ctx)) {
      auto n = std::make_unique<TaskerStmt>(StmtKind::Logger);
      n->range = all, n->verbRange = verb;
      n->name = ident(childOf<P::NameContext>(c));
      n->clauses = loggerClauses(c->loggerClause());
      return n;
    }
  if (verb_ == FloLexer::LOG)
    if (auto* c = exactly<P::LogStmtContext>(ctx)) {
      auto n = std::make_unique<TaskerStmt>(StmtKind::Log);
      n->range = all, n->verbRange = verb;
      n->name = ident(childOf<P::NameContext>(c));
      n->clauses = logClauses(c->logClause());
      return n;
    }
  if (verb_ == FloLexer::LOGGEE)
    if (auto* c = exactly<P::LoggeeStmtContext>(ctx)) {
      auto n = node<LoggeeStmt>(all, verb);
      for (auto* l : c->loggee()) {
        Loggee item;
        item.path = fieldsPath(childOf<P::FieldsPathContext>(l));
        if (l->tag) item.tag = ident(l->tag);
        item.range = range(l);
        n->loggees.push_back(std::move(item));
      }
      return n;
    }
  if (verb_ == FloLexer::SERVER)
    if (auto* c = exactly<P::ServerStmtContext>(ctx)) {
      auto n = std::make_unique<TaskerStmt>(StmtKind::Server);
      n->range = all, n->verbRange = verb;
      n->name = ident(childOf<P::NameContext>(c));
      n->clauses = serverClauses(c->serverClause());
      return n;
    }
  // frame structure
  if (verb_ == FloLexer::FRAME)
    if (auto* c = exactly<P::FrameStmtContext>(ctx)) {
      auto n = node<FrameStmt>(all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      for (auto* fc : childrenOf<P::FrameClauseContext>(c)) {
        if (fc->over) {
          if (n->over)
            diags_.warning(Warning::Duplicate, range(fc),
                           "frame has two `in` clauses; "
                           "the later one wins");
          n->over = ident(fc->over);
        } else {
          if (n->via)
            diags_.warning(Warning::Duplicate, range(fc),
                           "frame has two `via` clauses; "
                           "the later one wins");
          n->via = path(childOf<P::PathContext>(fc));
        }
      }
      return n;
    }
  if (verb_ == FloLexer::OVER)
    if (auto* c = exactly<P::OverStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Over, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::UNDER)
    if (auto* c = exactly<P::UnderStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Under, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::NEXT)
    if (auto* c = exactly<P::NextStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Next, all, verb);
      if (childOf<P::NameContext>(c)) n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (auto* c = exactly<P::ContextStmtContext>(ctx)) {
    auto n = node<ContextStmt>(all, verb);
    n->context = *actionContextByName(c->getStart()->getText());
    return n;
  }
  // data
  if (verb_ == FloLexer::PUT)
    if (auto* c = exactly<P::PutStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Put);
      n->range = all, n->verbRange = verb;
      n->data = data(c->directData());
      n->dest = fieldsPath(childOf<P::FieldsPathContext>(c));
      if (!checkData(n->data, "put")) return nullptr;
      return n;
    }
  if (verb_ == FloLexer::INC)
    if (auto* c = exactly<P::IncWithStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Inc);
      n->range = all, n->verbRange = verb;
      n->dest = fieldsPath(c->dst);
      n->data = data(c->directData());
      if (!checkData(n->data, "inc")) return nullptr;
      return n;
    }
  if (verb_ == FloLexer::INC)
    if (auto* c = exactly<P::IncFromStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Inc);
      n->range = all, n->verbRange = verb;
      n->form = DataStmt::Form::FromSource;
      n->dest = fieldsPath(c->dst);
      n->src = fieldsPath(c->src);
      return n;
    }
  if (verb_ == FloLexer::COPY)
    if (auto* c = exactly<P::CopyStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Copy);
      n->range = all, n->verbRange = verb;
      n->form = DataStmt::Form::FromSource;
      n->src = fieldsPath(c->src);
      n->dest = fieldsPath(c->dst);
      return n;
    }
  if (verb_ == FloLexer::SET)
    if (auto* c = exactly<P::SetFramerGoalStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Set);
      n->range = all, n->verbRange = verb;
      n->framerGoal = ident(c->which);
      n->deprecatedConnective = c->TO() != nullptr;
      n->goalValue = word(childOf<P::WordContext>(c));
      return n;
    }
  if (verb_ == FloLexer::SET)
    if (auto* c = exactly<P::SetFramerGoalFromStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Set);
      n->range = all, n->verbRange = verb;
      n->form = DataStmt::Form::FromSource;
      n->framerGoal = ident(c->which);
      n->deprecatedConnective = c->BY() != nullptr;
      n->src = fieldsPath(childOf<P::FieldsPathContext>(c));
      return n;
    }
  if (verb_ == FloLexer::SET)
    if (auto* c = exactly<P::SetWithStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Set);
      n->range = all, n->verbRange = verb;
      n->dest = fieldsPath(c->dst);
      n->data = data(c->directData());
      if (!checkData(n->data, "set")) return nullptr;
      return n;
    }
  if (verb_ == FloLexer::SET)
    if (auto* c = exactly<P::SetFromStmtContext>(ctx)) {
      auto n = std::make_unique<DataStmt>(StmtKind::Set);
      n->range = all, n->verbRange = verb;
      n->form = DataStmt::Form::FromSource;
      n->dest = fieldsPath(c->dst);
      n->src = fieldsPath(c->src);
      return n;
    }
  if (verb_ == FloLexer::PRINT)
    if (auto* c = exactly<P::PrintStmtContext>(ctx)) {
      auto n = node<PrintStmt>(all, verb);
      n->message = printMessage(c);
      return n;
    }
  // behaviours
  if (verb_ == FloLexer::DO)
    if (auto* c = exactly<P::DoStmtContext>(ctx)) {
      auto n = node<DoStmt>(all, verb);
      for (auto* w : c->word()) {
        Word part = word(w);
        n->kindParts.push_back({part.text, part.range});
      }
      for (auto* dc : c->doClause()) {
        if (auto* a = exactly<P::DoAsClauseContext>(dc)) {
          if (!n->asParts.empty())
            diags_.warning(Warning::Duplicate, range(a), "deed has two `as` names; the later wins");
          n->asParts.clear();
          for (auto* nm : a->name()) n->asParts.push_back(ident(nm));
          n->asRange = range(a);
          continue;
        }
        DoClause cl{};
        cl.range = range(dc);
        if (auto* x = exactly<P::DoAtClauseContext>(dc)) {
          cl.kind = DoClause::Kind::At, cl.context = ident(x->ctx);
        } else if (auto* x = exactly<P::DoViaClauseContext>(dc)) {
          cl.kind = DoClause::Kind::Via, cl.path = path(childOf<P::PathContext>(x));
        } else if (auto* x = exactly<P::DoWithClauseContext>(dc)) {
          cl.kind = DoClause::Kind::With, cl.data = data(x->directData());
        } else if (auto* x = exactly<P::DoFromClauseContext>(dc)) {
          cl.kind = DoClause::Kind::From, cl.source = fieldsPath(childOf<P::FieldsPathContext>(x));
        } else if (auto* x = exactly<P::DoPerClauseContext>(dc)) {
          cl.kind = DoClause::Kind::Per, cl.data = data(x->directData());
        } else if (auto* x = exactly<P::DoForClauseContext>(dc)) {
          cl.kind = DoClause::Kind::For, cl.source = fieldsPath(childOf<P::FieldsPathContext>(x));
        } else if (auto* x = exactly<P::DoCumClauseContext>(dc)) {
          cl.kind = DoClause::Kind::Cum, cl.data = data(x->directData());
        } else if (auto* x = exactly<P::DoQuaClauseContext>(dc)) {
          cl.kind = DoClause::Kind::Qua, cl.source = fieldsPath(childOf<P::FieldsPathContext>(x));
        }
        if (cl.data && !checkData(*cl.data, "do")) return nullptr;
        n->clauses.push_back(std::move(cl));
      }
      return n;
    }
  // transitions and conditions
  if (verb_ == FloLexer::GO)
    if (auto* c = exactly<P::GoStmtContext>(ctx)) {
      auto n = node<GoStmt>(all, verb);
      n->target = ident(c->target);
      n->needs = needs(childOf<P::NeedsContext>(c));
      return n;
    }
  if (verb_ == FloLexer::LET)
    if (auto* c = exactly<P::LetStmtContext>(ctx)) {
      auto n = node<LetStmt>(all, verb);
      n->me = c->ME() != nullptr;
      n->needs = needs(childOf<P::NeedsContext>(c));
      return n;
    }
  if (verb_ == FloLexer::TIMEOUT)
    if (auto* c = exactly<P::TimeoutStmtContext>(ctx)) {
      auto n = std::make_unique<WordStmt>(StmtKind::Timeout);
      n->range = all, n->verbRange = verb;
      n->value = word(childOf<P::WordContext>(c));
      return n;
    }
  if (verb_ == FloLexer::REPEAT)
    if (auto* c = exactly<P::RepeatStmtContext>(ctx)) {
      auto n = std::make_unique<WordStmt>(StmtKind::Repeat);
      n->range = all, n->verbRange = verb;
      n->value = word(childOf<P::WordContext>(c));
      return n;
    }
  if (verb_ == FloLexer::AUX)
    if (auto* c = exactly<P::AuxCloneStmtContext>(ctx)) {
      auto n = node<AuxStmt>(all, verb);
      n->framer = ident(c->framer);
      n->tag = ident(c->tag);
      if (childOf<P::PathContext>(c)) n->via = path(childOf<P::PathContext>(c));
      if (childOf<P::NeedsContext>(c)) {
        diags_.error(range(childOf<P::NeedsContext>(c)), "a conditional aux cannot be a clone");
        diags_.note({}, "Ioflo's builder rejects `aux T as TAG if ...`; attach the clone with "
                        "`aux T as TAG` and put the condition on a plain aux framer");
        return nullptr;
      }
      return n;
    }
  if (verb_ == FloLexer::AUX)
    if (auto* c = exactly<P::AuxStmtContext>(ctx)) {
      auto n = node<AuxStmt>(all, verb);
      n->framer = ident(childOf<P::NameContext>(c));
      n->conditional = childOf<P::NeedsContext>(c) != nullptr;
      n->needs = needs(childOf<P::NeedsContext>(c));
      return n;
    }
  if (verb_ == FloLexer::DONE)
    if (auto* c = exactly<P::DoneStmtContext>(ctx)) {
      auto n = node<DoneStmt>(all, verb);
      for (auto* nm : c->name()) n->taskers.push_back(ident(nm));
      return n;
    }
  // tasker control
  if (verb_ == FloLexer::BID)
    if (auto* c = exactly<P::BidStmtContext>(ctx)) {
      auto n = node<BidStmt>(all, verb);
      n->control = controlOf(c->control->getType());
      for (auto* nm : c->name()) n->taskers.push_back(ident(nm));
      if (childOf<P::GoalTermContext>(c))
        n->at = fieldsPath(childOf<P::FieldsPathContext>(childOf<P::GoalTermContext>(c)));
      return n;
    }
  if (auto* c = exactly<P::FiatStmtContext>(ctx)) {
    auto n = node<FiatStmt>(all, verb);
    n->control = controlOf(c->fiat->getType());
    n->slave = ident(childOf<P::NameContext>(c));
    return n;
  }
  if (verb_ == FloLexer::REAR)
    if (auto* c = exactly<P::RearStmtContext>(ctx)) {
      auto n = node<RearStmt>(all, verb);
      n->original = ident(c->original);
      n->asMine = c->MINE() != nullptr;
      n->beAux = c->BE() != nullptr;
      n->frame = ident(c->frame);
      return n;
    }
  if (verb_ == FloLexer::RAZE)
    if (auto* c = exactly<P::RazeStmtContext>(ctx)) {
      auto n = node<RazeStmt>(all, verb);
      switch (c->which->getType()) {
      case FloLexer::ALL:
        n->which = RazeStmt::Which::All;
        break;
      case FloLexer::FIRST:
        n->which = RazeStmt::Which::First;
        break;
      default:
        n->which = RazeStmt::Which::Last;
        break;
      }
      n->inFrame = c->FRAME() != nullptr;
      if (childOf<P::NameContext>(c)) n->frame = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (auto* c = exactly<P::ReservedStmtContext>(ctx)) {
    auto n = node<ReservedStmt>(all, verb);
    n->verb = c->verb->getText();
    for (auto* any : c->anyToken()) {
      if (!n->rest.empty()) n->rest += ' ';
      n->rest += any->getText();
    }
    return n;
  }
  // Flo extensions
  if (verb_ == FloLexer::DEED)
    if (auto* c = exactly<P::DeedStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Deed, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (auto* c = exactly<P::PortStmtContext>(ctx)) {
    auto n = node<PortStmt>(all, verb);
    n->port = c->port->getType() == FloLexer::INPUT    ? PortStmt::Kind::Input
              : c->port->getType() == FloLexer::OUTPUT ? PortStmt::Kind::Output
                                                       : PortStmt::Kind::Local;
    n->name = ident(childOf<P::NameContext>(c));
    n->type = type(c->type());
    return n;
  }
  if (verb_ == FloLexer::LET)
    if (auto* c = exactly<P::AssignStmtContext>(ctx)) {
      auto n = node<AssignStmt>(all, verb);
      auto* lv = c->lvalue();
      n->target.name = ident(childOf<P::NameContext>(lv));
      if (lv->expr()) n->target.index = expr(lv->expr());
      n->target.range = range(lv);
      n->value = expr(c->expr());
      return n;
    }
  if (verb_ == FloLexer::FAIL)
    if (auto* c = exactly<P::FailStmtContext>(ctx)) {
      auto n = node<FailStmt>(all, verb);
      n->message = word(childOf<P::WordContext>(c));
      n->condition = expr(c->expr());
      return n;
    }
  if (verb_ == FloLexer::FLOW)
    if (auto* c = exactly<P::FlowStmtContext>(ctx)) {
      auto n = node<FlowStmt>(all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      for (auto* clause : c->flowClause()) {
        if (auto* s = exactly<P::FlowSourceClauseContext>(clause)) {
          n->sources.push_back(path(s->path()));
          n->sourceFields.push_back(s->item ? std::optional<Ident>(ident(s->item)) : std::nullopt);
        } else if (auto* k = exactly<P::FlowClockClauseContext>(clause)) {
          n->clocks.push_back(word(childOf<P::WordContext>(k)));
        } else if (auto* b = exactly<P::FlowByClauseContext>(clause)) {
          n->by = word(b->key);
          if (b->limit) n->byLimit = word(b->limit);
        }
      }
      return n;
    }
  if (verb_ == FloLexer::WINDOW)
    if (auto* c = exactly<P::WindowStmtContext>(ctx)) {
      auto n = node<WindowStmt>(all, verb);
      n->length = word(c->length);
      if (c->slide) n->every = word(c->slide);
      return n;
    }
  if (verb_ == FloLexer::BUFFER)
    if (auto* c = exactly<P::BufferStmtContext>(ctx)) {
      auto n = node<BufferStmt>(all, verb);
      n->capacity = word(childOf<P::WordContext>(c));
      for (auto* p : c->name()) n->policy.push_back(ident(p));
      return n;
    }
  if (verb_ == FloLexer::MAP)
    if (auto* c = exactly<P::MapStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Map, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  auto exprNode = [&](StmtKind kind, P::ExprContext* e) {
    auto n = std::make_unique<ExprStmt>(kind);
    n->range = all, n->verbRange = verb;
    n->expr = expr(e);
    return n;
  };
  if (verb_ == FloLexer::FILTER)
    if (auto* c = exactly<P::FilterStmtContext>(ctx)) return exprNode(StmtKind::Filter, c->expr());
  if (verb_ == FloLexer::REDUCE)
    if (auto* c = exactly<P::ReduceStmtContext>(ctx)) {
      auto n = node<ReduceStmt>(all, verb);
      n->function = ident(childOf<P::NameContext>(c));
      n->into = path(childOf<P::PathContext>(c));
      return n;
    }
  if (verb_ == FloLexer::JOB)
    if (auto* c = exactly<P::JobStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Job, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::NEEDS)
    if (auto* c = exactly<P::NeedsStmtContext>(ctx)) {
      auto n = node<NeedsStmt>(all, verb);
      auto names = childrenOf<P::NameContext>(c);
      auto words = childrenOf<P::WordContext>(c);
      for (std::size_t i = 0; i < names.size() && i < words.size(); ++i)
        n->items.emplace_back(ident(names[i]), word(words[i]));
      return n;
    }
  if (verb_ == FloLexer::PRICE)
    if (auto* c = exactly<P::PriceStmtContext>(ctx)) {
      auto n = node<PriceStmt>(all, verb);
      auto words = childrenOf<P::WordContext>(c);
      n->amount = word(words[0]);
      n->unit = ident(childOf<P::NameContext>(c));
      if (words.size() > 1) n->max = word(words[1]);
      return n;
    }
  if (verb_ == FloLexer::REPLICAS)
    if (auto* c = exactly<P::ReplicasStmtContext>(ctx)) {
      auto n = node<ReplicasStmt>(all, verb);
      n->count = word(childOf<P::WordContext>(c));
      if (childOf<P::NameContext>(c)) n->placement = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::TRIGGER)
    if (auto* c = exactly<P::TriggerEveryStmtContext>(ctx)) {
      auto n = node<TriggerStmt>(all, verb);
      n->every = word(childOf<P::WordContext>(c));
      return n;
    }
  if (verb_ == FloLexer::TRIGGER)
    if (auto* c = exactly<P::TriggerOnStmtContext>(ctx)) {
      auto n = node<TriggerStmt>(all, verb);
      n->on = path(childOf<P::PathContext>(c));
      return n;
    }
  if (auto* c = exactly<P::JobRunStmtContext>(ctx)) {
    auto n = node<JobRunStmt>(all, verb);
    n->target = c->kind->getType() == FloLexer::FRAMER ? JobRunStmt::Kind::Framer
                : c->kind->getType() == FloLexer::FLOW ? JobRunStmt::Kind::Flow
                                                       : JobRunStmt::Kind::Deed;
    n->name = ident(childOf<P::NameContext>(c));
    return n;
  }
  if (verb_ == FloLexer::LIMIT)
    if (auto* c = exactly<P::LimitStmtContext>(ctx)) {
      auto n = node<LimitStmt>(all, verb);
      n->amount = word(childOf<P::WordContext>(c));
      if (childOf<P::NameContext>(c)) n->unit = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::CONTRACT)
    if (auto* c = exactly<P::ContractStmtContext>(ctx)) {
      auto n = nameNode(StmtKind::Contract, all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      return n;
    }
  if (verb_ == FloLexer::STATE)
    if (auto* c = exactly<P::StateStmtContext>(ctx)) {
      auto n = node<StateStmt>(all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      n->type = type(c->type());
      return n;
    }
  if (verb_ == FloLexer::INVARIANT)
    if (auto* c = exactly<P::InvariantStmtContext>(ctx))
      return exprNode(StmtKind::Invariant, c->expr());
  if (verb_ == FloLexer::ACTION)
    if (auto* c = exactly<P::ActionStmtContext>(ctx)) {
      auto n = node<ActionStmt>(all, verb);
      n->name = ident(childOf<P::NameContext>(c));
      for (auto* p : c->param()) n->params.push_back({ident(p->name()), type(p->type())});
      return n;
    }
  if (verb_ == FloLexer::REQUIRES)
    if (auto* c = exactly<P::RequiresStmtContext>(ctx))
      return exprNode(StmtKind::Requires, c->expr());
  if (verb_ == FloLexer::ENSURES)
    if (auto* c = exactly<P::EnsuresStmtContext>(ctx))
      return exprNode(StmtKind::Ensures, c->expr());
  if (verb_ == FloLexer::PAY)
    if (auto* c = exactly<P::PayStmtContext>(ctx)) {
      auto n = node<PayStmt>(all, verb);
      n->amount = expr(c->amount);
      n->recipient = expr(c->recipient);
      return n;
    }
  if (verb_ == FloLexer::MODIFIES)
    if (auto* c = exactly<P::ModifiesStmtContext>(ctx)) {
      auto n = node<ModifiesStmt>(all, verb);
      for (auto* lv : c->lvalue()) {
        LValue l;
        l.name = ident(childOf<P::NameContext>(lv));
        if (lv->expr()) l.index = expr(lv->expr());
        l.range = range(lv);
        n->locations.push_back(std::move(l));
      }
      return n;
    }

  diags_.error(all, "internal error: unhandled declaration form");
  return nullptr;
}

} // namespace flo::lang
