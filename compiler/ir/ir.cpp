/// \file
/// IR values and types, the printer (`floc --emit=ir`), the verifier and the static costs.
#include "compiler/ir/ir.h"

#include "compiler/sema/model.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ostream>
#include <set>

namespace flo::ir {

using image::ActKind;

std::string repr(const Value& v) {
  switch (v.tag) {
  case FLO_NONE:
    return "None";
  case FLO_BOOL:
    return v.i ? "True" : "False";
  case FLO_INT:
    return std::to_string(v.i);
  case FLO_FLOAT: {
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v.f);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".eni") == std::string::npos) s += ".0";
    return s;
  }
  case FLO_STR:
    return "'" + v.s + "'";
  case FLO_POINT: {
    static const char* const names[] = {"Pxy", "Pxyz", "Pne", "Pned", "Pfs", "Pfsb"};
    std::string out = std::string(names[v.i % 6]) + "(";
    for (std::size_t k = 0; k < v.point.size(); ++k) {
      char buf[64];
      auto r = std::to_chars(buf, buf + sizeof buf, v.point[k]);
      out += (k ? ", " : "") + std::string(buf, r.ptr);
    }
    return out + ")";
  }
  }
  return "?";
}

std::string pointBlob(const Value& v) {
  std::string blob(1, char(v.i));
  double c[3] = {0, 0, 0};
  for (std::size_t k = 0; k < v.point.size() && k < 3; ++k) c[k] = v.point[k];
  blob.append(reinterpret_cast<const char*>(c), sizeof c);
  return blob;
}

const char* typeName(Type t) {
  switch (t) {
  case Type::Unknown:
    return "unknown";
  case Type::None:
    return "none";
  case Type::Bool:
    return "bool";
  case Type::Int:
    return "int";
  case Type::Float:
    return "float";
  case Type::Number:
    return "number";
  case Type::Str:
    return "str";
  case Type::Point:
    return "point";
  case Type::Any:
    return "any";
  }
  return "?";
}

Type typeOf(const Value& v) {
  switch (v.tag) {
  case FLO_NONE:
    return Type::None;
  case FLO_BOOL:
    return Type::Bool;
  case FLO_INT:
    return Type::Int;
  case FLO_FLOAT:
    return Type::Float;
  case FLO_STR:
    return Type::Str;
  case FLO_POINT:
    return Type::Point;
  }
  return Type::Any;
}

/// The type lattice: None joins to anything (a share written before it is read); numbers join
/// to Number; anything else mixed is Any.
Type join(Type a, Type b) {
  if (a == b) return a;
  if (a == Type::Unknown || a == Type::None) return b;
  if (b == Type::Unknown || b == Type::None) return a;
  auto numeric = [](Type t) {
    return t == Type::Bool || t == Type::Int || t == Type::Float || t == Type::Number;
  };
  if (numeric(a) && numeric(b)) {
    if ((a == Type::Bool || a == Type::Int) && (b == Type::Bool || b == Type::Int))
      return Type::Int;
    return Type::Number;
  }
  return Type::Any;
}

std::uint32_t Program::slotCount() const {
  std::uint32_t n = 0;
  for (const auto& s : shares) n += std::uint32_t(s.fields.size());
  return n;
}

