/// \file
/// The fog identity commands end to end, in process, with FOG_HOME and FOG_PASSPHRASE set as a
/// script would.
#include "core/provenance.h"
#include "fog/fog.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace flo::fog {
namespace {

namespace fs = std::filesystem;

struct Result {
  int status;
  std::string out, err;
};

Result fog(std::vector<std::string> args) {
  std::vector<const char*> argv{"fog"};
  for (auto& a : args) argv.push_back(a.c_str());
  std::istringstream in;
  std::ostringstream out, err;
  int status = runFog(int(argv.size()), argv.data(), in, out, err);
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

TEST_F(FogCli, SignVerifyRotate) {
  ASSERT_EQ(fog({"id", "new", "dave"}).status, 0);
  fs::path file = home_ / "doc.txt";
  std::ofstream(file) << "payload";
  ASSERT_EQ(fog({"sign", "--id", "dave", file.string()}).status, 0);
  std::string sig = file.string() + ".sig";
  EXPECT_EQ(fog({"verify", file.string(), sig}).status, 0);
  ASSERT_EQ(fog({"id", "rotate", "dave"}).status, 0);
  auto stale = fog({"verify", file.string(), sig});
  EXPECT_EQ(stale.status, 1);
  EXPECT_NE(stale.err.find("no longer current"), std::string::npos);
  ::setenv("FOG_PASSPHRASE", "wrong", 1);
  auto wrong = fog({"sign", "--id", "dave", file.string()});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("wrong passphrase"), std::string::npos);
  std::ofstream(file) << "changed";
  EXPECT_EQ(fog({"verify", file.string(), sig}).status, 1);
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
  auto up = fog({"up"});
  EXPECT_EQ(up.status, 2);
  EXPECT_NE(up.err.find("not implemented yet"), std::string::npos);
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
