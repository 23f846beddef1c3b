/// \file
/// `fog bench net`: the transport benchmark (bench/net_bench.h), and `fog bench pool`: the pool
/// benchmark (bench/pool_bench.h) on a fresh local fog in a temporary folder, from the installed
/// command, so that anyone can measure a machine the way docs/benchmarks.md does. `bench net`'s
/// defaults take about 15 s on two cores, `bench pool`'s about a minute and a half; --quick takes
/// a few seconds (net) or about twenty (pool) and is what the tests run. `bench pool --fault`
/// kills replicas of the pool under load (bench/pool_faults.h): the launcher below kills and
/// restarts them for it.
#include "core/os/interruption.h"
#include "core/store/keystore.h"
#include "fog/commands.h"
#include "fog/local_fog.h"

#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <ostream>

namespace flo::fog {

namespace {

/// The figures `fog bench net` runs by default: flo_transport_bench's, with fewer pairs.
bench::NetBenchOptions defaultBench() {
  bench::NetBenchOptions b;
  b.pairs = 100;
  return b;
}

/// --quick: every phase, small enough for a test.
bench::NetBenchOptions quickBench() {
  bench::NetBenchOptions b;
  b.small = 20'000;
  b.large = 8;
  b.pairs = 20;
  b.lossy = 2;
  b.runs = 1;
  b.seconds = 30;
  return b;
}

/// An option that, when given, sets one field of a benchmark's options (`given` collects the
/// settings, applied over the defaults or --quick once the command line is read).
template <typename Bench, typename T>
void fieldOption(CLI::App& app, std::vector<std::function<void(Bench&)>>& given,
                 const std::string& name, T Bench::* field, const std::string& help) {
  app.add_option_function<T>(
      name,
      [&given, field](const T& v) { given.push_back([field, v](Bench& b) { b.*field = v; }); },
      help);
}

template <typename T>
void benchOption(CLI::App& app, Options& o, const std::string& name,
                 T bench::NetBenchOptions::* field, const std::string& help) {
  fieldOption(app, o.benchGiven, name, field, help);
}

} // namespace

void addBenchNetOptions(CLI::App& app, Options& o) {
  const auto q = quickBench();
  const auto d = defaultBench();
  app.add_flag("--json", o.json,
               "print one JSON object with the figures on stdout (the tables go to stderr)");
  app.add_flag("--quick", o.quick,
               "a run of a few seconds: " + std::to_string(q.small) + " small and " +
                   std::to_string(q.large) + " large messages, " + std::to_string(q.pairs) +
                   " pairs, 1 run");
  benchOption(app, o, "--small", &bench::NetBenchOptions::small,
              "(a) 256-byte messages (default " + std::to_string(d.small) + ")");
  benchOption(app, o, "--large", &bench::NetBenchOptions::large,
              "(b) 1 MiB messages (default " + std::to_string(d.large) + ")");
  benchOption(app, o, "--pairs", &bench::NetBenchOptions::pairs,
              "(c, e) fresh node pairs for the handshake and first contact (default " +
                  std::to_string(d.pairs) + ")");
  benchOption(app, o, "--lossy", &bench::NetBenchOptions::lossy,
              "(d) 1 MiB messages under loss (default " + std::to_string(d.lossy) + ")");
  benchOption(app, o, "--loss", &bench::NetBenchOptions::loss,
              "(d) share of datagrams dropped each way (default 0.2)");
  benchOption(app, o, "--runs", &bench::NetBenchOptions::runs,
              "throughput phases report the best of this many runs (default " +
                  std::to_string(d.runs) + ")");
  benchOption(app, o, "--seconds", &bench::NetBenchOptions::seconds,
              "cap on every wait, seconds (default 60)");
  benchOption(app, o, "--seed", &bench::NetBenchOptions::seed,
              "(d) seed of the loss shim (default 1)");
  benchOption(app, o, "--rotations", &bench::NetBenchOptions::rotations,
              "(e) rotations in each key event log (default 3)");
  benchOption(app, o, "--only", &bench::NetBenchOptions::phases,
              "phases to run, among abcde (default all): a 256 B, b 1 MiB, c handshake, "
              "d lossy, e first contact");
  app.add_flag_callback(
      "--no-pacing",
      [&o] { o.benchGiven.push_back([](bench::NetBenchOptions& b) { b.pacing = false; }); },
      "turn the transport's pacing off");
}

namespace {

/// The pool benchmark's defaults (about a minute and a half on two cores).
bench::PoolBenchOptions defaultPoolBench() {
  return {};
}

/// --quick: every phase, short, on a small pool of accounts.
bench::PoolBenchOptions quickPoolBench() {
  bench::PoolBenchOptions b;
  b.seconds = 1.5;
  b.warmup = 0.5;
  b.accounts = 32;
  b.rampWarmup = 0.3;
  b.rampSeconds = 0.7;
  b.rampSteps = 6;
  b.verifySeconds = 0.3;
  return b;
}

template <typename T>
void poolOption(CLI::App& app, Options& o, const std::string& name,
                T bench::PoolBenchOptions::* field, const std::string& help) {
  fieldOption(app, o.poolBenchGiven, name, field, help);
}

/// The pool under test: a LocalFog in a fresh temporary folder, its replicas `fog pool run`
/// processes of this fog executable. stop() (or the destructor) stops them and removes the
/// folder.
class LocalFogLauncher final : public bench::PoolLauncher {
public:
  explicit LocalFogLauncher(std::string parent) : parent_(std::move(parent)) {}
  ~LocalFogLauncher() override { stop(); }

