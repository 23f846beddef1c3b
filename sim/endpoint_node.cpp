/// \file
/// The Endpoint adapter.
#include "sim/endpoint_node.h"

#include <cassert>

namespace flo::sim {

EndpointNode::EndpointNode(std::unique_ptr<core::Endpoint> endpoint, DeliverySink onDelivery,
                           EventSink onEvent)
    : endpoint_(std::move(endpoint)), onDelivery_(std::move(onDelivery)),
      onEvent_(std::move(onEvent)) {
  assert(endpoint_);
}

void EndpointNode::onPacket(const core::Address& from, const core::Bytes& bytes, core::Time now) {
  endpoint_->onPacket(from, bytes.data(), bytes.size(), now);
}

void EndpointNode::onTimer(core::Time now) {
  endpoint_->onTimer(now);
}

std::optional<core::Time> EndpointNode::nextTimer() const {
  return endpoint_->nextTimer();
}

std::vector<core::Datagram> EndpointNode::takeOutgoing() {
  for (auto& d : endpoint_->takeDelivered()) {
    if (onDelivery_)
      onDelivery_(std::move(d));
    else
      delivered_.push_back(std::move(d));
  }
  for (auto& e : endpoint_->takeEvents()) {
    if (onEvent_)
      onEvent_(std::move(e));
    else
      events_.push_back(std::move(e));
  }
  return endpoint_->takeOutgoing();
}

} // namespace flo::sim
