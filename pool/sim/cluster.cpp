/// \file
/// A simulated pool (see cluster.h).
#include "pool/sim/cluster.h"

#include "core/check.h"
#include "pool/core/outbox.h"
#include "sim/clock.h"

#include <algorithm>
#include <utility>

namespace flo::pool {

namespace {

constexpr std::uint64_t kGenesisTimeMs = 1'767'225'600'000; // 2026-01-01, a fixed start

core::SigningKey keyFrom(std::uint64_t seed, std::string_view what, std::uint64_t index) {
  Bytes material;
  core::Value::Map m{{"seed", seed}, {"what", std::string(what)}, {"index", index}};
  material = core::encode(core::Value(std::move(m)));
  core::Digest d = core::hash(material);
  core::Seed s;
  std::copy(d.begin(), d.end(), s.data());
  return core::SigningKey::fromSeed(s);
}

core::Address replicaAddress(std::size_t i) {
  return {"replica", std::uint16_t(i + 1)};
}
core::Address twinAddress(std::size_t i) {
  return {"twin", std::uint16_t(i + 1)};
}
const core::Address kClient{"client", 1};

std::uint64_t wallOf(core::Time now, std::int64_t skewMs = 0) {
  std::int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now - sim::Clock::kEpoch).count();
  return std::uint64_t(std::int64_t(kGenesisTimeMs) + ms + skewMs);
}

} // namespace

// ---- the nodes --------------------------------------------------------------------------------

/// A replica on the simulated network: decodes what arrives, hands it to the core, and applies
/// the core's effects as the daemon does (the same Outbox): durable effects to the store in the
/// Outbox's order, the commits it keeps lost with the node when it crashes.
class Cluster::ReplicaNode final : public sim::Node {
public:
  ReplicaNode(Cluster& cluster, std::size_t node, std::unique_ptr<Replica> replica)
      : cluster_(cluster), node_(node), replica_(std::move(replica)) {}

  Replica& replica() { return *replica_; }

  void onPacket(const core::Address& from, const Bytes& bytes, core::Time now) override {
    auto m = decodeMessage(bytes.data(), bytes.size(), cluster_.genesis_.params.maxBlockTxs);
    if (!m) return; // garbage on the wire: dropped (the core never sees it)
    auto sender = cluster_.net_->find(from);
    if (sender && cluster_.indexOfNode_.count(*sender)) {
      // A peer catching up is answered from the store: it must hold every commit made.
      if (std::holds_alternative<SyncRequest>(*m)) apply(outbox_.writeKept());
      replica_->onReplicaMessage(cluster_.indexOfNode_.at(*sender), *m, now);
    } else {
      replica_->onClientMessage(sender ? ClientId(1 + *sender) : ClientId(0), *m, now);
    }
    drain();
  }
  void onTimer(core::Time now) override {
    if (auto due = replica_->nextTimer(); due && now >= *due) replica_->onTimer(now);
    drain();
    if (auto due = outbox_.due(); due && now >= *due) apply(outbox_.writeKept());
  }
  std::optional<core::Time> nextTimer() const override {
    auto a = replica_->nextTimer();
    auto b = outbox_.due();
    if (a && b) return std::min(*a, *b);
    return a ? a : b;
  }
  std::vector<core::Datagram> takeOutgoing() override {
    drain();
    return std::exchange(out_, {});
  }

  void route(const Routed& m) {
    ReplicaIndex me = cluster_.indexOfNode_.at(node_);
    Bytes bytes = encodeMessage(m.message);
    for (const auto& [n, index] : cluster_.indexOfNode_)
      if (m.to ? index == *m.to : index != me) out_.push_back({cluster_.net_->address(n), bytes});
  }

  void send(Routed m) {
    auto strategy = cluster_.strategies_.find(node_);
    if (strategy == cluster_.strategies_.end()) return route(m);
    for (const Routed& r : strategy->second(m)) route(r);
  }

  void drain() {
    std::vector<Effect> effects = replica_->takeEffects();
    if (!effects.empty()) apply(outbox_.take(std::move(effects), cluster_.net_->now()));
  }

