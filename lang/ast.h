/// \file
/// The hand-written Flo AST. FloScript is flat — a program is a list of declarations whose
/// nesting is implied by order — so a Module is a list of statements; the checker rebuilds the
/// house ▸ framer ▸ frame structure. Every node carries its source range. Nodes own their children
/// by value or unique_ptr and have no behaviour: stages walk them from outside.
#pragma once

#include "lang/source_manager.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::lang {

/// A name as written (house, framer, frame, tasker, field, deed part...).
struct Ident {
  std::string text;
  SourceRange range;
};

/// The lexical class of a data word; the value it denotes depends on where it stands
/// (FLOSCRIPT.md §2: data vs need goals), so conversion is left to the consumer.
enum class WordKind : std::uint8_t {
  Number,  ///< 12, -1.5, 1e5, 0x1f, 0b11
  String,  ///< "..." or '...' (text keeps the quotes)
  Point,   ///< 1.5x2y, 1n2e, 1f2s (and 3-component forms)
  Coord,   ///< 40N30.5
  DotPath, ///< .a.b
  RelPath, ///< a.b
  Name,    ///< an identifier (or a non-reserved keyword)
  Chunk,   ///< any other word: file names, 10s, host:port
};

struct Word {
  WordKind kind = WordKind::Name;
  std::string text;
  SourceRange range;
};

/// `of ...` relation of a path (FLOSCRIPT.md §8).
enum class RelationKind : std::uint8_t { Root, Me, Framer, Frame, Actor };

struct Relation {
  RelationKind kind = RelationKind::Root;
  std::optional<Ident> target; ///< `me`, `main` or a name; absent means `me`
  SourceRange range;
};

/// A store address: a word (dotpath, relpath or bare name) and its `of` relations. In a need goal
/// the head may also be a literal.
struct Path {
  Word head;
  std::vector<Relation> relations;
  SourceRange range;

  bool absolute() const { return !head.text.empty() && head.text[0] == '.'; }
};

/// `[field ... in] path`.
struct FieldsPath {
  std::vector<Ident> fields;
  Path path;
  SourceRange range;
};

/// Direct data: `value` or `field value field value ...`, kept as written.
struct DirectData {
  std::vector<Word> words;
  SourceRange range;
};

enum class Comparison : std::uint8_t { Eq, Ne, Lt, Le, Ge, Gt };
const char* comparisonText(Comparison c);

enum class NeedKind : std::uint8_t { FramerState, AuxDone, Tasker, Mark, Compare };
enum class TaskerStatus : std::uint8_t { Done, Readied, Started, Running, Stopped, Aborted };
enum class AuxForm : std::uint8_t { Named, Any, All };

