/// \file
/// Internal to lang/: one pass from an ANTLR parse tree of a declaration to its AST node.
#pragma once

#include "lang/ast.h"
#include "lang/diagnostics.h"

#include <memory>

#include "FloParser.h"

namespace flo::lang {

class AstBuilder {
public:
  AstBuilder(FileId file, Diagnostics& diags) : file_(file), diags_(diags) {}

  /// Builds the node for one declaration. Returns null (after reporting) when the tree has a
  /// shape the grammar allows but the language does not (`put 1 2 into .x`).
  std::unique_ptr<Stmt> build(grammar::FloParser::StatementContext* ctx);

private:
  using P = grammar::FloParser;

  SourceRange range(antlr4::ParserRuleContext* ctx) const;
  SourceRange range(antlr4::Token* t) const;
  Ident ident(P::NameContext* ctx) const;
  Ident ident(antlr4::Token* t) const;
  Word word(antlr4::Token* t) const;
  Word word(P::WordContext* ctx) const { return word(ctx->getStart()); }
  Path path(P::PathContext* ctx) const;
  FieldsPath fieldsPath(P::FieldsPathContext* ctx) const;
  DirectData data(P::DirectDataContext* ctx) const;
  bool checkData(const DirectData& data, std::string_view verb);
  std::vector<Need> needs(P::NeedsContext* ctx) const;
  Need need(P::NeedContext* ctx) const;
  TypeRef type(P::TypeContext* ctx) const;
  std::unique_ptr<Expr> expr(P::ExprContext* ctx) const;
  std::unique_ptr<Expr> primary(P::PrimaryContext* ctx) const;
  std::vector<TaskerClause> framerClauses(const std::vector<P::FramerClauseContext*>& cs) const;
  std::vector<TaskerClause> loggerClauses(const std::vector<P::LoggerClauseContext*>& cs) const;
  std::vector<TaskerClause> logClauses(const std::vector<P::LogClauseContext*>& cs) const;
  std::vector<TaskerClause> serverClauses(const std::vector<P::ServerClauseContext*>& cs) const;
  std::string printMessage(P::PrintStmtContext* ctx) const;

  FileId file_;
  Diagnostics& diags_;
};

} // namespace flo::lang
