/// \file
/// `fog bench net`: the transport benchmark (bench/net_bench.h) from the installed command, so
/// that anyone can measure a machine the way docs/benchmarks.md does. The defaults take about
/// 15 s on two cores; --quick takes a few seconds and is what the tests run.
#include "fog/commands.h"

#include <CLI/CLI.hpp>

#include <ostream>

namespace flo::fog {

namespace {

/// The figures `fog bench net` runs by default: flo_transport_bench's, with fewer pairs.
bench::NetBenchOptions defaultBench() {
  bench::NetBenchOptions b;
  b.pairs = 100;
  return b;
}

/// --quick: every phase, small enough for a test.
bench::NetBenchOptions quickBench() {
  bench::NetBenchOptions b;
  b.small = 20'000;
  b.large = 8;
  b.pairs = 20;
  b.lossy = 2;
  b.runs = 1;
  b.seconds = 30;
  return b;
}

/// An option that, when given, sets one field of the benchmark's options.
template <typename T>
void benchOption(CLI::App& app, Options& o, const std::string& name,
                 T bench::NetBenchOptions::* field, const std::string& help) {
  app.add_option_function<T>(
      name,
      [&o, field](const T& v) { o.benchGiven.push_back([field, v](auto& b) { b.*field = v; }); },
      help);
}

} // namespace

void addBenchNetOptions(CLI::App& app, Options& o) {
  const auto q = quickBench();
  const auto d = defaultBench();
  app.add_flag("--json", o.json,
               "print one JSON object with the figures on stdout (the tables go to stderr)");
  app.add_flag("--quick", o.quick,
               "a run of a few seconds: " + std::to_string(q.small) + " small and " +
                   std::to_string(q.large) + " large messages, " + std::to_string(q.pairs) +
                   " pairs, 1 run");
  benchOption(app, o, "--small", &bench::NetBenchOptions::small,
              "(a) 256-byte messages (default " + std::to_string(d.small) + ")");
  benchOption(app, o, "--large", &bench::NetBenchOptions::large,
              "(b) 1 MiB messages (default " + std::to_string(d.large) + ")");
  benchOption(app, o, "--pairs", &bench::NetBenchOptions::pairs,
              "(c, e) fresh node pairs for the handshake and first contact (default " +
                  std::to_string(d.pairs) + ")");
  benchOption(app, o, "--lossy", &bench::NetBenchOptions::lossy,
              "(d) 1 MiB messages under loss (default " + std::to_string(d.lossy) + ")");
  benchOption(app, o, "--loss", &bench::NetBenchOptions::loss,
              "(d) share of datagrams dropped each way (default 0.2)");
  benchOption(app, o, "--runs", &bench::NetBenchOptions::runs,
              "throughput phases report the best of this many runs (default " +
                  std::to_string(d.runs) + ")");
  benchOption(app, o, "--seconds", &bench::NetBenchOptions::seconds,
              "cap on every wait, seconds (default 60)");
  benchOption(app, o, "--seed", &bench::NetBenchOptions::seed,
              "(d) seed of the loss shim (default 1)");
  benchOption(app, o, "--rotations", &bench::NetBenchOptions::rotations,
              "(e) rotations in each key event log (default 3)");
  benchOption(app, o, "--only", &bench::NetBenchOptions::phases,
              "phases to run, among abcde (default all): a 256 B, b 1 MiB, c handshake, "
              "d lossy, e first contact");
  app.add_flag_callback(
      "--no-pacing",
      [&o] { o.benchGiven.push_back([](bench::NetBenchOptions& b) { b.pacing = false; }); },
      "turn the transport's pacing off");
}

int benchNet(Context& c) {
  const Options& o = c.options;
  bench::NetBenchOptions b = o.quick ? quickBench() : defaultBench();
  for (const auto& set : o.benchGiven) set(b);
  if (std::string why = bench::validate(b); !why.empty()) return c.fail(why, kUsage);
  bench::NetBenchResult result = bench::runNetBench(b, o.json ? c.err : c.out);
  if (o.json) c.out << bench::toJson(result).dump(2) << "\n";
  if (!result.ok) return c.fail("a phase did not complete (see FAILED above)");
  return kOk;
}

} // namespace flo::fog
