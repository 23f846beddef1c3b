/// \file
/// DOT rendering of the frame structure (see graph.h).
#include "compiler/sema/graph.h"

#include "lang/format.h"

#include <ostream>

namespace flo::sema {

using namespace lang;

namespace {

std::string escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string nodeId(const House& h, const Tasker& t, const Frame& f) {
  return "\"" + escape(h.name + "." + t.name + "." + f.name) + "\"";
}

} // namespace

void writeGraph(const Model& model, std::ostream& out) {
  out << "digraph flo {\n"
      << "  compound=true;\n"
      << "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  for (const House& h : model.houses) {
    out << "  subgraph \"cluster_" << escape(h.name) << "\" {\n"
        << "    label=\"house " << escape(h.name) << "\";\n";
    for (const Tasker& t : h.taskers) {
      if (t.kind != Tasker::Kind::Framer) continue;
      out << "    subgraph \"cluster_" << escape(h.name + "." + t.name) << "\" {\n"
          << "      label=\"framer " << escape(t.name) << " (" << scheduleName(t.schedule)
          << ")\";\n";
      for (std::size_t i = 0; i < t.frames.size(); ++i) {
        const Frame& f = t.frames[i];
        out << "      " << nodeId(h, t, f) << " [label=\"" << escape(f.name) << "\""
            << (i == t.first ? ", peripheries=2" : "") << "];\n";
      }
      out << "    }\n";
    }
    out << "  }\n";
    for (const Tasker& t : h.taskers) {
      if (t.kind != Tasker::Kind::Framer) continue;
      for (const Frame& f : t.frames) {
        for (std::size_t u : f.unders)
          out << "  " << nodeId(h, t, f) << " -> " << nodeId(h, t, t.frames[u])
              << " [style=dashed, arrowhead=none];\n";
        for (const Act& a : f.acts) {
          const Stmt& s = *a.stmt;
          std::size_t target = kNone;
          std::string label;
          if (s.kind == StmtKind::Go) {
            const auto& g = as<GoStmt>(s);
            if (g.target.text == "next")
              target = f.next;
            else if (g.target.text == "me")
              target = std::size_t(&f - t.frames.data());
            else if (auto it = t.frameIndex.find(g.target.text); it != t.frameIndex.end())
              target = it->second;
            label = g.needs.empty() ? "go" : "if " + formatNeeds(g.needs);
          } else if (s.kind == StmtKind::Timeout || s.kind == StmtKind::Repeat) {
            target = f.next;
            label = formatStatement(s);
          }
          if (s.kind == StmtKind::Fiat && as<FiatStmt>(s).control == Control::Start) {
            auto it = h.taskerIndex.find(as<FiatStmt>(s).slave.text);
            if (it != h.taskerIndex.end()) {
              const Tasker& slave = h.taskers[it->second];
              if (!slave.frames.empty() && slave.first != kNone)
                out << "  " << nodeId(h, t, f) << " -> "
                    << nodeId(h, slave, slave.frames[slave.first])
                    << " [style=dotted, label=\"slave\", lhead=\"cluster_"
                    << escape(h.name + "." + slave.name) << "\"];\n";
            }
          }
          if (target != kNone)
            out << "  " << nodeId(h, t, f) << " -> " << nodeId(h, t, t.frames[target])
                << " [label=\"" << escape(label) << "\"];\n";
        }
        for (std::size_t ai : f.auxes) {
          const Tasker& aux = h.taskers[ai];
          if (aux.frames.empty() || aux.first == kNone) continue;
          out << "  " << nodeId(h, t, f) << " -> " << nodeId(h, aux, aux.frames[aux.first])
              << " [style=dotted, label=\"aux\", lhead=\"cluster_"
              << escape(h.name + "." + aux.name) << "\"];\n";
        }
      }
    }
  }
  out << "}\n";
}

} // namespace flo::sema
