/// \file
/// One analysis of one open document: the same pipeline as `floc check` (parse ▸ check ▸ lower
/// for store paths and types), run on the editor's text instead of the file on disk, and its
/// diagnostics converted to LSP from the very JSON `floc check --json` prints.
#pragma once

#include "compiler/ir/ir.h"
#include "compiler/lsp/positions.h"
#include "compiler/sema/model.h"
#include "lang/diagnostics.h"
#include "lang/source_manager.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace flo::lsp {

/// Owns everything the features look at. Not movable: the diagnostics refer to the sources.
struct Analysis {
  Analysis() : diags(sources) {}
  Analysis(const Analysis&) = delete;
  Analysis& operator=(const Analysis&) = delete;

  lang::SourceManager sources;
  lang::Diagnostics diags;
  lang::FileId file = lang::kNoFile; ///< the document
  std::unique_ptr<lang::Program> program;
  std::unique_ptr<sema::Model> model;
  /// The lowered program (store paths and inferred types) when the program checks clean; it
  /// points into `program` and `model`, so it is declared after them and destroyed first.
  std::unique_ptr<ir::Program> ir;
};

/// Parses and checks `text` as the file `name`. When `name` is an absolute path (a `file:` URI),
/// `load` resolves against its directory, as `floc check FILE` does, and a loaded file that
/// loads the document back gets the editor's text; otherwise (`untitled:` buffers) against the
/// server's working directory, as `floc check -`. `warningFlags` are floc's `-W...` flags; an
/// unknown one is ignored. Without `followLoads`, `load` reads nothing. Never throws.
std::unique_ptr<Analysis> analyze(const std::string& name, std::string text,
                                  const std::vector<std::string>& warningFlags,
                                  bool followLoads = true);

/// The document's diagnostics as LSP Diagnostic objects, converted from `renderJson`: the same
/// messages, severities and warning names (as `code`) as `floc check --json`. Diagnostics located
/// in a loaded file are left out; one without a location is put at the start of the document.
nlohmann::json lspDiagnostics(const Analysis& analysis, const LineIndex& index,
                              const std::string& uri);

/// `file:///a/b.flo` -> `/a/b.flo` (percent-escapes decoded); other URIs are returned as given.
std::string pathFromUri(const std::string& uri);
/// `/a/b.flo` -> `file:///a/b.flo`.
std::string uriFromPath(const std::string& path);

} // namespace flo::lsp