namespace {

const char* kListNames[] = {"benter", "enter", "renter", "precur", "recur", "exit", "rexit"};
const char* kSchedules[] = {"active", "inactive", "aux", "slave", "moot"};
const char* kControls[] = {"start", "run", "stop", "abort", "ready"};
const char* kCmps[] = {"==", "!=", "<", "<=", ">=", ">"};

std::string fieldName(const Program& p, FieldRef r) {
  if (!r.valid() || r.share >= p.shares.size()) return "<bad>";
  const Share& s = p.shares[r.share];
  if (r.field >= s.fields.size()) return s.path + ".<bad>";
  return s.fields[r.field] + " in " + s.path + " @" + std::to_string(s.firstSlot + r.field);
}

void printNeeds(const Program& p, const Function& f, std::ostream& out) {
  for (std::size_t i = 0; i < f.needs.size(); ++i) {
    const Need& n = f.needs[i];
    out << (i ? " and " : "") << (n.negated ? "not " : "");
    switch (n.op) {
    case Need::Op::Truthy:
      out << "truthy(" << fieldName(p, n.state) << ")";
      break;
    case Need::Op::Compare:
      out << "(" << fieldName(p, n.state) << ") " << kCmps[n.cmp] << " "
          << (n.goalIsRef ? "(" + fieldName(p, n.goalRef) + ")" : repr(n.goal));
      if (n.tolerance != 0) out << " +- " << n.tolerance;
      break;
    case Need::Op::Done:
      out << "done(" << p.taskers.at(n.tasker).name << ")";
      break;
    case Need::Op::Status:
      out << "status(" << p.taskers.at(n.tasker).name << ") == " << n.status;
      break;
    case Need::Op::AuxAny:
    case Need::Op::AuxAll:
      out << (n.op == Need::Op::AuxAny ? "any" : "all") << "-aux-done(frame #" << n.frame << ")";
      break;
    case Need::Op::Updated:
    case Need::Op::Changed:
      out << (n.op == Need::Op::Updated ? "updated(" : "changed(") << p.shares.at(n.share).path
          << ", mark " << n.mark << ")";
      break;
    }
  }
}

void printFunction(const Program& p, std::uint32_t i, std::ostream& out) {
  const Function& f = p.functions.at(i);
  out << "fn" << i << ": ";
  switch (f.kind) {
  case Function::Kind::Data: {
    const DataOp& d = f.data;
    const char* kind = d.kind == DataOp::Kind::Put   ? "put"
                       : d.kind == DataOp::Kind::Inc ? (d.fromSource ? "inc-from" : "inc")
                                                     : "copy";
    out << kind;
    for (std::size_t k = 0; k < d.fields.size(); ++k) {
      out << (k ? ", " : " ") << "(" << fieldName(p, {d.share, d.fields[k]}) << ")";
      if (k < d.values.size())
        out << (d.kind == DataOp::Kind::Put ? " = " : " += ") << repr(d.values[k]);
      if (k < d.sources.size())
        out << (d.kind == DataOp::Kind::Copy ? " = (" : " += (") << fieldName(p, d.sources[k])
            << ")";
    }
    break;
  }
  case Function::Kind::Needs:
    out << "needs ";
    printNeeds(p, f, out);
    break;
  case Function::Kind::Deed: {
    const Deed& d = p.deeds.at(f.deed.deed);
    out << "deed " << d.name << "(";
    for (std::size_t k = 0; k < f.deed.ports.size(); ++k)
      out << (k ? ", " : "") << d.ports[k] << " = (" << fieldName(p, f.deed.ports[k]) << ")";
    out << ")";
    break;
  }
  }
  out << "\n";
}

} // namespace

