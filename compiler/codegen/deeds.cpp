/// \file
/// Deed code generation (see deeds.h for the semantics).
///
/// Two passes per call site: `check` types every expression of the body (and refuses what it
/// cannot lower, before anything is emitted), `emit` generates the code. Ports live in SSA
/// values, not in memory: the body is straight-line except for short-circuit operators,
/// conditionals and fault exits, so at each statement every port has exactly one current value.
#include "compiler/codegen/deeds.h"

#include "compiler/sema/model.h"
#include "lang/format.h"
#include "lang/number.h"

#include <llvm/IR/Intrinsics.h>
#include <llvm/IR/MDBuilder.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <unordered_map>

namespace flo::codegen {

using namespace llvm;
using lang::Expr;
using lang::ExprKind;
using lang::PortStmt;
using lang::StmtKind;

namespace {

/// The static type of a deed value.
enum class Ty : std::uint8_t { Bool, I64, F64 };

const char* tyName(Ty t) {
  switch (t) {
  case Ty::Bool:
    return "bool";
  case Ty::I64:
    return "i64";
  case Ty::F64:
    return "f64";
  }
  return "?";
}

/// The common type of two values that may each be the result (`and`, `or`, conditional, min,
/// max, clamp): bool only when both are, f64 when either is.
Ty join(Ty a, Ty b) {
  if (a == b) return a;
  return a == Ty::F64 || b == Ty::F64 ? Ty::F64 : Ty::I64;
}

/// Arithmetic: bool counts as int (Python: True + 1 == 2).
Ty numeric(Ty t) {
  return t == Ty::Bool ? Ty::I64 : t;
}
Ty arith(Ty a, Ty b) {
  return numeric(join(a, b));
}

/// Assignment converts along bool -> i64 -> f64, never back.
bool converts(Ty from, Ty to) {
  return from == to || (from == Ty::Bool && to != Ty::Bool) || (from == Ty::I64 && to == Ty::F64);
}

std::string quote(const std::string& s) {
  return "'" + s + "'";
}

std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s[0] == '"' || s[0] == '\'') && s.back() == s[0])
    return s.substr(1, s.size() - 2);
  return s;
}

struct Literal {
  Ty ty = Ty::I64;
  std::int64_t i = 0;
  double f = 0;
};

/// A number word as Flo reads it (lang/number.h, the one reader): an int when written as an
/// integer, a float otherwise. Empty when the word is not a number, or an int does not fit in
/// 64 bits (typed code keeps no nearest float).
std::optional<Literal> numberLiteral(const std::string& text) {
  auto n = lang::readNumber(text);
  if (n.kind == lang::NumberLiteral::Kind::Integer) return Literal{Ty::I64, n.integer, 0};
  if (n.kind == lang::NumberLiteral::Kind::Real) return Literal{Ty::F64, 0, n.real};
  return std::nullopt;
}

