/// \file
/// The job's process, for runJob (host.h): forks a child that enters the sandbox
/// (sandbox.h), loads the checked object from its memory file, locks the sandbox and calls
/// `flo_bundle_main`; the host copies the job's output out and explains how it ended.
#pragma once

#include "runtime/host/host.h"

#include <optional>
#include <string>

namespace flo::host {

/// Runs job `job` from the object in the memory file `objectFd` (already checked against `m`)
/// in a child; runJob's result and `report` (host.h).
std::optional<int> runInChild(int objectFd, const Manifest& m, const std::string& job,
                              const RunOptions& o, std::string& error, RunReport* report);

} // namespace flo::host
