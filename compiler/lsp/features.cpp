/// \file
/// Navigation: every name use in the document (frames, framers, deeds, flows, jobs,
/// contracts) resolved with the checker's scopes, for definition, references and hover.
#include "compiler/lsp/features.h"

#include "lang/format.h"
#include "stdlib/builtins.h"

namespace flo::lsp {

namespace {

using lang::Ident;
using lang::SourceRange;
using lang::Stmt;
using lang::StmtKind;

// ------------------------------------------------------------------------------- name uses

enum class RefKind : unsigned char { Frame, Tasker, Deed, Flow, Job, Contract };

/// A name as it stands in the document, with the scope it resolves in.
struct NameRef {
  RefKind kind;
  std::string name; ///< for a `do` deed: its registry key
  SourceRange range;
  const sema::House* house = nullptr;
  const sema::Tasker* tasker = nullptr;
};

/// Every frame, tasker, deed, flow, job and contract name in the document, walking the
/// declarations in order as the checker does (the current house and framer scope the names).
class RefCollector {
public:
  RefCollector(const Analysis& a) : a_(a) {}

  std::vector<NameRef> collect() {
    if (!a_.model || !a_.program) return {};
    for (const auto& module : a_.program->modules)
      if (module->file == a_.file)
        for (const auto& s : module->stmts) visit(*s);
    return std::move(refs_);
  }

private:
  void add(RefKind kind, const Ident& id, const sema::Tasker* tasker = nullptr) {
    if (id.range.file != a_.file || id.text.empty()) return;
    refs_.push_back({kind, id.text, id.range, house_, tasker ? tasker : tasker_});
  }
  void add(RefKind kind, const std::optional<Ident>& id) {
    if (id) add(kind, *id);
  }

  void needs(const std::vector<lang::Need>& list) {
    for (const auto& n : list) {
      switch (n.kind) {
      case lang::NeedKind::FramerState:
        add(RefKind::Tasker, n.re);
        break;
      case lang::NeedKind::AuxDone:
      case lang::NeedKind::Tasker:
        add(RefKind::Tasker, n.name);
        add(RefKind::Tasker, n.framer);
        add(RefKind::Frame, n.frame);
        break;
      default:
        break;
      }
    }
  }

  const sema::Tasker* findTasker(const Stmt& decl) const {
    for (const auto& h : a_.model->houses)
      for (const auto& t : h.taskers)
        if (t.decl == &decl) return &t;
    return nullptr;
  }

  void visit(const Stmt& s) {
    switch (s.kind) {
    case StmtKind::House: {
      const auto& n = static_cast<const lang::NameStmt&>(s);
      house_ = nullptr;
      tasker_ = nullptr;
      for (const auto& h : a_.model->houses)
        if (n.name && h.name == n.name->text) house_ = &h;
      break;
    }
    case StmtKind::Framer:
    case StmtKind::Logger:
    case StmtKind::Server: {
      const auto& t = static_cast<const lang::TaskerStmt&>(s);
      tasker_ = findTasker(s);
      add(RefKind::Tasker, t.name);
      for (const auto& c : t.clauses)
        if (c.kind == lang::TaskerClause::Kind::First) add(RefKind::Frame, c.name);
      break;
    }
    case StmtKind::First:
    case StmtKind::Over:
    case StmtKind::Under:
    case StmtKind::Next:
      add(RefKind::Frame, static_cast<const lang::NameStmt&>(s).name);
      break;
    case StmtKind::Frame: {
      const auto& f = lang::as<lang::FrameStmt>(s);
      add(RefKind::Frame, f.name);
      add(RefKind::Frame, f.over);
      break;
    }
    case StmtKind::Go: {
      const auto& g = lang::as<lang::GoStmt>(s);
      add(RefKind::Frame, g.target);
      needs(g.needs);
      break;
    }
    case StmtKind::Let:
      needs(lang::as<lang::LetStmt>(s).needs);
      break;
    case StmtKind::Aux: {
      const auto& x = lang::as<lang::AuxStmt>(s);
      add(RefKind::Tasker, x.framer);
      needs(x.needs);
      break;
    }
    case StmtKind::Done:
      for (const auto& t : lang::as<lang::DoneStmt>(s).taskers) add(RefKind::Tasker, t);
      break;
    case StmtKind::Bid:
      for (const auto& t : lang::as<lang::BidStmt>(s).taskers) add(RefKind::Tasker, t);
      break;
    case StmtKind::Fiat:
      add(RefKind::Tasker, lang::as<lang::FiatStmt>(s).slave);
      break;
    case StmtKind::Rear: {
      const auto& r = lang::as<lang::RearStmt>(s);
      add(RefKind::Tasker, r.original);
      add(RefKind::Frame, r.frame);
      break;
    }
    case StmtKind::Raze:
      add(RefKind::Frame, lang::as<lang::RazeStmt>(s).frame);
      break;
    case StmtKind::Do: {
      const auto& d = lang::as<lang::DoStmt>(s);
      if (d.kindParts.empty() || d.kindParts.front().range.file != a_.file) break;
      SourceRange r = d.kindParts.front().range.merge(d.kindParts.back().range);
      refs_.push_back({RefKind::Deed, d.registryKey(), r, house_, tasker_});
      break;
    }
    case StmtKind::Deed:
    case StmtKind::Map: {
      const auto& n = static_cast<const lang::NameStmt&>(s);
      if (n.name && n.name->range.file == a_.file)
        refs_.push_back({RefKind::Deed, stdlib::registryKey({n.name->text}), n.name->range});
      break;
    }
    case StmtKind::Flow:
      add(RefKind::Flow, lang::as<lang::FlowStmt>(s).name);
      break;
    case StmtKind::Job:
      add(RefKind::Job, static_cast<const lang::NameStmt&>(s).name);
      break;
    case StmtKind::Contract:
      add(RefKind::Contract, static_cast<const lang::NameStmt&>(s).name);
      break;
    case StmtKind::JobRun: {
      const auto& r = lang::as<lang::JobRunStmt>(s);
      if (r.target == lang::JobRunStmt::Kind::Deed) {
        if (r.name.range.file == a_.file)
          refs_.push_back({RefKind::Deed, stdlib::registryKey({r.name.text}), r.name.range});
      } else {
        // A job's framer may live in any house.
        const sema::House* saved = house_;
        house_ = nullptr;
        add(r.target == lang::JobRunStmt::Kind::Flow ? RefKind::Flow : RefKind::Tasker, r.name);
        house_ = saved;
      }
      break;
    }
    default:
      break;
    }
  }

