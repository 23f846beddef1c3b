/// \file
/// LLVM code generation (see codegen.h). Store access in generated code is a GEP into the slot
/// array with a constant index; the common cases of `inc` and of needs comparing a number with
/// a constant are inlined, everything with Python's full rules calls the runtime helpers.
#include "compiler/codegen/codegen.h"

#include "compiler/codegen/deeds.h"
#include "compiler/codegen/image_writer.h"

#include <llvm/IR/IRBuilder.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/IR/Module.h>
#include <llvm/IR/Verifier.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Program.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Target/TargetMachine.h>
#include <llvm/Target/TargetOptions.h>
#include <llvm/TargetParser/Triple.h>

#include <cassert>
#include <cmath>
#include <filesystem>
#include <mutex>

namespace flo::codegen {

using namespace llvm;
using ir::DataOp;
using ir::Function;
using ir::Need;

namespace {

void initTargets() {
  static std::once_flag once;
  std::call_once(once, [] {
    LLVMInitializeX86TargetInfo();
    LLVMInitializeX86Target();
    LLVMInitializeX86TargetMC();
    LLVMInitializeX86AsmPrinter();
    LLVMInitializeAArch64TargetInfo();
    LLVMInitializeAArch64Target();
    LLVMInitializeAArch64TargetMC();
    LLVMInitializeAArch64AsmPrinter();
  });
}

class Generator {
public:
  Generator(const ir::Program& p, LLVMContext& c, Module& m, bool bundle)
      : p_(p), c_(c), m_(m), b_(c), deeds_(p, c, m, b_), bundle_(bundle) {
    i32_ = Type::getInt32Ty(c);
    i64_ = Type::getInt64Ty(c);
    f64_ = Type::getDoubleTy(c);
    ptr_ = PointerType::getUnqual(c);
    value_ = StructType::create(c, {i32_, i32_, i64_}, "FloValue");
    ctx_ = StructType::create(c, {ptr_, ptr_, f64_, i32_, i32_, ptr_}, "FloCtx");
    fnTy_ = FunctionType::get(i32_, {ptr_}, false);
  }

