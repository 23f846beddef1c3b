/// \file
/// The jobs deployed from a local fog (docs/deploy.md; `fog deploy` is fog/deployer.cpp):
/// `fog jobs`, `fog results` (each fogger's chain checked again), `fog logs [-f]`, `fog cancel`;
/// and `fog fogger --config FILE`, the fogger daemon itself (fogger/net).
#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/process.h"
#include "core/os/system.h"
#include "core/store/keystore.h"
#include "core/store/provenance_store.h"
#include "fog/commands.h"
#include "fog/deployer.h"
#include "fog/local_fog.h"
#include "fog/pool_session.h"
#include "pool/ledger/ledger.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>
#include <thread>

#include "fogger/chain.h"
#include "fogger/net/daemon.h"
#include "fogger/wire.h"

namespace flo::fog {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---- fog fogger -------------------------------------------------------------------------------

void addFoggerOptions(CLI::App& app, Options& o) {
  app.add_option("--config", o.config, "the fogger's config (JSON; fog up writes one)")->required();
  app.add_option("--pid-file", o.pidFile, "write the process id here once registered");
}

int foggerRun(Context& c) {
  std::string error;
  auto config = fogger::FoggerConfig::load(c.options.config, error);
  if (!config) return c.fail(error, kUsage);
  c.out.flush();
  return fogger::runFogger(*config, c.options.pidFile, c.err);
}

// ---- fog jobs, results, logs, cancel ----------------------------------------------------------

void addJobsOptions(CLI::App& app, Options& o) {
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

int jobs(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto client = connect(fog->genesis(), error);
  if (!client) return c.fail(error);
  nlohmann::json list = nlohmann::json::array();
  std::error_code ec;
  std::vector<fs::path> dirs;
  for (const auto& e : fs::directory_iterator(jobsDir(*fog), ec))
    if (e.is_directory() && fs::exists(e.path() / "job.json")) dirs.push_back(e.path());
  std::sort(dirs.begin(), dirs.end());
  for (const auto& d : dirs) {
    std::string why;
    auto record = readJob(d, why);
    if (!record) continue;
    nlohmann::json& j = record->fields;
    auto o = queryOrder(*client->pool, record->order, why);
    j["status"] = o ? (*o)["status"] : nlohmann::json("unknown: " + why);
    if (o) {
      j["escrow"] = (*o)["escrow"];
      j["assignments"] = (*o)["assignments"];
    }
    list.push_back(j);
  }
  if (c.options.json) {
    c.out << nlohmann::json{{"jobs", list}}.dump(2) << "\n";
    return kOk;
  }
  if (list.empty()) c.out << "no jobs in " << jobsDir(*fog).string() << " (fog deploy FILE)\n";
  for (const auto& j : list) {
    c.out << j["id"].get<std::string>().substr(0, 16) << "  " << std::setw(10) << std::left
          << j["job"].get<std::string>() << "  " << j["status"].get<std::string>();
    if (j.contains("assignments"))
      for (const auto& a : j["assignments"])
        c.out << "  " << a["fogger"].get<std::string>().substr(8, 8) << ":"
              << a["state"].get<std::string>() << " paid " << a["paid"];
    if (j.contains("input")) c.out << "  fed by " << j["input"].get<std::string>().substr(0, 16);
    if (j.contains("feeds")) c.out << "  feeds " << j["feeds"].get<std::string>().substr(0, 16);
    c.out << "  (" << j["file"].get<std::string>() << ")\n";
  }
  return kOk;
}

void addJobOptions(CLI::App& app, Options& o) {
  app.add_option("job", o.job, "the job's id (or a prefix of 4 or more)")->required();
  addDir(app, o);
  app.add_flag("--json", o.json, "machine-readable output");
}

namespace {

/// Each fogger's stored output of a job, checked again (signatures, chain, head).
struct Stored {
  std::string fogger;
  fogger::RunOutput output;
  std::optional<pool::RunResult> result;
  std::vector<core::ProvenanceRecord> records;
  std::string error;
};

std::vector<Stored> storedOutputs(const fs::path& dir) {
  std::vector<Stored> out;
  std::string why;
  auto record = readJob(dir, why);
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir / "outputs", ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Stored s;
    auto bytes = readFile(f.string(), s.error);
    auto m = bytes ? fogger::decode(*bytes, &s.error) : std::nullopt;
    if (!m || !std::holds_alternative<fogger::RunOutput>(*m) || !record) {
      s.error = "unreadable: " + f.string();
      out.push_back(std::move(s));
      continue;
    }
    s.output = std::get<fogger::RunOutput>(*m);
    // The producer is the first record's; the check then holds every record to it.
    auto first = s.output.records.empty()
                     ? std::nullopt
                     : core::ProvenanceRecord::decode(s.output.records[0], &why);
    auto key = first ? core::parseDidKey(first->producer) : std::nullopt;
    s.fogger = first ? first->producer : "?";
    if (key) s.result = fogger::checkOutput(s.output, *key, record->order, s.records, s.error);
    out.push_back(std::move(s));
  }
  return out;
}

/// The folder of the job the command names (in the local fog of --dir); nullopt after saying
/// why.
std::optional<fs::path> namedJob(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  auto dir = fog ? findJob(*fog, c.options.job, error) : std::nullopt;
  if (!dir) c.fail(error);
  return dir;
}

} // namespace

int results(Context& c) {
  auto dir = namedJob(c);
  if (!dir) return kFailed;
  auto outputs = storedOutputs(*dir);
  nlohmann::json list = nlohmann::json::array();
  bool allOk = !outputs.empty();
  for (const auto& s : outputs) {
    allOk &= s.result.has_value();
    nlohmann::json items = nlohmann::json::array();
    for (std::size_t i = 0; i < s.records.size(); ++i)
      items.push_back({{"item", s.records[i].itemId}, {"line", s.output.payloads[i]}});
    list.push_back({{"fogger", s.fogger},
                    {"verified", s.result.has_value()},
                    {"error", s.error},
                    {"work", s.result ? s.result->work : 0},
                    {"runs", s.result ? s.result->runs : 0},
                    {"items", items}});
  }
  if (c.options.json) {
    c.out << nlohmann::json{{"job", dir->filename().string()}, {"results", list}}.dump(2) << "\n";
  } else {
    if (outputs.empty()) c.out << "no results stored for this job\n";
    for (const auto& r : list) {
      c.out << r["fogger"].get<std::string>() << ": "
            << (r["verified"].get<bool>()
                    ? "verified chain of " + std::to_string(r["items"].size()) + " items, work " +
                          std::to_string(r["work"].get<std::uint64_t>())
                    : "NOT verified: " + r["error"].get<std::string>())
            << "\n";
      for (const auto& i : r["items"])
        c.out << "  " << i["line"].get<std::string>() << "    ["
              << i["item"].get<std::string>().substr(0, 24) << "…]\n";
    }
  }
  return allOk ? kOk : kFailed;
}

void addLogsOptions(CLI::App& app, Options& o) {
  app.add_option("job", o.job, "the job's id (or a prefix of 4 or more)")->required();
  addDir(app, o);
  app.add_flag("-f,--follow", o.follow,
               "keep printing each fogger's log as it arrives, until the order is closed");
}

int logs(Context& c) {
  auto dir = namedJob(c);
  if (!dir) return kFailed;
  std::set<std::string> shown;
  auto print = [&] {
    for (const auto& s : storedOutputs(*dir)) {
      if (!shown.insert(s.fogger).second) continue;
      c.out << "== " << s.fogger << "\n" << s.output.log;
      if (!s.output.log.empty() && s.output.log.back() != '\n') c.out << "\n";
      c.out.flush();
    }
  };
  print();
  if (c.options.follow) {
    // The deployer stores each fogger's output as it comes; follow until the pool closes the
    // order (settled, expired or cancelled).
    std::string error;
    auto fog = loadFog(c, error);
    auto client = fog ? connect(fog->genesis(), error) : std::nullopt;
    auto record = client ? readJob(*dir, error) : std::nullopt;
    if (!record) return c.fail(error);
    for (;;) {
      auto order = queryOrder(*client->pool, record->order, error);
      if (!order) return c.fail(error);
      bool open = (*order)["status"] == "open";
      print();
      if (!open) {
        c.out << "(the order is " << (*order)["status"].get<std::string>() << ")\n";
        break;
      }
      std::this_thread::sleep_for(200ms);
    }
  }
  if (shown.empty()) c.out << "no logs stored for this job\n";
  return kOk;
}

int cancel(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  auto dir = namedJob(c);
  if (!fog || !dir) return kFailed;
  auto record = readJob(*dir, error);
  if (!record) return c.fail(error);
  return submitAs(c, *fog, record->fields.value("owner", "genesis"),
                  pool::CancelOrder{record->order});
}

} // namespace flo::fog
