/// \file
/// The program's structure as the checker rebuilds it from the flat declaration list:
/// houses ▸ taskers (framers, loggers, servers) ▸ frames ▸ acts per action context, plus the Flo
/// extension blocks. Names are resolved to indices; the AST stays the owner of all text. This is
/// the first half of semantic analysis; types and store slots come with code generation.
#pragma once

#include "compiler/sema/typed.h"
#include "lang/ast.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace flo::sema {

using lang::SourceRange;

enum class Schedule : std::uint8_t { Active, Inactive, Aux, Slave, Moot };
enum class Order : std::uint8_t { Front, Mid, Back };
const char* scheduleName(Schedule s);

inline constexpr std::size_t kNone = std::size_t(-1);
/// The most frames one outline may hold over each other (`frame a in b` nesting, docs/language.md
/// "Limits"); deeper frames are an error.
inline constexpr std::size_t kMaxFrameNesting = 200;

/// An action placed in a frame: the declaration and the context it runs in.
struct Act {
  const lang::Stmt* stmt = nullptr;
  lang::ActionContext context = lang::ActionContext::Native;
};

struct Frame {
  std::string name;
  const lang::FrameStmt* decl = nullptr;
  std::size_t over = kNone;             ///< parent frame index
  SourceRange overRange;                ///< where the parent was named
  std::optional<lang::Ident> overName;  ///< as written (resolved into `over`)
  std::optional<lang::Ident> underName; ///< explicit primary child (`under`)
  std::vector<std::size_t> unders;      ///< children, primary first (FLOSCRIPT.md §9.5)
  std::optional<lang::Ident> nextName;  ///< explicit `next`
  std::size_t next = kNone;             ///< explicit or lexical next frame
  std::vector<Act> acts;                ///< in declaration order
  std::vector<std::size_t> auxes;       ///< aux framer indices (plain and clones), in order
};

/// Hashes a std::string and a string_view alike, so a NameIndex is searched by view.
struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
/// Names to indexes: looked up for every reference, never walked in order.
using NameIndex = std::unordered_map<std::string, std::size_t, NameHash, std::equal_to<>>;

struct Tasker {
  enum class Kind : std::uint8_t { Framer, Logger, Server } kind = Kind::Framer;
  std::string name;
  const lang::TaskerStmt* decl = nullptr;
  Schedule schedule = Schedule::Inactive;
  Order order = Order::Mid;
  std::optional<lang::Ident> firstName;
  std::size_t first = kNone;
  std::vector<Frame> frames;
  NameIndex frameIndex;
  std::vector<std::string> logs; ///< loggers only
  bool referenced = false;       ///< named by aux, bid, fiat, need, done or rear
};

struct House {
  std::string name;
  SourceRange range;
  std::vector<Tasker> taskers;
  NameIndex taskerIndex;
};

/// A deed written in Flo.
struct DeedDef {
  std::string name;
  const lang::NameStmt* decl = nullptr;
  std::vector<const lang::Stmt*> body;
  std::shared_ptr<const tir::TypedDeed> typed; ///< null when the deed has errors
};

struct ExtensionBlock {
  std::string name;
  const lang::Stmt* decl = nullptr;
  std::vector<const lang::Stmt*> body;
};

/// A flow as semantic analysis checked it (docs/runtime.md, "Flows"): its stages typed, its
/// durations read, every name resolved. Lowering matches its source paths against the store.
struct FlowSpec {
  /// `by FIELD`: the partitions without `max`, and the most `max` may give (the runtime
  /// reserves a share for each: runtime/image.h's kMaxFieldPartitions, the same).
  static constexpr std::uint32_t kDefaultPartitions = 64, kMaxPartitions = 65536;
  enum class Window : std::uint8_t { Pass, Time, Count };
  enum class Policy : std::uint8_t { DropOldest, DropNewest, Block };
  struct Source {
    std::string path; ///< absolute, `*` segments match one segment each
    SourceRange range;
    std::string field = "value"; ///< the item: `value`, or a record's field (`from F in PATH`)
  };
  struct Stage {
    enum class Kind : std::uint8_t { Map, Filter } kind = Kind::Map;
    std::shared_ptr<const tir::TypedDeed> deed; ///< Map: one f64 input, one f64 output
    std::shared_ptr<const tir::Expr> filter;    ///< Filter: over `value` and `time`
    SourceRange range;
    std::string text; ///< the declaration, for messages
  };
  std::string name;
  SourceRange range;
  std::vector<Source> sources;
  std::vector<double> clocks; ///< `from every PERIOD`, seconds
  bool byKey = false;         ///< `by *`
  /// `by FIELD max N`: a partition per value of each record source's FIELD, as read at the
  /// write, at most `partitionLimit` of them, made as keys come (docs/runtime.md, "Flows").
  std::string byField;
  SourceRange byRange;
  std::uint32_t partitionLimit = 0; ///< by FIELD only
  Window window = Window::Pass;
  double length = 0, every = 0; ///< Time: seconds; every 0 = tumbling
  std::uint64_t count = 0;      ///< Count
  std::vector<Stage> stages;
  std::string reducer;                              ///< a built-in, or empty with reduceDeed
  std::shared_ptr<const tir::TypedDeed> reduceDeed; ///< a fold: inputs (acc, item), one output
  SourceRange reduceRange;
  std::string into; ///< the sink path, `*` segments filled by the partition's key
  SourceRange intoRange;
  std::uint32_t capacity = 1024; ///< `buffer N`: items a stage may hold
  Policy policy = Policy::DropOldest;
};

struct Model {
  std::vector<House> houses;
  std::vector<DeedDef> deeds;
  std::vector<ExtensionBlock> flows, jobs, contracts;
  /// Parallel to flows: each one checked (null when it has errors).
  std::vector<std::shared_ptr<const FlowSpec>> flowSpecs;
  /// Parallel to contracts: each one's typed state and actions (null when it has errors).
  std::vector<std::shared_ptr<const tir::TypedContract>> typedContracts;
};

} // namespace flo::sema
