/// \file
/// The floc driver: a table of subcommands (check, fmt, graph, and the stages still to come),
/// warning flags, and the pipeline source ▸ parse ▸ check, stopping between stages on errors.
#include "compiler/driver/floc.h"

#include "compiler/codegen/codegen.h"
#include "compiler/ir/lower.h"
#include "compiler/lsp/server.h"
#include "compiler/sema/check.h"
#include "compiler/sema/graph.h"
#include "compiler/verify/certificate.h"
#include "core/crypto.h"
#include "core/signed_file.h"
#include "core/store/keystore.h"
#include "lang/diagnostics.h"
#include "lang/format.h"
#include "lang/parser.h"

#include <CLI/CLI.hpp>
#include <llvm/Support/FileSystem.h>
#include <llvm/Support/Program.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/Triple.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <set>
#include <sstream>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifndef FLOC_VERSION
#define FLOC_VERSION "unknown"
#endif

namespace flo::driver {

namespace {

using lang::Diagnostics;
using lang::SourceManager;

constexpr int kOk = 0;
constexpr int kProgramErrors = 1;
constexpr int kUsage = 2;

struct Options {
  std::vector<std::string> files;
  std::vector<std::string> warningFlags;
  std::string emit;
  std::string color = "auto";
  std::size_t errorLimit = 100;
  bool json = false;
  // fmt
  bool fmtCheck = false;
  bool fmtInPlace = false;
  // graph, build
  std::string output;
  // build, run
  std::string target = "x86_64-linux-gnu";
  std::vector<std::string> targets; ///< --target as given (several only with --bundle)
  bool bundle = false;
  std::string signer;         ///< --id: sign the bundle's manifest
  std::string passphraseFile; ///< for --id
  std::string job;            ///< run --job
  std::uint32_t runs = 3;     ///< run --job --runs
  int optLevel = 2;
  bool stats = false;
  std::string statsJson;
  std::vector<std::string> runArgs;
  std::string self; ///< argv[0], to find the runtime beside floc
  // verify
  double timeout = 10;  ///< seconds per property
  std::string contract; ///< only this contract
};

class Session {
public:
  Session(const Options& options, std::istream& in, std::ostream& out, std::ostream& err)
      : options_(options), in_(in), out_(out), err_(err), diags_(sources_) {}

  bool configure() {
    diags_.setErrorLimit(options_.errorLimit);
    for (const auto& flag : options_.warningFlags) {
      if (!diags_.applyFlag(flag)) {
        err_ << "floc: error: unknown warning option '" << flag << "'\n";
        std::string name = flag.substr(flag.rfind('-') + 1);
        std::vector<std::string> names;
        for (const auto& w : lang::warningTable()) names.emplace_back(w.name);
        if (auto m = lang::closestMatch(name, names))
          err_ << "floc: note: did you mean '-W" << *m << "'?\n";
        return false;
      }
    }
    return true;
  }

  /// Reads a file (or stdin for "-"); reports an unreadable one as a diagnostic.
  std::optional<lang::FileId> open(const std::string& file) {
    if (file == "-") {
      std::string text((std::istreambuf_iterator<char>(in_)), std::istreambuf_iterator<char>());
      return sources_.addBuffer("<stdin>", std::move(text));
    }
    std::string error;
    auto id = sources_.loadFile(file, error);
    if (!id) diags_.error({}, "cannot read '" + file + "': " + error);
    return id;
  }

  std::unique_ptr<lang::Program> parse(lang::FileId file, bool comments = false) {
    lang::ParseOptions po;
    po.keepComments = comments;
    return lang::parseProgram(sources_, file, diags_, po);
  }

  int finish() {
    if (options_.json) {
      diags_.renderJson(out_);
    } else {
      diags_.renderText(err_, useColor());
      if (diags_.errorCount() + diags_.warningCount() > 0 && !diags_.all().empty()) {
        std::size_t e = diags_.errorCount(), w = diags_.warningCount();
        if (e || w) {
          err_ << (w ? std::to_string(w) + (w == 1 ? " warning" : " warnings") : "") +
                      (w && e ? " and " : "") +
                      (e ? std::to_string(e) + (e == 1 ? " error" : " errors") : "") +
                      " generated.\n"; // one write: err_ is unbuffered
        }
      }
    }
    return diags_.hasErrors() ? kProgramErrors : kOk;
  }

  bool useColor() const {
    if (options_.color == "always") return true;
    if (options_.color == "never") return false;
    if (std::getenv("NO_COLOR")) return false;
    const char* term = std::getenv("TERM");
    return &err_ == &std::cerr && isatty(2) && term && std::string_view(term) != "dumb";
  }

