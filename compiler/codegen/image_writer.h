/// \file
/// Encodes the IR's control structure as the program image (runtime/image.h) and collects the
/// string table it points into.
#pragma once

#include "compiler/ir/ir.h"

#include <map>
#include <string>
#include <vector>

namespace flo::codegen {

/// The string table: NUL-terminated pieces, deduplicated.
class StringTable {
public:
  /// Offset of `s` (added on first use).
  std::uint32_t add(const std::string& s);
  const std::string& bytes() const { return bytes_; }

private:
  std::string bytes_;
  std::map<std::string, std::uint32_t> index_;
};

/// Where each flow's generated functions sit in the function table: after the program's own
/// functions, in flow order, an item function for a flow with stages, a fold for a flow that
/// reduces with a deed (kNone where there is none).
struct FlowFns {
  std::uint32_t items = image::kNone, fold = image::kNone;
};
std::vector<FlowFns> flowFunctions(const ir::Program& p);

/// The image words for `p`; strings are added to `strings`.
std::vector<std::uint32_t> encodeImage(const ir::Program& p, StringTable& strings);

} // namespace flo::codegen
