/// \file
/// Completion from the text before the cursor and the checker's model: verbs, names in scope
/// and the share paths the document writes.
#include "compiler/lsp/features.h"
#include "lang/parser.h"

#include <set>
#include <sstream>

namespace flo::lsp {

namespace {

using lang::StmtKind;

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
