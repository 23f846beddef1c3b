/// \file
/// Deed code generation (see deeds.h for the semantics). The body comes typed from sema
/// (compiler/sema/typed.h): every conversion is an explicit node and every user error has been
/// reported there, so this file only binds ports to store fields and emits code. Ports live in
/// SSA values, not in memory: the body is straight-line except for short-circuit operators,
/// conditionals and fault exits, so at each statement every port has exactly one current value.
#include "compiler/codegen/deeds.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <algorithm>
#include <cassert>
#include <cstdint>
#include <functional>
#include <limits>

namespace flo::codegen {

using namespace llvm;
using tir::Base;
using tir::Expr;
using tir::Op;

namespace {

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

/// One call site of one deed.
class Lowering {
public:
  /// A `do` call site: the deed's ports bound to the call's store fields.
  Lowering(DeedEmitter& owner, const ir::Program& p, LLVMContext& c, Module& m, IRBuilder<>& b,
           const ir::DeedCall& call)
      : Lowering(owner, p, c, m, b, &p.deeds.at(call.deed).typed->vars, call.loc,
                 "called by the `do`") {
    call_ = &call;
    deed_ = p.deeds.at(call.deed).typed.get();
    what_ = "deed " + quote(deed_->name);
  }

  /// A deed run on values (a flow's `map` or fold), at the flow stage `loc`.
  Lowering(DeedEmitter& owner, const ir::Program& p, LLVMContext& c, Module& m, IRBuilder<>& b,
           const tir::TypedDeed& deed, std::uint32_t loc, const std::string& flow)
      : Lowering(owner, p, c, m, b, &deed.vars, loc, "in flow " + quote(flow)) {
    deed_ = &deed;
    what_ = "deed " + quote(deed.name);
  }

  /// An expression over `vars` (a flow's filter over `value` and `time`).
  Lowering(DeedEmitter& owner, const ir::Program& p, LLVMContext& c, Module& m, IRBuilder<>& b,
           const std::vector<tir::Var>& vars, std::uint32_t loc, const std::string& flow)
      : Lowering(owner, p, c, m, b, &vars, loc, "") {
    what_ = "flow " + quote(flow);
  }

private:
  Lowering(DeedEmitter& owner, const ir::Program& p, LLVMContext& c, Module& m, IRBuilder<>& b,
           const std::vector<tir::Var>* vars, std::uint32_t loc, std::string site)
      : owner_(owner), p_(p), c_(c), m_(m), b_(b), vars_(vars), callLoc_(loc), faultLoc_(loc),
        site_(std::move(site)) {
    i32_ = b_.getInt32Ty();
    i64_ = b_.getInt64Ty();
    f64_ = b_.getDoubleTy();
    ptr_ = PointerType::getUnqual(c_);
    // The codegen module names these (codegen.cpp); same layout either way.
    value_ = StructType::getTypeByName(c_, "FloValue");
    if (!value_) value_ = StructType::get(c_, {i32_, i32_, i64_});
    ctx_ = StructType::getTypeByName(c_, "FloCtx");
    if (!ctx_) ctx_ = StructType::get(c_, {ptr_, ptr_, f64_, i32_, i32_, ptr_});
  }

public:
  /// Binds inputs and outputs to the call's store fields, in declaration order. False with a
  /// message when the call does not fit the deed (a bug in lowering, never a user error).
  bool bind(std::string& error) {
    refs_.assign(vars_->size(), {});
    assigned_.assign(vars_->size(), false);
    auto bound = deed_->inputsAndOutputs();
    if (bound.size() != call_->ports.size()) {
      error = "internal error: " + what_ + ": " + std::to_string(call_->ports.size()) +
              " ports bound for " + std::to_string(bound.size()) + " declared";
      return false;
    }
    for (std::size_t k = 0; k < bound.size(); ++k) {
      const ir::FieldRef& ref = call_->ports[k];
      if (!ref.valid() || ref.share >= p_.shares.size()) {
        error = "internal error: " + what_ + ": port " + quote((*vars_)[bound[k]].name) +
                " is bound to no store field";
        return false;
      }
      refs_[bound[k]] = ref;
    }
    for (const auto& v : (*vars_))
      if (v.type.base != Base::F64 && v.type.base != Base::I64 && v.type.base != Base::Bool) {
        error = "internal error: " + what_ + ": port " + quote(v.name) +
                " has a type sema should have refused";
        return false;
      }
    for (const auto& st : deed_->body)
      if (st.kind == tir::Stmt::Kind::Assign) assigned_.at(st.target) = true;
    return true;
  }

