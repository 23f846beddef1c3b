/// \file
/// The floc driver end to end, in process: exit statuses, help, JSON, fmt modes, flags.
#include "compiler/driver/floc.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace flo::driver {
namespace {

struct Result {
  int status;
  std::string out, err;
};

Result floc(std::vector<std::string> args, std::string stdinText = {}) {
  std::vector<const char*> argv{"floc"};
  for (auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(stdinText);
  std::ostringstream out, err;
  int status = runFloc(int(argv.size()), argv.data(), in, out, err);
  return {status, out.str(), err.str()};
}

std::string writeTemp(const std::string& name, const std::string& text) {
  auto path = std::filesystem::temp_directory_path() / ("floc_test_" + name);
  std::ofstream(path) << text;
  return path.string();
}

const char* kGood = "house h\n  framer f be active\n    frame a\n      print hello\n";

TEST(Floc, CheckExitStatuses) {
  EXPECT_EQ(floc({"check", writeTemp("good.flo", kGood)}).status, 0);
  auto bad = floc({"check", writeTemp("bad.flo", "house h\nframer f be active\nframe a\n go b\n")});
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.err.find("error: no frame named 'b'"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("1 error generated."), std::string::npos);
  EXPECT_EQ(floc({"check", "/nonexistent.flo"}).status, 1);
  EXPECT_EQ(floc({"check"}).status, 2);
  EXPECT_EQ(floc({"frobnicate"}).status, 2);
}

TEST(Floc, HelpOnEveryCommand) {
  for (std::string cmd : {"check", "fmt", "graph"}) {
    auto r = floc({cmd, "--help"});
    EXPECT_EQ(r.status, 0) << cmd;
    EXPECT_NE(r.out.find("-Wdeprecated"), std::string::npos) << cmd;
  }
  EXPECT_EQ(floc({"--help"}).status, 0);
}

TEST(Floc, VersionIsTheProjects) {
  auto r = floc({"--version"});
  EXPECT_EQ(r.status, 0);
  EXPECT_EQ(r.out, "floc " FLO_PROJECT_VERSION "\n");
  EXPECT_EQ(r.err, "");
}

TEST(Floc, JsonDiagnostics) {
  auto r = floc({"check", "--json", "-"}, "house h\nframer f be active\nframe a\n go zz\n");
  EXPECT_EQ(r.status, 1);
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["errors"], 1);
  EXPECT_EQ(doc["diagnostics"][0]["location"]["line"], 4);
  EXPECT_EQ(doc["diagnostics"][0]["location"]["file"], "<stdin>");
}

// Issue 15: a typo in a share path reads a new share. The warning, its name and its "did you
// mean" come out of `floc check --json` (a typo in the last name, then in the node above), and
// -Wno-unwritten-share silences it.
TEST(Floc, UnwrittenShareSuggestsTheWrittenOne) {
  const std::string file =
      writeTemp("unwritten.flo", "house h\n  init .room.temp with 20.0\n  framer f be active\n"
                                 "    frame a\n      go b if .room.tmep > 10.0\n"
                                 "      go b if .rom.temp > 10.0\n    frame b\n");
  auto r = floc({"check", "--json", file});
  EXPECT_EQ(r.status, 0) << r.err;
  auto doc = nlohmann::json::parse(r.out);
  ASSERT_EQ(doc["warnings"], 2) << r.out;
  const auto& typo = doc["diagnostics"][0];
  EXPECT_EQ(typo["warning"], "unwritten-share");
  EXPECT_EQ(typo["message"], "share '.room.tmep' is read but never initialized or written");
  EXPECT_EQ(typo["location"]["line"], 5);
  EXPECT_EQ(typo["location"]["column"], 15);
  ASSERT_EQ(typo["notes"].size(), 1u);
  EXPECT_EQ(typo["notes"][0]["message"], "did you mean '.room.temp'?");
  EXPECT_EQ(doc["diagnostics"][1]["notes"][0]["message"], "did you mean '.room.temp'?");
  auto quiet = floc({"check", "-Wno-unwritten-share", file});
  EXPECT_EQ(quiet.status, 0);
  EXPECT_EQ(quiet.err, "");
}

TEST(Floc, WarningFlags) {
  std::string file = writeTemp("warn.flo", "house h\ninit .x to 1\n");
  EXPECT_EQ(floc({"check", file}).status, 0);
  EXPECT_EQ(floc({"check", "-Werror", file}).status, 1);
  auto quiet = floc({"check", "-Wno-deprecated", file});
  EXPECT_EQ(quiet.err, "");
  auto unknown = floc({"check", "-Wdeprecatd", file});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("did you mean '-Wdeprecated'?"), std::string::npos);
}

