/// \file
/// The job host's sandbox: what a job's child process may do (docs/bundles.md, "Sandbox"). A
/// fogger runs strangers' native objects, so the child is fenced in layers, each of which holds
/// without the others where the kernel gives it: resource limits, no new privileges, an empty
/// working directory, user/mount/network namespaces and a root of that empty directory, and a
/// seccomp allowlist (only where libseccomp was found at build time: FLO_HOST_SECCOMP). The
/// layers are applied in two steps around loading the object: what loading still needs (the
/// file system, the dynamic loader's system calls) is taken away only after it.
#pragma once

#include <cstdint>
#include <string>

namespace flo::host {

/// What a job may use. 0 for memory or CPU means no limit.
struct SandboxLimits {
  std::uint64_t memoryMiB = 256; ///< address space (RLIMIT_AS)
  std::uint64_t cpuSeconds = 10; ///< CPU time (RLIMIT_CPU); then SIGXCPU, a second later SIGKILL
  std::uint64_t fileSizeMiB = 0; ///< largest file it may write (RLIMIT_FSIZE); 0: no writes
  std::uint32_t processes = 1;   ///< RLIMIT_NPROC (not enforced for root: seccomp is)
  bool seccomp = true;           ///< false: every layer but the filter (tests of the others)
  bool enabled = true;           ///< false: none of it (`--no-sandbox`, for tests and debugging)
};

/// Which layers took effect in a child, for the run's report.
struct SandboxState {
  bool userNs = false, mountNs = false, netNs = false, rooted = false, seccomp = false;
  /// "rlimits no-new-privs workdir userns mountns netns root seccomp", the ones that applied.
  std::string describe() const;
};

/// Step one, in the child before the object is loaded: closes every descriptor above 2 but
/// `keepA` and `keepB` (-1: none), sets the rlimits and no-new-privileges, enters the empty
/// directory `workDir` and unshares the namespaces the kernel allows. Returns false and `error`
/// only when a layer that must hold (rlimits, no-new-privileges, the directory) fails; the
/// namespaces are best effort.
bool enterSandbox(const SandboxLimits& l, const std::string& workDir, int keepA, int keepB,
                  SandboxState& state, std::string& error);

/// Step two, after the object is loaded and its entry found, just before calling it: makes the
/// working directory the root (when a user namespace allows it) and installs the seccomp
/// allowlist (when built with it and `l.seccomp`). False and `error` when the filter cannot be
/// installed.
bool lockSandbox(const SandboxLimits& l, SandboxState& state, std::string& error);

/// The exit status a child uses to say "ran out of memory" (an allocation failed, new_handler).
constexpr int kOutOfMemoryStatus = 125;

} // namespace flo::host