  /// Generates the function (after a successful bind).
  void emit(llvm::Function* fn) {
    b_.SetInsertPoint(BasicBlock::Create(c_, "entry", fn));
    ctxArg_ = fn->getArg(0);
    slots_ = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_, ctxArg_, 0), "slots");
    env_.assign(vars_->size(), nullptr);
    // Inputs first, all of them (a port's type is a contract even when the body ignores it);
    // outputs and locals start at zero.
    for (std::size_t i = 0; i < vars_->size(); ++i)
      env_[i] = role(i) == tir::Var::Role::Input ? input(i) : zero(base(i));
    body(p_.deeds.at(call_->deed).stmtLocs);
    // Outputs, after the whole body: a fault above leaves the store untouched.
    std::vector<std::uint32_t> written;
    for (std::size_t i = 0; i < vars_->size(); ++i) {
      if (role(i) != tir::Var::Role::Output || !assigned_[i]) continue;
      Value* cell = cellOf(i);
      const Base t = base(i);
      const FloTag tag = t == Base::F64 ? FLO_FLOAT : t == Base::I64 ? FLO_INT : FLO_BOOL;
      b_.CreateStore(b_.getInt32(tag), b_.CreateStructGEP(value_, cell, 0));
      b_.CreateStore(b_.getInt32(0), b_.CreateStructGEP(value_, cell, 1));
      Value* v = t == Base::Bool ? b_.CreateZExt(env_[i], i64_) : env_[i];
      b_.CreateStore(v, b_.CreateStructGEP(value_, cell, 2));
      if (std::find(written.begin(), written.end(), refs_[i].share) == written.end())
        written.push_back(refs_[i].share);
    }
    if (!written.empty()) {
      Value* stamps = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_, ctxArg_, 1), "stamps");
      for (std::uint32_t share : written) owner_.stamp(ctxArg_, stamps, share);
    }
    b_.CreateRet(b_.getInt32(0));
  }

  /// Runs the deed on values inside `fn` (whose first argument is the FloCtx): `inputs` bind
  /// its inputs in declaration order; returns its one output's final value.
  Value* runPure(llvm::Function* fn, const std::vector<Value*>& inputs,
                 const std::vector<std::uint32_t>& stmtLocs) {
    assert(deed_);
    ctxArg_ = fn->getArg(0);
    env_.assign(vars_->size(), nullptr);
    std::size_t next = 0, out = vars_->size();
    for (std::size_t i = 0; i < vars_->size(); ++i) {
      env_[i] = role(i) == tir::Var::Role::Input ? inputs.at(next++) : zero(base(i));
      if (role(i) == tir::Var::Role::Output) out = i;
    }
    assert(next == inputs.size() && out < vars_->size());
    body(stmtLocs);
    return env_[out];
  }

  /// Whether the filter `e` over `value` and `time` keeps the item (an i1).
  Value* filter(llvm::Function* fn, const Expr& e, Value* value, Value* time) {
    ctxArg_ = fn->getArg(0);
    env_ = {value, time};
    faultLoc_ = callLoc_;
    return truthy(e.type.base, expr(e));
  }

