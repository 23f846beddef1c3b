/// \file
/// The job host (host.h): manifest, hash check, memory-file load; the child is child.cpp.
#include "runtime/host/host.h"

#include "runtime/host/child.h"
#include "runtime/host/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sys/mman.h>
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
                          std::string& error, RunReport* report) {
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
  auto rc = runInChild(fd, *m, job, o, error, report);
  close(fd);
  return rc;
}

} // namespace flo::host
