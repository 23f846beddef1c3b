/// \file
/// Outline, formatting, definition and hover, computed from the AST and the checker's model.
#include "compiler/lsp/features.h"

#include "lang/format.h"
#include "lang/parser.h"
#include "stdlib/builtins.h"

#include <set>
#include <sstream>

namespace flo::lsp {

namespace {

using lang::Ident;
using lang::SourceRange;
using lang::Stmt;
using lang::StmtKind;

// LSP SymbolKind values.
constexpr int kModule = 2, kNamespace = 3, kClass = 5, kMethod = 6, kInterface = 11, kFunction = 12,
              kObject = 19, kEvent = 24;

nlohmann::json symbol(const LineIndex& index, const std::string& name, int kind,
                      std::uint32_t begin, std::uint32_t end, const SourceRange& selection,
                      const std::string& detail = {}) {
  nlohmann::json s = {{"name", name.empty() ? std::string("?") : name},
                      {"kind", kind},
                      {"range", rangeJson(index, begin, std::max(end, selection.end))},
                      {"selectionRange", rangeJson(index, selection.begin, selection.end)},
                      {"children", nlohmann::json::array()}};
  if (!detail.empty()) s["detail"] = detail;
  return s;
}

std::uint32_t frameEnd(const sema::Frame& f) {
  std::uint32_t end = f.decl->range.end;
  for (const auto& act : f.acts) end = std::max(end, act.stmt->range.end);
  return end;
}

const Ident& blockIdent(const Stmt& s) {
  if (s.kind == StmtKind::Flow) return lang::as<lang::FlowStmt>(s).name;
  return *static_cast<const lang::NameStmt&>(s).name;
}

std::uint32_t blockEnd(const Stmt* decl, const std::vector<const Stmt*>& body) {
  std::uint32_t end = decl->range.end;
  for (const Stmt* s : body) end = std::max(end, s->range.end);
  return end;
}

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
      if (b.name == ref.name) return blockIdent(*b.decl).range;
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

bool isPathChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '*';
}

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

/// The framer and house the declaration at `offset` belongs to: the last ones declared before it.
std::pair<const sema::House*, const sema::Tasker*> scopeAt(const Analysis& a,
                                                           std::uint32_t offset) {
  const sema::House* house = nullptr;
  const sema::Tasker* tasker = nullptr;
  if (!a.model || !a.program) return {house, tasker};
  for (const auto& module : a.program->modules) {
    if (module->file != a.file) continue;
    for (const auto& s : module->stmts) {
      if (s->range.begin > offset) break;
      if (s->kind == StmtKind::House) {
        const auto& n = static_cast<const lang::NameStmt&>(*s);
        for (const auto& h : a.model->houses)
          if (n.name && h.name == n.name->text) house = &h;
        tasker = nullptr;
      } else if (s->kind == StmtKind::Framer) {
        for (const auto& h : a.model->houses)
          for (const auto& t : h.taskers)
            if (t.decl == s.get()) tasker = &t;
      }
    }
  }
  return {house, tasker};
}

} // namespace

nlohmann::json documentSymbols(const Analysis& a, const LineIndex& index) {
  nlohmann::json out = nlohmann::json::array();
  if (!a.model) return out;
  const sema::Model& m = *a.model;
  for (const auto& h : m.houses) {
    nlohmann::json taskers = nlohmann::json::array();
    std::uint32_t houseBegin = h.range.file == a.file ? h.range.begin : UINT32_MAX;
    std::uint32_t houseEnd = h.range.file == a.file ? h.range.end : 0;
    for (const auto& t : h.taskers) {
      if (!t.decl || t.decl->range.file != a.file) continue;
      nlohmann::json frames = nlohmann::json::array();
      std::uint32_t end = t.decl->range.end;
      for (const auto& f : t.frames) {
        if (!f.decl) continue;
        std::uint32_t fe = frameEnd(f);
        end = std::max(end, fe);
        std::string detail = f.over != sema::kNone ? "in " + t.frames[f.over].name : "";
        frames.push_back(
            symbol(index, f.name, kMethod, f.decl->range.begin, fe, f.decl->name.range, detail));
      }
      int kind = t.kind == sema::Tasker::Kind::Framer ? kClass : kObject;
      const char* what = t.kind == sema::Tasker::Kind::Framer   ? "framer"
                         : t.kind == sema::Tasker::Kind::Logger ? "logger"
                                                                : "server";
      auto sym = symbol(index, t.name, kind, t.decl->range.begin, end, t.decl->name.range,
                        std::string(what) + " " + sema::scheduleName(t.schedule));
      sym["children"] = std::move(frames);
      taskers.push_back(std::move(sym));
      houseBegin = std::min(houseBegin, t.decl->range.begin);
      houseEnd = std::max(houseEnd, end);
    }
    if (houseBegin == UINT32_MAX) continue; // a house of a loaded file
    SourceRange sel =
        h.range.file == a.file ? h.range : SourceRange{a.file, houseBegin, houseBegin};
    auto sym = symbol(index, h.name, kNamespace, houseBegin, houseEnd, sel, "house");
    sym["children"] = std::move(taskers);
    out.push_back(std::move(sym));
  }
  for (const auto& d : m.deeds) {
    if (!d.decl || !d.decl->name || d.decl->range.file != a.file) continue;
    out.push_back(symbol(index, d.name, kFunction, d.decl->range.begin, blockEnd(d.decl, d.body),
                         d.decl->name->range, "deed"));
  }
  auto blocks = [&](const std::vector<sema::ExtensionBlock>& list, int kind, const char* what) {
    for (const auto& b : list) {
      if (!b.decl || b.decl->range.file != a.file) continue;
      out.push_back(symbol(index, b.name, kind, b.decl->range.begin, blockEnd(b.decl, b.body),
                           blockIdent(*b.decl).range, what));
    }
  };
  blocks(m.flows, kEvent, "flow");
  blocks(m.jobs, kModule, "job");
  blocks(m.contracts, kInterface, "contract");
  return out;
}

