/// \file
/// The fogger daemon (`fog fogger --config FILE`, started by `fog up`; docs/deploy.md). It
/// registers its offer with the pool and stakes, then serves deployers on the encrypted
/// transport: for each BundleOffer it checks the order on the pool (assigned to it, open, the
/// manifest's SHA-256 and the job the order names, the object's SHA-256 in the manifest), sends
/// StartRun and, while the pool orders it, runs the job through the job host in a child process
/// (flo-host, or flo-host-aarch64 under qemu-aarch64 for an aarch64 fogger on another machine;
/// the host sandboxes the job); once StartRun has committed, it turns the printed lines and the
/// final shares into a signed hash chain of provenance items, sends them with its signed
/// RunResult to the deployer and gives the pool its Receipt. One run at a time: a
/// second offer waits in the transport until the first is done.
#pragma once

#include <atomic>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace flo::fogger {

struct FoggerConfig {
  std::string genesis; ///< path of the pool's genesis JSON
  std::string home;    ///< the keystore holding the fogger's identity (stored unencrypted)
  std::string identity;
  std::string listen; ///< HOST:PORT deployers reach it at
  std::string arch;   ///< x86_64 or aarch64: what it registers and runs
  std::string zone = "local";
  std::uint32_t cores = 1;
  std::uint64_t memoryMiB = 256;
  std::uint64_t price = 1;   ///< tokens per work unit
  std::uint64_t stake = 100; ///< staked at start when the account has less
  std::string work;          ///< where bundles, outputs and logs go
  /// The job host command, the bundle's folder and the job's arguments follow it.
  std::vector<std::string> executor;
  /// Test only: "forge" gives the pool a receipt that contradicts what it sent the deployer;
  /// "silent" never starts what it is assigned; "crash" exits once it has started a run.
  std::string fault;

  std::string toJson() const;
  /// Reads a config file; relative paths are taken from the file's folder.
  static std::optional<FoggerConfig> load(const std::string& path, std::string& error);
  /// The target triple of `arch` (x86_64-linux-gnu, aarch64-linux-gnu).
  std::string triple() const;
};

/// Runs the daemon until `stop` is set or SIGTERM/SIGINT; writes its pid to `pidFile` (if not
/// empty) once it is registered and listening. Returns the exit status.
int runFogger(const FoggerConfig& config, const std::string& pidFile, std::ostream& log,
              std::atomic<bool>* stop = nullptr);

} // namespace flo::fogger
