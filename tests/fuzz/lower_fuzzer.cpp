// libFuzzer target for the back end: bytes -> parse -> check -> lower -> verify -> LLVM IR.
// A program that checks must lower to an IR that verifies and must generate code or report a
// located error: any crash, sanitizer report, failed IR verification or LLVM verifier failure
// (reported by generate() as an internal error) is a bug.
#include "compiler/codegen/codegen.h"
#include "compiler/ir/lower.h"
#include "compiler/sema/check.h"
#include "lang/diagnostics.h"
#include "lang/parser.h"
#include "lang/source_manager.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 16384) return 0; // keep each run cheap: LLVM work grows with the program
  flo::lang::SourceManager sources;
  std::string text(reinterpret_cast<const char*>(data), size);
  flo::lang::FileId file = sources.addBuffer("fuzz.flo", std::move(text));
  flo::lang::Diagnostics diags(sources);
  flo::lang::ParseOptions options;
  options.followLoads = false;
  auto program = flo::lang::parseProgram(sources, file, diags, options);
  if (!program || diags.hasErrors()) return 0;
  auto model = flo::sema::check(*program, diags);
  if (diags.hasErrors()) return 0;
  auto ir = flo::ir::lower(*program, *model, sources, diags);
  if (diags.hasErrors()) return 0;
  if (!flo::ir::verify(*ir).empty()) __builtin_trap();
  flo::codegen::Options co;
  co.optLevel = 0;
  std::string out;
  std::vector<flo::codegen::Error> errors;
  if (!flo::codegen::generate(*ir, co, flo::codegen::Emit::LLVM, out, errors))
    for (const auto& e : errors)
      if (e.message.find("internal error") != std::string::npos) __builtin_trap();
  return 0;
}
