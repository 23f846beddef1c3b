/// \file
/// A local fog's folder and its replica processes (see local_fog.h).
#include "fog/local_fog.h"

#include "core/os/files.h"
#include "core/store/keystore.h"
#include "pool/net/replica_daemon.h"
#include "runtime/host/host.h"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace flo::fog {

namespace fs = std::filesystem;

namespace {

/// A UDP port on 127.0.0.1 that is free now (bound, read and released).
std::optional<std::uint16_t> freeUdpPort() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  std::optional<std::uint16_t> port;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(fd);
  return port;
}

bool writeText(const fs::path& path, const std::string& text, std::string& error) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text << "\n";
    if (!out.flush()) return error = "cannot write " + path.string(), false;
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return error = "cannot write " + path.string() + ": " + ec.message(), false;
  return true;
}

std::optional<std::string> readText(const fs::path& path) {
  return core::readWholeFile(path);
}

/// The state letter of a /proc stat file (`R`, `S`, `Z`...); nullopt when it cannot be read.
std::optional<char> stateIn(const fs::path& stat) {
  auto text = readText(stat);
  if (!text) return std::nullopt;
  auto close = text->rfind(')');
  if (close == std::string::npos || close + 2 >= text->size()) return std::nullopt;
  return (*text)[close + 2];
}

bool alive(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return false;
  // A zombie is not running: look at its state.
  return stateIn("/proc/" + std::to_string(pid) + "/stat").value_or('R') != 'Z';
}

/// Whether every thread of `pid` has exited (a zombie, or gone): its socket and files are then
/// free. A task folder that cannot be read counts as exited once the process is gone.
bool exited(pid_t pid) {
  std::error_code ec;
  const fs::path proc = "/proc/" + std::to_string(pid);
  fs::directory_iterator it(proc / "task", ec);
  if (ec) return !fs::exists(proc, ec);
  for (const auto& t : it) {
    auto state = stateIn(t.path() / "stat");
    if (state && *state != 'Z' && *state != 'X') return false; // (unread: gone meanwhile)
  }
  return true;
}

/// qemu-aarch64 with the aarch64 system root, the prefix of a command that runs an aarch64
/// program on another machine; empty when qemu is not installed.
std::vector<std::string> underQemuAarch64() {
  for (const char* dir : {"/usr/bin", "/usr/local/bin"})
    if (fs::exists(fs::path(dir) / "qemu-aarch64"))
      return {(fs::path(dir) / "qemu-aarch64").string(), "-L", "/usr/aarch64-linux-gnu"};
  return {};
}

/// The program that runs a job for `arch` here: the job host built for it, natively or under
/// qemu-aarch64 on another machine. Empty when there is none.
std::vector<std::string> executorFor(const std::string& arch) {
  fs::path bin = fs::path(selfExecutable()).parent_path();
  std::string native = host::hostArch();
  if (arch == native) return {(bin / "flo-host").string()};
  if (arch == "aarch64" && fs::exists(bin / "flo-host-aarch64")) {
    auto command = underQemuAarch64();
    if (!command.empty()) command.push_back((bin / "flo-host-aarch64").string());
    return command;
  }
  return {};
}

/// The program that runs a fogger for `arch` here: fogger-aarch64 under qemu-aarch64 for an
/// aarch64 fogger on another machine when both are there, else this machine's `fogger` beside
/// fog (the daemon alone, no compiler: less memory than fog). Empty: `fog fogger`.
std::vector<std::string> foggerProgramFor(const std::string& arch) {
  std::string self = selfExecutable();
  if (self.empty()) return {};
  fs::path bin = fs::path(self).parent_path();
  if (arch == "aarch64" && arch != host::hostArch() &&
      fs::is_regular_file(bin / "fogger-aarch64")) {
    auto command = underQemuAarch64();
    if (!command.empty()) {
      command.push_back((bin / "fogger-aarch64").string());
      return command;
    }
  }
  if (fs::is_regular_file(bin / "fogger")) return {(bin / "fogger").string()};
  return {};
}

/// Fogger j of a new local fog: the first runs x86-64 jobs natively, the second aarch64 ones
/// under qemu when this machine can (so a deployment with two replicas runs on both), the
/// rest again natively.
fogger::FoggerConfig foggerConfig(std::size_t j, const std::string& name, std::uint16_t port) {
  fogger::FoggerConfig c;
  c.genesis = "../genesis.json";
  c.home = "../home";
  c.identity = name;
  c.listen = "127.0.0.1:" + std::to_string(port);
  c.arch = host::hostArch();
  if (j == 1 && !executorFor("aarch64").empty() && c.arch != "aarch64") c.arch = "aarch64";
  c.executor = executorFor(c.arch);
  c.zone = "local";
  c.cores = 1;
  c.memoryMiB = 512;
  c.price = 2 + j;
  c.stake = 100;
  c.work = "work";
  return c;
}

} // namespace

