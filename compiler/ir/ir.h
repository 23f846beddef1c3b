/// \file
/// The checked IR: what the front end's model becomes once every name is resolved to an index
/// and every store path to a fixed share and field (after inode, relation and `of` processing,
/// FLOSCRIPT.md §8), clones are instantiated, the store's initial contents are decided in
/// Ioflo's resolve order (§12.2) and types are inferred. Code generation reads only this.
#pragma once

#include "compiler/sema/typed.h"
#include "runtime/abi.h"
#include "runtime/image.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::ir {

using image::kNone;

/// A FloScript value: Python's None, bool, int, float or str.
struct Value {
  FloTag tag = FLO_NONE;
  std::int64_t i = 0; ///< bool and int
  double f = 0;
  std::string s;
  std::vector<double> point; ///< FLO_POINT: 2 or 3 coordinates; `i` holds the kind (abi.h)

  static Value none() { return {}; }
  static Value boolean(bool b) { return {FLO_BOOL, b ? 1 : 0, 0, {}, {}}; }
  static Value integer(std::int64_t v) { return {FLO_INT, v, 0, {}, {}}; }
  static Value real(double v) { return {FLO_FLOAT, 0, v, {}, {}}; }
  static Value string(std::string v) { return {FLO_STR, 0, 0, std::move(v), {}}; }
};
std::string repr(const Value& v);
/// A point as the image stores it: its kind byte, then three doubles.
std::string pointBlob(const Value& v);

/// The static type of a field, joined over every value it can hold.
enum class Type : std::uint8_t { Unknown, None, Bool, Int, Float, Number, Str, Point, Any };
const char* typeName(Type t);
Type typeOf(const Value& v);
Type join(Type a, Type b);

struct Share {
  std::uint32_t house = 0;
  std::string path;
  std::vector<std::string> fields;
  std::vector<Value> values; ///< initial values, parallel to fields
  std::vector<Type> types;   ///< inferred, parallel to fields
  std::uint32_t firstSlot = 0;
  std::uint32_t owner = kNone; ///< the pooled clone whose `.framer.NAME.` node holds it
};

struct FieldRef {
  std::uint32_t share = kNone, field = kNone;
  bool valid() const { return share != kNone; }
};

/// One need of a conjunction (§6, §12.5).
struct Need {
  enum class Op : std::uint8_t { Compare, Truthy, Done, Status, AuxAny, AuxAll, Updated, Changed };
  Op op = Op::Truthy;
  bool negated = false;
  FieldRef state;
  FloCmp cmp = FLO_EQ;
  bool goalIsRef = false;
  FieldRef goalRef;
  Value goal;
  double tolerance = 0;
  std::uint32_t tasker = kNone, status = 0, frame = kNone, share = kNone, mark = kNone;
  std::uint32_t loc = 0;
};

/// put / set / inc / copy as one store write (§12.3).
struct DataOp {
  enum class Kind : std::uint8_t { Put, Inc, Copy } kind = Kind::Put;
  bool fromSource = false; ///< inc ... from
  std::uint32_t share = kNone;
  std::vector<std::uint32_t> fields; ///< destination fields of `share`
  std::vector<Value> values;         ///< Put, Inc with
  std::vector<FieldRef> sources;     ///< Copy, Inc from
  std::uint32_t loc = 0;
};

/// A deed written in Flo, bound to store fields by `do NAME per PORT PATH ...`.
struct DeedCall {
  std::uint32_t deed = kNone;  ///< index into Program::deeds
  std::vector<FieldRef> ports; ///< parallel to the deed's ports
  std::uint32_t loc = 0;
};

/// A generated function: one data op, one need conjunction or one deed call.
struct Function {
  enum class Kind : std::uint8_t { Data, Needs, Deed } kind = Kind::Data;
  DataOp data;
  std::vector<Need> needs;
  DeedCall deed;
};

struct MarkRef {
  std::uint32_t mark = 0, share = 0;
  image::MarkKind kind = image::MarkKind::Update;
};

struct Act {
  image::ActKind kind = image::ActKind::Nop;
  std::uint32_t loc = 0;
  std::uint32_t fn = kNone;     ///< Fn; need function of Go, Let, CondAux
  std::uint32_t target = kNone; ///< Go: frame; CondAux, Fiat: tasker; Mark: mark
  std::uint32_t share = kNone;  ///< Mark
  std::uint32_t control = 0;    ///< Bid, Fiat; Mark: kind
  std::string message;          ///< Print
  std::vector<std::uint32_t> taskers;
  std::vector<MarkRef> marks;
  std::uint32_t periodKind = 0; ///< Bid: 0 none, 1 value, 2 slot
  double period = 0;
  FieldRef periodRef;
  std::string what; ///< the declaration, for the IR printer
};

