/// \file
/// A deterministic simulated network of N nodes on a virtual clock (POOL-TESTING.md §5.3 (b),
/// (e)). A node is any sans-I/O state machine that takes datagrams and timer ticks and leaves
/// datagrams to send (the transport's Endpoint through EndpointNode, the pool's replicas
/// later). Between them: per-link loss, delay, jitter, duplication and reordering; partitions
/// and one-way blocks; crashes and restarts; a tap that may read, alter or swallow any
/// datagram; a scripted fault schedule (schedule.h). Every delivery and drop goes into the
/// trace, whose digest identifies the run.
///
/// Determinism: a run is fixed by its seed and the scenario. Each node draws from its own
/// stream (seed, node, incarnation) and each directed link from its own (seed, from, to), so a
/// node added or a link used elsewhere changes no other stream. Events due at the same time
/// run in the order they were scheduled; nodes are visited in the order they were added; no
/// unordered container decides an order; no real clock, file, socket or OS randomness is used.
///
/// One instant (step) runs every event due (deliveries, scheduled actions), then the timers of
/// the nodes that are up and due, in node order, then collects what the nodes want to send
/// (flush). A datagram sent goes through the tap, the partition check and the link's loss,
/// duplication and delay, and arrives as a later event; at arrival the receiver must be up and
/// (for datagrams between nodes) still reachable.
#pragma once

#include "core/transport.h"
#include "sim/clock.h"
#include "sim/random.h"
#include "sim/trace.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace flo::sim {

class Schedule;

/// A node's index: 0, 1, ... in the order nodes were added.
using NodeId = std::size_t;

/// What the network needs of a node. The network calls these one at a time, from one thread.
class Node {
public:
  virtual ~Node() = default;
  virtual void onPacket(const core::Address& from, const core::Bytes& bytes, core::Time now) = 0;
  /// Runs whatever is due at `now` (called when nextTimer() <= now).
  virtual void onTimer(core::Time now) = 0;
  /// The earliest time onTimer has work; nullopt when idle.
  virtual std::optional<core::Time> nextTimer() const = 0;
  /// The datagrams to send since the last call.
  virtual std::vector<core::Datagram> takeOutgoing() = 0;
};

/// What a node is made from, each time it (re)starts.
struct NodeContext {
  NodeId id = 0;
  core::Address address;
  std::uint32_t incarnation = 0; ///< 0 when added, one more per restart
  core::RandomSource random;     ///< this incarnation's own stream
  core::Time now{};
};
/// Makes a node's state: when it is added and again at each restart (what survives a restart,
/// e.g. a key or a disk, is whatever the factory captured). Must not return null.
using NodeFactory = std::function<std::unique_ptr<Node>(const NodeContext&)>;

/// One directed link's behaviour. A link is FIFO: jitter alone never reorders, only `reorder`
/// does (by holding a datagram back `reorderDelay` past its normal arrival).
struct LinkConfig {
  double drop = 0;      ///< probability a datagram is lost
  double duplicate = 0; ///< probability it arrives twice (each copy with its own delay)
  double reorder = 0;   ///< probability it is held back and overtaken
  std::chrono::microseconds delay{2000};  ///< one-way delay, at least
  std::chrono::microseconds jitter{6000}; ///< plus a uniform [0, jitter]
  std::chrono::microseconds reorderDelay{30000};
};

inline constexpr std::size_t kDropCauses = 5;

struct NetworkStats {
  std::uint64_t sent = 0;       ///< datagrams the nodes sent (before tap, partition, loss)
  std::uint64_t injected = 0;   ///< datagrams put on the wire by inject()
  std::uint64_t delivered = 0;  ///< handed to a node (a duplicate counts twice)
  std::uint64_t duplicated = 0; ///< datagrams the links doubled
  std::array<std::uint64_t, kDropCauses> dropped{};
  std::uint64_t steps = 0; ///< instants processed
  std::uint64_t droppedFor(DropCause cause) const { return dropped[std::size_t(cause)]; }
};

/// The network and its clock. Node ids passed to any method must exist (asserted); nothing
/// here throws but a node factory. Not thread-safe: one test drives it.
class Network {
public:
  /// Sees each datagram a node sends, before anything else happens to it; may change its
  /// bytes; returns false to swallow it (a Tap drop).
  using Tap =
      std::function<bool(const core::Address& from, const core::Address& to, core::Bytes& bytes)>;
  static constexpr std::size_t kMaxSteps = 5'000'000;

  /// `traceCapacity`: how many of the latest trace entries to keep (the digest covers all).
  explicit Network(std::uint64_t seed, std::size_t traceCapacity = 1u << 16);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  std::uint64_t seed() const { return seed_; }
  core::Time now() const { return clock_.now(); }
  const Clock& clock() const { return clock_; }
  /// A stream of the seed for the test's own choices (message sizes, garbage), apart from the
  /// network's: the same seed and tag give the same numbers.
  Rng stream(std::uint64_t tag) const;

