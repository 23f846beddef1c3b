/// \file
/// Deploying jobs to foggers (docs/deploy.md): `fog deploy FILE` compiles a bundle with floc,
/// places an order on the pool (escrow), assigns foggers from the group the pool matched (one
/// of each architecture first), hands each the bundle over the encrypted transport, checks the
/// signed output chain each sends back, waits for their receipts to settle the order, and
/// slashes a fogger whose receipt contradicts what it signed. What it learns goes under
/// D/jobs/ID/ (the order, each fogger's raw output) and D/jobs/provenance.db (the items), where
/// `fog jobs`, `fog results`, `fog logs` and `fog provenance lineage` read it; `fog cancel`
/// ends an order. `fog fogger --config FILE` is the fogger daemon itself (fogger/net).
#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/process.h"
#include "core/os/system.h"
#include "core/store/keystore.h"
#include "core/store/provenance_store.h"
#include "fog/commands.h"
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

namespace {

std::optional<core::Bytes> readBytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return std::nullopt;
  return core::Bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

bool writeBytes(const fs::path& p, const core::Bytes& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return bool(f.flush());
}

double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

/// "16M", "1G", "512K", "100" (bytes) as MiB, rounded up; nullopt when malformed.
std::optional<std::uint64_t> mibOf(const std::string& size) {
  if (size.empty()) return 0;
  std::size_t digits = size.find_first_not_of("0123456789");
  if (digits == 0 || size.size() > 12) return std::nullopt;
  std::uint64_t n = std::stoull(size.substr(0, digits));
  std::string unit = digits == std::string::npos ? "" : size.substr(digits);
  std::uint64_t bytes = unit == "K" ? n << 10 : unit == "M" ? n << 20 : unit == "G" ? n << 30 : n;
  if (!unit.empty() && unit != "K" && unit != "M" && unit != "G") return std::nullopt;
  return (bytes + (1u << 20) - 1) >> 20;
}

/// "0.1" cores as thousandths.
std::optional<std::uint32_t> milliOf(const std::string& cores) {
  if (cores.empty()) return 0;
  char* end = nullptr;
  double v = std::strtod(cores.c_str(), &end);
  if (*end || v < 0 || v > 65536) return std::nullopt;
  return std::uint32_t(v * 1000 + 0.5);
}

fs::path jobsDir(const LocalFog& fog) {
  return fog.dir() / "jobs";
}

/// The job folder an id or a unique prefix of one names.
std::optional<fs::path> findJob(const LocalFog& fog, const std::string& id, std::string& error) {
  std::vector<fs::path> found;
  std::error_code ec;
  if (id.size() >= 4)
    for (const auto& e : fs::directory_iterator(jobsDir(fog), ec))
      if (e.is_directory() && e.path().filename().string().rfind(id, 0) == 0)
        found.push_back(e.path());
  if (found.size() == 1) return found[0];
  error = found.empty()
              ? "no job '" + id + "' in " + jobsDir(fog).string() + " (fog jobs lists them)"
              : "'" + id + "' names " + std::to_string(found.size()) + " jobs; give more of the id";
  return std::nullopt;
}

/// The order as the pool says (n-f alike), parsed.
std::optional<nlohmann::json> queryOrder(pool::PoolClient& pool, const core::Digest& id,
                                         std::string& error) {
  pool::Query q;
  q.order = id;
  auto a = pool.ask(q, kTxTimeout, error);
  if (!a) return std::nullopt;
  if (a->orderJson.empty()) return error = "the pool has no order " + hex(id), std::nullopt;
  auto j = nlohmann::json::parse(a->orderJson, nullptr, false);
  if (j.is_discarded()) return error = "the pool's answer is not JSON", std::nullopt;
  return j;
}

std::optional<core::Digest> digestOf(const std::string& hexText) {
  if (hexText.size() != 64) return std::nullopt;
  core::Digest d{};
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned v = 0;
    if (std::sscanf(hexText.c_str() + 2 * i, "%2x", &v) != 1) return std::nullopt;
    d[i] = std::uint8_t(v);
  }
  return d;
}

