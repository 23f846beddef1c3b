/// \file
/// The fog command line as a table (STYLE.md rule 16): each entry names a command by its path
/// (`{"id", "new"}`), says in one line what it does, adds its options and runs it. The parser,
/// the help of every command and group, and the tests all come from this one table. Handlers
/// see the streams runFog was given through a Context, and nothing else: the CLI runs in
/// process, and daemon logic stays in core/net.
#pragma once

#include "bench/net_bench.h"
#include "bench/pool_bench.h"
#include "core/identity.h"
#include "core/store/keystore.h"

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
} // namespace CLI

namespace flo::fog {

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

/// Every command's options, filled in by the parser. One command runs per invocation, so the
/// commands share fields of the same meaning.
struct Options {
  std::string name;           ///< the identity a command acts as (or creates)
  std::string passphraseFile; ///< --passphrase-file
  bool passphraseStdin = false;
  bool json = false;
  std::string file;
  // id
  std::string seedHex;
  bool noPassphrase = false;
  // verify
  std::string signatureFile;
  // job run
  std::string bundleDir;
  std::uint32_t runs = 3;
  bool work = false;
  std::uint64_t jobMemoryMiB = 256; ///< the job's sandbox (runtime/host/sandbox.h)
  std::uint64_t jobCpuSeconds = 10;
  bool noSandbox = false;
  // net
  std::string addr = "127.0.0.1:0";
  std::string to;
  bool echo = false;
  std::string save; ///< net listen: folder for the messages received
  std::size_t count = 0;
  double seconds = 0; ///< net listen --duration, net send --timeout
  double loss = 0;
  double duplicate = 0;
  std::uint64_t seed = 1;
  // provenance
  std::string db;
  std::string event; ///< default: create, modify (one parent) or join (several)
  std::string job;
  std::vector<std::string> parents;
  std::string item;
  // the pool: the local fog, accounts, transactions, replicas
  std::string dir = ".fog";
  std::size_t replicas = 4;
  bool replicasGiven = false;
  std::size_t foggers = 2;          ///< fog up: foggers of a new fog
  std::uint32_t deployReplicas = 0; ///< fog deploy --replicas (0: the job's)
  std::string input;   ///< fog deploy --input: the job whose writes feed the deployed flow job
  bool follow = false; ///< fog logs -f
  bool detach = false;
  std::string from;
  std::string amount; ///< read by the command, so a malformed one gets a clear error
  // contracts
  std::string action;
  std::vector<std::string> args; ///< contract call arguments; stake: [CONTRACT] AMOUNT
  bool force = false;
  std::vector<std::string> architectures;
  std::uint32_t cores = 0;
  std::uint64_t memoryMiB = 0;
  std::string zone;
  std::uint64_t price = 0;
  std::string address; ///< provider register: where deployers reach the fogger
  std::string config;
  std::string pidFile;
  std::string scenario;
  bool list = false;
  // bench net: the options given, applied over the defaults or --quick's
  bool quick = false;
  std::vector<std::function<void(bench::NetBenchOptions&)>> benchGiven;
  // bench pool: the options given, applied over the defaults or --quick's (and --json, --quick)
  std::vector<std::function<void(bench::PoolBenchOptions&)>> poolBenchGiven;
  std::string tmpDir; ///< where the temporary fog goes (default: the system's temporary folder)
};

/// What a handler works with: the parsed options and the streams of this invocation.
class Context {
public:
  /// `interactive`: `in` is a terminal a person types into, so a passphrase not given otherwise
  /// is asked for there (echo off), with the prompt on `err`.
  Context(const Options& options, std::istream& in, std::ostream& out, std::ostream& err,
          bool interactive)
      : options(options), in(in), out(out), err(err), interactive_(interactive),
        store_(core::Keystore::defaultHome()) {}

  const Options& options;
  std::string commandPath; ///< "id new"
  std::istream& in;
  std::ostream& out;
  std::ostream& err;

  /// Prints `fog: error: MESSAGE` on err and returns `status`.
  int fail(const std::string& message, int status = kFailed);
  /// Prints `fog: warning: MESSAGE` on err.
  void warn(const std::string& message);

  core::Keystore& keystore() { return store_; }

  /// The passphrase from --passphrase-file, --passphrase-stdin (one line of `in`),
  /// FOG_PASSPHRASE, or a prompt on an interactive `in` (twice with `confirm`), in that
  /// order; nullopt and `error` when none can be had or the two typed differ.
  std::optional<std::string> passphrase(bool confirm, std::string& error);
  /// What unlocks identity `name`: nullopt inside when it is stored unencrypted (nothing is
  /// asked), else its passphrase. nullopt and `error` for an unknown identity or no passphrase.
  std::optional<std::optional<std::string>> secretFor(const std::string& name, std::string& error);
  /// Identity options().name, unlocked; nullopt and `error` as secretFor, or a wrong
  /// passphrase.
  std::optional<core::Identity> identity(std::string& error);

private:
  bool interactive_;
  core::Keystore store_;
};

struct Command {
  std::vector<std::string> path; ///< {"id", "new"}
  std::string summary;           ///< one line, shown in the help of its group
  /// Adds the command's options and positionals, bound to fields of Options; null for none.
  void (*addOptions)(CLI::App& app, Options& options) = nullptr;
  /// Runs the command; returns its exit status. Null for a group, which takes a subcommand.
  int (*run)(Context& context) = nullptr;
};

/// The table: groups before their subcommands, in the order the help lists them.
const std::vector<Command>& commands();

/// The names of the options (`--json`) and positionals (`name`) that `command` takes, as its
/// help shows them.
std::vector<std::string> optionNames(const Command& command);

/// Reads a whole file; nullopt and `error` when it cannot be read.
std::optional<core::Bytes> readFile(const std::string& path, std::string& error);

} // namespace flo::fog
