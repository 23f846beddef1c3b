/// \file
/// `fog job run DIR NAME`: runs a job from a bundle on this machine with the job host
/// (runtime/host), as a fogger will: the object for this architecture is checked against the
/// manifest's sha256 first, and refused on a mismatch.
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
}

int jobRun(Context& c) {
  std::string error;
  host::RunOptions ro;
  ro.runs = c.options.runs;
  ro.work = c.options.work;
  c.out.flush();
  auto rc = host::runJob(c.options.bundleDir, c.options.job, ro, error);
  if (!rc) return c.fail(error);
  return *rc;
}

} // namespace flo::fog