/// A signed transaction of `key`, submitted; the outcome or why not.
bool submitTx(pool::PoolClient& pool, const core::SigningKey& key, const pool::Genesis& g,
              pool::TxBody body, std::uint64_t& height, std::string& error,
              std::optional<std::uint64_t>* nonceOut = nullptr) {
  auto nonce = pool.nextNonce(key.publicKey(), kTxTimeout, error);
  if (!nonce) return error = "the pool did not answer: " + error + " (is it up? fog status)", false;
  if (nonceOut) *nonceOut = nonce;
  pool::Tx tx = pool::makeTx(key, g.chainId(), *nonce, std::move(body));
  auto outcome = pool.submit(tx.encode(), kTxTimeout, error);
  if (!outcome) return error = "no outcome: " + error, false;
  if (!outcome->committed) return error = "refused: " + outcome->error, false;
  if (!outcome->applied) return error = outcome->error, false;
  height = outcome->height;
  return true;
}

/// One fogger's part as the deployer sees it.
struct Part {
  std::string did, address, arch;
  pool::AccountId key{};
  bool answered = false, verified = false;
  std::string refusal, error;
  fogger::RunOutput output;
  std::optional<pool::RunResult> result;
  std::vector<core::ProvenanceRecord> records;
  double seconds = 0;
  Clock::time_point sent{};
};

/// Picks `n` foggers of the group: first one of each architecture the bundle has an object for
/// (so a deployment on two foggers runs on both), then the rest in the pool's order.
std::vector<std::size_t> choose(const nlohmann::json& group, std::size_t n,
                                const std::set<std::string>& bundleArches,
                                const std::set<std::string>& skip) {
  std::vector<std::size_t> picked;
  std::set<std::string> arches;
  auto archOf = [&](const nlohmann::json& g) -> std::string {
    for (const auto& a : g["architectures"])
      if (bundleArches.count(a.get<std::string>())) return a.get<std::string>();
    return "";
  };
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i = 0; i < group.size() && picked.size() < n; ++i) {
      std::string arch = archOf(group[i]);
      if (arch.empty() || skip.count(group[i]["did"]) ||
          std::find(picked.begin(), picked.end(), i) != picked.end())
        continue;
      if (pass == 0 && arches.count(arch)) continue;
      arches.insert(arch);
      picked.push_back(i);
    }
  return picked;
}

} // namespace

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

// ---- fog deploy -------------------------------------------------------------------------------

void addDeployOptions(CLI::App& app, Options& o) {
  app.add_option("file", o.file, "the program (.flo) with the job")->required();
  app.add_option("--job", o.job, "the job to deploy (default: the program's only job)");
  app.add_option("--max-price", o.price, "the most paid per work unit (default 10)");
  app.add_option("--runs", o.runs, "runs of the job on each fogger (default 3)")
      ->check(CLI::Range(1u, pool::PlaceOrder::kMaxRuns));
  app.add_option("--replicas", o.deployReplicas,
                 "foggers to run it on (default: the job's `replicas`, else 1)");
  app.add_option("--from", o.from, "the paying account (default genesis)");
  app.add_option("--timeout", o.seconds, "seconds until the order expires (default 60)");
  addDir(app, o);
  app.add_flag("--json", o.json, "print the job's summary as JSON");
}

