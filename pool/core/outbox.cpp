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
  Step s;
  for (Effect& e : effects)
    if (isEarly(e)) s.first.push_back(std::move(e));
  if (std::any_of(effects.begin(), effects.end(), holdsBackMessages)) {
    // A vote's write: the kept commits go first (the core's order), the held answers leave
    // after it with this batch's messages.
    s.write = std::move(kept_);
    s.after = std::move(held_);
    kept_.clear();
    held_.clear();
    for (Effect& e : effects) {
      if (isDurable(e))
        s.write.push_back(std::move(e));
      else if (isMessage(e) && !isEarly(e))
        s.after.push_back(std::move(e));
    }
    return s;
  }
  for (Effect& e : effects) {
    if (isDurable(e)) {
      if (kept_.empty()) keptSince_ = now;
      kept_.push_back(std::move(e));
    } else if (std::holds_alternative<ReplyTo>(e) && !kept_.empty()) {
      if (held_.empty()) heldSince_ = now;
      held_.push_back(std::move(e)); // it may report a commit not durable yet
    } else if (isMessage(e) && !isEarly(e)) {
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