/// An optional part kept on the heap, with std::optional's interface: a need's rarely written
/// parts (`re`, `in frame`, `in framer`, a name, `by`, a tolerance) held all their room in
/// every need as std::optional (680 bytes a need, most of a `go` line's memory).
template <class T> class Boxed {
public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}
  Boxed(const T& v) : p_(std::make_unique<T>(v)) {}
  Boxed(T&& v) : p_(std::make_unique<T>(std::move(v))) {}
  Boxed(const Boxed& o) : p_(o.p_ ? std::make_unique<T>(*o.p_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<T>(*o.p_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  Boxed& operator=(const T& v) {
    p_ = std::make_unique<T>(v);
    return *this;
  }
  Boxed& operator=(T&& v) {
    p_ = std::make_unique<T>(std::move(v));
    return *this;
  }
  Boxed& operator=(std::nullopt_t) {
    p_.reset();
    return *this;
  }

  explicit operator bool() const { return p_ != nullptr; }
  // NOLINTNEXTLINE(readability-identifier-naming): std::optional's name, kept for its callers
  bool has_value() const { return p_ != nullptr; }
  T& operator*() { return *p_; }
  const T& operator*() const { return *p_; }
  T* operator->() { return p_.get(); }
  const T* operator->() const { return p_.get(); }
  const T& value() const {
    if (!p_) throw std::bad_optional_access();
    return *p_;
  }
  template <class... Args> T& emplace(Args&&... args) {
    p_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *p_;
  }
  void reset() { p_.reset(); }
  /// A copy as std::optional, for code that takes one.
  operator std::optional<T>() const { return p_ ? std::optional<T>(*p_) : std::nullopt; }

private:
  std::unique_ptr<T> p_;
};

/// One need of a condition (FLOSCRIPT.md §6). Fields are used according to `kind`.
struct Need {
  NeedKind kind = NeedKind::Compare;
  bool negated = false;
  SourceRange range;

  // FramerState: `elapsed|recurred [re framer] cmp goal [+- tol]`
  bool recurred = false;
  bool hasRe = false; ///< `re` written (with or without a framer: bare `re` means `re me`)
  Boxed<Ident> re;
  // AuxDone: `(aux name | any | all) [in frame [F]] [in framer [G]] is done`
  AuxForm auxForm = AuxForm::Named;
  bool auxKeyword = false; ///< written with the `aux` keyword
  bool inFrame = false;
  Boxed<Ident> frame;
  bool inFramer = false;
  Boxed<Ident> framer;
  // AuxDone / Tasker: the framer or tasker name
  Boxed<Ident> name;
  TaskerStatus status = TaskerStatus::Done;
  // Mark: `path is updated|changed [in frame [F]] [by marker]`
  bool changed = false;
  Boxed<Ident> by;
  // Compare (state), Mark (path)
  FieldsPath state;
  // Compare / FramerState
  std::optional<Comparison> comparison;
  std::optional<FieldsPath> goal;
  Boxed<Word> tolerance;
};

// ---------------------------------------------------------------- extension types and expressions

struct TypeRef {
  enum class Kind : std::uint8_t { Named, Map } kind = Kind::Named;
  Ident name; ///< Named
  std::unique_ptr<TypeRef> key, value;
  std::optional<Word> max;
  SourceRange range;
};

enum class ExprKind : std::uint8_t {
  Literal,
  Name,
  Path,
  Index,
  Call,
  Old,
  Aggregate,
  Neg,
  Not,
  Binary,
  Compare,
  And,
  Or,
  Cond
};

struct Expr {
  ExprKind kind = ExprKind::Literal;
  SourceRange range;
  std::string text; ///< literal text, name, path, callee, operator or aggregate
  Word literal;     ///< Literal
  std::optional<Comparison> comparison;
  std::vector<std::unique_ptr<Expr>> operands;
};

struct LValue {
  Ident name;
  std::unique_ptr<Expr> index;
  SourceRange range;
};

// ------------------------------------------------------------------------------ statements

enum class StmtKind : std::uint8_t {
  // FloScript
  Load,
  House,
  Init,
  Framer,
  First,
  Logger,
  Log,
  Loggee,
  Server,
  Frame,
  Over,
  Under,
  Next,
  Context,
  Put,
  Inc,
  Copy,
  Set,
  Print,
  Do,
  Go,
  Let,
  Timeout,
  Repeat,
  Aux,
  Done,
  Bid,
  Fiat,
  Rear,
  Raze,
  Reserved,
  // Flo extensions
  Deed,
  Port,
  Assign,
  Fail,
  Flow,
  Window,
  Map,
  Filter,
  Reduce,
  Buffer,
  Job,
  Needs,
  Price,
  Replicas,
  Trigger,
  JobRun,
  Limit,
  Contract,
  State,
  Invariant,
  Action,
  Requires,
  Ensures,
  Pay,
  Modifies,
};
const char* stmtKindName(StmtKind kind);

enum class ActionContext : std::uint8_t {
  Native,
  Benter,
  Enter,
  Renter,
  Precur,
  Recur,
  Exit,
  Rexit
};
const char* actionContextName(ActionContext c);
std::optional<ActionContext> actionContextByName(std::string_view name);

enum class Control : std::uint8_t { Start, Run, Stop, Abort, Ready };
const char* controlName(Control c);

struct Module;
struct Stmt;

/// True for an act whose context no context verb (`enter`, `recur`...) changes: the transitions
/// (`go`, `timeout`, `repeat`, always preacts), `let` (always a beact), `aux`, and a `do` with
/// its own `at CONTEXT`. The formatter prints them at the frame's body level, and
/// -Wmisleading-indentation leaves them alone.
bool hasOwnContext(const Stmt& s);

struct Stmt {
  explicit Stmt(StmtKind k) : kind(k) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  SourceRange range;     ///< the whole declaration, continuation lines included
  SourceRange verbRange; ///< the verb
};

template <StmtKind K> struct StmtOf : Stmt {
  static constexpr StmtKind kKind = K;
  StmtOf() : Stmt(K) {}
};

/// `load file`
struct LoadStmt : StmtOf<StmtKind::Load> {
  Word file;
  const Module* module = nullptr; ///< the loaded file, null when it could not be read
};

/// Statements that only name something: house, first, over, under, next, deed, job, contract,
/// map (flow stage).
struct NameStmt : Stmt {
  using Stmt::Stmt;
  std::optional<Ident> name; ///< absent only for `next` without argument
};

/// `init dest with data` · `init [fields in] dest from [fields in] src`
struct InitStmt : StmtOf<StmtKind::Init> {
  bool fromSource = false;
  bool deprecatedTo = false; ///< `to` used instead of `with`
  FieldsPath dest;
  DirectData data;
  FieldsPath src;
};

/// A clause of framer, logger, log or server.
struct TaskerClause {
  enum class Kind : std::uint8_t {
    Be,
    At,
    In,
    First,
    Via,
    To,
    Flush,
    Keep,
    Cycle,
    Size,
    Reuse,
    Rx,
    Tx,
    Per,
    For,
    As,
    On
  } kind;
  SourceRange range;
  std::optional<Ident> name;            ///< Be, In, First, As, On
  std::optional<Word> word;             ///< At, To, Flush, Keep, Cycle, Size, Rx, Tx
  std::optional<Path> path;             ///< Via
  std::optional<DirectData> data;       ///< Per
  std::optional<FieldsPath> fieldsPath; ///< For
};
const char* taskerClauseName(TaskerClause::Kind k);

/// framer, logger, log, server
struct TaskerStmt : Stmt {
  using Stmt::Stmt;
  Ident name;
  std::vector<TaskerClause> clauses;
};

struct Loggee {
  FieldsPath path;
  std::optional<Ident> tag;
  SourceRange range;
};
struct LoggeeStmt : StmtOf<StmtKind::Loggee> {
  std::vector<Loggee> loggees;
};

/// `frame name [in over] [via inode]`
struct FrameStmt : StmtOf<StmtKind::Frame> {
  Ident name;
  std::optional<Ident> over;
  std::optional<Path> via;
};

struct ContextStmt : StmtOf<StmtKind::Context> {
  ActionContext context = ActionContext::Native;
};

/// put, inc, copy, set.
struct DataStmt : Stmt {
  using Stmt::Stmt;
  enum class Form : std::uint8_t { Direct, FromSource } form = Form::Direct;
  /// set elapsed|recurred: the framer goal being written
  std::optional<Ident> framerGoal;
  bool deprecatedConnective = false; ///< `set elapsed to`, `set elapsed by`
  FieldsPath dest;
  DirectData data;
  FieldsPath src;
  std::optional<Word> goalValue; ///< set elapsed|recurred with value
};

/// `print ...`: the message exactly as Ioflo prints it (tokens joined by one space).
struct PrintStmt : StmtOf<StmtKind::Print> {
  std::string message;
};

struct DoClause {
  enum class Kind : std::uint8_t { At, Via, With, From, Per, For, Cum, Qua } kind;
  SourceRange range;
  std::optional<Ident> context;     ///< At
  std::optional<Path> path;         ///< Via
  std::optional<DirectData> data;   ///< With, Per, Cum
  std::optional<FieldsPath> source; ///< From, For, Qua
};
const char* doClauseName(DoClause::Kind k);

/// `do kind... [as name...] clauses...`
struct DoStmt : StmtOf<StmtKind::Do> {
  std::vector<Ident> kindParts;
  std::vector<Ident> asParts;
  SourceRange asRange;
  std::vector<DoClause> clauses;
  /// Registry key: parts Title-cased and joined (`do controller pid` -> ControllerPid).
  std::string registryKey() const;
};

/// `go target [if needs]`
struct GoStmt : StmtOf<StmtKind::Go> {
  Ident target;
  std::vector<Need> needs;
};

/// `let [me] if needs`
struct LetStmt : StmtOf<StmtKind::Let> {
  bool me = false;
  std::vector<Need> needs;
};

/// timeout, repeat, window
struct WordStmt : Stmt {
  using Stmt::Stmt;
  Word value;
};

/// `aux framer` · `aux framer as tag [via inode]` · `aux framer if needs`
struct AuxStmt : StmtOf<StmtKind::Aux> {
  Ident framer;
  std::optional<Ident> tag;
  std::optional<Path> via;
  bool conditional = false;
  std::vector<Need> needs;
};

/// `done [tasker...]`
struct DoneStmt : StmtOf<StmtKind::Done> {
  std::vector<Ident> taskers;
};

/// `bid control [tasker...] [at period]`
struct BidStmt : StmtOf<StmtKind::Bid> {
  Control control = Control::Start;
  std::vector<Ident> taskers;
  std::optional<FieldsPath> at;
};

/// `ready|start|run|stop|abort slave`
struct FiatStmt : StmtOf<StmtKind::Fiat> {
  Control control = Control::Start;
  Ident slave;
};

/// `rear original [as mine] [be aux] in frame name`
struct RearStmt : StmtOf<StmtKind::Rear> {
  Ident original;
  bool asMine = false;
  bool beAux = false;
  Ident frame;
};

/// `raze all|first|last [in frame [name]]`
struct RazeStmt : StmtOf<StmtKind::Raze> {
  enum class Which : std::uint8_t { All, First, Last } which = Which::All;
  bool inFrame = false;
  std::optional<Ident> frame;
};

/// use, flo, give, take: reserved, ignored.
struct ReservedStmt : StmtOf<StmtKind::Reserved> {
  std::string verb;
  std::string rest;
};

/// `input|output|local name as type` in a deed.
struct PortStmt : StmtOf<StmtKind::Port> {
  enum class Kind : std::uint8_t { Input, Output, Local } port = Kind::Input;
  Ident name;
  TypeRef type;
};

/// `let lvalue = expr` in a deed or contract action.
struct AssignStmt : StmtOf<StmtKind::Assign> {
  LValue target;
  std::unique_ptr<Expr> value;
};

/// `fail "message" if expr` in a deed or contract action.
struct FailStmt : StmtOf<StmtKind::Fail> {
  Word message;
  std::unique_ptr<Expr> condition;
};

/// `flow name [from PATH]... [from every PERIOD]... [by KEY]`
struct FlowStmt : StmtOf<StmtKind::Flow> {
  Ident name;
  std::vector<Path> sources;
  std::vector<std::optional<Ident>> sourceFields; ///< parallel to sources: `from FIELD in PATH`
  std::vector<Word> clocks;                       ///< `from every PERIOD`
  std::optional<Word> by;      ///< `by *` (the sources' `*` segments) or `by FIELD` (a field)
  std::optional<Word> byLimit; ///< `by FIELD max N`: at most N partitions
};

/// `window LENGTH [every SLIDE]`: a duration or a count of items, sliding when `every` is given.
struct WindowStmt : StmtOf<StmtKind::Window> {
  Word length;
  std::optional<Word> every;
};

/// `buffer CAPACITY [block | drop oldest | drop newest]`
struct BufferStmt : StmtOf<StmtKind::Buffer> {
  Word capacity;
  std::vector<Ident> policy;
};

/// filter, invariant, requires, ensures
struct ExprStmt : Stmt {
  using Stmt::Stmt;
  std::unique_ptr<Expr> expr;
};

/// `reduce fn into path`
struct ReduceStmt : StmtOf<StmtKind::Reduce> {
  Ident function;
  Path into;
};

/// `needs key value ...`
struct NeedsStmt : StmtOf<StmtKind::Needs> {
  std::vector<std::pair<Ident, Word>> items;
};

/// `price amount per unit [max cap]`
struct PriceStmt : StmtOf<StmtKind::Price> {
  Word amount;
  Ident unit;
  std::optional<Word> max;
};

/// `replicas n [placement]`
struct ReplicasStmt : StmtOf<StmtKind::Replicas> {
  Word count;
  std::optional<Ident> placement;
};

/// `trigger every seconds` · `trigger on path`
struct TriggerStmt : StmtOf<StmtKind::Trigger> {
  std::optional<Word> every;
  std::optional<Path> on;
};

/// `run framer|flow|deed name` in a job.
struct JobRunStmt : StmtOf<StmtKind::JobRun> {
  enum class Kind : std::uint8_t { Framer, Flow, Deed } target = Kind::Framer;
  Ident name;
};

/// `limit N passes` · `limit DURATION` in a job: how long one run may last.
struct LimitStmt : StmtOf<StmtKind::Limit> {
  Word amount;
  std::optional<Ident> unit; ///< `passes`; none for a duration
};

/// `state name as type` in a contract.
struct StateStmt : StmtOf<StmtKind::State> {
  Ident name;
  TypeRef type;
};

struct Param {
  Ident name;
  TypeRef type;
};
/// `action name [param as type]...` in a contract.
struct ActionStmt : StmtOf<StmtKind::Action> {
  Ident name;
  std::vector<Param> params;
};

/// `pay AMOUNT to DID` in a contract action: tokens from the contract to an account.
struct PayStmt : StmtOf<StmtKind::Pay> {
  std::unique_ptr<Expr> amount, recipient;
};

/// `modifies LOCATION...` in a contract action: the state it may change.
struct ModifiesStmt : StmtOf<StmtKind::Modifies> {
  std::vector<LValue> locations;
};

/// A comment, kept for the formatter.
struct Comment {
  SourceRange range;
  std::string text;
  bool trailing = false; ///< on the same line as a declaration
};

/// One file: its declarations in order.
struct Module {
  FileId file = kNoFile;
  std::vector<std::unique_ptr<Stmt>> stmts;
  std::vector<Comment> comments;
  /// Line (1-based) on which each statement starts, parallel to stmts: lets the formatter keep
  /// blank lines between declarations.
  std::vector<std::uint32_t> startLines;
  std::vector<std::uint32_t> endLines;
};

/// A parsed program: the root file and every file it loads.
struct Program {
  std::vector<std::unique_ptr<Module>> modules;
  const Module* root = nullptr;
  /// Declarations dropped because of syntax errors; later stages then avoid reporting what may
  /// only be their absence (a deed that "computes nothing" because its `let` did not parse).
  std::size_t droppedDeclarations = 0;
};

/// The name of a deed, flow, job or contract header. FlowStmt is not a NameStmt (it holds its
/// name as a plain Ident), so it must not be cast to one.
const Ident& blockIdent(const Stmt& s);

/// Downcast helper: `as<GoStmt>(stmt)`.
template <class T> const T& as(const Stmt& s) {
  return static_cast<const T&>(s);
}

} // namespace flo::lang
