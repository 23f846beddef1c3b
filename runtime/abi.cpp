/// \file
/// The C ABI entry points (runtime/abi.h): thin wrappers that find the runtime through the
/// context, plus the executable's command line.
#include "runtime/abi.h"

#include "runtime/runtime.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

using flo::rt::Runtime;

namespace {

Runtime& rt(FloCtx* ctx) {
  return *static_cast<Runtime*>(ctx->rt);
}

const char* kUsage =
    "usage: %s [options]\n"
    "Runs the Flo program built into this executable under FloScript's skedder.\n\n"
    "  --period SECONDS   simulated time per pass (default 0.125)\n"
    "  --realtime         pace passes to the wall clock\n"
    "  --until SECONDS    stop after the pass at this simulated time\n"
    "  --store FILE       write the final store to FILE (one share per line; -: on stderr,\n"
    "                     each line prefixed with store: )\n"
    "  --stats            print what each flow counted (items, drops, windows) on stderr\n"
    "  --job NAME         run job NAME: its trigger starts each run (clock of 0.125 s)\n"
    "  --runs N           with --job: end after N runs (default 3)\n"
    "  --work             with --job: print each run's work and its static bound on stderr\n"
    "  --feed-out PATTERN with --job: print the writes of the shares PATTERN matches (.a.*.b)\n"
    "                     during the job's runs on stderr, a `feed: ` line each\n"
    "  --feed-in          write the items of the feed lines read on stdin as they fall due\n"
    "  -v, --verbose      trace starts, stops, transitions and flow windows on stderr\n"
    "  -h, --help         show this help\n\n"
    "Prints go to stdout. Exit status: 0, or 1 when the program sets .meta.failure or stops\n"
    "with a run-time error, 2 for a usage error.\n";

bool parseDouble(const char* s, double& out) {
  char* end = nullptr;
  out = std::strtod(s, &end);
  return end && *end == '\0' && end != s && std::isfinite(out);
}

} // namespace