/// One call site of one deed.
class Lowering {
public:
  Lowering(DeedEmitter& owner, const ir::Program& p, LLVMContext& c, Module& m, IRBuilder<>& b,
           const ir::DeedCall& call)
      : owner_(owner), p_(p), c_(c), m_(m), b_(b), call_(call), faultLoc_(call.loc),
        deed_(*static_cast<const sema::DeedDef*>(p.deeds.at(call.deed).decl)) {
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

  /// Types the body; false with a message for anything it cannot lower.
  bool check(std::string& error) {
    for (const lang::Stmt* s : deed_.body) {
      if (s->kind != StmtKind::Port) continue;
      const auto& port = lang::as<PortStmt>(*s);
      std::optional<Ty> ty;
      if (port.type.kind == lang::TypeRef::Kind::Named) {
        const std::string& n = port.type.name.text;
        if (n == "f64") ty = Ty::F64;
        if (n == "i64") ty = Ty::I64;
        if (n == "bool") ty = Ty::Bool;
      }
      if (!ty)
        return fail(error, "type " + quote(lang::formatType(port.type)) + " (port " +
                               quote(port.name.text) + ") is not supported in deeds yet");
      byName_.emplace(port.name.text, ports_.size());
      ports_.push_back({&port, *ty, {}, false});
    }
    // Inputs and outputs are bound to store fields, in declaration order; locals are not.
    std::size_t bound = 0;
    for (Port& port : ports_) {
      if (port.decl->port == PortStmt::Kind::Local) continue;
      if (bound == call_.ports.size()) break;
      port.ref = call_.ports[bound++];
      if (!port.ref.valid() || port.ref.share >= p_.shares.size())
        return fail(error, "internal error: port " + quote(port.decl->name.text) +
                               " is bound to no store field");
    }
    std::size_t bindable = std::count_if(ports_.begin(), ports_.end(), [](const Port& port) {
      return port.decl->port != PortStmt::Kind::Local;
    });
    if (bindable != call_.ports.size())
      return fail(error, "internal error: " + std::to_string(call_.ports.size()) +
                             " ports bound for " + std::to_string(bindable) + " declared");
    for (const lang::Stmt* s : deed_.body) {
      switch (s->kind) {
      case StmtKind::Port:
        break;
      case StmtKind::Assign: {
        const auto& a = lang::as<lang::AssignStmt>(*s);
        auto it = byName_.find(a.target.name.text);
        if (it == byName_.end())
          return fail(error, "assignment to undeclared " + quote(a.target.name.text));
        Port& port = ports_[it->second];
        if (port.decl->port == PortStmt::Kind::Input)
          return fail(error, "cannot assign to input " + quote(a.target.name.text));
        if (a.target.index)
          return fail(error, "indexed assignment ('let " + a.target.name.text + "[" +
                                 lang::formatExpr(*a.target.index) +
                                 "] = ...') is not supported in deeds yet");
        auto ty = typeOf(*a.value, error);
        if (!ty) return false;
        if (!converts(*ty, port.ty)) {
          std::string hint = port.ty == Ty::I64    ? "; use floor, ceil or round"
                             : port.ty == Ty::Bool ? "; compare it, e.g. 'x != 0'"
                                                   : "";
          return fail(error, std::string("cannot assign ") + (*ty == Ty::Bool ? "a " : "an ") +
                                 tyName(*ty) + " value (" + quote(lang::formatExpr(*a.value)) +
                                 ") to " + quote(a.target.name.text) + " (" + tyName(port.ty) +
                                 ")" + hint);
        }
        port.assigned = true;
        break;
      }
      case StmtKind::Fail: {
        const auto& f = lang::as<lang::FailStmt>(*s);
        if (f.message.kind != lang::WordKind::String)
          return fail(error, "`fail` takes a quoted message");
        if (!typeOf(*f.condition, error)) return false;
        break;
      }
      default:
        return fail(error, quote(lang::formatStatement(*s)) + " is not supported in deeds yet");
      }
    }
    return true;
  }

  /// Generates the function (after a successful check).
  void emit(llvm::Function* fn) {
    b_.SetInsertPoint(BasicBlock::Create(c_, "entry", fn));
    ctxArg_ = fn->getArg(0);
    slots_ = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_, ctxArg_, 0), "slots");
    env_.assign(ports_.size(), nullptr);
    // Inputs first, all of them (a port's type is a contract even when the body ignores it);
    // outputs and locals start at zero.
    for (std::size_t i = 0; i < ports_.size(); ++i)
      env_[i] =
          ports_[i].decl->port == PortStmt::Kind::Input ? input(ports_[i]) : zero(ports_[i].ty);
    const auto& stmtLocs = p_.deeds.at(call_.deed).stmtLocs;
    for (std::size_t si = 0; si < deed_.body.size(); ++si) {
      const lang::Stmt* s = deed_.body[si];
      // A fault points at the statement that failed; its message names the calling `do`.
      faultLoc_ = si < stmtLocs.size() ? stmtLocs[si] : call_.loc;
      if (s->kind == StmtKind::Assign) {
        const auto& a = lang::as<lang::AssignStmt>(*s);
        std::size_t k = byName_.at(a.target.name.text);
        env_[k] = convert(expr(*a.value), ports_[k].ty);
      } else if (s->kind == StmtKind::Fail) {
        const auto& f = lang::as<lang::FailStmt>(*s);
        guard(truthy(expr(*f.condition)),
              "deed " + quote(deed_.name) + " failed: " + unquote(f.message.text) + callSite());
      }
    }
    // Outputs, after the whole body: a fault above leaves the store untouched.
    std::vector<std::uint32_t> written;
    for (std::size_t i = 0; i < ports_.size(); ++i) {
      const Port& port = ports_[i];
      if (port.decl->port != PortStmt::Kind::Output || !port.assigned) continue;
      Value* cell = cellOf(port);
      const FloTag tag = port.ty == Ty::F64 ? FLO_FLOAT : port.ty == Ty::I64 ? FLO_INT : FLO_BOOL;
      b_.CreateStore(b_.getInt32(tag), b_.CreateStructGEP(value_, cell, 0));
      b_.CreateStore(b_.getInt32(0), b_.CreateStructGEP(value_, cell, 1));
      Value* v = port.ty == Ty::Bool ? b_.CreateZExt(env_[i], i64_) : env_[i];
      b_.CreateStore(v, b_.CreateStructGEP(value_, cell, 2));
      if (std::find(written.begin(), written.end(), port.ref.share) == written.end())
        written.push_back(port.ref.share);
    }
    if (!written.empty()) {
      Value* stamps = b_.CreateLoad(ptr_, b_.CreateStructGEP(ctx_, ctxArg_, 1), "stamps");
      Value* stamp = b_.CreateLoad(f64_, b_.CreateStructGEP(ctx_, ctxArg_, 2), "stamp");
      for (std::uint32_t share : written)
        b_.CreateStore(stamp, b_.CreateInBoundsGEP(f64_, stamps, b_.getInt64(share)));
    }
    b_.CreateRet(b_.getInt32(0));
  }