void print(const Program& p, std::ostream& out) {
  out << "; Flo IR: " << p.houses.size() << " houses, " << p.shares.size() << " shares, "
      << p.slotCount() << " slots, " << p.taskers.size() << " taskers, " << p.frames.size()
      << " frames, " << p.acts.size() << " acts, " << p.functions.size() << " functions\n";
  for (std::uint32_t h = 0; h < p.houses.size(); ++h) {
    const House& house = p.houses[h];
    out << "\nhouse " << house.name << "\n  queue:";
    for (auto t : house.queue) out << " " << p.taskers[t].name;
    out << "\n  store:\n";
    for (const auto& s : p.shares) {
      if (s.house != h) continue;
      out << "    " << s.path;
      for (std::size_t k = 0; k < s.fields.size(); ++k)
        out << " " << s.fields[k] << "@" << s.firstSlot + k << ":"
            << typeName(k < s.types.size() ? s.types[k] : Type::Unknown) << "="
            << repr(s.values[k]);
      out << "\n";
    }
  }
  for (std::uint32_t t = 0; t < p.taskers.size(); ++t) {
    const Tasker& tk = p.taskers[t];
    out << "\ntasker #" << t << " " << tk.name << " be " << kSchedules[std::uint32_t(tk.schedule)]
        << " at " << tk.period;
    if (tk.first != kNone) out << " first " << p.frames[tk.first].name;
    if (!tk.cloneOf.empty()) out << " (clone of " << tk.cloneOf << ")";
    out << "\n";
    for (auto fi : tk.frames) {
      const Frame& f = p.frames[fi];
      out << "  frame #" << fi << " " << f.name << "  outline " << f.humanFull;
      if (f.next != kNone) out << "  next " << p.frames[f.next].name;
      if (!f.auxes.empty()) {
        out << "  auxes";
        for (auto a : f.auxes) out << " " << p.taskers[a].name;
      }
      out << "\n";
      for (std::uint32_t l = 0; l < image::kActLists; ++l) {
        for (auto ai : f.lists[l]) {
          const Act& a = p.acts[ai];
          out << "    " << kListNames[l] << " #" << ai << " ";
          switch (a.kind) {
          case ActKind::Fn:
            out << "call fn" << a.fn;
            break;
          case ActKind::Print:
            out << "print \"" << a.message << "\"";
            break;
          case ActKind::Go:
            out << "go " << p.frames[a.target].name;
            if (a.fn != kNone) out << " if fn" << a.fn;
            break;
          case ActKind::Let:
            out << "let if fn" << a.fn;
            break;
          case ActKind::CondAux:
            out << "aux " << p.taskers[a.target].name << " if fn" << a.fn;
            break;
          case ActKind::Bid:
            out << "bid " << kControls[a.control];
            for (auto t2 : a.taskers) out << " " << p.taskers[t2].name;
            if (a.periodKind == 1) out << " at " << a.period;
            if (a.periodKind == 2) out << " at (" << fieldName(p, a.periodRef) << ")";
            break;
          case ActKind::Done:
            out << "done";
            for (auto t2 : a.taskers) out << " " << p.taskers[t2].name;
            break;
          case ActKind::Fiat:
            out << kControls[a.control] << " " << p.taskers[a.target].name;
            break;
          case ActKind::Mark:
            out << "mark " << a.target << " " << p.shares[a.share].path;
            break;
          case ActKind::Nop:
            out << "nop";
            break;
          case ActKind::Rear:
            out << "rear in " << p.frames[a.target].name << " from";
            for (auto t2 : a.taskers) out << " " << p.taskers[t2].name;
            break;
          case ActKind::Raze:
            out << "raze "
                << (a.control == 0   ? "all"
                    : a.control == 1 ? "first"
                                     : "last")
                << " in " << p.frames[a.target].name;
            break;
          }
          out << "    ; " << a.what << "\n";
        }
      }
    }
  }
  out << "\n";
  for (std::uint32_t i = 0; i < p.functions.size(); ++i) printFunction(p, i, out);
  for (const Deed& d : p.deeds) {
    out << "\ndeed " << d.name << "\n";
    if (d.typed) tir::print(d.typed->vars, d.typed->body, out, "  ");
  }
  static const char* const windows[] = {"pass", "time", "count"};
  static const char* const policies[] = {"drop oldest", "drop newest", "block"};
  static const char* const reducers[] = {"mean",  "sum",  "min",    "max", "count",
                                         "first", "last", "median", "deed"};
  for (const Flow& f : p.flows) {
    out << "\nflow " << f.name << "  window " << windows[int(f.window)];
    if (f.window == Flow::Window::Time) out << " " << f.length << "s every " << f.every << "s";
    if (f.window == Flow::Window::Count) out << " " << f.count;
    out << "  buffer " << f.capacity << " " << policies[int(f.policy)] << "\n";
    if (!f.byField.empty())
      out << "  by " << f.byField << " max " << f.partitionLimit << " into " << f.into << "\n";
    for (const auto& s : f.sources) {
      out << "  from (" << fieldName(p, s.field) << ")";
      if (s.key.valid())
        out << " keyed by (" << fieldName(p, s.key) << ")\n";
      else
        out << " -> partition " << s.partition << "\n";
    }
    for (double c : f.clocks) out << "  from every " << c << "s\n";
    for (const auto& st : f.stages) {
      if (st.kind == Flow::Stage::Kind::Map) {
        out << "  map " << st.deed->name << "\n";
      } else {
        std::vector<tir::Var> vars(2);
        vars[0].name = "value";
        vars[1].name = "time";
        out << "  filter " << tir::printExpr(vars, *st.filter) << "\n";
      }
    }
    out << "  reduce " << reducers[int(f.reducer)]
        << (f.reduceDeed ? " " + f.reduceDeed->name : std::string()) << "\n";
    for (std::size_t k = 0; k < f.sinks.size(); ++k)
      out << "  sink " << k << (f.keys[k].empty() ? "" : " [" + f.keys[k] + "]") << " ("
          << fieldName(p, f.sinks[k]) << ")\n";
  }
  for (const Job& j : p.jobs) {
    out << "job " << j.name << ": runs "
        << (j.runs == Job::Runs::Framer
                ? "framer " + j.target + " (tasker " + std::to_string(j.tasker) + "), limit " +
                      std::to_string(j.limitPasses) + " passes"
            : j.runs == Job::Runs::Flow
                ? "flow " + j.target + " (flow " + std::to_string(j.flow) + "), limit " +
                      std::to_string(j.limitPasses) + " passes"
                : "deed " + j.target + " (fn" + std::to_string(j.fn) + ")")
        << ", trigger " << (j.triggerText.empty() ? "none" : j.triggerText) << ", bound "
        << j.costBound << " work units\n";
  }
}

