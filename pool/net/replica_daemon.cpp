/// \file
/// A replica process on the transport (see replica_daemon.h).
#include "pool/net/replica_daemon.h"

#include "core/check.h"
#include "core/os/files.h"
#include "core/store/keystore.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <signal.h>
#include <sstream>

namespace flo::pool {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxClients = 4096;

/// SIGUSR1 came: a misbehaving daemon starts misbehaving (misbehaviour.h).
volatile std::sig_atomic_t gMisbehaveSignal = 0;
extern "C" void onMisbehaveSignal(int) {
  gMisbehaveSignal = 1;
}
} // namespace

std::uint64_t systemWallMs(Time) {
  return std::uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
}

std::string ReplicaConfig::toJson() const {
  nlohmann::json j{{"genesis", genesis},   {"index", index}, {"home", home},
                   {"identity", identity}, {"data", data},   {"listen", listen}};
  if (!misbehave.empty()) j["misbehave"] = misbehave;
  return j.dump(2);
}

std::optional<ReplicaConfig> ReplicaConfig::load(const std::string& path, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<ReplicaConfig> {
    if (error) *error = path + ": " + std::move(why);
    return std::nullopt;
  };
  auto text = core::readWholeFile(path);
  if (!text) return fail("cannot read the file");
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail("not a JSON object");
  ReplicaConfig c;
  try {
    c.genesis = j.at("genesis").get<std::string>();
    c.index = j.at("index").get<ReplicaIndex>();
    c.home = j.at("home").get<std::string>();
    c.identity = j.at("identity").get<std::string>();
    c.data = j.at("data").get<std::string>();
    c.listen = j.at("listen").get<std::string>();
    if (j.contains("misbehave")) c.misbehave = j.at("misbehave").get<std::string>();
  } catch (const std::exception& e) {
    return fail(std::string("missing or malformed field: ") + e.what());
  }
  fs::path base = fs::path(path).parent_path();
  for (std::string* p : {&c.genesis, &c.home, &c.data})
    if (!p->empty() && fs::path(*p).is_relative()) *p = (base / *p).string();
  return c;
}

std::unique_ptr<ReplicaDaemon> ReplicaDaemon::open(const ReplicaConfig& config,
                                                   std::unique_ptr<ReplicaStore> store,
                                                   std::string& error) {
  auto text = core::readWholeFile(config.genesis);
  if (!text) return error = "cannot read the genesis " + config.genesis, nullptr;
  auto genesis = Genesis::fromJson(*text, &error);
  if (!genesis || !genesis->validate(&error)) return nullptr;
  if (config.index >= genesis->replicas.size())
    return error = "replica index " + std::to_string(config.index) + " is not in the genesis",
           nullptr;
  const ReplicaInfo& me = genesis->replicas[config.index];
  core::Keystore keys(config.home);
  auto id = keys.load(config.identity, std::nullopt, error);
  if (!id) return nullptr;
  if (id->current.publicKey() != me.key || id->state().did != me.did)
    return error = "identity '" + config.identity + "' is not replica " +
                   std::to_string(config.index) + " of the genesis (another key or DID)",
           nullptr;
  auto address = core::UdpNode::parseAddress(config.listen);
  if (!address) return error = "listen: expected HOST:PORT, got '" + config.listen + "'", nullptr;

  std::optional<Misbehaviour> misbehaviour;
  if (!config.misbehave.empty()) {
    misbehaviour = Misbehaviour::parse(config.misbehave, &error);
    if (!misbehaviour) return nullptr;
  }

  std::unique_ptr<ReplicaDaemon> d(new ReplicaDaemon());
  if (misbehaviour) {
    d->misbehaving_.emplace(*misbehaviour, std::uint64_t(Clock::now().time_since_epoch().count()));
    struct sigaction action{};
    action.sa_handler = onMisbehaveSignal;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, nullptr);
    std::fprintf(stderr,
                 "replica %u: told to misbehave (%s) from its first SIGUSR1: a test's or a "
                 "benchmark's byzantine replica, never one of a real pool\n",
                 unsigned(config.index), misbehaviour->toString().c_str());
  }
  d->genesis_ = *genesis;
  d->index_ = config.index;
  d->store_ = std::move(store);
  d->node_ = std::make_unique<core::UdpNode>(id->current, id->log);
  if (!d->node_->bind(address->host, address->port, error)) return nullptr;
  keys.loadKnown(d->node_->directory());
  for (ReplicaIndex i = 0; i < genesis->replicas.size(); ++i) {
    d->replicaByDid_[genesis->replicas[i].did] = i;
    d->replicaAddress_.push_back({genesis->replicas[i].host, genesis->replicas[i].port});
  }
  Time now = Clock::now();
  if (d->store_->empty())
    d->replica_ = std::make_unique<Replica>(*genesis, config.index, id->current, *d->store_,
                                            systemWallMs, now);
  else
    d->replica_ = std::make_unique<Replica>(*genesis, config.index, id->current, *d->store_,
                                            systemWallMs, d->store_->restore(), now);
  d->node_->onDelivery([raw = d.get()](const core::Delivery& x) { raw->onDelivery(x); });
  d->node_->onEvent([raw = d.get()](const core::TransportEvent& e) { raw->onTransportEvent(e); });
  return d;
}

