/// \file
/// The pool from the command line: `fog up`, `fog down`, `fog status` (a local fog of replica
/// processes, fog/local_fog.h), `fog account new|balance|transfer`, `fog stake`, `fog unstake`,
/// `fog provider register` (transactions, each waiting for f+1 matching commits), `fog pool run`
/// (one replica process), `fog pool sim` (a scenario of the fault matrix in this process) and
/// `fog pool verify-chain` (a replica's stored chain checked against the genesis).
#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/interruption.h"
#include "core/os/system.h"
#include "core/store/keystore.h"
#include "fog/commands.h"
#include "fog/local_fog.h"
#include "fog/pool_session.h"
#include "pool/net/pool_client.h"
#include "pool/net/replica_daemon.h"
#include "pool/sim/scenarios.h"
#include "pool/store/replica_store.h"
#include "pool/store/verify_chain.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <iomanip>
#include <thread>
#include <unistd.h>

namespace flo::fog {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void addReplicas(CLI::App& app, Options& o, const std::string& help) {
  app.add_option_function<std::size_t>(
      "--replicas",
      [&o](const std::size_t& n) {
        o.replicas = n;
        o.replicasGiven = true;
      },
      help);
}

// ---- up, down, status -------------------------------------------------------------------------

/// Waits until every replica answers a status query (or the time runs out).
bool waitUntilServing(const LocalFog& fog, std::chrono::milliseconds limit) {
  std::string error;
  auto client = connect(fog.genesis(), error);
  if (!client) return false;
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    auto all = client->pool->status(500ms);
    if (std::all_of(all.begin(), all.end(), [](const auto& a) { return a.has_value(); }))
      return true;
  }
  return false;
}

int stopAll(Context& c, const LocalFog& fog) {
  std::size_t stopped = 0, foggers = 0;
  for (std::size_t j = 0; j < fog.foggers(); ++j)
    foggers += fog.stop(fog.foggerDaemon(j), 3000ms) ? 1 : 0;
  for (std::size_t i = 0; i < fog.replicas(); ++i) stopped += fog.stop(i, 3000ms) ? 1 : 0;
  c.err << "fog: stopped " << stopped << " replica(s) and " << foggers << " fogger(s) of "
        << fog.dir().string() << "\n";
  return kOk;
}

/// Starts the foggers that are not running (each registers and stakes before it says it is
/// up); prints where they are. False when one did not start.
bool startFoggers(Context& c, const LocalFog& fog, const std::string& exe) {
  bool ok = true;
  for (std::size_t j = 0; j < fog.foggers(); ++j) {
    auto d = fog.foggerDaemon(j);
    std::string error;
    if (!fog.runningPid(d) && !fog.start(d, exe, error, 30s)) {
      c.fail(error);
      ok = false;
    }
    std::string why;
    auto config = fogger::FoggerConfig::load(d.config.string(), why);
    c.out << "  fogger " << j << "   " << (config ? config->listen : "?") << "  pid "
          << fog.runningPid(d).value_or(0) << "  " << (config ? config->arch : "?")
          << (d.underQemu()                           ? " (fogger-aarch64 under qemu)"
              : config && config->executor.size() > 1 ? " (jobs under qemu)"
                                                      : "")
          << "  log " << d.log.string() << "\n";
  }
  return ok;
}

} // namespace

void addUpOptions(CLI::App& app, Options& o) {
  addDir(app, o);
  addReplicas(app, o, "replicas of a new fog (default 4: tolerates 1 fault)");
  app.add_option("--foggers", o.foggers,
                 "foggers of a new fog (default 2: one x86-64, one aarch64 under qemu when "
                 "present)")
      ->check(CLI::Range(0, 16));
  app.add_flag("--detach", o.detach,
               "return once the replicas serve, leaving them running (fog down stops them)");
}