std::vector<std::string> verify(const Program& p) {
  std::vector<std::string> problems;
  auto bad = [&](std::string what) { problems.push_back(std::move(what)); };
  auto checkRef = [&](FieldRef r, const std::string& where) {
    if (!r.valid() || r.share >= p.shares.size() || r.field >= p.shares[r.share].fields.size())
      bad(where + ": field reference out of range");
  };
  std::uint32_t slot = 0;
  for (const auto& s : p.shares) {
    if (s.firstSlot != slot) bad("share " + s.path + ": slots are not contiguous");
    if (s.values.size() != s.fields.size()) bad("share " + s.path + ": values and fields differ");
    slot += std::uint32_t(s.fields.size());
  }
  for (std::uint32_t h = 0; h < p.houses.size(); ++h)
    for (auto t : p.houses[h].queue)
      if (t >= p.taskers.size() || p.taskers[t].house != h) bad("house queue names a bad tasker");
  for (std::uint32_t f = 0; f < p.frames.size(); ++f) {
    const Frame& fr = p.frames[f];
    if (fr.framer >= p.taskers.size()) bad("frame " + fr.name + ": bad framer");
    if (fr.outline.empty() ||
        std::find(fr.outline.begin(), fr.outline.end(), f) == fr.outline.end())
      bad("frame " + fr.name + ": not in its own outline");
    for (auto o : fr.outline)
      if (o >= p.frames.size() || p.frames[o].framer != fr.framer)
        bad("frame " + fr.name + ": outline leaves its framer");
    for (const auto& l : fr.lists)
      for (auto a : l)
        if (a >= p.acts.size()) bad("frame " + fr.name + ": bad act");
    for (auto a : fr.auxes)
      if (a >= p.taskers.size() || p.taskers[a].schedule != image::Schedule::Aux)
        bad("frame " + fr.name + ": aux is not an aux framer");
  }
  for (std::uint32_t i = 0; i < p.acts.size(); ++i) {
    const Act& a = p.acts[i];
    std::string where = "act #" + std::to_string(i);
    if (a.fn != kNone && a.fn >= p.functions.size()) bad(where + ": bad function");
    if ((a.kind == ActKind::Go || a.kind == ActKind::Rear || a.kind == ActKind::Raze) &&
        a.target >= p.frames.size())
      bad(where + ": bad target");
    if ((a.kind == ActKind::CondAux || a.kind == ActKind::Fiat) && a.target >= p.taskers.size())
      bad(where + ": bad tasker");
    if (a.loc >= p.locations.size()) bad(where + ": bad location");
  }
  for (std::uint32_t i = 0; i < p.functions.size(); ++i) {
    const Function& f = p.functions[i];
    std::string where = "fn" + std::to_string(i);
    if (f.kind == Function::Kind::Data) {
      for (auto k : f.data.fields) checkRef({f.data.share, k}, where);
      for (auto r : f.data.sources) checkRef(r, where);
    }
    for (const auto& n : f.needs) {
      if (n.op == Need::Op::Compare || n.op == Need::Op::Truthy) checkRef(n.state, where);
      if (n.goalIsRef) checkRef(n.goalRef, where);
      if (n.mark != kNone && n.mark >= p.marks) bad(where + ": bad mark");
    }
    if (f.kind == Function::Kind::Deed)
      for (auto r : f.deed.ports) checkRef(r, where);
  }
  for (const auto& fl : p.flows) {
    std::string where = "flow " + fl.name;
    const bool byField = !fl.byField.empty();
    for (const auto& s : fl.sources) {
      checkRef(s.field, where);
      if (byField != s.key.valid()) bad(where + ": a source's key disagrees with `by`");
      if (byField)
        checkRef(s.key, where);
      else if (s.partition >= fl.sinks.size())
        bad(where + ": a source feeds no partition");
    }
    for (auto r : fl.sinks) checkRef(r, where);
    if (fl.keys.size() != fl.sinks.size()) bad(where + ": keys and sinks differ");
    if (byField && (fl.partitionLimit == 0 || fl.partitionLimit > image::kMaxFieldPartitions ||
                    !fl.clocks.empty() || fl.into.empty()))
      bad(where + ": `by " + fl.byField + "` without a limit, with clocks or without a sink");
    if (!byField && fl.sinks.empty()) bad(where + ": no sink");
    for (const auto& st : fl.stages)
      if (st.kind == Flow::Stage::Kind::Map ? !st.deed : !st.filter)
        bad(where + ": a stage without its body");
    if ((fl.reducer == Flow::Reducer::Deed) != bool(fl.reduceDeed))
      bad(where + ": reducer and fold disagree");
    if (fl.capacity == 0) bad(where + ": zero capacity");
  }
  return problems;
}