ReplicaDaemon::~ReplicaDaemon() {
  if (store_ && !stop_) writeKept();
  if (node_) node_->close();
}

void ReplicaDaemon::onDelivery(const core::Delivery& d) {
  ++stats_.messagesIn;
  auto m = decodeMessage(d.message.data(), d.message.size(), genesis_.params.maxBlockTxs);
  if (!m) {
    ++stats_.malformed;
    return;
  }
  Time now = Clock::now();
  if (auto r = replicaByDid_.find(d.did); r != replicaByDid_.end()) {
    // A peer catching up is answered from the store, once this turn's commits are written
    // (loopOnce).
    if (std::holds_alternative<SyncRequest>(*m))
      syncRequests_.push_back({r->second, std::move(*m)});
    else
      replica_->onReplicaMessage(r->second, *m, now);
    return;
  }
  auto [it, fresh] = clientByDid_.try_emplace(d.did, nextClient_);
  if (fresh) {
    ++nextClient_;
    // Bounded: the oldest client is forgotten (a client still waiting asks again).
    if (clients_.size() >= kMaxClients) {
      clientByDid_.erase(clients_.begin()->second.did);
      clients_.erase(clients_.begin());
    }
  }
  clients_[it->second] = {d.did, d.from}; // answered where it last wrote from
  // Taken after the replicas' messages of this turn (see loopOnce).
  fromClients_.push_back({it->second, std::move(*m)});
}

/// Sessions with other replicas coming and going are worth a line in the log (a replica that
/// cannot reach another says so there); clients' are not.
void ReplicaDaemon::onTransportEvent(const core::TransportEvent& e) {
  using Kind = core::TransportEvent::Kind;
  auto r = replicaByDid_.find(e.did);
  if (r == replicaByDid_.end()) return;
  if (e.kind == Kind::SessionUp) {
    std::fprintf(stderr, "replica %u: session with replica %u up\n", unsigned(index_),
                 unsigned(r->second));
  } else if (e.kind == Kind::SessionDown) {
    std::fprintf(stderr, "replica %u: session with replica %u down: %s\n", unsigned(index_),
                 unsigned(r->second), e.reason.c_str());
  }
}

void ReplicaDaemon::flush() {
  std::vector<Effect> effects = replica_->takeEffects();
  if (!effects.empty()) apply(outbox_.take(std::move(effects), Clock::now()));
}

/// What depends on nothing durable leaves first, so that the peers work while we write; the
/// rest once the write is durable, and nothing more if it failed (the loop stops).
void ReplicaDaemon::apply(Outbox::Step step) {
  // After a failed write the commits it held are lost to the outbox: no answer may report them.
  if (!failure_.empty()) return;
  send(step.first);
  if (!step.write.empty() && !write(step.write)) return;
  send(step.after);
}

bool ReplicaDaemon::write(const std::vector<Effect>& effects) {
  std::string error;
  if (!store_->applyDurable(effects, &error)) {
    failure_ = "the store cannot write: " + error;
    stop_ = true;
    return false;
  }
  ++stats_.storeBatches;
  return true;
}

void ReplicaDaemon::writeKept() {
  if (outbox_.keeping()) apply(outbox_.writeKept());
}

/// The messages among `messages`, together: a client's many replies, a replica's vote and
/// certificate, share packets (and the ACKs they ask for).
void ReplicaDaemon::send(std::vector<Effect>& messages) {
  node_->cork();
  for (Effect& e : messages) {
    if (auto* s = std::get_if<SendTo>(&e)) {
      sendToReplicas(s->to, s->message);
    } else if (auto* b = std::get_if<Broadcast>(&e)) {
      sendToReplicas(std::nullopt, b->message);
    } else if (auto* r = std::get_if<ReplyTo>(&e)) {
      auto c = clients_.find(r->client);
      if (c == clients_.end()) continue;
      node_->send(c->second.address, c->second.did, encodeMessage(r->message));
      ++stats_.messagesOut;
    }
  }
  node_->uncork();
}

void ReplicaDaemon::sendToReplicas(std::optional<ReplicaIndex> to, const Message& message) {
  if (misbehaving_ && misbehaving_->hold(message, to, Clock::now())) return;
  sendBytes(to, encodeMessage(message));
}

