/// \file
/// The Flo runtime: the program image decoded into taskers, frames and acts, and the machinery
/// that runs them exactly as FLOSCRIPT.md §9 and §12 describe — the skedder and its simulated
/// clock, the framer control state machine, segue/recur, the outline transition algorithm,
/// auxes (plain and conditional), slaves, bids and marks. Data acts and needs are generated
/// native functions (runtime/abi.h); this file never looks a share up by name while running.
#pragma once

#include "runtime/abi.h"
#include "runtime/feed.h"
#include "runtime/flow.h"
#include "runtime/image.h"
#include "runtime/value.h"

#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace flo::rt {

using image::kNone;

struct MarkRef {
  std::uint32_t mark, share;
  image::MarkKind kind;
};

struct Act {
  image::ActKind kind = image::ActKind::Nop;
  std::uint32_t loc = 0;
  std::uint32_t frame = kNone;  ///< the frame holding it
  std::uint32_t target = kNone; ///< Go: frame; CondAux/Fiat: tasker; Mark: mark
  std::uint32_t share = kNone;  ///< Mark
  std::uint32_t control = 0;    ///< Bid, Fiat; Mark: kind
  FloFn fn = nullptr;           ///< Fn; need of Go/Let/CondAux (null: always)
  const char* message = nullptr;
  std::uint32_t messageLength = 0;
  std::vector<std::uint32_t> taskers; ///< Bid, Done
  std::vector<MarkRef> marks;         ///< Go, CondAux
  std::uint32_t periodKind = 0;       ///< Bid: 0 none, 1 value, 2 slot
  double period = 0;
  std::uint32_t periodSlot = kNone;
  std::uint32_t work = 1; ///< work units it counts when it runs in a job's run
};

/// A job (docs/runtime.md, "Jobs"): what starts a run and what one run may do.
struct Job {
  const char* name = "";
  image::JobRuns runs = image::JobRuns::Framer;
  std::uint32_t target = kNone; ///< a tasker, or a function index for a deed
  image::JobTrigger trigger = image::JobTrigger::None;
  double every = 0;
  std::uint32_t share = kNone;
  std::uint32_t limit = 0; ///< passes one run may last (framer)
  std::uint64_t bound = 0; ///< work units one run may do, as floc proved
};

struct Frame {
  std::uint32_t framer = kNone;
  const char* name = "";
  std::uint32_t over = kNone, next = kNone;
  std::vector<std::uint32_t> outline;
  std::vector<std::uint32_t> auxes; ///< plain auxes, in order (run-time list)
  const char* humanFull = "";
  const char* humanHead = "";
  std::vector<std::uint32_t> lists[image::kActLists];
  std::vector<std::uint32_t> condAuxes; ///< CondAux acts among the preacts
};

struct Slot {
  std::uint32_t share = kNone, slot = kNone;
};

struct LogColumn {
  std::string name;
  std::uint32_t slot;
};

struct LogGroup {
  std::uint32_t share;
  std::vector<LogColumn> columns;
};

/// One log of a logger, and what it last wrote.
struct Log {
  std::string name, file;
  image::LogRule rule = image::LogRule::Never;
  std::vector<LogGroup> groups;
  std::FILE* out = nullptr;
  bool logged = false;          ///< a row was written (Ioflo's log.stamp is not None)
  double stamp = 0;             ///< when the last row was written
  std::vector<FloValue> values; ///< per column: the last values seen (`change`)
};

struct Tasker {
  image::TaskerKind kind = image::TaskerKind::Framer;
  std::uint32_t house = 0;
  const char* name = "";
  image::Schedule schedule = image::Schedule::Inactive;
  double period = 0;
  std::uint32_t first = kNone;
  std::vector<std::uint32_t> frames;
  Slot elapsed, recurred, active, human;
  // run-time state
  image::Status status = image::Status::Stopped;
  image::Control desire = image::Control::Stop;
  bool done = true;
  std::uint32_t activeFrame = kNone;
  std::vector<std::uint32_t> actives;
  std::vector<std::uint32_t> fullOutline; ///< while a conditional aux truncates `actives`
  double entryStamp = 0;
  std::int64_t recurredCount = 0;
  std::uint32_t mainFrame = kNone; ///< aux: the frame that runs it
  bool reared = false;             ///< a clone from a rear pool, now in some frame's auxes
  bool everReared = false;
  // loggers
  std::string prefix;
  bool reuse = false;
  std::vector<Log> logs;
};