TEST(Floc, FmtModes) {
  std::string messy = writeTemp("messy.flo", "house h\nframer f be active\nframe a\nprint hello\n");
  auto printed = floc({"fmt", messy});
  EXPECT_EQ(printed.status, 0);
  EXPECT_EQ(printed.out, kGood);
  EXPECT_EQ(floc({"fmt", "--check", messy}).status, 1);
  EXPECT_EQ(floc({"fmt", "-i", messy}).status, 0);
  EXPECT_EQ(floc({"fmt", "--check", messy}).status, 0);
}

TEST(Floc, EmitAndGraph) {
  std::string file = writeTemp("emit.flo", kGood);
  auto tokens = floc({"--emit=tokens", file});
  EXPECT_EQ(tokens.status, 0);
  EXPECT_NE(tokens.out.find(":1:1 HOUSE 'house'"), std::string::npos) << tokens.out;
  auto ast = floc({"--emit=ast", file});
  EXPECT_NE(ast.out.find(":4:7-4:18 print: print hello"), std::string::npos) << ast.out;
  auto graph = floc({"graph", file});
  EXPECT_EQ(graph.status, 0);
  EXPECT_NE(graph.out.find("digraph flo"), std::string::npos);
  auto ir = floc({"--emit=ir", file});
  EXPECT_EQ(ir.status, 0) << ir.err;
  EXPECT_NE(ir.out.find("tasker #0"), std::string::npos) << ir.out;
  auto llvm = floc({"--emit=llvm", file});
  EXPECT_EQ(llvm.status, 0) << llvm.err;
  EXPECT_NE(llvm.out.find("define i32 @main("), std::string::npos) << llvm.out;
  EXPECT_NE(llvm.out.find("@flo.image"), std::string::npos);
  auto arm = floc({"build", "--emit=asm", "--target", "aarch64-linux-gnu", file});
  EXPECT_EQ(arm.status, 0) << arm.err;
  EXPECT_NE(arm.out.find("main:"), std::string::npos);
  // The static costs, as JSON for scripts (the pool prices jobs with them).
  std::string exe = writeTemp("emit.exe", "");
  auto stats = floc({"build", file, "-o", exe, "--stats-json", "-"});
  ASSERT_EQ(stats.status, 0) << stats.err;
  auto j = nlohmann::json::parse(stats.out);
  EXPECT_GT(j["store"]["slots"].get<int>(), 0);
  EXPECT_EQ(j["costs"][0]["what"], "framer f") << stats.out;
  // `floc run` builds, runs and returns the program's status; `--` passes arguments on.
  EXPECT_EQ(floc({"run", file, "--", "--until", "0"}).status, 0);
  EXPECT_EQ(floc({"run", file, "--", "--no-such-option"}).status, 2);
  auto bad = floc({"build", "--target", "sparc-sun-solaris", file});
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("unsupported target 'sparc-sun-solaris'"), std::string::npos) << bad.err;
  // Several targets are for bundles; the options that sign one need --bundle.
  auto two = floc({"build", "--target", "aarch64-linux-gnu", "--target", "x86_64-linux-gnu", file});
  EXPECT_EQ(two.status, 2);
  EXPECT_NE(two.err.find("several --target are for --bundle"), std::string::npos) << two.err;
  auto id = floc({"build", file, "--id", "alice"});
  EXPECT_EQ(id.status, 2);
  EXPECT_NE(id.err.find("add --bundle"), std::string::npos) << id.err;
  // A job's runs and its bound: `floc run --job` counts each run's work against it.
  std::string jobs = writeTemp("job.flo", "house h\n"
                                          "  framer f be inactive\n"
                                          "    frame a\n"
                                          "      print hello\n"
                                          "      bid stop me\n"
                                          "job j\n"
                                          "  trigger every 1.0\n"
                                          "  limit 4 passes\n"
                                          "  run framer f\n");
  auto js = floc({"build", jobs, "-o", exe, "--stats-json", "-"});
  ASSERT_EQ(js.status, 0) << js.err;
  auto jj = nlohmann::json::parse(js.out);
  EXPECT_EQ(jj["jobs"][0]["name"], "j");
  EXPECT_EQ(jj["jobs"][0]["cost_bound"], 10) << js.out; // 2 acts a turn x (4 passes + the stop)
  EXPECT_EQ(floc({"run", "--job", "j", "--runs", "2", jobs}).status, 0);
  auto none = floc({"run", "--job", "nosuchjob", jobs});
  EXPECT_EQ(none.status, 2);
}