  SourceManager& sources() { return sources_; }
  Diagnostics& diags() { return diags_; }
  std::ostream& out() { return out_; }
  std::ostream& err() { return err_; }
  const Options& options() const { return options_; }

private:
  const Options& options_;
  std::istream& in_;
  std::ostream& out_;
  std::ostream& err_;
  SourceManager sources_;
  Diagnostics diags_;
};

int commandCheck(Session& s) {
#ifdef __GLIBC__
  // A check only grows its heap (see below): grown in 64 MB steps, it is not trimmed and
  // grown again, page by page (~10 % fewer page faults; untouched pages cost no memory).
  mallopt(M_TOP_PAD, 64 << 20);
#endif
  for (const auto& file : s.options().files) {
    auto id = s.open(file);
    if (!id) continue;
    auto program = s.parse(*id);
    if (s.diags().limitReached()) break;
    auto model = sema::check(*program, s.diags());
    // Store paths and types are checked by lowering (what `floc build` does next).
    std::unique_ptr<ir::Program> ir;
    if (!s.diags().hasErrors())
      ir = ir::lower(*program, *model, s.sources(), s.diags(), true, /*disableFree=*/true);
    // The process ends soon: its memory goes back to the system at once, so the AST, the model
    // and the IR are not torn down node by node (the profile of a large check showed ~12 % in
    // `free` and `malloc_consolidate`), as clang's
    // driver does with -disable-free. The language server, which lives on, frees them.
    (void)program.release();
    (void)model.release();
    (void)ir.release();
  }
  return s.finish();
}

/// check ▸ lower ▸ verify; null (with diagnostics) when the program has errors. The IR owns
/// what code generation reads (the typed deed bodies); the AST and the model can go.
std::unique_ptr<ir::Program> lowerProgram(Session& s, std::unique_ptr<lang::Program> program) {
  if (s.diags().hasErrors()) return nullptr;
  auto model = sema::check(*program, s.diags());
  if (s.diags().hasErrors()) return nullptr;
  auto ir = ir::lower(*program, *model, s.sources(), s.diags());
  if (s.diags().hasErrors()) return nullptr;
  auto problems = ir::verify(*ir);
  if (!problems.empty()) {
    for (const auto& p : problems) s.diags().error({}, "internal error: IR does not verify: " + p);
    return nullptr;
  }
  // Nothing checked is dropped without a word: a contract is not part of the executable.
  for (const auto& c : model->contracts)
    s.err() << "floc: note: contract '" << c.name
            << "' is checked but not built: contracts run on the pool (`fog contract deploy`); "
               "`floc verify` proves it\n";
  return ir;
}

void reportCodegen(Session& s, const ir::Program& p, const std::vector<codegen::Error>& errors) {
  for (const auto& e : errors) {
    std::string where = e.loc < p.locations.size() ? p.locations[e.loc] : std::string();
    s.err() << (where.empty() ? std::string("floc: ") : where) << "error: " << e.message << "\n";
  }
}

/// --emit=ir|llvm|asm|obj: the IR, or the code for one target, to -o or stdout.
int emitCode(Session& s, const ir::Program& p, const std::string& stage) {
  if (stage == "ir") {
    ir::print(p, s.out());
    return s.finish();
  }
  const Options& o = s.options();
  codegen::Options co;
  co.triple = o.target;
  co.optLevel = o.optLevel;
  auto kind = stage == "llvm"  ? codegen::Emit::LLVM
              : stage == "asm" ? codegen::Emit::Asm
                               : codegen::Emit::Obj;
  std::string code;
  std::vector<codegen::Error> errors;
  if (!codegen::generate(p, co, kind, code, errors)) {
    reportCodegen(s, p, errors);
    return kProgramErrors;
  }
  if (!o.output.empty() && o.output != "-") {
    std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
    f << code;
    if (!f.flush()) {
      s.err() << "floc: error: cannot write '" << o.output << "'\n";
      return kUsage;
    }
  } else if (kind == codegen::Emit::Obj && isatty(1)) {
    s.err() << "floc: error: not writing an object file to a terminal; use -o FILE\n";
    return kUsage;
  } else {
    s.out() << code;
  }
  return s.finish();
}

/// The static costs as JSON (`--stats-json FILE`), for the pool's pricing and other scripts.
bool writeStatsJson(Session& s, const ir::Program& p, const std::string& file) {
  nlohmann::json j;
  const std::size_t made = p.madeShares(); // one slot and one stamp each
  j["store"] = {{"shares", p.shares.size()},
                {"slots", p.slotCount()},
                {"made_shares", made},
                {"bytes", (p.slotCount() + made) * sizeof(FloValue) +
                              (p.shares.size() + made) * sizeof(double)}};
  j["costs"] = nlohmann::json::array();
  for (const auto& c : ir::costs(p))
    j["costs"].push_back({{"what", c.what},
                          {"frames", c.frames},
                          {"acts", c.acts},
                          {"shares", c.shares},
                          {"slots", c.slots},
                          {"worst_acts_per_pass", c.worstActsPerPass}});
  j["flows"] = nlohmann::json::array();
  for (const auto& f : ir::flowCosts(p))
    j["flows"].push_back({{"name", f.name},
                          {"partitions", f.partitions},
                          {"by_field", f.byField},
                          {"worst_items", f.worstItems},
                          {"worst_bytes", f.worstBytes},
                          {"work_per_item", f.workPerItem},
                          {"work_per_window", f.workPerWindow}});
  j["jobs"] = nlohmann::json::array();
  for (const auto& job : p.jobs)
    j["jobs"].push_back({{"name", job.name},
                         {"runs", job.target},
                         {"limit_passes", job.limitPasses},
                         {"cost_bound", job.costBound}});
  if (file == "-") {
    s.out() << j.dump(2) << "\n";
    return true;
  }
  std::ofstream f(file, std::ios::binary | std::ios::trunc);
  f << j.dump(2) << "\n";
  if (!f.flush()) {
    s.err() << "floc: error: cannot write '" << file << "'\n";
    return false;
  }
  return true;
}

void printStats(Session& s, const ir::Program& p) {
  if (!s.options().statsJson.empty()) {
    writeStatsJson(s, p, s.options().statsJson);
    return;
  }
  const std::size_t made = p.madeShares(); // one slot and one stamp each
  s.out() << "store: " << p.shares.size() << " shares, " << p.slotCount() << " slots ("
          << (p.slotCount() + made) * sizeof(FloValue) + (p.shares.size() + made) * sizeof(double)
          << " bytes";
  if (made) s.out() << ", with at most " << made << " shares flows make at run time";
  s.out() << ")\n";
  for (const auto& c : ir::costs(p)) {
    s.out() << c.what << ": " << c.frames << " frames, " << c.acts << " acts, " << c.shares
            << " shares (" << c.slots << " slots), at most " << c.worstActsPerPass
            << " acts per pass in one outline\n";
  }
  for (const auto& f : ir::flowCosts(p))
    s.out() << "flow " << f.name << ": " << (f.byField.empty() ? "" : "at most ") << f.partitions
            << " partition" << (f.partitions == 1 ? "" : "s")
            << (f.byField.empty() ? "" : " (by " + f.byField + ")") << ", at most " << f.worstItems
            << " items buffered (" << f.worstBytes << " bytes), " << f.workPerItem
            << " operations per item, " << f.workPerWindow << " per item to reduce\n";
  for (const auto& j : p.jobs) {
    s.out() << "job " << j.name << ": at most " << j.costBound << " work units per run (";
    if (j.runs == ir::Job::Runs::Framer) {
      std::string why;
      s.out() << "framer " << j.target << ": " << j.limitPasses << " passes + the final stop, "
              << ir::passWork(p, j.tasker, why).value_or(0) << " per pass";
    } else if (j.runs == ir::Job::Runs::Flow) {
      std::string why;
      s.out() << "flow " << j.target << ": " << j.limitPasses << " passes + 1, "
              << ir::flowPassWork(p.flows.at(j.flow), why).value_or(0) << " per pass";
    } else {
      s.out() << "deed " << j.target << ": one call";
    }
    s.out() << ")\n";
  }
}

/// open ▸ parse ▸ lowerProgram, then the cost summary when --stats or --stats-json asks.
std::unique_ptr<ir::Program> loadProgram(Session& s, const std::string& file) {
  auto id = s.open(file);
  if (!id) return nullptr;
  auto ir = lowerProgram(s, s.parse(*id));
  const Options& o = s.options();
  if (ir && (o.stats || !o.statsJson.empty())) printStats(s, *ir);
  return ir;
}

/// Builds an executable: object for the target, linked with that target's runtime.
int buildExecutable(Session& s, const std::string& file, const std::string& output) {
  const Options& o = s.options();
  std::string triple = o.target;
  if (!codegen::normalizeTriple(triple)) {
    s.err() << "floc: error: unsupported target '" << o.target << "' (supported:";
    for (const auto& t : codegen::supportedTriples()) s.err() << " " << t;
    s.err() << ")\n";
    return kUsage;
  }
  codegen::LinkPlan plan;
  std::string error;
  if (!codegen::findLinkPlan(triple, o.self, plan, error)) {
    s.err() << "floc: error: " << error << "\n";
    return kUsage;
  }
  auto ir = loadProgram(s, file);
  if (!ir) return s.finish();
  codegen::Options co;
  co.triple = triple;
  co.optLevel = o.optLevel;
  std::string object;
  std::vector<codegen::Error> errors;
  if (!codegen::generate(*ir, co, codegen::Emit::Obj, object, errors)) {
    reportCodegen(s, *ir, errors);
    return kProgramErrors;
  }
  llvm::SmallString<128> objPath;
  if (llvm::sys::fs::createTemporaryFile("floc", "o", objPath)) {
    s.err() << "floc: error: cannot create a temporary file\n";
    return kUsage;
  }
  {
    std::ofstream f(objPath.c_str(), std::ios::binary | std::ios::trunc);
    f << object;
    if (!f.flush()) {
      s.err() << "floc: error: cannot write '" << objPath.c_str() << "'\n";
      return kUsage;
    }
  }
  bool ok = codegen::link(plan, objPath.c_str(), output, error);
  llvm::sys::fs::remove(objPath);
  if (!ok) {
    s.err() << "floc: error: " << error << "\n";
    return kUsage;
  }
  return s.finish();
}

std::optional<std::string> readBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return std::nullopt;
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

bool writeBytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << bytes;
  return bool(f.flush());
}

std::string sha256Hex(std::string_view bytes) {
  return core::toHex(core::sha256(bytes));
}

/// One job as the manifest describes it (docs/bundles.md).
nlohmann::json jobJson(const ir::Program& p, const ir::Job& j) {
  nlohmann::json needs = nlohmann::json::object();
  for (const auto& [k, v] : j.needs) needs[k] = v;
  nlohmann::json price = nlohmann::json::object();
  if (!j.priceAmount.empty()) price = {{"amount", j.priceAmount}, {"unit", j.priceUnit}};
  if (!j.priceMax.empty()) price["max"] = j.priceMax;
  nlohmann::json replicas = nlohmann::json::object();
  if (!j.replicas.empty()) replicas["count"] = j.replicas;
  if (!j.placement.empty()) replicas["placement"] = j.placement;
  nlohmann::json out = {{"name", j.name},
                        {"runs",
                         {{j.runs == ir::Job::Runs::Framer ? "framer"
                           : j.runs == ir::Job::Runs::Flow ? "flow"
                                                           : "deed",
                           j.target}}},
                        {"trigger", j.triggerText},
                        {"needs", needs},
                        {"price", price},
                        {"replicas", replicas},
                        {"cost_bound", j.costBound}};
  if (j.runs != ir::Job::Runs::Deed) out["limit_passes"] = j.limitPasses;
  if (j.runs == ir::Job::Runs::Flow && j.flow < p.flows.size()) {
    // The shares whose writes are its items: what a feed from another job must carry
    // (docs/deploy.md, "Federation").
    std::set<std::string> takes;
    for (const auto& src : p.flows[j.flow].sources) takes.insert(p.shares.at(src.field.share).path);
    out["takes"] = takes;
  }
  return out;
}

/// The identity --id names, unlocked with --passphrase-file or FOG_PASSPHRASE when encrypted.
std::optional<core::Identity> signerIdentity(const Options& o, std::string& error) {
  core::Keystore store(core::Keystore::defaultHome());
  auto pub = store.loadPublic(o.signer, error);
  if (!pub) return std::nullopt;
  std::optional<std::string> passphrase;
  if (pub->encrypted) {
    if (!o.passphraseFile.empty()) {
      auto text = readBytes(o.passphraseFile);
      if (!text) return error = "cannot read '" + o.passphraseFile + "'", std::nullopt;
      passphrase = text->substr(0, text->find('\n'));
    } else if (const char* env = std::getenv("FOG_PASSPHRASE")) {
      passphrase = env;
    } else {
      error =
          "identity '" + o.signer + "' is encrypted: give --passphrase-file or set FOG_PASSPHRASE";
      return std::nullopt;
    }
  }
  return store.load(o.signer, passphrase, error);
}

/// `floc build --bundle FILE -o DIR`: one shared object per target and DIR/manifest.json
/// (docs/bundles.md); with --id, DIR/manifest.json.sig. Same source, same bytes.
int buildBundle(Session& s, const std::string& file) {
  const Options& o = s.options();
  if (o.output.empty()) {
    s.err() << "floc: error: --bundle needs -o DIR\n";
    return kUsage;
  }
  std::vector<std::string> triples = o.targets;
  if (triples.empty()) triples = codegen::supportedTriples();
  for (auto& t : triples) {
    std::string given = t;
    if (!codegen::normalizeTriple(t)) {
      s.err() << "floc: error: unsupported target '" << given << "'\n";
      return kUsage;
    }
  }
  std::sort(triples.begin(), triples.end());
  triples.erase(std::unique(triples.begin(), triples.end()), triples.end());
  std::vector<codegen::LinkPlan> plans(triples.size());
  for (std::size_t i = 0; i < triples.size(); ++i) {
    std::string error;
    if (!codegen::findLinkPlan(triples[i], o.self, plans[i], error)) {
      s.err() << "floc: error: " << error << "\n";
      return kUsage;
    }
  }
  auto source = readBytes(file);
  auto ir = loadProgram(s, file);
  if (!ir || !source) return s.finish();
  std::error_code ec;
  std::filesystem::create_directories(o.output, ec);
  if (ec) {
    s.err() << "floc: error: cannot make '" << o.output << "': " << ec.message() << "\n";
    return kUsage;
  }
  std::string stem = std::filesystem::path(file).stem().string();
  nlohmann::json targets = nlohmann::json::object();
  for (std::size_t i = 0; i < triples.size(); ++i) {
    codegen::Options co;
    co.triple = triples[i];
    co.optLevel = o.optLevel;
    co.bundle = true;
    std::string object;
    std::vector<codegen::Error> errors;
    if (!codegen::generate(*ir, co, codegen::Emit::Obj, object, errors)) {
      reportCodegen(s, *ir, errors);
      return kProgramErrors;
    }
    llvm::SmallString<128> objPath;
    if (llvm::sys::fs::createTemporaryFile("floc", "o", objPath) ||
        !writeBytes(objPath.c_str(), object)) {
      s.err() << "floc: error: cannot write a temporary object\n";
      return kUsage;
    }
    std::string error;
    std::string name = stem + "." + triples[i] + ".so";
    std::string out = (std::filesystem::path(o.output) / name).string();
    bool ok = codegen::link(plans[i], objPath.c_str(), out, error, true);
    llvm::sys::fs::remove(objPath);
    auto bytes = ok ? readBytes(out) : std::nullopt;
    if (!bytes) {
      s.err() << "floc: error: " << (ok ? "cannot read '" + out + "'" : error) << "\n";
      return kUsage;
    }
    targets[triples[i]] = {{"file", name}, {"sha256", sha256Hex(*bytes)}};
  }
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& j : ir->jobs) jobs.push_back(jobJson(*ir, j));
  nlohmann::json manifest = {{"format", 1},
                             {"compiler", "floc " FLOC_VERSION},
                             {"source", std::filesystem::path(file).filename().string()},
                             {"source_sha256", sha256Hex(*source)},
                             {"targets", targets},
                             {"jobs", jobs}};
  // nlohmann's objects are sorted maps and dump() writes no spaces: canonical bytes.
  std::string text = manifest.dump();
  std::string manifestPath = (std::filesystem::path(o.output) / "manifest.json").string();
  if (!writeBytes(manifestPath, text)) {
    s.err() << "floc: error: cannot write '" << manifestPath << "'\n";
    return kUsage;
  }
  std::filesystem::remove(manifestPath + ".sig", ec);
  if (!o.signer.empty()) {
    std::string error;
    auto id = signerIdentity(o, error);
    if (!id) {
      s.err() << "floc: error: cannot sign with '" << o.signer << "': " << error << "\n";
      return kUsage;
    }
    core::Bytes content(text.begin(), text.end());
    core::Bytes record = core::signDetached(*id, content);
    if (!writeBytes(manifestPath + ".sig", std::string(record.begin(), record.end()))) {
      s.err() << "floc: error: cannot write '" << manifestPath << ".sig'\n";
      return kUsage;
    }
  }
  return s.finish();
}

