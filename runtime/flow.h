/// \file
/// Flows at run time (docs/runtime.md, "Flows"). Every write of a source share during a pass is
/// an item, stamped with the pass's time, queued in the flow's bounded buffer; after the
/// framers of a pass, each flow in declaration order runs its generated item function (its
/// `map` and `filter` stages, native code) over the queue, adds what survives to each
/// partition's window, closes the windows that are due and writes their results to the sinks.
///
/// This file holds the windows and buffers; it never looks a share up by name and does no I/O
/// but the trace. The runtime (runtime.cpp) decodes the flows from the image, reports writes of
/// tapped shares (`written`) and writes the sinks (`Sink`).
#pragma once

#include "runtime/abi.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace flo::rt {

enum class FlowWindow : std::uint32_t { Pass = 0, Time = 1, Count = 2 };
enum class FlowPolicy : std::uint32_t { DropOldest = 0, DropNewest = 1, Block = 2 };
enum class FlowReducer : std::uint32_t {
  Mean = 0,
  Sum,
  Min,
  Max,
  Count,
  First,
  Last,
  Median,
  Deed
};

/// What a flow counts, for `--stats` and the trace.
struct FlowStats {
  std::uint64_t items = 0;    ///< queued (writes of sources, clock ticks)
  std::uint64_t rejected = 0; ///< values with no number reading (None, str, point)
  std::uint64_t dropped = 0;  ///< lost to a full buffer (drop oldest / drop newest)
  std::uint64_t blocked = 0;  ///< times a full buffer made the writer wait (block)
  std::uint64_t filtered = 0; ///< removed by a `filter`
  std::uint64_t windows = 0;  ///< results written
  std::uint64_t taken = 0;    ///< items through the stages
  std::uint64_t unkeyed = 0;  ///< `by FIELD`: items whose key is not an int, bool or name
  std::uint64_t overflow = 0; ///< `by FIELD`: items of a new key once `max` partitions exist
};

struct FlowSource {
  std::uint32_t share = 0, slot = 0, partition = 0;
  std::uint32_t keySlot = 0xFFFFFFFFu; ///< `by FIELD`: the record's key field
};

struct FlowSink {
  std::uint32_t share = 0, slot = 0;
  std::string key; ///< the `*` segments the partition stands for
};

/// One flow as the image describes it.
struct FlowDef {
  std::string name;
  std::uint32_t loc = 0, house = 0;
  FlowWindow window = FlowWindow::Pass;
  double length = 0, every = 0;
  std::uint64_t count = 0;
  std::uint32_t capacity = 1024;
  FlowPolicy policy = FlowPolicy::DropOldest;
  FlowReducer reducer = FlowReducer::Mean;
  FloFlowFn items = nullptr; ///< map and filter stages; null when there are none
  FloFoldFn fold = nullptr;  ///< Deed reducer
  std::uint32_t reduceLoc = 0;
  std::uint32_t workPerItem = 1, workPerWindow = 1; ///< a job's work units
  std::uint32_t partitionLimit = 0; ///< `by FIELD`: at most this many partitions; 0: the sinks
  std::string into;                 ///< `by FIELD`: the sink path, its `*` filled by a key
  std::vector<FlowSource> sources;
  std::vector<double> clocks;
  /// Per partition; `by FIELD`, the shares the image has for some keys (the runtime makes the
  /// others as their partitions first write).
  std::vector<FlowSink> sinks;
};

/// `by FIELD`: the text a key value stands for in the sink's path (an int's digits, `True` or
/// `False`, a string that is a name of letters, digits, `_` and `-`), or false when it is none.
bool flowKeyText(const FloValue& v, std::string& out);

/// The run-time state of one flow.
class Flow {
public:
  /// Writes a window's result into sink `partition` (the runtime stamps the share and passes
  /// the write on to flows that take it as a source).
  using Sink = std::function<void(std::uint32_t partition, FloValue value)>;
  /// Called after generated code ran: throws the recorded fault if it set ctx->fault.
  using Check = std::function<void()>;

  [[gnu::cold]] Flow(FlowDef def, FloCtx& ctx, Sink sink, Check check); // once, at decoding

