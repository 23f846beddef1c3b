/// \file
/// Hosting nodes and serving (core/net node_host.h, serve.h): two identities, each in its own
/// FOG_HOME (two machines), come up on loopback, exchange a message and an echo, and keep each
/// other's key event log when they close; the serve loop stops on its count, its deadline and a
/// request.
#include "core/net/node_host.h"
#include "core/net/serve.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <optional>
#include <thread>
#include <unistd.h>

namespace flo::core {
namespace {

namespace fs = std::filesystem;

class NodeHostTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("flo_node_host_" + std::to_string(::getpid()));
    fs::remove_all(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  /// An identity `name` in its own home root_/name, unencrypted unless `passphrase`.
  Keystore makeHome(const std::string& name, const std::optional<std::string>& passphrase = {}) {
    Keystore store(root_ / name);
    std::string error;
    EXPECT_TRUE(store.create(name, std::nullopt, passphrase, error)) << error;
    return store;
  }

  fs::path root_;
};

TEST_F(NodeHostTest, TwoHostsExchangeAMessageAndKeepEachOthersLog) {
  Keystore serverHome = makeHome("server");
  Keystore clientHome = makeHome("client", "secret");
  std::string error;
  auto server = NodeHost::open(serverHome, "server", std::nullopt, {}, error);
  ASSERT_TRUE(server) << error;
  EXPECT_EQ(server->name(), "server");
  EXPECT_TRUE(server->warnings().empty());
  EXPECT_EQ(server->node().did().rfind("did:difuon:", 0), 0u);
  auto client = NodeHost::open(clientHome, "client", std::string("secret"), {}, error);
  ASSERT_TRUE(client) << error;
  std::string serverDid = server->node().did(), clientDid = client->node().did();
  Address to = server->address();
  EXPECT_EQ(to.host, "127.0.0.1");
  EXPECT_NE(to.port, 0);

  // The server echoes one message, then stops (count 1 waits for the echo to be acknowledged).
  ServeResult served;
  std::string from;
  std::thread serving([&] {
    ServeLoop loop(server->node());
    loop.onDelivery([&](const Delivery& d) {
      from = d.did;
      loop.reply(d.from, d.did, d.message);
    });
    ServeOptions options;
    options.count = 1;
    options.duration = std::chrono::seconds(60); // a bound in case the test fails
    options.stopOnSignal = false;
    options.linger = std::chrono::milliseconds(200);
    served = loop.run(options);
    EXPECT_EQ(loop.pendingReplies(), 0u);
  });

  Bytes message{'h', 'e', 'l', 'l', 'o'};
  std::optional<Bytes> echoed;
  bool acknowledged = false;
  client->node().onDelivery([&](const Delivery& d) { echoed = d.message; });
  client->node().onEvent([&](const TransportEvent& e) {
    if (e.kind == TransportEvent::Kind::Acknowledged) acknowledged = true;
  });
  client->node().send(to, serverDid, message);
  bool done = client->node().runUntil([&] { return acknowledged && echoed.has_value(); },
                                      std::chrono::seconds(30));
  serving.join();
  ASSERT_TRUE(done);
  EXPECT_EQ(*echoed, message);
  EXPECT_EQ(served.reason, StopReason::Count);
  EXPECT_EQ(served.delivered, 1u);
  EXPECT_EQ(from, clientDid);

  // Closing keeps the peer's log; every later process of that machine knows the peer.
  ASSERT_TRUE(client->close(error)) << error;
  EXPECT_TRUE(client->closed());
  EXPECT_TRUE(client->close(error)); // once only
  server.reset();                    // the destructor closes too
  KeyDirectory clientKnows, serverKnows;
  clientHome.loadKnown(clientKnows);
  serverHome.loadKnown(serverKnows);
  EXPECT_NE(clientKnows.log(serverDid), nullptr);
  EXPECT_NE(serverKnows.log(clientDid), nullptr);
  EXPECT_TRUE(fs::exists(root_ / "client" / "known"));
}

TEST_F(NodeHostTest, OpenFailsClearly) {
  Keystore home = makeHome("alice", "right");
  std::string error;
  EXPECT_FALSE(NodeHost::open(home, "alice", std::string("wrong"), {}, error));
  EXPECT_NE(error.find("wrong passphrase"), std::string::npos) << error;
  error.clear();
  EXPECT_FALSE(NodeHost::open(home, "nobody", std::nullopt, {}, error));
  EXPECT_FALSE(error.empty());
  NodeOptions bad;
  bad.address = "localhost:1"; // numeric hosts only
  error.clear();
  EXPECT_FALSE(NodeHost::open(home, "alice", std::string("right"), bad, error));
  EXPECT_NE(error.find("numeric"), std::string::npos) << error;
}

TEST_F(NodeHostTest, ServeStopsOnItsDeadlineAndOnRequest) {
  Keystore home = makeHome("quiet");
  std::string error;
  auto host = NodeHost::open(home, "quiet", std::nullopt, {}, error);
  ASSERT_TRUE(host) << error;
  ServeLoop loop(host->node());
  ServeOptions options;
  options.duration = std::chrono::milliseconds(50);
  options.stopOnSignal = false;
  options.linger = std::chrono::milliseconds(0);
  options.slice = std::chrono::milliseconds(10);
  ServeResult r = loop.run(options);
  EXPECT_EQ(r.reason, StopReason::Deadline);
  EXPECT_EQ(r.delivered, 0u);

  options.duration = std::chrono::milliseconds(0); // no deadline: only the request stops it
  loop.requestStop();
  EXPECT_EQ(loop.run(options).reason, StopReason::Requested);
}

} // namespace
} // namespace flo::core
