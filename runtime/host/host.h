/// \file
/// The job host: loads a bundle that `floc build --bundle` wrote (docs/bundles.md) and runs one
/// of its jobs. It reads DIR/manifest.json, checks the shared object for this machine's
/// architecture against the manifest's sha256 before anything of it runs, and loads exactly the
/// bytes it checked (from a memory file, so the file cannot change between check and load).
/// The object carries its own copy of the runtime (hidden symbols), so the host links none;
/// it calls the one entry point the object exports, `flo_bundle_main`, in a child process.
/// It depends on nothing but the C++ library and nlohmann/json (header-only), so it builds for
/// every architecture a fogger runs (flo-host is cross-built for aarch64 like the runtime).
#pragma once

#include "runtime/host/sandbox.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flo::host {

struct BundleTarget {
  std::string file;   ///< the shared object, relative to the bundle
  std::string sha256; ///< lower-case hex
};

struct Manifest {
  std::string compiler, source, sourceSha256;
  std::map<std::string, BundleTarget> targets; ///< by triple
  std::vector<std::string> jobs;               ///< job names
  std::map<std::string, std::string> jobArch;  ///< a job's `needs arch`, when it names one
};

/// The target triple of the machine this host was built for (x86_64-linux-gnu, ...).
std::string hostTriple();
/// Its architecture as a job's `needs arch` names it (x86_64, aarch64).
std::string hostArch();

/// Reads and parses DIR/manifest.json; nullopt and `error` when it is missing or malformed.
std::optional<Manifest> readManifest(const std::string& dir, std::string& error);

/// The bytes of the object for `triple`, after checking them against the manifest; nullopt and
/// `error` for a target the bundle lacks, an unreadable object or a hash mismatch.
std::optional<std::string> checkedObject(const std::string& dir, const Manifest& m,
                                         const std::string& triple, std::string& error);

struct RunOptions {
  std::uint32_t runs = 3;
  bool work = false;    ///< print each run's measured work and bound on stderr
  bool store = false;   ///< print the final store on stderr, a `store: ` line a share
  SandboxLimits limits; ///< the child's sandbox (sandbox.h); on unless limits.enabled is false
  int outFd = -1;       ///< where the job's stdout goes (a fogger's pipe); -1: this stdout
  /// Feeds (runtime/feed.h): the patterns of the shares whose writes the job sends (feed lines
  /// on its stderr), and whether it reads feed items on this process's stdin (else its stdin
  /// is /dev/null).
  std::vector<std::string> feedOut;
  bool feedIn = false;
};

/// How a run went, beyond its exit status.
struct RunReport {
  std::string sandbox; ///< the layers that applied (SandboxState::describe), empty without
};

/// Runs job `job` of the bundle in `dir` for this machine in a sandboxed child: its output goes
/// to `o.outFd` (or this process's stdout) and this process's stderr. Returns the job's exit
/// status (0 ok, 1 the program failed, 2 usage), or nullopt and `error` when the bundle is
/// refused (no such job, a job that needs another architecture, no object for this one, a hash
/// mismatch), the object cannot be loaded, or the job was ended: by a limit ("the job exceeded
/// its CPU time (10 s)", "the job ran out of memory (256 MiB)"), by a forbidden system call or
/// by a signal. `report`, when given, says which sandbox layers applied.
std::optional<int> runJob(const std::string& dir, const std::string& job, const RunOptions& o,
                          std::string& error, RunReport* report = nullptr);

} // namespace flo::host
