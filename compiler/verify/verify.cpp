/// \file
/// The properties of a contract, asked of Z3 one at a time (see verify.h); a failed one comes
/// back with a counterexample read from Z3's model.
#include "compiler/verify/verify.h"

#include "compiler/verify/symbolic.h"
#include "compiler/vm/machine.h"

#include <z3++.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

namespace flo::verify {

using tir::Base;
using tir::Expr;
using tir::Stmt;
using tir::Var;

const char* verdictName(Verdict v) {
  switch (v) {
  case Verdict::Proven:
    return "proven";
  case Verdict::Violated:
    return "violated";
  case Verdict::Timeout:
    return "timeout";
  case Verdict::Unknown:
    return "unknown";
  case Verdict::Unsupported:
    return "unsupported";
  }
  return "?";
}

bool ContractResult::proven() const {
  return std::all_of(properties.begin(), properties.end(),
                     [](const Property& p) { return p.verdict == Verdict::Proven; });
}

std::string z3Version() {
  unsigned major = 0, minor = 0, build = 0, revision = 0;
  Z3_get_version(&major, &minor, &build, &revision);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(build) + "." +
         std::to_string(revision);
}

namespace {

/// Values of a model, as a user reads them: numbers, `true`, strings quoted, and dids named
/// `did#1`, `did#2`... in the order they are first shown (Z3 names them `did!val!0`).
class Shower {
public:
  /// `defaults`: the constants of the default did and bytes, shown as `none` and `empty`.
  Shower(z3::model m, const std::map<std::string, z3::expr>& defaults) : m_(std::move(m)) {
    for (const auto& [name, x] : defaults)
      names_[m_.eval(x, true).to_string()] = name == "did.none" ? "none" : "empty";
  }

  std::string value(const z3::expr& x) {
    z3::expr v = m_.eval(x, true);
    if (v.is_bool()) return v.is_true() ? "true" : "false";
    if (v.is_numeral()) return Z3_get_numeral_string(v.ctx(), v);
    if (v.is_string_value()) return "\"" + v.get_string() + "\"";
    std::string raw = v.to_string();
    auto bang = raw.find('!');
    std::string sort = bang == std::string::npos ? "value" : raw.substr(0, bang);
    auto it = names_.find(raw);
    if (it == names_.end())
      it = names_.emplace(raw, sort + "#" + std::to_string(++counts_[sort])).first;
    return it->second;
  }

private:
  z3::model m_;
  std::map<std::string, std::string> names_;
  std::map<std::string, int> counts_;
};

struct Answer {
  Verdict verdict = Verdict::Proven;
  std::optional<z3::model> model;
  double seconds = 0;
  std::string why; ///< Z3's reason for unknown
};

class Checker {
public:
  Checker(const tir::TypedContract& k, const Options& o)
      : k_(k), options_(o), enc_(c_, k), solver_(c_) {
    z3::params p(c_);
    p.set("timeout", options_.timeoutMs);
    solver_.set(p);
    for (std::uint32_t i = 0; i < k.vars.size(); ++i) {
      const Var& v = k.vars[i];
      if (v.role == Var::Role::State) state_.push_back(i);
      if (v.role == Var::Role::Builtin) {
        builtins_.push_back(i);
        if (v.name == "held") held_ = i;
        if (v.name == "creator") creator_ = i;
        if (v.name == "caller") caller_ = i;
        if (v.name == "value") value_ = i;
        if (v.name == "now") now_ = i;
      }
    }
  }

  ContractResult run() {
    out_.name = k_.name;
    out_.range = k_.range;
    guarded("", k_.range, [&] { contractProperties(); });
    for (const auto& a : k_.actions) guarded(a.name, a.range, [&] { actionProperties(a); });
    return std::move(out_);
  }

private:
  template <class F> void guarded(const std::string& action, lang::SourceRange at, F&& f) {
    try {
      f();
    } catch (const Unsupported& u) {
      Property p;
      p.action = action;
      p.kind = "supported";
      p.range = u.range.valid() ? u.range : at;
      p.verdict = Verdict::Unsupported;
      p.message = u.what();
      p.notes.push_back("the properties that need it are not proven");
      out_.properties.push_back(std::move(p));
    } catch (const z3::exception& e) {
      Property p;
      p.action = action;
      p.kind = "solver";
      p.range = at;
      p.verdict = Verdict::Unsupported;
      p.message = std::string("internal error: Z3: ") + e.msg();
      out_.properties.push_back(std::move(p));
    }
  }

