/// \file
/// The program image: the words floc writes into `flo_image` and the runtime reads at start-up.
/// Header-only and dependency-free, so the compiler (writer) and the runtime built for any
/// target (reader) share one definition.
///
/// Layout, every item a 32-bit word, sections in this order (a string is two words: offset and
/// length into `flo_strings`; "none" is kNone):
///
///   magic, version
///   locations: n, then n strings ("file:line:col: " prefixes for run-time messages)
///   houses:    n, then per house: name, timeShare, timeSlot, failureSlot, queue (n, tasker ids
///              in skedder order, §12.7)
///   shares:    n, then per share: house, path, firstSlot, owner (a rear-pool clone whose node
///              holds it, or kNone), nfields, nfields field-name strings
///   slots:     n, then per slot: tag, lo, hi (the initial value; for a string lo/hi is a string)
///   taskers:   n, then per tasker: kind, house, name, schedule, period lo/hi (double bits),
///              first frame, frames (n, ids), elapsed share/slot, recurred share/slot, active
///              share/slot, human share/slot; a logger then has its prefix, reuse, and logs
///              (n, then per log: name, file, rule, loggees (n, then per loggee: tag, share,
///              fields (n, then per field: name, slot))))
///   frames:    n, then per frame: framer, name, over, next, outline (n, ids top-down), auxes
///              (n, tasker ids), human (full), human (head, while a conditional aux runs),
///              7 act lists (n, act ids) in ActList order
///   acts:      n, then per act: kind, location, and the operands of its kind (ActKind)
///   marks:     n
///   flows:     n, then per flow: name, location, house, window, length (f64), every (f64),
///              count (lo, hi), capacity, policy, reducer, item fn, fold fn, reduce location,
///              work per item, work per window (a job's work units), partition limit (0:
///              the partitions are the sinks; N: `by FIELD`, at most N made as keys come),
///              into (the sink path whose `*` a key fills; `by FIELD` only, else empty),
///              sources (n, then share, slot, partition, key slot or kNone), clocks (n, f64
///              periods), sinks (n, then share, slot, key string; `by FIELD`: the shares the
///              image already has for some keys)
///   jobs:      n, then per job: name, runs (JobRuns), target (a tasker, or a function for a
///              deed), trigger (JobTrigger), period lo/hi (double bits; Every), share (On),
///              limit (passes one run may last), bound lo/hi (work units of one run, u64)
///   work:      n (the number of acts), then per act the work units it counts when it runs:
///              1, plus the statements of the Flo deed it calls (docs/language.md, jobs)
#pragma once

#include <cstdint>

namespace flo::image {

inline constexpr std::uint32_t kMagic = 0x464C4F31; // "FLO1"
inline constexpr std::uint32_t kVersion = 4; // 2: jobs, work units; 3: flows; 4: flows by field
/// The most partitions of a flow `by FIELD` (`max N`); the runtime reserves a share for each.
inline constexpr std::uint32_t kMaxFieldPartitions = 65536;
inline constexpr std::uint32_t kNone = 0xFFFFFFFFu;

enum class TaskerKind : std::uint32_t { Framer = 0, Logger = 1, Server = 2 };
enum class Schedule : std::uint32_t { Active = 0, Inactive = 1, Aux = 2, Slave = 3, Moot = 4 };
enum class Control : std::uint32_t { Start = 0, Run = 1, Stop = 2, Abort = 3, Ready = 4 };
/// Tasker statuses, also the operand of a status need.
enum class Status : std::uint32_t {
  Stopped = 0,
  Readied = 1,
  Started = 2,
  Running = 3,
  Aborted = 4
};

/// Act lists of a frame, in image order. Execution order is described in runtime/framer.cpp.
enum class ActList : std::uint32_t {
  Benter = 0,
  Enter = 1,
  Renter = 2,
  Precur = 3,
  Recur = 4,
  Exit = 5,
  Rexit = 6
};
inline constexpr std::uint32_t kActLists = 7;

/// Act kinds and their operands (after kind and location):
enum class ActKind : std::uint32_t {
  Fn = 0,      ///< fn: a generated function (put, inc, copy, set, a Flo deed); returns 0
  Print = 1,   ///< message string
  Go = 2,      ///< target frame, need fn or kNone, marks (n, then mark share kind per mark)
  Let = 3,     ///< need fn
  CondAux = 4, ///< aux tasker, need fn, marks (as Go)
  Bid = 5,     ///< control, taskers (n, ids), period kind (0 none, 1 value, 2 slot), lo, hi
  Done = 6,    ///< taskers (n, ids)
  Fiat = 7,    ///< control, slave tasker
  Mark = 8,    ///< mark, share, kind: a marker run on entry of the frame (`in frame`)
  Nop = 9,     ///< a generic doer: runs, returns None
  Rear = 10,   ///< target frame, clone taskers (n, ids): the pool this `rear` draws from
  Raze = 11,   ///< frame, which (0 all, 1 first, 2 last)
};

enum class MarkKind : std::uint32_t { Update = 0, Change = 1 };

/// What a job runs, and what starts each run (docs/runtime.md, "Jobs").
enum class JobRuns : std::uint32_t { Framer = 0, Deed = 1, Flow = 2 };
enum class JobTrigger : std::uint32_t { None = 0, Every = 1, On = 2 };

/// When a log writes a row (FLOSCRIPT.md §9.8).
enum class LogRule : std::uint32_t {
  Never = 0,
  Once = 1,
  Always = 2,
  Update = 3,
  Change = 4,
  Streak = 5,
  Deck = 6
};

} // namespace flo::image