int commandBuild(Session& s) {
  const Options& o = s.options();
  if (o.bundle) return buildBundle(s, o.files.at(0));
  if (!o.emit.empty()) {
    auto ir = loadProgram(s, o.files.at(0));
    return ir ? emitCode(s, *ir, o.emit) : s.finish();
  }
  std::string output = o.output;
  if (output.empty()) {
    output = std::filesystem::path(o.files.at(0)).stem().string();
    if (output.empty() || output == o.files.at(0)) output = "a.out";
  }
  return buildExecutable(s, o.files.at(0), output);
}

int commandRun(Session& s) {
  llvm::SmallString<128> exe;
  if (llvm::sys::fs::createTemporaryFile("floc-run", "exe", exe)) {
    s.err() << "floc: error: cannot create a temporary file\n";
    return kUsage;
  }
  int rc = buildExecutable(s, s.options().files.at(0), exe.c_str());
  if (rc != kOk) {
    llvm::sys::fs::remove(exe);
    return rc;
  }
  std::vector<llvm::StringRef> args = {exe.str()};
  const Options& o = s.options();
  std::string runs = std::to_string(o.runs);
  if (!o.job.empty()) {
    args.insert(args.end(), {"--job", o.job, "--runs", runs});
    if (o.stats) args.push_back("--work");
  }
  for (const auto& a : s.options().runArgs) args.push_back(a);
  // A program for another architecture runs under its qemu user-mode emulator.
  std::string program = exe.str().str();
  std::string triple = o.target;
  codegen::normalizeTriple(triple);
  const bool foreign =
      llvm::Triple(triple).getArch() != llvm::Triple(llvm::sys::getDefaultTargetTriple()).getArch();
  std::string sysroot;
  if (foreign) {
    std::string arch = llvm::Triple(triple).getArchName().str();
    auto qemu = llvm::sys::findProgramByName("qemu-" + arch);
    if (!qemu) {
      llvm::sys::fs::remove(exe);
      s.err() << "floc: error: cannot run a program built for " << triple << " here: qemu-" << arch
              << " is not installed (Debian: apt-get install qemu-user)\n";
      return kUsage;
    }
    program = *qemu;
    sysroot = "/usr/" + triple; // the cross toolchain's libraries (g++-aarch64-linux-gnu)
    args.insert(args.begin(), {program, "-L", sysroot});
  }
  std::string error;
  s.out().flush();
  int status = llvm::sys::ExecuteAndWait(program, args, std::nullopt, {}, 0, 0, &error);
  llvm::sys::fs::remove(exe);
  if (status < 0) {
    s.err() << "floc: error: cannot run the program: " << error << "\n";
    return kUsage;
  }
  return status;
}

