// libFuzzer target for the Flo front end: bytes -> parse -> check -> format -> AST dump.
// Never touches the disk (followLoads = false). Any crash, sanitizer report, hang or runaway
// memory use is a bug: the front end must turn every input into diagnostics.
#include "compiler/sema/check.h"
#include "lang/diagnostics.h"
#include "lang/format.h"
#include "lang/parser.h"
#include "lang/source_manager.h"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <sstream>
#include <streambuf>
#include <string>

namespace {

// An ostream that throws everything away (but still runs the formatting code).
class NullBuf : public std::streambuf {
protected:
  int overflow(int c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  flo::lang::SourceManager sources;
  std::string text(reinterpret_cast<const char*>(data), size);
  flo::lang::FileId file = sources.addBuffer("fuzz.flo", std::move(text));
  flo::lang::Diagnostics diags(sources);
  flo::lang::ParseOptions options;
  options.followLoads = false;
  options.keepComments = true;
  auto program = flo::lang::parseProgram(sources, file, diags, options);
  if (!program) return 0;
  auto model = flo::sema::check(*program, diags);
  (void)model;

  NullBuf buf;
  std::ostream null(&buf);
  if (program->root && program->droppedDeclarations == 0 && !diags.hasErrors()) {
    // Round trip: the canonical form parses cleanly, to the same declarations, and formatting
    // it again changes nothing.
    std::ostringstream once;
    flo::lang::formatModule(*program->root, sources, once);
    flo::lang::FileId again = sources.addBuffer("fuzz-fmt.flo", once.str());
    flo::lang::Diagnostics diags2(sources);
    auto reparsed = flo::lang::parseProgram(sources, again, diags2, options);
    if (diags2.hasErrors() || reparsed->root->stmts.size() != program->root->stmts.size())
      __builtin_trap();
    for (std::size_t i = 0; i < reparsed->root->stmts.size(); ++i)
      if (flo::lang::formatStatement(*reparsed->root->stmts[i]) !=
          flo::lang::formatStatement(*program->root->stmts[i]))
        __builtin_trap();
    std::ostringstream twice;
    flo::lang::formatModule(*reparsed->root, sources, twice);
    if (twice.str() != once.str()) __builtin_trap();
  } else if (program->root) {
    flo::lang::formatModule(*program->root, sources, null);
  }
  flo::lang::dumpAst(*program, sources, null);
  diags.renderText(null);
  diags.renderJson(null);
  return 0;
}
