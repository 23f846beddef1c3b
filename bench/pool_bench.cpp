/// \file
/// The pool benchmark (see pool_bench.h): the Ed25519 bound, an open-loop client on one
/// UdpNode, the ramp, and the tables it prints.
#include "bench/pool_bench.h"

#include "core/net/udp_node.h"
#include "core/os/system.h"
#include "pool/net/pool_client.h"
#include "pool/wire/message.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <random>
#include <sched.h>
#include <sstream>
#include <sys/resource.h>
#include <thread>
#include <unistd.h>
#include <unordered_map>

namespace flo::bench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

double secondsOf(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double msOf(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

Clock::duration durationOf(double seconds) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

struct DigestHash {
  std::size_t operator()(const core::Digest& d) const noexcept {
    std::size_t h;
    std::copy(d.begin(), d.begin() + sizeof h, reinterpret_cast<std::uint8_t*>(&h));
    return h;
  }
};

/// CPU seconds (user + system) process `pid` has used so far; nullopt once it is gone.
std::optional<double> processCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return std::nullopt;
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return std::nullopt;
  std::istringstream fields(line.substr(close + 2)); // from field 3, the state
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
}

/// Seconds process `pid`'s threads have spent runnable but waiting for a CPU
/// (/proc/PID/task/TID/schedstat, second field); 0 when it cannot be read.
double processRunQueueSeconds(pid_t pid) {
  std::error_code ec;
  double total = 0;
  std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream in(t.path() / "schedstat");
    unsigned long long running = 0, waiting = 0;
    if (in >> running >> waiting) total += double(waiting) / 1e9;
  }
  return total;
}

double selfCpuSeconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