private:
  /// The statements, in order; a fault points at the statement that failed, and its message
  /// names the call site.
  void body(const std::vector<std::uint32_t>& stmtLocs) {
    for (std::size_t si = 0; si < deed_->body.size(); ++si) {
      const tir::Stmt& s = deed_->body[si];
      faultLoc_ = si < stmtLocs.size() ? stmtLocs[si] : callLoc_;
      if (s.kind == tir::Stmt::Kind::Assign) {
        env_[s.target] = expr(s.value); // sema converted it to the target's type
      } else if (s.kind == tir::Stmt::Kind::Fail) {
        guard(truthy(s.value.type.base, expr(s.value)),
              what_ + " failed: " + s.message + callSite());
      }
    }
  }

  tir::Var::Role role(std::size_t v) const { return (*vars_)[v].role; }
  Base base(std::size_t v) const { return (*vars_)[v].type.base; }

  // ------------------------------------------------------------------------------ emission

  Value* cellOf(std::size_t v) {
    return b_.CreateInBoundsGEP(value_, slots_, b_.getInt64(p_.slot(refs_[v])));
  }

  FunctionCallee helper(const char* name, Type* ret, std::vector<Type*> args) {
    return m_.getOrInsertFunction(name, FunctionType::get(ret, args, false));
  }

  MDNode* unlikely() { return MDBuilder(c_).createBranchWeights(1, 1u << 20); }
  MDNode* likely() { return MDBuilder(c_).createBranchWeights(1u << 20, 1); }

  /// `ret i32 0`, shared by the early exits after a helper faulted.
  BasicBlock* exitBlock() {
    if (!exit_) {
      IRBuilderBase::InsertPointGuard keep(b_);
      exit_ = BasicBlock::Create(c_, "deed.exit", b_.GetInsertBlock()->getParent());
      b_.SetInsertPoint(exit_);
      b_.CreateRet(b_.getInt32(0));
    }
    return exit_;
  }

  /// Stops the run with a located message when `bad` holds, then goes on in a fresh block.
  void guard(Value* bad, const std::function<Value*()>& message) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    BasicBlock* fault = BasicBlock::Create(c_, "deed.fault", fn);
    BasicBlock* ok = BasicBlock::Create(c_, "deed.ok", fn);
    b_.CreateCondBr(bad, fault, ok, unlikely());
    b_.SetInsertPoint(fault);
    b_.CreateCall(helper("flo_fault", b_.getVoidTy(), {ptr_, i32_, ptr_}),
                  {ctxArg_, b_.getInt32(faultLoc_), message()});
    b_.CreateRet(b_.getInt32(0));
    b_.SetInsertPoint(ok);
  }
  void guard(Value* bad, const std::string& message) {
    guard(bad, [&] { return owner_.message(message); });
  }
  /// " (called by the `do` at FILE:LINE:COL)" when a fault points into the deed's body.
  std::string callSite() const {
    if (site_.empty() || faultLoc_ == callLoc_ || callLoc_ >= p_.locations.size()) return {};
    std::string where = p_.locations[callLoc_];
    while (!where.empty() && (where.back() == ' ' || where.back() == ':')) where.pop_back();
    return " (" + site_ + " at " + where + ")";
  }
  /// "deed 'd': WHAT in 'EXPR'" (sema keeps the source text of every node that can fault).
  std::string faultText(const std::string& what, const Expr& e) const {
    return what_ + ": " + what + " in " + quote(e.s) + callSite();
  }

  /// An input port: inline when the cell holds the declared kind, the helper otherwise.
  Value* input(std::size_t v) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    Value* cell = cellOf(v);
    const std::string& name = (*vars_)[v].name;
    const Base t = base(v);
    Value* tag = b_.CreateLoad(i32_, b_.CreateStructGEP(value_, cell, 0), name + ".tag");
    const FloTag fastTag = t == Base::F64 ? FLO_FLOAT : t == Base::I64 ? FLO_INT : FLO_BOOL;
    BasicBlock* fast = BasicBlock::Create(c_, name + ".fast", fn);
    BasicBlock* slow = BasicBlock::Create(c_, name + ".slow", fn);
    BasicBlock* join = BasicBlock::Create(c_, name + ".in", fn);
    b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(fastTag)), fast, slow, likely());

    b_.SetInsertPoint(fast);
    Value* payload = b_.CreateStructGEP(value_, cell, 2);
    Value* fv = t == Base::F64 ? b_.CreateLoad(f64_, payload) : b_.CreateLoad(i64_, payload);
    if (t == Base::Bool) fv = b_.CreateICmpNE(fv, b_.getInt64(0));
    b_.CreateBr(join);

    b_.SetInsertPoint(slow);
    Value* sv;
    if (t == Base::F64)
      sv = b_.CreateCall(helper("flo_in_f64", f64_, {ptr_, ptr_, i32_}),
                         {ctxArg_, cell, b_.getInt32(callLoc_)});
    else if (t == Base::I64)
      sv = b_.CreateCall(helper("flo_in_i64", i64_, {ptr_, ptr_, i32_}),
                         {ctxArg_, cell, b_.getInt32(callLoc_)});
    else
      sv = b_.CreateICmpNE(b_.CreateCall(helper("flo_in_bool", i32_, {ptr_, ptr_, i32_}),
                                         {ctxArg_, cell, b_.getInt32(callLoc_)}),
                           b_.getInt32(0));
    Value* faulted = b_.CreateLoad(i32_, b_.CreateStructGEP(ctx_, ctxArg_, 3), "fault");
    BasicBlock* slowOk = BasicBlock::Create(c_, name + ".slow.ok", fn);
    b_.CreateCondBr(b_.CreateICmpNE(faulted, b_.getInt32(0)), exitBlock(), slowOk, unlikely());
    b_.SetInsertPoint(slowOk);
    b_.CreateBr(join);

    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(type(t), 2, name);
    phi->addIncoming(fv, fast);
    phi->addIncoming(sv, slowOk);
    return phi;
  }

  Type* type(Base t) { return t == Base::Bool ? b_.getInt1Ty() : t == Base::I64 ? i64_ : f64_; }

  Value* zero(Base t) {
    return t == Base::Bool  ? b_.getFalse()
           : t == Base::I64 ? b_.getInt64(0)
                            : ConstantFP::get(f64_, 0);
  }

  /// Python's truthiness.
  Value* truthy(Base t, Value* v) {
    switch (t) {
    case Base::Bool:
      return v;
    case Base::I64:
      return b_.CreateICmpNE(v, b_.getInt64(0));
    default:
      return b_.CreateFCmpUNE(v, ConstantFP::get(f64_, 0)); // NaN is true
    }
  }

  /// `a < b` in type t (false < true for bools; false when a NaN is involved).
  Value* less(Base t, Value* a, Value* b) {
    switch (t) {
    case Base::Bool:
      return b_.CreateICmpULT(a, b);
    case Base::I64:
      return b_.CreateICmpSLT(a, b);
    default:
      return b_.CreateFCmpOLT(a, b);
    }
  }

  Value* expr(const Expr& e) {
    const Base t = e.type.base;
    switch (e.op) {
    case Op::Const:
      return t == Base::Bool  ? b_.getInt1(e.b)
             : t == Base::I64 ? b_.getInt64(std::uint64_t(e.i))
                              : static_cast<Value*>(ConstantFP::get(f64_, e.f));
    case Op::Var:
      return env_.at(e.var);
    case Op::Widen: {
      const Expr& x = e.args[0];
      Value* v = expr(x);
      if (x.type.base == Base::Bool)
        return t == Base::I64 ? b_.CreateZExt(v, i64_) : b_.CreateUIToFP(v, f64_);
      return b_.CreateSIToFP(v, f64_); // i64 -> f64
    }
    case Op::Neg: {
      Value* v = expr(e.args[0]);
      if (t == Base::F64) return b_.CreateFNeg(v);
      return checked(Intrinsic::ssub_with_overflow, b_.getInt64(0), v, e);
    }
    case Op::Not:
      return b_.CreateNot(truthy(e.args[0].type.base, expr(e.args[0])));
    case Op::Add:
    case Op::Sub:
    case Op::Mul:
    case Op::Div:
    case Op::Mod:
      return binary(e);
    case Op::Cmp:
      return compare(e);
    case Op::And:
    case Op::Or:
      return logical(e);
    case Op::Cond:
      return conditional(e);
    case Op::Call:
      return call(e);
    case Op::Index:
    case Op::Old:
    case Op::Sum:
    case Op::Count:
      break; // sema refuses these in deeds
    }
    return zero(t);
  }

  /// An i64 operation that stops the run on overflow, unless sema proved it cannot.
  Value* checked(Intrinsic::ID id, Value* a, Value* b, const Expr& e) {
    if (!e.mayFault) {
      switch (id) {
      case Intrinsic::sadd_with_overflow:
        return b_.CreateNSWAdd(a, b);
      case Intrinsic::ssub_with_overflow:
        return b_.CreateNSWSub(a, b);
      default:
        return b_.CreateNSWMul(a, b);
      }
    }
    Value* r = b_.CreateBinaryIntrinsic(id, a, b);
    guard(b_.CreateExtractValue(r, 1), faultText("integer overflow", e));
    return b_.CreateExtractValue(r, 0);
  }

  Value* binary(const Expr& e) {
    Value* x = expr(e.args[0]);
    Value* y = expr(e.args[1]);
    if (e.type.base == Base::F64) {
      if (e.op == Op::Add) return b_.CreateFAdd(x, y);
      if (e.op == Op::Sub) return b_.CreateFSub(x, y);
      if (e.op == Op::Mul) return b_.CreateFMul(x, y);
      guard(b_.CreateFCmpOEQ(y, ConstantFP::get(f64_, 0)), faultText("division by zero", e));
      if (e.op == Op::Div) return b_.CreateFDiv(x, y);
      // Python's float %: fmod, then the sign of the divisor; an exact zero takes its sign.
      Value* r = b_.CreateFRem(x, y);
      Value* zero = ConstantFP::get(f64_, 0);
      Value* signsDiffer = b_.CreateXor(b_.CreateFCmpOLT(y, zero), b_.CreateFCmpOLT(r, zero));
      Value* adjusted = b_.CreateSelect(signsDiffer, b_.CreateFAdd(r, y), r);
      Value* signedZero = b_.CreateBinaryIntrinsic(Intrinsic::copysign, zero, y);
      return b_.CreateSelect(b_.CreateFCmpUNE(r, zero), adjusted, signedZero);
    }
    if (e.op == Op::Add) return checked(Intrinsic::sadd_with_overflow, x, y, e);
    if (e.op == Op::Sub) return checked(Intrinsic::ssub_with_overflow, x, y, e);
    if (e.op == Op::Mul) return checked(Intrinsic::smul_with_overflow, x, y, e);
    // % (deeds have no integer /): floored (Python). x % -1 is 0; srem by -1 would trap on
    // INT64_MIN, so divide by 1.
    if (e.mayFault) guard(b_.CreateICmpEQ(y, b_.getInt64(0)), faultText("division by zero", e));
    Value* minusOne = b_.CreateICmpEQ(y, b_.getInt64(std::uint64_t(-1)));
    Value* r = b_.CreateSRem(x, b_.CreateSelect(minusOne, b_.getInt64(1), y));
    Value* signsDiffer = b_.CreateICmpSLT(b_.CreateXor(r, y), b_.getInt64(0));
    Value* adjust = b_.CreateAnd(b_.CreateICmpNE(r, b_.getInt64(0)), signsDiffer);
    return b_.CreateSelect(adjust, b_.CreateAdd(r, y), r);
  }

  Value* compare(const Expr& e) {
    Value* x = expr(e.args[0]);
    Value* y = expr(e.args[1]);
    Base t = e.args[0].type.base; // sema gave both operands one type
    if (t == Base::Bool) {        // False < True
      x = b_.CreateZExt(x, i64_);
      y = b_.CreateZExt(y, i64_);
      t = Base::I64;
    }
    const int k = int(e.cmp); // Eq Ne Lt Le Ge Gt
    if (t == Base::F64) {
      // Python: comparisons with NaN are false, except != which is true.
      static const CmpInst::Predicate fp[] = {CmpInst::FCMP_OEQ, CmpInst::FCMP_UNE,
                                              CmpInst::FCMP_OLT, CmpInst::FCMP_OLE,
                                              CmpInst::FCMP_OGE, CmpInst::FCMP_OGT};
      return b_.CreateFCmp(fp[k], x, y);
    }
    static const CmpInst::Predicate ip[] = {CmpInst::ICMP_EQ,  CmpInst::ICMP_NE,
                                            CmpInst::ICMP_SLT, CmpInst::ICMP_SLE,
                                            CmpInst::ICMP_SGE, CmpInst::ICMP_SGT};
    return b_.CreateICmp(ip[k], x, y);
  }

  /// `a and b` is b when a is truthy, else a; `a or b` is a when a is truthy, else b. The right
  /// operand runs only when needed (it may fault).
  Value* logical(const Expr& e) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    const bool isAnd = e.op == Op::And;
    Value* av = expr(e.args[0]);
    Value* at = truthy(e.args[0].type.base, av);
    BasicBlock* from = b_.GetInsertBlock();
    BasicBlock* rhs = BasicBlock::Create(c_, isAnd ? "and.rhs" : "or.rhs", fn);
    BasicBlock* join = BasicBlock::Create(c_, isAnd ? "and.end" : "or.end", fn);
    if (isAnd)
      b_.CreateCondBr(at, rhs, join);
    else
      b_.CreateCondBr(at, join, rhs);
    b_.SetInsertPoint(rhs);
    Value* bv = expr(e.args[1]);
    BasicBlock* rhsEnd = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(type(e.type.base), 2);
    phi->addIncoming(av, from);
    phi->addIncoming(bv, rhsEnd);
    return phi;
  }

  /// `A if C else B`: operands are C, A, B; only the chosen branch runs.
  Value* conditional(const Expr& e) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    Value* c = truthy(e.args[0].type.base, expr(e.args[0]));
    BasicBlock* thenBB = BasicBlock::Create(c_, "cond.then", fn);
    BasicBlock* elseBB = BasicBlock::Create(c_, "cond.else", fn);
    BasicBlock* join = BasicBlock::Create(c_, "cond.end", fn);
    b_.CreateCondBr(c, thenBB, elseBB);
    b_.SetInsertPoint(thenBB);
    Value* tv = expr(e.args[1]);
    BasicBlock* thenEnd = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(elseBB);
    Value* ev = expr(e.args[2]);
    BasicBlock* elseEnd = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(type(e.type.base), 2);
    phi->addIncoming(tv, thenEnd);
    phi->addIncoming(ev, elseEnd);
    return phi;
  }

  Value* call(const Expr& e) {
    const Base t = e.type.base;
    std::vector<Value*> args;
    for (const auto& a : e.args) args.push_back(expr(a));
    switch (e.fn) {
    case tir::Fn::Abs: {
      Value* x = args[0];
      if (t == Base::F64) return b_.CreateUnaryIntrinsic(Intrinsic::fabs, x);
      if (e.mayFault)
        guard(b_.CreateICmpEQ(x,
                              b_.getInt64(std::uint64_t(std::numeric_limits<std::int64_t>::min()))),
              faultText("integer overflow", e));
      return b_.CreateSelect(b_.CreateICmpSLT(x, b_.getInt64(0)), b_.CreateNeg(x), x);
    }
    case tir::Fn::Min:
    case tir::Fn::Max: {
      // Python: the first of equal values wins; min replaces when item < current, max when
      // item > current.
      Value* cur = args[0];
      for (std::size_t k = 1; k < args.size(); ++k) {
        Value* take = e.fn == tir::Fn::Min ? less(t, args[k], cur) : less(t, cur, args[k]);
        cur = b_.CreateSelect(take, args[k], cur);
      }
      return cur;
    }
    case tir::Fn::Clamp: { // min(max(x, lo), hi)
      Value* m = b_.CreateSelect(less(t, args[0], args[1]), args[1], args[0]);
      return b_.CreateSelect(less(t, args[2], m), args[2], m);
    }
    case tir::Fn::Floor:
    case tir::Fn::Ceil:
    case tir::Fn::Round:
      return rounding(e, args[0]);
    case tir::Fn::Len:
      break; // sema refuses it in deeds
    default:
      return math(e, args[0]);
    }
    return zero(t);
  }

  Value* rounding(const Expr& e, Value* x) {
    if (e.args[0].type.base != Base::F64) return x; // sema converted an integer to i64
    Intrinsic::ID id = e.fn == tir::Fn::Floor  ? Intrinsic::floor
                       : e.fn == tir::Fn::Ceil ? Intrinsic::ceil
                                               : Intrinsic::roundeven; // Python 3: half to even
    Value* r = b_.CreateUnaryIntrinsic(id, x);
    const double two63 = 9223372036854775808.0;
    Value* inRange = b_.CreateAnd(b_.CreateFCmpOGE(r, ConstantFP::get(f64_, -two63)),
                                  b_.CreateFCmpOLT(r, ConstantFP::get(f64_, two63)));
    guard(b_.CreateNot(inRange), [&] {
      Value* isNan = b_.CreateFCmpUNO(x, x);
      Value* isInf = b_.CreateFCmpOEQ(b_.CreateUnaryIntrinsic(Intrinsic::fabs, x),
                                      ConstantFP::getInfinity(f64_));
      return b_.CreateSelect(
          isNan, owner_.message(faultText("cannot convert float NaN to integer", e)),
          b_.CreateSelect(isInf,
                          owner_.message(faultText("cannot convert float infinity to integer", e)),
                          owner_.message(faultText("integer overflow", e))));
    });
    return b_.CreateFPToSI(r, i64_);
  }

  /// sqrt exp log sin cos, with CPython's math_1 error rule: a NaN from a non-NaN argument is a
  /// domain error, an infinity from a finite argument a range error (exp) or a domain error.
  Value* math(const Expr& e, Value* x) {
    Intrinsic::ID id = e.fn == tir::Fn::Sqrt  ? Intrinsic::sqrt
                       : e.fn == tir::Fn::Exp ? Intrinsic::exp
                       : e.fn == tir::Fn::Log ? Intrinsic::log
                       : e.fn == tir::Fn::Sin ? Intrinsic::sin
                                              : Intrinsic::cos;
    Value* r = b_.CreateUnaryIntrinsic(id, x);
    Value* inf = ConstantFP::getInfinity(f64_);
    Value* nanFromNumber = b_.CreateAnd(b_.CreateFCmpUNO(r, r), b_.CreateFCmpORD(x, x));
    Value* infFromFinite =
        b_.CreateAnd(b_.CreateFCmpOEQ(b_.CreateUnaryIntrinsic(Intrinsic::fabs, r), inf),
                     b_.CreateFCmpONE(b_.CreateUnaryIntrinsic(Intrinsic::fabs, x), inf));
    if (e.fn == tir::Fn::Exp) {
      guard(infFromFinite, faultText("math range error", e));
      guard(nanFromNumber, faultText("math domain error", e));
    } else {
      guard(b_.CreateOr(nanFromNumber, infFromFinite), faultText("math domain error", e));
    }
    return r;
  }

  DeedEmitter& owner_;
  const ir::Program& p_;
  LLVMContext& c_;
  Module& m_;
  IRBuilder<>& b_;
  const std::vector<tir::Var>* vars_;
  std::uint32_t callLoc_;                ///< the `do`, or the flow stage
  std::uint32_t faultLoc_ = 0;           ///< where a fault in the statement being emitted points
  std::string site_;                     ///< "called by the `do`", "in flow 'f'": what callLoc_ is
  const ir::DeedCall* call_ = nullptr;   ///< a `do` call site
  const tir::TypedDeed* deed_ = nullptr; ///< the deed (none for a filter)
  std::string what_;                     ///< "deed 'd'", "flow 'f'": faults name it
  Type *i32_, *i64_, *f64_;
  PointerType* ptr_;
  StructType *value_, *ctx_;

  std::vector<ir::FieldRef> refs_; ///< per variable: the bound store field (none for locals)
  std::vector<bool> assigned_;     ///< per variable: some `let` writes it (lets are unconditional)

  Value* ctxArg_ = nullptr;
  Value* slots_ = nullptr;
  std::vector<Value*> env_; ///< each variable's current value
  BasicBlock* exit_ = nullptr;
};

} // namespace