  Answer ask(const z3::expr& facts, const z3::expr& question) {
    Answer a;
    auto t0 = std::chrono::steady_clock::now();
    solver_.push();
    solver_.add(facts);
    solver_.add(question);
    z3::check_result r = solver_.check();
    if (r == z3::sat) {
      a.verdict = Verdict::Violated;
      a.model = solver_.get_model();
    } else if (r == z3::unknown) {
      a.why = solver_.reason_unknown();
    }
    solver_.pop();
    a.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == z3::unknown) {
      // Out of time, Z3 may still give its last reason ("incomplete (theory arithmetic)"): the
      // clock says which it was.
      const bool outOfTime = a.why.find("timeout") != std::string::npos ||
                             a.why.find("canceled") != std::string::npos ||
                             a.seconds >= 0.9 * options_.timeoutMs / 1000.0;
      a.verdict = outOfTime ? Verdict::Timeout : Verdict::Unknown;
    }
    return a;
  }

  /// Whether `question` can hold (non-vacuity): a satisfying state is the good answer, so the
  /// verdict is Proven when Z3 finds one and Violated when none exists.
  Answer possible(const z3::expr& facts, const z3::expr& question) {
    Answer a = ask(facts, question);
    if (a.verdict == Verdict::Violated)
      a.verdict = Verdict::Proven;
    else if (a.verdict == Verdict::Proven)
      a.verdict = Verdict::Violated;
    a.model.reset(); // a witness of possibility, not a counterexample
    return a;
  }

  /// Records a property: proven when the answer is unsat (no counterexample).
  Property& record(const std::string& action, std::string kind, std::string text,
                   lang::SourceRange range, const Answer& a, std::string message) {
    Property p;
    p.action = action;
    p.kind = std::move(kind);
    p.text = std::move(text);
    p.range = range;
    p.verdict = a.verdict;
    p.seconds = a.seconds;
    if (a.verdict == Verdict::Violated) p.message = std::move(message);
    const std::string what = p.text.empty() ? p.kind : "'" + p.text + "'";
    if (a.verdict == Verdict::Timeout) {
      p.message = "could not prove " + what + " within " + seconds();
      p.notes.push_back("split it into smaller properties, or add a `requires` or an invariant "
                        "that narrows it; `--timeout S` gives Z3 longer");
    }
    if (a.verdict == Verdict::Unknown) {
      p.message = "Z3 cannot decide " + what + " (" + a.why + ")";
      p.notes.push_back("Z3 is incomplete for products of unknowns (nonlinear arithmetic): "
                        "state the property with fewer products, or bound the operands with a "
                        "`requires`");
    }
    out_.properties.push_back(std::move(p));
    return out_.properties.back();
  }

  std::string seconds() const {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g s", options_.timeoutMs / 1000.0);
    return buf;
  }

  std::vector<std::uint32_t> contractVars() const {
    std::vector<std::uint32_t> v = state_;
    v.push_back(held_);
    v.push_back(creator_);
    return v;
  }

  // ---- the contract's own properties ---------------------------------------------------------