  const Analysis& a_;
  const sema::House* house_ = nullptr;
  const sema::Tasker* tasker_ = nullptr;
  std::vector<NameRef> refs_;
};

const sema::Tasker* resolveTasker(const sema::Model& m, const NameRef& ref) {
  if (ref.house) {
    auto it = ref.house->taskerIndex.find(ref.name);
    if (it != ref.house->taskerIndex.end()) return &ref.house->taskers[it->second];
  }
  for (const auto& h : m.houses) {
    auto it = h.taskerIndex.find(ref.name);
    if (it != h.taskerIndex.end()) return &h.taskers[it->second];
  }
  return nullptr;
}

const sema::Frame* resolveFrame(const NameRef& ref) {
  if (!ref.tasker) return nullptr;
  auto it = ref.tasker->frameIndex.find(ref.name);
  return it == ref.tasker->frameIndex.end() ? nullptr : &ref.tasker->frames[it->second];
}

/// The declaration's name range for a reference, or an invalid range.
SourceRange resolve(const sema::Model& m, const NameRef& ref) {
  switch (ref.kind) {
  case RefKind::Frame:
    if (const auto* f = resolveFrame(ref)) return f->decl->name.range;
    break;
  case RefKind::Tasker:
    if (const auto* t = resolveTasker(m, ref)) return t->decl->name.range;
    break;
  case RefKind::Deed:
    for (const auto& d : m.deeds)
      if (stdlib::registryKey({d.name}) == ref.name && d.decl->name) return d.decl->name->range;
    break;
  case RefKind::Flow:
  case RefKind::Job:
  case RefKind::Contract: {
    const auto& blocks = ref.kind == RefKind::Flow  ? m.flows
                         : ref.kind == RefKind::Job ? m.jobs
                                                    : m.contracts;
    for (const auto& b : blocks)
      if (b.name == ref.name) return lang::blockIdent(*b.decl).range;
    break;
  }
  }
  return {};
}

std::optional<NameRef> refAt(const Analysis& a, std::uint32_t offset) {
  for (auto& ref : RefCollector(a).collect())
    if (ref.range.begin <= offset && offset <= ref.range.end) return ref;
  return std::nullopt;
}

/// The absolute share path (`.a.b.c`) around `offset`, or empty.
std::string sharePathAt(std::string_view text, std::uint32_t offset) {
  auto inPath = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '*';
  };
  std::uint32_t b = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  std::uint32_t e = b;
  while (b > 0 && inPath(text[b - 1])) --b;
  while (e < text.size() && inPath(text[e])) ++e;
  std::string_view word = text.substr(b, e - b);
  // A number (1.5) is no path; a path starts with '.' and is not only dots.
  if (word.size() < 2 || word[0] != '.' || std::isdigit(static_cast<unsigned char>(word[1])))
    return {};
  while (!word.empty() && word.back() == '.') word.remove_suffix(1);
  return std::string(word);
}

/// The declaration writing a share, and the path it writes.
const lang::FieldsPath* writtenPath(const Stmt& s) {
  switch (s.kind) {
  case StmtKind::Init:
    return &lang::as<lang::InitStmt>(s).dest;
  case StmtKind::Put:
  case StmtKind::Inc:
  case StmtKind::Copy:
  case StmtKind::Set:
    return &static_cast<const lang::DataStmt&>(s).dest;
  default:
    return nullptr;
  }
}

std::string markdownCode(const std::string& text) {
  return "```flo\n" + text + "\n```";
}

} // namespace

