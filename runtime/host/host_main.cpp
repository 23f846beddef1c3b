/// \file
/// flo-host: the job host as a program of its own, `flo-host DIR JOB [--runs N] [--work]`, for
/// machines without fog (and the aarch64 bundle test, run under qemu). Exit status: the job's,
/// or 2 when the bundle is refused.
#include "runtime/host/host.h"

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  flo::host::RunOptions o;
  std::string dir, job;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      o.runs = std::uint32_t(std::strtoul(argv[++i], nullptr, 10));
    } else if (a == "--work") {
      o.work = true;
    } else if (dir.empty()) {
      dir = a;
    } else if (job.empty()) {
      job = a;
    } else {
      dir.clear();
      break;
    }
  }
  if (dir.empty() || job.empty() || o.runs == 0) {
    std::fprintf(stderr, "usage: %s DIR JOB [--runs N] [--work]\n", argv[0]);
    return 2;
  }
  std::string error;
  auto rc = flo::host::runJob(dir, job, o, error);
  if (!rc) {
    std::fprintf(stderr, "flo-host: error: %s\n", error.c_str());
    return 2;
  }
  return *rc;
}