void DeedEmitter::stamp(Value* ctx, Value* stamps, std::uint32_t share) {
  Type* f64 = b_.getDoubleTy();
  Type* ptr = PointerType::getUnqual(c_);
  StructType* ctxTy = StructType::getTypeByName(c_, "FloCtx");
  assert(ctxTy && "codegen.cpp names FloCtx before any function is emitted");
  Value* now = b_.CreateLoad(f64, b_.CreateStructGEP(ctxTy, ctx, 2), "stamp");
  b_.CreateStore(now, b_.CreateInBoundsGEP(f64, stamps, b_.getInt64(share)));
  if (tapped_.at(share)) // a flow takes this share's writes as items
    b_.CreateCall(
        m_.getOrInsertFunction("flo_written",
                               FunctionType::get(b_.getVoidTy(), {ptr, b_.getInt32Ty()}, false)),
        {ctx, b_.getInt32(share)});
}

Constant* DeedEmitter::message(const std::string& text) {
  auto [it, fresh] = messages_.emplace(text, nullptr);
  if (fresh) {
    auto* data = ConstantDataArray::getString(c_, text, true);
    auto* gv = new GlobalVariable(m_, data->getType(), true, GlobalValue::PrivateLinkage, data,
                                  "flo.deed.msg");
    gv->setUnnamedAddr(GlobalValue::UnnamedAddr::Global);
    gv->setAlignment(Align(1));
    it->second = gv;
  }
  return it->second;
}