nlohmann::json definition(const Analysis& a, const LineIndex& index, const std::string& uri,
                          std::uint32_t offset) {
  auto ref = refAt(a, offset);
  if (!ref) return nullptr;
  SourceRange target = resolve(*a.model, *ref);
  if (!target.valid()) return nullptr;
  if (target.file == a.file)
    return {{"uri", uri}, {"range", rangeJson(index, target.begin, target.end)}};
  // A declaration in a loaded file.
  LineIndex other(a.sources.text(target.file));
  return {{"uri", uriFromPath(a.sources.path(target.file).string())},
          {"range", rangeJson(other, target.begin, target.end)}};
}

nlohmann::json references(const Analysis& a, const LineIndex& index, const std::string& uri,
                          std::uint32_t offset, bool includeDeclaration) {
  nlohmann::json out = nlohmann::json::array();
  auto refs = RefCollector(a).collect();
  const NameRef* at = nullptr;
  for (const auto& r : refs)
    if (r.range.begin <= offset && offset <= r.range.end) {
      at = &r;
      break;
    }
  if (!at) return out;
  SourceRange target = resolve(*a.model, *at);
  if (!target.valid()) return out;
  auto same = [](const SourceRange& x, const SourceRange& y) {
    return x.file == y.file && x.begin == y.begin && x.end == y.end;
  };
  for (const auto& r : refs) {
    if (r.kind != at->kind || !same(resolve(*a.model, r), target)) continue;
    if (!includeDeclaration && same(r.range, target)) continue;
    out.push_back({{"uri", uri}, {"range", rangeJson(index, r.range.begin, r.range.end)}});
  }
  return out;
}

nlohmann::json hover(const Analysis& a, const LineIndex& index, std::uint32_t offset) {
  if (!a.model) return nullptr;
  auto ref = refAt(a, offset);
  if (ref && ref->kind == RefKind::Deed) {
    for (const auto& d : a.model->deeds) {
      if (stdlib::registryKey({d.name}) != ref->name) continue;
      std::string ports;
      for (const Stmt* s : d.body)
        if (s->kind == StmtKind::Port) ports += lang::formatStatement(*s) + "\n";
      std::string text = "deed **" + d.name + "**";
      if (!ports.empty()) {
        ports.pop_back();
        text += "\n\n" + markdownCode(ports);
      }
      return {{"contents", {{"kind", "markdown"}, {"value", text}}},
              {"range", rangeJson(index, ref->range.begin, ref->range.end)}};
    }
    return nullptr; // a deed of the standard library: nothing to show yet
  }
  if (ref && ref->kind == RefKind::Frame) {
    const sema::Frame* f = resolveFrame(*ref);
    if (!f) return nullptr;
    std::string text = "frame **" + f->name + "** of framer **" + ref->tasker->name + "**";
    if (ref->house) text += " (house " + ref->house->name + ")";
    if (f->over != sema::kNone) text += ", in " + ref->tasker->frames[f->over].name;
    std::string acts;
    for (const auto& act : f->acts)
      acts += std::string(lang::actionContextName(act.context)) + ": " +
              lang::formatStatement(*act.stmt) + "\n";
    if (!acts.empty()) {
      acts.pop_back();
      text += "\n\nacts by context:\n" + markdownCode(acts);
    }
    return {{"contents", {{"kind", "markdown"}, {"value", text}}},
            {"range", rangeJson(index, ref->range.begin, ref->range.end)}};
  }
  std::string path = sharePathAt(a.sources.text(a.file), offset);
  if (path.empty() || !a.program) return nullptr;
  std::string writers;
  for (const auto& module : a.program->modules)
    for (const auto& s : module->stmts) {
      const lang::FieldsPath* dest = writtenPath(*s);
      const lang::Path* written = dest ? &dest->path : nullptr;
      if (s->kind == StmtKind::Reduce) written = &lang::as<lang::ReduceStmt>(*s).into;
      if (!written || !written->absolute() || written->head.text != path) continue;
      auto lc = a.sources.lineCol(s->range.file, s->range.begin);
      writers += a.sources.name(s->range.file) + ":" + std::to_string(lc.line) + ": " +
                 lang::formatStatement(*s) + "\n";
    }
  std::string text = "share **" + path + "**\n\n";
  if (a.ir) {
    // The fields and their types as lowering inferred them (one share per house).
    std::string types;
    for (const auto& share : a.ir->shares) {
      if (share.path != path) continue;
      for (std::size_t i = 0; i < share.fields.size() && i < share.types.size(); ++i)
        types +=
            (types.empty() ? "" : ", ") + share.fields[i] + ": " + ir::typeName(share.types[i]);
    }
    if (!types.empty()) text += "fields: `" + types + "`\n\n";
  }
  if (writers.empty()) {
    text +=
        "no `init`, `put`, `inc`, `copy`, `set` or flow `reduce` writes it (a deed's output may)";
  } else {
    writers.pop_back();
    text += "written by:\n" + markdownCode(writers);
  }
  return {{"contents", {{"kind", "markdown"}, {"value", text}}}};
}

} // namespace flo::lsp
