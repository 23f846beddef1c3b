/// \file
/// Flows at run time (flow.h; semantics in docs/runtime.md, "Flows").
#include "runtime/flow.h"

#include "runtime/value.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace flo::rt {

namespace {

/// The number a value stands for in a flow, if any (bool and int widen to f64).
bool numberOf(const FloValue& v, double& out) {
  switch (v.tag) {
  case FLO_BOOL:
  case FLO_INT:
    out = double(v.u.i);
    return true;
  case FLO_FLOAT:
    out = v.u.f;
    return true;
  default:
    return false;
  }
}

const char* reducerName(FlowReducer r) {
  static const char* const names[] = {"mean",  "sum",  "min",    "max", "count",
                                      "first", "last", "median", "fold"};
  return names[std::size_t(r)];
}

/// Python's statistics.median: the middle value, or the mean of the two middle values.
double median(std::vector<double> v) {
  assert(!v.empty());
  std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(mid), v.end());
  double hi = v[mid];
  if (v.size() % 2) return hi;
  double lo = *std::max_element(v.begin(), v.begin() + std::ptrdiff_t(mid));
  return (lo + hi) / 2;
}

/// Adds an item to a running aggregate: the rule of abi.h's FloAgg, as the generated item
/// functions apply it.
void accumulate(FloAgg& a, double value) {
  a.min = a.n == 0 || value < a.min ? value : a.min;
  a.max = a.n == 0 || a.max < value ? value : a.max;
  a.first = a.n == 0 ? value : a.first;
  a.last = value;
  a.sum += value;
  ++a.n;
}

} // namespace

bool flowKeyText(const FloValue& v, std::string& out) {
  switch (v.tag) {
  case FLO_BOOL:
    out = v.u.i ? "True" : "False";
    return true;
  case FLO_INT:
    out = std::to_string(v.u.i);
    return true;
  case FLO_STR: {
    // A name, so the key is one path segment: no dot, blank or quote can reshape the path.
    constexpr std::uint32_t kMaxKey = 255;
    if (v.aux == 0 || v.aux > kMaxKey) return false;
    for (std::uint32_t i = 0; i < v.aux; ++i) {
      unsigned char c = static_cast<unsigned char>(v.u.s[i]);
      bool name = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-'; // ASCII, whatever the locale
      if (!name) return false;
    }
    out.assign(v.u.s, v.aux);
    return true;
  }
  default:
    return false; // None, a float, a point
  }
}

Flow::Flow(FlowDef def, FloCtx& ctx, Sink sink, Check check)
    : def_(std::move(def)), ctx_(ctx), sink_(std::move(sink)), check_(std::move(check)) {
  assert((!def_.sinks.empty() || def_.partitionLimit > 0) && def_.capacity > 0);
  // `by FIELD`, partitions come with their keys; otherwise they are the sinks.
  if (def_.partitionLimit == 0)
    for (const auto& s : def_.sinks) addPartition(s.key);
  nextTick_.assign(def_.clocks.size(), 0);
  values_.reserve(def_.capacity);
  parts_.reserve(def_.capacity);
}

bool Flow::fused() const {
  return def_.items && !keepsItems() && def_.reducer != FlowReducer::Deed &&
         def_.window != FlowWindow::Count;
}

void Flow::open(std::uint32_t partition, double time) {
  Window& w = windows_[partition];
  w.open = true;
  if (def_.window == FlowWindow::Time) w.start = std::floor(time / def_.length) * def_.length;
}

void Flow::addPartition(std::string key) {
  keys_.push_back(std::move(key));
  windows_.emplace_back();
  windows_.back().nextK = slideFrom_;
  aggs_.push_back(FloAgg{});
}

bool Flow::partitionOf(const std::string& k, std::uint32_t& partition) {
  if (auto it = keyIndex_.find(k); it != keyIndex_.end()) {
    partition = it->second;
    return true;
  }
  if (keys_.size() >= def_.partitionLimit) return false;
  partition = std::uint32_t(keys_.size());
  keyIndex_.emplace(k, partition);
  addPartition(k);
  return true;
}