  void contractProperties() {
    // 7. Some state satisfies the invariants.
    enc_.forget();
    Env any = enc_.fresh("any");
    z3::expr inv = enc_.invariants(any);
    z3::expr facts = enc_.typeFacts(any, contractVars()) && enc_.keyFacts(any);
    if (!k_.invariants.empty()) {
      Property& p =
          record("", "satisfiable", "the invariants", k_.invariants[0].range, possible(facts, inv),
                 "no state satisfies the invariants: they contradict each other");
      if (p.verdict == Verdict::Violated) {
        p.notes.push_back("a contract no state satisfies proves anything: fix the invariants");
        unsatisfiable_ = true; // then no action can be called: said once, here
      }
    }
    // 1. Each invariant holds when the contract is deployed.
    for (const Expr& i : k_.invariants) {
      enc_.forget();
      Env init = enc_.initial("deployed");
      z3::expr holds = enc_.spec(i, init, nullptr);
      z3::expr f = enc_.typeFacts(init, builtins_) && enc_.keyFacts(init);
      Answer a = ask(f, !holds);
      std::string text = sourceText(k_.vars, i);
      Property& p = record("", "invariant-initial", text, i.range, a,
                           "invariant '" + text + "' does not hold when the contract is deployed");
      if (a.model) {
        Shower show(*a.model, enc_.defaults());
        p.witness = witness(show, nullptr, init, init[held_].v);
        p.notes.push_back("deployed: zero state, empty maps, nothing held; " +
                          describe(*p.witness));
      }
    }
  }

  // ---- an action's -----------------------------------------------------------------------------

  void actionProperties(const tir::TypedAction& a) {
    Path p = enc_.run(a);
    Env before = p.pre;
    before[held_].v = p.held0;
    z3::expr invBefore = enc_.invariants(before);
    std::vector<z3::expr> invAfter;
    for (const Expr& i : k_.invariants) invAfter.push_back(enc_.spec(i, p.post, nullptr));
    std::vector<z3::expr> ens;
    for (const Stmt* s : p.ensures) ens.push_back(enc_.spec(s->value, p.post, &p.pre));
    // `modifies`: the locations, read when the action starts.
    struct Frame {
      bool whole = false;
      std::vector<z3::expr> keys;
    };
    std::map<std::uint32_t, Frame> frames;
    if (a.modifies)
      for (const auto& loc : *a.modifies) {
        Frame& fr = frames[loc.var];
        if (!loc.key)
          fr.whole = true;
        else
          fr.keys.push_back(enc_.spec(*loc.key, before, nullptr));
      }

    std::vector<std::uint32_t> vars = contractVars();
    for (std::uint32_t b : builtins_) vars.push_back(b);
    for (std::uint32_t q : a.params) vars.push_back(q);
    z3::expr facts = enc_.typeFacts(before, vars) && invBefore && enc_.keyFacts(before);
    z3::expr_vector pcv(c_);
    for (const auto& x : p.pc) pcv.push_back(x);
    const z3::expr pc = z3::mk_and(pcv);
    z3::expr_vector rq(c_);
    for (const auto& x : p.requirements) rq.push_back(x);

    auto counterexample = [&](Property& prop, const Answer& ans, bool after) {
      if (!ans.model) return;
      Shower show(*ans.model, enc_.defaults());
      prop.notes.push_back("counterexample: " + call(show, a, before));
      prop.witness = witness(show, &a, before, p.held0);
      prop.notes.push_back("before: " + describe(*prop.witness));
      if (after)
        prop.notes.push_back("after: " + describe(witness(show, nullptr, p.post, p.post[held_].v)));
    };

    // 7. The action can be called, and a call can complete.
    if (!unsatisfiable_) {
      Answer callable = possible(facts, z3::mk_and(rq));
      lang::SourceRange at = a.range;
      for (const Stmt& s : a.body)
        if (s.kind == Stmt::Kind::Requires) {
          at = s.range;
          break;
        }
      Property& prop = record(a.name, "callable", "the requires of '" + a.name + "'", at, callable,
                              "the `requires` of '" + a.name +
                                  "' contradict each other or the invariants: no call can run it");
      if (prop.verdict == Verdict::Violated)
        prop.notes.push_back("an action no call can run proves anything: fix its `requires`");
      if (callable.verdict == Verdict::Proven) {
        Property& q = record(a.name, "completes", "a call of '" + a.name + "' completes", a.range,
                             possible(facts, pc),
                             "'" + a.name +
                                 "' can never complete: every call that meets its `requires` "
                                 "aborts (a `fail`, a full map or an arithmetic fault)");
        if (q.verdict == Verdict::Violated)
          q.notes.push_back("an action that always aborts proves anything: fix its body");
      }
    }

    // 3 and 5. Faults and payments, where they run.
    for (const Obligation& o : p.obligations) {
      Answer ans = ask(facts, o.pc && !o.cond);
      std::string kind, message;
      switch (o.kind) {
      case Obligation::Kind::Overflow: {
        kind = "overflow";
        std::string dir = "overflow";
        if (ans.model) {
          const z3::expr& r = o.show.back().second;
          z3::expr below = ans.model->eval(r < enc_.num(tir::IntRange::of(o.type).lo), true);
          if (below.is_true()) dir = "underflow";
        }
        message = "'" + o.what + "' can " + dir + " " + tir::baseName(o.type);
        break;
      }
      case Obligation::Kind::Division:
        kind = "division";
        message = "'" + o.what + "' can divide by zero";
        break;
      case Obligation::Kind::Pay:
        kind = "pay";
        message = "'" + o.what + "' can pay out more than the contract holds";
        break;
      }
      Property& prop = record(a.name, kind, o.what, o.range, ans, message);
      if (ans.model) {
        counterexample(prop, ans, false);
        Shower show(*ans.model, enc_.defaults());
        std::string here;
        for (const auto& [text, x] : o.show)
          if (!x.is_numeral()) // a literal shows itself
            here += (here.empty() ? "" : ", ") + (text == "=" ? "'" + o.what + "'" : text) + " = " +
                    show.value(x);
        prop.notes.push_back("here: " + here);
      }
    }

    // 2. Each `ensures` follows.
    for (std::size_t i = 0; i < ens.size(); ++i) {
      Answer ans = ask(facts, pc && !ens[i]);
      std::string text = sourceText(k_.vars, p.ensures[i]->value);
      Property& prop = record(a.name, "ensures", text, p.ensures[i]->range, ans,
                              "'ensures " + text + "' does not follow from '" + a.name + "'");
      counterexample(prop, ans, true);
    }

    // 1. Each invariant holds after the action.
    for (std::size_t i = 0; i < invAfter.size(); ++i) {
      Answer ans = ask(facts, pc && !invAfter[i]);
      std::string text = sourceText(k_.vars, k_.invariants[i]);
      Property& prop = record(a.name, "invariant", text, k_.invariants[i].range, ans,
                              "invariant '" + text + "' may not hold after '" + a.name + "'");
      counterexample(prop, ans, true);
    }

    // 4. The `modifies` frame.
    if (a.modifies) modifiesProperties(a, p, before, facts, pc, frames, counterexample);

    // 6. The cost of a call: no loops, so the operations of its body.
    Property cost;
    cost.action = a.name;
    cost.kind = "cost";
    cost.text = "the cost of '" + a.name + "'";
    cost.range = a.range;
    cost.bound = vm::costBound(a);
    out_.properties.push_back(std::move(cost));
  }

