/// \file
/// The front end's entry points: `.flo` text to AST. Only this part of lang/ sees ANTLR.
/// The parser reports every syntax error (one per declaration at most) and goes on with the next
/// declaration; a file that could not be read or has a `load` cycle is a located error too.
#pragma once

#include "lang/ast.h"
#include "lang/diagnostics.h"
#include "lang/source_manager.h"

#include <iosfwd>
#include <memory>

namespace flo::lang {

struct ParseOptions {
  bool followLoads = true;       ///< parse the files named by `load`
  std::size_t maxLoadDepth = 64; ///< nesting of `load`s before "too deep" is reported
  bool keepComments = false;     ///< record comments in Module::comments (for `floc fmt`)
};

/// Parses `root` and, transitively, every file it loads.
std::unique_ptr<Program> parseProgram(SourceManager& sources, FileId root, Diagnostics& diags,
                                      const ParseOptions& options = {});

/// Writes one located line per token: `file:line:col KIND 'text'` (continuations shown as they
/// are joined: a NEWLINE token only where a declaration ends).
void dumpTokens(const SourceManager& sources, FileId file, Diagnostics& diags, std::ostream& out);

/// The usage line of a verb (`put DATA into [FIELDS in] PATH`), empty for an unknown verb.
std::string_view verbUsage(std::string_view verb);
/// All verbs the parser knows (FloScript's 45 and Flo's extensions), for suggestions.
const std::vector<std::string>& knownVerbs();

} // namespace flo::lang
