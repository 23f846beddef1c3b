/// \file
/// `floc check`: names and structure of a parsed program (issue: front end). Rebuilds the
/// house ▸ framer ▸ frame structure, resolves every name a declaration refers to, and reports all
/// problems with their locations; named warnings cover deprecated forms, Ioflo divergences and
/// quirks, unreachable frames and unused framers.
#pragma once

#include "compiler/sema/model.h"
#include "lang/diagnostics.h"

#include <memory>

namespace flo::sema {

/// Checks `program` and returns its structure. Never throws; every problem becomes a diagnostic.
/// The model is returned even when there are errors (for `floc graph` of a partly broken file).
std::unique_ptr<Model> check(const lang::Program& program, lang::Diagnostics& diags);

} // namespace flo::sema