std::optional<std::string> formatDocument(const std::string& name, const std::string& text,
                                          std::string& error) {
  // As `floc fmt`: loads are not followed, comments are kept.
  lang::SourceManager sources;
  lang::Diagnostics diags(sources);
  auto id = sources.addBuffer(name, text);
  lang::ParseOptions po;
  po.followLoads = false;
  po.keepComments = true;
  auto program = lang::parseProgram(sources, id, diags, po);
  if (diags.hasErrors()) {
    for (const auto& d : diags.all()) {
      if (d.severity != lang::Severity::Error) continue;
      auto lc = sources.lineCol(id, d.range.begin);
      error = "not formatted: syntax error at " + std::to_string(lc.line) + ":" +
              std::to_string(lc.column) + ": " + d.message;
      break;
    }
    return std::nullopt;
  }
  std::ostringstream formatted;
  lang::formatModule(*program->root, sources, formatted);
  return formatted.str();
}

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

nlohmann::json completion(const Analysis& a, std::string_view text, std::uint32_t offset) {
  // CompletionItemKind values.
  constexpr int kMethodItem = 2, kFunctionItem = 3, kVariableItem = 6, kClassItem = 7,
                kKeywordItem = 14;
  nlohmann::json items = nlohmann::json::array();
  auto add = [&](const std::string& label, int kind, const char* detail) {
    items.push_back({{"label", label}, {"kind", kind}, {"detail", detail}});
  };
  offset = std::min<std::uint32_t>(offset, static_cast<std::uint32_t>(text.size()));
  std::size_t lineStart = text.rfind('\n', offset == 0 ? 0 : offset - 1);
  lineStart = lineStart == std::string_view::npos || offset == 0 ? 0 : lineStart + 1;
  std::size_t wordStart = offset;
  while (wordStart > lineStart && isPathChar(text[wordStart - 1])) --wordStart;
  std::string_view word = text.substr(wordStart, offset - wordStart);
  auto before = words(text.substr(lineStart, wordStart - lineStart));
  if (!before.empty() && before.front().front() == '#') return items; // a comment

  if (!word.empty() && word.front() == '.') {
    // Every absolute path written in the document, the one being typed aside.
    std::set<std::string, std::less<>> paths;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] != '.' || (i > 0 && isPathChar(text[i - 1])) || i == wordStart) continue;
      std::size_t e = i + 1;
      while (e < text.size() && isPathChar(text[e])) ++e;
      std::string_view p = text.substr(i, e - i);
      while (!p.empty() && p.back() == '.') p.remove_suffix(1);
      if (p.size() > 1 && !std::isdigit(static_cast<unsigned char>(p[1]))) paths.emplace(p);
      i = e - 1;
    }
    for (const auto& p : paths) add(p, kVariableItem, "share");
    return items;
  }
  if (before.empty()) {
    for (const auto& v : lang::knownVerbs()) add(v, kKeywordItem, "verb");
    return items;
  }
  auto [house, tasker] = scopeAt(a, static_cast<std::uint32_t>(lineStart));
  const std::string& verb = before.front();
  bool second = before.size() == 1;
  if (verb == "go" && second && tasker) {
    for (const auto& f : tasker->frames) add(f.name, kMethodItem, "frame");
  } else if ((verb == "aux" && second) || verb == "done" || (verb == "bid" && before.size() >= 2)) {
    if (house)
      for (const auto& t : house->taskers)
        if (t.kind == sema::Tasker::Kind::Framer) add(t.name, kClassItem, "framer");
  } else if (verb == "do" && second && a.model) {
    for (const auto& d : a.model->deeds) add(d.name, kFunctionItem, "deed");
  }
  return items;
}

} // namespace flo::lsp
