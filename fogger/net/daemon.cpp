/// \file
/// The fogger daemon (see daemon.h).
#include "fogger/net/daemon.h"

#include "core/net/udp_node.h"
#include "core/os/files.h"
#include "core/os/interruption.h"
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
#include <map>
#include <regex>
#include <sstream>
#include <thread>
#include <tuple>
#include <unistd.h>

#include "fogger/chain.h"
#include "fogger/feed.h"
#include "fogger/wire.h"

namespace flo::fogger {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// runFogger's Interruption while it runs (SIGINT, SIGTERM, SIGHUP: stop in order).
const core::Interruption* interruption = nullptr;
bool signalled() {
  return interruption && interruption->requested();
}

/// CPU seconds a job run may take on a fogger before the host stops it.
constexpr int kCpuSeconds = 30;
/// Wall time a run may take (a feed's producer may wait for its consumer) before it is ended.
constexpr auto kWallLimit = std::chrono::seconds(120);
/// Runs at once, and feed credits kept for producers not started yet.
constexpr std::size_t kMaxRuns = 8, kMaxPending = 64;
/// A consumer's window: feed items in flight or waiting for its job, at most.
constexpr std::uint64_t kFeedWindow = 128;
/// A feed with no items for this long is closed (the consumer's job goes on without).
constexpr auto kFeedIdle = std::chrono::seconds(20);
/// What a run's stdout and stderr keep, at most, and the longest stderr line kept whole.
constexpr std::size_t kMaxOutput = 4u << 20, kMaxLine = 64u << 10;
/// A consumer sends its subscription again this often until the first items come.
constexpr auto kResubscribe = std::chrono::seconds(1);

using Clock = std::chrono::steady_clock;

/// An order as the log names it: the first 16 hex digits of its id.
std::string shortId(const Digest& d) {
  return core::toHex(d).substr(0, 16);
}

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

  /// Serves the transport for up to `slice` (1 ms while runs go on, to move them along), the
  /// messages that came, then every run.
  void serveOnce(std::chrono::milliseconds slice) {
    service_->runUntil([&] { return !inbox_.empty() || signalled(); }, busy() ? 1ms : slice);
    while (!inbox_.empty()) {
      core::Delivery d = std::move(inbox_.front());
      inbox_.pop_front();
      handle(d);
    }
    pumpRuns();
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
    log_ << "fogger: refused order " << shortId(order) << " from " << d.did << ": " << why
         << std::endl;
    send(d, Refusal{order, why});
  }

  void handle(const core::Delivery& d) {
    std::string error;
    auto m = decode(d.message, &error);
    if (!m) {
      log_ << "fogger: dropped a message from " << d.did << ": " << error << std::endl;
      return;
    }
    if (auto* offer = std::get_if<BundleOffer>(&*m)) return start(d, *offer);
    if (auto* credit = std::get_if<FeedCredit>(&*m)) return onCredit(d, *credit);
    if (auto* items = std::get_if<FeedItems>(&*m)) return onItems(d, *items);
    if (std::holds_alternative<Probe>(*m)) return; // the transport acknowledged it: all it asks
    log_ << "fogger: dropped an unexpected message from " << d.did << std::endl;
  }

