/// \file
/// `fog bench deploy`: deploy-to-first-result latency on a fresh local fog (four replicas, two
/// foggers, as `fog up` makes them), job runs settled per second, and the foggers' resident
/// memory when idle (docs/benchmarks.md). The program is a small job that runs on any
/// architecture; the first deployment compiles it (reported apart), the others find the bundle
/// cached, as a user deploying again would.
#include "bench/pool_bench.h"
#include "core/os/interruption.h"
#include "fog/commands.h"
#include "fog/local_fog.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace flo::fog {

namespace fs = std::filesystem;

namespace {

/// One run prints one line and stops: the latency is the pool's and the foggers', not the job's.
const char* const kProgram = R"(# fog bench deploy's job: one line a run.
house bench
  framer once be inactive first say
    frame say
      print ready
      bid stop me

job ping
  needs arch any mem 8M cpu 0.1
  price 1 per run max 10
  replicas 2 spread
  trigger every 1.0
  limit 4 passes
  run framer once
)";

/// The p-th percentile, nearest rank (the pool benchmark's rule).
double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return bench::quantile(v, p / 100);
}

/// VmRSS of a process, MiB; 0 when it cannot be read.
double residentMiB(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  return 0;
}

/// Runs a fog command in this process on `dir` with these options; its output and status.
int inProcess(int (*command)(Context&), Options o, std::ostream& out, std::ostream& err) {
  std::istringstream in;
  Context c(o, in, out, err, false);
  return command(c);
}

} // namespace

void addBenchDeployOptions(CLI::App& app, Options& o) {
  app.add_flag("--json", o.json, "print the figures as JSON");
  app.add_option("--count", o.count, "deployments after the first (default 20)")
      ->check(CLI::Range(1, 10000));
  app.add_option("--tmp", o.tmpDir,
                 "where the temporary fog is made (default: $TMPDIR or /tmp); it is removed "
                 "afterwards");
}

int benchDeploy(Context& c) {
  std::size_t count = c.options.count ? c.options.count : 20;
  fs::path base = c.options.tmpDir.empty() ? fs::temp_directory_path() : fs::path(c.options.tmpDir);
  fs::path work = base / ("fog-bench-deploy-" + std::to_string(::getpid()));
  fs::create_directories(work);
  std::ofstream(work / "ping.flo") << kProgram;
  Options o;
  o.dir = (work / "fog").string();
  o.detach = true;
  std::ostringstream sink;
  auto& log = c.options.json ? c.err : c.out;
  log << "bench deploy: starting a local fog of 4 replicas and 2 foggers in " << work.string()
      << std::endl;
  // Ctrl-C, a closed terminal or a reader gone (`| head`) ends the run with the fog stopped:
  // its daemons run in sessions of their own and would outlive this process.
  core::Interruption interruption;
  core::PipeErrorsNotFatal pipes;
  auto stopped = [&] { return interruption.requested() || !log.good(); };
  int rc = inProcess(up, o, sink, sink);
  auto cleanup = [&] {
    std::ostringstream s;
    inProcess(down, o, s, s);
    std::error_code ec;
    fs::remove_all(work, ec);
  };
  if (rc != 0) {
    cleanup();
    return c.fail("the fog did not start:\n" + sink.str());
  }
  auto interrupted = [&] {
    cleanup();
    return c.fail("interrupted");
  };
  if (stopped()) return interrupted();
  std::string error;
  auto fog = LocalFog::load(o.dir, error);
  std::this_thread::sleep_for(std::chrono::seconds(1)); // idle: registered, nothing to run
  // A fogger under qemu holds qemu's translated code as well: its memory is reported apart.
  double idleRss = 0, idleRssQemu = 0;
  std::vector<std::string> arches;
  for (std::size_t j = 0; fog && j < fog->foggers(); ++j) {
    auto daemon = fog->foggerDaemon(j);
    double& rss = daemon.underQemu() ? idleRssQemu : idleRss;
    if (auto pid = fog->runningPid(daemon)) rss = std::max(rss, residentMiB(*pid));
  }
  Options d = o;
  d.file = (work / "ping.flo").string();
  d.json = true;
  d.runs = 1;
  std::vector<double> first, total;
  double compiled = 0, seconds = 0;
  std::uint64_t runs = 0;
  for (std::size_t i = 0; i <= count; ++i) {
    if (stopped()) return interrupted();
    std::ostringstream out, err;
    if (inProcess(deploy, d, out, err) != 0) {
      if (stopped()) return interrupted(); // Ctrl-C reaches the compiler too, and fails it
      cleanup();
      return c.fail("deployment " + std::to_string(i) + " failed:\n" + err.str());
    }
    auto j = nlohmann::json::parse(out.str(), nullptr, false);
    if (j.is_discarded()) {
      cleanup();
      return c.fail("fog deploy printed no JSON");
    }
    double best = 1e18;
    for (const auto& r : j["results"]) {
      best = std::min(best, r.value("first_result_ms", 1e18));
      runs += r.value("verified", false) ? d.runs : 0;
      if (i == 0) arches.push_back(r.value("arch", ""));
    }
    if (i == 0) {
      compiled = best;
      continue;
    }
    first.push_back(best);
    total.push_back(j.value("seconds", 0.0) * 1000);
    seconds += j.value("seconds", 0.0);
    if (!c.options.json && i % 5 == 0)
      log << "bench deploy: " << i << " of " << count << " deployments" << std::endl;
  }
  cleanup();
  nlohmann::json r = {{"deployments", count},
                      {"foggers", arches},
                      {"first_deploy_first_result_ms", compiled},
                      {"first_result_ms_p50", percentile(first, 50)},
                      {"first_result_ms_p99", percentile(first, 99)},
                      {"settled_ms_p50", percentile(total, 50)},
                      {"settled_ms_p99", percentile(total, 99)},
                      {"job_runs_settled_per_s", seconds > 0 ? double(runs) / seconds : 0},
                      {"fogger_idle_rss_mb", idleRss},
                      {"fogger_under_qemu_idle_rss_mb", idleRssQemu}};
  if (c.options.json) {
    c.out << r.dump(2) << "\n";
    return kOk;
  }
  auto row = [&](const std::string& what, const std::string& value) {
    c.out << "  " << std::left << std::setw(48) << what << value << "\n";
  };
  std::ostringstream f;
  f << std::fixed << std::setprecision(1);
  auto num = [&](double v) {
    f.str("");
    f << v;
    return f.str();
  };
  c.out << "fog bench deploy: " << count << " deployments of a 1-run job on " << arches.size()
        << " foggers\n";
  row("first result, first deployment (compiles)", num(compiled) + " ms");
  row("first result p50 / p99 (bundle cached)",
      num(percentile(first, 50)) + " / " + num(percentile(first, 99)) + " ms");
  row("settled p50 / p99 (receipts committed)",
      num(percentile(total, 50)) + " / " + num(percentile(total, 99)) + " ms");
  row("job runs settled per second (one deployer)", num(r["job_runs_settled_per_s"]));
  row("fogger resident memory when idle", num(idleRss) + " MiB");
  if (idleRssQemu > 0) row("the same, the aarch64 fogger under qemu", num(idleRssQemu) + " MiB");
  return kOk;
}

} // namespace flo::fog
