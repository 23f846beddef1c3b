/// \file
/// Bringing a node up for an identity of the keystore, and down again (see node_host.h).
#include "core/net/node_host.h"

#include <stdexcept>

namespace flo::core {

std::unique_ptr<NodeHost> NodeHost::open(Keystore store, const Identity& id,
                                         const NodeOptions& options, std::string& error) {
  auto address = UdpNode::parseAddress(options.address);
  if (!address) {
    error = "'" + options.address + "' is not HOST:PORT with a numeric host";
    return nullptr;
  }
  // Speaks as the identity's did:difuon; answers to its did:key as well.
  std::unique_ptr<UdpNode> node;
  try {
    node = std::make_unique<UdpNode>(id.current, id.log, options.config);
  } catch (const std::invalid_argument& e) { // a log that does not show the current key
    error = "identity '" + id.name + "': " + e.what();
    return nullptr;
  }
  if (!node->bind(address->host, address->port, error)) return nullptr;
  if (options.loss > 0 || options.duplicate > 0)
    node->injectLoss(options.loss, options.duplicate, options.seed);
  auto host = std::make_unique<NodeHost>(Opened{}, std::move(store), id.name, address->host,
                                         std::move(node));
  host->store_.loadKnown(host->node_->directory(), &host->warnings_);
  return host;
}

std::unique_ptr<NodeHost> NodeHost::open(Keystore store, const std::string& name,
                                         const std::optional<std::string>& passphrase,
                                         const NodeOptions& options, std::string& error) {
  auto id = store.load(name, passphrase, error);
  if (!id) return nullptr;
  return open(std::move(store), *id, options, error);
}

NodeHost::~NodeHost() {
  std::string ignored;
  close(ignored);
}

bool NodeHost::close(std::string& error) {
  if (closed_) return true;
  closed_ = true;
  node_->close();
  return store_.saveKnown(node_->directory(), error);
}

} // namespace flo::core
