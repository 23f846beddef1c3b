/// \file
/// The image encoder; the layout is documented in runtime/image.h and read back by
/// runtime/runtime.cpp.
#include "compiler/codegen/image_writer.h"

#include <cstring>

namespace flo::codegen {

using image::kNone;

std::uint32_t StringTable::add(const std::string& s) {
  auto [it, inserted] = index_.emplace(s, std::uint32_t(bytes_.size()));
  if (inserted) {
    bytes_ += s;
    bytes_ += '\0';
  }
  return it->second;
}

namespace {

class Writer {
public:
  Writer(const ir::Program& p, StringTable& strings) : p_(p), strings_(strings) {}

  std::vector<std::uint32_t> run() {
    put(image::kMagic);
    put(image::kVersion);
    put(p_.locations.size());
    for (const auto& l : p_.locations) str(l);
    put(p_.houses.size());
    for (const auto& h : p_.houses) {
      str(h.name);
      ref(h.time);
      put(h.failure.valid() ? p_.slot(h.failure) : kNone);
      list(h.queue);
    }
    put(p_.shares.size());
    for (const auto& s : p_.shares) {
      put(s.house);
      str(s.path);
      put(s.firstSlot);
      put(s.owner);
      put(s.fields.size());
      for (const auto& f : s.fields) str(f);
    }
    put(p_.slotCount());
    for (const auto& s : p_.shares)
      for (const auto& v : s.values) value(v);
    put(p_.taskers.size());
    for (const auto& t : p_.taskers) {
      put(std::uint32_t(t.kind));
      put(t.house);
      str(t.name);
      put(std::uint32_t(t.schedule));
      f64(t.period);
      put(t.first);
      list(t.frames);
      for (auto r : {t.elapsed, t.recurred, t.active, t.human}) ref(r);
      if (t.kind == image::TaskerKind::Logger) {
        str(t.prefix);
        put(t.reuse);
        put(t.logs.size());
        for (const auto& l : t.logs) {
          str(l.name);
          str(l.file);
          put(std::uint32_t(l.rule));
          put(l.loggees.size());
          for (const auto& g : l.loggees) {
            str(g.tag);
            put(g.share);
            put(g.fields.size());
            for (auto f : g.fields) {
              str(p_.shares[g.share].fields[f]);
              put(p_.slot({g.share, f}));
            }
          }
        }
      }
    }
    put(p_.frames.size());
    for (const auto& f : p_.frames) {
      put(f.framer);
      str(f.name);
      put(f.over);
      put(f.next);
      list(f.outline);
      list(f.auxes);
      str(f.humanFull);
      str(f.humanHead);
      for (const auto& l : f.lists) list(l);
    }
    put(p_.acts.size());
    for (const auto& a : p_.acts) act(a);
    put(p_.marks);
    auto fns = flowFunctions(p_);
    put(p_.flows.size());
    for (std::size_t i = 0; i < p_.flows.size(); ++i) {
      const ir::Flow& f = p_.flows[i];
      str(f.name);
      put(f.loc);
      put(f.house);
      put(std::uint32_t(f.window));
      f64(f.length);
      f64(f.every);
      put(std::uint32_t(f.count & 0xFFFFFFFFu));
      put(std::uint32_t(f.count >> 32));
      put(f.capacity);
      put(std::uint32_t(f.policy));
      put(std::uint32_t(f.reducer));
      put(fns[i].items);
      put(fns[i].fold);
      put(f.reduceLoc);
      put(std::uint32_t(f.itemWork()));
      put(std::uint32_t(1 + (f.keepsItems() ? f.capacity : 0)));
      put(f.partitionLimit);
      str(f.into);
      put(f.sources.size());
      for (const auto& s : f.sources) {
        put(s.field.share);
        put(p_.slot(s.field));
        put(s.partition);
        put(s.key.valid() ? p_.slot(s.key) : image::kNone);
      }
      put(f.clocks.size());
      for (double c : f.clocks) f64(c);
      put(f.sinks.size());
      for (std::size_t k = 0; k < f.sinks.size(); ++k) {
        put(f.sinks[k].share);
        put(p_.slot(f.sinks[k]));
        str(f.keys[k]);
      }
    }
    put(p_.jobs.size());
    for (const auto& j : p_.jobs) {
      str(j.name);
      put(std::uint32_t(j.runs == ir::Job::Runs::Framer ? image::JobRuns::Framer
                        : j.runs == ir::Job::Runs::Flow ? image::JobRuns::Flow
                                                        : image::JobRuns::Deed));
      put(j.runs == ir::Job::Runs::Framer ? j.tasker
          : j.runs == ir::Job::Runs::Flow ? j.flow
                                          : j.fn);
      put(std::uint32_t(j.trigger == ir::Job::Trigger::Every ? image::JobTrigger::Every
                        : j.trigger == ir::Job::Trigger::On  ? image::JobTrigger::On
                                                             : image::JobTrigger::None));
      f64(j.every);
      put(j.onShare);
      put(j.limitPasses);
      put(std::uint32_t(j.costBound));
      put(std::uint32_t(j.costBound >> 32));
    }
    put(p_.acts.size());
    for (const auto& a : p_.acts)
      put(1 + (a.kind == image::ActKind::Fn ? ir::functionWork(p_, a.fn) : 0));
    return std::move(words_);
  }

private:
  void put(std::size_t w) { words_.push_back(std::uint32_t(w)); }
  void str(const std::string& s) {
    put(strings_.add(s));
    put(s.size());
  }
  void list(const std::vector<std::uint32_t>& v) {
    put(v.size());
    for (auto x : v) put(x);
  }
  void ref(ir::FieldRef r) {
    put(r.valid() ? r.share : kNone);
    put(r.valid() ? p_.slot(r) : kNone);
  }
  void f64(double d) {
    std::uint64_t bits;
    std::memcpy(&bits, &d, sizeof bits);
    put(std::uint32_t(bits));
    put(std::uint32_t(bits >> 32));
  }
  void value(const ir::Value& v) {
    put(v.tag);
    switch (v.tag) {
    case FLO_BOOL:
    case FLO_INT:
      put(std::uint32_t(std::uint64_t(v.i)));
      put(std::uint32_t(std::uint64_t(v.i) >> 32));
      break;
    case FLO_FLOAT:
      f64(v.f);
      break;
    case FLO_STR:
      str(v.s);
      break;
    case FLO_POINT:
      str(ir::pointBlob(v));
      break;
    default:
      put(0);
      put(0);
    }
  }
  void act(const ir::Act& a) {
    using image::ActKind;
    put(std::uint32_t(a.kind));
    put(a.loc);
    switch (a.kind) {
    case ActKind::Fn:
      put(a.fn);
      break;
    case ActKind::Print:
      str(a.message);
      break;
    case ActKind::Go:
    case ActKind::CondAux:
      put(a.target);
      put(a.fn);
      put(a.marks.size());
      for (const auto& m : a.marks) {
        put(m.mark);
        put(m.share);
        put(std::uint32_t(m.kind));
      }
      break;
    case ActKind::Let:
      put(a.fn);
      break;
    case ActKind::Bid:
      put(a.control);
      list(a.taskers);
      put(a.periodKind);
      if (a.periodKind == 1) {
        f64(a.period);
      } else {
        put(a.periodRef.valid() ? p_.slot(a.periodRef) : kNone);
        put(0);
      }
      break;
    case ActKind::Done:
      list(a.taskers);
      break;
    case ActKind::Fiat:
      put(a.control);
      put(a.target);
      break;
    case ActKind::Mark:
      put(a.target);
      put(a.share);
      put(a.control);
      break;
    case ActKind::Nop:
      break;
    case ActKind::Rear:
      put(a.target);
      list(a.taskers);
      break;
    case ActKind::Raze:
      put(a.target);
      put(a.control);
      break;
    }
  }

  const ir::Program& p_;
  StringTable& strings_;
  std::vector<std::uint32_t> words_;
};

} // namespace

std::vector<FlowFns> flowFunctions(const ir::Program& p) {
  std::vector<FlowFns> out;
  std::uint32_t next = std::uint32_t(p.functions.size());
  for (const auto& f : p.flows) {
    FlowFns fns;
    if (!f.stages.empty()) fns.items = next++;
    if (f.reduceDeed) fns.fold = next++;
    out.push_back(fns);
  }
  return out;
}

std::vector<std::uint32_t> encodeImage(const ir::Program& p, StringTable& strings) {
  return Writer(p, strings).run();
}

} // namespace flo::codegen
