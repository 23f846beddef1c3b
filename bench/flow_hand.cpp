/// \file
/// The hand-written peer of the flow benchmark (bench/flow_bench.py): the same work as
/// bench's generated flow, written as one C++ loop. Items are clock ticks at k * PERIOD seconds,
/// taken in passes of 0.125 s (each tick in the first pass at or after it, stamped with the
/// pass's time); each is mapped through ctof (c * 9 / 5 + 32), kept when 32 < f < 1e12, and
/// averaged over tumbling 1 s windows of pass time, each written when its window closes.
///
///   flo_flow_hand PERIOD UNTIL     prints: items, windows, last mean, seconds, items/s
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s PERIOD UNTIL\n", argv[0]);
    return 2;
  }
  const double period = std::atof(argv[1]), until = std::atof(argv[2]);
  const double pass = 0.125, window = 1.0;
  auto start = std::chrono::steady_clock::now();
  unsigned long long items = 0, windows = 0;
  double sum = 0, last = 0, open = -1;
  unsigned long long n = 0, k = 0; // tick k is at k * period, as the flow's clock computes it
  for (double t = 0; t <= until; t += pass) {
    if (open >= 0 && open + window <= t) { // the window closes at the first pass after it
      if (n) last = sum / double(n), ++windows;
      open = -1, sum = 0, n = 0;
    }
    for (double next; (next = double(k) * period) <= t; ++k) {
      ++items;
      double f = next * 9.0 / 5.0 + 32.0;
      if (!(f > 32.0 && f < 1e12)) continue;
      if (open < 0) open = std::floor(t / window) * window;
      sum += f;
      ++n;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu %llu %.17g %.9f %.1f\n", items, windows, last, secs, double(items) / secs);
  return 0;
}