int up(Context& c) {
  std::string error;
  std::optional<LocalFog> fog;
  bool fresh = !LocalFog::exists(c.options.dir);
  if (fresh) {
    fog = LocalFog::create(c.options.dir, c.options.replicas, c.options.foggers, error);
  } else {
    fog = LocalFog::load(c.options.dir, error);
    if (fog && c.options.replicasGiven && c.options.replicas != fog->replicas())
      return c.fail(c.options.dir + " holds a fog of " + std::to_string(fog->replicas()) +
                        " replicas (fog down, then remove the folder for another size)",
                    kUsage);
  }
  if (!fog) return c.fail(error);
  if (fresh)
    c.err << "fog: made a fog of " << fog->replicas() << " replicas in " << fog->dir().string()
          << "\n";
  std::string exe = selfExecutable();
  if (exe.empty())
    return c.fail("cannot find the fog executable to start replicas with (set FOG_EXE)");
  // In the foreground, what stops this command (Ctrl-C, SIGTERM, its terminal closing, a
  // reader gone) stops the fog too, from here to the last daemon stopped: while they start,
  // while they serve and while they stop. Detached, they are meant to outlive it.
  std::optional<core::Interruption> interruption;
  std::optional<core::PipeErrorsNotFatal> pipes;
  if (!c.options.detach) {
    interruption.emplace();
    pipes.emplace();
  }
  auto interrupted = [&] { return interruption && interruption->requested(); };
  // Running replicas are left alone, and so is every replica that starts when another cannot
  // (a store that refuses to open, say): with --detach the fog serves with those, tolerating
  // one fewer fault, and `fog up` again starts what is still down. In the foreground, what this
  // call started is stopped again.
  std::vector<std::size_t> started, failed;
  for (std::size_t i = 0; i < fog->replicas() && !interrupted(); ++i) {
    if (fog->runningPid(i)) continue;
    if (fog->start(i, exe, error)) {
      started.push_back(i);
    } else {
      c.fail(error);
      failed.push_back(i);
    }
  }
  if (!failed.empty()) {
    std::size_t running = fog->replicas() - failed.size();
    if (!c.options.detach) {
      for (std::size_t i : started) fog->stop(i, 3000ms);
      c.err << "fog: stopped the " << started.size() << " replica(s) this command started\n";
    } else {
      c.err << "fog: " << failed.size() << " replica(s) did not start; " << running << " of "
            << fog->replicas() << " run"
            << (running >= fog->genesis().quorum() ? "" : ", fewer than a quorum: no commits")
            << " (fix the store or the log's complaint, then fog up again)\n";
    }
    return kFailed;
  }
  if (interrupted()) {
    stopAll(c, *fog);
    return c.fail("interrupted");
  }
  if (!waitUntilServing(*fog, 10s)) c.warn("not every replica answers yet (fog status shows them)");
  c.out << "fog up: " << fog->replicas() << " replicas (" << started.size() << " started, "
        << fog->replicas() - started.size() << " already running), tolerating "
        << fog->genesis().faults() << " faulty\n";
  for (std::size_t i = 0; i < fog->replicas(); ++i) {
    const auto& r = fog->genesis().replicas[i];
    c.out << "  replica " << i << "  " << r.host << ":" << r.port << "  pid "
          << fog->runningPid(i).value_or(0) << "  " << r.did << "\n";
    c.out << "            data " << fog->dataPath(i).string() << "  log "
          << fog->logPath(i).string() << "\n";
  }
  if (!startFoggers(c, *fog, exe) || interrupted()) {
    if (!c.options.detach) stopAll(c, *fog);
    return interrupted() ? c.fail("interrupted") : kFailed;
  }
  c.out << "  genesis   " << fog->genesisPath().string() << "\n"
        << "  keys      " << fog->home().string() << " (account 'genesis' holds the supply, "
        << LocalFog::kSupply << " tokens)\n";
  if (c.options.detach) {
    c.out << "running in the background: fog status --dir " << c.options.dir
          << " shows it, fog down --dir " << c.options.dir << " stops it\n";
    return kOk;
  }
  c.out << "serving; Ctrl-C stops the fog" << std::endl;
  while (!interrupted()) std::this_thread::sleep_for(100ms);
  return stopAll(c, *fog);
}

void addDownOptions(CLI::App& app, Options& o) {
  addDir(app, o);
}

int down(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  return stopAll(c, *fog);
}

