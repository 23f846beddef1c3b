/// \file
/// Diagnostic recording, warning flags and the two renderings (text with caret, JSON).
#include "lang/diagnostics.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ostream>
#include <sstream>

namespace flo::lang {

const std::vector<WarningInfo>& warningTable() {
  static const std::vector<WarningInfo> table = {
      {Warning::Deprecated, "deprecated", "a deprecated FloScript form (still accepted)", true},
      {Warning::IofloDivergence, "ioflo-divergence",
       "Flo reads this differently from Ioflo (Ioflo's behaviour is a parsing bug)", true},
      {Warning::IofloQuirk, "ioflo-quirk",
       "the program relies on one of Ioflo's odd run-time rules (FLOSCRIPT.md §12)", true},
      {Warning::ReservedVerb, "reserved-verb", "a reserved FloScript verb that does nothing", true},
      {Warning::UnreachableFrame, "unreachable-frame",
       "a frame that no start, transition or hierarchy link can reach", true},
      {Warning::UnusedFramer, "unused-framer",
       "an aux, slave or moot framer that nothing refers to", true},
      {Warning::Duplicate, "duplicate", "a clause or declaration given twice; the later wins",
       true},
      {Warning::MisleadingIndentation, "misleading-indentation",
       "an act indented like the frame's body that a context verb above owns", true},
      {Warning::UnwrittenShare, "unwritten-share",
       "a share that is read but that nothing initializes or writes", true},
  };
  return table;
}

std::optional<Warning> warningByName(std::string_view name) {
  for (const auto& w : warningTable())
    if (w.name == name) return w.id;
  return std::nullopt;
}

Diagnostics::Diagnostics(const SourceManager& sources)
    : sources_(sources), enabled_(static_cast<std::size_t>(Warning::Count), false) {
  for (const auto& w : warningTable())
    enabled_[static_cast<std::size_t>(w.id)] = w.enabledByDefault;
}

Diagnostic* Diagnostics::record(Diagnostic d) {
  if (d.severity == Severity::Error) {
    if (errorLimit_ != 0 && errors_ >= errorLimit_) {
      limitReached_ = true;
      ++errors_;
      lastSuppressed_ = true;
      return nullptr;
    }
    ++errors_;
  } else if (d.severity == Severity::Warning) {
    ++warnings_;
  }
  lastSuppressed_ = false;
  diagnostics_.push_back(std::move(d));
  return &diagnostics_.back();
}

Diagnostic& Diagnostics::error(SourceRange range, std::string message) {
  Diagnostic* d = record({Severity::Error, Warning::None, range, std::move(message), {}});
  if (d) return *d;
  // Past the error limit: hand back a scratch diagnostic that is never rendered.
  static thread_local Diagnostic scratch;
  scratch = {};
  return scratch;
}

Diagnostic* Diagnostics::warning(Warning which, SourceRange range, std::string message) {
  if (!enabled_[static_cast<std::size_t>(which)]) {
    lastSuppressed_ = true;
    return nullptr;
  }
  Severity severity = werror_ ? Severity::Error : Severity::Warning;
  return record({severity, which, range, std::move(message), {}});
}

void Diagnostics::note(SourceRange range, std::string message) {
  if (lastSuppressed_ || diagnostics_.empty()) return;
  diagnostics_.back().notes.push_back({range, std::move(message)});
}

void Diagnostics::setWarningEnabled(Warning which, bool enabled) {
  enabled_[static_cast<std::size_t>(which)] = enabled;
}

void Diagnostics::setAllWarnings(bool enabled) {
  for (std::size_t i = 1; i < enabled_.size(); ++i) enabled_[i] = enabled;
}

bool Diagnostics::applyFlag(std::string_view flag) {
  if (flag.starts_with("-W")) flag.remove_prefix(2);
  if (flag == "error") return werror_ = true, true;
  if (flag == "no-error") return werror_ = false, true;
  if (flag == "all" || flag == "everything") return setAllWarnings(true), true;
  if (flag == "none") return setAllWarnings(false), true;
  bool enable = true;
  if (flag.starts_with("no-")) {
    enable = false;
    flag.remove_prefix(3);
  }
  auto which = warningByName(flag);
  if (!which) return false;
  setWarningEnabled(*which, enable);
  return true;
}

namespace {

const char* severityName(Severity s) {
  switch (s) {
  case Severity::Note:
    return "note";
  case Severity::Warning:
    return "warning";
  case Severity::Error:
    return "error";
  }
  return "error";
}

std::string_view warningFlag(Warning w) {
  for (const auto& info : warningTable())
    if (info.id == w) return info.name;
  return {};
}

// Display width of a byte range of a line: one column per code point, tabs kept as tabs.
std::size_t codePoints(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

constexpr std::size_t kMaxShownLine = 240; // long lines are shown as a window around the caret

void renderLocation(std::ostream& out, const SourceManager& sm, const SourceRange& r, Severity sev,
                    std::string_view message, std::string_view flag, bool color) {
  const char* bold = color ? "\033[1m" : "";
  const char* reset = color ? "\033[0m" : "";
  const char* sevColor = "";
  if (color) {
    sevColor = sev == Severity::Error     ? "\033[1;31m"
               : sev == Severity::Warning ? "\033[1;35m"
                                          : "\033[1;36m";
  }
  if (r.valid()) {
    LineCol lc = sm.lineCol(r.file, r.begin);
    out << bold << sm.name(r.file) << ':' << lc.line << ':' << lc.column << ": " << reset;
  } else if (sev != Severity::Note) {
    out << bold << "floc: " << reset;
  }
  out << sevColor << severityName(sev) << ": " << reset << bold << message;
  if (!flag.empty()) out << " [-W" << flag << ']';
  out << reset << '\n';
  if (!r.valid()) return;

  LineCol lc = sm.lineCol(r.file, r.begin);
  std::string_view line = sm.lineText(r.file, lc.line);
  std::size_t col = lc.column - 1;
  if (col > line.size()) col = line.size();
  std::size_t endCol = col;
  {
    LineCol endLc = sm.lineCol(r.file, r.end > r.begin ? r.end - 1 : r.begin);
    endCol = endLc.line == lc.line ? std::min<std::size_t>(endLc.column, line.size()) : line.size();
    if (r.end <= r.begin) endCol = col + 1;
  }
  // Window for very long lines.
  std::size_t start = 0;
  if (line.size() > kMaxShownLine) {
    start = col > kMaxShownLine / 2 ? col - kMaxShownLine / 2 : 0;
    while (start > 0 && (static_cast<unsigned char>(line[start]) & 0xC0) == 0x80) --start;
    std::size_t stop = std::min(line.size(), start + kMaxShownLine);
    while (stop < line.size() && (static_cast<unsigned char>(line[stop]) & 0xC0) == 0x80) ++stop;
    line = line.substr(start, stop - start);
    col -= start;
    endCol = std::min(endCol - start, line.size());
  }
  // Control characters would garble the terminal: show them as '?'.
  std::string shown(line);
  for (char& c : shown) {
    unsigned char u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) c = '?';
  }
  out << (start > 0 ? "..." : "") << shown << '\n';
  std::string caret(start > 0 ? "   " : "");
  std::string_view before(shown.data(), std::min(col, shown.size()));
  for (std::size_t i = 0, n = codePoints(before); i < n; ++i) caret += ' ';
  {
    // keep tabs so the caret lines up with the line above
    std::size_t pos = start > 0 ? 3 : 0;
    std::size_t cp = 0;
    for (unsigned char c : before) {
      if ((c & 0xC0) == 0x80) continue;
      if (c == '\t') caret[pos + cp] = '\t';
      ++cp;
    }
  }
  caret += color ? "\033[1;32m^" : "^";
  std::size_t width =
      endCol > col ? codePoints(std::string_view(shown).substr(col, endCol - col)) : 1;
  for (std::size_t i = 1; i < width; ++i) caret += '~';
  if (color) caret += "\033[0m";
  out << caret << '\n';
}

} // namespace

void Diagnostics::renderText(std::ostream& out, const Diagnostic& d, bool color) const {
  renderLocation(out, sources_, d.range, d.severity, d.message,
                 d.warning != Warning::None ? warningFlag(d.warning) : std::string_view{}, color);
  for (const Note& n : d.notes)
    renderLocation(out, sources_, n.range, Severity::Note, n.message, {}, color);
}

void Diagnostics::renderText(std::ostream& out, bool color) const {
  // `out` is usually std::cerr, which writes every `<<` at once: render into a buffer and hand
  // it over in blocks of about 64 KB (thousands of warnings were one write(2) per fragment).
  constexpr std::streamoff kBlock = 64 * 1024;
  std::ostringstream buffer;
  for (const Diagnostic& d : diagnostics_) {
    renderText(buffer, d, color);
    if (buffer.tellp() >= kBlock) {
      out << buffer.view();
      buffer.str({});
    }
  }
  if (limitReached_) {
    buffer << "floc: fatal error: too many errors emitted, stopping now (--error-limit=0 shows "
              "all)\n";
  }
  out << buffer.view();
}

namespace {
nlohmann::json locationJson(const SourceManager& sm, const SourceRange& r) {
  if (!r.valid()) return nullptr;
  LineCol b = sm.lineCol(r.file, r.begin);
  LineCol e = sm.lineCol(r.file, r.end);
  return {{"file", sm.name(r.file)},  {"line", b.line},         {"column", b.column},
          {"end_line", e.line},       {"end_column", e.column}, {"offset", r.begin},
          {"length", r.end - r.begin}};
}

std::string validUtf8(std::string_view s) {
  // JSON needs valid UTF-8; messages may quote user bytes.
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    auto bad = findInvalidUtf8(s);
    if (!bad) {
      out += s;
      break;
    }
    out += s.substr(0, *bad);
    out += "\xEF\xBF\xBD";
    s.remove_prefix(*bad + 1);
  }
  return out;
}
} // namespace

