/// \file
/// Names of AST enumerations and small AST helpers.
#include "lang/ast.h"

#include <cctype>

namespace flo::lang {

const char* comparisonText(Comparison c) {
  switch (c) {
  case Comparison::Eq:
    return "==";
  case Comparison::Ne:
    return "!=";
  case Comparison::Lt:
    return "<";
  case Comparison::Le:
    return "<=";
  case Comparison::Ge:
    return ">=";
  case Comparison::Gt:
    return ">";
  }
  return "==";
}

const char* stmtKindName(StmtKind kind) {
  static const char* const names[] = {
      "load",     "house",  "init",      "framer", "first",    "logger",  "log",      "loggee",
      "server",   "frame",  "over",      "under",  "next",     "context", "put",      "inc",
      "copy",     "set",    "print",     "do",     "go",       "let",     "timeout",  "repeat",
      "aux",      "done",   "bid",       "fiat",   "rear",     "raze",    "reserved", "deed",
      "port",     "assign", "fail",      "flow",   "window",   "map",     "filter",   "reduce",
      "buffer",   "job",    "needs",     "price",  "replicas", "trigger", "run",      "limit",
      "contract", "state",  "invariant", "action", "requires", "ensures", "pay",      "modifies"};
  static_assert(sizeof(names) / sizeof(names[0]) == std::size_t(StmtKind::Modifies) + 1);
  return names[std::size_t(kind)];
}

const char* actionContextName(ActionContext c) {
  static const char* const names[] = {"native", "benter", "enter", "renter",
                                      "precur", "recur",  "exit",  "rexit"};
  return names[std::size_t(c)];
}

std::optional<ActionContext> actionContextByName(std::string_view name) {
  for (std::size_t i = 0; i <= std::size_t(ActionContext::Rexit); ++i)
    if (name == actionContextName(ActionContext(i))) return ActionContext(i);
  return std::nullopt;
}

const char* controlName(Control c) {
  static const char* const names[] = {"start", "run", "stop", "abort", "ready"};
  return names[std::size_t(c)];
}

const char* taskerClauseName(TaskerClause::Kind k) {
  static const char* const names[] = {"be",    "at",   "in",    "first", "via",   "to",
                                      "flush", "keep", "cycle", "size",  "reuse", "rx",
                                      "tx",    "per",  "for",   "as",    "on"};
  return names[std::size_t(k)];
}

const char* doClauseName(DoClause::Kind k) {
  static const char* const names[] = {"at", "via", "with", "from", "per", "for", "cum", "qua"};
  return names[std::size_t(k)];
}

const Ident& blockIdent(const Stmt& s) {
  if (s.kind == StmtKind::Flow) return static_cast<const FlowStmt&>(s).name;
  return *static_cast<const NameStmt&>(s).name;
}

bool hasOwnContext(const Stmt& s) {
  switch (s.kind) {
  case StmtKind::Go:
  case StmtKind::Timeout:
  case StmtKind::Repeat:
  case StmtKind::Let:
  case StmtKind::Aux:
    return true;
  case StmtKind::Do:
    for (const auto& c : static_cast<const DoStmt&>(s).clauses)
      if (c.kind == DoClause::Kind::At && c.context && actionContextByName(c.context->text))
        return true;
    return false;
  default:
    return false;
  }
}

std::string DoStmt::registryKey() const {
  std::string key;
  for (const auto& part : kindParts) {
    if (part.text.empty()) continue;
    key += char(std::toupper(static_cast<unsigned char>(part.text[0])));
    key += part.text.substr(1);
  }
  return key;
}

} // namespace flo::lang
