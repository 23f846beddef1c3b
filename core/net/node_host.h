/// \file
/// A node hosted for one identity of this machine: what `fog net`, and later a replica, relay or
/// fogger daemon, does to come up on the network and to go away. Opening unlocks the identity
/// from the keystore (the caller gets the passphrase: asking for it is user interaction), makes
/// a UdpNode that speaks as the identity's did:difuon (and answers to its did:key), binds it, and
/// gives it the key event logs this machine holds, so a peer that rotated is known by its new
/// key and its rotated-out key refused. Closing says CLOSE to every peer and keeps the logs the
/// peers proved ($FOG_HOME/known) for every later process.
#pragma once

#include "core/net/udp_node.h"
#include "core/store/keystore.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::core {

struct NodeOptions {
  /// HOST:PORT to bind, numeric host (port 0 picks a free one).
  std::string address = "127.0.0.1:0";
  TransportConfig config{};
  /// The loss shim on outgoing datagrams (UdpNode::injectLoss), for tests: off at 0.
  double loss = 0;
  double duplicate = 0;
  std::uint64_t seed = 1;
};

class NodeHost {
public:
  /// Brings up a node speaking as `id`, bound at `options.address`, holding the logs `store`
  /// knows (its own identities' and the peers' it kept). Log files that do not verify are
  /// skipped and named in warnings(). Returns nullptr and sets `error` when the address is
  /// malformed or cannot be bound, or the identity's log does not show its current key.
  static std::unique_ptr<NodeHost> open(Keystore store, const Identity& id,
                                        const NodeOptions& options, std::string& error);
  /// The same for the identity `name` of `store`, unlocked with `passphrase` (nullopt for one
  /// stored unencrypted). Returns nullptr and sets `error` for an unknown identity or a wrong
  /// passphrase too.
  static std::unique_ptr<NodeHost> open(Keystore store, const std::string& name,
                                        const std::optional<std::string>& passphrase,
                                        const NodeOptions& options, std::string& error);

  /// Closes (see close()) if that was not done; an error saving the logs is lost, so a caller
  /// that wants to report it calls close() itself.
  ~NodeHost();
  NodeHost(const NodeHost&) = delete;
  NodeHost& operator=(const NodeHost&) = delete;

  UdpNode& node() { return *node_; }
  /// The identity's name in the keystore.
  const std::string& name() const { return name_; }
  /// The bound address (the port the system picked for port 0).
  Address address() const { return {host_, node_->localPort()}; }
  /// Key event log files skipped when the node came up, one line each (file: reason).
  const std::vector<std::string>& warnings() const { return warnings_; }

  /// Ends the node's sessions (every peer is told CLOSE, queued messages fail) and writes the
  /// logs its peers proved that are newer than the ones held. Only the first call does
  /// anything. Returns false and sets `error` when the logs could not be written; the node is
  /// closed all the same.
  bool close(std::string& error);
  bool closed() const { return closed_; }

private:
  struct Opened { // only open() makes a NodeHost
    explicit Opened() = default;
  };

public:
  NodeHost(Opened, Keystore store, std::string name, std::string host,
           std::unique_ptr<UdpNode> node)
      : store_(std::move(store)), name_(std::move(name)), host_(std::move(host)),
        node_(std::move(node)) {}

private:
  Keystore store_;
  std::string name_;
  std::string host_;
  std::unique_ptr<UdpNode> node_;
  std::vector<std::string> warnings_;
  bool closed_ = false;
};

} // namespace flo::core