  void apply(Outbox::Step step) {
    sendAll(step.first);
    std::string why;
    FLO_CHECK(cluster_.stores_[node_]->applyDurable(step.write, &why));
    sendAll(step.after);
  }

  void sendAll(std::vector<Effect>& messages) {
    for (Effect& e : messages) {
      if (auto* s = std::get_if<SendTo>(&e)) {
        send({s->to, std::move(s->message)});
      } else if (auto* b = std::get_if<Broadcast>(&e)) {
        send({std::nullopt, std::move(b->message)});
      } else if (auto* r = std::get_if<ReplyTo>(&e)) {
        if (r->client == 0) continue;
        cluster_.noteAnswer(node_, r->message);
        out_.push_back(
            {cluster_.net_->address(std::size_t(r->client - 1)), encodeMessage(r->message)});
      }
    }
  }

private:
  Cluster& cluster_;
  std::size_t node_;
  std::unique_ptr<Replica> replica_;
  Outbox outbox_;
  std::vector<core::Datagram> out_;
};

/// The clients: sends what the test queues, and reports every reply.
class Cluster::ClientNode final : public sim::Node {
public:
  explicit ClientNode(Cluster& cluster) : cluster_(cluster) {}
  void queue(core::Address to, Bytes bytes) { out_.push_back({std::move(to), std::move(bytes)}); }
  void onPacket(const core::Address& from, const Bytes& bytes, core::Time) override {
    auto m = decodeMessage(bytes.data(), bytes.size(), 0);
    auto sender = cluster_.net_->find(from);
    if (m && sender) cluster_.onReply(*sender, *m);
  }
  void onTimer(core::Time) override {}
  std::optional<core::Time> nextTimer() const override { return std::nullopt; }
  std::vector<core::Datagram> takeOutgoing() override { return std::exchange(out_, {}); }

private:
  Cluster& cluster_;
  std::vector<core::Datagram> out_;
};

// ---- the cluster ------------------------------------------------------------------------------

Cluster::Cluster(ClusterOptions options) : options_(std::move(options)) {
  genesis_.name = "sim";
  genesis_.timeMs = kGenesisTimeMs;
  genesis_.params = options_.params;
  for (std::size_t i = 0; i < options_.replicas; ++i) {
    replicaKeys_.push_back(keyFrom(options_.seed, "replica", i));
    genesis_.replicas.push_back({core::didKey(replicaKeys_.back().publicKey()),
                                 replicaKeys_.back().publicKey(), "replica", std::uint16_t(i + 1)});
  }
  for (std::size_t i = 0; i < options_.accounts; ++i) {
    accounts_.push_back(keyFrom(options_.seed, "account", i));
    genesis_.accounts.push_back(
        {"account" + std::to_string(i), accounts_.back().publicKey(), options_.balance});
  }
  nonces_.assign(options_.accounts, 0);
  std::string why;
  FLO_CHECK(genesis_.validate(&why));

  net_ = std::make_unique<sim::Network>(options_.seed);
  net_->setDefaultLink(options_.link);
  auto addReplica = [&](core::Address address, ReplicaIndex index) {
    std::size_t node = net_->size();
    indexOfNode_[node] = index;
    replicaNodes_.push_back(node);
    stores_.push_back(std::make_unique<MemoryStore>(genesis_));
    net_->add(address,
              [this, node](const sim::NodeContext& ctx) { return makeReplica(node, ctx); });
  };
  for (std::size_t i = 0; i < options_.replicas; ++i)
    addReplica(replicaAddress(i), ReplicaIndex(i));
  for (ReplicaIndex t : options_.twins) addReplica(twinAddress(t), t);
  clientNode_ = net_->add(
      kClient, [this](const sim::NodeContext&) { return std::make_unique<ClientNode>(*this); });
}

Cluster::~Cluster() = default;