  template <class Frames, class Show>
  void modifiesProperties(const tir::TypedAction& a, const Path& p, const Env& before,
                          const z3::expr& facts, const z3::expr& pc, const Frames& frames,
                          Show& counterexample) {
    for (std::uint32_t v : state_) {
      auto fr = frames.find(v);
      if (fr != frames.end() && fr->second.whole) continue;
      const Var& var = k_.vars[v];
      z3::expr changed = p.post[v].v != before[v].v;
      z3::expr_vector outside(c_);
      std::optional<z3::expr> k;
      if (var.type.base == Base::Map && fr != frames.end()) {
        k = c_.constant((a.name + ".modified." + var.name).c_str(),
                        p.post[v].v.get_sort().array_domain());
        for (const auto& key : fr->second.keys) outside.push_back(*k != key);
        changed = z3::select(p.post[v].v, *k) != z3::select(before[v].v, *k);
      }
      Answer ans = ask(facts, pc && changed && z3::mk_and(outside));
      // Where: the first write to it that can land outside the frame.
      lang::SourceRange at = a.range;
      if (ans.verdict == Verdict::Violated)
        for (const Write& w : p.writes) {
          if (w.stmt->target != v) continue;
          at = w.stmt->range;
          if (!w.key || fr == frames.end()) break;
          z3::expr_vector out(c_);
          for (const auto& key : fr->second.keys) out.push_back(*w.key != key);
          if (ask(facts, w.pc && z3::mk_and(out)).verdict == Verdict::Violated) break;
        }
      std::string listed;
      if (fr != frames.end())
        for (const auto& loc : *a.modifies)
          if (loc.var == v) listed = " (it lists only some of its entries)";
      Property& prop =
          record(a.name, "modifies", var.name, ans.verdict == Verdict::Violated ? at : a.range, ans,
                 "'" + a.name + "' changes '" + var.name + "', which its `modifies` does not list" +
                     listed);
      counterexample(prop, ans, true);
      if (ans.model && k) {
        Shower show(*ans.model, enc_.defaults());
        prop.notes.push_back("the entry changed: " + var.name + "[" + show.value(*k) + "]");
      }
    }
  }

