/// \file
/// The schedule's typed steps, each a call on the network.
#include "sim/schedule.h"

namespace flo::sim {

Schedule& Schedule::at(Duration after, std::string label, Action action) {
  steps_.push_back(Step{after, std::move(label), std::move(action)});
  return *this;
}

Schedule& Schedule::partition(Duration after, std::vector<std::vector<NodeId>> groups) {
  return at(after, "", [groups = std::move(groups)](Network& net) { net.partition(groups); });
}

Schedule& Schedule::heal(Duration after) {
  return at(after, "", [](Network& net) { net.heal(); });
}

Schedule& Schedule::block(Duration after, NodeId from, NodeId to) {
  return at(after, "", [from, to](Network& net) { net.block(from, to); });
}

Schedule& Schedule::unblock(Duration after, NodeId from, NodeId to) {
  return at(after, "", [from, to](Network& net) { net.unblock(from, to); });
}

Schedule& Schedule::link(Duration after, NodeId from, NodeId to, LinkConfig config) {
  return at(after, "", [from, to, config](Network& net) { net.setLink(from, to, config); });
}

Schedule& Schedule::defaultLink(Duration after, LinkConfig config) {
  return at(after, "", [config](Network& net) { net.setDefaultLink(config); });
}

Schedule& Schedule::crash(Duration after, NodeId node) {
  return at(after, "", [node](Network& net) { net.crash(node); });
}

Schedule& Schedule::restart(Duration after, NodeId node) {
  return at(after, "", [node](Network& net) { net.restart(node); });
}

} // namespace flo::sim