  bool run(std::vector<Error>& errors) {
    // Strings first: functions point into the table.
    auto words = encodeImage(p_, strings_);
    std::vector<llvm::Function*> fns;
    for (std::uint32_t i = 0; i < p_.functions.size(); ++i)
      fns.push_back(llvm::Function::Create(fnTy_, GlobalValue::InternalLinkage,
                                           "flo.fn" + std::to_string(i), m_));
    // The string table is emitted last (functions add literals to it); functions refer to it
    // through a placeholder global replaced at the end.
    stringsPlaceholder_ = new GlobalVariable(
        m_, Type::getInt8Ty(c_), true, GlobalValue::PrivateLinkage, nullptr, "flo.strings.tmp");
    for (std::uint32_t i = 0; i < p_.functions.size(); ++i) {
      const Function& f = p_.functions[i];
      switch (f.kind) {
      case Function::Kind::Data:
        data(fns[i], f.data);
        break;
      case Function::Kind::Needs:
        needs(fns[i], f.needs);
        break;
      case Function::Kind::Deed: {
        std::string error;
        if (!deeds_.emitCall(fns[i], f.deed, error)) errors.push_back({f.deed.loc, error});
        break;
      }
      }
    }
    // Flows: an item function (map and filter stages) and a fold, where they have them, in the
    // order image_writer.cpp's flowFunctions() gives them indices.
    auto* itemsTy = FunctionType::get(i32_, {ptr_, ptr_, ptr_, i32_, f64_, ptr_, i32_}, false);
    auto* foldTy = FunctionType::get(i32_, {ptr_, f64_, f64_, ptr_}, false);
    auto flowFns = flowFunctions(p_);
    for (std::size_t i = 0; i < p_.flows.size(); ++i) {
      const ir::Flow& fl = p_.flows[i];
      if (flowFns[i].items != image::kNone) {
        assert(flowFns[i].items == fns.size());
        fns.push_back(llvm::Function::Create(itemsTy, GlobalValue::InternalLinkage,
                                             "flo.flow" + std::to_string(i) + ".items", m_));
        deeds_.emitFlowItems(fns.back(), fl);
      }
      if (flowFns[i].fold != image::kNone) {
        assert(flowFns[i].fold == fns.size());
        fns.push_back(llvm::Function::Create(foldTy, GlobalValue::InternalLinkage,
                                             "flo.flow" + std::to_string(i) + ".fold", m_));
        deeds_.emitFold(fns.back(), fl);
      }
    }
    if (!errors.empty()) return false;

    auto* wordsTy = ArrayType::get(i32_, words.size());
    std::vector<Constant*> wc;
    wc.reserve(words.size());
    for (auto w : words) wc.push_back(ConstantInt::get(i32_, w));
    auto* image = new GlobalVariable(m_, wordsTy, true, GlobalValue::PrivateLinkage,
                                     ConstantArray::get(wordsTy, wc), "flo.image");
    auto* strData = ConstantDataArray::getRaw(strings_.bytes() + std::string(1, '\0'),
                                              strings_.bytes().size() + 1, Type::getInt8Ty(c_));
    auto* strings = new GlobalVariable(m_, strData->getType(), true, GlobalValue::PrivateLinkage,
                                       strData, "flo.strings");
    stringsPlaceholder_->replaceAllUsesWith(strings);
    stringsPlaceholder_->eraseFromParent();
    auto* fnsTy = ArrayType::get(ptr_, fns.size());
    std::vector<Constant*> fc(fns.begin(), fns.end());
    auto* table = new GlobalVariable(m_, fnsTy, true, GlobalValue::PrivateLinkage,
                                     ConstantArray::get(fnsTy, fc), "flo.fns");

    FunctionCallee rtMain = m_.getOrInsertFunction(
        "flo_rt_main",
        FunctionType::get(i32_, {i32_, ptr_, ptr_, i32_, ptr_, i32_, ptr_, i32_}, false));
    auto* mainFn = llvm::Function::Create(FunctionType::get(i32_, {i32_, ptr_}, false),
                                          GlobalValue::ExternalLinkage,
                                          bundle_ ? "flo_bundle_main" : "main", m_);
    b_.SetInsertPoint(BasicBlock::Create(c_, "entry", mainFn));
    auto* r = b_.CreateCall(
        rtMain, {mainFn->getArg(0), mainFn->getArg(1), image, b_.getInt32(words.size()), strings,
                 b_.getInt32(strings_.bytes().size()), table, b_.getInt32(fns.size())});
    b_.CreateRet(r);
    return true;
  }

private:
  // ---------------------------------------------------------------- helpers

  FunctionCallee helper(const char* name, Type* ret, std::vector<Type*> args) {
    return m_.getOrInsertFunction(name, FunctionType::get(ret, args, false));
  }

  struct Frame {
    Value* ctx;
    Value* slots;
    Value* stamps;
  };