void ReplicaDaemon::sendBytes(std::optional<ReplicaIndex> to, const Bytes& bytes) {
  for (ReplicaIndex i = 0; i < genesis_.replicas.size(); ++i) {
    if (to ? i != *to : i == index_) continue;
    node_->send(replicaAddress_[i], genesis_.replicas[i].did, bytes);
    ++stats_.messagesOut;
  }
}

void ReplicaDaemon::misbehave() {
  if (!misbehaving_) return;
  if (!misbehaving_->started() && gMisbehaveSignal) {
    misbehaving_->start();
    std::fprintf(stderr, "replica %u: MISBEHAVING from now, on purpose (SIGUSR1)\n",
                 unsigned(index_));
  }
  auto out = misbehaving_->due(Clock::now(), replica_->round(), index_, genesis_.replicas.size());
  if (out.empty()) return;
  node_->cork();
  for (const auto& m : out) sendBytes(m.to, encodeMessage(m.message));
  node_->uncork();
}

void ReplicaDaemon::loopOnce(std::chrono::milliseconds maxWait) {
  auto next = replica_->nextTimer();
  if (misbehaving_)
    if (auto due = misbehaving_->next(Clock::now()))
      next = std::min(next.value_or(Time::max()), *due);
  // Kept commits are written when the outbox says (soon when an answer waits for them).
  if (auto due = outbox_.due()) next = std::min(next.value_or(Time::max()), *due);
  Clock::duration wait = maxWait;
  if (next) {
    // To the timer itself, not to the next whole millisecond: the leader's flush timer is
    // 200 us. Never 0 for the same timer twice: onTimer leaves every timer it ran ahead of
    // `now` (Replica checks it), so a loop that waited 0 acts on the timer and moves on.
    wait = std::clamp<Clock::duration>(*next - Clock::now(), Clock::duration::zero(), maxWait);
  }
  // A message may arm a timer sooner than the one this wait was computed for (the leader's
  // flush timer, armed by a submission that makes no effect yet): stop waiting for it then,
  // or a partial block would wait out the whole wait (up to maxWait) instead of the flush time.
  Time waitEnd = next ? std::min(*next, Clock::now() + wait) : Clock::now() + wait;
  node_->runUntil(
      [&] {
        if (replica_->hasEffects() || !fromClients_.empty() || !syncRequests_.empty() || stop_ ||
            (interruption_ && interruption_->requested()))
          return true;
        auto t = replica_->nextTimer();
        return t && *t < waitEnd;
      },
      wait);
  Time now = Clock::now();
  if (auto due = replica_->nextTimer(); due && now >= *due) replica_->onTimer(now);
  // The replicas' messages of this turn were handled as they came; what they caused (a
  // proposal, a vote, a certificate's commits) leaves now, before the clients' messages of the
  // same turn are taken: each submission costs a signature check, and a batch of them must not
  // hold back the round every client is waiting on.
  flush();
  if (!syncRequests_.empty()) {
    // A peer catching up is answered from the store: every commit made so far first (the ones
    // this turn's certificates made included).
    writeKept();
    std::vector<std::pair<ReplicaIndex, Message>> batch = std::move(syncRequests_);
    syncRequests_.clear();
    for (auto& [peer, message] : batch) replica_->onReplicaMessage(peer, message, Clock::now());
    flush();
  }
  if (!fromClients_.empty()) {
    std::vector<std::pair<ClientId, Message>> batch = std::move(fromClients_);
    fromClients_.clear();
    for (auto& [client, message] : batch) replica_->onClientMessage(client, message, Clock::now());
    flush();
  }
  if (auto due = outbox_.due(); due && Clock::now() >= *due) writeKept();
  misbehave();
  if (const std::uint64_t transfers = replica_->metrics().snapshotsInstalled;
      transfers != transfersLogged_) {
    transfersLogged_ = transfers;
    std::fprintf(stderr,
                 "replica %u: state transfer: at height %llu from a stable checkpoint's snapshot "
                 "(the blocks below it since the old tip are not held)\n",
                 unsigned(index_), static_cast<unsigned long long>(replica_->committedHeight()));
  }
}

void ReplicaDaemon::run(bool stopOnSignal) {
  core::Interruption interruption(stopOnSignal);
  interruption_ = &interruption;
  while (!stop_ && !interruption.requested()) loopOnce(std::chrono::milliseconds(50));
  interruption_ = nullptr;
  flush();
  writeKept();
  node_->close();
  node_->runFor(std::chrono::milliseconds(100)); // the CLOSEs go out
}

void ReplicaDaemon::runFor(std::chrono::milliseconds span) {
  auto end = Clock::now() + span;
  while (!stop_ && Clock::now() < end)
    loopOnce(std::min(std::chrono::milliseconds(20),
                      std::chrono::ceil<std::chrono::milliseconds>(end - Clock::now())));
  writeKept(); // what the caller reads next is all written
}

} // namespace flo::pool