int commandEmit(Session& s) {
  const std::string& stage = s.options().emit;
  if (s.options().files.size() != 1) {
    s.err() << "floc: error: --emit takes exactly one file\n";
    return kUsage;
  }
  auto id = s.open(s.options().files[0]);
  if (!id) return s.finish();
  if (stage == "tokens") {
    lang::dumpTokens(s.sources(), *id, s.diags(), s.out());
    return s.finish();
  }
  auto program = s.parse(*id);
  if (stage == "ast") {
    lang::dumpAst(*program, s.sources(), s.out());
    return s.finish();
  }
  auto ir = lowerProgram(s, std::move(program));
  return ir ? emitCode(s, *ir, stage) : s.finish();
}

int commandFmt(Session& s) {
  const Options& o = s.options();
  int status = kOk;
  for (const auto& file : o.files) {
    auto id = s.open(file);
    if (!id) continue;
    lang::ParseOptions po;
    po.followLoads = false;
    po.keepComments = true;
    auto program = lang::parseProgram(s.sources(), *id, s.diags(), po);
    if (s.diags().hasErrors()) continue;
    std::ostringstream formatted;
    lang::formatModule(*program->root, s.sources(), formatted);
    std::string text = formatted.str();
    bool same = text == s.sources().text(*id);
    if (o.fmtCheck) {
      if (!same) {
        s.err() << file << ": not in canonical form (run `floc fmt -i " << file << "`)\n";
        status = kProgramErrors;
      }
    } else if (o.fmtInPlace && file != "-") {
      if (same) continue;
      // Write beside the file and rename, so a crash never leaves half a file.
      std::string tmp = file + ".floc-fmt.tmp";
      {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        f << text;
        if (!f.flush()) {
          s.err() << "floc: error: cannot write '" << tmp << "'\n";
          return kUsage;
        }
      }
      if (std::rename(tmp.c_str(), file.c_str()) != 0) {
        std::remove(tmp.c_str());
        s.err() << "floc: error: cannot replace '" << file << "'\n";
        return kUsage;
      }
    } else {
      s.out() << text;
    }
  }
  int diagStatus = s.finish();
  return diagStatus != kOk ? diagStatus : status;
}

