/// \file
/// Lowering from the checked model (compiler/sema) to the IR (compiler/ir/ir.h): Ioflo's
/// resolve step (FLOSCRIPT.md §4 step 6) done at compile time.
#pragma once

#include "compiler/ir/ir.h"
#include "compiler/sema/model.h"
#include "lang/diagnostics.h"

#include <memory>

namespace flo::ir {

/// Lowers a program that checked without errors. Problems the checker cannot see (a path that
/// descends through a share, a form code generation does not support yet) become located
/// errors; the result is then incomplete and must not be compiled.
/// With `checkOnly` (for `floc check`) forms code generation does not support yet are not
/// reported: they are not errors in the program, and what only code generation and the IR
/// printer read is left empty: the frames' outlines and human names, the acts' declaration
/// texts and the locations' texts.
/// With `disableFree` lowering's own indexes (shares and locations by name) are left allocated
/// when it returns, as clang's -disable-free does: for a process about to exit, where freeing
/// them node by node only costs time.
std::unique_ptr<Program> lower(const lang::Program& program, const sema::Model& model,
                               const lang::SourceManager& sources, lang::Diagnostics& diags,
                               bool checkOnly = false, bool disableFree = false);

} // namespace flo::ir