std::unique_ptr<sim::Node> Cluster::makeReplica(std::size_t node, const sim::NodeContext& ctx) {
  ReplicaIndex index = indexOfNode_.at(node);
  MemoryStore& store = *stores_[node];
  if (wipeOnStart_.erase(node)) {
    store.wipe();
    told_.erase(node); // a lost disk forgets what it said; it catches up by sync
  }
  std::unique_ptr<Replica> replica;
  std::int64_t skew = 0;
  if (auto k = options_.clockSkewMs.find(index); k != options_.clockSkewMs.end()) skew = k->second;
  Replica::WallClock wall = [skew](core::Time t) { return wallOf(t, skew); };
  if (store.empty()) {
    replica = std::make_unique<Replica>(genesis_, index, replicaKeys_[index], store, wall, ctx.now);
  } else {
    replica = std::make_unique<Replica>(genesis_, index, replicaKeys_[index], store, wall,
                                        store.restore(), ctx.now);
  }
  if (options_.snapshotPartBytes > 0) replica->setSnapshotPartBytes(options_.snapshotPartBytes);
  // What it told clients before a crash, it must come back with (outbox.h).
  if (auto t = told_.find(node); t != told_.end() && replica->committedHeight() < t->second)
    forgotten_.emplace_back(node, "node " + std::to_string(node) + " restarted at height " +
                                      std::to_string(replica->committedHeight()) +
                                      " after telling a client of height " +
                                      std::to_string(t->second));
  return std::make_unique<ReplicaNode>(*this, node, std::move(replica));
}

void Cluster::noteAnswer(std::size_t node, const Message& m) {
  std::uint64_t height = 0;
  if (const auto* s = std::get_if<TxStatus>(&m); s && s->state == TxStatus::State::Committed)
    height = s->height;
  else if (const auto* c = std::get_if<CommitAnswer>(&m))
    height = c->height;
  else if (const auto* a = std::get_if<QueryAnswer>(&m))
    height = a->height;
  auto& told = told_[node];
  told = std::max(told, height);
}

Replica& Cluster::replica(std::size_t node) {
  return net_->nodeAs<ReplicaNode>(node).replica();
}

void Cluster::restart(std::size_t node, bool wipe) {
  if (wipe) wipeOnStart_.insert(node);
  net_->restart(node);
}

Digest Cluster::submitTransfer(std::size_t account, std::uint64_t amount,
                               const std::vector<std::size_t>& toNodes) {
  FLO_CHECK(account < accounts_.size());
  Tx tx = makeTx(accounts_[account], genesis_.chainId(), nonces_[account]++,
                 Transfer{accounts_[(account + 1) % accounts_.size()].publicKey(), amount});
  Bytes encoded = tx.encode();
  Digest id = core::hash(encoded);
  Submission s;
  s.id = id;
  s.encoded = encoded;
  s.from = tx.from;
  s.nonce = tx.nonce;
  s.sentAt = net_->now();
  submissionOf_[id] = submissions_.size();
  submissions_.push_back(std::move(s));
  submitRaw(encoded, toNodes);
  return id;
}

void Cluster::submitRaw(const Bytes& tx, const std::vector<std::size_t>& toNodes) {
  auto& client = net_->nodeAs<ClientNode>(clientNode_);
  Bytes bytes = encodeMessage(Submit{tx});
  const std::vector<std::size_t>& targets = toNodes.empty() ? replicaNodes_ : toNodes;
  for (std::size_t n : targets) client.queue(net_->address(n), bytes);
  net_->flush();
}

void Cluster::resubmitUnacknowledged() {
  for (const Submission& s : submissions_) {
    if (s.ackedAt) continue;
    std::vector<std::size_t> to;
    for (std::size_t n : replicaNodes_) {
      auto r = s.replies.find(n);
      if (r == s.replies.end() || r->second.state != TxStatus::State::Committed) to.push_back(n);
    }
    if (!to.empty()) submitRaw(s.encoded, to);
  }
}

void Cluster::onReply(std::size_t fromNode, const Message& m) {
  for (const TxStatus& status : statusesIn(m)) onStatus(fromNode, status);
}