  Frame begin(llvm::Function* fn) {
    b_.SetInsertPoint(BasicBlock::Create(c_, "entry", fn));
    Frame f;
    f.ctx = fn->getArg(0);
    f.slots = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_, f.ctx, 0), "slots");
    f.stamps = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_, f.ctx, 1), "stamps");
    return f;
  }

  Value* slotPtr(const Frame& f, std::uint32_t slot) {
    return b_.CreateInBoundsGEP(value_, f.slots, b_.getInt64(slot));
  }
  Value* slotPtr(const Frame& f, ir::FieldRef r) { return slotPtr(f, p_.slot(r)); }

  Value* stringPtr(const std::string& s) {
    return b_.CreateInBoundsGEP(Type::getInt8Ty(c_), stringsPlaceholder_,
                                b_.getInt64(strings_.add(s)));
  }

  /// Stores a constant into a FloValue cell.
  void storeValue(Value* cell, const ir::Value& v) {
    b_.CreateStore(b_.getInt32(v.tag), b_.CreateStructGEP(value_, cell, 0));
    b_.CreateStore(b_.getInt32(v.tag == FLO_STR     ? v.s.size()
                               : v.tag == FLO_POINT ? std::uint64_t(v.i)
                                                    : 0),
                   b_.CreateStructGEP(value_, cell, 1));
    Value* payload = b_.CreateStructGEP(value_, cell, 2);
    switch (v.tag) {
    case FLO_BOOL:
    case FLO_INT:
      b_.CreateStore(b_.getInt64(std::uint64_t(v.i)), payload);
      break;
    case FLO_FLOAT:
      b_.CreateStore(ConstantFP::get(f64_, v.f), payload);
      break;
    case FLO_STR:
      b_.CreateStore(stringPtr(v.s), payload);
      break;
    case FLO_POINT: // the coordinates follow the kind byte in the string table
      b_.CreateStore(
          b_.CreateInBoundsGEP(Type::getInt8Ty(c_), stringPtr(ir::pointBlob(v)), b_.getInt64(1)),
          payload);
      break;
    default:
      b_.CreateStore(b_.getInt64(0), payload);
    }
  }

  Value* constantCell(const ir::Value& v) {
    IRBuilderBase::InsertPointGuard guard(b_);
    auto* fn = b_.GetInsertBlock()->getParent();
    b_.SetInsertPoint(&fn->getEntryBlock(), fn->getEntryBlock().begin());
    Value* cell = b_.CreateAlloca(value_);
    return cell;
  }

  void stampShare(const Frame& f, std::uint32_t share) { deeds_.stamp(f.ctx, f.stamps, share); }

  // ---------------------------------------------------------------- data acts

  void data(llvm::Function* fn, const DataOp& d) {
    Frame f = begin(fn);
    switch (d.kind) {
    case DataOp::Kind::Put:
      for (std::size_t k = 0; k < d.fields.size(); ++k)
        storeValue(slotPtr(f, p_.shares[d.share].firstSlot + d.fields[k]), d.values[k]);
      stampShare(f, d.share);
      break;
    case DataOp::Kind::Copy: {
      // Read every source before writing (a copy may permute fields of one share).
      std::vector<Value*> loaded;
      for (auto src : d.sources) loaded.push_back(b_.CreateLoad(value_, slotPtr(f, src)));
      for (std::size_t k = 0; k < d.fields.size(); ++k)
        b_.CreateStore(loaded[k], slotPtr(f, p_.shares[d.share].firstSlot + d.fields[k]));
      stampShare(f, d.share);
      break;
    }
    case DataOp::Kind::Inc:
      inc(f, d);
      break;
    }
    b_.CreateRet(b_.getInt32(0));
  }

  void inc(const Frame& f, const DataOp& d) {
    auto* fn = b_.GetInsertBlock()->getParent();
    BasicBlock* slow = BasicBlock::Create(c_, "slow", fn);
    BasicBlock* done = BasicBlock::Create(c_, "done", fn);
    const bool fast = d.fields.size() == 1 && !d.fromSource &&
                      (d.values[0].tag == FLO_INT || d.values[0].tag == FLO_FLOAT);
    if (fast) {
      // int += int without overflow, float += number: inline; anything else: the helper.
      Value* cell = slotPtr(f, p_.shares[d.share].firstSlot + d.fields[0]);
      Value* tag = b_.CreateLoad(i32_, b_.CreateStructGEP(value_, cell, 0));
      Value* payload = b_.CreateStructGEP(value_, cell, 2);
      BasicBlock* isFloat = BasicBlock::Create(c_, "float", fn);
      BasicBlock* notInt = BasicBlock::Create(c_, "notint", fn);
      BasicBlock* isInt = BasicBlock::Create(c_, "int", fn);
      b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(FLO_INT)), isInt, notInt);
      b_.SetInsertPoint(notInt);
      b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(FLO_FLOAT)), isFloat, slow);
      b_.SetInsertPoint(isInt);
      if (d.values[0].tag == FLO_INT) {
        Value* old = b_.CreateLoad(i64_, payload);
        Value* r = b_.CreateBinaryIntrinsic(Intrinsic::sadd_with_overflow, old,
                                            b_.getInt64(std::uint64_t(d.values[0].i)));
        BasicBlock* ok = BasicBlock::Create(c_, "ok", fn);
        b_.CreateCondBr(b_.CreateExtractValue(r, 1), slow, ok);
        b_.SetInsertPoint(ok);
        b_.CreateStore(b_.CreateExtractValue(r, 0), payload);
        stampShare(f, d.share);
        b_.CreateBr(done);
      } else {
        Value* old = b_.CreateSIToFP(b_.CreateLoad(i64_, payload), f64_);
        b_.CreateStore(b_.getInt32(FLO_FLOAT), b_.CreateStructGEP(value_, cell, 0));
        b_.CreateStore(b_.CreateFAdd(old, ConstantFP::get(f64_, d.values[0].f)), payload);
        stampShare(f, d.share);
        b_.CreateBr(done);
      }
      b_.SetInsertPoint(isFloat);
      double delta = d.values[0].tag == FLO_INT ? double(d.values[0].i) : d.values[0].f;
      Value* old = b_.CreateLoad(f64_, payload);
      b_.CreateStore(b_.CreateFAdd(old, ConstantFP::get(f64_, delta)), payload);
      stampShare(f, d.share);
      b_.CreateBr(done);
    } else {
      b_.CreateBr(slow);
    }
    // The general case: Python's addition, all fields or none (runtime/value.cpp).
    b_.SetInsertPoint(slow);
    const std::size_t n = d.fields.size();
    auto* dstTy = ArrayType::get(i32_, n);
    std::vector<Constant*> dsts;
    for (auto k : d.fields) dsts.push_back(b_.getInt32(p_.shares[d.share].firstSlot + k));
    auto* dstArr = new GlobalVariable(m_, dstTy, true, GlobalValue::PrivateLinkage,
                                      ConstantArray::get(dstTy, dsts));
    Value* deltas = b_.CreateAlloca(ptr_, b_.getInt32(n));
    for (std::size_t k = 0; k < n; ++k) {
      Value* src;
      if (d.fromSource) {
        src = slotPtr(f, d.sources[k]);
      } else {
        src = b_.CreateAlloca(value_);
        storeValue(src, d.values[k]);
      }
      b_.CreateStore(src, b_.CreateInBoundsGEP(ptr_, deltas, b_.getInt64(k)));
    }
    b_.CreateCall(helper("flo_inc", b_.getVoidTy(), {ptr_, i32_, i32_, ptr_, ptr_, i32_, i32_}),
                  {f.ctx, b_.getInt32(d.share), b_.getInt32(n), dstArr, deltas,
                   b_.getInt32(d.fromSource), b_.getInt32(d.loc)});
    b_.CreateBr(done);
    b_.SetInsertPoint(done);
  }

  // ---------------------------------------------------------------- needs

  void needs(llvm::Function* fn, const std::vector<Need>& ns) {
    Frame f = begin(fn);
    BasicBlock* no = BasicBlock::Create(c_, "false", fn);
    for (const Need& n : ns) {
      Value* v = need(f, n);
      if (n.negated) v = b_.CreateNot(v);
      BasicBlock* next = BasicBlock::Create(c_, "next", fn);
      b_.CreateCondBr(v, next, no);
      b_.SetInsertPoint(next);
    }
    b_.CreateRet(b_.getInt32(1));
    b_.SetInsertPoint(no);
    b_.CreateRet(b_.getInt32(0));
  }

  Value* truth(Value* i32v) { return b_.CreateICmpNE(i32v, b_.getInt32(0)); }

  Value* need(const Frame& f, const Need& n) {
    switch (n.op) {
    case Need::Op::Truthy:
      return truth(b_.CreateCall(helper("flo_truthy", i32_, {ptr_}), {slotPtr(f, n.state)}));
    case Need::Op::Compare:
      return compare(f, n);
    case Need::Op::Done:
      return truth(b_.CreateCall(helper("flo_need_done", i32_, {ptr_, i32_}),
                                 {f.ctx, b_.getInt32(n.tasker)}));
    case Need::Op::Status:
      return truth(b_.CreateCall(helper("flo_need_status", i32_, {ptr_, i32_, i32_}),
                                 {f.ctx, b_.getInt32(n.tasker), b_.getInt32(n.status)}));
    case Need::Op::AuxAny:
    case Need::Op::AuxAll:
      return truth(
          b_.CreateCall(helper("flo_need_aux", i32_, {ptr_, i32_, i32_}),
                        {f.ctx, b_.getInt32(n.frame), b_.getInt32(n.op == Need::Op::AuxAll)}));
    case Need::Op::Updated:
    case Need::Op::Changed:
      return truth(
          b_.CreateCall(helper(n.op == Need::Op::Updated ? "flo_need_updated" : "flo_need_changed",
                               i32_, {ptr_, i32_, i32_}),
                        {f.ctx, b_.getInt32(n.share), b_.getInt32(n.mark)}));
    }
    return b_.getFalse();
  }

  /// A comparison: inline when the state holds an int or a float and the goal is a constant
  /// number that a double represents exactly; the helper otherwise.
  Value* compare(const Frame& f, const Need& n) {
    auto* fn = b_.GetInsertBlock()->getParent();
    Value* state = slotPtr(f, n.state);
    Value* goalCell;
    if (n.goalIsRef) {
      goalCell = slotPtr(f, n.goalRef);
    } else {
      goalCell = constantCell(n.goal);
      storeValue(goalCell, n.goal);
    }
    auto callHelper = [&] {
      return truth(b_.CreateCall(helper("flo_compare", i32_, {ptr_, i32_, ptr_, ptr_, f64_, i32_}),
                                 {f.ctx, b_.getInt32(n.cmp), state, goalCell,
                                  ConstantFP::get(f64_, n.tolerance), b_.getInt32(n.loc)}));
    };
    const bool numericGoal = n.goal.tag == FLO_INT || n.goal.tag == FLO_FLOAT;
    const double g = n.goal.tag == FLO_INT ? double(n.goal.i) : n.goal.f;
    const bool inlineRef =
        n.goalIsRef && !(n.tolerance != 0 && (n.cmp == FLO_EQ || n.cmp == FLO_NE));
    const bool inlineConst = !n.goalIsRef && numericGoal && n.tolerance == 0 && std::isfinite(g) &&
                             std::fabs(g) < 9007199254740992.0;
    if (!inlineRef && !inlineConst) return callHelper();
    static const CmpInst::Predicate ip[] = {CmpInst::ICMP_EQ,  CmpInst::ICMP_NE,
                                            CmpInst::ICMP_SLT, CmpInst::ICMP_SLE,
                                            CmpInst::ICMP_SGE, CmpInst::ICMP_SGT};
    BasicBlock* isInt = BasicBlock::Create(c_, "cmp.int", fn);
    BasicBlock* notInt = BasicBlock::Create(c_, "cmp.notint", fn);
    BasicBlock* isFloat = BasicBlock::Create(c_, "cmp.float", fn);
    BasicBlock* slow = BasicBlock::Create(c_, "cmp.slow", fn);
    BasicBlock* join = BasicBlock::Create(c_, "cmp.join", fn);
    Value* tag = b_.CreateLoad(i32_, b_.CreateStructGEP(value_, state, 0));
    Value *ir = nullptr, *fr = nullptr;
    BasicBlock *intEnd = nullptr, *floatEnd = nullptr;
    if (n.goalIsRef) {
      // Both int or both float: compare the payloads inline (a tolerance only matters for ==
      // and !=, which then take the helper).
      Value* gtag = b_.CreateLoad(i32_, b_.CreateStructGEP(value_, goalCell, 0));
      Value* same = b_.CreateICmpEQ(tag, gtag);
      BasicBlock* sameTag = BasicBlock::Create(c_, "cmp.same", fn);
      b_.CreateCondBr(same, sameTag, slow);
      b_.SetInsertPoint(sameTag);
      b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(FLO_INT)), isInt, notInt);
      b_.SetInsertPoint(notInt);
      b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(FLO_FLOAT)), isFloat, slow);
      b_.SetInsertPoint(isInt);
      ir = b_.CreateICmp(ip[n.cmp], b_.CreateLoad(i64_, b_.CreateStructGEP(value_, state, 2)),
                         b_.CreateLoad(i64_, b_.CreateStructGEP(value_, goalCell, 2)));
      intEnd = b_.GetInsertBlock();
      b_.CreateBr(join);
      b_.SetInsertPoint(isFloat);
      fr = fcmp(n.cmp, b_.CreateLoad(f64_, b_.CreateStructGEP(value_, state, 2)),
                b_.CreateLoad(f64_, b_.CreateStructGEP(value_, goalCell, 2)));
      floatEnd = b_.GetInsertBlock();
      b_.CreateBr(join);
    } else {
      b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(FLO_INT)), isInt, notInt);
      b_.SetInsertPoint(notInt);
      b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(FLO_FLOAT)), isFloat, slow);
      b_.SetInsertPoint(isInt);
      Value* iv = b_.CreateLoad(i64_, b_.CreateStructGEP(value_, state, 2));
      if (n.goal.tag == FLO_INT)
        ir = b_.CreateICmp(ip[n.cmp], iv, b_.getInt64(std::uint64_t(n.goal.i)));
      else
        ir = fcmp(n.cmp, b_.CreateSIToFP(iv, f64_), ConstantFP::get(f64_, g));
      intEnd = b_.GetInsertBlock();
      b_.CreateBr(join);
      b_.SetInsertPoint(isFloat);
      Value* fv = b_.CreateLoad(f64_, b_.CreateStructGEP(value_, state, 2));
      fr = fcmp(n.cmp, fv, ConstantFP::get(f64_, g));
      floatEnd = b_.GetInsertBlock();
      b_.CreateBr(join);
    }

    b_.SetInsertPoint(slow);
    Value* sr = callHelper();
    BasicBlock* slowEnd = b_.GetInsertBlock();
    b_.CreateBr(join);

    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(b_.getInt1Ty(), 3);
    phi->addIncoming(ir, intEnd);
    phi->addIncoming(fr, floatEnd);
    phi->addIncoming(sr, slowEnd);
    return phi;
  }

  Value* fcmp(FloCmp op, Value* a, Value* b) {
    // Python: comparisons with NaN are false, except != which is true.
    static const CmpInst::Predicate fp[] = {CmpInst::FCMP_OEQ, CmpInst::FCMP_UNE,
                                            CmpInst::FCMP_OLT, CmpInst::FCMP_OLE,
                                            CmpInst::FCMP_OGE, CmpInst::FCMP_OGT};
    return b_.CreateFCmp(fp[op], a, b);
  }

  const ir::Program& p_;
  LLVMContext& c_;
  Module& m_;
  IRBuilder<> b_;
  DeedEmitter deeds_;
  bool bundle_; ///< emit flo_bundle_main instead of main
  StringTable strings_;
  GlobalVariable* stringsPlaceholder_ = nullptr;
  Type *i32_, *i64_, *f64_;
  PointerType* ptr_;
  StructType *value_, *ctx_;
  FunctionType* fnTy_;
};

} // namespace

