/// \file
/// Code generation with LLVM 19: the IR becomes one LLVM module holding the program image, the
/// string table, one native function per data act, need conjunction and deed call, and `main`
/// (runtime/abi.h describes the contract); the module is optimised and emitted as LLVM IR,
/// assembly or an object file for x86-64 or aarch64; `link` makes an executable with the
/// target's toolchain and the runtime built for that target.
#pragma once

#include "compiler/ir/ir.h"

#include <string>
#include <vector>

namespace flo::codegen {

enum class Emit { LLVM, Asm, Obj };

struct Options {
  std::string triple = "x86_64-linux-gnu";
  int optLevel = 2;
  /// For a bundle's shared object: no `main`, but `int flo_bundle_main(int argc, char** argv)`
  /// (the same command line as a built program's), and code that is not position-dependent.
  bool bundle = false;
};

struct Error {
  std::uint32_t loc = 0; ///< index into Program::locations (0: none)
  std::string message;
};

/// Generates code for `program`. On failure returns false with located errors; never asserts.
bool generate(const ir::Program& program, const Options& options, Emit emit, std::string& out,
              std::vector<Error>& errors);

/// The triples floc can target, and whether `triple` is one of them (normalised in place).
const std::vector<std::string>& supportedTriples();
bool normalizeTriple(std::string& triple);

struct LinkPlan {
  std::string compiler; ///< the C++ driver that links for the target
  std::string runtime;  ///< the runtime archive for the target
};
/// Finds the toolchain and runtime for `triple`; on failure returns false with a message that
/// says what to install.
bool findLinkPlan(const std::string& triple, const std::string& selfExe, LinkPlan& plan,
                  std::string& error);
/// Links `object` into `output`: an executable, or with `shared` a shared object that holds
/// the runtime and exports only what the object defines (the runtime's symbols stay hidden, so
/// two bundles or a host never see each other's). Returns false with the driver's message.
bool link(const LinkPlan& plan, const std::string& object, const std::string& output,
          std::string& error, bool shared = false);

} // namespace flo::codegen
