/// \file
/// A scripted fault schedule: what happens to the network at which virtual time, written down
/// before the run (Twins and Jepsen style scenarios: partition per round, crash the leader,
/// heal, degrade a link). Network::play schedules the steps, times counted from that moment;
/// steps due at the same time run in the order they were added.
#pragma once

#include "sim/network.h"

#include <functional>
#include <string>
#include <vector>

namespace flo::sim {

class Schedule {
public:
  using Action = std::function<void(Network&)>;
  struct Step {
    Duration after;    ///< from the moment the schedule is played
    std::string label; ///< recorded in the trace when the step runs (the typed steps leave it
                       ///< empty: the network records what they do)
    Action action;
  };

  /// Any action, e.g. a byzantine switch or a message sent by a test.
  Schedule& at(Duration after, std::string label, Action action);
  Schedule& partition(Duration after, std::vector<std::vector<NodeId>> groups);
  Schedule& heal(Duration after);
  Schedule& block(Duration after, NodeId from, NodeId to);
  Schedule& unblock(Duration after, NodeId from, NodeId to);
  Schedule& link(Duration after, NodeId from, NodeId to, LinkConfig config);
  Schedule& defaultLink(Duration after, LinkConfig config);
  Schedule& crash(Duration after, NodeId node);
  Schedule& restart(Duration after, NodeId node);

  const std::vector<Step>& steps() const { return steps_; }

private:
  std::vector<Step> steps_;
};

} // namespace flo::sim
