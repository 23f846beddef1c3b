// Front-end benchmark: parse + check throughput (lines/s, one core) and peak memory per 10,000
// lines. Usage: flo_frontend_bench FILE.flo [--runs N]
// Generate FILE with bench/gen_floscript.py. Throughput is the best of N runs (wall clock,
// steady_clock); memory is the growth of the peak resident set (getrusage ru_maxrss) over the
// first run, measured after the file has been read, so it counts the source copy, tokens, parse
// trees, AST, diagnostics and the checker's model.
#include "compiler/sema/check.h"
#include "lang/diagnostics.h"
#include "lang/parser.h"
#include "lang/source_manager.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/resource.h>

namespace {

long maxRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss; // kilobytes on Linux
}

struct RunResult {
  double seconds = 0;
  std::size_t errors = 0, warnings = 0, statements = 0;
};

RunResult runOnce(const std::string& text) {
  RunResult r;
  auto start = std::chrono::steady_clock::now();
  flo::lang::SourceManager sources;
  flo::lang::FileId file = sources.addBuffer("bench.flo", text);
  flo::lang::Diagnostics diags(sources);
  flo::lang::ParseOptions options;
  options.followLoads = false;
  auto program = flo::lang::parseProgram(sources, file, diags, options);
  if (program) {
    auto model = flo::sema::check(*program, diags);
    for (const auto& m : program->modules) r.statements += m->stmts.size();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.errors = diags.errorCount();
  r.warnings = diags.warningCount();
  return r;
}

} // namespace

int main(int argc, char** argv) {
  const char* path = nullptr;
  int runs = 5;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
      runs = std::max(1, std::atoi(argv[++i]));
    else if (!path)
      path = argv[i];
    else {
      std::fprintf(stderr, "usage: %s FILE.flo [--runs N]\n", argv[0]);
      return 2;
    }
  }
  if (!path) {
    std::fprintf(stderr,
                 "usage: %s FILE.flo [--runs N]\n"
                 "  (make FILE with bench/gen_floscript.py 1000000 -o FILE)\n",
                 argv[0]);
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", path);
    return 2;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = std::move(buf).str();
  std::size_t lines = std::count(text.begin(), text.end(), '\n');
  if (!text.empty() && text.back() != '\n') ++lines;

  const long rssBefore = maxRssKb();
  double best = 1e300, total = 0;
  RunResult first;
  long rssDeltaKb = 0;
  for (int i = 0; i < runs; ++i) {
    RunResult r = runOnce(text);
    if (i == 0) {
      first = r;
      rssDeltaKb = maxRssKb() - rssBefore;
    }
    best = std::min(best, r.seconds);
    total += r.seconds;
  }
  const double lps = lines / best;
  const double mbPer10k = rssDeltaKb / 1024.0 * 10000.0 / double(lines);
  std::printf("file:               %s (%zu lines, %.1f MB)\n", path, lines, text.size() / 1e6);
  std::printf("declarations:       %zu (errors %zu, warnings %zu)\n", first.statements,
              first.errors, first.warnings);
  std::printf("runs:               %d (best %.3f s, mean %.3f s)\n", runs, best, total / runs);
  std::printf("throughput:         %.0f lines/s (parse + check, one core, best run)\n", lps);
  std::printf("  vs target 200k:   %.2fx\n", lps / 200000.0);
  std::printf("  vs Ioflo ~25k:    %.2fx\n", lps / 25000.0);
  std::printf("peak memory:        +%.1f MB over the run (ru_maxrss), %.2f MB per 10,000 lines\n",
              rssDeltaKb / 1024.0, mbPer10k);
  return first.errors == 0 ? 0 : 1;
}
