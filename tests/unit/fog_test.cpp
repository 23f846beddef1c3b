/// \file
/// The fog commands end to end, in process, with FOG_HOME and FOG_PASSPHRASE set as a script
/// would; every command of the table answers --help, and a passphrase can come through the
/// input stream runFog is given. Nothing may reach the process's own std::cout or std::cerr.
#include "core/crypto.h"
#include "core/provenance.h"
#include "fog/cli.h"
#include "fog/fog.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace flo::fog {
namespace {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string out, err;
};

/// Runs fog with `input` as its input stream; fails the test if anything reaches the process's
/// std::cout or std::cerr instead of the streams runFog was given.
Result fog(std::vector<std::string> args, const std::string& input = "", bool interactive = false) {
  std::vector<const char*> argv{"fog"};
  for (auto& a : args) argv.push_back(a.c_str());
  std::istringstream in(input);
  std::ostringstream out, err, strayOut, strayErr;
  auto* coutBuf = std::cout.rdbuf(strayOut.rdbuf());
  auto* cerrBuf = std::cerr.rdbuf(strayErr.rdbuf());
  int status = runFog(int(argv.size()), argv.data(), in, out, err, interactive);
  std::cout.rdbuf(coutBuf);
  std::cerr.rdbuf(cerrBuf);
  EXPECT_EQ(strayOut.str(), "") << "fog wrote to std::cout";
  EXPECT_EQ(strayErr.str(), "") << "fog wrote to std::cerr";
  return {status, out.str(), err.str()};
}

class FogCli : public ::testing::Test {
protected:
  void SetUp() override {
    home_ = fs::temp_directory_path() / ("flo_fog_" + std::to_string(::getpid()));
    fs::remove_all(home_);
    ::setenv("FOG_HOME", home_.c_str(), 1);
    ::setenv("FOG_PASSPHRASE", "test passphrase", 1);
  }
  void TearDown() override {
    ::unsetenv("FOG_PASSPHRASE");
    fs::remove_all(home_);
  }
  fs::path home_;
};

