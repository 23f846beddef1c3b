/// \file
/// The order of a replica's writes and messages (see outbox.h).
#include "pool/core/outbox.h"

#include "core/check.h"

#include <algorithm>

namespace flo::pool {

namespace {
bool isEarly(const Effect& e) {
  const auto* b = std::get_if<Broadcast>(&e);
  return b && b->leave == Leave::Early;
}
bool isMessage(const Effect& e) {
  return std::holds_alternative<SendTo>(e) || std::holds_alternative<Broadcast>(e) ||
         std::holds_alternative<ReplyTo>(e);
}
} // namespace

Outbox::Step Outbox::take(std::vector<Effect> effects, Time now) {
  // With a vote's write, the kept commits are written first (the core's order) and the held
  // answers leave after it, before this batch's messages.
  const bool writes = std::any_of(effects.begin(), effects.end(), holdsBackMessages);
  Step s = writes ? writeKept() : Step{};
  for (Effect& e : effects) {
    if (isEarly(e)) {
      s.first.push_back(std::move(e));
    } else if (isDurable(e) && writes) {
      s.write.push_back(std::move(e));
    } else if (isDurable(e)) {
      if (kept_.empty()) keptSince_ = now;
      kept_.push_back(std::move(e));
    } else if (std::holds_alternative<ReplyTo>(e) && !kept_.empty()) {
      if (held_.empty()) heldSince_ = now;
      held_.push_back(std::move(e)); // it may report a commit not durable yet
    } else if (isMessage(e)) {
      s.after.push_back(std::move(e));
    }
  }
  FLO_CHECK(held_.empty() || !kept_.empty());
  return s;
}

Outbox::Step Outbox::writeKept() {
  Step s;
  s.write = std::move(kept_);
  s.after = std::move(held_);
  kept_.clear();
  held_.clear();
  return s;
}

std::optional<Time> Outbox::due() const {
  if (kept_.empty()) return std::nullopt;
  Time t = keptSince_ + kKeepCommits;
  if (!held_.empty()) t = std::min(t, heldSince_ + kHoldAnswers);
  return t;
}

} // namespace flo::pool
