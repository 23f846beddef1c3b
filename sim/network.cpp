/// \file
/// The simulated network: nodes in slots indexed by NodeId, one event queue for datagrams in
/// flight and scheduled actions, link settings and partitions in ordered maps.
#include "sim/network.h"

#include "sim/schedule.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

namespace flo::sim {

namespace {

[[maybe_unused]] bool valid(const LinkConfig& c) {
  auto probability = [](double p) { return p >= 0 && p <= 1; };
  return probability(c.drop) && probability(c.duplicate) && probability(c.reorder) &&
         c.delay.count() >= 0 && c.jitter.count() >= 0 && c.reorderDelay.count() >= 0;
}

std::string describe(const LinkConfig& c) {
  char text[160];
  std::snprintf(text, sizeof text, "drop=%g duplicate=%g reorder=%g delay=%lldus+%lldus", c.drop,
                c.duplicate, c.reorder, static_cast<long long>(c.delay.count()),
                static_cast<long long>(c.jitter.count()));
  return text;
}

std::string arrow(NodeId from, NodeId to) {
  return std::to_string(from) + "->" + std::to_string(to);
}

} // namespace

Network::Network(std::uint64_t seed, std::size_t traceCapacity)
    : seed_(seed), trace_(traceCapacity) {}

Network::~Network() = default;

Rng Network::stream(std::uint64_t tag) const {
  return Rng(deriveSeed(seed_, {kTestStream, tag}));
}

std::unique_ptr<Node> Network::make(NodeId id) {
  Slot& slot = slots_[id];
  NodeContext context{id, slot.address, slot.incarnation,
                      randomSource(deriveSeed(seed_, {kNodeStream, id, slot.incarnation})), now()};
  std::unique_ptr<Node> node = slot.factory(context);
  assert(node && "a node factory returned null");
  return node;
}

NodeId Network::add(core::Address address, NodeFactory factory) {
  assert(!byAddress_.count(address) && "two nodes at one address");
  const NodeId id = slots_.size();
  byAddress_.emplace(address, id);
  slots_.push_back(Slot{std::move(address), std::move(factory), nullptr, 0, true});
  slots_[id].node = make(id);
  return id;
}

NodeId Network::add(NodeFactory factory) {
  assert(slots_.size() <= 0xffff);
  return add(core::Address{"sim", std::uint16_t(slots_.size())}, std::move(factory));
}

Node& Network::node(NodeId id) {
  assert(id < slots_.size());
  return *slots_[id].node;
}

const core::Address& Network::address(NodeId id) const {
  assert(id < slots_.size());
  return slots_[id].address;
}

std::optional<NodeId> Network::find(const core::Address& address) const {
  auto it = byAddress_.find(address);
  if (it == byAddress_.end()) return std::nullopt;
  return it->second;
}

bool Network::isUp(NodeId id) const {
  assert(id < slots_.size());
  return slots_[id].up;
}

std::uint32_t Network::incarnation(NodeId id) const {
  assert(id < slots_.size());
  return slots_[id].incarnation;
}

void Network::crash(NodeId id) {
  assert(id < slots_.size());
  Slot& slot = slots_[id];
  if (!slot.up) return;
  note("crash " + std::to_string(id));
  for (auto& d : slot.node->takeOutgoing()) drop(slot.address, d.to, d.bytes, DropCause::NodeDown);
  slot.up = false;
}

void Network::restart(NodeId id) {
  assert(id < slots_.size());
  crash(id);
  Slot& slot = slots_[id];
  ++slot.incarnation;
  note("restart " + std::to_string(id) + " as incarnation " + std::to_string(slot.incarnation));
  slot.node.reset(); // the old state goes before the new is made (it may hold shared things)
  slot.node = make(id);
  slots_[id].up = true;
  // What a node says as it starts leaves at once, as a process's first loop turn sends it.
  sendOutgoing(id);
}

void Network::setDefaultLink(LinkConfig config) {
  assert(valid(config));
  note("link default " + describe(config));
  defaultLink_ = config;
}

void Network::setLink(NodeId from, NodeId to, LinkConfig config) {
  assert(valid(config));
  note("link " + arrow(from, to) + " " + describe(config));
  links_[{from, to}] = config;
}

void Network::clearLink(NodeId from, NodeId to) {
  note("link " + arrow(from, to) + " default");
  links_.erase({from, to});
}

const LinkConfig& Network::link(NodeId from, NodeId to) const {
  auto it = links_.find({from, to});
  return it == links_.end() ? defaultLink_ : it->second;
}

void Network::partition(const std::vector<std::vector<NodeId>>& groups) {
  group_.clear();
  std::string text = "partition";
  for (std::size_t g = 0; g < groups.size(); ++g) {
    text += " {";
    for (NodeId id : groups[g]) {
      assert(id < slots_.size());
      [[maybe_unused]] bool fresh = group_.emplace(id, g).second;
      assert(fresh && "a node in two groups of a partition");
      text += (text.back() == '{' ? "" : " ") + std::to_string(id);
    }
    text += "}";
  }
  note(text);
}

void Network::block(NodeId from, NodeId to) {
  note("block " + arrow(from, to));
  blocked_.insert({from, to});
}

void Network::unblock(NodeId from, NodeId to) {
  note("unblock " + arrow(from, to));
  blocked_.erase({from, to});
}

void Network::heal() {
  note("heal");
  group_.clear();
  blocked_.clear();
}

bool Network::canReach(NodeId from, NodeId to) const {
  if (blocked_.count({from, to})) return false;
  auto groupOf = [&](NodeId id) {
    auto it = group_.find(id);
    return it == group_.end() ? std::size_t(-1) : it->second;
  };
  return groupOf(from) == groupOf(to);
}

void Network::inject(const core::Address& from, const core::Address& to, core::Bytes bytes,
                     Duration delay) {
  ++stats_.injected;
  std::optional<NodeId> target = find(to);
  if (!target) return drop(from, to, bytes, DropCause::NoRoute);
  events_.schedule(now() + delay, [this, from, id = *target, bytes = std::move(bytes)] {
    deliver(from, std::nullopt, id, bytes);
  });
}

void Network::at(core::Time when, std::string label, std::function<void()> action) {
  events_.schedule(std::max(when, now()),
                   [this, label = std::move(label), action = std::move(action)] {
                     if (!label.empty()) note(label);
                     action();
                   });
}

void Network::play(const Schedule& schedule) {
  const core::Time start = now();
  for (const auto& step : schedule.steps())
    at(start + step.after, step.label, [this, action = step.action] { action(*this); });
}

void Network::note(std::string text) {
  TraceEntry entry;
  entry.kind = TraceEntry::Kind::Fault;
  entry.at = now();
  entry.note = std::move(text);
  trace_.record(std::move(entry));
}

void Network::flush() {
  for (NodeId id = 0; id < slots_.size(); ++id) {
    if (!slots_[id].up) continue;
    sendOutgoing(id);
  }
}

void Network::sendOutgoing(NodeId id) {
  for (auto& d : slots_[id].node->takeOutgoing()) route(id, std::move(d));
}

Rng& Network::linkRng(NodeId from, NodeId to) {
  auto it = linkRngs_.find({from, to});
  if (it == linkRngs_.end())
    it = linkRngs_.emplace(Link{from, to}, Rng(deriveSeed(seed_, {kLinkStream, from, to}))).first;
  return it->second;
}

void Network::route(NodeId from, core::Datagram d) {
  ++stats_.sent;
  const core::Address source = slots_[from].address;
  if (tap_ && !tap_(source, d.to, d.bytes)) return drop(source, d.to, d.bytes, DropCause::Tap);
  std::optional<NodeId> to = find(d.to);
  if (!to) return drop(source, d.to, d.bytes, DropCause::NoRoute);
  if (!canReach(from, *to)) return drop(source, d.to, d.bytes, DropCause::Partition);
  const LinkConfig& link = this->link(from, *to);
  assert(valid(link));
  Rng& rng = linkRng(from, *to);
  if (rng.chance(link.drop)) return drop(source, d.to, d.bytes, DropCause::Loss);
  const int copies = rng.chance(link.duplicate) ? 2 : 1;
  if (copies == 2) ++stats_.duplicated;
  for (int c = 0; c < copies; ++c) {
    core::Time arrival =
        now() + link.delay + std::chrono::microseconds(rng.between(0, link.jitter.count()));
    core::Time& last = lastArrival_[{from, *to}];
    if (rng.chance(link.reorder)) {
      arrival += link.reorderDelay;
    } else {
      arrival = std::max(arrival, last);
      last = arrival;
    }
    events_.schedule(arrival, [this, source, from, id = *to,
                               bytes = c + 1 == copies ? std::move(d.bytes) : d.bytes] {
      deliver(source, from, id, bytes);
    });
  }
}

void Network::deliver(const core::Address& from, std::optional<NodeId> sender, NodeId to,
                      const core::Bytes& bytes) {
  Slot& slot = slots_[to];
  if (!slot.up) return drop(from, slot.address, bytes, DropCause::NodeDown);
  if (sender && !canReach(*sender, to))
    return drop(from, slot.address, bytes, DropCause::Partition);
  ++stats_.delivered;
  TraceEntry entry;
  entry.kind = TraceEntry::Kind::Delivered;
  entry.at = now();
  entry.from = from;
  entry.to = slot.address;
  entry.size = bytes.size();
  entry.hash = hashBytes(bytes.data(), bytes.size());
  trace_.record(std::move(entry));
  slot.node->onPacket(from, bytes, now());
}

void Network::drop(const core::Address& from, const core::Address& to, const core::Bytes& bytes,
                   DropCause cause) {
  ++stats_.dropped[std::size_t(cause)];
  TraceEntry entry;
  entry.kind = TraceEntry::Kind::Dropped;
  entry.at = now();
  entry.from = from;
  entry.to = to;
  entry.size = bytes.size();
  entry.hash = hashBytes(bytes.data(), bytes.size());
  entry.cause = cause;
  trace_.record(std::move(entry));
}

bool Network::step(core::Time limit) {
  std::optional<core::Time> next = events_.nextTime();
  for (const Slot& slot : slots_) {
    if (!slot.up) continue;
    std::optional<core::Time> t = slot.node->nextTimer();
    if (t && (!next || *t < *next)) next = t;
  }
  if (!next || *next > limit) return false;
  clock_.advanceTo(std::max(now(), *next));
  const core::Time instant = now();
  while (auto action = events_.popDue(instant)) (*action)();
  for (NodeId id = 0; id < slots_.size(); ++id) {
    if (!slots_[id].up) continue;
    std::optional<core::Time> t = slots_[id].node->nextTimer();
    if (t && *t <= instant) slots_[id].node->onTimer(instant);
  }
  flush();
  ++stats_.steps;
  return true;
}

bool Network::runUntil(const std::function<bool()>& done, Duration limit, std::size_t maxSteps) {
  const core::Time end = now() + limit;
  for (std::size_t steps = 0; !done(); ++steps)
    if (steps == maxSteps || !step(end)) return false;
  return true;
}

bool Network::runFor(Duration span, std::size_t maxSteps) {
  const core::Time end = now() + span;
  for (std::size_t steps = 0; step(end);)
    if (++steps == maxSteps) return false;
  clock_.advanceTo(end);
  return true;
}

} // namespace flo::sim