struct Frame {
  std::uint32_t framer = kNone;
  std::string name;
  std::uint32_t over = kNone, next = kNone;
  std::vector<std::uint32_t> outline;
  std::vector<std::uint32_t> auxes;
  std::string humanFull, humanHead;
  std::vector<std::uint32_t> lists[image::kActLists];
};

/// A column group of a log: one share, the fields logged.
struct Loggee {
  std::string tag;
  std::uint32_t share = kNone;
  std::vector<std::uint32_t> fields;
};

/// One log file of a logger (FLOSCRIPT.md §9.8).
struct Log {
  std::string name, file;
  image::LogRule rule = image::LogRule::Never;
  std::vector<Loggee> loggees;
};

struct Tasker {
  image::TaskerKind kind = image::TaskerKind::Framer;
  std::uint32_t house = 0;
  std::string name;
  image::Schedule schedule = image::Schedule::Inactive;
  double period = 0;
  std::uint32_t first = kNone;
  std::vector<std::uint32_t> frames;
  FieldRef elapsed, recurred, active, human;
  std::string cloneOf; ///< template name for clones
  bool pooled = false; ///< a clone of a `rear` pool: exists for Ioflo only once reared
  // loggers
  std::string prefix; ///< `to DIR` (default: the working directory)
  bool reuse = false;
  std::vector<Log> logs;
};

struct House {
  std::string name;
  FieldRef time, failure;
  std::vector<std::uint32_t> queue;
};

/// A deed written in Flo: its typed body (sema) and where each statement is.
struct Deed {
  std::string name;
  std::shared_ptr<const tir::TypedDeed> typed;
  std::vector<std::string> ports;      ///< inputs and outputs, bound to store fields in order
  std::vector<std::uint32_t> stmtLocs; ///< location of each typed statement (faults point there)
};

/// A flow (docs/runtime.md, "Flows"): its sources matched against the store, its stages typed,
/// one sink per partition.
struct Flow {
  enum class Window : std::uint8_t { Pass, Time, Count };
  enum class Policy : std::uint8_t { DropOldest, DropNewest, Block };
  /// The built-in reducers, in image order; Deed folds with `reduceDeed`.
  enum class Reducer : std::uint8_t { Mean, Sum, Min, Max, Count, First, Last, Median, Deed };
  struct Source {
    FieldRef field;              ///< the item: `value`, or a record's field; each write is one
    std::uint32_t partition = 0; ///< index into `sinks` (unused `by FIELD`)
    FieldRef key;                ///< `by FIELD`: the record's key field, read at each write
  };
  struct Stage {
    enum class Kind : std::uint8_t { Map, Filter } kind = Kind::Map;
    std::shared_ptr<const tir::TypedDeed> deed;
    std::shared_ptr<const tir::Expr> filter;
    std::uint32_t loc = 0;
    std::vector<std::uint32_t> stmtLocs; ///< Map: where each deed statement is
    std::string text;
  };
  std::string name;
  std::uint32_t loc = 0;
  std::uint32_t house = 0;
  std::vector<Source> sources;
  std::vector<double> clocks;
  Window window = Window::Pass;
  double length = 0, every = 0;
  std::uint64_t count = 0;
  std::vector<Stage> stages;
  Reducer reducer = Reducer::Mean;
  std::shared_ptr<const tir::TypedDeed> reduceDeed;
  std::uint32_t reduceLoc = 0;
  std::vector<std::uint32_t> reduceStmtLocs;
  /// Per partition; `by FIELD`, the shares of the store that match `into` (a key's partition
  /// writes its share when there is one; the runtime makes the others).
  std::vector<FieldRef> sinks;
  std::vector<std::string> keys;    ///< parallel to sinks: the `*` segments ("" unkeyed)
  std::string byField;              ///< `by FIELD`: partitions made as keys come, at run time
  std::uint32_t partitionLimit = 0; ///< `by FIELD`: at most this many partitions
  std::string into;                 ///< `by FIELD`: the sink path, its `*` filled by a key
  std::uint32_t capacity = 1024;
  Policy policy = Policy::DropOldest;

  /// Whether a window keeps its items (to slide, or for a median) rather than a running
  /// aggregate; a fold runs as the items come (runtime/flow.cpp's Flow::keepsItems, the same).
  bool keepsItems() const {
    return (window == Window::Time && every > 0) || reducer == Reducer::Median;
  }
  /// The most partitions the flow can have: its sinks, or `by FIELD` its limit.
  std::size_t partitionBound() const { return byField.empty() ? sinks.size() : partitionLimit; }
  /// Shares its sinks may add to the store at run time (`by FIELD`; none otherwise).
  std::size_t runtimeShares() const { return byField.empty() ? 0 : partitionLimit; }
  /// Expression operations one item costs in the `map` and `filter` stages.
  std::size_t stageWork() const;
  /// A job's work units for one item taken: 1, its stages, and its fold (a reducing deed).
  std::size_t itemWork() const;
};

