/// \file
/// The runtime engine (see runtime.h). Section numbers refer to ../shared/FLOSCRIPT.md.
#include "runtime/runtime.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <set>
#include <stdexcept>
#include <thread>

namespace flo::rt {

using image::ActKind;
using image::ActList;
using image::Control;
using image::Schedule;
using image::Status;

namespace {

/// Set by SIGINT/SIGTERM: the skedder ends the run after the current pass, as Ioflo does on
/// Ctrl-C (the queued taskers are aborted, so exit actions run and output is flushed).
volatile std::sig_atomic_t gInterrupted = 0;
extern "C" void onInterrupt(int) {
  gInterrupted = 1;
}

class Reader {
public:
  Reader(const std::uint32_t* w, std::uint32_t n) : w_(w), n_(n) {}
  std::uint32_t next() {
    if (pos_ >= n_) throw std::runtime_error("program image is truncated");
    return w_[pos_++];
  }
  std::uint32_t count() {
    std::uint32_t c = next();
    if (c > n_) throw std::runtime_error("program image has a bad count");
    return c;
  }
  std::vector<std::uint32_t> list() {
    std::vector<std::uint32_t> v(count());
    for (auto& x : v) x = next();
    return v;
  }
  double f64() {
    std::uint64_t lo = next(), hi = next();
    std::uint64_t bits = lo | (hi << 32);
    double d;
    std::memcpy(&d, &bits, sizeof d);
    return d;
  }

private:
  const std::uint32_t* w_;
  std::uint32_t n_;
  std::uint32_t pos_ = 0;
};

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

const char* Runtime::str(std::uint32_t off, std::uint32_t len) const {
  if (off > stringsSize_ || len > stringsSize_ - off || strings_[off + len] != '\0')
    throw std::runtime_error("program image names a bad string");
  return strings_ + off;
}

Runtime::Runtime(const std::uint32_t* image, std::uint32_t words, const char* strings,
                 std::uint32_t stringsSize, const FloFn* fns, std::uint32_t nfns)
    : strings_(strings), stringsSize_(stringsSize) {
  Reader r(image, words);
  if (r.next() != image::kMagic || r.next() != image::kVersion)
    throw std::runtime_error("not a Flo program image of this runtime's version");
  auto string = [&] {
    std::uint32_t off = r.next(), len = r.next();
    return str(off, len);
  };
  auto fn = [&](std::uint32_t i) -> FloFn {
    if (i == kNone) return nullptr;
    if (i >= nfns) throw std::runtime_error("program image names a bad function");
    return fns[i];
  };
  for (std::uint32_t n = r.count(); n--;) locations_.emplace_back(string());
  houses_.resize(r.count());
  for (auto& h : houses_) {
    h.name = string();
    h.time.share = r.next();
    h.time.slot = r.next();
    h.failureSlot = r.next();
    h.queue = r.list();
  }
  shares_.resize(r.count());
  for (auto& s : shares_) {
    s.house = r.next();
    s.path = string();
    s.firstSlot = r.next();
    s.owner = r.next();
    s.nfields = r.count();
    for (std::uint32_t i = 0; i < s.nfields; ++i) s.fields.push_back(string());
  }
  slots_.resize(r.count());
  for (auto& v : slots_) {
    v = FloValue{};
    v.tag = r.next();
    std::uint32_t lo = r.next(), hi = r.next();
    switch (v.tag) {
    case FLO_NONE:
      break;
    case FLO_BOOL:
      v.u.i = lo != 0;
      break;
    case FLO_INT:
      v.u.i = static_cast<std::int64_t>(std::uint64_t(lo) | (std::uint64_t(hi) << 32));
      break;
    case FLO_FLOAT: {
      std::uint64_t bits = std::uint64_t(lo) | (std::uint64_t(hi) << 32);
      std::memcpy(&v.u.f, &bits, sizeof(double));
      break;
    }
    case FLO_STR:
      v.u.s = str(lo, hi);
      v.aux = hi;
      break;
    case FLO_POINT:
      if (hi != 1 + 3 * sizeof(double)) throw std::runtime_error("program image: bad point");
      v.u.s = str(lo, hi) + 1;
      v.aux = static_cast<unsigned char>(strings_[lo]);
      break;
    default:
      throw std::runtime_error("program image has a bad value tag");
    }
  }
  stamps_.assign(shares_.size(), kNaN);
  taskers_.resize(r.count());
  for (auto& t : taskers_) {
    t.kind = image::TaskerKind(r.next());
    t.house = r.next();
    t.name = string();
    t.schedule = Schedule(r.next());
    t.period = r.f64();
    t.first = r.next();
    t.frames = r.list();
    for (Slot* s : {&t.elapsed, &t.recurred, &t.active, &t.human}) {
      s->share = r.next();
      s->slot = r.next();
    }
    if (t.kind == image::TaskerKind::Logger) {
      t.prefix = string();
      t.reuse = r.next() != 0;
      t.logs.resize(r.count());
      for (auto& log : t.logs) {
        log.name = string();
        log.file = string();
        log.rule = image::LogRule(r.next());
        log.groups.resize(r.count());
        for (auto& g : log.groups) {
          std::string tag = string();
          g.share = r.next();
          if (g.share >= shares_.size()) throw std::runtime_error("program image: bad loggee");
          std::uint32_t n = r.count();
          for (std::uint32_t k = 0; k < n; ++k) {
            std::string field = string();
            std::uint32_t slot = r.next();
            if (slot >= slots_.size()) throw std::runtime_error("program image: bad loggee slot");
            g.columns.push_back({n == 1 ? tag : tag + "." + field, slot});
          }
        }
      }
    }
  }
  frames_.resize(r.count());
  for (auto& f : frames_) {
    f.framer = r.next();
    f.name = string();
    f.over = r.next();
    f.next = r.next();
    f.outline = r.list();
    f.auxes = r.list();
    f.humanFull = string();
    f.humanHead = string();
    for (auto& l : f.lists) l = r.list();
  }
  acts_.resize(r.count());
  for (auto& a : acts_) {
    a.kind = ActKind(r.next());
    a.loc = r.next();
    switch (a.kind) {
    case ActKind::Fn:
      a.fn = fn(r.next());
      break;
    case ActKind::Print:
      a.message = string();
      a.messageLength = std::uint32_t(std::strlen(a.message));
      break;
    case ActKind::Go:
    case ActKind::CondAux:
      a.target = r.next();
      a.fn = fn(r.next());
      for (std::uint32_t n = r.count(); n--;) {
        MarkRef m;
        m.mark = r.next();
        m.share = r.next();
        m.kind = image::MarkKind(r.next());
        a.marks.push_back(m);
      }
      break;
    case ActKind::Let:
      a.fn = fn(r.next());
      break;
    case ActKind::Bid:
      a.control = r.next();
      a.taskers = r.list();
      a.periodKind = r.next();
      if (a.periodKind == 1) {
        a.period = r.f64();
      } else {
        a.periodSlot = r.next();
        r.next();
      }
      break;
    case ActKind::Done:
      a.taskers = r.list();
      break;
    case ActKind::Fiat:
      a.control = r.next();
      a.target = r.next();
      break;
    case ActKind::Mark:
      a.target = r.next();
      a.share = r.next();
      a.control = r.next();
      break;
    case ActKind::Nop:
      break;
    case ActKind::Rear:
      a.target = r.next();
      a.taskers = r.list();
      break;
    case ActKind::Raze:
      a.target = r.next();
      a.control = r.next();
      break;
    default:
      throw std::runtime_error("program image has a bad act kind");
    }
  }
  marks_.resize(r.count());
  decodeFlows([&] { return r.next(); }, [&] { return r.f64(); }, string, fns, nfns);
  jobs_.resize(r.count());
  for (auto& j : jobs_) {
    j.name = string();
    j.runs = image::JobRuns(r.next());
    j.target = r.next();
    j.trigger = image::JobTrigger(r.next());
    j.every = r.f64();
    j.share = r.next();
    j.limit = r.next();
    std::uint64_t lo = r.next(), hi = r.next();
    j.bound = lo | (hi << 32);
    bool framer = j.runs == image::JobRuns::Framer, flow = j.runs == image::JobRuns::Flow;
    if ((framer && j.target >= taskers_.size()) || (flow && j.target >= flows_.size()) ||
        (!framer && !flow && (j.runs != image::JobRuns::Deed || j.target >= nfns)) ||
        std::uint32_t(j.trigger) > 2 ||
        (j.trigger == image::JobTrigger::On && j.share >= shares_.size()))
      throw std::runtime_error("program image has a bad job");
  }
  if (r.count() != acts_.size()) throw std::runtime_error("program image: bad work table");
  for (auto& a : acts_) a.work = r.next();
  fns_ = fns;

  // Cross-checks, so a bad image fails here and not in the middle of a run.
  auto ok = [](std::uint32_t i, std::size_t n) { return i == kNone || i < n; };
  for (auto& h : houses_)
    for (auto t : h.queue)
      if (t >= taskers_.size()) throw std::runtime_error("program image: bad queue entry");
  for (auto& s : shares_)
    if (s.firstSlot + std::uint64_t(s.nfields) > slots_.size())
      throw std::runtime_error("program image: share outside the slots");
  for (auto& f : frames_) {
    if (f.framer >= taskers_.size() || !ok(f.over, frames_.size()) || !ok(f.next, frames_.size()))
      throw std::runtime_error("program image: bad frame link");
    for (auto& l : f.lists)
      for (auto a : l) {
        if (a >= acts_.size()) throw std::runtime_error("program image: bad act index");
        acts_[a].frame = std::uint32_t(&f - frames_.data());
      }
    for (auto a : f.lists[std::size_t(ActList::Precur)])
      if (acts_[a].kind == ActKind::CondAux) f.condAuxes.push_back(a);
  }
  for (auto& t : taskers_)
    if (!ok(t.first, frames_.size())) throw std::runtime_error("program image: bad first frame");

  ctx.slots = slots_.data();
  ctx.stamps = stamps_.data();
  ctx.stamp = 0;
  ctx.fault = 0;
  ctx.rt = this;
}

// ------------------------------------------------------------------------------ store writes

FloValue Runtime::stringValue(const char* s) const {
  FloValue v{};
  v.tag = FLO_STR;
  v.u.s = s;
  v.aux = static_cast<std::uint32_t>(std::strlen(s));
  return v;
}

void Runtime::write(const Slot& s, FloValue v) {
  if (s.slot == kNone) return;
  slots_[s.slot] = v;
  stamps_[s.share] = stamp_;
  if (!flows_.empty() && !taps_[s.share].empty()) [[unlikely]]
    written(s.share);
}

// ------------------------------------------------------------------------------ flows

void Runtime::decodeFlows(const std::function<std::uint32_t()>& next,
                          const std::function<double()>& f64,
                          const std::function<const char*()>& string, const FloFn* fns,
                          std::uint32_t nfns) {
  taps_.assign(shares_.size(), {});
  auto fn = [&](std::uint32_t i) -> FloFn {
    if (i == kNone) return nullptr;
    if (i >= nfns) throw std::runtime_error("program image names a bad flow function");
    return fns[i];
  };
  auto count = [&] {
    std::uint32_t c = next();
    if (c > (1u << 26)) throw std::runtime_error("program image has a bad flow count");
    return c;
  };
  auto slotOf = [&](std::uint32_t share, std::uint32_t slot) {
    if (share >= shares_.size() || slot < shares_[share].firstSlot ||
        slot >= shares_[share].firstSlot + shares_[share].nfields)
      throw std::runtime_error("program image: a flow names a bad slot");
  };
  std::size_t made = 0; // shares keyed sinks may make
  for (std::uint32_t n = count(), i = 0; i < n; ++i) {
    FlowDef d;
    d.name = string();
    d.loc = next();
    d.house = next();
    d.window = FlowWindow(next());
    d.length = f64();
    d.every = f64();
    std::uint64_t lo = next(), hi = next();
    d.count = lo | (hi << 32);
    d.capacity = next();
    d.policy = FlowPolicy(next());
    d.reducer = FlowReducer(next());
    // The function table holds every generated function as a FloFn; a flow's are of their own
    // types (abi.h), cast back through the generic function pointer type.
    using Generic = void (*)();
    d.items = reinterpret_cast<FloFlowFn>(reinterpret_cast<Generic>(fn(next())));
    d.fold = reinterpret_cast<FloFoldFn>(reinterpret_cast<Generic>(fn(next())));
    d.reduceLoc = next();
    d.workPerItem = next();
    d.workPerWindow = next();
    d.partitionLimit = next();
    d.into = string();
    for (std::uint32_t k = count(); k--;) {
      FlowSource s{next(), next(), next(), next()};
      slotOf(s.share, s.slot);
      if ((s.keySlot != kNone) != (d.partitionLimit > 0))
        throw std::runtime_error("program image: a flow source's key disagrees with its flow");
      if (s.keySlot != kNone) slotOf(s.share, s.keySlot);
      d.sources.push_back(s);
    }
    for (std::uint32_t k = count(); k--;) d.clocks.push_back(f64());
    for (std::uint32_t k = count(); k--;) {
      FlowSink s;
      s.share = next();
      s.slot = next();
      slotOf(s.share, s.slot);
      s.key = string();
      d.sinks.push_back(std::move(s));
    }
    if (d.window > FlowWindow::Count || d.policy > FlowPolicy::Block ||
        d.reducer > FlowReducer::Deed || d.capacity == 0 ||
        (d.partitionLimit == 0 ? d.sinks.empty() || !d.into.empty()
                               : d.partitionLimit > image::kMaxFieldPartitions ||
                                     !d.clocks.empty() || d.into.empty()) ||
        (d.reducer == FlowReducer::Deed) != (d.fold != nullptr) || d.loc >= locations_.size() ||
        (d.window == FlowWindow::Time && !(d.length > 0)) ||
        (d.window == FlowWindow::Count && d.count == 0))
      throw std::runtime_error("program image: bad flow '" + d.name + "'");
    for (std::uint32_t k = 0; k < d.sources.size(); ++k) {
      if (d.partitionLimit == 0 && d.sources[k].partition >= d.sinks.size())
        throw std::runtime_error("program image: bad flow partition");
      taps_[d.sources[k].share].emplace_back(i, k);
    }
    keyedSinks_.emplace_back();
    if (d.partitionLimit > 0) {
      for (const auto& s : d.sinks) keyedSinks_.back()[s.key] = {s.share, s.slot};
      made += d.partitionLimit;
    }
    auto flow = std::make_unique<Flow>(
        std::move(d), ctx,
        [this, i](std::uint32_t partition, FloValue v) { write(flowSink(i, partition), v); },
        [this] { check(); });
    flows_.push_back(std::move(flow));
  }
  // Room for every share a keyed sink may make: generated code holds ctx.slots and ctx.stamps.
  slots_.reserve(slots_.size() + made);
  stamps_.reserve(stamps_.size() + made);
  shares_.reserve(shares_.size() + made);
  taps_.reserve(taps_.size() + made);
}

Slot Runtime::flowSink(std::uint32_t f, std::uint32_t partition) {
  const FlowDef& d = flows_[f]->def();
  if (d.partitionLimit == 0) return {d.sinks.at(partition).share, d.sinks.at(partition).slot};
  const std::string& key = flows_[f]->key(partition);
  auto [it, fresh] = keyedSinks_[f].try_emplace(key);
  if (!fresh) return it->second;
  // The sink path with its `*` segment filled by the key (a name: flowKeyText).
  std::string path;
  for (std::size_t at = 0; at < d.into.size();) {
    std::size_t dot = d.into.find('.', at + 1);
    if (dot == std::string::npos) dot = d.into.size();
    std::string_view seg(d.into.data() + at + 1, dot - at - 1);
    path += "." + (seg == "*" ? key : std::string(seg));
    at = dot;
  }
  assert(slots_.size() < slots_.capacity() && shares_.size() < shares_.capacity());
  Share s;
  s.house = d.house;
  s.path = madePaths_.emplace_back(std::move(path)).c_str();
  s.firstSlot = std::uint32_t(slots_.size());
  s.nfields = 1;
  s.fields.push_back("value");
  shares_.push_back(std::move(s));
  slots_.push_back(FloValue{});
  stamps_.push_back(kNaN);
  taps_.emplace_back();
  it->second = {std::uint32_t(shares_.size() - 1), shares_.back().firstSlot};
  return it->second;
}

void Runtime::written(std::uint32_t share) {
  for (auto [f, source] : taps_.at(share)) {
    const FlowSource& s = flows_[f]->def().sources[source];
    flows_[f]->written(source, slots_[s.slot], stamp_,
                       s.keySlot == kNone ? nullptr : &slots_[s.keySlot]);
  }
}

// ------------------------------------------------------------------------------ feeds

bool Runtime::openFeeds() {
  feedInOpen_ = options_.feedIn;
  if (options_.feedOut.empty()) return true;
  for (const std::string& pattern : options_.feedOut) {
    std::size_t before = fedShares_.size();
    for (std::uint32_t i = 0; i < shares_.size(); ++i)
      if (feed::matches(pattern, shares_[i].path) &&
          std::find(fedShares_.begin(), fedShares_.end(), i) == fedShares_.end())
        fedShares_.push_back(i);
    if (fedShares_.size() == before) {
      std::fprintf(stderr, "error: --feed-out %s: no share of the program matches\n",
                   pattern.c_str());
      return false;
    }
  }
  return true;
}

/// Writes the items due by this pass (§ "Feeds" in docs/runtime.md): each at the start of the
/// first pass not before its time, as a framer's write would be (flows that take the share get
/// it as an item). Waits on stdin for the next line while none is due yet.
void Runtime::takeFeed() {
  if (sharesByPath_.empty())
    for (std::uint32_t i = 0; i < shares_.size(); ++i) sharesByPath_.emplace(shares_[i].path, i);
  auto once = [&](const std::string& what) {
    if (feedWarned_.insert(what).second)
      std::fprintf(stderr, "feed-in: %s: its items are dropped\n", what.c_str());
  };
  std::string line, error;
  while (feedInOpen_) {
    if (!pending_) {
      int c;
      line.clear();
      while ((c = std::getc(stdin)) != EOF && c != '\n') line += char(c);
      if (c == EOF && line.empty()) {
        feedInOpen_ = false;
        break;
      }
      feed::Item item;
      switch (feed::parse(line, item, arena_, error)) {
      case feed::Line::Other:
        continue;
      case feed::Line::End:
        feedInOpen_ = false;
        continue;
      case feed::Line::Malformed:
        std::fprintf(stderr, "feed-in: a malformed line is dropped: %s\n", error.c_str());
        continue;
      case feed::Line::Item:
        pending_ = std::move(item);
      }
    }
    if (pending_->time > stamp_ + 1e-9) break; // not due yet: the clock goes on to it
    feed::Item item = std::move(*pending_);
    pending_.reset();
    auto at = sharesByPath_.find(item.path);
    if (at == sharesByPath_.end()) {
      once("no share " + item.path + " in this program");
      continue;
    }
    const Share& sh = shares_[at->second];
    for (auto& [field, value] : item.fields) {
      std::uint32_t k = 0;
      while (k < sh.nfields && field != sh.fields[k]) ++k;
      if (k == sh.nfields) {
        once("no field '" + field + "' of " + item.path);
        continue;
      }
      slots_[sh.firstSlot + k] = value;
    }
    stamps_[at->second] = stamp_;
    if (!flows_.empty() && !taps_[at->second].empty()) written(at->second);
  }
}

/// Sends the fed shares written in this pass, a line each with the values it ends with.
void Runtime::sendFeed() {
  for (std::uint32_t i : fedShares_) {
    if (!(stamps_[i] == stamp_)) continue; // NaN (never written) or written before this pass
    const Share& sh = shares_[i];
    auto line =
        feed::formatLine(stamp_, sh.path, sh.fields.data(), &slots_[sh.firstSlot], sh.nfields);
    if (line)
      std::fwrite(line->data(), 1, line->size(), stderr);
    else if (feedWarned_.insert(sh.path).second)
      std::fprintf(stderr, "feed-out: %s holds a point, which a feed does not carry: not sent\n",
                   sh.path);
  }
}

void Runtime::runFlows() {
  for (auto& f : flows_) f->run(stamp_);
}

void Runtime::printFlowStats() const {
  for (const auto& f : flows_) {
    const FlowStats& s = f->stats();
    std::fprintf(stderr,
                 "flow %s: %llu items, %llu filtered out, %llu rejected (not a number), %llu "
                 "dropped (buffer %u full), %llu blocked, %llu windows written\n",
                 f->def().name.c_str(), (unsigned long long)s.items, (unsigned long long)s.filtered,
                 (unsigned long long)s.rejected, (unsigned long long)s.dropped, f->def().capacity,
                 (unsigned long long)s.blocked, (unsigned long long)s.windows);
    if (f->def().partitionLimit > 0)
      std::fprintf(stderr,
                   "flow %s: %u of at most %u partitions, %llu items without a key, %llu items of "
                   "new keys beyond the limit\n",
                   f->def().name.c_str(), f->partitions(), f->def().partitionLimit,
                   (unsigned long long)s.unkeyed, (unsigned long long)s.overflow);
  }
}

void Runtime::writeState(Tasker& t) {
  FloValue e{};
  e.tag = FLO_FLOAT;
  e.u.f = stamp_ - t.entryStamp;
  write(t.elapsed, e);
  FloValue r{};
  r.tag = FLO_INT;
  r.u.i = t.recurredCount;
  write(t.recurred, r);
}

void Runtime::resetEntry(Tasker& t) {
  t.entryStamp = stamp_;
  t.recurredCount = 0;
  writeState(t);
}

void Runtime::activate(Tasker& t, std::uint32_t frame, bool head) {
  t.activeFrame = frame;
  t.actives = frames_[frame].outline;
  write(t.active, stringValue(frames_[frame].name));
  write(t.human, stringValue(head ? frames_[frame].humanHead : frames_[frame].humanFull));
}

void Runtime::trace(const std::string& line) {
  if (!options_.verbose) return;
  std::fprintf(stderr, "%s\n", line.c_str());
}

std::string Runtime::location(std::uint32_t loc) const {
  return loc < locations_.size() ? locations_[loc] : std::string();
}

// ------------------------------------------------------------------------------ faults

void Runtime::fault(std::uint32_t loc, std::string message) {
  if (!faulted_) {
    faulted_ = true;
    fault_ = Fault{loc, std::move(message)};
  }
  ctx.fault = 1;
}

void Runtime::check() {
  if (ctx.fault) throw fault_;
}

bool Runtime::callNeed(FloFn fn) {
  if (!fn) return true;
  bool r = fn(&ctx) != 0;
  check();
  return r;
}

// ------------------------------------------------------------------------------ acts

bool Runtime::runList(std::uint32_t f, ActList list, bool stopOnTrue) {
  // Copy: an act may change the frame's lists (raze) or the outline.
  const auto& acts = frames_[f].lists[std::size_t(list)];
  for (std::size_t i = 0; i < acts.size(); ++i) {
    bool r = runAct(acts[i]);
    if (stopOnTrue && r) return true;
  }
  return false;
}

bool Runtime::runAct(std::uint32_t a) {
  const Act& act = acts_[a];
  if (counting_) work_ += act.work;
  switch (act.kind) {
  case ActKind::Fn:
    act.fn(&ctx);
    check();
    return false;
  case ActKind::Print: {
    std::fputs("*** ", stdout);
    std::fwrite(act.message, 1, act.messageLength, stdout);
    std::fputs(" ***\n", stdout);
    return false;
  }
  case ActKind::Go:
    return transit(act);
  case ActKind::Let:
    return callNeed(act.fn);
  case ActKind::CondAux:
    return condAux(act);
  case ActKind::Bid: {
    auto c = Control(act.control);
    for (auto t : act.taskers) {
      Tasker& tk = taskers_[t];
      tk.desire = c;
      if (act.periodKind != 0 &&
          (c == Control::Start || c == Control::Run || c == Control::Ready)) {
        double p = act.period;
        if (act.periodKind == 2) {
          const FloValue& v = slots_[act.periodSlot];
          if (!isNumeric(v)) {
            fault(act.loc, std::string("`bid ... at` needs a number, not ") + repr(v));
            check();
          }
          p = asDouble(v);
        }
        tk.period = std::max(0.0, p);
      }
    }
    return false;
  }
  case ActKind::Done:
    for (auto t : act.taskers) taskers_[t].done = true;
    return false;
  case ActKind::Fiat: {
    auto c = Control(act.control);
    Status s = control(act.target, c);
    switch (c) {
    case Control::Ready:
      return s == Status::Readied;
    case Control::Start:
      return s == Status::Started;
    case Control::Run:
      return s == Status::Running;
    case Control::Stop:
      return s == Status::Stopped;
    case Control::Abort:
      return s == Status::Aborted;
    }
    return false;
  }
  case ActKind::Mark:
    runMarker(MarkRef{act.target, act.share, image::MarkKind(act.control)}, false);
    return false;
  case ActKind::Nop:
    return false;
  case ActKind::Rear:
    return rear(act);
  case ActKind::Raze:
    raze(act);
    return false;
  }
  return false;
}

/// `rear`: one more insular clone in the target frame's aux list (§12.9). Clones come from a
/// pool instantiated at compile time, so a program's memory stays bounded.
bool Runtime::rear(const Act& act) {
  const Tasker& self = taskers_[frames_[act.frame].framer];
  if (std::find(self.actives.begin(), self.actives.end(), act.target) != self.actives.end()) {
    std::fflush(stdout);
    std::fprintf(stderr, "%sError: rear into frame '%s', which is in the active outline\n",
                 location(act.loc).c_str(), frames_[act.target].name);
    return false;
  }
  for (auto t : act.taskers) {
    Tasker& clone = taskers_[t];
    if (clone.reared) continue;
    // The name (Ioflo's tag) must be free: another `rear` of the template may hold it.
    bool taken = std::any_of(taskers_.begin(), taskers_.end(), [&](const Tasker& o) {
      return o.reared && std::strcmp(o.name, clone.name) == 0;
    });
    if (taken) continue;
    clone.reared = true;
    clone.everReared = true;
    clone.done = true;
    frames_[act.target].auxes.push_back(t);
    trace(std::string("Rear: ") + clone.name + " in " + frames_[act.target].name);
    return false;
  }
  fault(act.loc, "rear: more than " + std::to_string(act.taskers.size()) +
                     " live clones from this rear (the limit is set at compile time)");
  check();
  return false;
}

/// `raze all|first|last`: removes reared clones from a frame's aux list; a clone still running
/// is exited first.
void Runtime::raze(const Act& act) {
  auto& auxes = frames_[act.target].auxes;
  std::vector<std::uint32_t> reared;
  for (auto t : auxes)
    if (taskers_[t].reared) reared.push_back(t);
  if (reared.empty()) return;
  if (act.control == 1) reared.resize(1);
  if (act.control == 2) reared.erase(reared.begin(), reared.end() - 1);
  for (auto t : reared) {
    Tasker& clone = taskers_[t];
    if (!clone.done) exitAll(t, true);
    clone.reared = false;
    auxes.erase(std::find(auxes.begin(), auxes.end(), t));
    trace(std::string("Raze: ") + clone.name);
  }
}

void Runtime::runMarker(const MarkRef& m, bool transitMarker) {
  Mark& mark = marks_[m.mark];
  mark.set = true;
  if (m.kind == image::MarkKind::Update) {
    mark.stamp = stamp_;
    mark.transit = transitMarker;
  } else {
    const Share& s = shares_[m.share];
    mark.copy.assign(slots_.begin() + s.firstSlot, slots_.begin() + s.firstSlot + s.nfields);
  }
}

int Runtime::needUpdated(std::uint32_t share, std::uint32_t mark) {
  double st = stamps_[share];
  if (std::isnan(st)) return 0;
  const Mark& m = marks_[mark];
  if (!m.set) return 1;
  if (st > m.stamp) return 1;
  return st == m.stamp && !m.transit;
}

int Runtime::needChanged(std::uint32_t share, std::uint32_t mark) {
  const Mark& m = marks_[mark];
  if (!m.set) return 1;
  const Share& s = shares_[share];
  if (m.copy.size() != s.nfields) return 1;
  for (std::uint32_t i = 0; i < s.nfields; ++i)
    if (!pyEqual(m.copy[i], slots_[s.firstSlot + i])) return 1;
  return 0;
}

int Runtime::needAux(std::uint32_t frame, bool all) const {
  const auto& auxes = frames_.at(frame).auxes;
  if (auxes.empty()) return 0;
  if (all) return std::all_of(auxes.begin(), auxes.end(), [&](auto t) { return taskers_[t].done; });
  return std::any_of(auxes.begin(), auxes.end(), [&](auto t) { return taskers_[t].done; });
}

void Runtime::inc(std::uint32_t dstShare, std::uint32_t n, const std::uint32_t* dst,
                  const FloValue* const* deltas, bool fromSource, std::uint32_t loc) {
  std::vector<FloValue> results(n);
  for (std::uint32_t k = 0; k < n; ++k) {
    std::string error;
    auto r = add(slots_[dst[k]], *deltas[k], error, arena_);
    if (!r) {
      if (fromSource) {
        fault(loc, "inc: " + error);
      } else {
        // Ioflo logs this and goes on (§12.3); the console line is not a print.
        std::fflush(stdout);
        std::fprintf(stderr, "%sError in Inc: %s\n", location(loc).c_str(), error.c_str());
      }
      return;
    }
    results[k] = *r;
  }
  for (std::uint32_t k = 0; k < n; ++k) slots_[dst[k]] = results[k];
  stamps_[dstShare] = stamp_;
  if (!taps_[dstShare].empty()) written(dstShare);
}

// ------------------------------------------------------------------------------ transitions

bool Runtime::transit(const Act& act) {
  if (!callNeed(act.fn)) return false;
  const Frame& holder = frames_[act.frame];
  Tasker& t = taskers_[holder.framer];
  const std::uint32_t far = act.target;
  const auto nears = t.actives;
  const auto& fars = frames_[far].outline;

  // §9.4: first index where nears[i] is far or differs from fars[i].
  std::size_t l = std::min(nears.size(), fars.size());
  std::size_t i = 0;
  bool found = false;
  for (; i < l; ++i)
    if (nears[i] == far || nears[i] != fars[i]) {
      found = true;
      break;
    }
  std::vector<std::uint32_t> exits, enters, common;
  if (found) {
    exits.assign(nears.begin() + std::ptrdiff_t(i), nears.end());
    enters.assign(fars.begin() + std::ptrdiff_t(i), fars.end());
    common.assign(nears.begin(), nears.begin() + std::ptrdiff_t(i));
  } else {
    enters.assign(fars.begin() + std::ptrdiff_t(l), fars.end());
    common.assign(nears.begin(), nears.end());
  }

  // Entry checks of every entering frame, top-down: its guards, then its auxes.
  for (auto f : enters)
    if (!auxCheck(f)) return false;
  for (auto m : act.marks) runMarker(m, true);
  trace(std::string("To: ") + frames_[far].name + " (" + t.name + ")");
  for (auto it = exits.rbegin(); it != exits.rend(); ++it) exitFrame(*it);
  for (auto it = common.rbegin(); it != common.rend(); ++it) runList(*it, ActList::Rexit, false);
  for (auto f : common) runList(f, ActList::Renter, false);
  resetEntry(t);
  t.fullOutline.clear();
  for (auto f : enters) enterFrame(f);
  activate(t, far, false);
  return true;
}

/// Guards of one frame (benter acts: every one runs until the first falsy, §9.4) and the
/// ownership and start checks of its auxes (§12.9).
bool Runtime::auxCheck(std::uint32_t f) {
  for (auto a : frames_[f].lists[std::size_t(ActList::Benter)])
    if (!runAct(a)) return false;
  for (auto aux : frames_[f].auxes) {
    const Tasker& x = taskers_[aux];
    if (x.mainFrame != kNone && x.mainFrame != f) return false;
    if (!checkStart(aux)) return false;
  }
  return true;
}

bool Runtime::checkStart(std::uint32_t t) {
  const Tasker& tk = taskers_[t];
  if (tk.first == kNone) return false;
  for (auto f : frames_[tk.first].outline)
    if (!auxCheck(f)) return false;
  return true;
}

void Runtime::enterFrame(std::uint32_t f) {
  runList(f, ActList::Enter, false);
  for (auto aux : frames_[f].auxes) {
    taskers_[aux].mainFrame = f;
    enterAll(aux);
  }
}

void Runtime::exitFrame(std::uint32_t f) {
  // Copy: raze in the exit list may shrink the aux list.
  auto auxes = frames_[f].auxes;
  for (auto aux : auxes) exitAll(aux, true);
  runList(f, ActList::Exit, false);
  // The implicit act after the exit actions: leave a running conditional aux (§9.6).
  for (auto a : frames_[f].condAuxes) {
    Tasker& x = taskers_[acts_[a].target];
    if (!x.done && x.mainFrame == f) exitAll(acts_[a].target, true);
  }
}

void Runtime::enterAll(std::uint32_t t) {
  Tasker& tk = taskers_[t];
  tk.done = false;
  tk.fullOutline.clear();
  activate(tk, tk.first, false);
  resetEntry(tk);
  auto outline = tk.actives;
  for (auto f : outline) enterFrame(f);
}

void Runtime::exitAll(std::uint32_t t, bool setDone) {
  Tasker& tk = taskers_[t];
  auto outline = tk.actives;
  for (auto it = outline.rbegin(); it != outline.rend(); ++it) exitFrame(*it);
  if (setDone) tk.done = true;
  tk.mainFrame = kNone;
}

void Runtime::segue(std::uint32_t t) {
  Tasker& tk = taskers_[t];
  tk.recurredCount += 1;
  writeState(tk);
  // Indexes, not iterators: acts may grow aux lists (rear) or restore a truncated outline (a
  // conditional aux), and the loops must go on over the frames they started with, which stay a
  // prefix of the outline (§9.6). A transition ends the loop at once.
  const std::size_t n = tk.actives.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t f = taskers_[t].actives[i];
    for (std::size_t k = 0; k < frames_[f].auxes.size(); ++k) segue(frames_[f].auxes[k]);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (runList(taskers_[t].actives[i], ActList::Precur, true)) return;
}

void Runtime::recur(std::uint32_t t) {
  const std::size_t n = taskers_[t].actives.size();
  for (std::size_t i = 0; i < n && i < taskers_[t].actives.size(); ++i) {
    const std::uint32_t f = taskers_[t].actives[i];
    runList(f, ActList::Recur, false);
    for (std::size_t k = 0; k < frames_[f].auxes.size(); ++k) recur(frames_[f].auxes[k]);
  }
}

bool Runtime::condAux(const Act& act) {
  Tasker& aux = taskers_[act.target];
  const std::uint32_t f = act.frame;
  Tasker& main = taskers_[frames_[f].framer];
  auto restore = [&] {
    if (!main.fullOutline.empty()) {
      main.actives = main.fullOutline;
      main.fullOutline.clear();
      write(main.human, stringValue(frames_[main.activeFrame].humanFull));
    }
  };
  if (aux.done) {
    if (!callNeed(act.fn)) return false;
    if (aux.mainFrame != kNone && aux.mainFrame != f) return false;
    if (!checkStart(act.target)) return false;
    for (auto m : act.marks) runMarker(m, true);
    aux.mainFrame = f;
    enterAll(act.target);
    recur(act.target);
    if (aux.done) {
      exitAll(act.target, true);
      return false;
    }
    // Truncate the main framer's outline to the head ending at this frame.
    if (main.fullOutline.empty()) main.fullOutline = main.actives;
    const auto& head = frames_[f].outline;
    auto pos = std::find(head.begin(), head.end(), f);
    main.actives.assign(head.begin(), pos + 1);
    write(main.human, stringValue(frames_[f].humanHead));
    trace(std::string("Suspend: ") + aux.name + " in " + frames_[f].name);
    return true;
  }
  segue(act.target);
  recur(act.target);
  if (aux.done) {
    exitAll(act.target, true);
    restore();
    trace(std::string("Resume: ") + frames_[f].name);
    return false;
  }
  return true;
}

// ------------------------------------------------------------------------------ control (§9.2)

Status Runtime::control(std::uint32_t t, Control c) {
  Tasker& tk = taskers_[t];
  if (tk.kind == image::TaskerKind::Logger) return loggerControl(t, c);
  const bool running = tk.status == Status::Started || tk.status == Status::Running;
  const bool idle = tk.status == Status::Stopped || tk.status == Status::Readied;
  switch (c) {
  case Control::Start:
    if (idle) {
      if (checkStart(t)) {
        tk.desire = Control::Run;
        trace(std::string("Starting ") + tk.name);
        enterAll(t);
        recur(t);
        tk.status = Status::Started;
      } else {
        tk.status = Status::Stopped;
        tk.desire = Control::Stop;
      }
    } else if (running) {
      tk.desire = Control::Run;
    }
    break;
  case Control::Run:
    if (running) {
      segue(t);
      recur(t);
      tk.status = Status::Running;
    } else if (idle) {
      tk.desire = Control::Start;
    }
    break;
  case Control::Stop:
    if (running) {
      trace(std::string("Stopping ") + tk.name);
      exitAll(t, false);
      tk.status = Status::Stopped;
    }
    break;
  case Control::Abort:
    if (running) exitAll(t, true);
    if (tk.status != Status::Aborted) trace(std::string("Aborting ") + tk.name);
    tk.status = Status::Aborted;
    break;
  case Control::Ready:
    if (idle) {
      if (checkStart(t)) {
        tk.status = Status::Readied;
      } else {
        tk.status = Status::Stopped;
        tk.desire = Control::Stop;
      }
    }
    break;
  }
  return tk.status;
}

// ------------------------------------------------------------------------------ loggers (§9.8)

namespace {

/// Python's `'%s' % value`, which is how Ioflo 2.0.3 writes every value and the time.
std::string pyStr(const FloValue& v) {
  if (v.tag == FLO_STR) return std::string(v.u.s, v.aux);
  return repr(v);
}

const char* ruleName(image::LogRule r) {
  static const char* const names[] = {"never",  "once",   "always", "update",
                                      "change", "streak", "deck"};
  return names[std::uint32_t(r) < 7 ? std::uint32_t(r) : 0];
}

} // namespace

/// Opens every log of a logger, as Ioflo's Logger.reopen + Log.prepare do: the directory
/// PREFIX/HOUSE/LOGGER (`reuse`) or PREFIX/HOUSE/LOGGER_YYYYMMDD_HHMMSS_mmm, each log's FILE.txt
/// opened for appending, and a new file gets the two header lines (kind, rule and file; then
/// `_time` and a column per field: the tag, or tag.field when the loggee has several).
bool Runtime::openLogs(Tasker& t) {
  namespace fs = std::filesystem;
  fs::path prefix;
  if (!t.prefix.empty()) {
    prefix = t.prefix;
  } else {
    const char* home = std::getenv("HOME");
    prefix = fs::path(home ? home : ".") / ".ioflo" / "log";
  }
  fs::path dir = prefix / houses_[t.house].name;
  std::error_code ec;
  if (t.reuse) {
    dir /= t.name;
    fs::create_directories(dir, ec);
  } else {
    auto now = std::chrono::system_clock::now();
    std::time_t secs = std::chrono::system_clock::to_time_t(now);
    long millis =
        long(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
             1000);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", std::localtime(&secs));
    for (long i = 0;; ++i) {
      char leaf[64];
      std::snprintf(leaf, sizeof leaf, "_%s_%03ld", stamp, millis + i);
      fs::path candidate = dir / (std::string(t.name) + leaf);
      if (!fs::exists(candidate, ec)) {
        dir = candidate;
        fs::create_directories(dir, ec);
        break;
      }
    }
  }
  if (ec) {
    std::fprintf(stderr, "Error: creating log directory '%s': %s\n", dir.c_str(),
                 ec.message().c_str());
    return false;
  }
  for (auto& log : t.logs) {
    fs::path file = dir / (log.file + ".txt");
    bool fresh = !fs::exists(file, ec);
    log.out = std::fopen(file.c_str(), "a");
    if (!log.out) {
      std::fprintf(stderr, "Error: creating log file '%s'\n", file.c_str());
      return false;
    }
    std::string header = std::string("text\t") + ruleName(log.rule) + "\t" + log.file + "\n_time";
    for (auto& g : log.groups)
      for (auto& c : g.columns) header += "\t" + c.name;
    log.values.clear();
    for (auto& g : log.groups)
      for (auto& c : g.columns) log.values.push_back(slots_[c.slot]);
    if (!log.logged && fresh) std::fprintf(log.out, "%s\n", header.c_str());
  }
  trace(std::string("Logging ") + t.name + " to " + dir.string());
  return true;
}

/// One call of every log's rule (Ioflo's Log actions): `once` if it never logged; `always`;
/// `update` the first time, then when a loggee share was written after the last row; `change`
/// the first time, then when a value differs from the last seen; `streak` a row per call for
/// the first field (Flo's values are never lists to drain); `deck` nothing (no share has a
/// deck); `never` nothing.
void Runtime::writeLogs(Tasker& t) {
  using image::LogRule;
  for (auto& log : t.logs) {
    if (!log.out) continue;
    bool row = false;
    switch (log.rule) {
    case LogRule::Once:
      row = !log.logged;
      break;
    case LogRule::Always:
    case LogRule::Streak:
      row = true;
      break;
    case LogRule::Update:
      row = !log.logged;
      for (const auto& g : log.groups) {
        double st = stamps_[g.share];
        if (!std::isnan(st) && st > log.stamp) row = true;
      }
      break;
    case LogRule::Change: {
      if (!log.logged) {
        row = true;
        break;
      }
      std::size_t k = 0;
      for (const auto& g : log.groups)
        for (const auto& c : g.columns) {
          if (k < log.values.size() && !pyEqual(log.values[k], slots_[c.slot])) {
            row = true;
            log.values[k] = slots_[c.slot];
          }
          ++k;
        }
      break;
    }
    default:
      break;
    }
    if (!row) continue;
    log.logged = true;
    log.stamp = stamp_;
    std::string line = floatRepr(stamp_);
    for (const auto& g : log.groups) {
      for (const auto& c : g.columns) {
        line += "\t" + pyStr(slots_[c.slot]);
        if (log.rule == LogRule::Streak) break; // the first field only
      }
      if (log.rule == LogRule::Streak) break; // the first loggee only
    }
    std::fprintf(log.out, "%s\n", line.c_str());
  }
}

void Runtime::closeLogs(Tasker& t) {
  for (auto& log : t.logs)
    if (log.out) {
      std::fclose(log.out);
      log.out = nullptr;
    }
}

/// A logger's control turns, as Ioflo's Logger runner has them: START (re)opens, prepares and
/// logs; RUN logs; STOP logs a last time and closes unless already stopped; ABORT only closes;
/// READY only marks it readied.
Status Runtime::loggerControl(std::uint32_t t, Control c) {
  Tasker& tk = taskers_[t];
  switch (c) {
  case Control::Start:
    if (openLogs(tk)) {
      writeLogs(tk);
      tk.desire = Control::Run;
      tk.status = Status::Started;
    } else {
      closeLogs(tk);
      tk.desire = Control::Stop;
      tk.status = Status::Stopped;
    }
    break;
  case Control::Run:
    writeLogs(tk);
    tk.status = Status::Running;
    break;
  case Control::Stop:
    if (tk.status != Status::Stopped) {
      writeLogs(tk);
      closeLogs(tk);
      tk.desire = Control::Stop;
      tk.status = Status::Stopped;
    }
    break;
  case Control::Abort:
    closeLogs(tk);
    tk.desire = Control::Abort;
    tk.status = Status::Aborted;
    break;
  case Control::Ready:
    tk.status = Status::Readied;
    break;
  }
  return tk.status;
}

// ------------------------------------------------------------------------------ skedder (§9.1)

// ------------------------------------------------------------------------------ jobs

/// Starts a run when the job's trigger fires (docs/runtime.md, "Jobs"): a framer gets START
/// (its turn in this pass starts it); a deed is called once, now. Returns whether one started.
bool Runtime::startJobRun(JobRun& jr) {
  const Job& job = *jr.job;
  bool fire = false;
  switch (job.trigger) {
  case image::JobTrigger::None:
    fire = jr.started == 0;
    break;
  case image::JobTrigger::Every:
    fire = stamp_ >= jr.due - 1e-9;
    // Triggers that fell due while a run went on are skipped, not queued.
    while (fire && jr.due <= stamp_ + 1e-9) jr.due += job.every;
    break;
  case image::JobTrigger::On: {
    double w = stamps_[job.share];
    fire = !std::isnan(w) && (std::isnan(jr.seen) || w > jr.seen);
    break;
  }
  }
  if (!fire) return false;
  ++jr.started;
  jr.active = true;
  jr.passes = 0;
  jr.startStamp = stamp_;
  work_ = 0;
  trace(std::string("Job ") + job.name + ": run " + std::to_string(jr.started));
  if (job.runs == image::JobRuns::Deed) {
    counting_ = true;
    work_ += job.bound; // one call: the act that calls it and the deed's statements
    fns_[job.target](&ctx);
    counting_ = false;
    check();
    endJobRun(jr, "done");
  } else if (job.runs == image::JobRuns::Flow) {
    flows_[job.target]->resume(stamp_);
    jr.flowWork = flows_[job.target]->work();
  } else {
    taskers_[job.target].desire = Control::Start;
  }
  return true;
}

void Runtime::endJobRun(JobRun& jr, const char* how) {
  const Job& job = *jr.job;
  jr.active = false;
  if (job.trigger == image::JobTrigger::On) jr.seen = stamps_[job.share];
  if (options_.work)
    std::fprintf(stderr, "job %s: run %u at %s s: %s after %u passes, work %llu (bound %llu)\n",
                 job.name, jr.started, floatRepr(jr.startStamp).c_str(), how, jr.passes,
                 static_cast<unsigned long long>(work_),
                 static_cast<unsigned long long>(job.bound));
}

/// Whether a run can still start: a clock always ticks; a share can only be written while
/// some other tasker runs; a job without a trigger runs once.
bool Runtime::jobCanTrigger(const JobRun& jr) const {
  switch (jr.job->trigger) {
  case image::JobTrigger::None:
    return jr.started == 0;
  case image::JobTrigger::Every:
    return true;
  case image::JobTrigger::On:
    for (std::uint32_t t = 0; t < taskers_.size(); ++t) {
      if (jr.job->runs == image::JobRuns::Framer && t == jr.job->target) continue;
      auto st = taskers_[t].status;
      if (st == Status::Started || st == Status::Running) return true;
    }
    return false;
  }
  return false;
}

// ------------------------------------------------------------------------------ skedder (§9.1)

int Runtime::run(const Options& options) {
  options_ = options;
  JobRun jr;
  if (!options_.job.empty()) {
    for (const Job& j : jobs_)
      if (options_.job == j.name) jr.job = &j;
    if (!jr.job) {
      std::string names;
      for (const Job& j : jobs_) names += std::string(names.empty() ? "" : ", ") + j.name;
      std::fprintf(stderr, "error: no job named '%s' (%s)\n", options_.job.c_str(),
                   names.empty() ? "the program has no jobs" : ("jobs: " + names).c_str());
      return 2;
    }
  }
  if (!options_.feedOut.empty() && !jr.job) {
    std::fprintf(stderr, "error: --feed-out sends a job's writes: give --job\n");
    return 2;
  }
  if (!openFeeds()) return 2;
  const std::uint32_t jobTasker =
      jr.job && jr.job->runs == image::JobRuns::Framer ? jr.job->target : kNone;
  // A job's flow takes items only during its runs.
  if (jr.job && jr.job->runs == image::JobRuns::Flow) flows_[jr.job->target]->pause();
  // Paced to the wall clock, prints must show when they happen.
  if (options_.realtime) std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::signal(SIGINT, onInterrupt);
  std::signal(SIGTERM, onInterrupt);
  struct Entry {
    std::uint32_t tasker;
    double retime;
  };
  std::vector<Entry> queue;
  for (auto& h : houses_)
    for (auto t : h.queue) {
      Tasker& tk = taskers_[t];
      tk.desire = tk.schedule == Schedule::Active ? Control::Start : Control::Stop;
      queue.push_back({t, 0.0});
    }
  auto setTime = [&] {
    ctx.stamp = stamp_;
    for (auto& h : houses_) {
      FloValue v{};
      v.tag = FLO_FLOAT;
      v.u.f = stamp_;
      write(h.time, v);
    }
  };
  setTime();
  if (options_.verbose)
    for (auto& f : flows_) f->trace = [this](const std::string& line) { trace(line); };
  auto wallStart = std::chrono::steady_clock::now();
  std::size_t ran = 0; // entries of the current pass already visited
  bool failed = false;
  try {
    while (!queue.empty()) {
      bool alive = false, aborted = false;
      if (feedInOpen_) takeFeed();
      if (jr.job && !jr.active && jr.started < options_.runs) startJobRun(jr);
      const bool runPass = jr.active; // a pass of a run: its fed shares' writes are sent
      for (ran = 0; ran < queue.size(); ++ran) {
        Entry& e = queue[ran];
        Tasker& tk = taskers_[e.tasker];
        if (e.retime <= stamp_) {
          counting_ = jr.active && e.tasker == jobTasker;
          control(e.tasker, tk.desire);
          counting_ = false;
          e.retime += tk.period;
        }
        aborted |= tk.status == Status::Aborted;
      }
      // Flows run after the framers of the pass; what their sinks write, framers see next pass.
      runFlows();
      if (jr.active && jr.job->runs == image::JobRuns::Flow) {
        // A flow's run lasts its limit: then its open windows and queue go, unwritten.
        Flow& f = *flows_[jr.job->target];
        if (++jr.passes >= jr.job->limit) {
          work_ += f.work() - jr.flowWork;
          f.pause();
          endJobRun(jr, "limit reached");
        }
      } else if (jr.active) {
        // The run ends when its framer stopped (or aborted) itself, or at its limit.
        ++jr.passes;
        Tasker& tk = taskers_[jobTasker];
        bool running = tk.status == Status::Started || tk.status == Status::Running;
        if (!running && tk.desire != Control::Start) {
          endJobRun(jr, tk.status == Status::Aborted ? "aborted" : "stopped");
        } else if (jr.passes >= jr.job->limit) {
          counting_ = true;
          control(jobTasker, Control::Stop);
          counting_ = false;
          tk.desire = Control::Stop;
          endJobRun(jr, "limit reached");
        }
      }
      if (runPass && !fedShares_.empty()) sendFeed();
      // A later tasker's turn may change an earlier one's status (a fiat, an abort), so the
      // liveness test looks at every entry after the pass.
      for (const Entry& e : queue) {
        auto st = taskers_[e.tasker].status;
        alive |= st == Status::Started || st == Status::Running;
      }
      if (aborted)
        std::erase_if(queue,
                      [&](const Entry& e) { return taskers_[e.tasker].status == Status::Aborted; });
      if (jr.job) {
        // A job ends after its runs, or when no run goes on and none can start any more.
        if (!jr.active && (jr.started >= options_.runs || !jobCanTrigger(jr))) break;
        if (jobTasker != kNone && taskers_[jobTasker].status == Status::Aborted) break;
      } else if (!alive) {
        break;
      }
      if (options_.until >= 0 && stamp_ >= options_.until) break;
      if (gInterrupted) break;
      stamp_ = stamp_ + options_.period;
      if (options_.realtime) {
        auto due = wallStart + std::chrono::duration<double>(stamp_);
        std::this_thread::sleep_until(due);
      }
      setTime();
    }
  } catch (const Fault&) {
    failed = true;
    // §12.10: the still-queued taskers get ABORT, those not yet run in this pass first.
    std::rotate(queue.begin(), queue.begin() + std::ptrdiff_t(std::min(ran + 1, queue.size())),
                queue.end());
  }
  ctx.fault = 0;
  try {
    for (auto& e : queue) control(e.tasker, Control::Abort);
  } catch (const Fault&) {
    failed = true;
  }
  std::fflush(stdout);
  if (!fedShares_.empty()) std::fputs("feed: end\n", stderr);
  if (options_.stats) printFlowStats();
  if (!options_.storeFile.empty()) dumpStore(options_.storeFile);
  if (gInterrupted) {
    std::fprintf(stderr, "interrupted at %s s\n", floatRepr(stamp_).c_str());
    return 130;
  }
  if (failed || faulted_) {
    std::fprintf(stderr, "%srun-time error: %s\n", location(fault_.loc).c_str(),
                 fault_.message.c_str());
    return 1;
  }
  for (auto& h : houses_) {
    if (h.failureSlot == kNone) continue;
    const FloValue& v = slots_[h.failureSlot];
    if (truthy(v)) {
      std::string msg = v.tag == FLO_STR ? std::string(v.u.s, v.aux) : repr(v);
      std::fprintf(stderr, "failure: %s\n", msg.c_str());
      return 1;
    }
  }
  return 0;
}

void Runtime::dumpStore(const std::string& file) const {
  std::vector<std::uint32_t> order(shares_.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](auto a, auto b) {
    if (shares_[a].house != shares_[b].house) return shares_[a].house < shares_[b].house;
    return std::strcmp(shares_[a].path, shares_[b].path) < 0;
  });
  // A rear-pool clone that never ran has no shares in Ioflo's store. Clones are named per
  // template (m_r1, m_r2...), so two rear lines of one template have a clone of the same name
  // each, sharing its shares: the shares are there if either ever ran.
  std::set<std::pair<std::uint32_t, std::string>> reared;
  for (const Tasker& t : taskers_)
    if (t.everReared) reared.emplace(t.house, t.name);
  std::string text;
  for (auto i : order) {
    const Share& s = shares_[i];
    if (s.owner != kNone && s.owner < taskers_.size() && !taskers_[s.owner].everReared &&
        !reared.count({taskers_[s.owner].house, taskers_[s.owner].name}))
      continue;
    if (houses_.size() > 1) text += std::string(houses_[s.house].name) + ":";
    text += s.path;
    for (std::uint32_t k = 0; k < s.nfields; ++k)
      text += std::string(" ") + s.fields[k] + "=" + repr(slots_[s.firstSlot + k]);
    text += "\n";
  }
  if (file == "-") { // on stderr, a line a share: how a job host hands a run's store out
    for (std::size_t at = 0, end; at < text.size(); at = end + 1) {
      end = text.find('\n', at);
      std::fprintf(stderr, "store: %.*s\n", int(end - at), text.data() + at);
    }
    return;
  }
  std::string tmp = file + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << text;
    if (!f.flush()) {
      std::fprintf(stderr, "cannot write the store to '%s'\n", file.c_str());
      return;
    }
  }
  std::rename(tmp.c_str(), file.c_str());
}

} // namespace flo::rt
