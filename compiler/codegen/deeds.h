/// \file
/// Deeds written in Flo (`deed NAME` blocks) compiled to native code: each `do NAME` call site
/// becomes a function that reads the bound input slots, converts them to the declared port
/// types, evaluates the body with typed LLVM values (no interpretation at run time) and writes
/// the outputs back to their slots.
#pragma once

#include "compiler/ir/ir.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <string>

namespace flo::codegen {

class DeedEmitter {
public:
  DeedEmitter(const ir::Program& p, llvm::LLVMContext& c, llvm::Module& m, llvm::IRBuilder<>& b)
      : p_(p), c_(c), m_(m), b_(b) {}

  /// Fills `fn` (signature i32(FloCtx*)) with the call. Returns false with a message for a
  /// construct it cannot lower.
  bool emitCall(llvm::Function* fn, const ir::DeedCall& call, std::string& error);

private:
  const ir::Program& p_;
  llvm::LLVMContext& c_;
  llvm::Module& m_;
  llvm::IRBuilder<>& b_;
};

} // namespace flo::codegen