int deploy(Context& c) {
  auto t0 = Clock::now();
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  auto progress = [&](const std::string& step) {
    c.err << "deploy: [" << fixed(since(t0), 2) << " s] " << step << std::endl;
  };
  // Compiling: a bundle for every target floc knows, kept by the source's and the compiler's
  // hash (the same source and compiler give the same bundle, docs/bundles.md), so deploying it
  // again starts at once.
  fs::path floc = fs::path(selfExecutable()).parent_path() / "floc";
  if (!fs::exists(floc)) return c.fail("cannot find floc beside fog (" + floc.string() + ")");
  auto source = readBytes(c.options.file);
  if (!source) return c.fail("cannot read " + c.options.file, kUsage);
  // The key is the source and the compiler (its size and time: a rebuilt floc compiles again).
  std::error_code ec;
  std::string compiler = std::to_string(fs::file_size(floc, ec)) + "/" +
                         std::to_string(fs::last_write_time(floc, ec).time_since_epoch().count());
  core::Bytes key = *source;
  key.insert(key.end(), compiler.begin(), compiler.end());
  fs::path bundle = jobsDir(*fog) / "bundles" / hex(core::sha256(key)).substr(0, 32);
  if (!fs::exists(bundle / "manifest.json")) {
    progress("compiling " + c.options.file);
    fs::path tmp = bundle;
    tmp += ".tmp-" + std::to_string(::getpid());
    fs::create_directories(tmp.parent_path());
    auto built = core::runProcess(
        {floc.string(), "build", "--bundle", c.options.file, "-o", tmp.string()}, 300s);
    if (built.status != 0) {
      c.err << built.err;
      fs::remove_all(tmp);
      return c.fail("floc could not build a bundle of " + c.options.file);
    }
    fs::rename(tmp, bundle, ec);
    if (ec) fs::remove_all(tmp); // another deploy of the same source got there first
  } else {
    progress("compiled already: " + bundle.string());
  }
  auto manifestBytes = readBytes(bundle / "manifest.json");
  auto manifest =
      manifestBytes ? nlohmann::json::parse(*manifestBytes, nullptr, false) : nlohmann::json();
  if (!manifestBytes || manifest.is_discarded()) return c.fail("floc wrote no readable manifest");
  const nlohmann::json* job = nullptr;
  std::string names;
  for (const auto& j : manifest["jobs"]) {
    names += (names.empty() ? "" : ", ") + j.value("name", "");
    if (c.options.job.empty() ? manifest["jobs"].size() == 1 : j.value("name", "") == c.options.job)
      job = &j;
  }
  if (!job)
    return c.fail(names.empty() ? c.options.file + " has no job"
                  : c.options.job.empty()
                      ? c.options.file + " has several jobs (" + names + "): name one with --job"
                      : c.options.file + " has no job '" + c.options.job + "' (jobs: " + names +
                            ")",
                  kUsage);
  const auto& needs = (*job)["needs"];
  auto mem = mibOf(needs.value("mem", ""));
  auto milli = milliOf(needs.value("cpu", ""));
  if (!mem || !milli) return c.fail("the job's needs are malformed in the manifest");
  std::set<std::string> bundleArches;
  for (const auto& [triple, t] : manifest["targets"].items())
    bundleArches.insert(triple.substr(0, triple.find('-')));
  // Ordering.
  pool::PlaceOrder order;
  order.manifest = core::sha256(*manifestBytes);
  order.job = job->value("name", "");
  order.arch = needs.value("arch", "any");
  order.memoryMiB = *mem;
  order.milliCores = *milli;
  order.runs = c.options.runs;
  std::uint64_t replicas = c.options.deployReplicas;
  if (!replicas && (*job).contains("replicas"))
    replicas = std::strtoull((*job)["replicas"].value("count", "1").c_str(), nullptr, 10);
  order.replicas = std::uint32_t(
      std::clamp<std::uint64_t>(replicas ? replicas : 1, 1, pool::PlaceOrder::kMaxReplicas));
  order.costBound = job->value("cost_bound", std::uint64_t(0));
  order.maxPrice = c.options.price ? c.options.price : 10;
  order.timeoutMs = std::uint64_t((c.options.seconds > 0 ? c.options.seconds : 60) * 1000);
  std::string from = c.options.from.empty() ? "genesis" : c.options.from;
  core::Keystore keys(fog->home());
  auto payer = keys.load(from, std::nullopt, error);
  if (!payer) return c.fail("unknown account '" + from + "': " + error);
  auto client = connect(fog->genesis(), error);
  if (!client) return c.fail(error);
  progress("ordering job '" + order.job + "': " + std::to_string(order.replicas) + " fogger(s) × " +
           std::to_string(order.runs) + " runs, cost bound " + std::to_string(order.costBound) +
           " a run, max price " + std::to_string(order.maxPrice));
  std::uint64_t height = 0;
  std::optional<std::uint64_t> nonce;
  if (!submitTx(*client->pool, payer->current, fog->genesis(), order, height, error, &nonce))
    return c.fail("the order was not placed: " + error);
  core::Digest id = pool::orderId(payer->current.publicKey(), *nonce);
  std::string idHex = hex(id);
  fs::path dir = jobsDir(*fog) / idHex.substr(0, 16);
  fs::create_directories(dir / "outputs");
  nlohmann::json record = {
      {"id", idHex},        {"file", c.options.file},     {"job", order.job}, {"owner", from},
      {"runs", order.runs}, {"replicas", order.replicas}, {"height", height}};
  std::ofstream(dir / "job.json") << record.dump(2) << "\n";
  auto placed = queryOrder(*client->pool, id, error);
  if (!placed) return c.fail(error);
  progress("placed order " + idHex.substr(0, 16) + " at height " + std::to_string(height) +
           "; escrow " + std::to_string((*placed)["escrow"].get<std::uint64_t>()));
  const auto& group = (*placed)["group"];
  std::string members;
  for (const auto& g : group)
    members += std::string(members.empty() ? "" : ", ") +
               g["did"].get<std::string>().substr(0, 16) + "… (" +
               g["architectures"][0].get<std::string>() + ", price " +
               std::to_string(g["price"].get<std::uint64_t>()) + ")";
  progress("matched a group of " + std::to_string(group.size()) + ": " + members);
  // Assigning and handing over the bundle; a fogger that refuses is replaced from the group.
  auto node = std::make_unique<core::UdpNode>(core::generateSigningKey());
  if (!node->bind("127.0.0.1", 0, error)) return c.fail(error);
  std::map<std::string, Part> parts; // by did
  std::set<std::string> tried;
  node->onDelivery([&](const core::Delivery& d) {
    auto it = parts.find(d.did);
    if (it == parts.end() || it->second.answered) return;
    Part& p = it->second;
    std::string why;
    auto m = fogger::decode(d.message, &why);
    if (!m) return;
    p.answered = true;
    p.seconds = since(t0);
    if (auto* r = std::get_if<fogger::Refusal>(&*m)) {
      p.refusal = r->reason;
    } else if (auto* out = std::get_if<fogger::RunOutput>(&*m)) {
      p.output = *out;
      p.result = fogger::checkOutput(*out, p.key, id, p.records, p.error);
      p.verified = p.result.has_value();
    }
  });
  auto assign = [&](std::size_t want) -> bool {
    auto picks = choose(group, want, bundleArches, tried);
    if (picks.empty()) return false;
    pool::AssignOrder a{id, {}};
    std::vector<Part> fresh;
    for (std::size_t i : picks) {
      Part p;
      p.did = group[i]["did"];
      p.address = group[i]["address"];
      for (const auto& x : group[i]["architectures"])
        if (bundleArches.count(x.get<std::string>()) && p.arch.empty()) p.arch = x;
      auto key = core::parseDidKey(p.did);
      if (!key) continue;
      p.key = *key;
      a.foggers.push_back(*key);
      tried.insert(p.did);
      fresh.push_back(std::move(p));
    }
    if (!submitTx(*client->pool, payer->current, fog->genesis(), a, height, error)) {
      c.warn("the assignment was refused: " + error);
      return false;
    }
    for (auto& p : fresh) {
      std::string triple = p.arch + "-linux-gnu";
      std::string file = manifest["targets"][triple].value("file", "");
      auto object = readBytes(bundle / file);
      auto addr = core::UdpNode::parseAddress(p.address);
      if (!object || !addr) {
        p.answered = true;
        p.refusal = "no object or no address";
        parts[p.did] = std::move(p);
        continue;
      }
      fogger::BundleOffer offer{id, order.job, order.runs, triple, *manifestBytes, *object};
      node->send(*addr, p.key, fogger::encode(offer));
      p.sent = Clock::now();
      progress("sent the bundle (" + triple + ", " + std::to_string(object->size() / 1024) +
               " KiB) to " + p.did.substr(0, 16) + "… at " + p.address);
      parts[p.did] = std::move(p);
    }
    return true;
  };
  if (!assign(order.replicas)) return c.fail("could not assign the order: " + error);
  auto deadline = Clock::now() + std::chrono::milliseconds(order.timeoutMs);
  std::size_t reported = 0;
  std::set<std::string> done;
  while (Clock::now() < deadline) {
    node->runUntil(
        [&] {
          return std::any_of(parts.begin(), parts.end(), [&](const auto& kv) {
            return kv.second.answered && !done.count(kv.first);
          });
        },
        500ms);
    std::size_t good = 0, open = 0;
    for (auto& [did, p] : parts) {
      // Silent past the start deadline: its assignment lapses on the pool, so another member
      // of the group can take its place.
      if (!p.answered &&
          Clock::now() - p.sent > std::chrono::milliseconds(pool::kStartDeadlineMs) + 1s) {
        p.answered = true;
        p.refusal = "no answer within the start deadline";
      }
      if (!p.answered) {
        ++open;
        continue;
      }
      if (!done.insert(did).second) {
        good += p.verified;
        continue;
      }
      if (!p.refusal.empty()) {
        progress("fogger " + did.substr(0, 16) + "… refused: " + p.refusal);
      } else if (!p.verified) {
        progress("fogger " + did.substr(0, 16) + "… sent output that does not verify: " + p.error);
      } else {
        ++good;
        core::ProvenanceStore* store = nullptr;
        auto db = core::ProvenanceStore::open((jobsDir(*fog) / "provenance.db").string(), &error);
        if ((store = db.get())) store->addAll(p.records, &error);
        writeBytes(dir / "outputs" / (did.substr(8, 24) + ".bin"), fogger::encode(p.output));
        progress((reported++ ? "results" : "first results") + std::string(" from ") +
                 did.substr(0, 16) + "… (" + p.arch + "): " + std::to_string(p.records.size()) +
                 " lines, work " + std::to_string(p.result->work) + " in " +
                 std::to_string(p.result->runs) + " run(s), chain verified");
      }
    }
    if (good + open < order.replicas) { // a refusal: another fogger of the group, if any
      if (!assign(order.replicas - good - open)) break;
      continue;
    }
    if (open == 0) break;
  }
  // Settling: the foggers' receipts on the pool, checked against what each signed to us.
  progress("waiting for the receipts");
  std::optional<nlohmann::json> last;
  while (Clock::now() < deadline + 5s) {
    last = queryOrder(*client->pool, id, error);
    if (!last) break;
    bool receipted = true;
    for (const auto& [did, p] : parts)
      if (p.verified)
        for (const auto& a : (*last)["assignments"])
          if (a["fogger"] == did && a["state"] != "done") receipted = false;
    if ((*last)["status"] != "open" || receipted) break;
    std::this_thread::sleep_for(50ms);
  }
  for (auto& [did, p] : parts) {
    if (!p.verified || !last) continue;
    for (const auto& a : (*last)["assignments"]) {
      if (a["fogger"] != did || !a.contains("result") || a["slashed"].get<bool>()) continue;
      if (a["result"]["head"] == hex(p.result->head) && a["result"]["items"] == p.result->items &&
          a["result"]["work"] == p.result->work)
        continue;
      pool::SlashFogger s{p.key, p.output.result, p.output.signature};
      if (submitTx(*client->pool, payer->current, fog->genesis(), s, height, error))
        progress("slashed " + did.substr(0, 16) +
                 "…: its receipt contradicts the results it signed to us");
      else
        c.warn("could not slash " + did + ": " + error);
    }
  }
  last = queryOrder(*client->pool, id, error);
  if (!last) return c.fail(error);
  if ((*last)["status"] == "open") { // a fogger never answered: what was not used comes back
    if (submitTx(*client->pool, payer->current, fog->genesis(), pool::CancelOrder{id}, height,
                 error))
      progress("cancelled the order: not every fogger finished in time");
    else if (error.find("is expired") == std::string::npos) // expired first: refunded anyway
      c.warn("could not cancel the order: " + error);
    last = queryOrder(*client->pool, id, error);
    if (!last) return c.fail(error);
  }
  std::uint64_t paid = 0;
  for (const auto& a : (*last)["assignments"]) paid += a["paid"].get<std::uint64_t>();
  progress("order " + (*last)["status"].get<std::string>() + ": paid " + std::to_string(paid) +
           ", escrow left " + std::to_string((*last)["escrow"].get<std::uint64_t>()));
  std::size_t verified = 0;
  nlohmann::json results = nlohmann::json::array();
  for (const auto& [did, p] : parts) {
    verified += p.verified;
    nlohmann::json r = {{"fogger", did}, {"arch", p.arch}, {"verified", p.verified}};
    if (!p.refusal.empty()) r["refused"] = p.refusal;
    if (!p.error.empty()) r["error"] = p.error;
    if (p.verified) {
      r["lines"] = p.output.payloads;
      r["head"] = p.records.empty() ? "" : p.records.back().itemId;
      r["work"] = p.result->work;
      r["first_result_ms"] = std::llround(p.seconds * 1000);
    }
    results.push_back(r);
  }
  if (c.options.json) {
    c.out << nlohmann::json{{"job", idHex},
                            {"order", *last},
                            {"results", results},
                            {"seconds", since(t0)}}
                 .dump(2)
          << "\n";
  } else {
    c.out << "job " << idHex.substr(0, 16) << " (" << order.job
          << "): " << (*last)["status"].get<std::string>() << ", " << verified << " of "
          << order.replicas << " fogger(s) returned verified results\n";
    for (const auto& r : results) {
      c.out << "  " << r["fogger"].get<std::string>().substr(0, 24) << "… "
            << r["arch"].get<std::string>();
      if (r["verified"].get<bool>())
        c.out << ": " << r["lines"].size() << " lines, last item " << r["head"].get<std::string>()
              << "\n";
      else
        c.out << ": "
              << (r.contains("refused") ? "refused: " + r["refused"].get<std::string>()
                                        : r.value("error", std::string("no answer")))
              << "\n";
    }
    c.out << "fog results " << idHex.substr(0, 16)
          << " shows them; fog provenance lineage ITEM --db "
          << (jobsDir(*fog) / "provenance.db").string() << " verifies an item\n";
  }
  return verified == order.replicas && (*last)["status"] == "settled" ? kOk : kFailed;
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
    auto j = nlohmann::json::parse(std::ifstream(d / "job.json"), nullptr, false);
    if (j.is_discarded()) continue;
    auto id = digestOf(j.value("id", ""));
    std::string why;
    auto o = id ? queryOrder(*client->pool, *id, why) : std::nullopt;
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
  auto j = nlohmann::json::parse(std::ifstream(dir / "job.json"), nullptr, false);
  auto id = j.is_discarded() ? std::nullopt : digestOf(j.value("id", ""));
  std::error_code ec;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir / "outputs", ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    Stored s;
    auto bytes = readBytes(f);
    auto m = bytes ? fogger::decode(*bytes, &s.error) : std::nullopt;
    if (!m || !std::holds_alternative<fogger::RunOutput>(*m) || !id) {
      s.error = "unreadable: " + f.string();
      out.push_back(std::move(s));
      continue;
    }
    s.output = std::get<fogger::RunOutput>(*m);
    // The producer is the first record's; the check then holds every record to it.
    std::string why;
    auto first = s.output.records.empty()
                     ? std::nullopt
                     : core::ProvenanceRecord::decode(s.output.records[0], &why);
    auto key = first ? core::parseDidKey(first->producer) : std::nullopt;
    s.fogger = first ? first->producer : "?";
    if (key) s.result = fogger::checkOutput(s.output, *key, *id, s.records, s.error);
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
    auto j = nlohmann::json::parse(std::ifstream(*dir / "job.json"), nullptr, false);
    auto id = j.is_discarded() ? std::nullopt : digestOf(j.value("id", ""));
    if (!client || !id) return c.fail(error.empty() ? "the job's record is damaged" : error);
    for (;;) {
      auto order = queryOrder(*client->pool, *id, error);
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
  auto j = nlohmann::json::parse(std::ifstream(*dir / "job.json"), nullptr, false);
  auto id = j.is_discarded() ? std::nullopt : digestOf(j.value("id", ""));
  if (!id) return c.fail("the job's record is damaged: " + (*dir / "job.json").string());
  return submitAs(c, *fog, j.value("owner", "genesis"), pool::CancelOrder{*id});
}

} // namespace flo::fog
