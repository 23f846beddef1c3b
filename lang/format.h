/// \file
/// The canonical form of Flo text (`floc fmt`) and the located AST dump (`floc --emit=ast`).
/// Formatting works on the AST, so formatting a formatted file changes nothing and the formatted
/// program parses to the same AST. Comments and single blank lines between declarations are kept.
#pragma once

#include "lang/ast.h"
#include "lang/source_manager.h"

#include <iosfwd>
#include <string>

namespace flo::lang {

/// One declaration on one line, without indentation (continuation lines joined).
std::string formatStatement(const Stmt& stmt);
/// The canonical lines of a declaration: a flow's sources and the needs of a long condition go on
/// continuation lines (which FloScript joins back, FLOSCRIPT.md §2).
std::vector<std::string> formatStatementLines(const Stmt& stmt);
std::string formatNeeds(const std::vector<Need>& needs);
std::string formatPath(const Path& path);
std::string formatFieldsPath(const FieldsPath& fp);
std::string formatExpr(const Expr& expr);
std::string formatType(const TypeRef& type);

/// A whole file in canonical form: nesting shown by indentation (two spaces a level), comments
/// kept, runs of blank lines reduced to one. Needs a module parsed with `keepComments`.
void formatModule(const Module& module, const SourceManager& sources, std::ostream& out);

/// Every declaration of every file with its location, kind and canonical text; needs and
/// expressions get a line each.
void dumpAst(const Program& program, const SourceManager& sources, std::ostream& out);

} // namespace flo::lang