static_assert(sema::FlowSpec::kMaxPartitions == image::kMaxFieldPartitions,
              "the checker and the runtime bound `by FIELD max N` alike");

std::size_t Program::madeShares() const {
  std::size_t n = 0;
  for (const auto& f : flows) n += f.runtimeShares();
  return n;
}

std::vector<bool> Program::tapped() const {
  std::vector<bool> out(shares.size(), false);
  for (const auto& f : flows)
    for (const auto& s : f.sources) out.at(s.field.share) = true;
  return out;
}

std::size_t work(const tir::Expr& e) {
  std::size_t n = 1;
  for (const auto& a : e.args) n += work(a);
  return n;
}

std::size_t work(const tir::TypedDeed& d) {
  std::size_t n = 0;
  for (const auto& s : d.body) n += work(s.value) + (s.index ? work(*s.index) : 0);
  return n;
}

std::size_t Flow::stageWork() const {
  std::size_t n = 0;
  for (const auto& st : stages) n += st.deed ? work(*st.deed) : work(*st.filter);
  return n;
}

std::size_t Flow::itemWork() const {
  return 1 + stageWork() + (reduceDeed ? work(*reduceDeed) : 0);
}

std::vector<FlowCost> flowCosts(const Program& p) {
  std::vector<FlowCost> out;
  for (const auto& f : p.flows) {
    FlowCost c;
    c.name = f.name;
    c.partitions = f.partitionBound();
    c.byField = f.byField;
    c.worstItems = f.capacity + (f.keepsItems() ? std::size_t(f.capacity) * f.partitionBound() : 0);
    c.worstBytes = c.worstItems * 16;
    c.workPerItem = f.stageWork();
    c.workPerWindow = f.reduceDeed ? work(*f.reduceDeed) : 1;
    out.push_back(c);
  }
  return out;
}

