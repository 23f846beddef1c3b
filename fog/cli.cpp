/// \file
/// The command table, the CLI11 parser built from it, and what every handler shares: errors,
/// passphrases, the keystore.
#include "fog/cli.h"

#include "core/os/files.h"
#include "fog/commands.h"
#include "fog/fog.h"

#include <CLI/CLI.hpp>

#include <cstdlib>
#include <fstream>
#include <istream>
#include <map>
#include <ostream>
#include <sstream>
#include <termios.h>
#include <unistd.h>

#ifndef FOG_VERSION
#define FOG_VERSION "unknown"
#endif

namespace flo::fog {

namespace {} // namespace

const std::vector<Command>& commands() {
  static const std::vector<Command> table = {
      {{"id"}, "identities: DIDs and their keys"},
      {{"id", "new"}, "create an identity; prints its did:key and its DID", addIdNewOptions, idNew},
      {{"id", "list"}, "list identities", addIdListOptions, idList},
      {{"id", "show"}, "show an identity (--json: its DID document)", addIdShowOptions, idShow},
      {{"id", "rotate"}, "rotate to the pre-committed next key", addIdRotateOptions, idRotate},
      {{"sign"}, "write FILE.sig, a detached signature record", addSignOptions, sign},
      {{"verify"},
       "check a detached signature or a signed bundle (exit 0 only if valid)",
       addVerifyOptions,
       verify},
      {{"job"}, "jobs from a bundle that floc build --bundle wrote"},
      {{"job", "run"},
       "run a job from a bundle here, after checking its object's hash",
       addJobRunOptions,
       jobRun},
      {{"net"}, "diagnostics of the encrypted transport"},
      {{"net", "listen"},
       "print each message received: sender DID and size",
       addNetListenOptions,
       netListen},
      {{"net", "send"},
       "send a file; exit 0 once delivery is acknowledged",
       addNetSendOptions,
       netSend},
      {{"provenance"}, "signed provenance records and lineage"},
      {{"provenance", "record"},
       "sign and store a record for a data item; prints its id",
       addProvenanceRecordOptions,
       provenanceRecord},
      {{"provenance", "show"},
       "one record, checked, with its children",
       addProvenanceShowOptions,
       provenanceShow},
      {{"provenance", "lineage"},
       "walk an item back to its sources, verifying every record and link",
       addProvenanceLineageOptions,
       provenanceLineage},
      {{"bench"}, "benchmarks of this machine"},
      {{"bench", "net"},
       "the encrypted transport against TCP on loopback (256 B, 1 MiB, first contact, loss)",
       addBenchNetOptions,
       benchNet},
      {{"bench", "pool"},
       "committed transfers/s and commit latency of a fresh local pool, against the Ed25519 bound",
       addBenchPoolOptions,
       benchPool},
      {{"bench", "deploy"},
       "deploy-to-first-result latency, job runs settled/s and fogger idle memory on a fresh fog",
       addBenchDeployOptions,
       benchDeploy},
      {{"up"},
       "start a local fog on loopback (a pool of replica processes); --detach to return",
       addUpOptions,
       up},
      {{"down"}, "stop the local fog's processes", addDownOptions, down},
      {{"status"},
       "every replica of the local fog: process, round, height, state root",
       addStatusOptions,
       status},
      {{"account"}, "accounts of the local fog: make, look up, pay"},
      {{"account", "new"},
       "make an account (a key in the fog's keystore)",
       addAccountNewOptions,
       accountNew},
      {{"account", "balance"},
       "an account's balance, stake and nonce, as n-f replicas say alike",
       addAccountBalanceOptions,
       accountBalance},
      {{"account", "transfer"},
       "pay tokens to another account; waits for the commit",
       addAccountTransferOptions,
       accountTransfer},
      {{"contract"}, "contracts on the local fog: deploy, call, show (docs/verify.md)"},
      {{"contract", "deploy"},
       "deploy a contract's source; every replica compiles it",
       addContractDeployOptions,
       contractDeploy},
      {{"contract", "call"},
       "call a contract's action, with --value tokens attached; waits for the commit",
       addContractCallOptions,
       contractCall},
      {{"contract", "show"},
       "a contract's state and held tokens, and floc verify's certificate of its source",
       addContractShowOptions,
       contractShow},
      {{"stake"},
       "move tokens from an account's balance to its stake, or (CONTRACT AMOUNT) stake on a "
       "contract that floc verify proves",
       addStakeOptions,
       stake},
      {{"unstake"},
       "start returning staked tokens (locked for the genesis's unstake period); CONTRACT "
       "AMOUNT returns stake on a contract",
       addStakeOptions,
       unstake},
      {{"provider"}, "foggers: what they offer"},
      {{"provider", "register"},
       "register (or update) a fogger's offer on the ledger",
       addProviderRegisterOptions,
       providerRegister},
      {{"pool"}, "the pool's replicas: run one, simulate faults, verify a stored chain"},
      {{"pool", "run"},
       "run one replica (what fog up starts, and what runs on a real host)",
       addPoolRunOptions,
       poolRun},
      {{"pool", "sim"},
       "run a scenario of the fault matrix on a simulated pool, from a seed",
       addPoolSimOptions,
       poolSim},
      {{"pool", "verify-chain"},
       "verify a replica's stored chain against the genesis, trusting nothing else",
       addVerifyChainOptions,
       poolVerifyChain},
      {{"fogger"},
       "run a fogger: register with the pool, take bundles from deployers, run them sandboxed",
       addFoggerOptions,
       foggerRun},
      {{"deploy"},
       "compile, order and run a job on matched foggers; verified results, settled payment",
       addDeployOptions,
       deploy},
      {{"jobs"},
       "the jobs deployed from this fog and their state on the pool",
       addJobsOptions,
       jobs},
      {{"results"},
       "a job's results from each fogger, their chain verified",
       addJobOptions,
       results},
      {{"logs"}, "a job's logs from each fogger (-f: as they come)", addLogsOptions, logs},
      {{"cancel"}, "end a job's order; what escrow holds comes back", addJobOptions, cancel},
  };
  return table;
}

namespace {

std::string joined(const std::vector<std::string>& path) {
  std::string s;
  for (const auto& p : path) s += (s.empty() ? "" : " ") + p;
  return s;
}

const char* const kDescription =
    "fog: deploy Flo programs to a fog of foggers, and manage identities.\n\n"
    "Keys live in $FOG_HOME (default ~/.fog). Exit status: 0 success, 1 failure, 2 usage or "
    "internal error.";

/// The parser for the whole table; `apps` maps each command's path to its CLI11 subcommand.
void buildParser(CLI::App& app, Options& o, std::map<std::string, CLI::App*>& apps) {
  app.set_version_flag("--version", "fog " FOG_VERSION, "print the version and exit");
  app.require_subcommand(1, 1);
  for (const Command& cmd : commands()) {
    std::vector<std::string> parentPath(cmd.path.begin(), cmd.path.end() - 1);
    CLI::App* parent = parentPath.empty() ? &app : apps.at(joined(parentPath));
    CLI::App* sub = parent->add_subcommand(cmd.path.back(), cmd.summary);
    if (!cmd.run) sub->require_subcommand(1, 1);
    if (cmd.addOptions) cmd.addOptions(*sub, o);
    apps[joined(cmd.path)] = sub;
  }
}

/// The path of the deepest subcommand the parser reached ("" for none).
std::string reached(const CLI::App& app) {
  std::string path;
  const CLI::App* at = &app;
  while (!at->get_subcommands().empty()) {
    at = at->get_subcommands()[0];
    path += (path.empty() ? "" : " ") + at->get_name();
  }
  return path;
}

} // namespace

std::vector<std::string> optionNames(const Command& command) {
  CLI::App app;
  Options o;
  if (command.addOptions) command.addOptions(app, o);
  std::vector<std::string> names;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_name() == "--help") continue;
    names.push_back(opt->get_positional() ? opt->get_name(true) : opt->get_name());
  }
  return names;
}

