/// \file
/// Contracts compiled for the machine (see compile.h).
#include "compiler/vm/compile.h"

#include "compiler/sema/check.h"
#include "lang/diagnostics.h"
#include "lang/parser.h"

#include <charconv>

namespace flo::vm {

std::string Compiled::where(lang::SourceRange r) const {
  if (!r.valid() || !sources) return {};
  return "line " + std::to_string(sources->lineCol(r.file, r.begin).line);
}

std::shared_ptr<const Compiled> compile(std::string_view source, std::string* error) {
  auto out = std::make_shared<Compiled>();
  out->sources = std::make_unique<lang::SourceManager>();
  lang::FileId file = out->sources->addBuffer("contract.flo", std::string(source));
  lang::Diagnostics diags(*out->sources);
  lang::ParseOptions options;
  options.followLoads = false; // a contract is its source alone
  auto program = lang::parseProgram(*out->sources, file, diags, options);
  auto firstError = [&]() {
    for (const auto& d : diags.all())
      if (d.severity == lang::Severity::Error) {
        std::string at = d.range.valid() ? out->where(d.range) + ": " : "";
        return at + d.message;
      }
    return std::string("does not check");
  };
  if (!program || diags.hasErrors()) {
    *error = firstError();
    return nullptr;
  }
  for (const auto& m : program->modules)
    for (const auto& s : m->stmts)
      if (s->kind == lang::StmtKind::Load) {
        *error = out->where(s->range) + ": a contract cannot `load` another file";
        return nullptr;
      }
  auto model = sema::check(*program, diags);
  if (diags.hasErrors()) {
    *error = firstError();
    return nullptr;
  }
  if (!model->houses.empty() || !model->deeds.empty() || !model->flows.empty() ||
      !model->jobs.empty() || model->typedContracts.size() != 1 || !model->typedContracts[0]) {
    *error = "the source must hold exactly one contract and nothing else (it holds " +
             std::to_string(model->typedContracts.size()) + " contract(s), " +
             std::to_string(model->houses.size()) + " house(s), " +
             std::to_string(model->deeds.size()) + " deed(s))";
    return nullptr;
  }
  out->contract = model->typedContracts[0];
  for (const auto& a : out->contract->actions) out->cost[a.name] = costBound(a);
  return out;
}

bool parseArgument(const tir::Type& type, const std::string& text, Value* out, std::string* why) {
  auto fail = [&](std::string w) {
    *why = std::move(w);
    return false;
  };
  *out = Value::defaultOf(type.base);
  const char* b = text.data();
  const char* e = text.data() + text.size();
  switch (type.base) {
  case tir::Base::Bool:
    if (text != "true" && text != "false") return fail("'" + text + "' is not true or false");
    out->b = text == "true";
    return true;
  case tir::Base::I64: {
    auto [p, ec] = std::from_chars(b, e, out->i);
    if (ec != std::errc() || p != e || text.empty()) return fail("'" + text + "' is not an i64");
    return true;
  }
  case tir::Base::U64: {
    auto [p, ec] = std::from_chars(b, e, out->u);
    if (ec != std::errc() || p != e || text.empty()) return fail("'" + text + "' is not a u64");
    return true;
  }
  case tir::Base::Str:
  case tir::Base::Did:
    out->s = text;
    return true;
  case tir::Base::Bytes: {
    if (text.size() % 2) return fail("bytes are given as hex, two digits a byte");
    for (std::size_t i = 0; i < text.size(); i += 2) {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(b + i, b + i + 2, v, 16);
      if (ec != std::errc() || p != b + i + 2) return fail("'" + text + "' is not hex");
      out->s.push_back(char(v));
    }
    return true;
  }
  default:
    return fail("an argument of type " + tir::typeName(type) + " cannot be given");
  }
}

} // namespace flo::vm
