/// \file
/// `fog deploy FILE` (docs/deploy.md), in steps: compile a bundle with floc (cached by the
/// source's and the compiler's hash), place an order on the pool (escrow), assign foggers from the
/// group the pool matched (one of each architecture first), hand each the bundle over the
/// encrypted transport, check the signed output chain each sends back (replacing a fogger that
/// refuses or stays silent past the start deadline), wait for their receipts to settle the order,
/// slash a receipt that contradicts what its fogger signed, and cancel what never finished. What
/// it learns goes under D/jobs (deployer.h), where `fog jobs`, `fog results`, `fog logs` and
/// `fog provenance lineage` read it.
#include "fog/deployer.h"

#include "core/identity.h"
#include "core/net/udp_node.h"
#include "core/os/process.h"
#include "core/os/system.h"
#include "core/store/keystore.h"
#include "core/store/provenance_store.h"
#include "fog/commands.h"
#include "fog/pool_session.h"
#include "pool/ledger/ledger.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "fogger/chain.h"
#include "fogger/feed.h"
#include "fogger/wire.h"

namespace flo::fog {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

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

std::optional<JobRecord> readJob(const fs::path& dir, std::string& error) {
  fs::path file = dir / "job.json";
  auto bytes = readFile(file.string(), error);
  if (!bytes) return std::nullopt;
  JobRecord r;
  r.fields = nlohmann::json::parse(*bytes, nullptr, false);
  auto id = r.fields.is_object() ? core::fromHex(r.fields.value("id", "")) : std::nullopt;
  if (!id || id->size() != r.order.size())
    return error = "the job's record is damaged: " + file.string(), std::nullopt;
  std::copy(id->begin(), id->end(), r.order.begin());
  return r;
}

namespace {

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

/// A transaction of `key` committed and applied (its height), or false and why not.
bool submitTx(pool::PoolClient& pool, const core::SigningKey& key, pool::TxBody body,
              std::uint64_t& height, std::string& error, std::uint64_t* nonce = nullptr) {
  auto outcome = submitSigned(pool, key, std::move(body), error, nonce);
  if (!outcome) return false;
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
  bool started = false; ///< seen started on the pool after the start deadline
  std::string refusal, error;
  fogger::RunOutput output;
  std::optional<pool::RunResult> result;
  std::vector<core::ProvenanceRecord> records;
  double seconds = 0;
  Clock::time_point sent{};
};

/// What a probe of a group member found: its round trip, or that it did not answer.
struct Reach {
  bool answered = false;
  double ms = 0;
};

/// A member's record as the pool keeps it: completed runs, less two per failure and a hundred
/// per slash (the pool's own order within a group).
std::int64_t reputation(const nlohmann::json& g) {
  return g.value("completed", std::int64_t(0)) - 2 * g.value("failed", std::int64_t(0)) -
         100 * g.value("slashed", std::int64_t(0));
}

/// Picks `n` foggers of the group: first one of each architecture the bundle has an object for
/// (so a deployment on two foggers runs on both), then the rest; each time the best by
/// reputation, then the shortest round trip the probe measured. A member that did not answer
/// the probe comes after every one that did (it may only be slow).
std::vector<std::size_t> choose(const nlohmann::json& group, std::size_t n,
                                const std::set<std::string>& bundleArches,
                                const std::set<std::string>& skip,
                                const std::map<std::string, Reach>& reach) {
  std::vector<std::size_t> order(group.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto key = [&](std::size_t i) {
    auto r = reach.find(group[i].value("did", ""));
    bool answered = r == reach.end() || r->second.answered; // not probed: as the pool ordered
    return std::make_tuple(!answered, -reputation(group[i]), r == reach.end() ? 0.0 : r->second.ms,
                           i);
  };
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  std::vector<std::size_t> picked;
  std::set<std::string> arches;
  auto archOf = [&](const nlohmann::json& g) -> std::string {
    for (const auto& a : g["architectures"])
      if (bundleArches.count(a.get<std::string>())) return a.get<std::string>();
    return "";
  };
  for (int pass = 0; pass < 2; ++pass)
    for (std::size_t i : order) {
      if (picked.size() >= n) break;
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

/// One deployment, step by step (the file comment); each step says how it went on the error
/// stream as `deploy: [SECONDS s] ...`.
class Deployment {
public:
  Deployment(Context& c, LocalFog fog, std::string job)
      : c_(c), fog_(std::move(fog)), jobName_(std::move(job)) {}

  int run() {
    if (!compile() || !pickJob() || !placeOrder()) return kFailed;
    if (!assign(order_.replicas)) return c_.fail("could not assign the order: " + error_);
    collect();
    settle();
    return report();
  }

  // ---- the steps, for a pipeline of two deployments (deployPipeline) ----------------------
  bool prepare() { return compile() && pickJob(); }
  /// The manifest's `takes` of a flow job: the shares whose writes are its items.
  std::vector<std::string> takes() const {
    std::vector<std::string> out;
    for (const auto& j : manifest_["jobs"])
      if (j.value("name", "") == order_.job && j.contains("takes"))
        out = j["takes"].get<std::vector<std::string>>();
    return out;
  }
  void feedOut(std::vector<std::string> shares) { feedOut_ = std::move(shares); }
  void feedIn(fogger::FeedSource source) { feedIn_ = std::move(source); }
  void oneReplica() { order_.replicas = 1; }
  /// Places the order; `node`, when given, is the transport the deployment shares with another
  /// (its deliveries go to received()).
  bool place(core::UdpNode* node) {
    sharedNode_ = node;
    return placeOrder();
  }
  /// Assigns one fogger other than `not`; the one assigned (its DID and address), or nullopt.
  std::optional<std::pair<std::string, std::string>> assignOne(const std::string& not_) {
    if (!not_.empty()) tried_.insert(not_);
    if (!assign(1) || parts_.empty()) return std::nullopt;
    const Part& p = parts_.begin()->second;
    return std::make_pair(p.did, p.address);
  }
  void finish() {
    collect();
    settle();
  }
  /// The summary report() prints, and whether it succeeded.
  int report(nlohmann::json* into) { return report(into, true); }
  /// The verified payloads of its one fogger (empty when none verified).
  std::vector<std::string> payloads() const {
    for (const auto& [did, p] : parts_)
      if (p.verified) return p.output.payloads;
    return {};
  }
  const core::Digest& id() const { return id_; }
  /// Adds `key` to the job's record (D/jobs/ID/job.json), which `fog jobs` shows.
  void note(const std::string& key, const std::string& value) {
    record_[key] = value;
    writeRecord();
  }
  const std::string& job() const { return order_.job; }
  std::string failure() const { return error_; }
  void received(const core::Delivery& d);

private:
  void progress(const std::string& step) {
    c_.err << "deploy: [" << fixed(since(t0_), 2) << " s] " << step << std::endl;
  }
  bool fail(const std::string& why, int status = kFailed) {
    c_.fail(why, status);
    return false;
  }
  bool submit(pool::TxBody body, std::uint64_t* nonce = nullptr) {
    return submitTx(*client_->pool, payer_->current, std::move(body), height_, error_, nonce);
  }

  /// A bundle for every target floc knows, kept by the source's and the compiler's hash (the
  /// same source and compiler give the same bundle, docs/bundles.md): deploying it again starts
  /// at once. A rebuilt floc (another size or time) compiles again.
  bool compile() {
    const std::string& file = c_.options.file;
    fs::path floc = fs::path(selfExecutable()).parent_path() / "floc";
    if (!fs::exists(floc)) return fail("cannot find floc beside fog (" + floc.string() + ")");
    auto source = readFile(file, error_);
    if (!source) return fail(error_, kUsage);
    std::error_code ec;
    std::string compiler = std::to_string(fs::file_size(floc, ec)) + "/" +
                           std::to_string(fs::last_write_time(floc, ec).time_since_epoch().count());
    core::Bytes key = *source;
    key.insert(key.end(), compiler.begin(), compiler.end());
    bundle_ = jobsDir(fog_) / "bundles" / hex(core::sha256(key)).substr(0, 32);
    if (!fs::exists(bundle_ / "manifest.json")) {
      progress("compiling " + file);
      fs::path tmp = bundle_;
      tmp += ".tmp-" + std::to_string(::getpid());
      fs::create_directories(tmp.parent_path());
      auto built =
          core::runProcess({floc.string(), "build", "--bundle", file, "-o", tmp.string()}, 300s);
      if (built.status != 0) {
        c_.err << built.err;
        fs::remove_all(tmp);
        return fail("floc could not build a bundle of " + file);
      }
      fs::rename(tmp, bundle_, ec);
      if (ec) fs::remove_all(tmp); // another deploy of the same source got there first
    } else {
      progress("compiled already: " + bundle_.string());
    }
    auto bytes = readFile((bundle_ / "manifest.json").string(), error_);
    if (bytes) manifest_ = nlohmann::json::parse(*bytes, nullptr, false);
    if (!bytes || manifest_.is_discarded()) return fail("floc wrote no readable manifest");
    manifestBytes_ = *bytes;
    for (const auto& [triple, t] : manifest_["targets"].items())
      bundleArches_.insert(triple.substr(0, triple.find('-')));
    return true;
  }

  /// The job (--job, or the program's only one) and the order's terms from its manifest entry.
  bool pickJob() {
    const std::string& file = c_.options.file;
    const std::string& want = jobName_;
    const nlohmann::json* job = nullptr;
    std::string names;
    for (const auto& j : manifest_["jobs"]) {
      names += (names.empty() ? "" : ", ") + j.value("name", "");
      if (want.empty() ? manifest_["jobs"].size() == 1 : j.value("name", "") == want) job = &j;
    }
    if (!job)
      return fail(names.empty()  ? file + " has no job"
                  : want.empty() ? file + " has several jobs (" + names + "): name one with --job"
                                 : file + " has no job '" + want + "' (jobs: " + names + ")",
                  kUsage);
    const auto& needs = (*job)["needs"];
    auto mem = mibOf(needs.value("mem", ""));
    auto milli = milliOf(needs.value("cpu", ""));
    if (!mem || !milli) return fail("the job's needs are malformed in the manifest");
    order_.manifest = core::sha256(manifestBytes_);
    order_.job = job->value("name", "");
    order_.arch = needs.value("arch", "any");
    order_.memoryMiB = *mem;
    order_.milliCores = *milli;
    order_.runs = c_.options.runs;
    std::uint64_t replicas = c_.options.deployReplicas;
    if (!replicas && job->contains("replicas"))
      replicas = std::strtoull((*job)["replicas"].value("count", "1").c_str(), nullptr, 10);
    order_.replicas = std::uint32_t(
        std::clamp<std::uint64_t>(replicas ? replicas : 1, 1, pool::PlaceOrder::kMaxReplicas));
    order_.costBound = job->value("cost_bound", std::uint64_t(0));
    order_.maxPrice = c_.options.price ? c_.options.price : 10;
    order_.timeoutMs = std::uint64_t((c_.options.seconds > 0 ? c_.options.seconds : 60) * 1000);
    return true;
  }

  /// The job's record, D/jobs/ID/job.json (readJob reads it).
  void writeRecord() { std::ofstream(dir_ / "job.json") << record_.dump(2) << "\n"; }

  /// The order on the pool (escrow moves), the job's folder and record, and the group matched.
  bool placeOrder() {
    owner_ = c_.options.from.empty() ? "genesis" : c_.options.from;
    core::Keystore keys(fog_.home());
    payer_ = keys.load(owner_, std::nullopt, error_);
    if (!payer_) return fail("unknown account '" + owner_ + "': " + error_);
    auto client = connect(fog_.genesis(), error_);
    if (!client) return fail(error_);
    client_.emplace(std::move(*client));
    progress("ordering job '" + order_.job + "': " + std::to_string(order_.replicas) +
             " fogger(s) × " + std::to_string(order_.runs) + " runs, cost bound " +
             std::to_string(order_.costBound) + " a run, max price " +
             std::to_string(order_.maxPrice));
    std::uint64_t nonce = 0;
    if (!submit(order_, &nonce)) return fail("the order was not placed: " + error_);
    id_ = pool::orderId(payer_->current.publicKey(), nonce);
    dir_ = jobsDir(fog_) / hex(id_).substr(0, 16);
    fs::create_directories(dir_ / "outputs");
    record_ = {{"id", hex(id_)},   {"file", c_.options.file}, {"job", order_.job},
               {"owner", owner_},  {"runs", order_.runs},     {"replicas", order_.replicas},
               {"height", height_}};
    writeRecord();
    auto placed = queryOrder(*client_->pool, id_, error_);
    if (!placed) return fail(error_);
    progress("placed order " + hex(id_).substr(0, 16) + " at height " + std::to_string(height_) +
             "; escrow " + std::to_string((*placed)["escrow"].get<std::uint64_t>()));
    group_ = (*placed)["group"];
    std::string members;
    for (const auto& g : group_)
      members += std::string(members.empty() ? "" : ", ") +
                 g["did"].get<std::string>().substr(0, 16) + "… (" +
                 g["architectures"][0].get<std::string>() + ", price " +
                 std::to_string(g["price"].get<std::uint64_t>()) + ")";
    progress("matched a group of " + std::to_string(group_.size()) + ": " + members);
    if (sharedNode_) {
      node_ = sharedNode_;
    } else {
      ownNode_ = std::make_unique<core::UdpNode>(core::generateSigningKey());
      node_ = ownNode_.get();
      if (!node_->bind("127.0.0.1", 0, error_)) return fail(error_);
      node_->onDelivery([this](const core::Delivery& d) { received(d); });
      node_->onEvent([this](const core::TransportEvent& e) { event(e); });
    }
    probe();
    return true;
  }

  /// Times a round trip to every member of the group (a Probe each, at once; the first
  /// contact's handshake included), for at most half a second: choose() prefers, among members
  /// of equal reputation, the nearest, and puts one that did not answer last. The sessions it
  /// opens carry the bundles next.
  void probe() {
    std::map<core::MessageId, std::string> sent;
    auto t = Clock::now();
    for (const auto& g : group_) {
      std::string did = g.value("did", "");
      auto addr = core::UdpNode::parseAddress(g.value("address", ""));
      auto key = core::parseDidKey(did);
      reach_[did] = {};
      if (addr && key) sent[node_->send(*addr, *key, fogger::encode(fogger::Probe{}))] = did;
    }
    auto settled = [&] {
      for (const auto& [id, did] : sent)
        if (!acked_.count(id) && !failed_.count(id)) return false;
      return true;
    };
    while (!settled() && Clock::now() - t < 500ms) {
      node_->runUntil(settled, 50ms);
      for (auto [id, when] : acked_)
        if (sent.count(id) && !reach_[sent[id]].answered)
          reach_[sent[id]] = {true, std::chrono::duration<double, std::milli>(when - t).count()};
    }
    std::string line;
    for (const auto& [did, r] : reach_)
      line += (line.empty() ? "" : ", ") + did.substr(8, 8) + "… " +
              (r.answered ? fixed(r.ms, 1) + " ms" : std::string("no answer"));
    progress("probed the group: " + line);
  }

public:
  /// The transport's word on a message sent (probes are timed by their acknowledgement).
  void event(const core::TransportEvent& e) {
    if (e.kind == core::TransportEvent::Kind::Acknowledged) acked_.emplace(e.id, Clock::now());
    if (e.kind == core::TransportEvent::Kind::Failed) failed_.insert(e.id);
  }

private:
  /// Assigns `want` more foggers of the group (none tried before) and hands each its object.
  bool assign(std::size_t want) {
    auto picks = choose(group_, want, bundleArches_, tried_, reach_);
    if (picks.empty()) return false;
    pool::AssignOrder a{id_, {}};
    std::vector<Part> fresh;
    for (std::size_t i : picks) {
      Part p;
      p.did = group_[i]["did"];
      p.address = group_[i]["address"];
      for (const auto& x : group_[i]["architectures"])
        if (bundleArches_.count(x.get<std::string>()) && p.arch.empty()) p.arch = x;
      auto key = core::parseDidKey(p.did);
      if (!key) continue;
      p.key = *key;
      a.foggers.push_back(*key);
      tried_.insert(p.did);
      fresh.push_back(std::move(p));
    }
    if (!submit(a)) {
      c_.warn("the assignment was refused: " + error_);
      return false;
    }
    for (auto& p : fresh) {
      std::string triple = p.arch + "-linux-gnu";
      std::string file = manifest_["targets"][triple].value("file", "");
      auto object = readFile((bundle_ / file).string(), error_);
      auto addr = core::UdpNode::parseAddress(p.address);
      if (!object || !addr) {
        p.answered = true;
        p.refusal = "no object or no address";
        parts_[p.did] = std::move(p);
        continue;
      }
      fogger::BundleOffer offer{id_,     order_.job, order_.runs, triple, manifestBytes_,
                                *object, feedOut_,   feedIn_};
      node_->send(*addr, p.key, fogger::encode(offer));
      p.sent = Clock::now();
      progress("sent the bundle (" + triple + ", " + std::to_string(object->size() / 1024) +
               " KiB) to " + p.did.substr(0, 16) + "… at " + p.address);
      parts_[p.did] = std::move(p);
    }
    return true;
  }

  /// Keeps what a fogger sent that verified (its items in the provenance store, its raw output
  /// in the job's folder).
  void keep(const std::string& did, const Part& p) {
    std::string why;
    if (auto db = core::ProvenanceStore::open((jobsDir(fog_) / "provenance.db").string(), &why))
      db->addAll(p.records, &why);
    core::Bytes raw = fogger::encode(p.output);
    std::ofstream(dir_ / "outputs" / (did.substr(8, 24) + ".bin"), std::ios::binary)
        .write(reinterpret_cast<const char*>(raw.data()), std::streamsize(raw.size()));
    progress((reported_++ ? "results" : "first results") + std::string(" from ") +
             did.substr(0, 16) + "… (" + p.arch + "): " + std::to_string(p.records.size()) +
             " lines, work " + std::to_string(p.result->work) + " in " +
             std::to_string(p.result->runs) + " run(s), chain verified");
  }

  /// Whether the pool has `did`'s assignment of this order as started.
  bool startedOnPool(const std::string& did) {
    auto order = queryOrder(*client_->pool, id_, error_);
    if (!order) return false;
    for (const auto& a : (*order)["assignments"])
      if (a.value("fogger", "") == did && a.value("state", "") == "started") return true;
    return false;
  }

  /// Waits for every assigned fogger's answer until the order's deadline; one that refuses or
  /// stays silent past the start deadline (its assignment lapses on the pool) is replaced by
  /// another member of the group, while there is one.
  void collect() {
    auto deadline = Clock::now() + std::chrono::milliseconds(order_.timeoutMs);
    deadline_ = deadline;
    std::set<std::string> done;
    while (Clock::now() < deadline) {
      node_->runUntil(
          [&] {
            return std::any_of(parts_.begin(), parts_.end(), [&](const auto& kv) {
              return kv.second.answered && !done.count(kv.first);
            });
          },
          500ms);
      std::size_t good = 0, open = 0;
      for (auto& [did, p] : parts_) {
        if (!p.answered && !p.started &&
            Clock::now() - p.sent > std::chrono::milliseconds(pool::kStartDeadlineMs) + 1s) {
          // Past the start deadline: a fogger that started on the pool is running (a long
          // job, a fed one) and is waited for until the order's deadline; one that did not
          // has lost its assignment.
          p.started = startedOnPool(did);
          if (!p.started) {
            p.answered = true;
            p.refusal = "no answer within the start deadline";
          }
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
          progress("fogger " + did.substr(0, 16) +
                   "… sent output that does not verify: " + p.error);
        } else {
          ++good;
          keep(did, p);
        }
      }
      if (good + open < order_.replicas) { // another fogger of the group, if any
        // (not for a feed: its two ends were wired to each other's foggers)
        if (!feedOut_.empty() || feedIn_ || !assign(order_.replicas - good - open)) break;
        continue;
      }
      if (open == 0) break;
    }
  }

  /// Waits for the receipts of the foggers that answered, slashes one whose receipt contradicts
  /// the result it signed to us, and cancels an order still open (a fogger never finished).
  void settle() {
    progress("waiting for the receipts");
    while (Clock::now() < deadline_ + 5s) {
      last_ = queryOrder(*client_->pool, id_, error_);
      if (!last_) break;
      bool receipted = true;
      for (const auto& [did, p] : parts_)
        if (p.verified)
          for (const auto& a : (*last_)["assignments"])
            if (a["fogger"] == did && a["state"] != "done") receipted = false;
      if ((*last_)["status"] != "open" || receipted) break;
      std::this_thread::sleep_for(50ms);
    }
    for (auto& [did, p] : parts_) {
      if (!p.verified || !last_) continue;
      for (const auto& a : (*last_)["assignments"]) {
        if (a["fogger"] != did || !a.contains("result") || a["slashed"].get<bool>()) continue;
        if (a["result"]["head"] == hex(p.result->head) && a["result"]["items"] == p.result->items &&
            a["result"]["work"] == p.result->work)
          continue;
        if (submit(pool::SlashFogger{p.key, p.output.result, p.output.signature}))
          progress("slashed " + did.substr(0, 16) +
                   "…: its receipt contradicts the results it signed to us");
        else
          c_.warn("could not slash " + did + ": " + error_);
      }
    }
    last_ = queryOrder(*client_->pool, id_, error_);
    if (last_ && (*last_)["status"] == "open") { // what was not used comes back
      if (submit(pool::CancelOrder{id_}))
        progress("cancelled the order: not every fogger finished in time");
      else if (error_.find("is expired") == std::string::npos) // expired first: refunded anyway
        c_.warn("could not cancel the order: " + error_);
      last_ = queryOrder(*client_->pool, id_, error_);
    }
  }

  /// The job's id, the order's end and each fogger's results (JSON with --json); exit 0 only
  /// when every replica's results verified and the order settled.
  int report() { return report(nullptr, false); }
  int report(nlohmann::json* into, bool quiet) {
    if (!last_) return quiet ? kFailed : c_.fail(error_);
    const nlohmann::json& order = *last_;
    std::uint64_t paid = 0;
    for (const auto& a : order["assignments"]) paid += a["paid"].get<std::uint64_t>();
    progress("order " + order["status"].get<std::string>() + ": paid " + std::to_string(paid) +
             ", escrow left " + std::to_string(order["escrow"].get<std::uint64_t>()));
    std::size_t verified = 0;
    nlohmann::json results = nlohmann::json::array();
    for (const auto& [did, p] : parts_) {
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
    std::string id = hex(id_);
    bool ok = verified == order_.replicas && order["status"] == "settled";
    nlohmann::json summary = {
        {"job", id}, {"order", order}, {"results", results}, {"seconds", since(t0_)}};
    if (into) *into = summary;
    if (quiet && !c_.options.json) quiet = false; // a pipeline's text: each job's own lines
    if (c_.options.json) {
      if (!quiet) c_.out << summary.dump(2) << "\n";
    } else {
      c_.out << "job " << id.substr(0, 16) << " (" << order_.job
             << "): " << order["status"].get<std::string>() << ", " << verified << " of "
             << order_.replicas << " fogger(s) returned verified results\n";
      for (const auto& r : results) {
        c_.out << "  " << r["fogger"].get<std::string>().substr(0, 24) << "… "
               << r["arch"].get<std::string>();
        if (r["verified"].get<bool>())
          c_.out << ": " << r["lines"].size() << " lines, last item "
                 << r["head"].get<std::string>() << "\n";
        else
          c_.out << ": "
                 << (r.contains("refused") ? "refused: " + r["refused"].get<std::string>()
                                           : r.value("error", std::string("no answer")))
                 << "\n";
      }
      c_.out << "fog results " << id.substr(0, 16)
             << " shows them; fog provenance lineage ITEM --db "
             << (jobsDir(fog_) / "provenance.db").string() << " verifies an item\n";
    }
    return ok ? kOk : kFailed;
  }

  Context& c_;
  LocalFog fog_;
  std::string jobName_;
  std::vector<std::string> feedOut_;
  std::optional<fogger::FeedSource> feedIn_;
  Clock::time_point t0_ = Clock::now(), deadline_{};
  std::string error_, owner_;
  // compile, pickJob
  fs::path bundle_;
  nlohmann::json manifest_;
  core::Bytes manifestBytes_;
  std::set<std::string> bundleArches_;
  pool::PlaceOrder order_;
  // placeOrder
  std::optional<core::Identity> payer_;
  std::optional<Client> client_;
  std::uint64_t height_ = 0;
  core::Digest id_{};
  fs::path dir_;
  nlohmann::json record_; ///< the job's record (writeRecord)
  nlohmann::json group_;
  std::unique_ptr<core::UdpNode> ownNode_;
  core::UdpNode* node_ = nullptr;
  core::UdpNode* sharedNode_ = nullptr;
  // assign, collect, settle
  std::map<std::string, Part> parts_; ///< by did
  std::set<std::string> tried_;
  std::map<std::string, Reach> reach_;                 ///< by did: what probe() found
  std::map<core::MessageId, Clock::time_point> acked_; ///< when each was acknowledged
  std::set<core::MessageId> failed_;
  std::size_t reported_ = 0;
  std::optional<nlohmann::json> last_; ///< the order as the pool last reported it
};

/// A fogger's answer: a refusal, or its output, checked at once.
void Deployment::received(const core::Delivery& d) {
  auto it = parts_.find(d.did);
  if (it == parts_.end() || it->second.answered) return;
  Part& p = it->second;
  std::string why;
  auto m = fogger::decode(d.message, &why);
  if (!m) return;
  // A fogger in two deployments (or sending feed messages) answers each for its own order.
  if (auto* r = std::get_if<fogger::Refusal>(&*m)) {
    if (r->order != id_) return;
    p.refusal = r->reason;
  } else if (auto* out = std::get_if<fogger::RunOutput>(&*m)) {
    auto result = pool::RunResult::decode(out->result);
    if (!result || result->order != id_) return;
    p.output = *out;
    p.result = fogger::checkOutput(*out, p.key, id_, p.records, p.error);
    p.verified = p.result.has_value();
  } else {
    return;
  }
  p.answered = true;
  p.seconds = since(t0_);
}

/// "feed sent N items sha256 H" (the producer's last line) and "feed taken from ORDER N items
/// sha256 H" (the consumer's first) name the same items: true, or false and why not.
bool feedAgrees(const Deployment& producer, const Deployment& consumer, std::string& detail) {
  auto sent = producer.payloads(), taken = consumer.payloads();
  if (sent.empty() || taken.empty()) return detail = "a side has no verified results", false;
  std::string want = fogger::feedTakenLine(producer.id(), 0, {});
  std::string prefix = want.substr(0, want.find(" 0 items"));
  if (taken.front().rfind(prefix, 0) != 0)
    return detail = "the consumer names no feed from " + hex(producer.id()), false;
  std::string rest = taken.front().substr(prefix.size() + 1);
  if ("feed sent " + rest != sent.back())
    return detail = "the producer says '" + sent.back() + "', the consumer '" + taken.front() + "'",
           false;
  detail = rest;
  return true;
}

/// `fog deploy FILE --job FLOWJOB --input JOB`: JOB on one fogger sends the writes of the shares
/// the flow job takes to FLOWJOB on another (docs/deploy.md, "Federation"). Two orders, one
/// fogger each, the producer's bundle first; both settle like any order, and the deployer
/// checks that the consumer's signed output names exactly the items the producer's does.
int deployPipeline(Context& c, const LocalFog& fog) {
  const Options& o = c.options;
  if (o.deployReplicas > 1)
    return c.fail("a feed runs one replica of each job for now: drop --replicas", kUsage);
  Deployment producer(c, fog, o.input), consumer(c, fog, o.job);
  if (!producer.prepare() || !consumer.prepare()) return kFailed;
  auto takes = consumer.takes();
  if (takes.empty())
    return c.fail("job '" + consumer.job() + "' runs no flow: only a flow job takes --input",
                  kUsage);
  if (producer.job() == consumer.job())
    return c.fail("a job cannot take its input from itself", kUsage);
  producer.feedOut(takes);
  producer.oneReplica();
  consumer.oneReplica();
  core::UdpNode node(core::generateSigningKey());
  std::string error;
  if (!node.bind("127.0.0.1", 0, error)) return c.fail(error);
  node.onDelivery([&](const core::Delivery& d) {
    producer.received(d);
    consumer.received(d);
  });
  node.onEvent([&](const core::TransportEvent& e) {
    producer.event(e);
    consumer.event(e);
  });
  if (!producer.place(&node) || !consumer.place(&node)) return kFailed;
  auto from = producer.assignOne("");
  if (!from) return c.fail("could not assign job '" + producer.job() + "': " + producer.failure());
  consumer.feedIn({producer.id(), from->first, from->second});
  consumer.note("input", hex(producer.id()));
  producer.note("feeds", hex(consumer.id()));
  if (!consumer.assignOne(from->first))
    return c.fail("a feed goes between two foggers: none but " + from->first.substr(0, 24) +
                  "… could take job '" + consumer.job() + "'");
  producer.finish();
  consumer.finish();
  nlohmann::json ps, cs;
  int rp = producer.report(&ps), rc = consumer.report(&cs);
  std::string detail;
  bool agrees = feedAgrees(producer, consumer, detail);
  if (o.json) {
    c.out << nlohmann::json{{"producer", ps},
                            {"consumer", cs},
                            {"feed", {{"verified", agrees}, {"detail", detail}}}}
                 .dump(2)
          << "\n";
  } else if (agrees) {
    c.out << "feed " << producer.job() << " → " << consumer.job() << ": " << detail
          << ", the same on both sides\n";
  }
  if (!agrees) return c.fail("the feed does not check: " + detail);
  return rp == kOk && rc == kOk ? kOk : kFailed;
}

} // namespace

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
  app.add_option("--input", o.input,
                 "a job of the same program whose writes feed this flow job, run on another "
                 "fogger (docs/deploy.md, \"Federation\")");
  addDir(app, o);
  app.add_flag("--json", o.json, "print the job's summary as JSON");
}

int deploy(Context& c) {
  std::string error;
  auto fog = loadFog(c, error);
  if (!fog) return c.fail(error);
  if (!c.options.input.empty()) return deployPipeline(c, *fog);
  return Deployment(c, std::move(*fog), c.options.job).run();
}

} // namespace flo::fog