struct House {
  const char* name = "";
  Slot time;
  std::uint32_t failureSlot = kNone;
  std::vector<std::uint32_t> queue;
};

struct Share {
  std::uint32_t house = 0;
  const char* path = "";
  std::uint32_t firstSlot = 0, nfields = 0;
  std::uint32_t owner = kNone; ///< rear-pool clone whose node holds the share
  std::vector<const char*> fields;
};

struct Mark {
  bool set = false;
  double stamp = 0;
  bool transit = false;
  std::vector<FloValue> copy;
};

struct Options {
  double period = 0.125;
  bool realtime = false;
  bool verbose = false;
  double until = -1; ///< stop after the pass at this stamp (<0: no limit)
  std::string storeFile;
  bool stats = false;     ///< print what each flow counted, at the end
  std::string job;        ///< run this job (its trigger starts its runs) instead of the program
  std::uint32_t runs = 3; ///< a job: end after this many runs
  bool work = false;      ///< a job: print each run's measured work and bound on stderr
  /// A job: the shares (feed::matches patterns) whose writes during its runs are printed as
  /// feed items on stderr (runtime/feed.h).
  std::vector<std::string> feedOut;
  bool feedIn = false; ///< read feed items on stdin and write them (runtime/feed.h)
};

/// A run-time error: location index and message. Thrown inside the runtime only (generated code
/// reports faults through FloCtx::fault).
struct Fault {
  std::uint32_t loc;
  std::string message;
};

/// What runs once per program or rarely (decoding the image, logs, the store dump, the flow
/// statistics, rearing and razing clones, starting and ending a job's run) is marked cold:
/// compilers optimise it for size, not speed, which keeps the runtime every bundle carries small
/// (docs/bundles.md) and leaves the scheduler's pass as it was.
#define FLO_RT_ONCE [[gnu::cold]]

class Runtime {
public:
  /// Decodes the image; throws std::runtime_error on a malformed one.
  FLO_RT_ONCE Runtime(const std::uint32_t* image, std::uint32_t words, const char* strings,
                      std::uint32_t stringsSize, const FloFn* fns, std::uint32_t nfns);

  /// Runs to the end (§9.1, §12.8); returns the exit status.
  int run(const Options& options);

  FloCtx ctx{};

  // ---- helpers for the C ABI
  void fault(std::uint32_t loc, std::string message);
  int needDone(std::uint32_t tasker) const { return taskers_.at(tasker).done; }
  int needStatus(std::uint32_t tasker, std::uint32_t status) const {
    return std::uint32_t(taskers_.at(tasker).status) == status;
  }
  int needAux(std::uint32_t frame, bool all) const;
  int needUpdated(std::uint32_t share, std::uint32_t mark);
  int needChanged(std::uint32_t share, std::uint32_t mark);
  void inc(std::uint32_t dstShare, std::uint32_t n, const std::uint32_t* dst,
           const FloValue* const* deltas, bool fromSource, std::uint32_t loc);
  /// A write of `share`: an item for every flow that takes it as a source.
  void written(std::uint32_t share);

private:
  // decoding
  const char* str(std::uint32_t off, std::uint32_t len) const;

  // one tasker turn and the control state machine (§9.2)
  image::Status control(std::uint32_t t, image::Control c);
  image::Status loggerControl(std::uint32_t t, image::Control c);
  FLO_RT_ONCE bool openLogs(Tasker& t);
  FLO_RT_ONCE void writeLogs(Tasker& t);
  FLO_RT_ONCE void closeLogs(Tasker& t);
  bool checkStart(std::uint32_t t);
  bool auxCheck(std::uint32_t frame);
  void enterAll(std::uint32_t t);
  void exitAll(std::uint32_t t, bool setDone);
  void segue(std::uint32_t t);
  void recur(std::uint32_t t);
  void enterFrame(std::uint32_t f);
  void exitFrame(std::uint32_t f);
  void resetEntry(Tasker& t);
  void activate(Tasker& t, std::uint32_t frame, bool head);
  bool runList(std::uint32_t f, image::ActList list, bool stopOnTrue);
  bool runAct(std::uint32_t a);
  bool transit(const Act& act);
  bool condAux(const Act& act);
  FLO_RT_ONCE bool rear(const Act& act);
  FLO_RT_ONCE void raze(const Act& act);
  void runMarker(const MarkRef& m, bool transitMarker);
  bool callNeed(FloFn fn);
  void check();

