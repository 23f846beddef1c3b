/// \file
/// The transport's Endpoint as a simulated node: a thin adapter that forwards datagrams and
/// timer ticks, and hands the deliveries and events the endpoint leaves to the test (through
/// sinks, which may outlive a restart) or keeps them here.
#pragma once

#include "core/transport.h"
#include "sim/network.h"

#include <functional>
#include <memory>
#include <vector>

namespace flo::sim {

class EndpointNode final : public Node {
public:
  using DeliverySink = std::function<void(core::Delivery)>;
  using EventSink = std::function<void(core::TransportEvent)>;

  /// Deliveries and events go to the sinks given, or are kept in delivered() and events().
  explicit EndpointNode(std::unique_ptr<core::Endpoint> endpoint, DeliverySink onDelivery = {},
                        EventSink onEvent = {});

  core::Endpoint& endpoint() { return *endpoint_; }
  const std::vector<core::Delivery>& delivered() const { return delivered_; }
  const std::vector<core::TransportEvent>& events() const { return events_; }

  void onPacket(const core::Address& from, const core::Bytes& bytes, core::Time now) override;
  void onTimer(core::Time now) override;
  std::optional<core::Time> nextTimer() const override;
  /// Also passes on what the endpoint delivered and reported since the last call.
  std::vector<core::Datagram> takeOutgoing() override;

private:
  std::unique_ptr<core::Endpoint> endpoint_;
  DeliverySink onDelivery_;
  EventSink onEvent_;
  std::vector<core::Delivery> delivered_;
  std::vector<core::TransportEvent> events_;
};

} // namespace flo::sim
