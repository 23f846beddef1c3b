/// \file
/// The fogger daemon (see daemon.h).
#include "fogger/net/daemon.h"

#include "core/net/udp_node.h"
#include "core/os/files.h"
#include "core/os/process.h"
#include "core/os/system.h"
#include "core/store/keystore.h"
#include "pool/net/pool_client.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "fogger/chain.h"
#include "fogger/wire.h"

namespace flo::fogger {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

volatile std::sig_atomic_t signalled = 0;

/// CPU seconds a job run may take on a fogger before the host stops it.
constexpr int kCpuSeconds = 30;

bool writeBytes(const fs::path& p, const Bytes& b) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  return bool(f);
}

std::uint64_t wallMicros() {
  return std::uint64_t(std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
}

class Fogger {
public:
  Fogger(const FoggerConfig& c, std::ostream& log) : cfg_(c), log_(log) {}

  bool open(std::string& error) {
    auto text = core::readWholeFile(cfg_.genesis);
    if (!text) return error = "cannot read the genesis " + cfg_.genesis, false;
    auto g = pool::Genesis::fromJson(*text, &error);
    if (!g) return false;
    genesis_ = std::move(*g);
    core::Keystore keys(cfg_.home);
    auto id = keys.load(cfg_.identity, std::nullopt, error);
    if (!id) return false;
    keyStore_.emplace(id->current);
    auto addr = core::UdpNode::parseAddress(cfg_.listen);
    if (!addr) return error = "listen: expected HOST:PORT, got '" + cfg_.listen + "'", false;
    service_ = std::make_unique<core::UdpNode>(key());
    if (!service_->bind(addr->host, addr->port, error)) return false;
    service_->onDelivery([this](const core::Delivery& d) { inbox_.push_back(d); });
    service_->onEvent([this](const core::TransportEvent& e) {
      if (e.kind == core::TransportEvent::Kind::Acknowledged) acked_.push_back(e.id);
    });
    poolNode_ = std::make_unique<core::UdpNode>(core::generateSigningKey());
    if (!poolNode_->bind("127.0.0.1", 0, error)) return false;
    pool_ = std::make_unique<pool::PoolClient>(*poolNode_, genesis_);
    fs::create_directories(cfg_.work);
    return true;
  }

  /// Registers the offer (again: an update is harmless) and stakes up to the configured stake.
  bool registerOffer(std::string& error) {
    pool::RegisterProvider p;
    p.architectures = {cfg_.arch};
    p.cores = cfg_.cores;
    p.memoryMiB = cfg_.memoryMiB;
    p.zone = cfg_.zone;
    p.price = cfg_.price;
    p.address = cfg_.listen;
    if (!submit(p, error)) return false;
    auto a = pool_->query(key().publicKey(), 10s, error);
    if (!a) return false;
    if (a->stake < cfg_.stake && !submit(pool::Stake{cfg_.stake - a->stake}, error)) return false;
    log_ << "fogger: registered " << core::didKey(key().publicKey()) << " (" << cfg_.arch << ", "
         << cfg_.memoryMiB << " MiB, price " << cfg_.price << ") at " << cfg_.listen << std::endl;
    return true;
  }

  void serveOnce(std::chrono::milliseconds slice) {
    service_->runUntil([&] { return !inbox_.empty() || signalled; }, slice);
    while (!inbox_.empty()) {
      core::Delivery d = std::move(inbox_.front());
      inbox_.pop_front();
      handle(d);
    }
  }

private:
  bool submit(pool::TxBody body, std::string& error) {
    auto tx = post(std::move(body), error);
    return tx && await(*tx, error);
  }
  /// Signs `body` with the next nonce and sends it to the pool; its encoding, for await().
  std::optional<core::Bytes> post(pool::TxBody body, std::string& error) {
    auto nonce = pool_->nextNonce(key().publicKey(), 10s, error);
    if (!nonce) return std::nullopt;
    core::Bytes tx = pool::makeTx(key(), genesis_.chainId(), *nonce, std::move(body)).encode();
    pool_->post(tx);
    return tx;
  }
  /// Whether the transaction posted committed and applied (why not in `error`).
  bool await(const core::Bytes& tx, std::string& error) {
    auto outcome = pool_->await(tx, 15s, error);
    if (!outcome) return false;
    if (!outcome->committed || !outcome->applied) return error = outcome->error, false;
    return true;
  }

  void send(const core::Delivery& to, const Message& m) {
    core::MessageId id = service_->send(to.from, to.peer, encode(m));
    service_->runUntil([&] { return std::find(acked_.begin(), acked_.end(), id) != acked_.end(); },
                       5s);
    acked_.clear();
  }

  void refuse(const core::Delivery& d, const Digest& order, const std::string& why) {
    log_ << "fogger: refused order " << core::toHex(order).substr(0, 16) << " from " << d.did
         << ": " << why << std::endl;
    send(d, Refusal{order, why});
  }

  void handle(const core::Delivery& d) {
    std::string error;
    auto m = decode(d.message, &error);
    if (!m) {
      log_ << "fogger: dropped a message from " << d.did << ": " << error << std::endl;
      return;
    }
    if (auto* offer = std::get_if<BundleOffer>(&*m)) return run(d, *offer);
    log_ << "fogger: dropped an unexpected message from " << d.did << std::endl;
  }

  /// Everything the order on the pool says must hold of an offer, checked before anything runs;
  /// the object's file name in the bundle (a plain name), or nullopt and why not.
  std::optional<std::string> check(const BundleOffer& o, const nlohmann::json& order,
                                   std::string& why) {
    std::string me = core::didKey(key().publicKey());
    if (order.value("status", "") != "open") return why = "the order is not open", std::nullopt;
    bool assigned = false;
    for (const auto& a : order["assignments"])
      assigned |= a.value("fogger", "") == me && a.value("state", "") == "assigned";
    if (!assigned) return why = "the order is not assigned to " + me, std::nullopt;
    if (order.value("manifest", "") != core::toHex(core::sha256(o.manifest)))
      return why = "the manifest's SHA-256 is not the order's", std::nullopt;
    if (order.value("job", "") != o.job) return why = "the order is for another job", std::nullopt;
    if (order.value("runs", 0u) != o.runs)
      return why = "the order is for another number of runs", std::nullopt;
    if (o.triple != cfg_.triple())
      return why = "an object for " + o.triple + "; this fogger runs " + cfg_.triple(),
             std::nullopt;
    auto manifest = nlohmann::json::parse(o.manifest, nullptr, false);
    if (manifest.is_discarded() || !manifest.contains("targets") ||
        !manifest["targets"].contains(o.triple))
      return why = "the manifest has no object for " + o.triple, std::nullopt;
    if (manifest["targets"][o.triple].value("sha256", "") != core::toHex(core::sha256(o.object)))
      return why = "the object's SHA-256 is not the manifest's", std::nullopt;
    std::string file = manifest["targets"][o.triple].value("file", "");
    if (file.empty() || file.find('/') != std::string::npos || file == "." || file == "..")
      return why = "the manifest names no plain object file", std::nullopt;
    return file;
  }

  void run(const core::Delivery& d, const BundleOffer& o) {
    std::string error, why;
    pool::Query q;
    q.order = o.order;
    auto answer = pool_->ask(q, 10s, error);
    if (!answer) return refuse(d, o.order, "the pool did not answer: " + error);
    auto order = nlohmann::json::parse(answer->orderJson, nullptr, false);
    if (answer->orderJson.empty() || order.is_discarded())
      return refuse(d, o.order, "no such order on the pool");
    auto file = check(o, order, why);
    if (!file) return refuse(d, o.order, why);
    fs::path dir = fs::path(cfg_.work) / core::toHex(o.order).substr(0, 32);
    fs::path bundle = dir / "bundle";
    fs::create_directories(bundle);
    if (!writeBytes(bundle / "manifest.json", o.manifest) || !writeBytes(bundle / *file, o.object))
      return refuse(d, o.order, "cannot write the bundle");
    if (cfg_.fault == "silent") {
      log_ << "fogger: (fault silent) not starting order " << core::toHex(o.order).substr(0, 16)
           << std::endl;
      return;
    }
    // StartRun goes to the pool, and the job starts while the pool orders it (a first result
    // one commit sooner); its outcome is awaited before the result goes anywhere.
    auto start = post(pool::StartRun{o.order}, error);
    if (!start) return refuse(d, o.order, "cannot start: " + error);
    log_ << "fogger: running job '" << o.job << "' of order " << core::toHex(o.order).substr(0, 16)
         << " for " << d.did << std::endl;
    std::vector<std::string> argv = cfg_.executor;
    // The host sandboxes the job (docs/bundles.md): the memory the order asked for (at least
    // 16 MiB: the runtime's own), CPU time well beyond what a bounded job needs, and -v so the
    // log says which layers applied.
    std::uint64_t memory = std::max<std::uint64_t>(order.value("memory_mib", 0u), 16);
    for (std::string a : {bundle.string(), o.job, std::string("--runs"), std::to_string(o.runs),
                          std::string("--work"), std::string("--store"), std::string("--memory"),
                          std::to_string(memory), std::string("--cpu"), std::to_string(kCpuSeconds),
                          std::string("-v")})
      argv.push_back(a);
    auto t0 = std::chrono::steady_clock::now();
    core::ProcessResult e = core::runProcess(argv, 120s, 4u << 20);
    if (!await(*start, error)) return refuse(d, o.order, "the pool refused the start: " + error);
    if (cfg_.fault == "crash") { // dies mid-run: started on the pool, never answers
      log_ << "fogger: (fault crash) exiting after starting order "
           << core::toHex(o.order).substr(0, 16) << std::endl;
      std::_Exit(9);
    }
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    // Work from the host's --work lines: "job J: run K at T s: ..., work W (bound B)".
    std::uint64_t work = 0;
    std::uint32_t runs = 0;
    static const std::regex workLine(R"(, work (\d+) \(bound \d+\))");
    std::string log, rest;
    std::vector<std::string> shares = finalShares(e.err, rest);
    std::istringstream errs(rest);
    for (std::string line; std::getline(errs, line);) {
      std::smatch m;
      if (std::regex_search(line, m, workLine)) {
        work += std::stoull(m[1]);
        ++runs;
      }
      log += line + "\n";
    }
    std::vector<std::string> lines;
    std::istringstream outs(e.out);
    for (std::string line; std::getline(outs, line) && lines.size() < RunOutput::kMaxItems;)
      lines.push_back(line.substr(0, RunOutput::kMaxLine));
    // Then the final values of the shares the run leaves: items of the chain like the lines.
    for (const auto& share : shares)
      if (lines.size() < RunOutput::kMaxItems)
        lines.push_back(share.substr(0, RunOutput::kMaxLine));
    auto records = buildChain(key(), jobLabel(o.order, o.job), lines, wallMicros());
    pool::RunResult r;
    r.order = o.order;
    r.head = headOf(records);
    r.items = records.size();
    r.work = work;
    r.runs = std::min(runs, o.runs);
    r.status = e.timedOut ? 124u : std::uint32_t(std::min(e.status, 255));
    RunOutput out;
    out.result = r.encode();
    out.signature = key().sign(pool::runResultMessage(r));
    for (const auto& rec : records) out.records.push_back(rec.encode());
    out.payloads = lines;
    out.log = log.substr(0, RunOutput::kMaxLog);
    std::ofstream(dir / "log") << log;
    std::error_code ec;
    fs::remove_all(bundle, ec); // the run's log stays; the bundle is the deployer's to send again
    log_ << "fogger: order " << core::toHex(o.order).substr(0, 16) << ": "
         << lines.size() - shares.size() << " lines and " << shares.size() << " shares, work "
         << work << " in " << r.runs << " run(s), status " << r.status << ", " << ms << " ms"
         << std::endl;
    send(d, out);
    pool::Receipt receipt{r};
    if (cfg_.fault == "forge") { // claims other output than what the deployer got
      receipt.result.head = core::hash(std::string_view("forged"));
      log_ << "fogger: (fault forge) receipt with another head" << std::endl;
    }
    if (!submit(receipt, error)) log_ << "fogger: the receipt was refused: " << error << std::endl;
  }

  FoggerConfig cfg_;
  std::ostream& log_;
  pool::Genesis genesis_;
  std::optional<core::SigningKey> keyStore_;
  core::SigningKey& key() { return *keyStore_; }
  std::unique_ptr<core::UdpNode> service_, poolNode_;
  std::unique_ptr<pool::PoolClient> pool_;
  std::deque<core::Delivery> inbox_;
  std::vector<core::MessageId> acked_;
};

} // namespace