void Cluster::onStatus(std::size_t fromNode, const TxStatus& status) {
  auto it = submissionOf_.find(status.tx);
  if (it == submissionOf_.end()) return;
  Submission& s = submissions_[it->second];
  auto& kept = s.replies[fromNode];
  // A commit stays what the replica said (a replayed submission is refused after it).
  if (kept.state != TxStatus::State::Committed || kept.height == 0) kept = status;
  if (s.ackedAt || status.state != TxStatus::State::Committed) return;
  // f+1 matching commits from distinct replicas (twins speak as one).
  std::map<std::tuple<std::uint64_t, bool, Digest>, std::set<ReplicaIndex>> agree;
  for (const auto& [node, st] : s.replies)
    if (st.state == TxStatus::State::Committed)
      agree[{st.height, st.applied, st.stateRoot}].insert(indexOfNode_.at(node));
  for (const auto& [key, who] : agree) {
    if (who.size() >= genesis_.faults() + 1) {
      s.ackedAt = net_->now();
      s.ackedHeight = std::get<0>(key);
    }
  }
}

std::size_t Cluster::acknowledged() const {
  return std::size_t(std::count_if(submissions_.begin(), submissions_.end(),
                                   [](const Submission& s) { return s.ackedAt.has_value(); }));
}

bool Cluster::runUntilAcknowledged(std::chrono::milliseconds limit) {
  return runUntil([&] { return acknowledged() == submissions_.size(); }, limit);
}

bool Cluster::runUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  return net_->runUntil(done, limit);
}

void Cluster::runFor(std::chrono::milliseconds span) {
  net_->runFor(span);
}

void Cluster::split(const std::vector<std::vector<std::size_t>>& groups) {
  heal();
  std::map<std::size_t, std::size_t> groupOf;
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (std::size_t n : groups[g]) groupOf[n] = g;
  for (std::size_t a : replicaNodes_)
    for (std::size_t b : replicaNodes_) {
      auto ga = groupOf.find(a), gb = groupOf.find(b);
      std::size_t x = ga == groupOf.end() ? groups.size() : ga->second;
      std::size_t y = gb == groupOf.end() ? groups.size() : gb->second;
      if (a != b && x != y) {
        net_->block(a, b);
        blocked_.insert({a, b});
      }
    }
}

void Cluster::heal() {
  for (const auto& [a, b] : blocked_) net_->unblock(a, b);
  blocked_.clear();
}

std::string Cluster::describe() {
  std::string out;
  for (std::size_t n = 0; n < replicaNodes_.size(); ++n) {
    out += "node " + std::to_string(n) + ": ";
    if (!net_->isUp(n)) {
      out += "down, stored height " + std::to_string(stores_[n]->chain().size()) + "\n";
      continue;
    }
    const Replica& r = replica(n);
    const ReplicaMetrics& m = r.metrics();
    out += "round " + std::to_string(r.round()) + " view " + std::to_string(r.view()) + " height " +
           std::to_string(r.committedHeight()) + " hqc " + std::to_string(r.safety().highQc.round) +
           " voted " + std::to_string(r.safety().lastVotedRound) + " | proposals " +
           std::to_string(m.proposals) + " votes " + std::to_string(m.votes) + " qcs " +
           std::to_string(m.qcsFormed) + " timeouts " + std::to_string(m.timeoutsSent) + " tcs " +
           std::to_string(m.tcsFormed) + " slow " + std::to_string(m.slowLeaderTimeouts) +
           " invalid " + std::to_string(m.invalidMessages) + " muted " +
           std::to_string(m.mutedMessages) + " stale " + std::to_string(m.staleMessages) +
           " syncs " + std::to_string(m.syncRequests) + " mempool " +
           std::to_string(r.mempool().size()) + "\n    " + r.explain(net_->now()) + "\n";
  }
  return out;
}

std::uint64_t Cluster::commonHeight(const std::vector<std::size_t>& nodes) const {
  std::uint64_t h = UINT64_MAX;
  for (std::size_t n = 0; n < options_.replicas; ++n) {
    if (!nodes.empty() && std::find(nodes.begin(), nodes.end(), n) == nodes.end()) continue;
    h = std::min<std::uint64_t>(h, stores_[n]->chain().size());
  }
  return h == UINT64_MAX ? 0 : h;
}

} // namespace flo::pool