std::size_t usableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return std::size_t(CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

/// One key, message and signature for the verification loops (fixed: every run checks the same).
struct VerifySample {
  core::SigningKey key;
  core::Bytes message;
  core::Signature signature;
  VerifySample() : key(core::SigningKey::fromSeed(seedOf())), message(256) {
    for (std::size_t i = 0; i < message.size(); ++i) message[i] = std::uint8_t(i * 7);
    signature = key.sign(message);
  }
  static core::Seed seedOf() {
    core::Seed seed;
    for (std::size_t i = 0; i < seed.size(); ++i) seed.data()[i] = std::uint8_t(i * 13 + 1);
    return seed;
  }
  /// Verifies until `end`; the number verified, or 0 if one failed (a broken libsodium).
  std::size_t verifyUntil(Clock::time_point end) const {
    std::size_t verified = 0, valid = 0;
    do {
      for (int i = 0; i < 32; ++i)
        valid += core::verifySignature(key.publicKey(), signature, message);
      verified += 32;
    } while (Clock::now() < end);
    return valid == verified ? verified : 0;
  }
};

/// Ed25519 verifications per second, `threads` threads verifying at once (one: on this thread),
/// about `seconds` in five slices; the best slice counts (the machine is shared: a slice in which
/// another process held a core says less about the cores). 0 if a verification failed.
double measureVerifyRate(double seconds, std::size_t threads) {
  const VerifySample sample;
  double best = 0;
  for (int slice = 0; slice < 5; ++slice) {
    const auto start = Clock::now(), end = start + durationOf(seconds / 5);
    std::vector<std::size_t> counts(threads, 0);
    {
      std::vector<std::jthread> others;
      for (std::size_t t = 1; t < threads; ++t)
        others.emplace_back([&, t] { counts[t] = sample.verifyUntil(end); });
      counts[0] = sample.verifyUntil(end);
    }
    const double elapsed = secondsOf(Clock::now() - start);
    std::size_t verified = 0;
    for (std::size_t c : counts) {
      if (c == 0) return 0;
      verified += c;
    }
    if (elapsed > 0) best = std::max(best, double(verified) / elapsed);
  }
  return best;
}

/// The open-loop client: a corpus of signed transfers, sent in order at a schedule to every
/// replica, and the replies gathered as they come.
class Driver final : public FaultTarget {
public:
  Driver(core::UdpNode& node, const pool::Genesis& genesis, const PoolBenchOptions& options)
      : node_(node), genesis_(genesis), options_(options), chain_(genesis.chainId()),
        needed_(genesis.faults() + 1),
        everyone_(genesis.replicas.size() >= 64
                      ? ~std::uint64_t(0)
                      : (std::uint64_t(1) << genesis.replicas.size()) - 1),
        told_(genesis.replicas.size()) {
    for (pool::ReplicaIndex i = 0; i < genesis.replicas.size(); ++i) {
      replicaByDid_[genesis.replicas[i].did] = i;
      addresses_.push_back({genesis.replicas[i].host, genesis.replicas[i].port});
    }
    node_.onDelivery([this](const core::Delivery& d) { onDelivery(d); });
  }

  bool interrupted() const { return options_.interrupted && options_.interrupted(); }

  /// Makes the accounts and funds each from `funder` (nonces from `funderNonce`); waits until
  /// every replica has committed every funding transfer. False with why.
  bool fund(const core::SigningKey& funder, std::uint64_t funderNonce, std::uint64_t amount,
            std::string& error) {
    std::mt19937_64 random(options_.seed * 0x9e3779b97f4a7c15ULL + 7);
    for (std::size_t a = 0; a < options_.accounts; ++a) {
      core::Seed seed;
      for (std::size_t i = 0; i < seed.size(); ++i) seed.data()[i] = std::uint8_t(random());
      accounts_.push_back(Account{core::SigningKey::fromSeed(seed)});
    }
    std::size_t first = entries_.size();
    for (std::size_t a = 0; a < accounts_.size(); ++a) {
      Entry e;
      e.account = kFunder;
      fill(e, pool::makeTx(funder, chain_, funderNonce + a,
                           pool::Transfer{accounts_[a].key.publicKey(), amount}));
      entries_.push_back(std::move(e));
    }
    // In waves: the genesis bounds what one account may have waiting (maxPendingPerAccount),
    // and every funding transfer is the funder's.
    const std::size_t wave =
        std::max<std::size_t>(1, std::size_t(genesis_.params.maxPendingPerAccount) / 2);
    while (cursor_ < entries_.size() && !interrupted()) {
      const auto now = Clock::now();
      const std::size_t end = std::min(entries_.size(), cursor_ + wave);
      while (cursor_ < end) send(now);
      drain(30s);
    }
    // Every replica, not only f+1: a replica that has not executed the funding would refuse
    // the accounts' first transfers as unaffordable.
    auto allReplied = [&] {
      for (std::size_t i = first; i < entries_.size(); ++i)
        if ((entries_[i].replied & everyone_) != everyone_) return false;
      return true;
    };
    node_.runUntil(allReplied, 30s);
    for (std::size_t i = first; i < entries_.size(); ++i) {
      const Entry& e = entries_[i];
      if (e.state != State::Committed || !e.applied) {
        error = fmt::format("funding transfer {} of {} did not commit ({})", i - first + 1,
                            accounts_.size(),
                            e.state == State::Refused ? "refused: " + lastRefusal_ : "no answer");
        return false;
      }
    }
    if (!allReplied()) {
      error = "not every replica committed the funding within 30 s";
      return false;
    }
    return true;
  }

  std::size_t sampleTxBytes() {
    pool::Tx tx = pool::makeTx(accounts_[0].key, chain_, 0,
                               pool::Transfer{accounts_[1 % accounts_.size()].key.publicKey(), 1});
    return tx.encode().size();
  }

  /// One phase: `warmup` seconds, then a window of `window` seconds at `rate`, then the drain.
  /// `cutAfter`: stop sending when this many seconds' worth of transactions are in flight.
  /// With a fault, the plan made by `makePlan` (from the window's start) acts during the
  /// window, which ends a second after the plan is done (`window` at the latest).
  LoadFigures run(double rate, double warmup, double window, double cutAfter,
                  const std::function<std::unique_ptr<FaultPlan>(Clock::time_point)>& makePlan = {},
                  FaultFigures* faultFigures = nullptr) {
    LoadFigures f;
    f.offered = rate;
    f.ran = true;
    double total = warmup + window;
    prepare(std::size_t(rate * total * 1.1 + 4 * std::sqrt(rate * total) + 64));
    std::mt19937_64 random(options_.seed + std::uint64_t(++phase_) * 1000003);
    std::exponential_distribution<double> gap(rate);
    auto next = [&] { return options_.poisson ? gap(random) : 1.0 / rate; };
    std::uint64_t heightBefore = committedHeight();
    std::optional<Totals> before = totals();
    std::size_t firstEntry = cursor_;
    std::size_t cutAt = std::size_t(rate * cutAfter) + 200;

    Clock::time_point t0 = Clock::now() + 2ms, windowStart = t0 + durationOf(warmup),
                      windowEnd = windowStart + durationOf(window);
    Clock::time_point due = t0;
    std::optional<Clock::time_point> cutTime;
    std::vector<double> cpuStart, cpuEnd;
    double clientStart = 0, clientEnd = 0;
    core::TransportMetrics netStart{}, netEnd{};
    bool started = false, ended = false, exhausted = false;
    // The fault's plan runs on a thread of its own, so that its kills, starts and polls (which
    // wait) never hold the load back: the load goes on as a client's would.
    // (A jthread: however this function ends, its destructor asks the plan to stop and waits.)
    std::unique_ptr<FaultPlan> plan = makePlan ? makePlan(windowStart) : nullptr;
    std::atomic<bool> planFinished = false;
    std::string planError;                     // what the plan threw, read after the join
    std::optional<Clock::time_point> planDone; // when this thread saw it finished
    std::jthread planThread;
    if (plan)
      planThread = std::jthread([&](std::stop_token stop) {
        try {
          for (auto next = plan->next(); next && !stop.stop_requested(); next = plan->next()) {
            while (!stop.stop_requested() && Clock::now() < *next)
              std::this_thread::sleep_for(std::min<Clock::duration>(*next - Clock::now(), 10ms));
            if (!stop.stop_requested()) plan->fire(Clock::now());
          }
        } catch (const std::exception& e) {
          planError = std::string("the fault's plan failed: ") + e.what();
        }
        planFinished = true;
      });
    auto pump = [&] {
      Clock::time_point now = Clock::now();
      if (!started && now >= windowStart) {
        started = true;
        cpuStart = replicaCpu();
        clientStart = selfCpuSeconds();
        netStart = node_.metrics();
      }
      // The transfers due now go out together (each its own Submit; several share packets).
      node_.cork();
      while (due <= now && due < windowEnd && !cutTime && !exhausted) {
        if (!send(due)) {
          exhausted = true;
          break;
        }
        due += durationOf(next());
      }
      node_.uncork();
      if (!cutTime && (outstanding_ > cutAt || exhausted || interrupted())) cutTime = now;
      if (planFinished && !planDone) planDone = now;
      if (!ended && (now >= windowEnd || cutTime || (planDone && now >= *planDone + 1s))) {
        ended = true;
        cpuEnd = replicaCpu();
        clientEnd = selfCpuSeconds();
        netEnd = node_.metrics();
      }
      return ended;
    };
    while (!pump()) node_.runUntil(pump, 1ms);
    if (planThread.joinable()) {
      // A kill or start under way finishes first (seconds at most); the answers meanwhile are
      // read as they come, not stamped late.
      planThread.request_stop();
      while (!planFinished) node_.runUntil([&] { return planFinished.load(); }, 50ms);
      planThread.join();
    }
    Clock::time_point stopAt = cutTime ? std::min(*cutTime, windowEnd) : windowEnd;
    if (planDone && !cutTime) stopAt = std::min(stopAt, *planDone + 1s);
    f.cut = cutTime.has_value();
    if (!started) { // cut in the warm-up: nothing measured
      cpuStart = cpuEnd;
      clientStart = clientEnd;
      netStart = netEnd;
      windowStart = stopAt;
    }
    f.window = std::max(0.0, secondsOf(stopAt - windowStart));
    drain(std::chrono::seconds(5) + durationOf(cutAfter * 2));
    std::uint64_t heightAfter = committedHeight();
    if (heightBefore > 0 && heightAfter > heightBefore) f.blocks = heightAfter - heightBefore;
    if (auto after = totals(); before && after && after->view >= before->view) {
      f.viewChanges = std::int64_t(after->view - before->view);
      // (A replica restarted meanwhile counts from 0 again: then the watch's figures are not
      // known for the phase.)
      if (after->slowTimeouts >= before->slowTimeouts)
        f.slowLeaderTimeouts = std::int64_t(after->slowTimeouts - before->slowTimeouts);
      if (after->workMs > before->workMs && after->waitMs >= before->waitMs &&
          after->waitMs - before->waitMs <= after->workMs - before->workMs)
        f.leaderWaitPercent =
            100.0 * double(after->waitMs - before->waitMs) / double(after->workMs - before->workMs);
    }

    std::vector<double> latencies, lags;
    std::size_t commitsInWindow = 0;
    for (std::size_t i = firstEntry; i < cursor_; ++i) {
      Entry& e = entries_[i];
      if (e.state == State::Skipped) continue;
      if (e.state == State::Sent) { // no outcome: this account cannot go on in order
        accounts_[e.account].broken = true;
        e.state = State::Lost;
      }
      if (e.state == State::Committed) ++f.phaseCommitted;
      if (e.state == State::Committed && e.done >= windowStart && e.done < stopAt)
        ++commitsInWindow;
      if (e.scheduled < windowStart || e.scheduled >= stopAt) continue;
      ++f.sent;
      lags.push_back(msOf(e.sent - e.scheduled));
      switch (e.state) {
      case State::Committed:
        ++f.committed;
        if (!e.applied) ++f.notApplied;
        latencies.push_back(msOf(e.done - e.sent));
        break;
      case State::Refused:
        ++f.refused;
        break;
      default:
        ++f.lost;
      }
    }
    std::sort(latencies.begin(), latencies.end());
    std::sort(lags.begin(), lags.end());
    if (f.window > 0) {
      f.sentPerS = double(f.sent) / f.window;
      f.txPerS = double(commitsInWindow) / f.window;
    }
    f.p50Ms = quantile(latencies, 0.50);
    f.p90Ms = quantile(latencies, 0.90);
    f.p99Ms = quantile(latencies, 0.99);
    f.maxMs = latencies.empty() ? 0 : latencies.back();
    double sum = 0;
    for (double l : latencies) sum += l;
    f.meanMs = latencies.empty() ? 0 : sum / double(latencies.size());
    f.lagP99Ms = quantile(lags, 0.99);
    for (std::size_t r = 0;
         r < pids_.size() && cpuEnd.size() == 2 * pids_.size() && cpuStart.size() == cpuEnd.size();
         ++r) {
      double used = std::max(0.0, cpuEnd[r] - cpuStart[r]);
      f.replicaCpuSeconds += used;
      f.replicaCpuPercent.push_back(f.window > 0 ? 100 * used / f.window : 0);
      f.replicaWaitSeconds += std::max(0.0, cpuEnd[pids_.size() + r] - cpuStart[pids_.size() + r]);
    }
    f.clientCpuSeconds = std::max(0.0, clientEnd - clientStart);
    f.clientRetransmissions = netEnd.retransmissions - netStart.retransmissions;
    f.clientRtos = netEnd.rtoExpirations - netStart.rtoExpirations;
    f.clientSpuriousRtos = netEnd.spuriousRtos - netStart.spuriousRtos;
    f.clientPacketsLost = netEnd.packetsLost - netStart.packetsLost;
    f.clientTailProbes = netEnd.tailProbes - netStart.tailProbes;
    f.clientPacketsOut = netEnd.packetsOut - netStart.packetsOut;
    f.clientPacketsIn = netEnd.packetsIn - netStart.packetsIn;
    if (plan && faultFigures) {
      *faultFigures = plan->figures(*this);
      if (!turnsByzantine(faultFigures->kind) && !faultFigures->events.empty()) {
        // a replica killed: its CPU went with it
        f.replicaCpuKnown = false;
        f.replicaCpuSeconds = f.replicaWaitSeconds = 0;
        f.replicaCpuPercent.clear();
      }
      if (!planError.empty()) faultFigures->error = planError;
      if (plan->next() && faultFigures->error.empty())
        faultFigures->error = "the load phase ended before the fault's plan did";
    }
    f.sustained = !f.cut && f.sent > 0 && f.committed == f.sent && f.notApplied == 0 &&
                  f.txPerS >= 0.9 * f.sentPerS && f.p99Ms <= options_.maxP99Ms &&
                  f.lagP99Ms <= std::max(20.0, options_.maxP99Ms / 2);
    return f;
  }

  void setPids(std::vector<pid_t> pids) { pids_ = std::move(pids); }
  std::uint64_t mismatches() const { return mismatches_; }
  const std::string& lastRefusal() const { return lastRefusal_; }
  std::size_t brokenAccounts() const {
    return std::size_t(std::count_if(accounts_.begin(), accounts_.end(),
                                     [](const Account& a) { return a.broken; }));
  }

private:
  static constexpr std::uint32_t kFunder = ~std::uint32_t(0);

  enum class State : std::uint8_t { Unsent, Sent, Committed, Refused, Lost, Skipped };

  struct Account {
    core::SigningKey key;
    std::uint64_t nextNonce = 0;
    bool broken = false; ///< a transaction of it had no outcome: its later nonces cannot run
  };

  /// A signed transaction and what became of it.
  struct Entry {
    core::Bytes submit; ///< the encoded Submit message (freed once sent)
    core::Digest id{};
    std::uint32_t account = 0;
    State state = State::Unsent;
    bool applied = false;
    std::uint8_t committedVotes = 0, refusedVotes = 0;
    std::uint64_t replied = 0; ///< by replica
    std::uint64_t height = 0;
    core::Digest root{};
    Clock::time_point scheduled, sent, done;
  };

  void fill(Entry& e, const pool::Tx& tx) {
    core::Bytes bytes = tx.encode();
    e.id = core::hash(bytes);
    e.submit = pool::encodeMessage(pool::Submit{std::move(bytes)});
  }

  /// Signs transfers until `count` unsent ones of accounts still in order wait (before the
  /// clock starts), round robin over the accounts, on every core.
  void prepare(std::size_t count) {
    std::size_t waiting = 0;
    for (std::size_t i = cursor_; i < entries_.size(); ++i)
      if (!accounts_[entries_[i].account].broken) ++waiting;
    if (waiting >= count) return;
    std::vector<std::uint32_t> live;
    for (std::uint32_t a = 0; a < accounts_.size(); ++a)
      if (!accounts_[a].broken) live.push_back(a);
    if (live.empty()) return;
    std::size_t first = entries_.size(), add = count - waiting;
    std::vector<std::uint64_t> nonces(add);
    entries_.resize(first + add);
    for (std::size_t k = 0; k < add; ++k) {
      std::uint32_t a = live[(next_ + k) % live.size()];
      entries_[first + k].account = a;
      nonces[k] = accounts_[a].nextNonce++;
    }
    next_ = (next_ + add) % live.size();
    auto sign = [&](std::size_t from, std::size_t to) {
      for (std::size_t k = from; k < to; ++k) {
        Entry& e = entries_[first + k];
        const Account& sender = accounts_[e.account];
        const Account& receiver = accounts_[(e.account + 1) % accounts_.size()];
        fill(e, pool::makeTx(sender.key, chain_, nonces[k],
                             pool::Transfer{receiver.key.publicKey(), 1}));
      }
    };
    std::size_t threads = std::min<std::size_t>(usableCores(), std::max<std::size_t>(1, add / 256));
    std::vector<std::thread> workers;
    for (std::size_t t = 1; t < threads; ++t)
      workers.emplace_back(sign, add * t / threads, add * (t + 1) / threads);
    sign(0, add / threads);
    for (auto& w : workers) w.join();
  }

  /// Sends the next transaction of an account still in order; false when none is left.
  bool send(Clock::time_point scheduled) {
    while (cursor_ < entries_.size() && entries_[cursor_].account != kFunder &&
           accounts_[entries_[cursor_].account].broken)
      entries_[cursor_++].state = State::Skipped;
    if (cursor_ == entries_.size()) return false;
    std::uint32_t index = std::uint32_t(cursor_++);
    Entry& e = entries_[index];
    e.scheduled = scheduled;
    e.sent = Clock::now();
    e.state = State::Sent;
    inFlight_.emplace(e.id, index);
    ++outstanding_;
    for (std::size_t r = 0; r + 1 < addresses_.size(); ++r)
      node_.send(addresses_[r], genesis_.replicas[r].did, e.submit);
    node_.send(addresses_.back(), genesis_.replicas.back().did, std::move(e.submit));
    e.submit = {}; // sent: the bytes are the transport's now
    return true;
  }

  void onDelivery(const core::Delivery& d) {
    auto r = replicaByDid_.find(d.did);
    if (r == replicaByDid_.end()) return;
    auto m = pool::decodeMessage(d.message.data(), d.message.size(), 0);
    if (!m) return;
    if (const auto* a = std::get_if<pool::QueryAnswer>(&*m);
        a && a->id == queryId_ && r->second < heights_.size()) {
      heights_[r->second] = a->height;
      return;
    }
    for (const pool::TxStatus& s : pool::statusesIn(*m)) onStatus(r->second, s);
  }

  /// What replica `replica` says of one transaction.
  void onStatus(pool::ReplicaIndex replica, const pool::TxStatus& s) {
    std::uint64_t bit = std::uint64_t(1) << (replica % 64);
    auto it = inFlight_.find(s.tx);
    if (it == inFlight_.end()) {
      // Already decided: still note who answered (fund() waits for every replica).
      if (auto done = decided_.find(s.tx); done != decided_.end())
        entries_[done->second].replied |= bit;
      return;
    }
    Entry& e = entries_[it->second];
    if (e.replied & bit) return;
    e.replied |= bit;
    if (s.state == pool::TxStatus::State::Committed) {
      if (replica < told_.size() && s.height > told_[replica].load(std::memory_order_relaxed))
        told_[replica].store(s.height, std::memory_order_relaxed);
      if (e.committedVotes == 0) {
        e.height = s.height;
        e.root = s.stateRoot;
        e.applied = s.applied;
        e.committedVotes = 1;
      } else if (e.height == s.height && e.root == s.stateRoot && e.applied == s.applied) {
        ++e.committedVotes;
      } else {
        ++mismatches_;
      }
      if (e.committedVotes >= needed_) decide(it, State::Committed);
    } else {
      lastRefusal_ = s.error;
      if (++e.refusedVotes >= needed_) decide(it, State::Refused);
    }
  }

  void decide(std::unordered_map<core::Digest, std::uint32_t, DigestHash>::iterator it,
              State state) {
    Entry& e = entries_[it->second];
    e.state = state;
    e.done = Clock::now();
    if (state == State::Refused && e.account != kFunder) accounts_[e.account].broken = true;
    if (e.account == kFunder) decided_.emplace(e.id, it->second);
    inFlight_.erase(it);
    --outstanding_;
  }

  /// Runs until nothing is in flight, or for at most `limit`.
  void drain(Clock::duration limit) {
    node_.runUntil([&] { return outstanding_ == 0 || interrupted(); },
                   std::chrono::ceil<std::chrono::milliseconds>(limit));
  }

  /// The lowest committed height any replica reports (each asked once; 0 when one does not
  /// answer within a second).
  std::uint64_t committedHeight() {
    ++queryId_;
    heights_.assign(addresses_.size(), std::nullopt);
    core::Bytes query =
        pool::encodeMessage(pool::Query{std::nullopt, queryId_, std::nullopt, std::nullopt, false});
    for (std::size_t r = 0; r < addresses_.size(); ++r)
      node_.send(addresses_[r], genesis_.replicas[r].did, query);
    auto all = [&] {
      return std::all_of(heights_.begin(), heights_.end(), [](const auto& h) { return h; });
    };
    if (!node_.runUntil(all, 1s)) return 0;
    return **std::min_element(heights_.begin(), heights_.end());
  }

  /// Asked from a client of its own, made for the call: the load's client queues what it sends
  /// to a replica that is down, and a restarted one hears a fresh client's query at once, not
  /// after its session is found dead and what waited in it.
  std::vector<std::optional<ReplicaState>> status(std::chrono::milliseconds wait) override {
    std::vector<std::optional<ReplicaState>> out(addresses_.size());
    core::UdpNode probe(core::generateSigningKey());
    std::string error;
    if (!probe.bind("127.0.0.1", 0, error)) return out;
    pool::PoolClient client(probe, genesis_);
    auto answers = client.status(wait);
    for (std::size_t r = 0; r < answers.size() && r < out.size(); ++r)
      if (const auto& a = answers[r])
        out[r] =
            ReplicaState{a->height,       a->view,         a->convictions,       a->mutedMessages,
                         a->leaderWorkMs, a->leaderWaitMs, a->slowLeaderTimeouts};
    return out;
  }

  /// What the replicas say together: the highest view, and the slow-leader watch's sums.
  struct Totals {
    std::uint64_t view = 0, workMs = 0, waitMs = 0, slowTimeouts = 0;
  };
  /// nullopt unless every replica answers within a second.
  std::optional<Totals> totals() {
    Totals t;
    for (const auto& r : status(1000ms)) {
      if (!r) return std::nullopt;
      t.view = std::max(t.view, r->view);
      t.workMs += r->leaderWorkMs;
      t.waitMs += r->leaderWaitMs;
      t.slowTimeouts += r->slowLeaderTimeouts;
    }
    return t;
  }

  std::optional<Clock::time_point> firstCommitSentAfter(Clock::time_point t) const override {
    std::optional<Clock::time_point> first;
    for (const Entry& e : entries_)
      if (e.state == State::Committed && e.account != kFunder && e.sent >= t)
        first = std::min(first.value_or(e.done), e.done);
    return first;
  }

  std::vector<std::uint64_t> toldHeights() const override {
    std::vector<std::uint64_t> out;
    for (const auto& h : told_) out.push_back(h.load(std::memory_order_relaxed));
    return out;
  }

  /// Each replica's CPU seconds so far, then (at index n + r) its seconds waiting for a CPU.
  std::vector<double> replicaCpu() const {
    std::vector<double> out;
    for (pid_t pid : pids_) out.push_back(processCpuSeconds(pid).value_or(0));
    for (pid_t pid : pids_) out.push_back(processRunQueueSeconds(pid));
    return out;
  }

  core::UdpNode& node_;
  const pool::Genesis& genesis_;
  const PoolBenchOptions& options_;
  core::Digest chain_;
  std::size_t needed_;
  std::uint64_t everyone_;
  std::unordered_map<std::string, pool::ReplicaIndex> replicaByDid_;
  std::vector<core::Address> addresses_;
  std::vector<pid_t> pids_;
  std::vector<Account> accounts_;
  std::vector<Entry> entries_;
  std::size_t cursor_ = 0; ///< the next entry to send
  std::size_t next_ = 0;   ///< the account the next prepared transfer comes from
  std::unordered_map<core::Digest, std::uint32_t, DigestHash> inFlight_;
  /// By replica: the highest height it told of a commit (written here, read by a fault plan).
  std::vector<std::atomic<std::uint64_t>> told_;
  std::unordered_map<core::Digest, std::uint32_t, DigestHash> decided_; ///< funding only
  std::size_t outstanding_ = 0;
  int phase_ = 0;
  std::uint64_t mismatches_ = 0;
  std::string lastRefusal_;
  std::uint64_t queryId_ = 0;
  std::vector<std::optional<std::uint64_t>> heights_;
};

/// Stops the launcher's pool when it goes out of scope, however the run ends.
struct StopOnExit {
  PoolLauncher& launcher;
  ~StopOnExit() { launcher.stop(); }
};

void printHeader(std::ostream& out) {
  out << fmt::format("  {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>9} {:>8} {:>6}\n",
                     "offered", "sent/s", "commit/s", "p50 ms", "p99 ms", "max ms", "lag p99",
                     "cpu ms/tx", "client", "tx/block", "wait%")
      << std::flush;
}

void printPhase(std::ostream& out, const LoadFigures& f, const std::string& note) {
  // The replicas' CPU is not known once the window killed one (what it used is gone with it).
  const std::string cpu = f.replicaCpuKnown ? fmt::format("{:.3f}", f.cpuMsPerTx()) : "-";
  const std::string wait = f.replicaCpuKnown ? fmt::format("{:.1f}", f.waitPercent()) : "-";
  out << fmt::format("  {:>9.0f} {:>9.0f} {:>9.0f} {:>8.2f} {:>8.2f} {:>8.2f} {:>8.2f} {:>9} "
                     "{:>9.3f} {:>8.1f} {:>6}  {}{}{}{}\n",
                     f.offered, f.sentPerS, f.txPerS, f.p50Ms, f.p99Ms, f.maxMs, f.lagP99Ms, cpu,
                     f.clientCpuMsPerTx(), f.txPerBlock(), wait, note,
                     f.cut ? " (cut: backlog)" : "",
                     f.viewChanges > 0 ? fmt::format(" ({} view changes)", f.viewChanges) : "",
                     f.lost + f.refused > 0
                         ? fmt::format(" ({} refused, {} without outcome)", f.refused, f.lost)
                         : "")
      << (f.clientRetransmissions > 0
              ? fmt::format("             client transport: {} segments sent again ({} RTOs of "
                            "which {} undone as late, {} packets deemed lost, {} tail probes)\n",
                            f.clientRetransmissions, f.clientRtos, f.clientSpuriousRtos,
                            f.clientPacketsLost, f.clientTailProbes)
              : "")
      << std::flush;
}

void printFault(std::ostream& out, const FaultFigures& f) {
  for (std::size_t i = 0; i < f.events.size(); ++i) {
    const FaultEvent& e = f.events[i];
    if (f.kind == FaultKind::LeaderCrash)
      out << fmt::format(
          "  kill {}: replica {} (the leader){} at {:.1f} s, down {:.1f} s: {}\n", i + 1, e.replica,
          e.together.empty() ? std::string()
                             : fmt::format(" and {} (the next)", fmt::join(e.together, ", ")),
          e.killedAtS, e.downS,
          e.recoveryMs >= 0 ? fmt::format("a transaction sent after the kill committed {:.0f} ms "
                                          "after it",
                                          e.recoveryMs)
                            : std::string("no transaction sent after the kill committed"));
    else if (f.kind == FaultKind::SlowLeader)
      out << fmt::format(
          "  replica {} (the leader) turned slow at {:.1f} s: {}\n", e.replica, e.killedAtS,
          e.recoveryMs >= 0
              ? fmt::format("no replica in a view it leads {:.0f} ms after", e.recoveryMs)
              : std::string("still leading at the end"));
    else if (f.kind == FaultKind::Forger)
      out << fmt::format("  replica {} (not the leader) forging votes from {:.1f} s on\n",
                         e.replica, e.killedAtS);
    else if (f.kind == FaultKind::RestartAll)
      out << fmt::format("  replica {} killed at {:.1f} s, down {:.1f} s: had told height {}, "
                         "back at height {}, first answer {} after its start\n",
                         e.replica, e.killedAtS, e.downS, e.told, e.back,
                         e.answerMs >= 0 ? fmt::format("{:.0f} ms", e.answerMs) : "never");
    else
      out << fmt::format("  replica {} killed at {:.1f} s, down {:.1f} s while the others "
                         "committed {} blocks: first answer {}, at the tip {} after its start\n",
                         e.replica, e.killedAtS, e.downS, e.behind,
                         e.answerMs >= 0 ? fmt::format("{:.0f} ms", e.answerMs) : "never",
                         e.tipMs >= 0 ? fmt::format("{:.0f} ms", e.tipMs) : "never");
  }
  if (f.kind == FaultKind::LeaderCrash && f.recoveryP50Ms >= 0)
    out << fmt::format("leader crash: recovery p50 {:.0f} ms, p99 {:.0f} ms, max {:.0f} ms over {} "
                       "kills\n",
                       f.recoveryP50Ms, f.recoveryP99Ms, f.recoveryMaxMs, f.events.size());
  if (f.kind == FaultKind::RestartAll)
    out << fmt::format("restart-all: {}; {} replicas came back below a height they had told\n",
                       f.resumeMs >= 0
                           ? fmt::format("a transaction sent after the last replica's start "
                                         "committed {:.0f} ms after it",
                                         f.resumeMs)
                           : std::string("no transaction sent after the last start committed"),
                       f.lost);
  if (f.kind == FaultKind::Forger)
    out << fmt::format("forger: {} convictions, {} of its messages dropped unread\n", f.convictions,
                       f.muted);
  if (!f.error.empty()) out << "fault: " << f.error << "\n";
  out << std::flush;
}

/// Why a fault run failed: its plan stopped, or a kill had no recovery; empty when it did not.
std::string faultFailure(const FaultFigures& f, const PoolBenchOptions& o) {
  if (!f.error.empty()) return f.error;
  if (f.kind == FaultKind::LeaderCrash) {
    if (f.events.size() < o.repeat)
      return fmt::format("{} of {} kills made", f.events.size(), o.repeat);
    for (const FaultEvent& e : f.events)
      if (e.recoveryMs < 0) return "no transaction sent after a kill committed";
  } else if (f.kind == FaultKind::RestartAll) {
    if (f.resumeMs < 0) return "no transaction sent after the restarts committed";
    if (f.lost > 0)
      return fmt::format("{} replicas came back below a height they had told", f.lost);
  } else if (turnsByzantine(f.kind)) {
    if (f.events.empty()) return "no replica was turned byzantine";
    if (f.kind == FaultKind::SlowLeader && f.events.back().recoveryMs < 0)
      return "the slow leader was not replaced";
    if (f.kind == FaultKind::Forger && f.convictions == 0) return "no replica convicted the forger";
  } else if (f.events.empty() || f.events.back().tipMs < 0) {
    return "the restarted replica did not reach the tip";
  }
  return {};
}

} // namespace