  // ---- nodes ----
  /// Adds a node at `address` (which no other node may have: asserted), calling `factory`
  /// at once for incarnation 0. The node is up.
  NodeId add(core::Address address, NodeFactory factory);
  /// The same at {"sim", id}.
  NodeId add(NodeFactory factory);
  std::size_t size() const { return slots_.size(); }
  /// The node's current incarnation (a crashed node stays readable until it restarts).
  Node& node(NodeId id);
  /// The node as the type its factory made; std::bad_cast if it is not a T.
  template <class T> T& nodeAs(NodeId id) { return dynamic_cast<T&>(node(id)); }
  const core::Address& address(NodeId id) const;
  std::optional<NodeId> find(const core::Address& address) const;
  bool isUp(NodeId id) const;
  std::uint32_t incarnation(NodeId id) const;

  /// The node goes down: datagrams reaching it vanish (NodeDown), its timers stop, what it had
  /// not yet handed over is dropped. Datagrams it sent earlier are still on the wire. No effect
  /// if it is down already.
  void crash(NodeId id);
  /// The node comes back as a new incarnation made by its factory, with a fresh random
  /// stream; a node that is up crashes first.
  void restart(NodeId id);

  // ---- links and partitions ----
  /// Applies to every link without a setting of its own; may be changed at any time.
  LinkConfig& defaultLink() { return defaultLink_; }
  /// The same, recorded in the trace.
  void setDefaultLink(LinkConfig config);
  void setLink(NodeId from, NodeId to, LinkConfig config);
  /// Back to the default link.
  void clearLink(NodeId from, NodeId to);
  const LinkConfig& link(NodeId from, NodeId to) const;

  /// Nodes can talk only within their group; nodes in no group form one more group together
  /// (so partition({{2}}) isolates node 2). Replaces the previous partition; one-way blocks
  /// stay. A node may appear in one group only (asserted).
  void partition(const std::vector<std::vector<NodeId>>& groups);
  /// Nothing from `from` reaches `to` (the other way is unaffected).
  void block(NodeId from, NodeId to);
  void unblock(NodeId from, NodeId to);
  /// Ends the partition and every block.
  void heal();
  bool canReach(NodeId from, NodeId to) const;

  // ---- the test's hands ----
  void setTap(Tap tap) { tap_ = std::move(tap); }
  /// Puts a datagram on the wire as if `from` (any address) had sent it, arriving after `delay`
  /// without tap, partition or link; it is dropped (NoRoute) if no node has `to`.
  void inject(const core::Address& from, const core::Address& to, core::Bytes bytes,
              Duration delay = Duration::zero());
  /// Runs `action` at `when` (now if past), in order with everything else due then; a
  /// non-empty `label` is recorded in the trace as a fault.
  void at(core::Time when, std::string label, std::function<void()> action);
  /// Schedules every step of `schedule`, its times counted from now.
  void play(const Schedule& schedule);
  /// Records a note in the trace (and its digest).
  void note(std::string text);

  // ---- running ----
  /// Collects the datagrams every node that is up wants to send, and sends them. Call it after
  /// driving a node directly (e.g. Endpoint::send).
  void flush();
  /// Runs the next instant if it comes no later than `limit`; false if there is none.
  bool step(core::Time limit);
  /// Steps until `done()` holds (true), or until nothing is due within `limit` of virtual time
  /// or `maxSteps` instants have run (false).
  bool runUntil(const std::function<bool()>& done, Duration limit,
                std::size_t maxSteps = kMaxSteps);
  /// Runs every instant in the next `span` and leaves the clock at its end; false only if
  /// `maxSteps` ran out first.
  bool runFor(Duration span, std::size_t maxSteps = kMaxSteps);

  const Trace& trace() const { return trace_; }
  std::uint64_t digest() const { return trace_.digest(); }
  const NetworkStats& stats() const { return stats_; }

private:
  struct Slot {
    core::Address address;
    NodeFactory factory;
    std::unique_ptr<Node> node;
    std::uint32_t incarnation = 0;
    bool up = true;
  };
  using Link = std::pair<NodeId, NodeId>;

  std::unique_ptr<Node> make(NodeId id);
  void route(NodeId from, core::Datagram datagram);
  /// Sends what node `id` wants to send now.
  void sendOutgoing(NodeId id);
  void deliver(const core::Address& from, std::optional<NodeId> sender, NodeId to,
               const core::Bytes& bytes);
  void drop(const core::Address& from, const core::Address& to, const core::Bytes& bytes,
            DropCause cause);
  Rng& linkRng(NodeId from, NodeId to);

  std::uint64_t seed_;
  Clock clock_;
  TimerQueue events_;
  Trace trace_;
  NetworkStats stats_;
  std::vector<Slot> slots_;
  std::map<core::Address, NodeId> byAddress_;
  LinkConfig defaultLink_;
  std::map<Link, LinkConfig> links_;
  std::map<Link, Rng> linkRngs_;
  std::map<Link, core::Time> lastArrival_; ///< keeps each link FIFO
  std::map<NodeId, std::size_t> group_;    ///< partition; absent: the rest
  std::set<Link> blocked_;
  Tap tap_;
};

} // namespace flo::sim
