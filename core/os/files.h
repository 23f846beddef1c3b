/// \file
/// Whole files read into memory: configs, genesis files, bundles, job records. For the effect
/// layers (daemons, the CLI), like the rest of core/os.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace flo::core {

/// The file's bytes; nullopt when it cannot be opened or read.
std::optional<std::string> readWholeFile(const std::filesystem::path& path);

} // namespace flo::core