std::optional<core::Bytes> readFile(const std::string& path, std::string& error) {
  auto s = core::readWholeFile(path);
  if (!s) return error = "cannot read '" + path + "'", std::nullopt;
  return core::Bytes(s->begin(), s->end());
}

void addPassphraseOptions(CLI::App& app, Options& o) {
  auto* file =
      app.add_option("--passphrase-file", o.passphraseFile, "read the passphrase from this file");
  auto* in = app.add_flag("--passphrase-stdin", o.passphraseStdin,
                          "read the passphrase from the first line of standard input");
  file->excludes(in);
}

int Context::fail(const std::string& message, int status) {
  err << "fog: error: " << message << "\n";
  return status;
}

void Context::warn(const std::string& message) {
  err << "fog: warning: " << message << "\n";
}

namespace {
/// One line of `in`, without its line ending; nullopt at the end of the stream.
std::optional<std::string> readLine(std::istream& in) {
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}
} // namespace

std::optional<std::string> Context::passphrase(bool confirm, std::string& error) {
  const Options& o = options;
  if (!o.passphraseFile.empty()) {
    std::ifstream file(o.passphraseFile);
    if (!file)
      return error = "cannot read passphrase file '" + o.passphraseFile + "'", std::nullopt;
    return readLine(file).value_or("");
  }
  if (o.passphraseStdin) {
    auto line = readLine(in);
    if (!line) return error = "no passphrase on standard input", std::nullopt;
    return line;
  }
  if (const char* env = std::getenv("FOG_PASSPHRASE")) return std::string(env);
  if (!interactive_) {
    error = "no passphrase: give --passphrase-file or --passphrase-stdin, or set FOG_PASSPHRASE "
            "(no terminal to ask on)";
    return std::nullopt;
  }
  auto ask = [&](const char* prompt) {
    err << prompt << std::flush;
    // Echo off while the passphrase is typed, when the input is this process's terminal.
    termios old{};
    bool quiet = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    if (quiet) {
      termios silent = old;
      silent.c_lflag &= ~tcflag_t(ECHO);
      tcsetattr(STDIN_FILENO, TCSANOW, &silent);
    }
    auto line = readLine(in);
    if (quiet) tcsetattr(STDIN_FILENO, TCSANOW, &old);
    err << "\n";
    return line;
  };
  auto first = ask("passphrase: ");
  if (!first) return error = "no passphrase typed", std::nullopt;
  if (confirm && ask("again: ") != first) return error = "the passphrases differ", std::nullopt;
  return first;
}