/// Static bounds of a flow (`floc build --stats`).
struct FlowCost {
  std::string name;
  std::size_t partitions = 0;    ///< at most (`by FIELD`: its `max`)
  std::string byField;           ///< `by FIELD`: partitions are made at run time
  std::size_t worstItems = 0;    ///< items buffered at most: the queue and each window's store
  std::size_t worstBytes = 0;    ///< their memory (16 bytes an item: value and time)
  std::size_t workPerItem = 0;   ///< expression nodes evaluated per item by map and filter
  std::size_t workPerWindow = 0; ///< per item kept, to reduce a window
};

/// Static cost of one framer or deed (`floc build --stats`).
struct Cost {
  std::string what;
  std::size_t frames = 0, acts = 0, shares = 0, slots = 0;
  std::size_t worstActsPerPass = 0; ///< every act of the longest outline plus its auxes
};

/// Seconds per pass of the clock jobs run on: a duration `limit` is this many passes, so the
/// bound of a run does not depend on a run-time option (docs/runtime.md, "Jobs").
inline constexpr double kJobPassSeconds = 0.125;

/// A job (docs/language.md, "Extension: job"): what its trigger starts, where it may run and
/// for how much, and the static bound of the work of one run in work units (one per act
/// executed, plus one per statement of a Flo deed an act calls).
struct Job {
  enum class Runs : std::uint8_t { Framer, Deed, Flow } runs = Runs::Framer;
  enum class Trigger : std::uint8_t { None, Every, On } trigger = Trigger::None;
  std::string name;
  std::string target;            ///< the framer or deed it runs, by name
  std::uint32_t tasker = kNone;  ///< Framer: the tasker
  std::uint32_t fn = kNone;      ///< Deed: the function calling it (ports under `.job.NAME.`)
  std::uint32_t flow = kNone;    ///< Flow: index into Program::flows
  double every = 0;              ///< Every: the period in seconds
  std::uint32_t onShare = kNone; ///< On: the share whose run-time writes start runs
  std::string triggerText;       ///< `every 1.0`, `on .building.alarm`, or empty
  std::uint32_t limitPasses = 0; ///< Framer: passes one run may last
  std::map<std::string, std::string> needs; ///< arch, mem, disk, cpu as written
  std::string priceAmount, priceUnit, priceMax;
  std::string replicas, placement;
  std::uint64_t costBound = 0; ///< work units of one run, at most
  std::uint32_t loc = 0;
};

struct Program {
  std::vector<std::string> locations;
  std::vector<House> houses;
  std::vector<Share> shares;
  std::vector<Tasker> taskers;
  std::vector<Frame> frames;
  std::vector<Act> acts;
  std::vector<Function> functions;
  std::vector<Deed> deeds;
  std::vector<Flow> flows;
  std::vector<Job> jobs;
  std::uint32_t marks = 0;

  /// Shares some flow takes items from: every write of one is reported to the runtime.
  std::vector<bool> tapped() const;

  std::uint32_t slotCount() const;
  /// Shares the sinks of flows `by FIELD` may make at run time (one slot each), at most.
  std::size_t madeShares() const;
  std::uint32_t slot(FieldRef r) const { return shares.at(r.share).firstSlot + r.field; }
};

/// Prints the IR as text (`floc --emit=ir`).
void print(const Program& p, std::ostream& out);
/// Checks the IR's internal consistency; returns the problems found (empty when sound).
std::vector<std::string> verify(const Program& p);
/// Per-framer and per-deed static cost.
std::vector<Cost> costs(const Program& p);
std::vector<FlowCost> flowCosts(const Program& p);
/// The most work units one pass of a flow does when a job runs it: each item its buffer lets
/// through one pass (1 + its stages' operations + its fold's), and each window written (1, and
/// each kept item it reduces); empty when it cannot be bounded (a `block` buffer).
std::optional<std::uint64_t> flowPassWork(const Flow& f, std::string& why);
/// Expression nodes in a typed body or expression (the unit of a deed's work).
std::size_t work(const tir::Expr& e);
std::size_t work(const tir::TypedDeed& d);

/// Work units of one call of function `fn` beyond the act that calls it: the statements of a
/// Flo deed (its body has no loop, so each runs at most once per call), else 0.
std::uint64_t functionWork(const Program& p, std::uint32_t fn);
/// The most work units one turn of tasker `t` can do (its acts, and the auxes, conditional
/// auxes, slaves and reared clones it runs), or nullopt with `why` naming what is unbounded.
std::optional<std::uint64_t> passWork(const Program& p, std::uint32_t t, std::string& why);
/// The most work units one run of `job` can do; nullopt with `why` when nothing bounds it.
std::optional<std::uint64_t> runWork(const Program& p, const Job& job, std::string& why);

} // namespace flo::ir
