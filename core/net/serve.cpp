/// \file
/// The serve loop (see serve.h). Signals only set a flag; the loop looks at it after every event
/// and at least once a slice, so a quiet node still stops within one slice.
#include "core/net/serve.h"

#include "core/os/interruption.h"

#include <optional>

namespace flo::core {

MessageId ServeLoop::reply(const Address& to, std::string_view did, Bytes message) {
  MessageId id = node_.send(to, did, std::move(message));
  pending_.insert(id);
  return id;
}

ServeResult ServeLoop::run(const ServeOptions& options) {
  node_.onDelivery([this](const Delivery& d) {
    ++delivered_;
    if (onDelivery_) onDelivery_(d);
  });
  node_.onEvent([this](const TransportEvent& e) {
    bool settled =
        e.kind == TransportEvent::Kind::Acknowledged || e.kind == TransportEvent::Kind::Failed;
    if (settled && pending_.erase(e.id) && onReplySettled_) onReplySettled_(e);
    if (onEvent_) onEvent_(e);
  });

  Interruption signals(options.stopOnSignal);
  ServeResult result;
  auto start = Clock::now();
  std::optional<Time> deadline;
  if (options.duration.count() > 0) deadline = start + options.duration;
  auto stopped = [&]() -> std::optional<StopReason> {
    if (signals.requested()) return StopReason::Signal;
    if (stopRequested_) return StopReason::Requested;
    if (options.count > 0 && delivered_ >= options.count && pending_.empty())
      return StopReason::Count;
    if (deadline && Clock::now() >= *deadline) return StopReason::Deadline;
    return std::nullopt;
  };
  std::optional<StopReason> reason;
  auto check = [&] { return (reason = stopped()).has_value(); };
  while (!check()) node_.runUntil(check, options.slice);
  result.reason = *reason;
  if (result.reason == StopReason::Requested) stopRequested_ = false; // consumed
  result.elapsed = Clock::now() - start;
  // The last acknowledgements may have been lost and their senders are still waiting for them.
  if (result.reason != StopReason::Signal && options.linger.count() > 0)
    node_.runFor(options.linger);
  result.delivered = delivered_;
  node_.onDelivery({});
  node_.onEvent({});
  return result;
}

} // namespace flo::core