double LoadFigures::cpuMsPerTx() const {
  double commits = txPerS * window;
  return commits > 0 ? 1000 * replicaCpuSeconds / commits : 0;
}

double LoadFigures::clientCpuMsPerTx() const {
  double commits = txPerS * window;
  return commits > 0 ? 1000 * clientCpuSeconds / commits : 0;
}

std::string validate(const PoolBenchOptions& o) {
  if (o.replicas < 1 || o.replicas > 64) return "--replicas takes 1 to 64";
  if (!(o.seconds > 0) || !(o.warmup >= 0)) return "the window must be positive";
  if (o.rate < 0 || !std::isfinite(o.rate)) return "--rate must be positive (or absent)";
  if (o.accounts < 2 || o.accounts > 1'000'000) return "--accounts takes 2 to 1000000";
  if (!(o.rampStart > 0) || !(o.rampSeconds > 0) || o.rampSteps == 0)
    return "the ramp needs a positive start, window and step count";
  if (!(o.verifySeconds > 0)) return "the verification measurement needs a positive time";
  if (o.fault != FaultKind::None && o.replicas < 4)
    return "--fault needs at least 4 replicas (one may fail)";
  if (o.fault == FaultKind::LeaderCrash && (o.repeat < 1 || o.repeat > 100))
    return "--repeat takes 1 to 100";
  if (o.leaders < 1 || o.leaders > (o.replicas - 1) / 3)
    return fmt::format("--leaders takes 1 to f = {} at {} replicas", (o.replicas - 1) / 3,
                       o.replicas);
  if (o.leaders > 1 && o.fault != FaultKind::LeaderCrash)
    return "--leaders goes with --fault leader-crash";
  // The load is signed before it starts, for the whole plan: ten minutes (§5.2's longest) at
  // most.
  if (o.fault == FaultKind::Restart && !(o.downSeconds > 0 && o.downSeconds <= 600))
    return "--down takes more than 0 and at most 600 seconds";
  if (!(o.holdMs >= 1 && o.holdMs <= 60000 && o.holdMs == std::floor(o.holdMs)))
    return "--hold takes a whole number of ms from 1 to 60000";
  if (!(o.forgeRate >= 1 && o.forgeRate <= 100000 && o.forgeRate == std::floor(o.forgeRate)))
    return "--forge-rate takes a whole number from 1 to 100000";
  if (turnsByzantine(o.fault) && o.seconds > 600)
    return "--seconds takes at most 600 with --fault slow-leader or forger";
  return {};
}