  // store writes: a share that feeds a flow (only in programs with flows) also goes to the flow.
  void write(const Slot& s, FloValue v);
  void writeState(Tasker& t);
  FloValue stringValue(const char* s) const;

  /// A job's runs: started by its trigger, each to its end (stopped itself, or its limit).
  struct JobRun {
    const Job* job = nullptr;
    bool active = false;
    std::uint32_t started = 0, passes = 0;
    double due = 0;                                         ///< Every: the next trigger time
    double seen = std::numeric_limits<double>::quiet_NaN(); ///< On: the last write seen
    double startStamp = 0;
    std::uint64_t flowWork = 0; ///< Flow: the flow's work when the run started
  };
  FLO_RT_ONCE bool startJobRun(JobRun& jr);
  FLO_RT_ONCE void endJobRun(JobRun& jr, const char* how);
  bool jobCanTrigger(const JobRun& jr) const;

  // feeds (runtime/feed.h): a producer's writes out, a consumer's items in
  FLO_RT_ONCE bool openFeeds();
  FLO_RT_ONCE void takeFeed();
  FLO_RT_ONCE void sendFeed();
  std::vector<std::uint32_t> fedShares_; ///< --feed-out: the shares whose writes are sent
  bool feedInOpen_ = false;              ///< --feed-in: items may still come
  std::optional<feed::Item> pending_;    ///< an item read ahead, not yet due
  std::map<std::string, std::uint32_t> sharesByPath_;
  std::set<std::string> feedWarned_; ///< what a feed warned of (each once)

  FLO_RT_ONCE void trace(const std::string& line); // -v only
  FLO_RT_ONCE void dumpStore(const std::string& file) const;
  FLO_RT_ONCE std::string location(std::uint32_t loc) const; // for errors

  const char* strings_;
  std::uint32_t stringsSize_;
  std::vector<std::string> locations_;
  std::vector<House> houses_;
  std::vector<Share> shares_;
  std::vector<FloValue> slots_;
  std::vector<double> stamps_;
  std::vector<Tasker> taskers_;
  std::vector<Frame> frames_;
  std::vector<Act> acts_;
  std::vector<Mark> marks_;
  std::vector<std::unique_ptr<Flow>> flows_;
  /// Per share: the (flow, source) pairs it feeds; empty for most.
  std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> taps_;
  FLO_RT_ONCE void decodeFlows(const std::function<std::uint32_t()>& next,
                               const std::function<double()>& f64,
                               const std::function<const char*()>& string, const FloFn* fns,
                               std::uint32_t nfns);
  void runFlows();
  FLO_RT_ONCE void printFlowStats() const;
  /// Where partition `partition` of flow `f` writes: `by FIELD`, the share its key fills the
  /// sink path with, made (one `value` field) the first time when the image has none.
  Slot flowSink(std::uint32_t f, std::uint32_t partition);
  /// Per flow `by FIELD`: key -> its sink, the image's and those made at run time.
  std::vector<std::map<std::string, Slot>> keyedSinks_;
  /// Paths of the shares made at run time (their room is reserved when the image is read, so
  /// ctx.slots and ctx.stamps stay where generated code found them).
  std::deque<std::string> madePaths_;
  std::vector<Job> jobs_;
  const FloFn* fns_ = nullptr;
  bool counting_ = false;  ///< acts run now are a job run's work
  std::uint64_t work_ = 0; ///< work units of the current job run
  Arena arena_;
  Options options_;
  double stamp_ = 0;
  bool faulted_ = false;
  Fault fault_;
};

} // namespace flo::rt