std::optional<std::optional<std::string>> Context::secretFor(const std::string& name,
                                                             std::string& error) {
  auto pub = store_.loadPublic(name, error);
  if (!pub) return std::nullopt;
  if (!pub->encrypted) return std::optional<std::string>{};
  auto p = passphrase(false, error);
  if (!p) return std::nullopt;
  return std::optional<std::optional<std::string>>(std::in_place, std::move(p));
}

std::optional<core::Identity> Context::identity(std::string& error) {
  auto secret = secretFor(options.name, error);
  if (!secret) return std::nullopt;
  return store_.load(options.name, *secret, error);
}

int runFog(int argc, const char* const* argv, std::istream& in, std::ostream& out,
           std::ostream& err, bool interactive) {
  try {
    Options o;
    CLI::App app{kDescription, "fog"};
    std::map<std::string, CLI::App*> apps;
    buildParser(app, o, apps);

    std::vector<std::string> args;
    for (int i = argc - 1; i >= 1; --i) args.emplace_back(argv[i]);
    try {
      app.parse(args);
    } catch (const CLI::CallForHelp&) {
      out << app.help(); // the deepest subcommand given, with its whole path in the usage line
      return kOk;
    } catch (const CLI::CallForVersion& e) {
      out << e.what() << "\n";
      return kOk;
    } catch (const CLI::ParseError& e) {
      std::string path = reached(app);
      err << "fog: error: " << e.what() << "\nRun 'fog " << (path.empty() ? "" : path + " ")
          << "--help' for usage.\n";
      return kUsage;
    }

    std::string path = reached(app);
    for (const Command& cmd : commands()) {
      if (joined(cmd.path) != path || !cmd.run) continue;
      Context context(o, in, out, err, interactive);
      context.commandPath = path;
      return cmd.run(context);
    }
    err << "fog: error: no command\nRun 'fog --help' for usage.\n";
    return kUsage;
  } catch (const std::exception& e) {
    err << "fog: internal error: " << e.what() << "\n";
    return kUsage;
  }
}

} // namespace flo::fog