/// A framer of `depth` frames, each in the one before.
std::string nestedFrames(int depth) {
  std::string src = "house h\n  framer f be active first d0\n    frame d0\n      print x\n";
  for (int i = 1; i < depth; ++i)
    src +=
        "    frame d" + std::to_string(i) + " in d" + std::to_string(i - 1) + "\n      print x\n";
  return src;
}

TEST(Floc, FrameNestingLimitIsALocatedError) {
  // docs/language.md "Limits": at most 200 frames over each other.
  EXPECT_EQ(floc({"check", "-"}, nestedFrames(200)).status, 0);
  auto r = floc({"check", "-"}, nestedFrames(201));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("<stdin>:403:19: error: frame 'd200' is nested too deeply (more than 200 "
                       "levels of frames)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 error generated."), std::string::npos) << r.err;
  // Far deeper input neither crashes nor takes long: one error every 200 levels.
  auto deep = floc({"check", "--error-limit=0", "-"}, nestedFrames(20000));
  EXPECT_EQ(deep.status, 1);
  EXPECT_NE(deep.err.find("99 errors generated."), std::string::npos) << deep.err.substr(0, 400);
}

TEST(Floc, NameAndPathLengthLimitsAreLocatedErrors) {
  std::string name(1025, 'n');
  auto r = floc({"check", "-"}, "house h\n  framer f be active\n    frame a\n      put 1 into ." +
                                    name + "\n      print ok\n");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("<stdin>:4:18: error: name or path too long (1026 characters; the limit is "
                       "1024)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("1 error generated."), std::string::npos) << r.err;
  EXPECT_EQ(floc({"check", "-"}, "house h\n  framer f be active\n    frame a\n      print " +
                                     std::string(1024, 'n') + "\n")
                .status,
            0);
  // Frame vias prefix a relative path: the resolved path has its own limit.
  std::string via;
  for (int i = 0; i < 100; ++i) via += (i ? ".v" : "v") + std::to_string(i);
  std::string src = "house h\n  framer f be active first d0\n    frame d0 via " + via + "\n";
  for (int i = 1; i < 12; ++i)
    src +=
        "    frame d" + std::to_string(i) + " in d" + std::to_string(i - 1) + " via " + via + "\n";
  src += "      put 1 into x\n";
  auto v = floc({"check", "-"}, src);
  EXPECT_EQ(v.status, 1);
  EXPECT_NE(v.err.find("error: share path too long once its vias are applied"), std::string::npos)
      << v.err;
}

TEST(Floc, ThousandsOfWarningsAreEachRenderedOnce) {
  // The text renderer buffers its output; every warning and the summary still come out whole.
  std::string src = "house h\n  framer f be active first f0\n";
  const int n = 5000;
  for (int i = 0; i < n; ++i)
    src += "    frame f" + std::to_string(i) + "\n      go f" + std::to_string((i + 1) % n) +
           " if elapsed >= 1.0\n";
  auto r = floc({"check", "-"}, src);
  EXPECT_EQ(r.status, 0);
  std::size_t count = 0;
  for (std::size_t at = r.err.find("[-Wdeprecated]\n"); at != std::string::npos;
       at = r.err.find("[-Wdeprecated]\n", at + 1))
    ++count;
  EXPECT_EQ(count, std::size_t(n));
  EXPECT_NE(r.err.find("<stdin>:" + std::to_string(2 * n + 2) + ":16: warning: bare `elapsed`"),
            std::string::npos);
  EXPECT_TRUE(r.err.ends_with("\n5000 warnings generated.\n")) << r.err.substr(r.err.size() - 200);
}

} // namespace
} // namespace flo::driver