std::string selfExecutable() {
  if (const char* e = std::getenv("FOG_EXE"); e && *e) return e;
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  if (self.filename() == "fog") return self.string();
  // Another program running the CLI in process (a test): the fog beside it, if any. Never the
  // program itself: it would not understand `pool run`.
  fs::path sibling = self.parent_path() / "fog";
  return fs::exists(sibling) ? sibling.string() : std::string();
}

fs::path LocalFog::replicaDir(std::size_t i) const {
  return dir_ / ("replica-" + std::to_string(i));
}

bool LocalFog::exists(const fs::path& dir) {
  return fs::exists(dir / "genesis.json");
}

std::optional<LocalFog> LocalFog::create(const fs::path& dir, std::size_t replicas,
                                         std::size_t foggers, std::string& error) {
  if (foggers > 16) return error = "--foggers takes 0 to 16", std::nullopt;
  if (replicas == 0 || replicas > 64) return error = "--replicas takes 1 to 64", std::nullopt;
  if (exists(dir)) return error = dir.string() + " already holds a fog", std::nullopt;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return error = "cannot create " + dir.string() + ": " + ec.message(), std::nullopt;
  LocalFog fog;
  fog.dir_ = fs::absolute(dir);
  core::Keystore keys(fog.home());
  pool::Genesis& g = fog.genesis_;
  g.name = "local";
  g.timeMs = pool::systemWallMs({});
  for (std::size_t i = 0; i < replicas; ++i) {
    auto id = keys.create("replica-" + std::to_string(i), std::nullopt, std::nullopt, error);
    if (!id) return std::nullopt;
    auto port = freeUdpPort();
    if (!port) return error = "no free UDP port on 127.0.0.1", std::nullopt;
    g.replicas.push_back({id->state().did, id->current.publicKey(), "127.0.0.1", *port});
  }
  auto genesisAccount = keys.create("genesis", std::nullopt, std::nullopt, error);
  if (!genesisAccount) return std::nullopt;
  g.accounts.push_back({"genesis", genesisAccount->current.publicKey(), kSupply});
  std::vector<fogger::FoggerConfig> foggerConfigs;
  for (std::size_t j = 0; j < foggers; ++j) {
    std::string name = "fogger-" + std::to_string(j);
    auto id = keys.create(name, std::nullopt, std::nullopt, error);
    if (!id) return std::nullopt;
    g.accounts.push_back({name, id->current.publicKey(), kFoggerFunds});
    auto port = freeUdpPort();
    if (!port) return error = "no free UDP port on 127.0.0.1", std::nullopt;
    foggerConfigs.push_back(foggerConfig(j, name, *port));
  }
  if (!g.validate(&error)) return std::nullopt;
  if (!writeText(fog.genesisPath(), g.toJson(), error)) return std::nullopt;
  for (std::size_t i = 0; i < replicas; ++i) {
    fs::create_directories(fog.replicaDir(i), ec);
    if (ec) return error = "cannot create " + fog.replicaDir(i).string(), std::nullopt;
    pool::ReplicaConfig c{"../genesis.json",
                          pool::ReplicaIndex(i),
                          "../home",
                          "replica-" + std::to_string(i),
                          "replica.db",
                          "127.0.0.1:" + std::to_string(g.replicas[i].port),
                          ""};
    if (!writeText(fog.configPath(i), c.toJson(), error)) return std::nullopt;
  }
  for (std::size_t j = 0; j < foggers; ++j) {
    fs::create_directories(fog.foggerDir(j) / "work", ec);
    if (ec) return error = "cannot create " + fog.foggerDir(j).string(), std::nullopt;
    if (!writeText(fog.foggerDir(j) / "fogger.json", foggerConfigs[j].toJson(), error))
      return std::nullopt;
  }
  return fog;
}

std::optional<LocalFog> LocalFog::load(const fs::path& dir, std::string& error) {
  auto text = readText(dir / "genesis.json");
  if (!text)
    return error = "no fog in " + dir.string() + " (fog up --dir " + dir.string() + " makes one)",
           std::nullopt;
  auto g = pool::Genesis::fromJson(*text, &error);
  if (!g || !g->validate(&error)) return std::nullopt;
  LocalFog fog;
  fog.dir_ = fs::absolute(dir);
  fog.genesis_ = std::move(*g);
  return fog;
}

LocalFog::Daemon LocalFog::replicaDaemon(std::size_t i) const {
  return {"replica " + std::to_string(i),
          configPath(i),
          logPath(i),
          pidPath(i),
          {"pool", "run", "--config", configPath(i).string(), "--pid-file", pidPath(i).string()},
          {}};
}