  std::optional<bench::PoolUnderTest> start(std::size_t replicas, const std::string& misbehave,
                                            std::string& error) override {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::path parent = parent_.empty() ? fs::temp_directory_path(ec) : fs::path(parent_);
    std::string pattern = (parent / "fog-bench-pool-XXXXXX").string();
    if (!::mkdtemp(pattern.data()))
      return error = "cannot make a temporary folder in " + parent.string(), std::nullopt;
    folder_ = pattern;
    std::string exe = selfExecutable();
    if (exe.empty())
      return error = "cannot find the fog executable to start replicas with (set FOG_EXE)",
             std::nullopt;
    fog_ = LocalFog::create(folder_ / "fog", replicas, 0, error);
    if (!fog_) return std::nullopt;
    exe_ = exe;
    for (std::size_t i = 0; i < replicas; ++i) {
      if (!misbehave.empty() && !fog_->setMisbehave(i, misbehave, error)) return std::nullopt;
      if (!fog_->start(i, exe, error)) return std::nullopt;
    }
    core::Keystore keys(fog_->home());
    auto funder = keys.load("genesis", std::nullopt, error);
    if (!funder) return std::nullopt;
    bench::PoolUnderTest pool{fog_->genesis(), funder->current, {}, fog_->dir().string()};
    for (std::size_t i = 0; i < replicas; ++i) pool.pids.push_back(fog_->runningPid(i).value_or(0));
    return pool;
  }

  void stop() override {
    if (fog_) {
      for (std::size_t i = 0; i < fog_->replicas(); ++i)
        fog_->stop(i, std::chrono::milliseconds(3000));
      fog_.reset();
    }
    if (!folder_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(folder_, ec);
      folder_.clear();
    }
  }

  bool kill(std::size_t i, std::string& error) override {
    if (!fog_ || i >= fog_->replicas()) return error = "no such replica", false;
    return fog_->kill(i, error);
  }

  bool restart(std::size_t i, std::string& error) override {
    if (!fog_ || i >= fog_->replicas()) return error = "no such replica", false;
    return fog_->start(i, exe_, error);
  }

