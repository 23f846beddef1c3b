/// \file
/// flo-host: the job host as a program of its own, for machines without fog (and the aarch64
/// bundle test, run under qemu):
///   flo-host DIR JOB [--runs N] [--work] [--store] [--memory MIB] [--cpu SECONDS] [--file-size
///   MIB]
///                    [--feed-out PATTERN]... [--feed-in] [--no-sandbox] [--no-seccomp] [-v]
/// `-v` says on stderr which sandbox layers applied; `--no-seccomp` keeps every layer but the
/// filter (the tests use it to prove the others hold alone). Exit status: the job's, or 2 when the
/// bundle is refused or the job was ended by its sandbox (the reason is on stderr).
#include "runtime/host/host.h"

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

/// A whole number option value; false when it is not one.
bool number(const char* text, std::uint64_t& out) {
  char* end = nullptr;
  out = std::strtoull(text, &end, 10);
  return *text >= '0' && *text <= '9' && *end == '\0';
}

} // namespace

int main(int argc, char** argv) {
  flo::host::RunOptions o;
  std::string dir, job;
  bool verbose = false, bad = false;
  for (int i = 1; i < argc && !bad; ++i) {
    std::string a = argv[i];
    std::uint64_t n = 0;
    bool valued = a == "--runs" || a == "--memory" || a == "--cpu" || a == "--file-size";
    if (valued && (i + 1 >= argc || !number(argv[++i], n))) {
      bad = true;
    } else if (a == "--runs") {
      o.runs = std::uint32_t(n);
    } else if (a == "--memory") {
      o.limits.memoryMiB = n;
    } else if (a == "--cpu") {
      o.limits.cpuSeconds = n;
    } else if (a == "--file-size") {
      o.limits.fileSizeMiB = n;
    } else if (a == "--feed-out") {
      if (i + 1 >= argc)
        bad = true;
      else
        o.feedOut.emplace_back(argv[++i]);
    } else if (a == "--feed-in") {
      o.feedIn = true;
    } else if (a == "--no-seccomp") {
      o.limits.seccomp = false;
    } else if (a == "--no-sandbox") {
      o.limits.enabled = false;
    } else if (a == "--work") {
      o.work = true;
    } else if (a == "--store") {
      o.store = true;
    } else if (a == "-v") {
      verbose = true;
    } else if (dir.empty()) {
      dir = a;
    } else if (job.empty()) {
      job = a;
    } else {
      bad = true;
    }
  }
  if (bad || dir.empty() || job.empty() || o.runs == 0) {
    std::fprintf(
        stderr,
        "usage: %s DIR JOB [--runs N] [--work] [--store] [--memory MIB] [--cpu SECONDS] "
        "[--file-size MIB] [--feed-out PATTERN]... [--feed-in] [--no-sandbox] [--no-seccomp] "
        "[-v]\n",
        argv[0]);
    return 2;
  }
  std::string error;
  flo::host::RunReport report;
  auto rc = flo::host::runJob(dir, job, o, error, &report);
  if (verbose)
    std::fprintf(stderr, "flo-host: sandbox: %s\n",
                 report.sandbox.empty() ? "none" : report.sandbox.c_str());
  if (!rc) {
    std::fprintf(stderr, "flo-host: error: %s\n", error.c_str());
    return 2;
  }
  return *rc;
}
