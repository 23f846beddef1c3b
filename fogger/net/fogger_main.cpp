/// \file
/// fogger: the fogger daemon as a program of its own, for machines without fog, and the aarch64
/// build that `fog up` runs under qemu (docs/deploy.md, "The aarch64 fogger"):
///   fogger --config FILE [--pid-file FILE]
/// It does what `fog fogger` does (both call runFogger) and links only the daemon's layers (core,
/// the pool's wire and client, fogger/): no ledger, contract machine or compiler. Exit status:
/// the daemon's, or 2 for a usage error or a config that does not load.
#include <iostream>
#include <string>

#include "fogger/net/daemon.h"

namespace {

constexpr int kUsage = 2;

constexpr const char* kHelp = "fogger: runs jobs for deployers on a pool (docs/deploy.md)\n"
                              "usage: fogger --config FILE [--pid-file FILE]\n"
                              "  --config FILE    the fogger's config (JSON; fog up writes one)\n"
                              "  --pid-file FILE  write the process id here once registered\n"
                              "  -h, --help       this help\n";

int usage(const std::string& message) {
  std::cerr << "fogger: error: " << message << "\n"
            << "usage: fogger --config FILE [--pid-file FILE] (fogger --help says more)\n";
  return kUsage;
}

} // namespace

int main(int argc, char** argv) {
  std::string config, pidFile;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-h" || a == "--help") {
      std::cout << kHelp;
      return 0;
    }
    std::string* target = a == "--config" ? &config : a == "--pid-file" ? &pidFile : nullptr;
    if (!target) return usage("unknown argument " + a);
    if (i + 1 >= argc) return usage(a + " needs a value");
    *target = argv[++i];
  }
  if (config.empty()) return usage("--config is required");
  std::string error;
  auto loaded = flo::fogger::FoggerConfig::load(config, error);
  if (!loaded) {
    std::cerr << "fogger: error: " << error << "\n";
    return kUsage;
  }
  return flo::fogger::runFogger(*loaded, pidFile, std::cerr);
}