PoolBenchResult runPoolBench(const PoolBenchOptions& o, PoolLauncher& launcher, std::ostream& out) {
  PoolBenchResult result;
  result.replicas = o.replicas;
  result.faults = (o.replicas - 1) / 3;
  result.cores = usableCores();
  result.accounts = o.accounts;
  result.seconds = o.seconds;
  result.loadBefore = loadAverage();
  auto fail = [&](std::string why) {
    result.ok = false;
    result.error = std::move(why);
    result.loadAfter = loadAverage();
    return result;
  };
  try {
    result.verifyPerS = measureVerifyRate(o.verifySeconds, 1);
    result.boundTxPerS = result.verifyPerS * double(result.cores) / double(o.replicas);
    result.verifyAllCoresPerS = measureVerifyRate(o.verifySeconds, result.cores);
    out << fmt::format("pool bench: {} replicas (f = {}) on {} cores, load average {}\n",
                       o.replicas, result.faults, result.cores, result.loadBefore)
        << std::flush;
    out << fmt::format("Ed25519 verify (256-byte message, one core, best of 5 slices): {:.0f}/s -> "
                       "bound {:.0f} "
                       "tx/s ({:.0f} x {} cores / {} replicas)\n",
                       result.verifyPerS, result.boundTxPerS, result.verifyPerS, result.cores,
                       o.replicas)
        << fmt::format("Ed25519 verify on all {} cores at once: {:.0f}/s ({:.2f} of {} x one "
                       "core) -> {:.0f} tx/s\n",
                       result.cores, result.verifyAllCoresPerS,
                       result.verifyPerS > 0
                           ? result.verifyAllCoresPerS / (result.verifyPerS * double(result.cores))
                           : 0,
                       result.cores, result.allCoresTxPerS())
        << std::flush;

    StopOnExit stopper{launcher};
    std::string error;
    // A byzantine replica's fault is in every config (the one it applies to is known only once
    // the load runs), dormant until the plan signals one.
    std::string misbehave;
    if (o.fault == FaultKind::SlowLeader)
      misbehave = fmt::format("slow-proposals:{:.0f}", o.holdMs);
    else if (o.fault == FaultKind::Forger)
      misbehave = fmt::format("forge-votes:{:.0f}", o.forgeRate);
    auto pool = launcher.start(o.replicas, misbehave, error);
    if (!pool) return fail("cannot start the pool: " + error);
    core::UdpNode node(core::generateSigningKey());
    if (!node.bind("127.0.0.1", 0, error)) return fail(error);
    std::uint64_t funderNonce = 0, funderBalance = 0;
    auto stopped = [&] { return o.interrupted && o.interrupted(); };
    {
      // Until every replica answers; then what the funder holds.
      pool::PoolClient client(node, pool->genesis);
      auto until = Clock::now() + 20s;
      bool serving = false;
      while (!serving && Clock::now() < until && !stopped()) {
        auto all = client.status(500ms);
        serving = std::all_of(all.begin(), all.end(), [](const auto& a) { return a.has_value(); });
      }
      if (stopped()) return fail("interrupted");
      if (!serving) return fail("the replicas of " + pool->where + " did not all answer in 20 s");
      auto account = client.query(pool->funder.publicKey(), 10s, error);
      if (!account || !account->found)
        return fail("the funding account is not in the pool: " + error);
      funderNonce = account->nonce;
      funderBalance = account->balance;
    }
    std::uint64_t amount = std::min<std::uint64_t>(1'000'000, funderBalance / (o.accounts + 1));
    if (amount < 1000) return fail("the funding account holds too little to fund the accounts");
    Driver driver(node, pool->genesis, o);
    driver.setPids(pool->pids);
    auto fundStart = Clock::now();
    if (!driver.fund(pool->funder, funderNonce, amount, error))
      return fail(stopped() ? "interrupted" : error);
    result.txBytes = driver.sampleTxBytes();
    out << fmt::format("pool of {} serving ({}); {} accounts funded in {:.2f} s; transfers of {} "
                       "bytes\n",
                       o.replicas, pool->where, o.accounts, secondsOf(Clock::now() - fundStart),
                       result.txBytes)
        << std::flush;

    if (o.fault != FaultKind::None) {
      const double rate = o.rate > 0 ? o.rate : PoolBenchOptions::kFaultRate;
      auto makePlan = [&](Clock::time_point start) -> std::unique_ptr<FaultPlan> {
        if (o.fault == FaultKind::LeaderCrash)
          return leaderCrashes(launcher, driver, o.replicas, o.repeat, o.leaders, start);
        if (o.fault == FaultKind::RestartAll)
          return restartAll(launcher, driver, o.replicas, start);
        if (turnsByzantine(o.fault))
          return turnByzantine(launcher, driver, o.replicas, o.fault, o.seconds, start);
        return restartAfterDown(launcher, driver, o.replicas, o.downSeconds, start);
      };
      const double span = makePlan(Clock::now())->span();
      out << fmt::format("fault {} at {:.0f} tx/s: {:.1f} s warm-up, then the fault's plan (at "
                         "most {:.0f} s)\n",
                         faultName(o.fault), rate, o.warmup, span)
          << std::flush;
      printHeader(out);
      // Every replica down holds every transaction sent meanwhile in flight: the phase must not
      // be cut for that backlog before the replicas are back.
      const double cutAfter = o.fault == FaultKind::RestartAll ? 15 : 3;
      result.atMax = driver.run(rate, o.warmup, span, cutAfter, makePlan, &result.fault);
      printPhase(out, result.atMax, faultName(o.fault));
      printFault(out, result.fault);
    } else if (o.rate > 0) {
      out << fmt::format("at {:.0f} tx/s: {:.0f} s warm-up, {:.0f} s measured\n", o.rate, o.warmup,
                         o.seconds)
          << std::flush;
      printHeader(out);
      result.atMax = driver.run(o.rate, o.warmup, o.seconds, 3);
      printPhase(out, result.atMax, "");
    } else {
      result.searched = true;
      out << fmt::format("ramp: {:.1f} s warm-up + {:.1f} s window per step, sustained = every "
                         "transaction committed, >= 90 % of the sent rate committed, p99 <= "
                         "{:.0f} ms\n",
                         o.rampWarmup, o.rampSeconds, o.maxP99Ms)
          << std::flush;
      printHeader(out);
      double rate = std::min(o.rampStart, std::max(50.0, result.boundTxPerS / 4));
      double lastOk = 0, firstFail = 0;
      int bisections = 0;
      for (std::size_t step = 0; step < o.rampSteps && !stopped(); ++step) {
        LoadFigures f = driver.run(rate, o.rampWarmup, o.rampSeconds, 0.5);
        printPhase(out, f, f.sustained ? "sustained" : "NOT sustained");
        result.ramp.push_back(f);
        if (f.sustained)
          lastOk = std::max(lastOk, rate);
        else
          firstFail = firstFail == 0 ? rate : std::min(firstFail, rate);
        if (firstFail == 0) {
          if (rate >= 2 * result.boundTxPerS) break; // beyond the bound: stop looking
          rate *= 2;
        } else if (lastOk == 0) {
          if (rate < 20) break;
          rate /= 2;
        } else if (firstFail / lastOk > 1.12 && bisections < 3) {
          rate = std::sqrt(lastOk * firstFail);
          ++bisections;
        } else {
          break;
        }
      }
      if (stopped()) return fail("interrupted");
      if (lastOk == 0) return fail("no rate was sustained, down to " + fmt::format("{:.0f}", rate));
      result.maxRate = lastOk;
      result.halfLoadRate = lastOk / 2;
      out << fmt::format("highest sustained rate {:.0f} tx/s; measuring {:.0f} s at it and at "
                         "half of it ({:.0f} s warm-up each)\n",
                         result.maxRate, o.seconds, o.warmup)
          << std::flush;
      printHeader(out);
      result.atMax = driver.run(result.maxRate, o.warmup, o.seconds, 3);
      printPhase(out, result.atMax, "max");
      if (!stopped()) {
        result.atHalf = driver.run(result.halfLoadRate, o.warmup, o.seconds, 3);
        printPhase(out, result.atHalf, "half load");
      }
    }
    if (stopped()) return fail("interrupted");
    result.mismatchedReplies = driver.mismatches();
    result.lastRefusal = driver.lastRefusal();
    const LoadFigures& t = result.throughput();
    const LoadFigures& l = result.latency();
    out << fmt::format("\n{} replicas: {:.0f} committed tx/s ({:.2f} of the Ed25519 bound {:.0f}); "
                       "p50 {:.2f} ms, p99 {:.2f} ms at {:.0f} tx/s; replica CPU {} ms/tx, "
                       "client {:.3f} ms/tx\n",
                       o.replicas, t.txPerS,
                       result.boundTxPerS > 0 ? t.txPerS / result.boundTxPerS : 0,
                       result.boundTxPerS, l.p50Ms, l.p99Ms, l.offered,
                       t.replicaCpuKnown ? fmt::format("{:.3f}", t.cpuMsPerTx()) : "unknown",
                       t.clientCpuMsPerTx())
        << std::flush;
    if (driver.brokenAccounts() > 0)
      out << fmt::format("note: {} accounts stopped (a transfer refused or without outcome{})\n",
                         driver.brokenAccounts(),
                         result.lastRefusal.empty() ? "" : "; last refusal: " + result.lastRefusal)
          << std::flush;
    result.ok = t.txPerS > 0;
    if (!result.ok) result.error = "nothing committed in the measurement window";
    if (result.ok && o.fault != FaultKind::None) {
      result.error = faultFailure(result.fault, o);
      result.ok = result.error.empty();
    }
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what());
  }
  result.loadAfter = loadAverage();
  out << "load average after: " << result.loadAfter << std::endl;
  return result;
}

