/// \file
/// A replica as an OS process: the consensus core (pool/core) on the encrypted transport
/// (core/net's UdpNode), with durable storage (a ReplicaStore: SQLite in production). One
/// thread, one loop: deliveries and timer ticks go into the core; after each batch of events the
/// core's durable effects are written together (one transaction, one fdatasync) and only then
/// are its messages sent, so nothing is voted or acknowledged that a crash could take back.
///
/// Peers are told apart by the DID the transport authenticated: a replica of the genesis (its
/// index), or a client (any other DID, answered where it wrote from).
#pragma once

#include "core/net/udp_node.h"
#include "core/os/interruption.h"
#include "pool/core/outbox.h"
#include "pool/core/replica.h"
#include "pool/net/misbehaviour.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace flo::pool {

/// What `fog pool run --config FILE` reads (JSON): everything one replica needs.
struct ReplicaConfig {
  std::string genesis; ///< path of the genesis JSON
  ReplicaIndex index = 0;
  std::string home;     ///< the keystore ($FOG_HOME) holding the replica's identity
  std::string identity; ///< its name there (stored unencrypted: a daemon)
  std::string data;     ///< the SQLite file
  std::string listen;   ///< HOST:PORT (the genesis's address for this replica)
  /// Faults to commit on purpose (misbehaviour.h), for benchmarks of a byzantine replica on
  /// real processes; empty (and absent from the file) for every replica of a real pool.
  std::string misbehave;

  std::string toJson() const;
  /// Reads a config file; relative paths are taken from the file's folder. nullopt, with why,
  /// for a missing file, malformed JSON or a missing field.
  static std::optional<ReplicaConfig> load(const std::string& path, std::string* error);
};

struct DaemonStats {
  std::uint64_t messagesIn = 0, messagesOut = 0, malformed = 0, unknownSenders = 0;
  std::uint64_t storeBatches = 0;
};

class ReplicaDaemon {
public:
  /// Everything set up: the genesis checked, the identity unlocked and matching the genesis's key
  /// for `index`, the store opened (or restored), the socket bound. nullptr with why otherwise.
  static std::unique_ptr<ReplicaDaemon>
  open(const ReplicaConfig& config, std::unique_ptr<ReplicaStore> store, std::string& error);
  ~ReplicaDaemon();

  /// Runs until stop() or (with `stopOnSignal`) SIGINT, SIGTERM or SIGHUP; then writes what it
  /// kept and says CLOSE to its peers.
  void run(bool stopOnSignal = true);
  /// Runs the loop for about `span` (tests).
  void runFor(std::chrono::milliseconds span);
  void stop() { stop_ = true; }
  /// Why the loop stopped by itself (a store that could not write), or empty.
  const std::string& failure() const { return failure_; }

  const Replica& replica() const { return *replica_; }
  const DaemonStats& stats() const { return stats_; }
  core::UdpNode& node() { return *node_; }
  const Genesis& genesis() const { return genesis_; }

private:
  ReplicaDaemon() = default;
  void loopOnce(std::chrono::milliseconds maxWait);
  void onDelivery(const core::Delivery& d);
  void onTransportEvent(const core::TransportEvent& e);
  void flush();
  /// Sends the first messages, writes, and sends the rest (Outbox::Step).
  void apply(Outbox::Step step);
  void send(std::vector<Effect>& messages);
  /// A message to replica `to`, or to every other one: through the misbehaviour, if any.
  void sendToReplicas(std::optional<ReplicaIndex> to, const Message& message);
  void sendBytes(std::optional<ReplicaIndex> to, const Bytes& bytes);
  /// What the misbehaviour has due now (held proposals, forgeries).
  void misbehave();
  /// Applies durable effects in one transaction; false (and the loop stops) when it cannot.
  bool write(const std::vector<Effect>& effects);
  void writeKept();

  Genesis genesis_;
  ReplicaIndex index_ = 0;
  std::unique_ptr<ReplicaStore> store_;
  std::unique_ptr<core::UdpNode> node_;
  std::unique_ptr<Replica> replica_;
  std::map<std::string, ReplicaIndex, std::less<>> replicaByDid_;
  std::vector<core::Address> replicaAddress_;
  struct Client {
    std::string did;
    core::Address address;
  };
  std::map<std::string, ClientId, std::less<>> clientByDid_;
  std::map<ClientId, Client> clients_;
  ClientId nextClient_ = 1;
  /// The order of writes and messages: commits kept for the next vote's write, answers to
  /// clients held until what they report is durable (outbox.h).
  Outbox outbox_;
  /// Peers' SyncRequests delivered in this loop turn, answered once its commits are written.
  std::vector<std::pair<ReplicaIndex, Message>> syncRequests_;
  /// Clients' messages delivered in this loop turn, taken after the replicas' (loopOnce).
  std::vector<std::pair<ClientId, Message>> fromClients_;
  std::atomic<bool> stop_{false};
  const core::Interruption* interruption_ = nullptr; ///< run()'s, while it runs
  std::string failure_;
  DaemonStats stats_;
  std::uint64_t transfersLogged_ = 0;      ///< state transfers written to the log
  std::optional<Misbehaving> misbehaving_; ///< only when the config asks for it
};

/// Unix time in milliseconds (the real clock, for block times).
std::uint64_t systemWallMs(Time);

} // namespace flo::pool
