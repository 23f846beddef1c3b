/// \file
/// `fog job run DIR NAME`: runs a job from a bundle on this machine with the job host
/// (runtime/host), as a fogger will: the object for this architecture is checked against the
/// manifest's sha256 first, and refused on a mismatch, and the job runs in the host's sandbox
/// (limits from --memory and --cpu; --no-sandbox for debugging a job, never for a stranger's).
#include "fog/commands.h"
#include "runtime/host/host.h"

#include <CLI/CLI.hpp>

#include <ostream>

namespace flo::fog {

void addJobRunOptions(CLI::App& app, Options& o) {
  app.add_option("bundle", o.bundleDir, "the bundle's folder (floc build --bundle -o DIR)")
      ->required();
  app.add_option("job", o.job, "the job to run")->required();
  app.add_option("--runs", o.runs, "end after N runs (default 3)")
      ->check(CLI::Range(1u, 1000000000u));
  app.add_flag("--work", o.work, "print each run's measured work and its static bound");
  app.add_option("--memory", o.jobMemoryMiB,
                 "the job's address space in MiB (default 256; 0: no limit)");
  app.add_option("--cpu", o.jobCpuSeconds,
                 "the job's CPU time in seconds (default 10; 0: no limit)");
  app.add_flag("--no-sandbox", o.noSandbox,
               "run the job without the sandbox (only a job you trust)");
}

int jobRun(Context& c) {
  std::string error;
  host::RunOptions ro;
  ro.runs = c.options.runs;
  ro.work = c.options.work;
  ro.limits.memoryMiB = c.options.jobMemoryMiB;
  ro.limits.cpuSeconds = c.options.jobCpuSeconds;
  ro.limits.enabled = !c.options.noSandbox;
  c.out.flush();
  auto rc = host::runJob(c.options.bundleDir, c.options.job, ro, error);
  if (!rc) return c.fail(error);
  return *rc;
}

} // namespace flo::fog
