/// \file
/// The language features of `floc lsp`, each a pure function of one analysis: the outline and
/// formatting (symbols.cpp); definition, references and hover (features.cpp, over every name use
/// in the document); completion (completion.cpp). Positions in and out are LSP positions of the
/// analysed document (see positions.h).
#pragma once

#include "compiler/lsp/analysis.h"
#include "compiler/lsp/positions.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace flo::lsp {

/// DocumentSymbol[]: house ▸ framer (and logger, server) ▸ frame, then deeds, flows, jobs and
/// contracts. Each symbol's range covers its declarations up to the last act that belongs to it.
nlohmann::json documentSymbols(const Analysis& analysis, const LineIndex& index);

/// The `floc fmt` canonical form of `text`, or nullopt with the first syntax error in `error`
/// (a file with syntax errors is not formatted: the formatter would drop what did not parse).
std::optional<std::string> formatDocument(const std::string& name, const std::string& text,
                                          std::string& error);

/// The declaration of the frame, framer (or logger, server), deed, flow or job named at `offset`
/// (a use such as a `go` target, `aux` framer or `do` deed, or the declaration itself), as an
/// LSP Location; null when nothing is named there. `uri` is the document's.
nlohmann::json definition(const Analysis& analysis, const LineIndex& index, const std::string& uri,
                          std::uint32_t offset);

/// Location[] of every use of what the name at `offset` names, in this document, resolved as for
/// definition (so a frame `idle` of another framer is not a use); with `includeDeclaration` the
/// declaration too when it is in this document. Empty when nothing is named there.
nlohmann::json references(const Analysis& analysis, const LineIndex& index, const std::string& uri,
                          std::uint32_t offset, bool includeDeclaration);

/// Markdown for the name at `offset`: a frame's framer, parent and acts by context; a deed
/// written in Flo and its ports; a share
/// path's fields with their inferred types (when the program checks clean) and its writers (init,
/// put, inc, copy, set, and a flow's `reduce ... into`; not yet deeds' outputs). Null when nothing.
nlohmann::json hover(const Analysis& analysis, const LineIndex& index, std::uint32_t offset);

/// CompletionItem[] at `offset` of `text` (the analysed text): verbs and action contexts at the
/// start of a line; frame names after `go`, framer names after `aux`, `bid VERB`, `done`; deed
/// names after `do`; absolute share paths seen in the document for a word starting with '.'.
nlohmann::json completion(const Analysis& analysis, std::string_view text, std::uint32_t offset);

} // namespace flo::lsp
