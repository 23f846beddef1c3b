/// \file
/// The virtual clock and the timer queue.
#include "sim/clock.h"

#include <cassert>

namespace flo::sim {

void Clock::advanceTo(core::Time t) {
  assert(t >= now_ && "virtual time never runs backwards");
  now_ = t;
}

TimerQueue::TimerId TimerQueue::schedule(core::Time at, Action action) {
  const TimerId id = next_++;
  queue_.emplace(Key{at, id}, std::move(action));
  due_.emplace(id, at);
  return id;
}

bool TimerQueue::cancel(TimerId id) {
  auto it = due_.find(id);
  if (it == due_.end()) return false;
  queue_.erase(Key{it->second, id});
  due_.erase(it);
  return true;
}

std::optional<core::Time> TimerQueue::nextTime() const {
  if (queue_.empty()) return std::nullopt;
  return queue_.begin()->first.first;
}

std::optional<TimerQueue::Action> TimerQueue::popDue(core::Time now) {
  if (queue_.empty() || queue_.begin()->first.first > now) return std::nullopt;
  auto node = queue_.extract(queue_.begin());
  due_.erase(node.key().second);
  return std::move(node.mapped());
}

} // namespace flo::sim
