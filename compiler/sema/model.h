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

struct Tasker {
  enum class Kind : std::uint8_t { Framer, Logger, Server } kind = Kind::Framer;
  std::string name;
  const lang::TaskerStmt* decl = nullptr;
  Schedule schedule = Schedule::Inactive;
  Order order = Order::Mid;
  std::optional<lang::Ident> firstName;
  std::size_t first = kNone;
  std::vector<Frame> frames;
  std::map<std::string, std::size_t, std::less<>> frameIndex;
  std::vector<std::string> logs; ///< loggers only
  bool referenced = false;       ///< named by aux, bid, fiat, need, done or rear
};

struct House {
  std::string name;
  SourceRange range;
  std::vector<Tasker> taskers;
  std::map<std::string, std::size_t, std::less<>> taskerIndex;
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

struct Model {
  std::vector<House> houses;
  std::vector<DeedDef> deeds;
  std::vector<ExtensionBlock> flows, jobs, contracts;
  /// Parallel to contracts: each one's typed state and actions (null when it has errors).
  std::vector<std::shared_ptr<const tir::TypedContract>> typedContracts;
};

} // namespace flo::sema