  /// Everything the order on the pool says must hold of an offer, checked before anything runs;
  /// the object's file name in the bundle (a plain name), or nullopt and why not.
  std::optional<std::string> check(const BundleOffer& o, const nlohmann::json& order,
                                   std::string& why) {
    std::string me = core::didKey(key().publicKey());
    if (order.value("status", "") != "open") return why = "the order is not open", std::nullopt;
    if (!assignedTo(order, me, "assigned"))
      return why = "the order is not assigned to " + me, std::nullopt;
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

  /// Whether `order` has an assignment to `did` (in `state`, when one is named).
  static bool assignedTo(const nlohmann::json& order, const std::string& did,
                         std::string_view state = {}) {
    if (!order.contains("assignments")) return false;
    for (const auto& a : order["assignments"])
      if (a.value("fogger", "") == did && (state.empty() || a.value("state", "") == state))
        return true;
    return false;
  }

  /// The order as the pool says, or nullopt and why not.
  std::optional<nlohmann::json> order(const Digest& id, std::string& why) {
    pool::Query q;
    q.order = id;
    std::string error;
    auto answer = pool_->ask(q, 10s, error);
    if (!answer) return why = "the pool did not answer: " + error, std::nullopt;
    auto j = nlohmann::json::parse(answer->orderJson, nullptr, false);
    if (answer->orderJson.empty() || j.is_discarded() || !j.is_object())
      return why = "no such order on the pool", std::nullopt;
    return j;
  }

  /// A feed between two orders is one deployer's: the other order must be placed by `owner`
  /// (the owner of this fogger's order) and assigned to `fogger`.
  bool feedAllowed(const std::string& owner, const Digest& other, const std::string& fogger,
                   std::string& why) {
    auto o = order(other, why);
    if (!o) return false;
    if (o->value("owner", "") != owner)
      return why = "the feed's other order is another deployer's", false;
    if (o->value("status", "") != "open") return why = "the feed's other order is not open", false;
    if (!assignedTo(*o, fogger))
      return why = "the feed's other order is not assigned to " + fogger, false;
    return true;
  }

  /// One job run on this fogger: the host's process, what it printed, and its feed.
  struct Run {
    core::Delivery deployer; ///< whom the output goes to
    Digest order{};
    std::string job, owner;
    std::uint32_t runs = 0;
    fs::path dir;
    core::ChildProcess child;
    std::string out, err, errPartial;
    Clock::time_point t0 = Clock::now();
    bool timedOut = false; ///< ended by kWallLimit (status 124, as `timeout` says)
    // producer
    std::optional<FeedSender> sender;
    core::Address subscriberAddr{};
    std::string subscriber; ///< the consumer fogger's DID, once its credit was checked
    Clock::time_point lastCredit = Clock::now();
    std::uint64_t heldBack = 0; ///< turns its job's output was left unread (a full queue)
    // consumer
    std::optional<FeedReceiver> receiver;
    FeedSource source;
    core::Address sourceAddr{};
    std::string input;                 ///< feed lines waiting for the job's stdin
    std::deque<std::size_t> inputEnds; ///< where each waiting item ends in `input`
    Clock::time_point lastFeed = Clock::now(), lastSubscribe = Clock::now();
    bool feedClosed = false;
  };

  void start(const core::Delivery& d, const BundleOffer& o) {
    std::string error, why;
    if (runs_.count(o.order)) return refuse(d, o.order, "the order runs here already");
    if (runs_.size() >= kMaxRuns)
      return refuse(d, o.order, "this fogger runs " + std::to_string(kMaxRuns) + " jobs already");
    auto mine = order(o.order, why);
    if (!mine) return refuse(d, o.order, why);
    auto file = check(o, *mine, why);
    if (!file) return refuse(d, o.order, why);
    std::optional<core::Address> sourceAddr;
    if (o.feedIn) {
      sourceAddr = core::UdpNode::parseAddress(o.feedIn->address);
      if (!sourceAddr) return refuse(d, o.order, "the feed's address is malformed");
      if (!feedAllowed(mine->value("owner", ""), o.feedIn->order, o.feedIn->fogger, why))
        return refuse(d, o.order, why);
    }
    auto run = std::make_unique<Run>();
    run->deployer = d;
    run->order = o.order;
    run->job = o.job;
    run->owner = mine->value("owner", "");
    run->runs = o.runs;
    run->dir = fs::path(cfg_.work) / core::toHex(o.order).substr(0, 32);
    fs::path bundle = run->dir / "bundle";
    fs::create_directories(bundle);
    if (!writeBytes(bundle / "manifest.json", o.manifest) || !writeBytes(bundle / *file, o.object))
      return refuse(d, o.order, "cannot write the bundle");
    if (cfg_.fault == "silent") {
      log_ << "fogger: (fault silent) not starting order " << shortId(o.order) << std::endl;
      return;
    }
    // StartRun goes to the pool, and the job starts while the pool orders it (a first result
    // one commit sooner); its outcome is awaited before anything of the run leaves.
    auto startTx = post(pool::StartRun{o.order}, error);
    if (!startTx) return refuse(d, o.order, "cannot start: " + error);
    log_ << "fogger: running job '" << o.job << "' of order " << shortId(o.order) << " for "
         << d.did << std::endl;
    std::vector<std::string> argv = cfg_.executor;
    // The host sandboxes the job (docs/bundles.md): the memory the order asked for (at least
    // 16 MiB: the runtime's own), CPU time well beyond what a bounded job needs, and -v so the
    // log says which layers applied.
    std::uint64_t memory = std::max<std::uint64_t>(mine->value("memory_mib", 0u), 16);
    for (const std::string& a :
         {bundle.string(), o.job, std::string("--runs"), std::to_string(o.runs),
          std::string("--work"), std::string("--store"), std::string("--memory"),
          std::to_string(memory), std::string("--cpu"), std::to_string(kCpuSeconds),
          std::string("-v")})
      argv.push_back(a);
    for (const auto& p : o.feedOut) argv.insert(argv.end(), {"--feed-out", p});
    if (o.feedIn) argv.emplace_back("--feed-in");
    if (!run->child.start(argv, o.feedIn.has_value(), error))
      return refuse(d, o.order, "cannot start the job host: " + error);
    if (!await(*startTx, error)) {
      run->child.kill();
      return refuse(d, o.order, "the pool refused the start: " + error);
    }
    if (cfg_.fault == "crash") { // dies mid-run: started on the pool, never answers
      log_ << "fogger: (fault crash) exiting after starting order " << shortId(o.order)
           << std::endl;
      std::_Exit(9);
    }
    if (!o.feedOut.empty()) {
      run->sender.emplace(o.order);
      auto pending = pendingCredits_.find(o.order);
      if (pending != pendingCredits_.end()) {
        auto [delivery, credit, when] = pending->second;
        pendingCredits_.erase(pending);
        runs_[o.order] = std::move(run);
        return onCredit(delivery, credit);
      }
    }
    if (o.feedIn) {
      run->source = *o.feedIn;
      run->sourceAddr = *sourceAddr;
      run->receiver.emplace(o.feedIn->order, o.order, kFeedWindow);
      service_->send(run->sourceAddr, run->source.fogger, encode(run->receiver->subscribe()));
      log_ << "fogger: order " << shortId(o.order) << " takes its items from "
           << shortId(o.feedIn->order) << " at " << o.feedIn->fogger << std::endl;
    }
    runs_[o.order] = std::move(run);
  }

  /// A consumer's credit for a feed this fogger produces: the first is checked against the pool
  /// (the consumer's order is the same deployer's and assigned to the sender); one that comes
  /// before its producer's run started waits for it.
  void onCredit(const core::Delivery& d, const FeedCredit& c) {
    auto it = runs_.find(c.source);
    if (it == runs_.end() || !it->second->sender) {
      // Kept a while, and only so many: anyone can send a credit for an order not run here.
      std::erase_if(pendingCredits_, [](const auto& kv) {
        return Clock::now() - std::get<2>(kv.second) > kFeedIdle;
      });
      if (pendingCredits_.size() < kMaxPending && !c.closed)
        pendingCredits_.emplace(c.source, std::make_tuple(d, c, Clock::now()));
      return;
    }
    Run& run = *it->second;
    if (run.subscriber.empty()) {
      std::string why;
      if (!feedAllowed(run.owner, c.order, d.did, why)) {
        log_ << "fogger: refused a feed of order " << shortId(c.source) << " to " << d.did << ": "
             << why << std::endl;
        return;
      }
      run.subscriber = d.did;
      run.subscriberAddr = d.from;
      log_ << "fogger: order " << shortId(c.source) << " feeds " << shortId(c.order) << " at "
           << d.did << std::endl;
    } else if (d.did != run.subscriber) {
      log_ << "fogger: dropped a credit from " << d.did << ": the feed is another's" << std::endl;
      return;
    }
    run.sender->credit(c.upTo, c.closed);
    run.lastCredit = Clock::now();
  }

  void onItems(const core::Delivery& d, const FeedItems& m) {
    for (auto& [id, run] : runs_) {
      if (!run->receiver || run->receiver->source() != m.source) continue;
      if (d.did != run->source.fogger || run->feedClosed) return;
      std::vector<std::string> items;
      std::string error;
      if (!run->receiver->receive(m, items, error)) {
        log_ << "fogger: the feed from " << d.did << " broke its protocol (" << error << "): closed"
             << std::endl;
        return closeFeed(*run);
      }
      for (auto& item : items) {
        run->input += item;
        run->input += '\n';
        run->inputEnds.push_back(run->input.size());
      }
      run->lastFeed = Clock::now();
      return;
    }
  }

  /// The consumer's job takes no more items: its stdin ends, and the producer is told.
  void closeFeed(Run& run) {
    if (run.feedClosed) return;
    run.feedClosed = true;
    run.child.closeInput();
    run.input.clear();
    run.inputEnds.clear();
    service_->send(run.sourceAddr, run.source.fogger, encode(run.receiver->close()));
  }

  /// Takes the whole lines of the run's stderr read so far: a producer's feed lines to its
  /// sender, while it has room, the rest to the run's log. Whether there is room left.
  bool takeLines(Run& run) {
    std::size_t at = 0;
    bool room = true;
    for (std::size_t nl; room && (nl = run.errPartial.find('\n', at)) != std::string::npos;
         at = nl + 1) {
      std::string_view line(run.errPartial.data() + at, nl - at);
      if (run.sender && line == "feed: end") {
        run.sender->finish();
      } else if (run.sender && line.substr(0, 6) == "feed: " && line.size() > 6 && line[6] >= '0' &&
                 line[6] <= '9') {
        if (line.size() <= FeedItems::kMaxItem) run.sender->push(std::string(line));
      } else if (run.err.size() < kMaxOutput) {
        run.err.append(line);
        run.err += '\n';
      }
      room = !run.sender || !run.sender->full();
    }
    run.errPartial.erase(0, at);
    return room;
  }

  /// Moves a run on without blocking: its output in, its feed out or in. True once it is over.
  bool pump(Run& run) {
    run.child.read(false, run.out, 1 << 16);
    if (run.out.size() > kMaxOutput) run.out.resize(kMaxOutput);
    // A producer reads its job's stderr only while it has room for the items in it: a full
    // queue leaves the job blocked on its writes until the consumer's credit drains it. Lines
    // already read are taken first; more is read only once none is left.
    bool room = !run.sender || !run.sender->full();
    if (!room) ++run.heldBack;
    if (room && takeLines(run) && run.errPartial.find('\n') == std::string::npos) {
      run.child.read(true, run.errPartial, 1 << 14);
      takeLines(run);
      if (run.errPartial.size() > kMaxLine && run.errPartial.find('\n') == std::string::npos) {
        // A line without end: kept as far as it went.
        if (run.err.size() < kMaxOutput) run.err += run.errPartial.substr(0, kMaxLine) + "\n";
        run.errPartial.clear();
      }
    }
    if (run.sender && !run.subscriber.empty())
      while (auto m = run.sender->next())
        service_->send(run.subscriberAddr, run.subscriber, encode(*m));
    if (run.sender && !run.sender->done() && Clock::now() - run.lastCredit > kFeedIdle) {
      // No consumer came, or it went silent: the rest is dropped and the job goes on.
      log_ << "fogger: the feed of order " << shortId(run.order) << " had no credit for "
           << kFeedIdle.count() << " s: closed" << std::endl;
      run.sender->credit(0, true);
    }
    if (run.receiver && !run.feedClosed) {
      if (!run.input.empty()) {
        long n = run.child.write(run.input);
        if (n < 0) {
          closeFeed(run); // the job ended its input itself
        } else if (n > 0) {
          std::uint64_t items = 0;
          while (!run.inputEnds.empty() && run.inputEnds.front() <= std::size_t(n)) {
            run.inputEnds.pop_front();
            ++items;
          }
          for (auto& e : run.inputEnds) e -= std::size_t(n);
          run.input.erase(0, std::size_t(n));
          if (auto c = run.receiver->delivered(items))
            service_->send(run.sourceAddr, run.source.fogger, encode(*c));
        }
      }
      if (run.receiver->received() == 0 && !run.receiver->ended() &&
          Clock::now() - run.lastSubscribe > kResubscribe) {
        // No item yet: the subscription may have come before the producer's run (which keeps
        // it a while) or been refused as too early; it is sent again until items come.
        run.lastSubscribe = Clock::now();
        service_->send(run.sourceAddr, run.source.fogger, encode(run.receiver->subscribe()));
      }
      if (run.receiver->ended() && run.input.empty()) {
        run.feedClosed = true;
        run.child.closeInput();
      } else if (Clock::now() - run.lastFeed > kFeedIdle) {
        log_ << "fogger: the feed from " << run.source.fogger << " was silent for "
             << kFeedIdle.count() << " s: closed" << std::endl;
        closeFeed(run);
      }
    }
    bool over = run.child.outFd() < 0 && run.child.errFd() < 0 && run.child.ended();
    if (!over && !run.timedOut && Clock::now() - run.t0 > kWallLimit) {
      run.child.kill();
      run.timedOut = true;
      return false;
    }
    // A producer's run is over when its feed is too (sent to the end, or closed).
    return over && (!run.sender || run.sender->done());
  }

  /// A run that ended: its output chain, signed, to the deployer; its receipt to the pool.
  void finish(Run& run) {
    std::string error;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - run.t0).count();
    if (run.receiver && !run.feedClosed) closeFeed(run);
    if (!run.errPartial.empty() && run.err.size() < kMaxOutput) run.err += run.errPartial + "\n";
    // Work from the host's --work lines: "job J: run K at T s: ..., work W (bound B)".
    std::uint64_t work = 0;
    std::uint32_t runs = 0;
    static const std::regex workLine(R"(, work (\d+) \(bound \d+\))");
    std::string log, rest;
    std::vector<std::string> shares = finalShares(run.err, rest);
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
    // A consumer's first item names what it took; a producer's last, what it sent: the deployer
    // checks that the two digests agree.
    if (run.receiver)
      lines.push_back(
          feedTakenLine(run.source.order, run.receiver->received(), run.receiver->digest()));
    std::istringstream outs(run.out);
    for (std::string line; std::getline(outs, line) && lines.size() < RunOutput::kMaxItems - 1;)
      lines.push_back(line.substr(0, RunOutput::kMaxLine));
    // Then the final values of the shares the run leaves: items of the chain like the lines.
    for (const auto& share : shares)
      if (lines.size() < RunOutput::kMaxItems - 1)
        lines.push_back(share.substr(0, RunOutput::kMaxLine));
    if (run.sender) {
      lines.push_back(feedSentLine(run.sender->sent(), run.sender->digest()));
      log_ << "fogger: order " << shortId(run.order) << " fed " << run.sender->sent()
           << " items to " << (run.subscriber.empty() ? "no one" : run.subscriber) << " (at most "
           << run.sender->maxInFlight() << " in flight for a window of " << kFeedWindow
           << ", the job held back " << run.heldBack << " times, dropped " << run.sender->dropped()
           << ")" << std::endl;
    }
    auto records = buildChain(key(), jobLabel(run.order, run.job), lines, wallMicros());
    pool::RunResult r;
    r.order = run.order;
    r.head = headOf(records);
    r.items = records.size();
    r.work = work;
    r.runs = std::min(runs, run.runs);
    r.status = run.timedOut ? 124u : std::uint32_t(std::min(run.child.status(), 255));
    RunOutput out;
    out.result = r.encode();
    out.signature = key().sign(pool::runResultMessage(r));
    for (const auto& rec : records) out.records.push_back(rec.encode());
    out.payloads = lines;
    out.log = log.substr(0, RunOutput::kMaxLog);
    std::ofstream(run.dir / "log") << log;
    std::error_code ec;
    fs::remove_all(run.dir / "bundle", ec); // the log stays; the bundle is the deployer's to send
    log_ << "fogger: order " << shortId(run.order) << ": " << lines.size() << " items ("
         << shares.size() << " shares), work " << work << " in " << r.runs << " run(s), status "
         << r.status << ", " << ms << " ms" << std::endl;
    send(run.deployer, out);
    pool::Receipt receipt{r};
    if (cfg_.fault == "forge") { // claims other output than what the deployer got
      receipt.result.head = core::hash(std::string_view("forged"));
      log_ << "fogger: (fault forge) receipt with another head" << std::endl;
    }
    if (!submit(receipt, error)) log_ << "fogger: the receipt was refused: " << error << std::endl;
  }

public:
  /// Moves every run on; finishes those that are over.
  void pumpRuns() {
    for (auto it = runs_.begin(); it != runs_.end();) {
      if (pump(*it->second)) {
        finish(*it->second);
        it = runs_.erase(it);
      } else {
        ++it;
      }
    }
  }
  bool busy() const { return !runs_.empty(); }

private:
  FoggerConfig cfg_;
  std::ostream& log_;
  pool::Genesis genesis_;
  std::optional<core::SigningKey> keyStore_;
  core::SigningKey& key() { return *keyStore_; }
  std::unique_ptr<core::UdpNode> service_, poolNode_;
  std::unique_ptr<pool::PoolClient> pool_;
  std::deque<core::Delivery> inbox_;
  std::vector<core::MessageId> acked_;
  std::map<Digest, std::unique_ptr<Run>> runs_;
  /// Credits for feeds whose producing run has not started here yet.
  std::map<Digest, std::tuple<core::Delivery, FeedCredit, Clock::time_point>> pendingCredits_;
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
  core::Interruption signals;
  interruption = &signals;
  struct Forget {
    ~Forget() { interruption = nullptr; }
  } forget;
  Fogger f(config, log);
  std::string error;
  if (!f.open(error)) {
    log << "fogger: error: " << error << std::endl;
    return 1;
  }
  // The pool may still be coming up (fog up starts it just before): try for a while.
  bool registered = false;
  for (int attempt = 0; attempt < 20 && !registered && !signalled(); ++attempt) {
    registered = f.registerOffer(error);
    if (!registered) std::this_thread::sleep_for(500ms);
  }
  if (!registered) {
    log << "fogger: error: cannot register with the pool: " << error << std::endl;
    return 1;
  }
  if (!pidFile.empty()) std::ofstream(pidFile) << ::getpid() << "\n";
  std::signal(SIGPIPE, SIG_IGN); // a job that closed its stdin: a write error, not an exit
  while (!signalled() && !(stop && *stop)) f.serveOnce(200ms);
  log << "fogger: stopped" << std::endl;
  return 0;
}

} // namespace flo::fogger