std::vector<Cost> costs(const Program& p) {
  std::vector<Cost> out;
  for (const auto& t : p.taskers) {
    Cost c;
    c.what = "framer " + t.name;
    c.frames = t.frames.size();
    std::set<std::uint32_t> shares;
    std::size_t worst = 0;
    for (auto fi : t.frames) {
      const Frame& f = p.frames[fi];
      for (const auto& l : f.lists) c.acts += l.size();
      std::size_t perPass = 0;
      for (auto o : f.outline)
        for (const auto& l : p.frames[o].lists) perPass += l.size();
      worst = std::max(worst, perPass);
      for (const auto& l : f.lists)
        for (auto ai : l) {
          const Act& a = p.acts[ai];
          if (a.fn == kNone) continue;
          const Function& fn = p.functions[a.fn];
          if (fn.kind == Function::Kind::Data) {
            shares.insert(fn.data.share);
            for (auto r : fn.data.sources) shares.insert(r.share);
          }
          for (const auto& n : fn.needs)
            if (n.state.valid()) shares.insert(n.state.share);
        }
    }
    c.worstActsPerPass = worst;
    c.shares = shares.size();
    for (auto s : shares) c.slots += p.shares[s].fields.size();
    out.push_back(c);
  }
  for (const auto& d : p.deeds) {
    Cost c;
    c.what = "deed " + d.name;
    c.slots = d.ports.size();
    out.push_back(c);
  }
  return out;
}

} // namespace flo::ir

namespace flo::ir {

std::uint64_t functionWork(const Program& p, std::uint32_t fn) {
  if (fn >= p.functions.size()) return 0;
  const Function& f = p.functions[fn];
  if (f.kind != Function::Kind::Deed || f.deed.deed >= p.deeds.size()) return 0;
  return p.deeds[f.deed.deed].stmtLocs.size();
}

namespace {

/// Work bounds per tasker, memoised. One turn of a framer runs each of its act lists at most
/// once (FLOSCRIPT.md §9.2: start is enter + recur, run is segue + recur with at most one
/// transition, stop is exit), except its guards (benter acts and the start checks of auxes),
/// which every transition attempt and the start check evaluate again. A tasker it runs inside
/// its turn (a plain or conditional aux, a slave by fiat, a reared clone) can be started, run
/// and stopped in one turn: three of its turns.
class WorkBound {
public:
  explicit WorkBound(const Program& p)
      : p_(p), pass_(p.taskers.size()), guards_(p.taskers.size()), state_(p.taskers.size(), 0) {}

  std::optional<std::uint64_t> pass(std::uint32_t t) {
    if (!visit(t)) return std::nullopt;
    return pass_[t];
  }
  std::string why;

private:
  static std::uint64_t add(std::uint64_t a, std::uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
  }
  static std::uint64_t mul(std::uint64_t a, std::uint64_t b) {
    return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
  }
  std::uint64_t actWork(const Act& a) const {
    return 1 + (a.kind == ActKind::Fn ? functionWork(p_, a.fn) : 0);
  }