int commandGraph(Session& s) {
  const Options& o = s.options();
  auto id = s.open(o.files.at(0));
  if (!id) return s.finish();
  auto program = s.parse(*id);
  auto model = sema::check(*program, s.diags());
  if (!o.output.empty() && o.output != "-") {
    std::ofstream f(o.output, std::ios::binary | std::ios::trunc);
    sema::writeGraph(*model, f);
    if (!f.flush()) {
      s.err() << "floc: error: cannot write '" << o.output << "'\n";
      return kUsage;
    }
  } else {
    sema::writeGraph(*model, s.out());
  }
  return s.finish();
}

/// `floc verify FILE`: proves each contract (docs/verify.md); failures are located errors with
/// a counterexample in notes; `--json` prints a certificate per contract.
int commandVerify(Session& s) {
  const Options& o = s.options();
  auto id = s.open(o.files[0]);
  if (!id) return s.finish();
  auto program = s.parse(*id);
  if (s.diags().hasErrors()) return s.finish();
  auto model = sema::check(*program, s.diags());
  if (s.diags().hasErrors()) return s.finish();
  std::vector<const tir::TypedContract*> contracts;
  for (const auto& c : model->typedContracts)
    if (c && (o.contract.empty() || c->name == o.contract)) contracts.push_back(c.get());
  if (contracts.empty()) {
    if (o.contract.empty()) {
      s.diags().error({}, "'" + o.files[0] + "' has no contract to verify");
    } else {
      s.diags().error({}, "'" + o.files[0] + "' has no contract '" + o.contract + "'");
      std::string names;
      for (const auto& c : model->typedContracts)
        if (c) names += (names.empty() ? "" : ", ") + c->name;
      if (!names.empty()) s.diags().note({}, "its contracts: " + names);
    }
    return s.finish();
  }
  verify::Options vo;
  vo.timeoutMs = unsigned(o.timeout * 1000);
  const std::string sha = sha256Hex(s.sources().text(*id));
  nlohmann::json certificates = nlohmann::json::array();
  bool all = true;
  for (const tir::TypedContract* c : contracts) {
    if (!o.json) s.err() << "floc: verifying contract '" << c->name << "'...\n";
    auto t0 = std::chrono::steady_clock::now();
    verify::ContractResult r = verify::verifyContract(*c, vo);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    all = all && r.proven();
    for (const auto& p : r.properties)
      if (p.verdict != verify::Verdict::Proven) {
        s.diags().error(p.range, p.message);
        for (const auto& n : p.notes) s.diags().note({}, n);
      }
    nlohmann::json cert = verify::certificate(
        r, s.sources(), {o.files[0], sha, "floc " FLOC_VERSION, o.timeout, took});
    const std::size_t proven = verify::provenCount(r);
    const nlohmann::json cost = cert["cost"];
    certificates.push_back(std::move(cert));
    if (!o.json) {
      std::ostringstream line;
      line << "contract " << c->name << ": " << proven << " of " << r.properties.size()
           << " properties proven in " << std::fixed << std::setprecision(2) << took << " s";
      std::string costs;
      for (const auto& [action, n] : cost.items())
        costs +=
            (costs.empty() ? "" : ", ") + action + " " + std::to_string(n.get<std::uint64_t>());
      if (!costs.empty()) line << "; cost bound per call (operations): " << costs;
      s.out() << line.str() << "\n";
    }
  }
  if (o.json) {
    s.out() << nlohmann::json{{"verified", all}, {"certificates", certificates}}.dump(2) << "\n";
    return all ? kOk : kProgramErrors;
  }
  return s.finish();
}