void addStatusOptions(CLI::App& app, Options& o) {
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int status(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto client = connect(fog->genesis(), error);
  if (!client) return c.fail(error);
  auto answers = client->pool->status(1500ms);
  nlohmann::json list = nlohmann::json::array();
  std::size_t serving = 0;
  for (std::size_t i = 0; i < fog->replicas(); ++i) {
    const auto& r = fog->genesis().replicas[i];
    auto pid = fog->runningPid(i);
    nlohmann::json j{{"index", i},
                     {"did", r.did},
                     {"addr", r.host + ":" + std::to_string(r.port)},
                     {"pid", pid ? nlohmann::json(*pid) : nlohmann::json(nullptr)}};
    if (const auto& a = answers[i]) {
      ++serving;
      j["view"] = a->view;
      j["round"] = a->round;
      j["height"] = a->height;
      j["state_root"] = hex(a->stateRoot);
      j["last_commit"] = a->lastCommitMs;
      j["signatures_verified"] = a->signaturesVerified;
      j["transactions_committed"] = a->transactionsCommitted;
      j["mempool"] = a->mempool;
      j["leader_work_ms"] = a->leaderWorkMs;
      j["leader_wait_ms"] = a->leaderWaitMs;
      j["slow_leader_timeouts"] = a->slowLeaderTimeouts;
      j["convictions"] = a->convictions;
      j["muted_messages"] = a->mutedMessages;
    } else {
      j["view"] = j["round"] = j["height"] = j["state_root"] = j["last_commit"] = nullptr;
    }
    list.push_back(j);
  }
  // The foggers: their processes, and their record as the pool has it.
  nlohmann::json foggers = nlohmann::json::array(), offers = nlohmann::json::array();
  if (fog->foggers() > 0 && serving > 0) {
    pool::Query q;
    q.providers = true;
    if (auto a = client->pool->ask(q, 3s, error))
      offers = nlohmann::json::parse(a->providersJson, nullptr, false);
  }
  core::Keystore keys(fog->home());
  for (std::size_t j = 0; j < fog->foggers(); ++j) {
    auto d = fog->foggerDaemon(j);
    auto pid = fog->runningPid(d);
    auto config = fogger::FoggerConfig::load(d.config.string(), error);
    nlohmann::json f{{"index", j},
                     {"pid", pid ? nlohmann::json(*pid) : nlohmann::json(nullptr)},
                     {"addr", config ? config->listen : ""},
                     {"arch", config ? config->arch : ""}};
    auto pub = keys.loadPublic("fogger-" + std::to_string(j), error);
    std::string did = pub ? core::didKey(pub->state.currentKey) : "";
    f["did"] = did;
    if (offers.is_array())
      for (const auto& o : offers)
        if (o.value("did", "") == did)
          for (const char* k : {"stake", "completed", "failed", "slashed", "price"}) f[k] = o[k];
    foggers.push_back(f);
  }
  if (c.options.json) {
    c.out << nlohmann::json{{"replicas", list},
                            {"foggers", foggers},
                            {"faults_tolerated", fog->genesis().faults()}}
                 .dump(2)
          << "\n";
  } else {

    c.out << "fog " << fog->dir().string() << ": " << serving << " of " << fog->replicas()
          << " replicas serving (tolerates " << fog->genesis().faults() << " faulty)\n";
    for (const auto& j : list) {
      c.out << "  replica " << j["index"] << "  " << j["addr"].get<std::string>() << "  ";
      if (j["pid"].is_null())
        c.out << "not running";
      else
        c.out << "pid " << j["pid"];
      if (!j["height"].is_null())
        c.out << "  view " << j["view"] << "  round " << j["round"] << "  height " << j["height"]
              << "  root " << j["state_root"].get<std::string>().substr(0, 16);
      else if (!j["pid"].is_null())
        c.out << "  (no answer)";
      c.out << "\n";
    }
    for (const auto& f : foggers) {
      c.out << "  fogger " << f["index"] << "   " << f["addr"].get<std::string>() << "  "
            << (f["pid"].is_null() ? std::string("not running")
                                   : "pid " + std::to_string(f["pid"].get<int>()))
            << "  " << f["arch"].get<std::string>();
      if (f.contains("stake"))
        c.out << "  stake " << f["stake"] << "  runs done " << f["completed"] << ", failed "
              << f["failed"] << ", slashed " << f["slashed"];
      c.out << "\n";
    }
  }
  return serving > 0 ? kOk : kFailed;
}

// ---- accounts and transactions ----------------------------------------------------------------

void addAccountNewOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "account name")->required();
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int accountNew(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  core::Keystore keys(fog->home());
  auto id = keys.create(c.options.name, std::nullopt, std::nullopt, error);
  if (!id) return c.fail(error);
  std::string account = core::didKey(id->current.publicKey());
  if (c.options.json)
    c.out << nlohmann::json{{"name", c.options.name}, {"account", account}}.dump(2) << "\n";
  else
    c.out << c.options.name << " " << account << "\n";
  return kOk;
}

void addAccountBalanceOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "account name or did:key")->required();
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int accountBalance(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto account = resolveAccount(*fog, c.options.name, error);
  if (!account) return c.fail(error);
  auto client = connect(fog->genesis(), error);
  if (!client) return c.fail(error);
  auto a = client->pool->query(account, kTxTimeout, error);
  if (!a) return c.fail("the pool did not answer: " + error + " (is it up? fog status)");
  if (c.options.json) {
    c.out << nlohmann::json{{"account", core::didKey(*account)},
                            {"balance", a->balance},
                            {"stake", a->stake},
                            {"unbonding", a->unbonding},
                            {"nonce", a->nonce},
                            {"provider", a->provider},
                            {"height", a->height}}
                 .dump(2)
          << "\n";
  } else {
    c.out << c.options.name << ": balance " << a->balance << ", stake " << a->stake
          << ", unbonding " << a->unbonding << " (height " << a->height << ")\n";
  }
  return kOk;
}

void addAccountTransferOptions(CLI::App& app, Options& o) {
  app.add_option("--from", o.from, "the paying account (a name in the fog's keystore)")->required();
  app.add_option("--to", o.to, "the receiving account (name or did:key)")->required();
  app.add_option("amount", o.amount, "tokens")->required();
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int accountTransfer(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto amount = amountOf(c, error);
  if (!amount) return c.fail(error, kUsage);
  auto to = resolveAccount(*fog, c.options.to, error);
  if (!to) return c.fail(error);
  return submitAs(c, *fog, c.options.from, pool::Transfer{*to, *amount});
}

void addStakeOptions(CLI::App& app, Options& o) {
  app.add_option("--from", o.from, "the staking account (a name in the fog's keystore)")
      ->required();
  app.add_option("args", o.args,
                 "AMOUNT: the account's own stake; CONTRACT AMOUNT: stake on a contract, only "
                 "if floc verify proves it")
      ->required()
      ->expected(1, 2);
  app.add_flag("--force", o.force, "stake on a contract even if it does not verify (loudly)");
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int stake(Context& c) {
  if (c.options.args.size() == 2) return contractStake(c, false);
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto amount = parseAmount(c.options.args.at(0), error);
  if (!amount) return c.fail(error, kUsage);
  return submitAs(c, *fog, c.options.from, pool::Stake{*amount});
}

int unstake(Context& c) {
  if (c.options.args.size() == 2) return contractStake(c, true);
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto amount = parseAmount(c.options.args.at(0), error);
  if (!amount) return c.fail(error, kUsage);
  return submitAs(c, *fog, c.options.from, pool::Unstake{*amount});
}

void addProviderRegisterOptions(CLI::App& app, Options& o) {
  app.add_option("--from", o.from, "the fogger's account (a name in the fog's keystore)")
      ->required();
  app.add_option("--arch", o.architectures, "architectures, e.g. x86_64 aarch64")->required();
  app.add_option("--cores", o.cores, "cores offered")->required();
  app.add_option("--memory", o.memoryMiB, "memory offered, MiB")->required();
  app.add_option("--zone", o.zone, "where it is (a name)")->required();
  app.add_option("--price", o.price, "tokens per work unit (the cost bound's unit)")->required();
  app.add_option("--address", o.address, "where deployers reach the fogger (host:port)");
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int providerRegister(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  pool::RegisterProvider p;
  p.architectures = c.options.architectures;
  std::sort(p.architectures.begin(), p.architectures.end());
  p.architectures.erase(std::unique(p.architectures.begin(), p.architectures.end()),
                        p.architectures.end());
  p.cores = c.options.cores;
  p.memoryMiB = c.options.memoryMiB;
  p.zone = c.options.zone;
  p.price = c.options.price;
  p.address = c.options.address;
  return submitAs(c, *fog, c.options.from, std::move(p));
}

// ---- pool run, sim, verify-chain --------------------------------------------------------------

void addPoolRunOptions(CLI::App& app, Options& o) {
  app.add_option("--config", o.config, "the replica's config (JSON)")->required();
  app.add_option("--pid-file", o.pidFile, "write the process id here once serving");
}

int poolRun(Context& c) {
  std::string error;
  auto config = pool::ReplicaConfig::load(c.options.config, &error);
  if (!config) return c.fail(error, kUsage);
  auto textGenesis = readFile(config->genesis, error);
  if (!textGenesis) return c.fail(error);
  auto genesis =
      pool::Genesis::fromJson(std::string(textGenesis->begin(), textGenesis->end()), &error);
  if (!genesis) return c.fail(error);
  std::string dataFile = config->data;
  if (fs::is_directory(dataFile))
    dataFile = (fs::path(dataFile) / pool::SqliteStore::kFileName).string();
  const auto opening = std::chrono::steady_clock::now();
  auto store = pool::SqliteStore::open(dataFile, *genesis, &error);
  if (!store) return c.fail("cannot use " + config->data + ": " + error);
  const auto opened = std::chrono::steady_clock::now();
  auto daemon = pool::ReplicaDaemon::open(*config, std::move(store), error);
  if (!daemon) return c.fail(error);
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  // From before the pid file says it runs: a stop signal then is taken in order by run().
  core::Interruption interruption;
  if (!c.options.pidFile.empty()) {
    std::ofstream pid(c.options.pidFile, std::ios::trunc);
    pid << ::getpid() << "\n";
  }
  // How long a restart took to serve (a replica that was down catches up from here).
  c.err << "replica " << config->index << " of " << genesis->name << " serving on "
        << config->listen << " as " << daemon->node().did() << " at height "
        << daemon->replica().committedHeight() << " (store checked and opened in "
        << ms(opened - opening) << " ms, state restored in "
        << ms(std::chrono::steady_clock::now() - opened) << " ms)" << std::endl;
  daemon->run(true);
  if (!daemon->failure().empty())
    return c.fail("replica " + std::to_string(config->index) + ": " + daemon->failure());
  const auto& m = daemon->replica().metrics();
  c.err << "replica " << config->index << " stopped at height "
        << daemon->replica().committedHeight() << " (" << m.committedTxs << " transactions, "
        << m.invalidMessages << " invalid messages dropped)" << std::endl;
  return kOk;
}

void addPoolSimOptions(CLI::App& app, Options& o) {
  app.add_option("--scenario", o.scenario, "the scenario (--list names them)");
  app.add_option("--seed", o.seed, "the seed (default 1)");
  addReplicas(app, o, "replicas (default: the scenario's first)");
  app.add_flag("--list", o.list, "name every scenario, one a line");
  app.add_flag("--json", o.json, "the verdicts as JSON");
}

int poolSim(Context& c) {
  if (c.options.list) {
    for (const auto& s : pool::scenarios()) c.out << s.name << "\n";
    return kOk;
  }
  if (c.options.scenario.empty()) return c.fail("give --scenario NAME (or --list)", kUsage);
  const pool::Scenario* s = pool::findScenario(c.options.scenario);
  if (!s) return c.fail("no scenario '" + c.options.scenario + "' (fog pool sim --list)", kUsage);
  std::size_t n = c.options.replicasGiven ? c.options.replicas : s->replicas.front();
  if (n < 1 || n > 64) return c.fail("--replicas takes 1 to 64", kUsage);
  pool::ScenarioResult r = s->run(c.options.seed, n);
  if (c.options.json) {
    c.out << pool::toJson(r) << "\n";
  } else {
    c.out << r.scenario << " (" << s->description << "), " << n << " replicas, seed " << r.seed
          << ": " << r.acknowledged << " of " << r.submitted << " acknowledged, height "
          << r.committedHeight << ", " << std::fixed << std::setprecision(1) << r.virtualSeconds
          << " s virtual\n";
    for (const auto& v : r.verdicts)
      c.out << (v.ok ? "  ok     " : "  FAILED ") << v.checker << ": " << v.detail << "\n";
    if (!r.notes.empty()) c.out << r.notes << "\n";
  }
  return r.holds() ? kOk : kFailed;
}

void addVerifyChainOptions(CLI::App& app, Options& o) {
  app.add_option("dir", o.file, "a replica's folder (or its pool.db)")->required();
  app.add_flag("--json", o.json, "the report as JSON");
}

int poolVerifyChain(Context& c) {
  fs::path p = c.options.file;
  if (fs::is_directory(p)) p /= pool::SqliteStore::kFileName;
  if (!fs::exists(p)) return c.fail("no " + p.string());
  pool::VerifyReport report = pool::verifyChain(p.string(), nullptr);
  if (c.options.json) {
    c.out << report.toJson() << "\n";
  } else if (report.ok()) {
    c.out << "chain verified: " << report.blocks << " blocks (height " << report.verifiedHeight
          << "), " << report.txs << " transactions, " << report.checkpoints
          << " checkpoints; every block certified by a quorum of the genesis committee and "
             "re-executed to its state root "
          << hex(report.stateRoot).substr(0, 16) << "\n";
    for (const auto& [from, to] : report.gaps)
      c.out << "heights " << from << ".." << to
            << " not held: skipped by a state transfer to the checkpoint at " << to + 1
            << ", whose snapshot a quorum signed\n";
  } else {
    c.out << "chain broken at height " << report.problem->height
          << (report.problem->table.empty() ? "" : " (" + report.problem->table + ")") << ": "
          << report.problem->reason << "\n"
          << "blocks 1.." << report.verifiedHeight << " verified\n";
  }
  return report.ok() ? kOk : kFailed;
}

} // namespace flo::fog