void Diagnostics::renderJson(std::ostream& out) const {
  nlohmann::json list = nlohmann::json::array();
  for (const Diagnostic& d : diagnostics_) {
    nlohmann::json j = {{"severity", severityName(d.severity)},
                        {"message", validUtf8(d.message)},
                        {"location", locationJson(sources_, d.range)}};
    if (d.warning != Warning::None) j["warning"] = std::string(warningFlag(d.warning));
    nlohmann::json notes = nlohmann::json::array();
    for (const Note& n : d.notes)
      notes.push_back(
          {{"message", validUtf8(n.message)}, {"location", locationJson(sources_, n.range)}});
    j["notes"] = std::move(notes);
    list.push_back(std::move(j));
  }
  nlohmann::json doc = {{"diagnostics", std::move(list)},
                        {"errors", errors_},
                        {"warnings", warnings_},
                        {"truncated", limitReached_}};
  out << doc.dump(2) << '\n';
}

std::size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> closestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates) {
  // Short words are too easy to "match": suggest only with a reasonable share of letters kept.
  if (word.size() < 3) return std::nullopt;
  std::size_t limit = std::max<std::size_t>(1, (word.size() + 2) / 3);
  std::optional<std::string> best;
  std::size_t bestDistance = limit + 1;
  for (const auto& c : candidates) {
    if (c == word) continue;
    std::size_t d = editDistance(word, c);
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return best;
}

} // namespace flo::lang