std::string FoggerConfig::triple() const {
  return arch + "-linux-gnu";
}

std::string FoggerConfig::toJson() const {
  return nlohmann::json{{"genesis", genesis},   {"home", home},
                        {"identity", identity}, {"listen", listen},
                        {"arch", arch},         {"zone", zone},
                        {"cores", cores},       {"memory_mib", memoryMiB},
                        {"price", price},       {"stake", stake},
                        {"work", work},         {"executor", executor},
                        {"fault", fault}}
             .dump(2) +
         "\n";
}

std::optional<FoggerConfig> FoggerConfig::load(const std::string& path, std::string& error) {
  auto text = core::readWholeFile(path);
  if (!text) return error = path + ": cannot read the file", std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error = path + ": not a JSON object", std::nullopt;
  FoggerConfig c;
  try {
    c.genesis = j.at("genesis").get<std::string>();
    c.home = j.at("home").get<std::string>();
    c.identity = j.at("identity").get<std::string>();
    c.listen = j.at("listen").get<std::string>();
    c.arch = j.at("arch").get<std::string>();
    c.work = j.at("work").get<std::string>();
    c.executor = j.at("executor").get<std::vector<std::string>>();
    c.zone = j.value("zone", c.zone);
    c.cores = j.value("cores", c.cores);
    c.memoryMiB = j.value("memory_mib", c.memoryMiB);
    c.price = j.value("price", c.price);
    c.stake = j.value("stake", c.stake);
    c.fault = j.value("fault", "");
  } catch (const std::exception& e) {
    return error = path + ": missing or malformed field: " + e.what(), std::nullopt;
  }
  if (c.executor.empty()) return error = path + ": executor: expected a command", std::nullopt;
  if (c.arch != "x86_64" && c.arch != "aarch64")
    return error = path + ": arch: expected x86_64 or aarch64", std::nullopt;
  fs::path base = fs::path(path).parent_path();
  for (std::string* p : {&c.genesis, &c.home, &c.work})
    if (!p->empty() && fs::path(*p).is_relative()) *p = (base / *p).string();
  return c;
}

int runFogger(const FoggerConfig& config, const std::string& pidFile, std::ostream& log,
              std::atomic<bool>* stop) {
  Fogger f(config, log);
  std::string error;
  if (!f.open(error)) {
    log << "fogger: error: " << error << std::endl;
    return 1;
  }
  // The pool may still be coming up (fog up starts it just before): try for a while.
  bool registered = false;
  for (int attempt = 0; attempt < 20 && !registered && !signalled; ++attempt) {
    registered = f.registerOffer(error);
    if (!registered) std::this_thread::sleep_for(500ms);
  }
  if (!registered) {
    log << "fogger: error: cannot register with the pool: " << error << std::endl;
    return 1;
  }
  if (!pidFile.empty()) std::ofstream(pidFile) << ::getpid() << "\n";
  auto oldInt = std::signal(SIGINT, [](int) { signalled = 1; });
  auto oldTerm = std::signal(SIGTERM, [](int) { signalled = 1; });
  while (!signalled && !(stop && *stop)) f.serveOnce(200ms);
  std::signal(SIGINT, oldInt);
  std::signal(SIGTERM, oldTerm);
  log << "fogger: stopped" << std::endl;
  return 0;
}

} // namespace flo::fogger
