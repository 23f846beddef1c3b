/// \file
/// Deeds written in Flo (`deed NAME` blocks) compiled to native code: each `do NAME` call site
/// becomes a function that reads the bound input slots, converts them to the declared port
/// types, evaluates the body with typed LLVM values (no interpretation at run time) and writes
/// the outputs back to their slots.
///
/// Semantics (Python's, as far as 64-bit typed values allow):
///  - Port types: `f64`, `i64`, `bool`; sema refuses any other (compiler/sema/typecheck.h), and
///    every other user error too: this file emits the typed body it is given.
///  - Inputs are read once, before the body, through flo_in_f64/i64/bool (inline when the cell
///    already holds the declared kind). A value with no such reading stops the run.
///  - Outputs and locals start at 0 / 0.0 / false: an output is *not* read from the store (bind
///    the same path to an input as well to accumulate). Only outputs that some `let` assigns are
///    written back (with their tag) and stamp their share, after the whole body ran; a `fail`
///    or a fault writes nothing. Locals are never written to the store.
///  - Arithmetic: bool counts as int; int op float promotes to float; `/` is true division (two
///    ints give a float); `%` is floored (the sign of the divisor). Int `+ - * %`, negation and
///    abs are checked: a result outside i64 stops the run with "integer overflow" (Python would
///    grow the int). Division or modulo by zero (int or float) stops the run.
///  - `and` / `or` short-circuit and yield an operand (joined to a common type), `A if C else B`
///    evaluates one branch; `not`, `fail ... if` and conditions use Python's truthiness.
///  - Functions: abs, min, max (any count >= 2, Python's first-wins tie rule), clamp(x, lo, hi)
///    = min(max(x, lo), hi), sqrt exp log sin cos (f64; Python's math domain / range errors
///    stop the run), floor ceil round (an int, like Python 3; round is half-to-even).
///  - Assignment converts bool -> i64 -> f64 (explicit Widen nodes from sema).
///  - Every run-time fault is located at the `do` line (the DeedCall's location).
#pragma once

#include "compiler/ir/ir.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/Module.h>

#include <map>
#include <string>

namespace flo::codegen {

class DeedEmitter {
public:
  DeedEmitter(const ir::Program& p, llvm::LLVMContext& c, llvm::Module& m, llvm::IRBuilder<>& b)
      : p_(p), c_(c), m_(m), b_(b), tapped_(p.tapped()) {}

  /// A write of `share` at the current insert point: its stamp (`stamps[share] = ctx->stamp`)
  /// and, when some flow takes its writes as items, the call that reports it (flo_written).
  /// Every store write generated code makes goes through here.
  void stamp(llvm::Value* ctx, llvm::Value* stamps, std::uint32_t share);

  /// Fills `fn` (signature i32(FloCtx*)) with the call. Returns false with a message only for
  /// an internal inconsistency (a call that does not fit its deed); `fn` is then left empty.
  bool emitCall(llvm::Function* fn, const ir::DeedCall& call, std::string& error);

  /// Fills `fn` (FloFlowFn, runtime/abi.h) with the flow's map and filter stages over a batch.
  void emitFlowItems(llvm::Function* fn, const ir::Flow& flow);
  /// Fills `fn` (FloFoldFn) with the flow's `reduce DEED`.
  void emitFold(llvm::Function* fn, const ir::Flow& flow);

  /// A NUL-terminated message constant, shared by every call site of the module.
  llvm::Constant* message(const std::string& text);

private:
  const ir::Program& p_;
  llvm::LLVMContext& c_;
  llvm::Module& m_;
  llvm::IRBuilder<>& b_;
  std::map<std::string, llvm::Constant*> messages_;
  std::vector<tir::Var> vars_; ///< a filter's `value` and `time`
  std::vector<bool> tapped_;
};

} // namespace flo::codegen