void DeedEmitter::emitFlowItems(llvm::Function* fn, const ir::Flow& flow) {
  // Three loops over the n items, chosen on entry: without aggs, compact what the stages keep;
  // with aggs and one partition, keep the aggregate in registers and store it at the end;
  // with aggs and partitions, add each item to its partition's aggregate in memory.
  //   for (i = 0, k = 0; i < n; ++i) {
  //     v = values[i]; v = map(v); if (!filter(v, time)) continue;
  //     keep v (compact, or add it to an aggregate by abi.h's FloAgg rule); ++k;
  //   } return k;
  Type* i32 = b_.getInt32Ty();
  Type* i64 = b_.getInt64Ty();
  Type* f64 = b_.getDoubleTy();
  for (unsigned a : {1u, 2u, 5u}) fn->addParamAttr(a, Attribute::NoAlias);
  Value* values = fn->getArg(1);
  Value* parts = fn->getArg(2);
  Value* n = fn->getArg(3);
  Value* time = fn->getArg(4);
  Value* aggs = fn->getArg(5);
  Value* single = fn->getArg(6);
  StructType* aggTy = StructType::get(c_, {i64, f64, f64, f64, f64, f64}); // FloAgg
  vars_ = {tir::Var{"value", tir::Type::scalar(Base::F64), tir::Var::Role::Item, {}},
           tir::Var{"time", tir::Type::scalar(Base::F64), tir::Var::Role::ItemTime, {}}};
  enum class Mode { Compact, Registers, Memory };

  BasicBlock* entry = BasicBlock::Create(c_, "entry", fn);
  BasicBlock* compact = BasicBlock::Create(c_, "compact", fn);
  BasicBlock* withAggs = BasicBlock::Create(c_, "aggs", fn);
  BasicBlock* registers = BasicBlock::Create(c_, "aggs.one", fn);
  BasicBlock* memory = BasicBlock::Create(c_, "aggs.many", fn);
  b_.SetInsertPoint(entry);
  b_.CreateCondBr(b_.CreateIsNull(aggs), compact, withAggs);
  b_.SetInsertPoint(withAggs);
  b_.CreateCondBr(b_.CreateICmpNE(single, b_.getInt32(0)), registers, memory);

  // The aggregate as six values: loaded, updated per item, stored.
  struct Agg {
    Value *n, *sum, *min, *max, *first, *last;
  };
  auto add = [&](const Agg& a, Value* v) {
    Value* empty = b_.CreateICmpEQ(a.n, b_.getInt64(0));
    return Agg{b_.CreateAdd(a.n, b_.getInt64(1)),
               b_.CreateFAdd(a.sum, v),
               b_.CreateSelect(b_.CreateOr(empty, b_.CreateFCmpOLT(v, a.min)), v, a.min),
               b_.CreateSelect(b_.CreateOr(empty, b_.CreateFCmpOLT(a.max, v)), v, a.max),
               b_.CreateSelect(empty, v, a.first),
               v};
  };
  auto load = [&](Value* agg) {
    auto f = [&](unsigned i, Type* t) {
      return b_.CreateLoad(t, b_.CreateStructGEP(aggTy, agg, i));
    };
    return Agg{f(0, i64), f(1, f64), f(2, f64), f(3, f64), f(4, f64), f(5, f64)};
  };
  auto store = [&](const Agg& a, Value* agg) {
    Value* fields[] = {a.n, a.sum, a.min, a.max, a.first, a.last};
    for (unsigned i = 0; i < 6; ++i) b_.CreateStore(fields[i], b_.CreateStructGEP(aggTy, agg, i));
  };

  auto loop = [&](BasicBlock* pre, Mode mode) {
    b_.SetInsertPoint(pre);
    Agg start{};
    if (mode == Mode::Registers) start = load(aggs);
    BasicBlock* head = BasicBlock::Create(c_, "item.head", fn);
    BasicBlock* body = BasicBlock::Create(c_, "item.body", fn);
    BasicBlock* next = BasicBlock::Create(c_, "item.next", fn);
    BasicBlock* done = BasicBlock::Create(c_, "items.done", fn);
    b_.CreateBr(head);
    b_.SetInsertPoint(head);
    PHINode* i = b_.CreatePHI(i32, 2, "i");
    PHINode* k = b_.CreatePHI(i32, 2, "k");
    i->addIncoming(b_.getInt32(0), pre);
    k->addIncoming(b_.getInt32(0), pre);
    std::vector<PHINode*> acc; // Registers: the aggregate's six values
    if (mode == Mode::Registers) {
      Value* init[] = {start.n, start.sum, start.min, start.max, start.first, start.last};
      for (Value* x : init) {
        acc.push_back(b_.CreatePHI(x->getType(), 2));
        acc.back()->addIncoming(x, pre);
      }
    }
    b_.CreateCondBr(b_.CreateICmpULT(i, n), body, done);

    b_.SetInsertPoint(body);
    Value* v = b_.CreateLoad(f64, b_.CreateInBoundsGEP(f64, values, i), "v");
    std::vector<BasicBlock*> skipped; // edges into `next` from a filter that dropped the item
    for (const auto& st : flow.stages) {
      if (st.kind == ir::Flow::Stage::Kind::Map) {
        Lowering l(*this, p_, c_, m_, b_, *st.deed, st.loc, flow.name);
        v = l.runPure(fn, {v}, st.stmtLocs);
      } else {
        Lowering l(*this, p_, c_, m_, b_, vars_, st.loc, flow.name);
        Value* keep = l.filter(fn, *st.filter, v, time);
        BasicBlock* pass = BasicBlock::Create(c_, "item.kept", fn);
        skipped.push_back(b_.GetInsertBlock());
        b_.CreateCondBr(keep, pass, next);
        b_.SetInsertPoint(pass);
      }
    }
    Agg after{};
    if (mode == Mode::Registers) {
      after = add(Agg{acc[0], acc[1], acc[2], acc[3], acc[4], acc[5]}, v);
    } else {
      Value* part = b_.CreateLoad(i32, b_.CreateInBoundsGEP(i32, parts, i), "part");
      if (mode == Mode::Memory) {
        Value* agg = b_.CreateInBoundsGEP(aggTy, aggs, b_.CreateZExt(part, i64));
        store(add(load(agg), v), agg);
      } else {
        b_.CreateStore(v, b_.CreateInBoundsGEP(f64, values, k));
        b_.CreateStore(part, b_.CreateInBoundsGEP(i32, parts, k));
      }
    }
    Value* k1 = b_.CreateAdd(k, b_.getInt32(1));
    BasicBlock* keptEnd = b_.GetInsertBlock();
    b_.CreateBr(next);

    b_.SetInsertPoint(next);
    PHINode* kNext = b_.CreatePHI(i32, unsigned(skipped.size() + 1), "k.next");
    for (BasicBlock* bb : skipped) kNext->addIncoming(k, bb);
    kNext->addIncoming(k1, keptEnd);
    if (mode == Mode::Registers) {
      Value* updated[] = {after.n, after.sum, after.min, after.max, after.first, after.last};
      for (std::size_t f = 0; f < 6; ++f) {
        PHINode* x = b_.CreatePHI(acc[f]->getType(), unsigned(skipped.size() + 1));
        for (BasicBlock* bb : skipped) x->addIncoming(acc[f], bb);
        x->addIncoming(updated[f], keptEnd);
        acc[f]->addIncoming(x, next);
      }
    }
    i->addIncoming(b_.CreateAdd(i, b_.getInt32(1)), next);
    k->addIncoming(kNext, next);
    b_.CreateBr(head);

    b_.SetInsertPoint(done);
    if (mode == Mode::Registers) store(Agg{acc[0], acc[1], acc[2], acc[3], acc[4], acc[5]}, aggs);
    b_.CreateRet(k);
  };
  loop(compact, Mode::Compact);
  loop(registers, Mode::Registers);
  loop(memory, Mode::Memory);
}

void DeedEmitter::emitFold(llvm::Function* fn, const ir::Flow& flow) {
  b_.SetInsertPoint(BasicBlock::Create(c_, "entry", fn));
  Lowering l(*this, p_, c_, m_, b_, *flow.reduceDeed, flow.reduceLoc, flow.name);
  Value* r = l.runPure(fn, {fn->getArg(1), fn->getArg(2)}, flow.reduceStmtLocs);
  b_.CreateStore(r, fn->getArg(3));
  b_.CreateRet(b_.getInt32(0));
}

bool DeedEmitter::emitCall(llvm::Function* fn, const ir::DeedCall& call, std::string& error) {
  if (call.deed >= p_.deeds.size() || !p_.deeds[call.deed].typed) {
    error = "internal error: a deed call names no deed";
    return false;
  }
  Lowering lowering(*this, p_, c_, m_, b_, call);
  if (!lowering.bind(error)) return false;
  lowering.emit(fn);
  return true;
}

} // namespace flo::codegen