  std::string call(Shower& show, const tir::TypedAction& a, const Env& before) {
    std::string s = a.name + "(";
    for (std::size_t i = 0; i < a.params.size(); ++i)
      s += (i ? ", " : "") + k_.vars[a.params[i]].name + " = " + show.value(before[a.params[i]].v);
    s += ") by caller " + show.value(before[caller_].v) + " with value " +
         show.value(before[value_].v) + " at now " + show.value(before[now_].v) + "; creator " +
         show.value(before[creator_].v);
    return s;
  }

  Witness witness(Shower& show, const tir::TypedAction* a, const Env& env, const z3::expr& held) {
    Witness w;
    w.held = show.value(held);
    w.creator = show.value(env[creator_].v);
    if (a) {
      w.action = a->name;
      for (std::uint32_t q : a->params) w.args.push_back(show.value(env[q].v));
      w.caller = show.value(env[caller_].v);
      w.value = show.value(env[value_].v);
      w.now = show.value(env[now_].v);
    }
    for (std::uint32_t v : state_) {
      const Var& var = k_.vars[v];
      const Sym& sym = env[v];
      if (var.type.base != Base::Map) {
        w.scalars[var.name] = show.value(sym.v);
        continue;
      }
      Witness::Map& m = w.maps[var.name];
      std::set<std::string> keys;
      for (const auto& key : enc_.keysOf(v)) {
        std::string kv = show.value(key);
        if (keys.insert(kv).second) m.entries.emplace_back(kv, show.value(z3::select(sym.v, key)));
      }
      if (sym.sum) m.sum = show.value(*sym.sum);
      m.count = show.value(*sym.count);
    }
    return w;
  }

  /// A witness's state as a note, in declaration order: `held = 3, total = 3,
  /// balance[did#1] = 5, sum balance = 3, count balance = 1`.
  std::string describe(const Witness& w) const {
    std::string s = "held = " + w.held;
    for (std::uint32_t v : state_) {
      const std::string& name = k_.vars[v].name;
      if (auto it = w.scalars.find(name); it != w.scalars.end()) {
        s += ", " + name + " = " + it->second;
        continue;
      }
      const Witness::Map& m = w.maps.at(name);
      for (const auto& [key, value] : m.entries) s += ", " + name + "[" + key + "] = " + value;
      if (!m.sum.empty()) s += ", sum " + name + " = " + m.sum;
      s += ", count " + name + " = " + m.count;
    }
    return s;
  }

  const tir::TypedContract& k_;
  Options options_;
  z3::context c_;
  Encoder enc_;
  z3::solver solver_;
  ContractResult out_;
  std::vector<std::uint32_t> state_, builtins_;
  std::uint32_t held_ = 0, creator_ = 0, caller_ = 0, value_ = 0, now_ = 0;
  bool unsatisfiable_ = false; ///< no state satisfies the invariants
};

} // namespace

ContractResult verifyContract(const tir::TypedContract& contract, const Options& options) {
  Checker checker(contract, options);
  return checker.run();
}

} // namespace flo::verify