bool Flow::keepsItems() const {
  return (def_.window == FlowWindow::Time && def_.every > 0) || def_.reducer == FlowReducer::Median;
}

void Flow::pause() {
  paused_ = true;
  values_.clear();
  parts_.clear();
  head_ = 0;
  for (auto& w : windows_) w = Window{};
  for (auto& a : aggs_) a = FloAgg{};
}

void Flow::resume(double time) {
  pause();
  paused_ = false;
  // Clocks tick at multiples of their period from the run's start; sliding windows start at
  // the first multiple of `every` at or after it.
  clockBase_ = time;
  std::fill(nextTick_.begin(), nextTick_.end(), 0);
  if (def_.window == FlowWindow::Time && def_.every > 0) {
    slideFrom_ = std::uint64_t(std::max(0.0, std::floor(time / def_.every)));
    while (double(slideFrom_) * def_.every < time) ++slideFrom_;
    for (auto& w : windows_) w.nextK = slideFrom_;
  }
}

void Flow::written(std::uint32_t source, const FloValue& v, double time, const FloValue* key) {
  assert(source < def_.sources.size());
  if (paused_) return;
  double x;
  if (!numberOf(v, x)) {
    ++stats_.rejected;
    if (trace) trace("flow " + def_.name + ": not a number, dropped: " + repr(v));
    return;
  }
  std::uint32_t partition = def_.sources[source].partition;
  if (def_.partitionLimit > 0) {
    assert(key);
    std::string k;
    if (!flowKeyText(*key, k)) {
      ++stats_.unkeyed;
      if (trace) trace("flow " + def_.name + ": no key, dropped: " + repr(*key));
      return;
    }
    if (!partitionOf(k, partition)) {
      ++stats_.overflow;
      if (trace)
        trace("flow " + def_.name + ": key " + k + " beyond " +
              std::to_string(def_.partitionLimit) + " partitions, dropped");
      return;
    }
  }
  enqueue(x, partition, time);
}

void Flow::queueAt(double time) {
  if (values_.size() > head_ && queuedAt_ != time) drain(queuedAt_);
  queuedAt_ = time;
}

void Flow::enqueue(double value, std::uint32_t partition, double time) {
  queueAt(time);
  ++stats_.items;
  if (values_.size() - head_ >= def_.capacity) {
    switch (def_.policy) {
    case FlowPolicy::DropOldest:
      ++stats_.dropped;
      if (++head_ >= def_.capacity) { // compact, amortised over `capacity` drops
        values_.erase(values_.begin(), values_.begin() + std::ptrdiff_t(head_));
        parts_.erase(parts_.begin(), parts_.begin() + std::ptrdiff_t(head_));
        head_ = 0;
      }
      break;
    case FlowPolicy::DropNewest:
      ++stats_.dropped;
      return;
    case FlowPolicy::Block:
      // The writer waits while the flow takes what is queued.
      ++stats_.blocked;
      drain(time);
      break;
    }
  }
  values_.push_back(value);
  parts_.push_back(partition);
}

void Flow::drain(double time) {
  std::size_t n = values_.size() - head_;
  if (n == 0) return;
  stats_.taken += n;
  // All queued items have this time. Windows due close first, in partition order, whatever
  // order the items come in.
  for (std::uint32_t p = 0; p < windows_.size(); ++p) closeDue(p, time);
  // Fused, the native item function adds what its stages keep straight to the running
  // aggregates; otherwise it compacts the survivors, which `add` takes one by one.
  const bool fuse = fused();
  std::size_t kept = n;
  if (def_.items) {
    kept = std::size_t(def_.items(&ctx_, values_.data() + head_, parts_.data() + head_,
                                  std::uint32_t(n), time, fuse ? aggs_.data() : nullptr,
                                  aggs_.size() == 1));
    check_();
    assert(kept <= n);
    stats_.filtered += n - kept;
  }
  if (fuse) {
    // A window not open holds nothing (its aggregate is empty): one that got items opens.
    for (std::uint32_t p = 0; p < aggs_.size(); ++p)
      if (!windows_[p].open && aggs_[p].n > 0) open(p, time);
  } else {
    for (std::size_t i = 0; i < kept; ++i) add(parts_[head_ + i], values_[head_ + i], time);
  }
  values_.clear();
  parts_.clear();
  head_ = 0;
}

