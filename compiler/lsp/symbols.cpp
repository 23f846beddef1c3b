/// \file
/// Whole-document features: the outline (house ▸ framer ▸ frame, then deeds, flows, jobs and
/// contracts) from the checker's model, and formatting (`floc fmt`).
#include "compiler/lsp/features.h"
#include "lang/format.h"
#include "lang/parser.h"

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

std::uint32_t blockEnd(const Stmt* decl, const std::vector<const Stmt*>& body) {
  std::uint32_t end = decl->range.end;
  for (const Stmt* s : body) end = std::max(end, s->range.end);
  return end;
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
                           lang::blockIdent(*b.decl).range, what));
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

} // namespace flo::lsp
