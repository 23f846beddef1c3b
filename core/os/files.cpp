/// \file
/// Whole files (see files.h).
#include "core/os/files.h"

#include <fstream>
#include <sstream>

namespace flo::core {

std::optional<std::string> readWholeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream s;
  s << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return s.str();
}

} // namespace flo::core
