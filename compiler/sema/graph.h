/// \file
/// `floc graph`: the framers and frames of a checked program as Graphviz DOT.
#pragma once

#include "compiler/sema/model.h"

#include <iosfwd>

namespace flo::sema {

/// One cluster per framer (labelled with its schedule), a node per frame (the first frame drawn
/// double), dashed edges from a frame to the frames under it, solid edges for transitions
/// labelled with their conditions (`go`, `timeout`, `repeat`), dotted edges to auxes and to the
/// slaves a frame starts.
void writeGraph(const Model& model, std::ostream& out);

} // namespace flo::sema