std::string warningHelp() {
  std::string text =
      "\nWarnings (-Wname enables, -Wno-name disables, -Werror makes them errors):\n";
  for (const auto& w : lang::warningTable())
    text += "  -W" + std::string(w.name) +
            std::string(w.name.size() < 24 ? 24 - w.name.size() : 1, ' ') +
            std::string(w.description) + "\n";
  return text;
}

} // namespace

int runFloc(int argc, const char* const* argv, std::istream& in, std::ostream& out,
            std::ostream& err) {
  try {
    Options o;
    o.self = argc > 0 ? argv[0] : "floc";
    if (auto exe = llvm::sys::fs::getMainExecutable(o.self.c_str(), (void*)&runFloc); !exe.empty())
      o.self = exe;
    // -W flags are taken out before CLI11 sees the arguments (it has no prefix options).
    std::vector<std::string> args;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--") {
        // Everything after `--` belongs to the program (`floc run FILE -- ARGS`).
        for (++i; i < argc; ++i) o.runArgs.emplace_back(argv[i]);
        break;
      }
      if (a.size() > 2 && a.rfind("-W", 0) == 0)
        o.warningFlags.push_back(a);
      else
        args.push_back(a);
    }
    std::reverse(args.begin(), args.end()); // CLI11 takes a reversed vector

    CLI::App app{
        "floc: the Flo compiler.\n\nExit status: 0 success, 1 the program has errors, 2 usage "
        "or internal error.",
        "floc"};
    app.footer(warningHelp());
    app.set_version_flag("--version", "floc " FLOC_VERSION, "print the version and exit");
    app.require_subcommand(0, 1);
    app.add_option("--emit", o.emit,
                   "stop after a stage and print it: tokens, ast, ir, llvm, asm, obj")
        ->check(CLI::IsMember({"tokens", "ast", "ir", "llvm", "asm", "obj"}));
    app.add_option("files", o.files, "with --emit: the .flo file to process");
    auto addCommon = [&](CLI::App* cmd) {
      cmd->add_flag("--json", o.json, "diagnostics as JSON on stdout");
      cmd->add_option("--color", o.color, "colour diagnostics: auto, always, never")
          ->check(CLI::IsMember({"auto", "always", "never"}));
      cmd->add_option("--error-limit", o.errorLimit, "stop after N errors (0: no limit)");
      cmd->footer(warningHelp());
    };
    addCommon(&app);

    CLI::App* check = app.add_subcommand("check", "check .flo files and report diagnostics");
    check->add_option("files", o.files, "files to check ('-' reads stdin)")->required();
    addCommon(check);

    CLI::App* fmt = app.add_subcommand("fmt", "print a .flo file in canonical form");
    fmt->add_option("files", o.files, "files to format ('-' reads stdin)")->required();
    fmt->add_flag("--check", o.fmtCheck, "exit 1 if a file is not in canonical form");
    fmt->add_flag("-i,--in-place", o.fmtInPlace, "rewrite the files in place");
    addCommon(fmt);

    CLI::App* graph = app.add_subcommand("graph", "write the framers and frames as Graphviz DOT");
    graph->add_option("file", o.files, "the .flo file")->required()->expected(1);
    graph->add_option("-o,--output", o.output, "write to this file instead of stdout");
    addCommon(graph);

    auto addCodegen = [&](CLI::App* cmd) {
      cmd->add_option("--target", o.targets,
                      "target triple: x86_64-linux-gnu (default) or aarch64-linux-gnu; with "
                      "--bundle, once per target (default: both)")
          ->allow_extra_args(false); // one value per --target: `--target T FILE` keeps FILE
      cmd->add_option("-O", o.optLevel, "optimisation level 0-3 (default 2)")
          ->check(CLI::Range(0, 3));
      cmd->add_flag("--stats", o.stats, "print the static cost of each framer and deed");
      cmd->add_option("--stats-json", o.statsJson,
                      "write the static costs as JSON to FILE ('-': stdout)");
    };
    CLI::App* build = app.add_subcommand("build", "compile a .flo program to a native executable");
    build->add_option("file", o.files, "the .flo file")->required()->expected(1);
    build->add_option("-o,--output", o.output, "the executable (default: the file's stem)");
    build->add_option("--emit", o.emit, "write one stage instead: ir, llvm, asm, obj")
        ->check(CLI::IsMember({"ir", "llvm", "asm", "obj"}));
    build->add_flag("--bundle", o.bundle,
                    "write a job bundle to -o DIR: a shared object per target and "
                    "manifest.json (docs/bundles.md)");
    build->add_option("--id", o.signer, "with --bundle: sign the manifest as this identity");
    build->add_option("--passphrase-file", o.passphraseFile,
                      "with --id: the identity's passphrase (else $FOG_PASSPHRASE)");
    addCodegen(build);
    addCommon(build);
    CLI::App* run = app.add_subcommand("run", "build to a temporary file and run it");
    run->add_option("file", o.files, "the .flo file")->required()->expected(1);
    run->add_option(
        "--job", o.job,
        "run job NAME as a fogger would: its trigger starts each run (docs/runtime.md)");
    run->add_option("--runs", o.runs, "with --job: end after N runs (default 3)")
        ->check(CLI::Range(1u, 1000000000u));
    run->footer("Arguments after `--` go to the program: floc run app.flo -- --period 0.5 -v\n"
                "With --job, --stats also prints each run's measured work and its bound.");
    addCodegen(run);
    addCommon(run);
    CLI::App* lsp = app.add_subcommand(
        "lsp", "serve the Language Server Protocol on stdin/stdout (for editors)");
    lsp->footer("Diagnostics as you type (as `floc check --json`), formatting (as `floc fmt`),\n"
                "outline, go to definition, references, hover and completion. -W flags apply\n"
                "to every document. Set-up for VS Code, Neovim and Emacs: docs/editors.md.\n" +
                warningHelp());
    CLI::App* verify =
        app.add_subcommand("verify", "prove a file's contracts with Z3 (docs/verify.md)");
    verify->add_option("file", o.files, "the .flo file")->required()->expected(1);
    verify->add_option("--contract", o.contract, "verify only this contract");
    verify->add_option("--timeout", o.timeout, "seconds per property (default 10)")
        ->check(CLI::Range(0.001, 3600.0));
    verify->add_flag("--json", o.json,
                     "print a certificate per contract on stdout (verdict of each property)");
    verify->add_option("--color", o.color, "colour diagnostics: auto, always, never")
        ->check(CLI::IsMember({"auto", "always", "never"}));
    verify->footer("Exit status: 0 when every property of every contract is proven, 1 when one "
                   "is violated,\nunproven in time or not supported, 2 usage error.");

    try {
      app.parse(args);
    } catch (const CLI::CallForHelp& e) {
      out << (app.get_subcommands().empty() ? app.help() : app.get_subcommands()[0]->help());
      return kOk;
    } catch (const CLI::CallForAllHelp&) {
      out << app.help("", CLI::AppFormatMode::All);
      return kOk;
    } catch (const CLI::CallForVersion& e) {
      out << e.what() << "\n";
      return kOk;
    } catch (const CLI::ParseError& e) {
      err << "floc: error: " << e.what() << "\n";
      err << "Run 'floc --help' for usage.\n";
      return kUsage;
    }

    if (o.targets.size() > 1 && !o.bundle) {
      err << "floc: error: several --target are for --bundle; give one\n";
      return kUsage;
    }
    if (!o.targets.empty() && !o.bundle) o.target = o.targets[0];
    if ((!o.signer.empty() || !o.passphraseFile.empty()) && !o.bundle) {
      err << "floc: error: --id and --passphrase-file sign a bundle: add --bundle\n";
      return kUsage;
    }
    if (o.bundle && !o.emit.empty()) {
      err << "floc: error: --bundle and --emit exclude each other\n";
      return kUsage;
    }
    Session session(o, in, out, err);
    if (!session.configure()) return kUsage;
    if (lsp->parsed()) return lsp::runServer(in, out, err, {o.warningFlags});
    if (check->parsed()) return commandCheck(session);
    if (fmt->parsed()) {
      if (o.fmtCheck && o.fmtInPlace) {
        err << "floc: error: --check and --in-place exclude each other\n";
        return kUsage;
      }
      return commandFmt(session);
    }
    if (graph->parsed()) return commandGraph(session);
    if (build->parsed()) return commandBuild(session);
    if (run->parsed()) return commandRun(session);
    if (verify->parsed()) return commandVerify(session);
    if (!o.emit.empty()) return commandEmit(session);
    if (!o.files.empty()) {
      err << "floc: error: no command given; did you mean 'floc check";
      for (const auto& f : o.files) err << ' ' << f;
      err << "'?\n";
      return kUsage;
    }
    out << app.help();
    return kUsage;
  } catch (const std::bad_alloc&) {
    err << "floc: fatal error: out of memory\n";
    return kUsage;
  } catch (const std::exception& e) {
    err << "floc: internal error: " << e.what() << "\n";
    return kUsage;
  } catch (...) {
    err << "floc: internal error: unknown exception\n";
    return kUsage;
  }
}

} // namespace flo::driver