  bool misbehave(std::size_t i, std::string& error) override {
    if (!fog_ || i >= fog_->replicas()) return error = "no such replica", false;
    return fog_->signal(fog_->replicaDaemon(i), SIGUSR1, error);
  }

private:
  std::string parent_;
  std::string exe_;
  std::filesystem::path folder_;
  std::optional<LocalFog> fog_;
};

} // namespace

void addBenchPoolOptions(CLI::App& app, Options& o) {
  const auto d = defaultPoolBench();
  const auto q = quickPoolBench();
  app.add_flag("--json", o.json,
               "print one JSON object with the figures on stdout (the tables go to stderr)");
  app.add_flag("--quick", o.quick,
               "a short run for tests: " + std::to_string(q.accounts) +
                   " accounts, ramp steps of 1 s, windows of " +
                   std::to_string(int(q.seconds * 10) / 10) + "." +
                   std::to_string(int(q.seconds * 10) % 10) + " s");
  poolOption(app, o, "--replicas", &bench::PoolBenchOptions::replicas,
             "replicas of the fresh pool (default " + std::to_string(d.replicas) + ")");
  poolOption(app, o, "--seconds", &bench::PoolBenchOptions::seconds,
             "each measurement window, seconds (default " + std::to_string(int(d.seconds)) + ")");
  poolOption(app, o, "--warmup", &bench::PoolBenchOptions::warmup,
             "warm-up before each window, seconds (default " + std::to_string(int(d.warmup)) + ")");
  poolOption(app, o, "--rate", &bench::PoolBenchOptions::rate,
             "offered transactions per second, measured alone (default: find the highest "
             "sustained rate, then measure at it and at half of it)");
  poolOption(app, o, "--accounts", &bench::PoolBenchOptions::accounts,
             "sending accounts, each paying the next (default " + std::to_string(d.accounts) + ")");
  poolOption(app, o, "--max-p99", &bench::PoolBenchOptions::maxP99Ms,
             "ramp: a rate whose p99 commit latency exceeds this many ms is not sustained "
             "(default " +
                 std::to_string(int(d.maxP99Ms)) + ")");
  poolOption(app, o, "--seed", &bench::PoolBenchOptions::seed,
             "seed of the arrivals and the accounts' keys (default 1)");
  app.add_flag_callback(
      "--fixed-interval",
      [&o] { o.poolBenchGiven.push_back([](bench::PoolBenchOptions& b) { b.poisson = false; }); },
      "arrivals at fixed intervals instead of Poisson");
  app.add_option_function<std::string>(
      "--fault",
      [&o](const std::string& name) {
        auto kind = bench::faultNamed(name);
        if (!kind)
          throw CLI::ValidationError("--fault",
                                     "expected leader-crash, restart, restart-all, slow-leader or "
                                     "forger, got '" +
                                         name + "'");
        o.poolBenchGiven.push_back([k = *kind](bench::PoolBenchOptions& b) { b.fault = k; });
      },
      "instead of the ramp, one phase at --rate (default " +
          std::to_string(int(bench::PoolBenchOptions::kFaultRate)) +
          " tx/s) with a fault: leader-crash (the leader killed with SIGKILL --repeat times, "
          "each restarted 2 s later; recovery = kill to the first commit of a later "
          "transaction), restart (a replica that does not lead killed for --down seconds, "
          "then restarted: the time to its first answer and to the chain's tip) or restart-all "
          "(every replica killed at once and restarted 2 s later: the last start to the first "
          "commit, and no replica back below a height it told); or one replica turned byzantine "
          "for --seconds: slow-leader (the leader holds each proposal --hold ms: the time until "
          "another leads) or forger (a replica that does not lead sends --forge-rate forged "
          "votes a second to each other one: compare the committed rate with a run without)");
  poolOption(app, o, "--repeat", &bench::PoolBenchOptions::repeat,
             "--fault leader-crash: kills (default " + std::to_string(d.repeat) + ")");
  poolOption(app, o, "--leaders", &bench::PoolBenchOptions::leaders,
             "--fault leader-crash: consecutive leaders killed at once, the current one and the "
             "next (default " +
                 std::to_string(d.leaders) + ", at most f)");
  poolOption(app, o, "--down", &bench::PoolBenchOptions::downSeconds,
             "--fault restart: seconds the replica is down, at most 600 (default " +
                 std::to_string(int(d.downSeconds)) + ")");
  poolOption(app, o, "--hold", &bench::PoolBenchOptions::holdMs,
             "--fault slow-leader: ms each proposal of the slow leader is held, 1 to 60000 "
             "(default " +
                 std::to_string(int(d.holdMs)) + ", just under the 500 ms round timeout)");
  poolOption(app, o, "--forge-rate", &bench::PoolBenchOptions::forgeRate,
             "--fault forger: forged votes a second to each other replica, 1 to 100000 (default " +
                 std::to_string(int(d.forgeRate)) + ")");
  app.add_option("--tmp", o.tmpDir,
                 "where the temporary fog is made (default: $TMPDIR or /tmp); it is removed "
                 "afterwards");
}

int benchPool(Context& c) {
  const Options& o = c.options;
  bench::PoolBenchOptions b = o.quick ? quickPoolBench() : defaultPoolBench();
  for (const auto& set : o.poolBenchGiven) set(b);
  if (std::string why = bench::validate(b); !why.empty()) return c.fail(why, kUsage);
  // Ctrl-C, a closed terminal or a reader gone from the tables' stream (`| head`) stops the
  // run, and the replicas with it (they run in sessions of their own).
  bench::PoolBenchResult result;
  {
    core::Interruption interruption;
    core::PipeErrorsNotFatal pipes;
    std::ostream& tables = o.json ? c.err : c.out;
    b.interrupted = [&] { return interruption.requested() || !tables.good(); };
    LocalFogLauncher launcher(o.tmpDir);
    result = bench::runPoolBench(b, launcher, tables);
  }
  if (o.json) c.out << bench::toJson(result).dump(2) << "\n";
  if (!result.ok) return c.fail(result.error);
  return kOk;
}

int benchNet(Context& c) {
  const Options& o = c.options;
  bench::NetBenchOptions b = o.quick ? quickBench() : defaultBench();
  for (const auto& set : o.benchGiven) set(b);
  if (std::string why = bench::validate(b); !why.empty()) return c.fail(why, kUsage);
  bench::NetBenchResult result = bench::runNetBench(b, o.json ? c.err : c.out);
  if (o.json) c.out << bench::toJson(result).dump(2) << "\n";
  if (!result.ok) return c.fail("a phase did not complete (see FAILED above)");
  return kOk;
}

} // namespace flo::fog