TEST_F(FogCli, NewPrintsDidKeyAndDid) {
  auto r = fog({"id", "new", "alice", "--seed",
                "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out.substr(0, r.out.find('\n')),
            "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw");
  EXPECT_NE(r.out.find("did:difuon:"), std::string::npos);
  EXPECT_EQ(fog({"id", "new", "alice"}).status, 1); // taken
  EXPECT_EQ(fog({"id", "new", "bob", "--seed", "abc"}).status, 2);
}

TEST_F(FogCli, ShowJsonIsADidDocument) {
  ASSERT_EQ(fog({"id", "new", "carol"}).status, 0);
  auto r = fog({"id", "show", "carol", "--json"});
  ASSERT_EQ(r.status, 0);
  auto doc = nlohmann::json::parse(r.out);
  EXPECT_EQ(doc["@context"][0], "https://www.w3.org/ns/did/v1");
  EXPECT_EQ(doc["id"].get<std::string>().rfind("did:difuon:", 0), 0u);
  EXPECT_EQ(doc["verificationMethod"][0]["type"], "Ed25519VerificationKey2020");
  auto list = nlohmann::json::parse(fog({"id", "list", "--json"}).out);
  EXPECT_EQ(list.size(), 1u);
}

/// The bytes of `path`.
core::Bytes readBytes(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  return core::Bytes(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void writeBytes(const fs::path& path, const core::Bytes& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

TEST_F(FogCli, VerifyRefusesAChangedFileAndAForgedRecord) {
  // The key stays current throughout: the changes alone must make verification fail.
  ASSERT_EQ(fog({"id", "new", "dave"}).status, 0);
  fs::path file = home_ / "doc.txt";
  std::ofstream(file) << "payload";
  ASSERT_EQ(fog({"sign", "--id", "dave", file.string()}).status, 0);
  std::string sig = file.string() + ".sig";
  auto good = fog({"verify", file.string(), sig});
  ASSERT_EQ(good.status, 0) << good.err;
  EXPECT_NE(good.out.find("valid signature by did:difuon:"), std::string::npos) << good.out;

  std::ofstream(file) << "paylOad"; // one byte changed, same length
  auto changed = fog({"verify", file.string(), sig});
  EXPECT_EQ(changed.status, 1);
  EXPECT_NE(changed.err.find("the content does not match the signed digest"), std::string::npos)
      << changed.err;

  // A record whose digest was swapped for the changed file's: the signature does not cover it.
  core::Bytes record = readBytes(sig);
  core::Digest signedDigest = core::hash(std::string_view("payload"));
  core::Digest changedDigest = core::hash(std::string_view("paylOad"));
  auto at = std::search(record.begin(), record.end(), signedDigest.begin(), signedDigest.end());
  ASSERT_NE(at, record.end()) << "the record does not hold the content's digest";
  std::copy(changedDigest.begin(), changedDigest.end(), at);
  fs::path forged = home_ / "doc.txt.forged.sig";
  writeBytes(forged, record);
  auto swapped = fog({"verify", file.string(), forged.string()});
  EXPECT_EQ(swapped.status, 1);
  EXPECT_NE(swapped.err.find("the signature is invalid"), std::string::npos) << swapped.err;

  // The unchanged file still verifies against the untouched record.
  std::ofstream(file) << "payload";
  EXPECT_EQ(fog({"verify", file.string(), sig}).status, 0);
}

TEST_F(FogCli, RotationRetiresTheOldKeysSignatures) {
  ASSERT_EQ(fog({"id", "new", "dave"}).status, 0);
  fs::path file = home_ / "doc.txt";
  std::ofstream(file) << "payload";
  ASSERT_EQ(fog({"sign", "--id", "dave", file.string()}).status, 0);
  std::string sig = file.string() + ".sig";
  auto before = fog({"verify", file.string(), sig});
  ASSERT_EQ(before.status, 0) << before.err;
  EXPECT_NE(before.out.find("(key of rotation 0)"), std::string::npos) << before.out;
  core::Bytes oldRecord = readBytes(sig);

  ASSERT_EQ(fog({"id", "rotate", "dave"}).status, 0);
  // The file is unchanged: only the rotation makes the old signature fail.
  auto stale = fog({"verify", file.string(), sig});
  EXPECT_EQ(stale.status, 1);
  EXPECT_NE(stale.err.find("no longer current"), std::string::npos) << stale.err;

  // The new key signs, and its signature verifies at rotation 1.
  ASSERT_EQ(fog({"sign", "--id", "dave", file.string()}).status, 0);
  EXPECT_NE(readBytes(sig), oldRecord);
  auto after = fog({"verify", file.string(), sig});
  EXPECT_EQ(after.status, 0) << after.err;
  EXPECT_NE(after.out.find("(key of rotation 1)"), std::string::npos) << after.out;

  ::setenv("FOG_PASSPHRASE", "wrong", 1);
  auto wrong = fog({"sign", "--id", "dave", file.string()});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos);
}

TEST_F(FogCli, PassphraseLessModeSaysSo) {
  ::unsetenv("FOG_PASSPHRASE");
  auto r = fog({"id", "new", "daemon", "--no-passphrase"});
  ASSERT_EQ(r.status, 0);
  EXPECT_NE(r.err.find("unencrypted"), std::string::npos);
  fs::path file = home_ / "x";
  std::ofstream(file) << "x";
  EXPECT_EQ(fog({"sign", "--id", "daemon", file.string()}).status, 0);
}

TEST_F(FogCli, HelpAndNotYet) {
  EXPECT_EQ(fog({"--help"}).status, 0);
  EXPECT_EQ(fog({"id", "new", "--help"}).status, 0);
  auto deploy = fog({"deploy"});
  EXPECT_EQ(deploy.status, 2) << "the program is required";
  EXPECT_EQ(fog({"deploy", "--help"}).status, 0);
  // The pool's commands without a fog say so (they start nothing).
  auto status = fog({"status", "--dir", (home_ / "nofog").string()});
  EXPECT_EQ(status.status, 1);
  EXPECT_NE(status.err.find("no fog in"), std::string::npos) << status.err;
  auto balance = fog({"account", "balance", "alice", "--dir", (home_ / "nofog").string()});
  EXPECT_EQ(balance.status, 1);
}

TEST_F(FogCli, EveryCommandAndGroupAnswersHelpFromTheTable) {
  auto top = fog({"--help"});
  ASSERT_EQ(top.status, 0);
  std::size_t runnable = 0;
  for (const Command& cmd : commands()) {
    std::string name;
    for (const auto& p : cmd.path) name += (name.empty() ? "" : " ") + p;
    SCOPED_TRACE("fog " + name);
    std::vector<std::string> args = cmd.path;
    args.push_back("--help");
    auto r = fog(args);
    EXPECT_EQ(r.status, 0);
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("Usage: fog " + name), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(cmd.summary), std::string::npos) << r.out;
    for (const auto& option : optionNames(cmd))
      EXPECT_NE(r.out.find(option), std::string::npos) << option << " missing from\n" << r.out;
    if (cmd.path.size() == 1) EXPECT_NE(top.out.find(cmd.summary), std::string::npos);
    if (!cmd.run) {
      // A group lists its subcommands, and wants one.
      for (const Command& sub : commands())
        if (sub.path.size() == cmd.path.size() + 1 &&
            std::equal(cmd.path.begin(), cmd.path.end(), sub.path.begin()))
          EXPECT_NE(r.out.find(sub.path.back()), std::string::npos);
      auto bare = fog(cmd.path);
      EXPECT_EQ(bare.status, 2);
      EXPECT_NE(bare.err.find("fog " + name + " --help"), std::string::npos) << bare.err;
    } else {
      ++runnable;
    }
  }
  EXPECT_GE(runnable, 18u);
  auto benchNet = std::find_if(commands().begin(), commands().end(), [](const Command& c) {
    return c.path == std::vector<std::string>{"bench", "net"};
  });
  ASSERT_NE(benchNet, commands().end());
  auto bench = optionNames(*benchNet);
  EXPECT_NE(std::find(bench.begin(), bench.end(), "--json"), bench.end());
  EXPECT_NE(std::find(bench.begin(), bench.end(), "--quick"), bench.end());
}

TEST_F(FogCli, VersionUnknownCommandsAndJobsWithoutAFog) {
  auto v = fog({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out, "fog 0.1.0\n");
  EXPECT_EQ(fog({}).status, 2);
  auto unknown = fog({"launch"});
  EXPECT_EQ(unknown.status, 2);
  EXPECT_NE(unknown.err.find("fog --help"), std::string::npos);
  std::string nofog = (home_ / "nofog").string();
  for (std::vector<std::string> args : {std::vector<std::string>{"deploy", "x.flo"},
                                        {"jobs"},
                                        {"results", "abcd"},
                                        {"logs", "abcd"},
                                        {"cancel", "abcd"}}) {
    args.insert(args.end(), {"--dir", nofog});
    auto r = fog(args);
    EXPECT_EQ(r.status, 1) << args[0];
    EXPECT_NE(r.err.find("no fog in"), std::string::npos) << r.err;
  }
  EXPECT_EQ(fog({"logs", "some", "--argument"}).status, 2) << "an unknown option";
}

TEST_F(FogCli, PassphraseThroughTheInputStream) {
  ::unsetenv("FOG_PASSPHRASE");
  // No terminal and nothing given: fail at once rather than wait for input.
  auto none = fog({"id", "new", "erin"});
  EXPECT_EQ(none.status, 2);
  EXPECT_NE(none.err.find("--passphrase-stdin"), std::string::npos) << none.err;

  // --passphrase-stdin: the first line of the input stream.
  ASSERT_EQ(fog({"id", "new", "erin", "--passphrase-stdin"}, "stream secret\n").status, 0);
  fs::path file = home_ / "note.txt";
  std::ofstream(file) << "note";
  EXPECT_EQ(
      fog({"sign", "--id", "erin", "--passphrase-stdin", file.string()}, "stream secret\n").status,
      0);
  auto wrong = fog({"sign", "--id", "erin", "--passphrase-stdin", file.string()}, "other\n");
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos) << wrong.err;
  EXPECT_EQ(fog({"sign", "--id", "erin", "--passphrase-stdin", file.string()}, "").status, 1);
  EXPECT_EQ(
      fog({"sign", "--id", "erin", "--passphrase-stdin", "--passphrase-file", "x", file.string()})
          .status,
      2); // one or the other

  // An interactive input: prompts on err, answers read from the stream, twice for a new key.
  auto typed = fog({"id", "new", "frank"}, "typed secret\ntyped secret\n", true);
  ASSERT_EQ(typed.status, 0) << typed.err;
  EXPECT_NE(typed.err.find("passphrase: "), std::string::npos);
  EXPECT_NE(typed.err.find("again: "), std::string::npos);
  EXPECT_EQ(fog({"id", "rotate", "frank"}, "typed secret\n", true).status, 0);
  auto differ = fog({"id", "new", "grace"}, "one\ntwo\n", true);
  EXPECT_EQ(differ.status, 2);
  EXPECT_NE(differ.err.find("differ"), std::string::npos);
  EXPECT_EQ(fog({"id", "rotate", "frank"}, "not it\n", true).status, 1);
}

} // namespace
TEST_F(FogCli, ProvenanceRecordsAndLineage) {
  ASSERT_EQ(fog({"id", "new", "sensor", "--no-passphrase"}).status, 0);
  fs::path data = home_ / "reading.txt";
  {
    std::ofstream(data) << "21.5\n";
  }
  auto src = fog({"provenance", "record", "--id", "sensor", data.string()});
  ASSERT_EQ(src.status, 0) << src.err;
  std::string source = src.out.substr(0, src.out.find('\n'));
  auto child = fog({"provenance", "record", "--id", "sensor", "--event", "modify", "--parent",
                    source, "--json", data.string()});
  ASSERT_EQ(child.status, 0) << child.err;
  auto j = nlohmann::json::parse(child.out);
  std::string item = j["item"];
  EXPECT_EQ(j["parents"][0], source);
  EXPECT_EQ(j["event"], "modify");

  auto lineage = fog({"provenance", "lineage", item});
  EXPECT_EQ(lineage.status, 0) << lineage.out << lineage.err;
  EXPECT_NE(lineage.out.find("2 items verified, 1 sources"), std::string::npos) << lineage.out;
  EXPECT_NE(lineage.out.find("source " + source), std::string::npos);
  auto shown = fog({"provenance", "show", source, "--json"});
  EXPECT_EQ(shown.status, 0);
  EXPECT_EQ(nlohmann::json::parse(shown.out)["children"][0], item);

  // A parent that was never recorded: the record is kept, the walk names the gap, exit 1.
  std::string missing = flo::core::itemIdOf(flo::core::Digest{});
  auto orphan = fog({"provenance", "record", "--id", "sensor", "--parent", missing, data.string()});
  ASSERT_EQ(orphan.status, 0) << orphan.err;
  std::string o = orphan.out.substr(0, orphan.out.find('\n'));
  auto broken = fog({"provenance", "lineage", o, "--json"});
  EXPECT_EQ(broken.status, 1);
  auto bj = nlohmann::json::parse(broken.out);
  EXPECT_FALSE(bj["verified"].get<bool>());
  EXPECT_EQ(bj["broken"]["item"], missing);
  EXPECT_EQ(fog({"provenance", "lineage", "not-an-item"}).status, 1);
  EXPECT_EQ(
      fog({"provenance", "record", "--id", "sensor", "--event", "explode", data.string()}).status,
      2);
}

} // namespace flo::fog
