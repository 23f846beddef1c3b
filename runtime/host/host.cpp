/// \file
/// The job host (host.h): manifest, hash check, memory-file load, one child per job.
#include "runtime/host/host.h"

#include "runtime/host/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <dlfcn.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace flo::host {

namespace {

std::optional<std::string> readAll(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

/// A file name inside the bundle: no directories, so a manifest cannot point elsewhere.
bool plainName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

} // namespace

std::string hostTriple() {
#if defined(__x86_64__)
  return "x86_64-linux-gnu";
#elif defined(__aarch64__)
  return "aarch64-linux-gnu";
#else
  return "unknown";
#endif
}

std::string hostArch() {
  std::string t = hostTriple();
  return t.substr(0, t.find('-'));
}

std::optional<Manifest> readManifest(const std::string& dir, std::string& error) {
  auto path = std::filesystem::path(dir) / "manifest.json";
  auto text = readAll(path);
  if (!text) return error = "cannot read '" + path.string() + "'", std::nullopt;
  auto j = nlohmann::json::parse(*text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("targets") || !j["targets"].is_object() ||
      !j.contains("jobs") || !j["jobs"].is_array())
    return error = "'" + path.string() + "' is not a bundle manifest", std::nullopt;
  Manifest m;
  m.compiler = j.value("compiler", "");
  m.source = j.value("source", "");
  m.sourceSha256 = j.value("source_sha256", "");
  for (const auto& [triple, t] : j["targets"].items()) {
    if (!t.is_object() || !t.contains("file") || !t["file"].is_string() || !t.contains("sha256") ||
        !t["sha256"].is_string() || !plainName(t["file"].get<std::string>()))
      return error = "manifest target '" + triple + "' is malformed", std::nullopt;
    m.targets[triple] = {t["file"].get<std::string>(), t["sha256"].get<std::string>()};
  }
  for (const auto& job : j["jobs"]) {
    if (!job.is_object() || !job.contains("name") || !job["name"].is_string()) continue;
    m.jobs.push_back(job["name"].get<std::string>());
    if (job.contains("needs") && job["needs"].is_object() && job["needs"].contains("arch") &&
        job["needs"]["arch"].is_string())
      m.jobArch[m.jobs.back()] = job["needs"]["arch"].get<std::string>();
  }
  return m;
}

std::optional<std::string> checkedObject(const std::string& dir, const Manifest& m,
                                         const std::string& triple, std::string& error) {
  auto t = m.targets.find(triple);
  if (t == m.targets.end()) {
    std::string have;
    for (const auto& [name, x] : m.targets) have += (have.empty() ? "" : ", ") + name;
    error = "the bundle has no object for " + triple +
            " (it has: " + (have.empty() ? "none" : have) + ")";
    return std::nullopt;
  }
  auto path = std::filesystem::path(dir) / t->second.file;
  auto bytes = readAll(path);
  if (!bytes) return error = "cannot read '" + path.string() + "'", std::nullopt;
  std::string actual = sha256Hex(bytes->data(), bytes->size());
  if (actual != t->second.sha256) {
    error = "'" + path.string() + "' does not match the manifest (sha256 " + actual +
            ", the manifest says " + t->second.sha256 + "); refusing to run it";
    return std::nullopt;
  }
  return bytes;
}

std::optional<int> runJob(const std::string& dir, const std::string& job, const RunOptions& o,
                          std::string& error) {
  auto m = readManifest(dir, error);
  if (!m) return std::nullopt;
  if (std::find(m->jobs.begin(), m->jobs.end(), job) == m->jobs.end()) {
    std::string have;
    for (const auto& n : m->jobs) have += (have.empty() ? "" : ", ") + n;
    error = "the bundle has no job '" + job + "' (jobs: " + (have.empty() ? "none" : have) + ")";
    return std::nullopt;
  }
  // A fogger is matched to a job's needs; run here, the job must not need another machine.
  if (auto arch = m->jobArch.find(job);
      arch != m->jobArch.end() && arch->second != "any" && arch->second != hostArch()) {
    error = "job '" + job + "' needs arch " + arch->second + "; this machine is " + hostArch();
    return std::nullopt;
  }
  auto bytes = checkedObject(dir, *m, hostTriple(), error);
  if (!bytes) return std::nullopt;
  // The checked bytes go into a memory file, and that is what the loader maps.
  int fd = memfd_create("flo-bundle", MFD_CLOEXEC);
  if (fd < 0) return error = "cannot make a memory file for the object", std::nullopt;
  for (std::size_t done = 0; done < bytes->size();) {
    ssize_t n = write(fd, bytes->data() + done, bytes->size() - done);
    if (n <= 0) {
      close(fd);
      return error = "cannot write the object to a memory file", std::nullopt;
    }
    done += std::size_t(n);
  }
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t child = fork();
  if (child < 0) {
    close(fd);
    return error = "cannot start a process for the job", std::nullopt;
  }
  if (child == 0) {
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    void* so = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!so) {
      std::fprintf(stderr, "error: cannot load the job's object: %s\n", dlerror());
      _exit(3);
    }
    using Entry = int (*)(int, char**);
    auto entry = reinterpret_cast<Entry>(dlsym(so, "flo_bundle_main"));
    if (!entry) {
      std::fprintf(stderr, "error: the object has no flo_bundle_main\n");
      _exit(3);
    }
    std::string runs = std::to_string(o.runs);
    std::vector<std::string> args = {m->source.empty() ? "job" : m->source, "--job", job, "--runs",
                                     runs};
    if (o.work) args.emplace_back("--work");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = entry(int(args.size()), argv.data());
    std::fflush(stdout);
    std::fflush(stderr);
    _exit(rc);
  }
  close(fd);
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR) return error = "lost the job's process", std::nullopt;
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 3)
      return error = "the job's object could not be loaded", std::nullopt;
    return WEXITSTATUS(status);
  }
  error = "the job's process ended by signal " + std::to_string(WTERMSIG(status));
  return std::nullopt;
}

} // namespace flo::host