nlohmann::ordered_json toJson(const PoolBenchResult& r) {
  const LoadFigures& t = r.throughput();
  const LoadFigures& l = r.latency();
  nlohmann::ordered_json j;
  j["ok"] = r.ok;
  if (!r.ok) j["error"] = r.error;
  j["replicas"] = r.replicas;
  j["faults"] = r.faults;
  j["cores"] = r.cores;
  j["accounts"] = r.accounts;
  j["tx_bytes"] = r.txBytes;
  j["seconds"] = r.seconds;
  j["verify_per_s"] = r.verifyPerS;
  j["bound_tx_per_s"] = r.boundTxPerS;
  j["verify_all_cores_per_s"] = r.verifyAllCoresPerS;
  j["all_cores_tx_per_s"] = r.allCoresTxPerS();
  j["tx_per_s"] = t.txPerS;
  j["p50_ms"] = l.p50Ms;
  j["p99_ms"] = l.p99Ms;
  j["max_ms"] = l.maxMs;
  j["cpu_ms_per_tx"] =
      t.replicaCpuKnown ? nlohmann::ordered_json(t.cpuMsPerTx()) : nlohmann::ordered_json();
  j["client_cpu_ms_per_tx"] = t.clientCpuMsPerTx();
  j["ratio_to_bound"] = r.boundTxPerS > 0 ? t.txPerS / r.boundTxPerS : 0;
  j["max_rate"] = r.searched ? nlohmann::ordered_json(r.maxRate) : nlohmann::ordered_json();
  j["half_load_rate"] =
      r.searched ? nlohmann::ordered_json(r.halfLoadRate) : nlohmann::ordered_json();
  j["offered_rate"] = t.offered;
  j["p50_at_max_ms"] = t.p50Ms;
  j["p99_at_max_ms"] = t.p99Ms;
  j["lag_p99_ms"] = l.lagP99Ms;
  j["replica_cpu_percent"] = t.replicaCpuPercent;
  j["replica_cpu_wait_percent"] = t.waitPercent();
  j["tx_per_block"] = t.txPerBlock();
  j["client_packets_out_per_tx"] =
      t.committed > 0 ? double(t.clientPacketsOut) / (t.txPerS * t.window) : 0;
  j["client_packets_in_per_tx"] =
      t.committed > 0 ? double(t.clientPacketsIn) / (t.txPerS * t.window) : 0;
  j["client_retransmissions"] = t.clientRetransmissions + l.clientRetransmissions;
  j["client_rtos"] = t.clientRtos + l.clientRtos;
  j["client_rtos_undone"] = t.clientSpuriousRtos + l.clientSpuriousRtos;
  j["client_packets_deemed_lost"] = t.clientPacketsLost + l.clientPacketsLost;
  j["client_tail_probes"] = t.clientTailProbes + l.clientTailProbes;
  j["tx_per_block_at_half"] = l.txPerBlock();
  auto views = [](const LoadFigures& f) {
    return f.viewChanges >= 0 ? nlohmann::ordered_json(f.viewChanges) : nlohmann::ordered_json();
  };
  j["view_changes"] = views(t);
  j["view_changes_at_half"] = views(l);
  // The slow-leader watch (pool/core/leader_watch.h): what share of their time with work the
  // replicas spent waiting for the leader's proposal, and the rounds they timed out of for it.
  auto share = [](const LoadFigures& f) {
    return f.leaderWaitPercent >= 0 ? nlohmann::ordered_json(f.leaderWaitPercent)
                                    : nlohmann::ordered_json();
  };
  j["leader_wait_percent"] = share(t);
  j["leader_wait_percent_at_half"] = share(l);
  j["slow_leader_timeouts"] =
      t.slowLeaderTimeouts >= 0 && l.slowLeaderTimeouts >= 0
          ? nlohmann::ordered_json(t.slowLeaderTimeouts + l.slowLeaderTimeouts)
          : nlohmann::ordered_json();
  j["refused"] = t.refused + l.refused;
  j["without_outcome"] = t.lost + l.lost;
  j["mismatched_replies"] = r.mismatchedReplies;
  j["load_before"] = r.loadBefore;
  j["load_after"] = r.loadAfter;
  auto ramp = nlohmann::ordered_json::array();
  for (const LoadFigures& f : r.ramp)
    ramp.push_back({{"offered", f.offered},
                    {"sent_per_s", f.sentPerS},
                    {"tx_per_s", f.txPerS},
                    {"p50_ms", f.p50Ms},
                    {"p99_ms", f.p99Ms},
                    {"tx_per_block", f.txPerBlock()},
                    {"view_changes", views(f)},
                    {"leader_wait_percent", share(f)},
                    {"sustained", f.sustained}});
  j["ramp"] = std::move(ramp);
  if (r.fault.kind != FaultKind::None) {
    const FaultFigures& f = r.fault;
    auto orNull = [](double v) {
      return v >= 0 ? nlohmann::ordered_json(v) : nlohmann::ordered_json();
    };
    auto events = nlohmann::ordered_json::array();
    for (const FaultEvent& e : f.events) {
      const bool turned = turnsByzantine(f.kind);
      nlohmann::ordered_json x{{"replica", e.replica},
                               {turned ? "turned_at_s" : "killed_at_s", e.killedAtS}};
      if (!turned) x["down_s"] = e.downS;
      if (f.kind == FaultKind::LeaderCrash) {
        x["recovery_ms"] = orNull(e.recoveryMs);
        if (!e.together.empty()) x["together"] = e.together;
      } else if (f.kind == FaultKind::SlowLeader) {
        x["replaced_ms"] = orNull(e.recoveryMs);
      } else if (f.kind == FaultKind::Forger) { // the load's figures are what it measures
      } else if (f.kind == FaultKind::RestartAll) {
        x["told_height"] = e.told;
        x["back_height"] = e.back;
        x["answer_ms"] = orNull(e.answerMs);
      } else {
        x["behind_blocks"] = e.behind;
        x["answer_ms"] = orNull(e.answerMs);
        x["tip_ms"] = orNull(e.tipMs);
      }
      events.push_back(std::move(x));
    }
    nlohmann::ordered_json fault{{"kind", faultName(f.kind)}, {"events", std::move(events)}};
    if (f.kind == FaultKind::LeaderCrash) {
      fault["recovery_p50_ms"] = orNull(f.recoveryP50Ms);
      fault["recovery_p99_ms"] = orNull(f.recoveryP99Ms);
      fault["recovery_max_ms"] = orNull(f.recoveryMaxMs);
    } else if (f.kind == FaultKind::RestartAll) {
      fault["resume_ms"] = orNull(f.resumeMs);
      fault["lost"] = f.lost;
    } else if (f.kind == FaultKind::Forger) {
      fault["convictions"] = f.convictions;
      fault["muted_messages"] = f.muted;
    }
    if (!f.error.empty()) fault["error"] = f.error;
    j["fault"] = std::move(fault);
  }
  return j;
}

double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = std::size_t(std::ceil(q * double(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace flo::bench
