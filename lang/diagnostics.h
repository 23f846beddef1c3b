/// \file
/// The one diagnostic engine of the front end and compiler. Every stage reports through it; it
/// renders `file:line:col: error: message`, the source line and a caret under the range, then
/// `note:` lines, or the same as JSON for editors. Warnings have names (`-Wdeprecated`), can be
/// switched off one by one, and become errors with `-Werror`.
#pragma once

#include "lang/source_manager.h"

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flo::lang {

enum class Severity : std::uint8_t { Note, Warning, Error };

/// Named warnings. The table in diagnostics.cpp gives each its flag name and description.
enum class Warning : std::uint8_t {
  None,
  Deprecated,            ///< a form Ioflo accepts with a deprecation (init ... to, bare elapsed)
  IofloDivergence,       ///< Flo behaves differently from Ioflo here (a parsing bug Flo fixes)
  IofloQuirk,            ///< the program relies on one of Ioflo's odd run-time rules (§12)
  ReservedVerb,          ///< use/flo/give/take: reserved by FloScript, ignored
  UnreachableFrame,      ///< no transition, start or hierarchy link reaches the frame
  UnusedFramer,          ///< an inactive/aux/slave/moot framer nothing refers to
  Duplicate,             ///< a clause given twice; the later one wins
  MisleadingIndentation, ///< an act indented as the frame's body that a context verb above owns
  UnwrittenShare,        ///< a share read but never initialized or written in the program
  Count
};

struct WarningInfo {
  Warning id;
  std::string_view name; ///< the flag, without `-W`
  std::string_view description;
  bool enabledByDefault;
};

/// All named warnings, for `--help` and flag parsing.
const std::vector<WarningInfo>& warningTable();
std::optional<Warning> warningByName(std::string_view name);

struct Note {
  SourceRange range; ///< may be invalid: a note without a location
  std::string message;
};

struct Diagnostic {
  Severity severity = Severity::Error;
  Warning warning = Warning::None; ///< set for warnings (and warnings promoted by -Werror)
  SourceRange range;
  std::string message;
  std::vector<Note> notes;
};

class Diagnostics {
public:
  explicit Diagnostics(const SourceManager& sources);

  /// Reports an error and returns it, so callers can attach notes.
  Diagnostic& error(SourceRange range, std::string message);
  /// Reports a named warning. Returns nullptr when the warning is disabled.
  Diagnostic* warning(Warning which, SourceRange range, std::string message);
  /// Adds a note to the last reported diagnostic (dropped if it was suppressed).
  void note(SourceRange range, std::string message);

  // ---- options ----
  void setWarningEnabled(Warning which, bool enabled);
  void setAllWarnings(bool enabled);
  void setWarningsAsErrors(bool enabled) { werror_ = enabled; }
  /// Stop recording after this many errors (0 = no limit); rendering then says so.
  void setErrorLimit(std::size_t limit) { errorLimit_ = limit; }
  /// Applies one `-W...` flag (`-Wname`, `-Wno-name`, `-Werror`, `-Wall`, `-Wno-error`). Returns
  /// false for an unknown warning name.
  bool applyFlag(std::string_view flag);

  std::size_t errorCount() const { return errors_; }
  std::size_t warningCount() const { return warnings_; }
  bool hasErrors() const { return errors_ > 0; }
  bool limitReached() const { return limitReached_; }
  const std::vector<Diagnostic>& all() const { return diagnostics_; }
  const SourceManager& sources() const { return sources_; }

  /// Clang-style text with source line and caret. `color` adds ANSI colours.
  void renderText(std::ostream& out, bool color = false) const;
  void renderText(std::ostream& out, const Diagnostic& d, bool color) const;
  /// {"diagnostics": [...], "errors": N, "warnings": N}
  void renderJson(std::ostream& out) const;

private:
  Diagnostic* record(Diagnostic d);

  const SourceManager& sources_;
  std::vector<Diagnostic> diagnostics_;
  std::vector<bool> enabled_;
  bool werror_ = false;
  std::size_t errorLimit_ = 0;
  std::size_t errors_ = 0;
  std::size_t warnings_ = 0;
  bool limitReached_ = false;
  bool lastSuppressed_ = false;
};

/// Levenshtein distance, for "did you mean" suggestions.
std::size_t editDistance(std::string_view a, std::string_view b);
/// The candidate closest to `word` within a distance that makes sense for its length.
std::optional<std::string> closestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

} // namespace flo::lang