private:
  struct Port {
    const PortStmt* decl = nullptr;
    Ty ty = Ty::F64;
    ir::FieldRef ref;
    bool assigned = false; ///< some `let` writes it (lets are unconditional)
  };

  /// A typed value: i1 for bool, i64, double.
  struct Val {
    Ty ty;
    Value* v;
  };

  bool fail(std::string& error, const std::string& message) const {
    error = "deed " + quote(deed_.name) + ": " + message;
    return false;
  }

  // ------------------------------------------------------------------------------ types

  std::optional<Ty> typeOf(const Expr& e, std::string& error) {
    auto t = typeOfUncached(e, error);
    if (t) types_[&e] = *t;
    return t;
  }

  std::optional<Ty> typeOfUncached(const Expr& e, std::string& error) {
    auto operand = [&](std::size_t k) -> std::optional<Ty> {
      if (k >= e.operands.size() || !e.operands[k]) {
        fail(error, "internal error: malformed expression " + quote(lang::formatExpr(e)));
        return std::nullopt;
      }
      return typeOf(*e.operands[k], error);
    };
    auto unsupported = [&](const std::string& what) -> std::optional<Ty> {
      fail(error, what + " is not supported in deeds yet");
      return std::nullopt;
    };
    switch (e.kind) {
    case ExprKind::Literal:
      if (e.literal.kind == lang::WordKind::Number) {
        if (auto lit = numberLiteral(e.literal.text)) return lit->ty;
        fail(error, "the number " + quote(e.literal.text) + " does not fit in 64 bits");
        return std::nullopt;
      }
      if (e.literal.kind == lang::WordKind::String)
        return unsupported("the string " + e.literal.text);
      return unsupported("the literal " + quote(e.literal.text));
    case ExprKind::Name:
      if (auto it = byName_.find(e.text); it != byName_.end()) return ports_[it->second].ty;
      if (e.text == "true" || e.text == "false") return Ty::Bool;
      fail(error, "unknown name " + quote(e.text));
      return std::nullopt;
    case ExprKind::Path:
      fail(error, "the store path " + quote(e.text) +
                      " is not supported in deed expressions yet (bind it to an input port: "
                      "`do " +
                      deed_.name + " per PORT " + e.text + "`)");
      return std::nullopt;
    case ExprKind::Index:
      return unsupported("indexing (" + quote(lang::formatExpr(e)) + ")");
    case ExprKind::Old:
      return unsupported("`old` (" + quote(lang::formatExpr(e)) + ")");
    case ExprKind::Aggregate:
      return unsupported("`" + e.text + "` (" + quote(lang::formatExpr(e)) + ")");
    case ExprKind::Neg: {
      auto a = operand(0);
      if (!a) return std::nullopt;
      return numeric(*a);
    }
    case ExprKind::Not:
      if (!operand(0)) return std::nullopt;
      return Ty::Bool;
    case ExprKind::Binary: {
      auto a = operand(0);
      if (!a) return std::nullopt;
      auto b = operand(1);
      if (!b) return std::nullopt;
      if (e.text == "/") return Ty::F64;
      if (e.text == "+" || e.text == "-" || e.text == "*" || e.text == "%") return arith(*a, *b);
      return unsupported("the operator " + quote(e.text));
    }
    case ExprKind::Compare: {
      if (!operand(0) || !operand(1)) return std::nullopt;
      if (!e.comparison) {
        fail(error, "internal error: comparison without an operator");
        return std::nullopt;
      }
      return Ty::Bool;
    }
    case ExprKind::And:
    case ExprKind::Or: {
      auto a = operand(0);
      if (!a) return std::nullopt;
      auto b = operand(1);
      if (!b) return std::nullopt;
      return join(*a, *b);
    }
    case ExprKind::Cond: {
      if (!operand(0)) return std::nullopt;
      auto a = operand(1);
      if (!a) return std::nullopt;
      auto b = operand(2);
      if (!b) return std::nullopt;
      return join(*a, *b);
    }
    case ExprKind::Call:
      return callType(e, error);
    }
    fail(error, "internal error: unknown expression kind");
    return std::nullopt;
  }

  std::optional<Ty> callType(const Expr& e, std::string& error) {
    const std::string& f = e.text;
    std::vector<Ty> args;
    for (const auto& a : e.operands) {
      auto t = typeOf(*a, error);
      if (!t) return std::nullopt;
      args.push_back(*t);
    }
    auto arity = [&](std::size_t n) {
      if (args.size() == n) return true;
      fail(error, quote(f) + " takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                      ", not " + std::to_string(args.size()) + " (" + quote(lang::formatExpr(e)) +
                      ")");
      return false;
    };
    if (f == "abs") {
      if (!arity(1)) return std::nullopt;
      return numeric(args[0]);
    }
    if (f == "sqrt" || f == "exp" || f == "log" || f == "sin" || f == "cos") {
      if (!arity(1)) return std::nullopt;
      return Ty::F64;
    }
    if (f == "floor" || f == "ceil" || f == "round") {
      if (!arity(1)) return std::nullopt;
      return Ty::I64;
    }
    if (f == "min" || f == "max" || f == "clamp") {
      if (f == "clamp" && !arity(3)) return std::nullopt;
      if (args.size() < 2) {
        fail(error, quote(f) + " takes at least 2 arguments (" + quote(lang::formatExpr(e)) + ")");
        return std::nullopt;
      }
      Ty t = args[0];
      for (Ty a : args) t = join(t, a);
      return t;
    }
    fail(error, "the function " + quote(f) + " is not supported in deeds yet");
    return std::nullopt;
  }

  // ------------------------------------------------------------------------------ emission

  Value* cellOf(const Port& port) {
    return b_.CreateInBoundsGEP(value_, slots_, b_.getInt64(p_.slot(port.ref)));
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
    if (faultLoc_ == call_.loc || call_.loc >= p_.locations.size()) return {};
    std::string where = p_.locations[call_.loc];
    while (!where.empty() && (where.back() == ' ' || where.back() == ':')) where.pop_back();
    return " (called by the `do` at " + where + ")";
  }
  /// "deed 'd': WHAT in 'EXPR'"
  std::string faultText(const std::string& what, const Expr& e) const {
    return "deed " + quote(deed_.name) + ": " + what + " in " + quote(lang::formatExpr(e)) +
           callSite();
  }

  /// An input port: inline when the cell holds the declared kind, the helper otherwise.
  Value* input(const Port& port) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    Value* cell = cellOf(port);
    const std::string& name = port.decl->name.text;
    Value* tag = b_.CreateLoad(i32_, b_.CreateStructGEP(value_, cell, 0), name + ".tag");
    const FloTag fastTag = port.ty == Ty::F64 ? FLO_FLOAT : port.ty == Ty::I64 ? FLO_INT : FLO_BOOL;
    BasicBlock* fast = BasicBlock::Create(c_, name + ".fast", fn);
    BasicBlock* slow = BasicBlock::Create(c_, name + ".slow", fn);
    BasicBlock* join = BasicBlock::Create(c_, name + ".in", fn);
    b_.CreateCondBr(b_.CreateICmpEQ(tag, b_.getInt32(fastTag)), fast, slow, likely());

    b_.SetInsertPoint(fast);
    Value* payload = b_.CreateStructGEP(value_, cell, 2);
    Value* fv = port.ty == Ty::F64 ? b_.CreateLoad(f64_, payload) : b_.CreateLoad(i64_, payload);
    if (port.ty == Ty::Bool) fv = b_.CreateICmpNE(fv, b_.getInt64(0));
    b_.CreateBr(join);

    b_.SetInsertPoint(slow);
    Value* sv;
    if (port.ty == Ty::F64)
      sv = b_.CreateCall(helper("flo_in_f64", f64_, {ptr_, ptr_, i32_}),
                         {ctxArg_, cell, b_.getInt32(call_.loc)});
    else if (port.ty == Ty::I64)
      sv = b_.CreateCall(helper("flo_in_i64", i64_, {ptr_, ptr_, i32_}),
                         {ctxArg_, cell, b_.getInt32(call_.loc)});
    else
      sv = b_.CreateICmpNE(b_.CreateCall(helper("flo_in_bool", i32_, {ptr_, ptr_, i32_}),
                                         {ctxArg_, cell, b_.getInt32(call_.loc)}),
                           b_.getInt32(0));
    Value* faulted = b_.CreateLoad(i32_, b_.CreateStructGEP(ctx_, ctxArg_, 3), "fault");
    BasicBlock* slowOk = BasicBlock::Create(c_, name + ".slow.ok", fn);
    b_.CreateCondBr(b_.CreateICmpNE(faulted, b_.getInt32(0)), exitBlock(), slowOk, unlikely());
    b_.SetInsertPoint(slowOk);
    b_.CreateBr(join);

    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(type(port.ty), 2, name);
    phi->addIncoming(fv, fast);
    phi->addIncoming(sv, slowOk);
    return phi;
  }

  Type* type(Ty t) { return t == Ty::Bool ? b_.getInt1Ty() : t == Ty::I64 ? i64_ : f64_; }

  Value* zero(Ty t) {
    return t == Ty::Bool ? b_.getFalse() : t == Ty::I64 ? b_.getInt64(0) : ConstantFP::get(f64_, 0);
  }

  /// Widens along bool -> i64 -> f64 (check() rules out the other directions).
  Value* convert(Val x, Ty to) {
    if (x.ty == to) return x.v;
    if (x.ty == Ty::Bool)
      return to == Ty::I64 ? b_.CreateZExt(x.v, i64_) : b_.CreateUIToFP(x.v, f64_);
    return b_.CreateSIToFP(x.v, f64_); // i64 -> f64
  }

  /// Python's truthiness.
  Value* truthy(Val x) {
    switch (x.ty) {
    case Ty::Bool:
      return x.v;
    case Ty::I64:
      return b_.CreateICmpNE(x.v, b_.getInt64(0));
    case Ty::F64:
      return b_.CreateFCmpUNE(x.v, ConstantFP::get(f64_, 0)); // NaN is true
    }
    return x.v;
  }

  /// `a < b` in type t (false < true for bools; false when a NaN is involved).
  Value* less(Ty t, Value* a, Value* b) {
    switch (t) {
    case Ty::Bool:
      return b_.CreateICmpULT(a, b);
    case Ty::I64:
      return b_.CreateICmpSLT(a, b);
    case Ty::F64:
      return b_.CreateFCmpOLT(a, b);
    }
    return a;
  }

  Val expr(const Expr& e) {
    const Ty ty = types_.at(&e);
    switch (e.kind) {
    case ExprKind::Literal: {
      Literal lit = *numberLiteral(e.literal.text);
      return lit.ty == Ty::I64 ? Val{Ty::I64, b_.getInt64(std::uint64_t(lit.i))}
                               : Val{Ty::F64, ConstantFP::get(f64_, lit.f)};
    }
    case ExprKind::Name:
      if (auto it = byName_.find(e.text); it != byName_.end())
        return {ports_[it->second].ty, env_[it->second]};
      return {Ty::Bool, b_.getInt1(e.text == "true")};
    case ExprKind::Neg:
      return negate(e, expr(*e.operands[0]));
    case ExprKind::Not:
      return {Ty::Bool, b_.CreateNot(truthy(expr(*e.operands[0])))};
    case ExprKind::Binary:
      return binary(e, ty);
    case ExprKind::Compare:
      return compare(e);
    case ExprKind::And:
    case ExprKind::Or:
      return logical(e, ty);
    case ExprKind::Cond:
      return conditional(e, ty);
    case ExprKind::Call:
      return callExpr(e, ty);
    default:
      break; // refused by check()
    }
    return {ty, zero(ty)};
  }

  Val negate(const Expr& e, Val x) {
    if (x.ty == Ty::F64) return {Ty::F64, b_.CreateFNeg(x.v)};
    if (x.ty == Ty::Bool) return {Ty::I64, b_.CreateNeg(b_.CreateZExt(x.v, i64_))};
    return {Ty::I64, checked(Intrinsic::ssub_with_overflow, b_.getInt64(0), x.v, e)};
  }

  /// An i64 operation that stops the run on overflow.
  Value* checked(Intrinsic::ID id, Value* a, Value* b, const Expr& e) {
    Value* r = b_.CreateBinaryIntrinsic(id, a, b);
    guard(b_.CreateExtractValue(r, 1), faultText("integer overflow", e));
    return b_.CreateExtractValue(r, 0);
  }

  Val binary(const Expr& e, Ty ty) {
    Val a = expr(*e.operands[0]);
    Val b = expr(*e.operands[1]);
    const std::string& op = e.text;
    if (ty == Ty::F64) {
      Value* x = convert(a, Ty::F64);
      Value* y = convert(b, Ty::F64);
      if (op == "+") return {ty, b_.CreateFAdd(x, y)};
      if (op == "-") return {ty, b_.CreateFSub(x, y)};
      if (op == "*") return {ty, b_.CreateFMul(x, y)};
      guard(b_.CreateFCmpOEQ(y, ConstantFP::get(f64_, 0)), faultText("division by zero", e));
      if (op == "/") return {ty, b_.CreateFDiv(x, y)};
      // Python's float %: fmod, then the sign of the divisor; an exact zero takes its sign.
      Value* r = b_.CreateFRem(x, y);
      Value* zero = ConstantFP::get(f64_, 0);
      Value* signsDiffer = b_.CreateXor(b_.CreateFCmpOLT(y, zero), b_.CreateFCmpOLT(r, zero));
      Value* adjusted = b_.CreateSelect(signsDiffer, b_.CreateFAdd(r, y), r);
      Value* signedZero = b_.CreateBinaryIntrinsic(Intrinsic::copysign, zero, y);
      return {ty, b_.CreateSelect(b_.CreateFCmpUNE(r, zero), adjusted, signedZero)};
    }
    Value* x = convert(a, Ty::I64);
    Value* y = convert(b, Ty::I64);
    if (op == "+") return {ty, checked(Intrinsic::sadd_with_overflow, x, y, e)};
    if (op == "-") return {ty, checked(Intrinsic::ssub_with_overflow, x, y, e)};
    if (op == "*") return {ty, checked(Intrinsic::smul_with_overflow, x, y, e)};
    // %: floored (Python). x % -1 is 0; srem by -1 would trap on INT64_MIN, so divide by 1.
    guard(b_.CreateICmpEQ(y, b_.getInt64(0)), faultText("division by zero", e));
    Value* minusOne = b_.CreateICmpEQ(y, b_.getInt64(std::uint64_t(-1)));
    Value* r = b_.CreateSRem(x, b_.CreateSelect(minusOne, b_.getInt64(1), y));
    Value* signsDiffer = b_.CreateICmpSLT(b_.CreateXor(r, y), b_.getInt64(0));
    Value* adjust = b_.CreateAnd(b_.CreateICmpNE(r, b_.getInt64(0)), signsDiffer);
    return {ty, b_.CreateSelect(adjust, b_.CreateAdd(r, y), r)};
  }

  Val compare(const Expr& e) {
    Val a = expr(*e.operands[0]);
    Val b = expr(*e.operands[1]);
    Ty t = join(a.ty, b.ty);
    if (t == Ty::Bool) t = Ty::I64; // False < True
    Value* x = convert(a, t);
    Value* y = convert(b, t);
    const int k = int(*e.comparison); // Eq Ne Lt Le Ge Gt
    if (t == Ty::F64) {
      // Python: comparisons with NaN are false, except != which is true.
      static const CmpInst::Predicate fp[] = {CmpInst::FCMP_OEQ, CmpInst::FCMP_UNE,
                                              CmpInst::FCMP_OLT, CmpInst::FCMP_OLE,
                                              CmpInst::FCMP_OGE, CmpInst::FCMP_OGT};
      return {Ty::Bool, b_.CreateFCmp(fp[k], x, y)};
    }
    static const CmpInst::Predicate ip[] = {CmpInst::ICMP_EQ,  CmpInst::ICMP_NE,
                                            CmpInst::ICMP_SLT, CmpInst::ICMP_SLE,
                                            CmpInst::ICMP_SGE, CmpInst::ICMP_SGT};
    return {Ty::Bool, b_.CreateICmp(ip[k], x, y)};
  }

  /// `a and b` is b when a is truthy, else a; `a or b` is a when a is truthy, else b. The right
  /// operand runs only when needed (it may fault).
  Val logical(const Expr& e, Ty ty) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    Val a = expr(*e.operands[0]);
    Value* av = convert(a, ty);
    Value* at = truthy(a);
    BasicBlock* from = b_.GetInsertBlock();
    BasicBlock* rhs = BasicBlock::Create(c_, e.kind == ExprKind::And ? "and.rhs" : "or.rhs", fn);
    BasicBlock* join = BasicBlock::Create(c_, e.kind == ExprKind::And ? "and.end" : "or.end", fn);
    if (e.kind == ExprKind::And)
      b_.CreateCondBr(at, rhs, join);
    else
      b_.CreateCondBr(at, join, rhs);
    b_.SetInsertPoint(rhs);
    Value* bv = convert(expr(*e.operands[1]), ty);
    BasicBlock* rhsEnd = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(type(ty), 2);
    phi->addIncoming(av, from);
    phi->addIncoming(bv, rhsEnd);
    return {ty, phi};
  }

  /// `A if C else B`: operands are C, A, B; only the chosen branch runs.
  Val conditional(const Expr& e, Ty ty) {
    llvm::Function* fn = b_.GetInsertBlock()->getParent();
    Value* c = truthy(expr(*e.operands[0]));
    BasicBlock* thenBB = BasicBlock::Create(c_, "cond.then", fn);
    BasicBlock* elseBB = BasicBlock::Create(c_, "cond.else", fn);
    BasicBlock* join = BasicBlock::Create(c_, "cond.end", fn);
    b_.CreateCondBr(c, thenBB, elseBB);
    b_.SetInsertPoint(thenBB);
    Value* tv = convert(expr(*e.operands[1]), ty);
    BasicBlock* thenEnd = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(elseBB);
    Value* ev = convert(expr(*e.operands[2]), ty);
    BasicBlock* elseEnd = b_.GetInsertBlock();
    b_.CreateBr(join);
    b_.SetInsertPoint(join);
    PHINode* phi = b_.CreatePHI(type(ty), 2);
    phi->addIncoming(tv, thenEnd);
    phi->addIncoming(ev, elseEnd);
    return {ty, phi};
  }

  Val callExpr(const Expr& e, Ty ty) {
    const std::string& f = e.text;
    std::vector<Val> args;
    for (const auto& a : e.operands) args.push_back(expr(*a));
    if (f == "abs") {
      Val x = args[0];
      if (x.ty == Ty::F64) return {ty, b_.CreateUnaryIntrinsic(Intrinsic::fabs, x.v)};
      if (x.ty == Ty::Bool) return {ty, b_.CreateZExt(x.v, i64_)};
      guard(b_.CreateICmpEQ(x.v,
                            b_.getInt64(std::uint64_t(std::numeric_limits<std::int64_t>::min()))),
            faultText("integer overflow", e));
      return {ty, b_.CreateSelect(b_.CreateICmpSLT(x.v, b_.getInt64(0)), b_.CreateNeg(x.v), x.v)};
    }
    if (f == "min" || f == "max") {
      // Python: the first of equal values wins; min replaces when item < current, max when
      // item > current.
      Value* cur = convert(args[0], ty);
      for (std::size_t k = 1; k < args.size(); ++k) {
        Value* v = convert(args[k], ty);
        Value* take = f == "min" ? less(ty, v, cur) : less(ty, cur, v);
        cur = b_.CreateSelect(take, v, cur);
      }
      return {ty, cur};
    }
    if (f == "clamp") { // min(max(x, lo), hi)
      Value* x = convert(args[0], ty);
      Value* lo = convert(args[1], ty);
      Value* hi = convert(args[2], ty);
      Value* m = b_.CreateSelect(less(ty, x, lo), lo, x);
      return {ty, b_.CreateSelect(less(ty, hi, m), hi, m)};
    }
    if (f == "floor" || f == "ceil" || f == "round") {
      Val x = args[0];
      if (x.ty != Ty::F64) return {ty, convert(x, Ty::I64)};
      Intrinsic::ID id = f == "floor"  ? Intrinsic::floor
                         : f == "ceil" ? Intrinsic::ceil
                                       : Intrinsic::roundeven; // Python 3 rounds half to even
      Value* r = b_.CreateUnaryIntrinsic(id, x.v);
      const double two63 = 9223372036854775808.0;
      Value* inRange = b_.CreateAnd(b_.CreateFCmpOGE(r, ConstantFP::get(f64_, -two63)),
                                    b_.CreateFCmpOLT(r, ConstantFP::get(f64_, two63)));
      guard(b_.CreateNot(inRange), [&] {
        Value* isNan = b_.CreateFCmpUNO(x.v, x.v);
        Value* isInf = b_.CreateFCmpOEQ(b_.CreateUnaryIntrinsic(Intrinsic::fabs, x.v),
                                        ConstantFP::getInfinity(f64_));
        return b_.CreateSelect(
            isNan, owner_.message(faultText("cannot convert float NaN to integer", e)),
            b_.CreateSelect(
                isInf, owner_.message(faultText("cannot convert float infinity to integer", e)),
                owner_.message(faultText("integer overflow", e))));
      });
      return {ty, b_.CreateFPToSI(r, i64_)};
    }
    // sqrt exp log sin cos, with CPython's math_1 error rule: a NaN from a non-NaN argument is
    // a domain error, an infinity from a finite argument a range error (exp) or a domain error.
    Value* x = convert(args[0], Ty::F64);
    Intrinsic::ID id = f == "sqrt"  ? Intrinsic::sqrt
                       : f == "exp" ? Intrinsic::exp
                       : f == "log" ? Intrinsic::log
                       : f == "sin" ? Intrinsic::sin
                                    : Intrinsic::cos;
    Value* r = b_.CreateUnaryIntrinsic(id, x);
    Value* inf = ConstantFP::getInfinity(f64_);
    Value* nanFromNumber = b_.CreateAnd(b_.CreateFCmpUNO(r, r), b_.CreateFCmpORD(x, x));
    Value* infFromFinite =
        b_.CreateAnd(b_.CreateFCmpOEQ(b_.CreateUnaryIntrinsic(Intrinsic::fabs, r), inf),
                     b_.CreateFCmpONE(b_.CreateUnaryIntrinsic(Intrinsic::fabs, x), inf));
    if (f == "exp") {
      guard(infFromFinite, faultText("math range error", e));
      guard(nanFromNumber, faultText("math domain error", e));
    } else {
      guard(b_.CreateOr(nanFromNumber, infFromFinite), faultText("math domain error", e));
    }
    return {ty, r};
  }

  DeedEmitter& owner_;
  const ir::Program& p_;
  LLVMContext& c_;
  Module& m_;
  IRBuilder<>& b_;
  const ir::DeedCall& call_;
  std::uint32_t faultLoc_ = 0; ///< where a fault in the statement being emitted points
  const sema::DeedDef& deed_;
  Type *i32_, *i64_, *f64_;
  PointerType* ptr_;
  StructType *value_, *ctx_;

  std::vector<Port> ports_; ///< in declaration order; the non-locals parallel to call_.ports
  std::unordered_map<std::string, std::size_t> byName_;
  std::unordered_map<const Expr*, Ty> types_;

  Value* ctxArg_ = nullptr;
  Value* slots_ = nullptr;
  std::vector<Value*> env_; ///< each port's current value
  BasicBlock* exit_ = nullptr;
};

} // namespace

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

bool DeedEmitter::emitCall(llvm::Function* fn, const ir::DeedCall& call, std::string& error) {
  if (call.deed >= p_.deeds.size() || !p_.deeds[call.deed].decl) {
    error = "internal error: a deed call names no deed";
    return false;
  }
  Lowering lowering(*this, p_, c_, m_, b_, call);
  if (!lowering.check(error)) return false;
  lowering.emit(fn);
  return true;
}

} // namespace flo::codegen