extern "C" {

int32_t flo_truthy(const FloValue* v) {
  return flo::rt::truthy(*v);
}

int32_t flo_compare(FloCtx* ctx, uint32_t op, const FloValue* state, const FloValue* goal,
                    double tol, uint32_t loc) {
  std::string error;
  auto r = flo::rt::compare(FloCmp(op), *state, *goal, std::fabs(tol), error);
  if (!r) {
    rt(ctx).fault(loc, error);
    return 0;
  }
  return *r;
}

void flo_inc(FloCtx* ctx, uint32_t dst_share, uint32_t n, const uint32_t* dst,
             const FloValue* const* deltas, uint32_t from_source, uint32_t loc) {
  rt(ctx).inc(dst_share, n, dst, deltas, from_source != 0, loc);
}

int32_t flo_need_done(FloCtx* ctx, uint32_t tasker) {
  return rt(ctx).needDone(tasker);
}

int32_t flo_need_status(FloCtx* ctx, uint32_t tasker, uint32_t status) {
  return rt(ctx).needStatus(tasker, status);
}

int32_t flo_need_aux(FloCtx* ctx, uint32_t frame, uint32_t all) {
  return rt(ctx).needAux(frame, all != 0);
}

int32_t flo_need_updated(FloCtx* ctx, uint32_t share, uint32_t mark) {
  return rt(ctx).needUpdated(share, mark);
}

int32_t flo_need_changed(FloCtx* ctx, uint32_t share, uint32_t mark) {
  return rt(ctx).needChanged(share, mark);
}

double flo_in_f64(FloCtx* ctx, const FloValue* v, uint32_t loc) {
  if (v->tag == FLO_FLOAT) return v->u.f;
  if (v->tag == FLO_INT || v->tag == FLO_BOOL) return double(v->u.i);
  rt(ctx).fault(loc, "deed input needs a number (f64), the store holds " + flo::rt::repr(*v));
  return 0;
}

int64_t flo_in_i64(FloCtx* ctx, const FloValue* v, uint32_t loc) {
  if (v->tag == FLO_INT || v->tag == FLO_BOOL) return v->u.i;
  if (v->tag == FLO_FLOAT && v->u.f == std::trunc(v->u.f) && std::fabs(v->u.f) < 9.2e18)
    return int64_t(v->u.f);
  rt(ctx).fault(loc, "deed input needs an integer (i64), the store holds " + flo::rt::repr(*v));
  return 0;
}

int32_t flo_in_bool(FloCtx* ctx, const FloValue* v, uint32_t loc) {
  if (v->tag == FLO_BOOL) return v->u.i != 0;
  rt(ctx).fault(loc, "deed input needs a boolean, the store holds " + flo::rt::repr(*v));
  return 0;
}

void flo_written(FloCtx* ctx, uint32_t share) {
  rt(ctx).written(share);
}

void flo_fault(FloCtx* ctx, uint32_t loc, const char* message) {
  rt(ctx).fault(loc, message);
}

double flo_math(uint32_t fn, double a, double b) {
  switch (fn) {
  case 0:
    return std::fabs(a);
  case 1:
    return std::sqrt(a);
  case 2:
    return std::floor(a);
  case 3:
    return std::ceil(a);
  case 4:
    return std::round(a);
  case 5:
    return std::exp(a);
  case 6:
    return std::log(a);
  case 7:
    return std::sin(a);
  case 8:
    return std::cos(a);
  case 9:
    return std::fmin(a, b);
  case 10:
    return std::fmax(a, b);
  case 11:
    return std::fmod(a, b);
  case 12:
    return std::pow(a, b);
  }
  return 0;
}

[[gnu::cold]] int flo_rt_main(int argc, char** argv, const uint32_t* image, uint32_t image_words,
                              const char* strings, uint32_t strings_size, const FloFn* fns,
                              uint32_t nfns) {
  static char outbuf[1 << 16];
  std::setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
  flo::rt::Options o;
  const char* prog = argc > 0 ? argv[0] : "flo-program";
  bool periodGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* what) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: error: %s needs %s\n", prog, a.c_str(), what);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "-h" || a == "--help") {
      std::printf(kUsage, prog);
      return 0;
    } else if (a == "--period") {
      periodGiven = true;
      if (!parseDouble(value("a number of seconds"), o.period) || o.period < 0) {
        std::fprintf(stderr, "%s: error: --period needs a number of seconds >= 0\n", prog);
        return 2;
      }
    } else if (a == "--until") {
      if (!parseDouble(value("a number of seconds"), o.until)) {
        std::fprintf(stderr, "%s: error: --until needs a number of seconds\n", prog);
        return 2;
      }
    } else if (a == "--job") {
      o.job = value("a job name");
    } else if (a == "--runs") {
      double runs = 0;
      if (!parseDouble(value("a number of runs"), runs) || runs < 1 || runs > 1e9 ||
          runs != std::floor(runs)) {
        std::fprintf(stderr, "%s: error: --runs needs a whole number of runs >= 1\n", prog);
        return 2;
      }
      o.runs = static_cast<std::uint32_t>(runs);
    } else if (a == "--work") {
      o.work = true;
    } else if (a == "--feed-out") {
      o.feedOut.emplace_back(value("a share path pattern"));
    } else if (a == "--feed-in") {
      o.feedIn = true;
    } else if (a == "--realtime") {
      o.realtime = true;
    } else if (a == "--stats") {
      o.stats = true;
    } else if (a == "-v" || a == "--verbose") {
      o.verbose = true;
    } else if (a == "--store") {
      o.storeFile = value("a file name");
    } else {
      std::fprintf(stderr, "%s: error: unknown option '%s' (try --help)\n", prog, a.c_str());
      return 2;
    }
  }
  if (!o.job.empty() && periodGiven) {
    // A job's limit and bound count passes of the job clock (docs/runtime.md, "Jobs").
    std::fprintf(stderr, "%s: error: a job runs on a clock of 0.125 s per pass; drop --period\n",
                 prog);
    return 2;
  }
  try {
    Runtime runtime(image, image_words, strings, strings_size, fns, nfns);
    return runtime.run(o);
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "%s: internal error: %s\n", prog, e.what());
    return 2;
  }
}

} // extern "C"