  bool visit(std::uint32_t t) {
    if (state_[t] == 2) return true;
    if (state_[t] == 1) {
      why = "framer '" + p_.taskers[t].name + "' runs itself (through auxes or fiats)";
      return false;
    }
    state_[t] = 1;
    std::uint64_t acts = 0, guards = 0, attempts = 1;
    // Taskers run inside this one's turn: by its body (once a turn), or by a guard (each time
    // the guards run); and those whose start checks are among this one's guards.
    std::vector<std::uint32_t> nested, guardNested, checked;
    for (auto fi : p_.taskers[t].frames) {
      const Frame& f = p_.frames[fi];
      for (auto x : f.auxes) nested.push_back(x), checked.push_back(x);
      for (std::uint32_t l = 0; l < image::kActLists; ++l) {
        const bool guard = l == std::uint32_t(image::ActList::Benter);
        auto& runs = guard ? guardNested : nested;
        for (auto ai : f.lists[l]) {
          const Act& a = p_.acts[ai];
          if (guard)
            guards = add(guards, actWork(a));
          else
            acts = add(acts, actWork(a));
          if (a.kind == ActKind::Go || a.kind == ActKind::CondAux) ++attempts;
          if (a.kind == ActKind::CondAux || a.kind == ActKind::Fiat) {
            runs.push_back(a.target);
            if (a.kind == ActKind::CondAux) checked.push_back(a.target);
          }
          if (a.kind == ActKind::Rear)
            for (auto x : a.taskers) runs.push_back(x), checked.push_back(x);
        }
      }
    }
    std::uint64_t inner = 0;
    for (auto x : nested) {
      if (!visit(x)) return false;
      inner = add(inner, mul(3, pass_[x]));
    }
    for (auto x : guardNested) {
      if (!visit(x)) return false;
      guards = add(guards, mul(3, pass_[x]));
    }
    for (auto x : checked) guards = add(guards, guards_[x]);
    guards_[t] = guards;
    pass_[t] = add(add(acts, inner), mul(attempts, guards));
    state_[t] = 2;
    return true;
  }

  const Program& p_;
  std::vector<std::uint64_t> pass_, guards_;
  std::vector<char> state_; ///< 0 not seen, 1 being computed, 2 done
};

} // namespace

std::optional<std::uint64_t> passWork(const Program& p, std::uint32_t t, std::string& why) {
  WorkBound w(p);
  auto r = w.pass(t);
  if (!r) why = w.why;
  return r;
}

std::optional<std::uint64_t> flowPassWork(const Flow& f, std::string& why) {
  if (f.policy == Flow::Policy::Block) {
    why = "flow '" + f.name +
          "' has a `block` buffer, so the items one pass takes are as many as its sources' "
          "writes; give it `buffer N drop oldest` or `drop newest`";
    return std::nullopt;
  }
  // Each pass a flow takes at most a full buffer written before its run, and a full buffer that
  // flows declared after it wrote after its run in the pass before.
  const std::uint64_t items = 2 * std::uint64_t(f.capacity), partitions = f.partitionBound();
  const std::uint64_t perItem = f.itemWork();
  // Windows one pass writes: a tumbling or pass window one per partition; a sliding window
  // one per `every` in a pass of 0.125 s, and one more; a count window at most one per item.
  std::uint64_t windows = partitions;
  if (f.window == Flow::Window::Count) windows = partitions * items;
  if (f.window == Flow::Window::Time && f.every > 0)
    windows = partitions * (std::uint64_t(std::ceil(0.125 / f.every)) + 1);
  std::uint64_t perWindow = 1 + (f.keepsItems() ? items : 0);
  return items * perItem + windows * perWindow;
}

std::optional<std::uint64_t> runWork(const Program& p, const Job& job, std::string& why) {
  if (job.runs == Job::Runs::Deed) return 1 + functionWork(p, job.fn);
  if (job.limitPasses == 0) {
    why = (job.runs == Job::Runs::Flow ? "flow '" : "framer '") + job.target + "' has no limit";
    return std::nullopt;
  }
  if (job.runs == Job::Runs::Flow) {
    auto pass = flowPassWork(p.flows.at(job.flow), why);
    if (!pass) return std::nullopt;
    return (std::uint64_t(job.limitPasses) + 1) * *pass;
  }
  auto pass = passWork(p, job.tasker, why);
  if (!pass) return std::nullopt;
  // `limit` passes, then the stop that ends a run still going (its exit acts).
  std::uint64_t turns = std::uint64_t(job.limitPasses) + 1;
  if (*pass != 0 && turns > UINT64_MAX / *pass) {
    why = "the bound does not fit in 64 bits";
    return std::nullopt;
  }
  return turns * *pass;
}

} // namespace flo::ir