  const FlowDef& def() const { return def_; }
  const FlowStats& stats() const { return stats_; }

  /// A write of source `source` at `time`: one item, or a rejection when `v` has no number
  /// reading. `by FIELD`, `key` is the record's key field: the item goes to its key's
  /// partition, made when new (or is dropped, counted, without a key or beyond `max`). A full
  /// buffer drops or, with `block`, is drained first.
  void written(std::uint32_t source, const FloValue& v, double time, const FloValue* key);
  /// The partitions so far, and the key each stands for (the sink's `*` segments).
  std::uint32_t partitions() const { return std::uint32_t(keys_.size()); }
  const std::string& key(std::uint32_t partition) const { return keys_.at(partition); }
  /// The flow's turn after the framers of the pass at `time`: clock ticks, the queue, then
  /// every window due.
  void run(double time);

  /// A job's runs: paused, a flow takes no items and closes no window; `resume` starts afresh
  /// at `time` (an empty queue and no window open; clocks tick from `time`).
  void pause();
  void resume(double time);
  bool paused() const { return paused_; }
  /// The work units done so far (docs/language.md, jobs): the items taken and windows written.
  std::uint64_t work() const {
    return stats_.taken * def_.workPerItem + stats_.windows * def_.workPerWindow;
  }

  std::function<void(const std::string&)> trace; ///< -v lines; empty when quiet

private:
  struct Window {
    // running aggregate (tumbling and count windows, pass windows): in aggs_
    bool open = false;
    double start = 0; ///< Time: start of the open window
    double acc = 0;   ///< Deed: the fold so far
    // kept items (sliding windows, median): value and time
    std::deque<std::pair<double, double>> items;
    std::uint64_t nextK = 0; ///< sliding: the first window not yet written, [k*every, +length)
  };

  /// Items queued at another time are taken first: a batch holds one time.
  void queueAt(double time);
  void enqueue(double value, std::uint32_t partition, double time);
  void drain(double time);
  void add(std::uint32_t partition, double value, double time);
  void closeDue(std::uint32_t partition, double time);
  /// The reducer's result over a window: its running aggregate, its items (median) and its
  /// fold (a reducing deed).
  double reduce(const FloAgg& a, const std::vector<double>& kept, double folded) const;
  void emitRunning(std::uint32_t partition, Window& w);
  void emitKept(std::uint32_t partition, double from, double to, Window& w);
  void emit(std::uint32_t partition, double value, std::uint64_t n, const std::string& span);
  double fold(double acc, double x);
  bool keepsItems() const;
  /// Whether the item function adds straight to the running aggregates (no kept items, no
  /// fold, no count window to close in the middle of a batch).
  bool fused() const;
  void open(std::uint32_t partition, double time);
  /// `by FIELD`: the partition of key `k`, made if new and the limit allows; false if not.
  bool partitionOf(const std::string& k, std::uint32_t& partition);
  void addPartition(std::string key);

  FlowDef def_;
  FloCtx& ctx_;
  Sink sink_;
  Check check_;
  FlowStats stats_;
  std::vector<double> values_;                    ///< the queue, from head_
  std::vector<std::uint32_t> parts_;              ///< parallel to values_
  std::size_t head_ = 0;                          ///< queue start (drop oldest advances it)
  double queuedAt_ = 0;                           ///< the time of the queued items
  std::vector<std::string> keys_;                 ///< per partition: its key ("" unkeyed)
  std::map<std::string, std::uint32_t> keyIndex_; ///< `by FIELD`: key -> partition
  std::uint64_t slideFrom_ = 0;         ///< sliding: the first window a partition made now writes
  std::vector<Window> windows_;         ///< per partition
  std::vector<FloAgg> aggs_;            ///< per partition: the open window's running aggregate
  std::vector<std::uint64_t> nextTick_; ///< per clock: the next tick's index
  double clockBase_ = 0;                ///< ticks are at clockBase_ + k * period
  bool paused_ = false;
  std::uint64_t reportedDrops_ = 0, reportedBlocks_ = 0; ///< traced so far
};

} // namespace flo::rt
