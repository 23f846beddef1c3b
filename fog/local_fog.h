/// \file
/// A local fog on this machine, in one folder (`fog up --dir D`, default `./.fog`): the keystore
/// of its participants (D/home: the replicas' identities and the accounts, the whole supply with
/// `genesis`), the genesis file, and one folder per replica with its config, its SQLite file,
/// its log and its pid. The replicas are separate OS processes (`fog pool run --config FILE`),
/// each of which also runs alone on a real host.
///
/// Keys here are stored unencrypted (0600 files in a 0700 folder): this is a development fog
/// on loopback, and its daemons start without a person to type a passphrase. A real deployment
/// gives each host its own keystore.
#pragma once

#include "pool/wire/genesis.h"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

#include "fogger/net/daemon.h"

namespace flo::fog {

class LocalFog {
public:
  static constexpr std::uint64_t kSupply = 1'000'000'000;
  /// What each fogger's account holds at genesis (beside the supply of `genesis`): its stake.
  static constexpr std::uint64_t kFoggerFunds = 1'000;

  /// Creates the folder with `replicas` replicas and `foggers` foggers (fresh keys, free
  /// loopback ports). Refuses a folder that already holds a fog. nullopt with why otherwise.
  static std::optional<LocalFog> create(const std::filesystem::path& dir, std::size_t replicas,
                                        std::size_t foggers, std::string& error);
  /// The fog in `dir`; nullopt with why when there is none or its genesis is damaged.
  static std::optional<LocalFog> load(const std::filesystem::path& dir, std::string& error);
  static bool exists(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path home() const { return dir_ / "home"; }
  std::filesystem::path genesisPath() const { return dir_ / "genesis.json"; }
  std::filesystem::path replicaDir(std::size_t i) const;
  std::filesystem::path configPath(std::size_t i) const { return replicaDir(i) / "replica.json"; }
  std::filesystem::path dataPath(std::size_t i) const { return replicaDir(i) / "replica.db"; }
  std::filesystem::path logPath(std::size_t i) const { return replicaDir(i) / "replica.log"; }
  std::filesystem::path pidPath(std::size_t i) const { return replicaDir(i) / "replica.pid"; }
  const pool::Genesis& genesis() const { return genesis_; }
  std::size_t replicas() const { return genesis_.replicas.size(); }

  std::filesystem::path foggerDir(std::size_t j) const {
    return dir_ / ("fogger-" + std::to_string(j));
  }
  std::size_t foggers() const;

  /// One of the fog's processes: a replica (`fog pool run --config`) or a fogger (the `fogger`
  /// program beside fog, fogger-aarch64 under qemu-aarch64 for an aarch64 fogger, or `fog
  /// fogger --config` when neither is built), with its config, log and pid file.
  struct Daemon {
    std::string name; ///< "replica 0", "fogger 1"
    std::filesystem::path config, log, pid;
    std::vector<std::string> args; ///< the program's arguments
    /// The program and its first arguments (qemu's); empty: fog itself.
    std::vector<std::string> program;
    bool underQemu() const { return program.size() > 1; }
  };
  Daemon replicaDaemon(std::size_t i) const;
  Daemon foggerDaemon(std::size_t j) const;

  /// The pid of a daemon if it is running (its pid file names a live process of its config).
  std::optional<pid_t> runningPid(const Daemon& d) const;
  /// Starts it as a detached process (of `fogExe` unless it names its program), its output to
  /// its log, and waits up to `wait` for its pid file. False with why.
  bool start(const Daemon& d, const std::string& fogExe, std::string& error,
             std::chrono::milliseconds wait = std::chrono::seconds(5)) const;
  /// Stops it: SIGTERM, then SIGKILL after `grace`. True if it was running.
  bool stop(const Daemon& d, std::chrono::milliseconds grace) const;
  /// Kills it with SIGKILL (a crash) and waits until every thread of it has exited. False with
  /// why (not running, or still running 2 s on).
  bool kill(const Daemon& d, std::string& error) const;

  /// Sends it signal `sig`. False with why (not running).
  bool signal(const Daemon& d, int sig, std::string& error) const;
  /// Sets replica `i`'s config to misbehave (pool/net/misbehaviour.h; empty: not) from its next
  /// start: a benchmark's byzantine replica. False with why (a spec that does not parse).
  bool setMisbehave(std::size_t i, const std::string& spec, std::string& error) const;

  std::optional<pid_t> runningPid(std::size_t i) const { return runningPid(replicaDaemon(i)); }
  bool start(std::size_t i, const std::string& fogExe, std::string& error) const {
    return start(replicaDaemon(i), fogExe, error);
  }
  bool stop(std::size_t i, std::chrono::milliseconds grace) const {
    return stop(replicaDaemon(i), grace);
  }
  bool kill(std::size_t i, std::string& error) const { return kill(replicaDaemon(i), error); }

private:
  std::filesystem::path dir_;
  pool::Genesis genesis_;
};

/// The path of the running executable (/proc/self/exe), or $FOG_EXE when set (tests that run
/// the CLI in process set it to the real fog).
std::string selfExecutable();

} // namespace flo::fog
