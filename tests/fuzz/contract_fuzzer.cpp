// libFuzzer target for contracts: bytes -> parse -> check -> `floc verify` -> the contract
// machine. Whatever checks must verify without crashing (each property within a short timeout),
// every counterexample must replay on the machine to the outcome it predicts (or name no
// concrete state), and random calls on the machine must never crash, never count more
// operations than the verifier's cost bound, and never fault in a way a proven property rules
// out. The pool will run contracts that strangers deploy: this is what holds the two together.
#include "compiler/sema/check.h"
#include "compiler/verify/replay.h"
#include "lang/diagnostics.h"
#include "lang/parser.h"
#include "lang/source_manager.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace {

using namespace flo;

/// A value of each base, chosen by a byte of the input.
vm::Value pick(tir::Base base, std::uint8_t b) {
  switch (base) {
  case tir::Base::Bool:
    return vm::Value::ofBool(b & 1);
  case tir::Base::I64:
    return vm::Value::ofI64(b & 0x80 ? INT64_MIN + (b & 7) : std::int64_t(b) - 64);
  case tir::Base::U64:
    return vm::Value::ofU64(b & 0x80 ? UINT64_MAX - (b & 7) : b);
  default:
    return vm::Value::ofText(base, b % 3 == 0 ? "" : "k" + std::to_string(b % 3));
  }
}

/// Random calls from the deployed state: never a crash, never more operations than the cost
/// bound, and, when every property is proven, never a fault a proof rules out (the states
/// reached keep the invariants, which hold when deployed and after every completed call).
void randomCalls(const tir::TypedContract& k, const verify::ContractResult& r,
                 const std::uint8_t* data, std::size_t size) {
  std::map<std::string, std::uint64_t> bound;
  for (const auto& p : r.properties)
    if (p.bound) bound[p.action] = *p.bound;
  vm::State s = vm::deployed(k);
  vm::Context ctx{"k1", 0};
  std::size_t at = 0;
  auto next = [&]() -> std::uint8_t { return size ? data[at++ % size] : 0; };
  for (int i = 0; i < 32 && !k.actions.empty(); ++i) {
    const auto& a = k.actions[next() % k.actions.size()];
    vm::Call c{a.name, {}, "k" + std::to_string(next() % 3), next(), next()};
    for (std::uint32_t q : a.params) c.args.push_back(pick(k.vars[q].type.base, next()));
    vm::Outcome o = vm::call(k, s, ctx, c);
    if (bound.count(a.name) && o.ops > bound[a.name]) __builtin_trap();
    if (!o.ok && r.proven() &&
        (o.fault == "overflow" || o.fault == "division" || o.fault == "pay")) {
      fprintf(stderr, "a proven contract faulted: %s\n", o.message.c_str());
      __builtin_trap();
    }
    if (o.ok) {
      s = o.after;
      ctx.held = o.held;
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0; // a contract, not a program: keep each run cheap
  lang::SourceManager sources;
  std::string text(reinterpret_cast<const char*>(data), size);
  lang::FileId file = sources.addBuffer("fuzz.flo", std::move(text));
  lang::Diagnostics diags(sources);
  lang::ParseOptions options;
  options.followLoads = false;
  auto program = lang::parseProgram(sources, file, diags, options);
  if (!program || diags.hasErrors()) return 0;
  auto model = sema::check(*program, diags);
  if (diags.hasErrors()) return 0;
  for (const auto& k : model->typedContracts) {
    if (!k) continue;
    verify::Options vo;
    vo.timeoutMs = 300;
    verify::ContractResult r = verify::verifyContract(*k, vo);
    for (const auto& p : r.properties) {
      if (p.verdict != verify::Verdict::Violated || !p.witness) continue;
      std::string why;
      if (verify::replay(*k, p, &why) == verify::Replay::Differs) {
        fprintf(stderr, "counterexample of %s (%s) does not replay: %s\n", p.kind.c_str(),
                p.message.c_str(), why.c_str());
        __builtin_trap();
      }
    }
    randomCalls(*k, r, data, size);
  }
  return 0;
}