double Flow::fold(double acc, double x) {
  double out = 0;
  def_.fold(&ctx_, acc, x, &out);
  check_();
  return out;
}

void Flow::add(std::uint32_t partition, double value, double time) {
  assert(partition < windows_.size());
  Window& w = windows_[partition];
  closeDue(partition, time);
  if (keepsItems()) {
    if (w.items.size() >= def_.capacity) {
      ++stats_.dropped;
      if (def_.policy == FlowPolicy::DropNewest) return;
      w.items.pop_front(); // drop oldest, and block: a window cannot close early
    }
    w.items.emplace_back(value, time);
  }
  if (def_.window == FlowWindow::Time && def_.every > 0) return; // sliding: items only
  if (!w.open) open(partition, time);
  FloAgg& a = aggs_[partition];
  if (def_.reducer == FlowReducer::Deed) w.acc = a.n == 0 ? value : fold(w.acc, value);
  accumulate(a, value);
  if (def_.window == FlowWindow::Count && a.n >= def_.count) emitRunning(partition, w);
}

void Flow::closeDue(std::uint32_t partition, double time) {
  Window& w = windows_[partition];
  if (def_.window != FlowWindow::Time) return;
  if (def_.every == 0) {
    if (w.open && w.start + def_.length <= time) emitRunning(partition, w);
    return;
  }
  // Sliding: windows [k*every, k*every + length), each written once, in order. Starts are
  // computed from k, never accumulated (0.1 added 15 times is not 1.5).
  auto start = [&](std::uint64_t k) { return double(k) * def_.every; };
  if (w.items.empty() && start(w.nextK) + def_.length <= time) {
    // Nothing to write: skip to the first window still open at `time`.
    w.nextK = std::uint64_t(std::max(0.0, std::floor((time - def_.length) / def_.every)));
    while (start(w.nextK) + def_.length <= time) ++w.nextK;
    return;
  }
  while (start(w.nextK) + def_.length <= time) {
    emitKept(partition, start(w.nextK), start(w.nextK) + def_.length, w);
    ++w.nextK;
    while (!w.items.empty() && w.items.front().second < start(w.nextK)) w.items.pop_front();
  }
}

double Flow::reduce(const FloAgg& a, const std::vector<double>& kept, double folded) const {
  switch (def_.reducer) {
  case FlowReducer::Mean:
    return a.sum / double(a.n);
  case FlowReducer::Sum:
    return a.sum;
  case FlowReducer::Min:
    return a.min;
  case FlowReducer::Max:
    return a.max;
  case FlowReducer::Count:
    return double(a.n);
  case FlowReducer::First:
    return a.first;
  case FlowReducer::Last:
    return a.last;
  case FlowReducer::Median:
    return median(kept);
  case FlowReducer::Deed:
    return folded;
  }
  return 0;
}

void Flow::emitRunning(std::uint32_t partition, Window& w) {
  std::string span;
  if (def_.window == FlowWindow::Time)
    span = " in [" + floatRepr(w.start) + ", " + floatRepr(w.start + def_.length) + ")";
  const FloAgg& a = aggs_[partition];
  if (a.n > 0) {
    std::vector<double> kept;
    if (def_.reducer == FlowReducer::Median)
      for (const auto& [x, t] : w.items) kept.push_back(x);
    emit(partition, reduce(a, kept, w.acc), a.n, span);
  }
  w.open = false;
  aggs_[partition] = FloAgg{};
  w.items.clear();
}