const std::vector<std::string>& supportedTriples() {
  static const std::vector<std::string> t = {"x86_64-linux-gnu", "aarch64-linux-gnu"};
  return t;
}

bool normalizeTriple(std::string& triple) {
  if (triple == "x86_64" || triple == "x86-64" || triple == "x86_64-pc-linux-gnu" ||
      triple == "x86_64-unknown-linux-gnu")
    triple = "x86_64-linux-gnu";
  if (triple == "aarch64" || triple == "arm64" || triple == "aarch64-unknown-linux-gnu")
    triple = "aarch64-linux-gnu";
  for (const auto& t : supportedTriples())
    if (t == triple) return true;
  return false;
}

bool generate(const ir::Program& program, const Options& options, Emit emit, std::string& out,
              std::vector<Error>& errors) {
  initTargets();
  std::string triple = options.triple;
  if (!normalizeTriple(triple)) {
    errors.push_back({0, "unsupported target '" + options.triple + "'"});
    return false;
  }
  std::string lookupError;
  const Target* target = TargetRegistry::lookupTarget(triple, lookupError);
  if (!target) {
    errors.push_back({0, "LLVM has no target for '" + triple + "': " + lookupError});
    return false;
  }
  CodeGenOptLevel level = options.optLevel <= 0   ? CodeGenOptLevel::None
                          : options.optLevel == 1 ? CodeGenOptLevel::Less
                          : options.optLevel == 2 ? CodeGenOptLevel::Default
                                                  : CodeGenOptLevel::Aggressive;
  TargetOptions to;
  std::unique_ptr<TargetMachine> tm(
      target->createTargetMachine(triple, "generic", "", to, Reloc::PIC_, std::nullopt, level));

  LLVMContext context;
  auto module = std::make_unique<Module>("flo", context);
  module->setTargetTriple(triple);
  module->setDataLayout(tm->createDataLayout());
  module->setPICLevel(PICLevel::BigPIC);
  if (!options.bundle) module->setPIELevel(PIELevel::Large);
  Generator gen(program, context, *module, options.bundle);
  if (!gen.run(errors)) return false;
  std::string verifyMessage;
  raw_string_ostream vs(verifyMessage);
  if (verifyModule(*module, &vs)) {
    errors.push_back({0, "internal error: generated LLVM IR does not verify: " + vs.str()});
    return false;
  }

  // Optimise with the new pass manager.
  {
    LoopAnalysisManager lam;
    FunctionAnalysisManager fam;
    CGSCCAnalysisManager cgam;
    ModuleAnalysisManager mam;
    PassBuilder pb(tm.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    OptimizationLevel ol = options.optLevel <= 0   ? OptimizationLevel::O0
                           : options.optLevel == 1 ? OptimizationLevel::O1
                           : options.optLevel == 2 ? OptimizationLevel::O2
                                                   : OptimizationLevel::O3;
    ModulePassManager mpm = options.optLevel <= 0 ? pb.buildO0DefaultPipeline(ol)
                                                  : pb.buildPerModuleDefaultPipeline(ol);
    mpm.run(*module, mam);
  }

  if (emit == Emit::LLVM) {
    raw_string_ostream os(out);
    module->print(os, nullptr);
    os.flush();
    return true;
  }
  SmallVector<char, 0> buffer;
  raw_svector_ostream os(buffer);
  legacy::PassManager pm;
  if (tm->addPassesToEmitFile(pm, os, nullptr,
                              emit == Emit::Asm ? CodeGenFileType::AssemblyFile
                                                : CodeGenFileType::ObjectFile)) {
    errors.push_back({0, "LLVM cannot emit this file type for " + triple});
    return false;
  }
  pm.run(*module);
  out.assign(buffer.begin(), buffer.end());
  return true;
}

bool findLinkPlan(const std::string& triple, const std::string& selfExe, LinkPlan& plan,
                  std::string& error) {
  namespace fs = std::filesystem;
  std::vector<std::string> drivers;
  if (const char* cxx = std::getenv("FLO_CXX"); cxx && triple == "x86_64-linux-gnu")
    drivers.push_back(cxx);
  if (triple == "aarch64-linux-gnu") {
    drivers = {"aarch64-linux-gnu-g++", "aarch64-linux-gnu-g++-12"};
  } else {
    drivers.insert(drivers.end(), {"c++", "g++", "clang++-19", "clang++"});
  }
  plan.compiler.clear();
  for (const auto& d : drivers)
    if (auto p = sys::findProgramByName(d)) {
      plan.compiler = *p;
      break;
    }
  if (plan.compiler.empty()) {
    error = "no linker for " + triple + ": cannot find " + drivers[0] +
            (triple == "aarch64-linux-gnu" ? " (install the Debian package g++-aarch64-linux-gnu)"
                                           : " (install the Debian package g++)");
    return false;
  }
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("FLO_RUNTIME_DIR")) dirs.emplace_back(d);
  fs::path self = fs::path(selfExe).parent_path();
  dirs.push_back(self / ".." / "lib" / "flo");
  dirs.push_back(self / "lib" / "flo");
  for (const auto& d : dirs) {
    fs::path lib = d / triple / "libflo_rt.a";
    std::error_code ec;
    if (fs::exists(lib, ec)) {
      plan.runtime = fs::weakly_canonical(lib, ec).string();
      return true;
    }
  }
  error = "no Flo runtime built for " + triple + " (looked for " +
          (dirs.back() / triple / "libflo_rt.a").string() +
          "; set FLO_RUNTIME_DIR or build the flo_rt_" +
          (triple == "aarch64-linux-gnu" ? std::string("aarch64") : std::string("host")) +
          " target)";
  return false;
}

