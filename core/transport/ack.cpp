/// \file
/// Anti-replay and ACK bookkeeping (see ack.h).
#include "core/transport/ack.h"

#include "core/check.h"

#include <algorithm>
#include <iterator>

namespace flo::core {

ReplayWindow::ReplayWindow(std::size_t size) : bits_((std::max<std::size_t>(size, 64) + 63) / 64) {}

bool ReplayWindow::fresh(std::uint64_t pn) const {
  if (!any_ || pn > highest_) return true;
  if (highest_ - pn >= width()) return false;
  return !test(pn);
}

void ReplayWindow::mark(std::uint64_t pn) {
  FLO_CHECK(fresh(pn)); // only an authenticated packet that passed fresh() is marked
  if (!any_) {
    any_ = true;
    highest_ = pn;
  } else if (pn > highest_) {
    if (pn - highest_ >= width()) {
      std::fill(bits_.begin(), bits_.end(), 0);
    } else {
      for (std::uint64_t n = highest_ + 1; n <= pn; ++n) clear(n);
    }
    highest_ = pn;
  }
  bits_[(pn % width()) / 64] |= std::uint64_t(1) << (pn % 64);
}

bool AckTracker::onAuthenticated(std::uint64_t pn) {
  bool disorder = largest_ && pn != *largest_ + 1;
  if (!largest_ || pn > *largest_) largest_ = pn;
  return disorder;
}

bool AckTracker::quickAck(bool lossSign, bool eliciting) {
  if (lossSign) {
    quickAcks_ = kQuickAcks;
    return true;
  }
  if (eliciting && quickAcks_ > 0) {
    --quickAcks_;
    return true;
  }
  return false;
}

void AckTracker::onEliciting(std::uint64_t pn, bool urgent, Time now, Clock::duration ackDelay) {
  std::uint64_t first = pn, last = pn;
  auto r = received_.upper_bound(pn);
  if (r != received_.begin() && std::prev(r)->second + 1 >= pn) r = std::prev(r);
  while (r != received_.end() && r->first <= last + 1) {
    first = std::min(first, r->first);
    last = std::max(last, r->second);
    r = received_.erase(r);
  }
  received_[first] = last;
  while (received_.size() > kKeptRanges) received_.erase(received_.begin());
  pending_ = true;
  ++unacked_;
  if (urgent || unacked_ >= 2)
    deadline_ = now;
  else if (!deadline_)
    deadline_ = now + ackDelay;
}

void AckTracker::write(Bytes& plain, std::uint32_t window) {
  FLO_CHECK(!received_.empty());
  scratch_.clear();
  for (auto r = received_.rbegin(); r != received_.rend() && scratch_.size() < wire::kMaxAckRanges;
       ++r)
    scratch_.push_back({r->first, r->second});
  wire::writeAck(plain, window, scratch_);
  pending_ = false;
  unacked_ = 0;
  deadline_.reset();
}

} // namespace flo::core