void Flow::emitKept(std::uint32_t partition, double from, double to, Window& w) {
  std::vector<double> xs;
  FloAgg a{};
  for (const auto& [x, t] : w.items)
    if (t >= from && t < to) {
      xs.push_back(x);
      accumulate(a, x);
    }
  if (xs.empty()) return; // an empty window writes nothing
  double folded = xs.front();
  if (def_.reducer == FlowReducer::Deed)
    for (std::size_t i = 1; i < xs.size(); ++i) folded = fold(folded, xs[i]);
  emit(partition, reduce(a, xs, folded), xs.size(),
       " in [" + floatRepr(from) + ", " + floatRepr(to) + ")");
}

void Flow::emit(std::uint32_t partition, double value, std::uint64_t n, const std::string& span) {
  FloValue out{};
  if (def_.reducer == FlowReducer::Count) {
    out.tag = FLO_INT;
    out.u.i = std::int64_t(n);
  } else {
    out.tag = FLO_FLOAT;
    out.u.f = value;
  }
  ++stats_.windows;
  if (trace) {
    const auto& key = keys_[partition];
    trace("flow " + def_.name + (key.empty() ? "" : " [" + key + "]") + ": " +
          reducerName(def_.reducer) + " of " + std::to_string(n) + " item" + (n == 1 ? "" : "s") +
          span + " = " + repr(out));
  }
  sink_(partition, out);
}

void Flow::run(double time) {
  if (paused_) return;
  // What a full buffer cost since the last report: one trace line a pass, not one an item.
  if (trace && stats_.dropped > reportedDrops_)
    trace("flow " + def_.name + ": " + std::to_string(stats_.dropped - reportedDrops_) +
          " dropped (buffer " + std::to_string(def_.capacity) + " full)");
  if (trace && stats_.blocked > reportedBlocks_) {
    std::uint64_t n = stats_.blocked - reportedBlocks_;
    trace("flow " + def_.name + ": buffer full " +
          (n == 1 ? "once" : std::to_string(n) + " times") + "; writers waited while it drained");
  }
  reportedDrops_ = stats_.dropped;
  reportedBlocks_ = stats_.blocked;
  // Items a later flow wrote after this one's run keep the time of their pass.
  queueAt(time);
  for (std::size_t c = 0; c < def_.clocks.size(); ++c) {
    // Tick k is at clockBase_ + k * period (computed, never accumulated), in the first pass at
    // or after it. The due ticks go straight into the queue while it has room; beyond that the
    // buffer's policy decides, ticks that cannot fit are counted without being made one by one.
    const double period = def_.clocks[c];
    auto at = [&](std::uint64_t k) { return clockBase_ + double(k) * period; };
    std::uint64_t k = nextTick_[c];
    if (at(k) > time) continue;
    std::uint64_t last = k + std::uint64_t(std::max(0.0, std::floor((time - at(k)) / period)));
    while (at(last + 1) <= time) ++last;
    while (last > k && at(last) > time) --last;
    nextTick_[c] = last + 1;
    std::uint64_t due = last - k + 1;
    std::uint64_t room = def_.capacity - (values_.size() - head_);
    if (due > room && def_.policy != FlowPolicy::Block) {
      std::uint64_t lost = due - room;
      stats_.items += lost;
      stats_.dropped += lost;
      if (def_.policy == FlowPolicy::DropOldest)
        k += lost; // the oldest ticks go
      else
        last -= lost; // the newest ticks go
    }
    if (k <= last && room > 0) {
      std::size_t before = values_.size();
      for (; k <= last && room; ++k, --room) values_.push_back(at(k));
      parts_.resize(values_.size(), 0);
      stats_.items += values_.size() - before;
    }
    for (; k <= last; ++k) enqueue(at(k), 0, time); // block: the queue drains as it fills
  }
  drain(time);
  for (std::uint32_t p = 0; p < windows_.size(); ++p) {
    closeDue(p, time);
    if (def_.window == FlowWindow::Pass && windows_[p].open) emitRunning(p, windows_[p]);
  }
}

} // namespace flo::rt
