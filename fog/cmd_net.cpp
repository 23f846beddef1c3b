/// \file
/// `fog net listen|send`: the encrypted transport from the command line. Bringing the node up
/// and down is core/net's NodeHost, the listener's loop is core/net's ServeLoop; what is left
/// here is options, the passphrase and what gets printed.
#include "core/net/node_host.h"
#include "core/net/serve.h"
#include "fog/commands.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>

namespace flo::fog {

using namespace core;

namespace {

void addNodeOptions(CLI::App& app, Options& o) {
  app.add_option("--id", o.name, "identity the node speaks as")->required();
  addPassphraseOptions(app, o);
  app.add_option("--loss", o.loss, "drop this share of outgoing datagrams (testing)");
  app.add_option("--duplicate", o.duplicate, "duplicate this share of outgoing datagrams");
  app.add_option("--seed", o.seed, "seed of the loss shim");
}

/// The node of identity --id at `o.addr`, its warnings printed; nullptr and `error` when the
/// identity cannot be unlocked or the address bound.
std::unique_ptr<NodeHost> openHost(Context& c, std::string& error) {
  const Options& o = c.options;
  auto secret = c.secretFor(o.name, error);
  if (!secret) return nullptr;
  NodeOptions options;
  options.address = o.addr;
  options.loss = o.loss;
  options.duplicate = o.duplicate;
  options.seed = o.seed;
  auto host = NodeHost::open(c.keystore(), o.name, *secret, options, error);
  if (!host) return nullptr;
  for (const auto& w : host->warnings()) c.warn("skipped key event log " + w);
  return host;
}

/// Closes the node (CLOSE to its peers) and keeps the logs they proved.
void closeHost(Context& c, NodeHost& host) {
  std::string error;
  if (!host.close(error)) c.warn("peers' key event logs not kept: " + error);
}

} // namespace

void addNetListenOptions(CLI::App& app, Options& o) {
  addNodeOptions(app, o);
  app.add_option("--addr", o.addr, "HOST:PORT to listen on (loopback)")->required();
  app.add_flag("--echo", o.echo, "send every message back to its sender");
  app.add_option("--save", o.save, "write each message received to DIR/1, DIR/2, ...");
  app.add_option("--count", o.count, "exit after this many messages");
  app.add_option("--duration", o.seconds, "exit after this many seconds");
}

int netListen(Context& c) {
  const Options& o = c.options;
  if (!UdpNode::parseAddress(o.addr))
    return c.fail("--addr takes HOST:PORT with a numeric host", kUsage);
  std::string error;
  auto host = openHost(c, error);
  if (!host) return c.fail(error);
  UdpNode& net = host->node();
  c.out << "listening on " << o.addr.substr(0, o.addr.rfind(':')) << ":" << net.localPort()
        << " as " << net.did() << " (key " << didKey(net.publicKey()) << ")" << std::endl;
  if (!o.save.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(o.save, ec);
    if (ec) return c.fail("cannot create " + o.save + ": " + ec.message());
  }
  ServeLoop loop(net);
  loop.onDelivery([&](const Delivery& d) {
    c.out << d.did << " " << d.message.size() << " bytes";
    if (!o.save.empty()) {
      auto path = std::filesystem::path(o.save) / std::to_string(loop.delivered());
      std::ofstream f(path, std::ios::binary);
      f.write(reinterpret_cast<const char*>(d.message.data()), std::streamsize(d.message.size()));
      c.out << (f.good() ? " -> " + path.string() : " (cannot write " + path.string() + ")");
    }
    c.out << std::endl;
    if (o.echo) loop.reply(d.from, d.did, d.message);
  });
  loop.onReplySettled([&](const TransportEvent& e) {
    if (e.kind == TransportEvent::Kind::Failed) c.warn("echo to " + e.did + " failed: " + e.reason);
  });
  ServeOptions serve;
  serve.count = o.count;
  serve.duration = std::chrono::milliseconds(std::int64_t(o.seconds * 1000));
  ServeResult result = loop.run(serve);
  closeHost(c, *host);
  c.err << "fog: " << result.delivered << " message(s) received; " << net.metrics().droppedTotal()
        << " bad packet(s) dropped\n";
  return kOk;
}

void addNetSendOptions(CLI::App& app, Options& o) {
  addNodeOptions(app, o);
  app.add_option("--to", o.to, "DID@HOST:PORT of the receiver (its did:difuon or did:key)")
      ->required();
  app.add_option("--from", o.addr, "HOST:PORT to send from (default 127.0.0.1, any port)");
  app.add_option("--timeout", o.seconds, "seconds to wait for the acknowledgement (default 30)");
  app.add_option("file", o.file, "file to send")->required();
}

int netSend(Context& c) {
  const Options& o = c.options;
  auto at = o.to.rfind('@');
  if (at == std::string::npos) return c.fail("--to takes DID@HOST:PORT", kUsage);
  std::string peer = o.to.substr(0, at);
  if (!parseDidKey(peer) && !parseDidDifuon(peer))
    return c.fail("--to: '" + peer + "' is not a did:key or a did:difuon", kUsage);
  auto address = UdpNode::parseAddress(o.to.substr(at + 1));
  if (!address) return c.fail("--to takes DID@HOST:PORT with a numeric host", kUsage);
  if (!UdpNode::parseAddress(o.addr))
    return c.fail("--from takes HOST:PORT with a numeric host", kUsage);
  std::string error;
  auto content = readFile(o.file, error);
  if (!content) return c.fail(error);
  auto host = openHost(c, error);
  if (!host) return c.fail(error);
  UdpNode& net = host->node();
  std::optional<TransportEvent> outcome;
  MessageId mine = 0;
  net.onEvent([&](const TransportEvent& e) {
    if ((e.kind == TransportEvent::Kind::Acknowledged || e.kind == TransportEvent::Kind::Failed) &&
        e.id == mine)
      outcome = e;
  });
  auto start = Clock::now();
  mine = net.send(*address, peer, *content);
  double timeout = o.seconds > 0 ? o.seconds : 30;
  bool done = net.runUntil([&] { return outcome.has_value(); },
                           std::chrono::milliseconds(std::int64_t(timeout * 1000)));
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  net.onEvent({});
  closeHost(c, *host);
  if (!done)
    return c.fail("no acknowledgement from " + o.to + " within " + std::to_string(int(timeout)) +
                  " s");
  if (outcome->kind == TransportEvent::Kind::Failed)
    return c.fail("delivery failed: " + outcome->reason);
  double mbps = ms > 0 ? double(content->size()) / 1e6 / (ms / 1000) : 0;
  c.out << "delivered " << content->size() << " bytes to " << peer << " in " << std::fixed
        << std::setprecision(1) << ms << " ms (" << std::setprecision(2) << mbps << " MB/s)";
  if (auto st = net.metrics().retransmissions; st) c.out << ", " << st << " retransmission(s)";
  c.out << "\n";
  return kOk;
}

} // namespace flo::fog