LocalFog::Daemon LocalFog::foggerDaemon(std::size_t j) const {
  fs::path d = foggerDir(j);
  std::string error;
  auto config = fogger::FoggerConfig::load((d / "fogger.json").string(), error);
  auto program = foggerProgramFor(config ? config->arch : host::hostArch());
  std::vector<std::string> args = {"--config", (d / "fogger.json").string(), "--pid-file",
                                   (d / "fogger.pid").string()};
  if (program.empty()) args.insert(args.begin(), "fogger"); // `fog fogger`
  return {"fogger " + std::to_string(j),
          d / "fogger.json",
          d / "fogger.log",
          d / "fogger.pid",
          std::move(args),
          std::move(program)};
}

std::size_t LocalFog::foggers() const {
  std::size_t n = 0;
  while (fs::exists(foggerDir(n) / "fogger.json")) ++n;
  return n;
}

std::optional<pid_t> LocalFog::runningPid(const Daemon& d) const {
  auto text = readText(d.pid);
  if (!text) return std::nullopt;
  pid_t pid = pid_t(std::strtol(text->c_str(), nullptr, 10));
  if (!alive(pid)) return std::nullopt;
  auto cmdline = readText("/proc/" + std::to_string(pid) + "/cmdline");
  if (!cmdline || cmdline->find(d.config.string()) == std::string::npos) return std::nullopt;
  return pid;
}

bool LocalFog::start(const Daemon& d, const std::string& fogExe, std::string& error,
                     std::chrono::milliseconds wait) const {
  std::error_code ec;
  fs::remove(d.pid, ec);
  std::string log = d.log.string();
  std::vector<std::string> argv = d.program.empty() ? std::vector<std::string>{"fog"} : d.program;
  argv.insert(argv.end(), d.args.begin(), d.args.end());
  std::string exe = d.program.empty() ? fogExe : d.program.front();
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  int pipeFds[2];
  if (::pipe2(pipeFds, O_CLOEXEC) != 0) return error = "cannot make a pipe", false;
  pid_t child = ::fork();
  if (child < 0) {
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    return error = "cannot fork", false;
  }
  if (child == 0) {
    // The intermediate child: a new session, then the daemon as a grandchild, so that it
    // belongs to no terminal and init reaps it. Its pid goes back through the pipe.
    ::close(pipeFds[0]);
    ::setsid();
    pid_t daemon = ::fork();
    if (daemon != 0) {
      if (daemon > 0) (void)!::write(pipeFds[1], &daemon, sizeof daemon);
      ::_exit(daemon < 0 ? 1 : 0);
    }
    int null = ::open("/dev/null", O_RDONLY);
    int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0) ::dup2(null, 0);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::signal(SIGPIPE, SIG_DFL); // `fog up` ignores it while it runs; that would outlive exec
    ::execv(exe.c_str(), args.data());
    ::_exit(127);
  }
  ::close(pipeFds[1]);
  pid_t daemon = 0;
  if (::read(pipeFds[0], &daemon, sizeof daemon) != ssize_t(sizeof daemon)) daemon = 0;
  ::close(pipeFds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  // The daemon writes its pid file once it is up, or exits saying why not in its log.
  auto end = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < end) {
    if (runningPid(d)) return true;
    if (daemon > 0 && !alive(daemon)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  auto tail = readText(d.log).value_or("");
  if (tail.size() > 600) tail = tail.substr(tail.size() - 600);
  error = d.name + " did not start; the end of " + log + ":\n" + tail;
  return false;
}

bool LocalFog::kill(const Daemon& d, std::string& error) const {
  auto pid = runningPid(d);
  if (!pid) return error = "it is not running", false;
  if (::kill(*pid, SIGKILL) != 0) return error = std::strerror(errno), false;
  // Not until init has reaped it, which can take a while (the daemons are not our children).
  for (int waited = 0; waited < 2000 && !exited(*pid); ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!exited(*pid)) return error = "still running 2 s after SIGKILL", false;
  return true;
}

bool LocalFog::stop(const Daemon& d, std::chrono::milliseconds grace) const {
  auto pid = runningPid(d);
  if (!pid) return false;
  ::kill(*pid, SIGTERM);
  auto end = std::chrono::steady_clock::now() + grace;
  while (alive(*pid) && std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (alive(*pid)) ::kill(*pid, SIGKILL);
  std::error_code ec;
  fs::remove(d.pid, ec);
  return true;
}

bool LocalFog::setMisbehave(std::size_t i, const std::string& spec, std::string& error) const {
  std::string why;
  if (!spec.empty() && !pool::Misbehaviour::parse(spec, &why)) return error = why, false;
  auto text = readText(configPath(i));
  auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json();
  if (!j.is_object()) return error = "cannot read " + configPath(i).string(), false;
  if (spec.empty())
    j.erase("misbehave");
  else
    j["misbehave"] = spec;
  return writeText(configPath(i), j.dump(2), error);
}

bool LocalFog::signal(const Daemon& d, int sig, std::string& error) const {
  auto pid = runningPid(d);
  if (!pid) return error = "it is not running", false;
  if (::kill(*pid, sig) != 0) return error = std::strerror(errno), false;
  return true;
}

} // namespace flo::fog
