/// \file
/// The serve loop of a node that answers others: `fog net listen` today, a replica, relay or
/// fogger daemon later. It runs a UdpNode until a stop condition holds (a number of messages
/// delivered and the replies to them settled, a deadline, SIGINT, SIGTERM or SIGHUP, or a request
/// from another thread), hands every delivery and event to the caller's callbacks, and then lingers
/// a moment, as TCP's TIME-WAIT does, so the last acknowledgements a sender is waiting for can
/// still be sent again. Single-threaded like the node: the callbacks run inside run().
#pragma once

#include "core/net/udp_node.h"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <set>

namespace flo::core {

struct ServeOptions {
  /// Stop once this many messages were delivered and every reply sent so far was acknowledged
  /// or failed; 0: no count.
  std::size_t count = 0;
  /// Stop after this long; zero: no deadline.
  std::chrono::milliseconds duration{0};
  /// SIGINT, SIGTERM and SIGHUP stop the loop (core/os/interruption.h; the previous handlers
  /// come back when run() returns).
  /// Every loop running in the process sees the signal.
  bool stopOnSignal = true;
  /// After a stop that was not a signal, keep the node answering this long.
  std::chrono::milliseconds linger{1500};
  /// How often the stop conditions are checked while nothing happens.
  std::chrono::milliseconds slice{200};
};

enum class StopReason : std::uint8_t { Count, Deadline, Signal, Requested };

struct ServeResult {
  StopReason reason = StopReason::Requested;
  std::size_t delivered = 0;
  std::chrono::duration<double> elapsed{}; ///< until the stop, without the linger
};

class ServeLoop {
public:
  /// Serves `node`, which must outlive the loop. run() takes over the node's delivery and event
  /// callbacks while it runs and clears them when it returns.
  explicit ServeLoop(UdpNode& node) : node_(node) {}

  /// Each message delivered, in order.
  void onDelivery(std::function<void(const Delivery&)> f) { onDelivery_ = std::move(f); }
  /// Every transport event (after the loop's own bookkeeping of replies).
  void onEvent(std::function<void(const TransportEvent&)> f) { onEvent_ = std::move(f); }
  /// A reply (see reply()) was acknowledged or failed.
  void onReplySettled(std::function<void(const TransportEvent&)> f) {
    onReplySettled_ = std::move(f);
  }

  /// Sends `message` to a peer as UdpNode::send does, and counts it as a reply: a count stop
  /// waits until it is acknowledged or failed.
  MessageId reply(const Address& to, std::string_view did, Bytes message);
  /// Asks run() to stop at its next check (within one slice); a request made while no run()
  /// is under way stops the next one at once. Safe from any thread and from a callback.
  void requestStop() { stopRequested_ = true; }

  /// Runs the node until a stop condition of `options` holds, then lingers. Never throws
  /// (unless a callback does).
  ServeResult run(const ServeOptions& options);

  std::size_t delivered() const { return delivered_; }
  /// Replies not yet acknowledged or failed.
  std::size_t pendingReplies() const { return pending_.size(); }

private:
  UdpNode& node_;
  std::function<void(const Delivery&)> onDelivery_;
  std::function<void(const TransportEvent&)> onEvent_;
  std::function<void(const TransportEvent&)> onReplySettled_;
  std::set<MessageId> pending_;
  std::size_t delivered_ = 0;
  std::atomic<bool> stopRequested_{false};
};

} // namespace flo::core
