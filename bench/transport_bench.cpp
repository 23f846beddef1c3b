/// \file
/// `flo_transport_bench`: the transport benchmark (net_bench.h) from the command line.
/// Usage: flo_transport_bench [--small N] [--large M] [--pairs P] [--runs R] [--seconds S]
///                            [--loss X] [--lossy L] [--seed Z] [--rotations R] [--only abcde]
///                            [--no-pacing] (first)
/// Exit status 0 when every phase completed, 1 when one failed, 2 on a usage error.
/// `fog bench net` runs the same phases with smaller defaults and can print JSON.
#include "bench/net_bench.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

int main(int argc, char** argv) {
  flo::bench::NetBenchOptions o;
  int first = 1;
  while (first < argc && std::strcmp(argv[first], "--no-pacing") == 0) {
    o.pacing = false;
    ++first;
  }
  bool bad = (argc - first) % 2 != 0;
  for (int i = first; i + 1 < argc && !bad; i += 2) {
    const char* value = argv[i + 1];
    if (std::strcmp(argv[i], "--small") == 0)
      o.small = std::strtoull(value, nullptr, 10);
    else if (std::strcmp(argv[i], "--large") == 0)
      o.large = std::strtoull(value, nullptr, 10);
    else if (std::strcmp(argv[i], "--pairs") == 0)
      o.pairs = std::strtoull(value, nullptr, 10);
    else if (std::strcmp(argv[i], "--runs") == 0)
      o.runs = std::atoi(value);
    else if (std::strcmp(argv[i], "--seconds") == 0)
      o.seconds = std::atof(value);
    else if (std::strcmp(argv[i], "--loss") == 0)
      o.loss = std::atof(value);
    else if (std::strcmp(argv[i], "--lossy") == 0)
      o.lossy = std::strtoull(value, nullptr, 10);
    else if (std::strcmp(argv[i], "--seed") == 0)
      o.seed = std::strtoull(value, nullptr, 10);
    else if (std::strcmp(argv[i], "--only") == 0)
      o.phases = value;
    else if (std::strcmp(argv[i], "--rotations") == 0)
      o.rotations = std::strtoull(value, nullptr, 10);
    else
      bad = true;
  }
  if (std::string why = bad ? "" : flo::bench::validate(o); bad || !why.empty()) {
    if (!why.empty()) std::fprintf(stderr, "flo_transport_bench: %s\n", why.c_str());
    std::fprintf(stderr, "usage: flo_transport_bench [--no-pacing] [--small N] [--large M] "
                         "[--pairs P] [--runs R] [--seconds S] [--loss X] [--lossy L] "
                         "[--seed Z] [--rotations R] [--only abcde]\n");
    return 2;
  }
  return flo::bench::runNetBench(o, std::cout).ok ? 0 : 1;
}