bool link(const LinkPlan& plan, const std::string& object, const std::string& output,
          std::string& error, bool shared) {
  // --gc-sections drops the runtime's functions a program never reaches (the runtime is built
  // a section per function).
  std::vector<StringRef> args = {plan.compiler, object, plan.runtime,       "-o",
                                 output,        "-lm",  "-Wl,--gc-sections"};
  // A bundle's object is what foggers download: its symbol table goes (the runtime's symbols
  // are hidden anyway; the build id names the object) and its segments are not padded apart.
  if (shared)
    args.insert(args.begin() + 1, {"-shared", "-fPIC", "-Wl,--exclude-libs,ALL", "-Wl,-z,defs",
                                   "-Wl,--build-id=sha1", "-s", "-Wl,-z,noseparate-code"});
  SmallString<128> errFile;
  sys::fs::createTemporaryFile("floc-link", "txt", errFile);
  std::optional<StringRef> redirects[] = {std::nullopt, StringRef(errFile), StringRef(errFile)};
  std::string execError;
  int rc = sys::ExecuteAndWait(plan.compiler, args, std::nullopt, redirects, 0, 0, &execError);
  std::string text;
  if (auto buf = MemoryBuffer::getFile(errFile)) text = (*buf)->getBuffer().str();
  sys::fs::remove(errFile);
  if (rc != 0) {
    error = "linking with " + plan.compiler + " failed" +
            (execError.empty() ? "" : ": " + execError) + (text.empty() ? "" : "\n" + text);
    return false;
  }
  return true;
}

} // namespace flo::codegen
