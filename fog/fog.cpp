/// \file
/// The fog driver: a table of subcommands built with CLI11. For now the identity commands
/// (`fog id new|list|show|rotate`, `fog sign`, `fog verify`); the pool, relay and fogger
/// commands say that they are not implemented yet.
#include "fog/fog.h"

#include "core/net/udp_node.h"
#include "core/signed_file.h"
#include "core/store/keystore.h"
#include "core/store/provenance_store.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <termios.h>
#include <unistd.h>

namespace flo::fog {

namespace {

using namespace core;

constexpr int kOk = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

struct Options {
  std::string name;
  std::string seedHex;
  std::string passphraseFile;
  bool noPassphrase = false;
  bool json = false;
  std::string file;
  std::string signatureFile;
  // net
  std::string addr = "127.0.0.1:0";
  std::string to;
  bool echo = false;
  std::string save; ///< net listen: folder for the messages received
  std::size_t count = 0;
  double seconds = 0;
  double loss = 0;
  double duplicate = 0;
  std::uint64_t seed = 1;
  // provenance
  std::string db;
  std::string event; ///< default: create, modify (one parent) or join (several)
  std::string job;
  std::vector<std::string> parents;
  std::string item;
};

volatile std::sig_atomic_t interrupted = 0;

std::optional<Bytes> readFile(const std::string& path, std::string& error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return error = "cannot read '" + path + "'", std::nullopt;
  std::stringstream buf;
  buf << in.rdbuf();
  std::string s = buf.str();
  return Bytes(s.begin(), s.end());
}

/// The passphrase from --passphrase-file, FOG_PASSPHRASE or a prompt without echo (in that
/// order); nullopt when none can be had (no terminal).
std::optional<std::string> passphrase(const Options& o, bool confirm, std::ostream& err,
                                      std::string& error) {
  if (!o.passphraseFile.empty()) {
    std::ifstream in(o.passphraseFile);
    if (!in) return error = "cannot read passphrase file '" + o.passphraseFile + "'", std::nullopt;
    std::string line;
    std::getline(in, line);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  if (const char* env = std::getenv("FOG_PASSPHRASE")) return std::string(env);
  if (!isatty(STDIN_FILENO)) {
    error = "no passphrase: give --passphrase-file or set FOG_PASSPHRASE (no terminal to ask on)";
    return std::nullopt;
  }
  auto ask = [&](const char* prompt) {
    err << prompt << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::string line;
    std::getline(std::cin, line);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    err << "\n";
    return line;
  };
  std::string first = ask("passphrase: ");
  if (confirm && ask("again: ") != first) return error = "the passphrases differ", std::nullopt;
  return first;
}

class Session {
public:
  Session(const Options& o, std::ostream& out, std::ostream& err)
      : o_(o), out_(out), err_(err), store_(Keystore::defaultHome()) {}

  int fail(const std::string& message, int status = kFailed) {
    err_ << "fog: error: " << message << "\n";
    return status;
  }

  /// The passphrase for an existing identity (none needed when it is stored unencrypted).
  std::optional<std::optional<std::string>> secretFor(const std::string& name, std::string& error) {
    auto pub = store_.loadPublic(name, error);
    if (!pub) return std::nullopt;
    if (!pub->encrypted) return std::optional<std::string>{};
    auto p = passphrase(o_, false, err_, error);
    if (!p) return std::nullopt;
    return std::optional<std::string>(*p);
  }

  int idNew() {
    std::optional<Seed> seed;
    if (!o_.seedHex.empty()) {
      auto bytes = fromHex(o_.seedHex);
      if (!bytes || bytes->size() != 32)
        return fail("--seed takes 64 hex digits (32 bytes)", kUsage);
      seed.emplace();
      std::copy(bytes->begin(), bytes->end(), seed->data());
    }
    std::string error;
    std::optional<std::string> pass;
    if (!o_.noPassphrase) {
      pass = passphrase(o_, true, err_, error);
      if (!pass) return fail(error + " (or --no-passphrase for a daemon's key)", kUsage);
    }
    auto id = store_.create(o_.name, seed, pass, error);
    if (!id) return fail(error);
    KeyState st = id->state();
    if (o_.json) {
      out_ << nlohmann::json{{"name", id->name},
                             {"did", st.did},
                             {"key", didKey(st.currentKey)},
                             {"encrypted", id->encrypted}}
                  .dump(2)
           << "\n";
    } else {
      out_ << didKey(st.currentKey) << "\n" << st.did << "\n";
    }
    if (!id->encrypted)
      err_ << "fog: note: the secret keys of '" << id->name
           << "' are stored unencrypted, protected only by file permissions (0600)\n";
    return kOk;
  }

  int idList() {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& name : store_.list()) {
      std::string error;
      auto pub = store_.loadPublic(name, error);
      if (!pub) {
        err_ << "fog: warning: " << error << "\n";
        continue;
      }
      if (o_.json)
        list.push_back({{"name", name},
                        {"did", pub->state.did},
                        {"key", didKey(pub->state.currentKey)},
                        {"rotations", pub->state.sequence},
                        {"encrypted", pub->encrypted}});
      else
        out_ << name << "  " << pub->state.did << "  " << didKey(pub->state.currentKey)
             << (pub->encrypted ? "" : "  (unencrypted)") << "\n";
    }
    if (o_.json) out_ << list.dump(2) << "\n";
    return kOk;
  }

  int idShow() {
    std::string error;
    auto pub = store_.loadPublic(o_.name, error);
    if (!pub) return fail(error);
    if (o_.json) {
      out_ << didDocument(pub->state) << "\n";
    } else {
      out_ << "name:     " << pub->name << "\n"
           << "did:      " << pub->state.did << "\n"
           << "key:      " << didKey(pub->state.currentKey) << "\n"
           << "rotation: " << pub->state.sequence << "\n"
           << "next key: committed (digest " << toHex(pub->state.nextDigest) << ")\n"
           << "storage:  "
           << (pub->encrypted ? "encrypted (Argon2id, XChaCha20-Poly1305)" : "unencrypted (0600)")
           << "\n";
    }
    return kOk;
  }

  int idRotate() {
    std::string error;
    auto secret = secretFor(o_.name, error);
    if (!secret) return fail(error);
    auto id = store_.rotate(o_.name, *secret, error);
    if (!id) return fail(error);
    KeyState st = id->state();
    out_ << didKey(st.currentKey) << "\n" << st.did << "\n";
    return kOk;
  }

  int sign() {
    std::string error;
    auto content = readFile(o_.file, error);
    if (!content) return fail(error);
    auto id = identity(error);
    if (!id) return fail(error);
    Bytes record = signDetached(*id, *content);
    std::string sigPath = o_.file + ".sig";
    std::ofstream f(sigPath, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(record.data()), std::streamsize(record.size()));
    if (!f.flush()) return fail("cannot write '" + sigPath + "'");
    out_ << sigPath << "\n";
    return kOk;
  }

  int verify() {
    std::string error;
    auto content = readFile(o_.file, error);
    if (!content) return fail(error);
    auto sig = readFile(o_.signatureFile, error);
    if (!sig) return fail(error);
    // The newest log this machine holds for the signer: its own identities', or one seen from
    // the signer before (fog net keeps the logs of the peers it met).
    KeyDirectory known;
    store_.loadKnown(known);
    LogLookup lookup = [&known](const std::string& did) -> std::optional<std::vector<KeyEvent>> {
      if (const auto* log = known.log(did)) return *log;
      return std::nullopt;
    };
    Verification v = verifyDetached(*content, *sig, lookup);
    if (o_.json) {
      out_ << nlohmann::json{{"valid", v.valid},
                             {"signer", v.did},
                             {"reason", v.reason},
                             {"rotation", v.keySequence}}
                  .dump(2)
           << "\n";
    } else if (v.valid) {
      out_ << "valid signature by " << v.did << " (key of rotation " << v.keySequence << ")\n";
    }
    if (!v.valid)
      return fail("invalid signature" + (v.did.empty() ? "" : " by " + v.did) + ": " + v.reason);
    return kOk;
  }

  /// Loads the identity whose keys the node speaks with.
  // ---------------------------------------------------------------- provenance

  std::string provenanceDb() const {
    return o_.db.empty() ? (Keystore::defaultHome() / "provenance.db").string() : o_.db;
  }

  std::unique_ptr<ProvenanceStore> openProvenance(std::string& error) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(provenanceDb()).parent_path(), ec);
    return ProvenanceStore::open(provenanceDb(), &error);
  }

  static nlohmann::json recordJson(const ProvenanceRecord& r) {
    return {{"item", r.itemId},
            {"event", eventName(r.event)},
            {"parents", r.parents},
            {"payload_blake2b", toHex(r.payloadHash)},
            {"job", r.job},
            {"producer", r.producer},
            {"timestamp_us", r.timestampMicros}};
  }

  /// `fog provenance record`: a signed record for FILE's content, stored; prints its item id.
  int provenanceRecord() {
    std::string name = o_.event;
    if (name.empty())
      name = o_.parents.empty() ? "create" : o_.parents.size() == 1 ? "modify" : "join";
    auto event = eventFromName(name);
    if (!event)
      return fail("unknown event '" + o_.event +
                      "' (create, fork, join, modify, send, receive, drop)",
                  kUsage);
    std::string error;
    auto content = readFile(o_.file, error);
    if (!content) return fail(error);
    auto id = identity(error);
    if (!id) return fail(error);
    auto store = openProvenance(error);
    if (!store) return fail(error);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
    ProvenanceRecord r =
        makeProvenanceRecord(id->current, *event, o_.parents, *content,
                             o_.job.empty() ? o_.name : o_.job, std::uint64_t(micros));
    if (!store->add(r, &error)) return fail("record rejected: " + error);
    if (o_.json)
      out_ << recordJson(r).dump(2) << "\n";
    else
      out_ << r.itemId << "\n";
    return kOk;
  }

  int provenanceShow() {
    std::string error;
    auto store = openProvenance(error);
    if (!store) return fail(error);
    auto r = store->get(o_.item, &error);
    if (!r) return fail("no record for '" + o_.item + "'" + (error.empty() ? "" : ": " + error));
    std::string detail;
    ProvenanceCheck check = verifyRecord(*r, &detail);
    nlohmann::json j = recordJson(*r);
    j["check"] = checkName(check);
    if (!detail.empty()) j["detail"] = detail;
    j["children"] = store->children(o_.item);
    if (o_.json) {
      out_ << j.dump(2) << "\n";
    } else {
      for (auto& [k, v] : j.items())
        out_ << k << ": " << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
    return check == ProvenanceCheck::Ok ? kOk : kFailed;
  }

  /// `fog provenance lineage`: walks ITEM back to its sources, verifying every record and
  /// link; exit 0 only when the whole lineage verifies.
  int provenanceLineage() {
    std::string error;
    auto store = openProvenance(error);
    if (!store) return fail(error);
    LineageReport rep = store->lineage(o_.item);
    if (o_.json) {
      nlohmann::json j = {{"item", o_.item},
                          {"verified", rep.verified()},
                          {"visited", rep.visited},
                          {"sources", rep.sources},
                          {"truncated", rep.truncated}};
      if (rep.broken)
        j["broken"] = {{"item", rep.broken->itemId},
                       {"check", checkName(rep.broken->check)},
                       {"detail", rep.broken->detail},
                       {"path", rep.broken->path}};
      out_ << j.dump(2) << "\n";
    } else {
      out_ << rep.visited.size() << " items verified, " << rep.sources.size() << " sources\n";
      for (const auto& s : rep.sources) out_ << "source " << s << "\n";
      if (rep.broken) {
        out_ << "broken: " << rep.broken->itemId << ": " << checkName(rep.broken->check)
             << (rep.broken->detail.empty() ? "" : " (" + rep.broken->detail + ")") << "\n";
        out_ << "path:";
        for (const auto& p : rep.broken->path) out_ << " " << p;
        out_ << "\n";
      } else if (rep.truncated) {
        out_ << "stopped at the item limit before the sources\n";
      } else {
        out_ << "lineage verified\n";
      }
    }
    return rep.verified() ? kOk : kFailed;
  }

  std::optional<Identity> identity(std::string& error) {
    auto secret = secretFor(o_.name, error);
    if (!secret) return std::nullopt;
    return store_.load(o_.name, *secret, error);
  }

  std::optional<std::unique_ptr<UdpNode>> node(const Identity& id, std::string& error) {
    auto address = UdpNode::parseAddress(o_.addr);
    if (!address) return error = "--addr takes HOST:PORT with a numeric host", std::nullopt;
    // Speaks as the identity's did:difuon; answers to its did:key as well.
    auto n = std::make_unique<UdpNode>(id.current, id.log);
    if (!n->bind(address->host, address->port, error)) return std::nullopt;
    if (o_.loss > 0 || o_.duplicate > 0) n->injectLoss(o_.loss, o_.duplicate, o_.seed);
    // The logs this machine holds: a peer that rotated is known by its new key, and its
    // rotated-out key refused, whether it shows its log or not.
    std::vector<std::string> warnings;
    store_.loadKnown(n->directory(), &warnings);
    for (const auto& w : warnings) err_ << "fog: warning: skipped key event log " << w << "\n";
    return n;
  }

  /// Ends the node's sessions (CLOSE) and keeps the logs its peers proved.
  void finish(UdpNode& net) {
    net.close();
    std::string error;
    if (!store_.saveKnown(net.directory(), error))
      err_ << "fog: warning: peers' key event logs not kept: " << error << "\n";
  }

  int netListen() {
    std::string error;
    auto id = identity(error);
    if (!id) return fail(error);
    auto n = node(*id, error);
    if (!n) return fail(error);
    UdpNode& net = **n;
    out_ << "listening on " << o_.addr.substr(0, o_.addr.rfind(':')) << ":" << net.localPort()
         << " as " << net.did() << " (key " << didKey(net.publicKey()) << ")" << std::endl;
    std::size_t received = 0, echoesPending = 0;
    if (!o_.save.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(o_.save, ec);
      if (ec) return fail("cannot create " + o_.save + ": " + ec.message());
    }
    net.onDelivery([&](const Delivery& d) {
      ++received;
      out_ << d.did << " " << d.message.size() << " bytes";
      if (!o_.save.empty()) {
        auto path = std::filesystem::path(o_.save) / std::to_string(received);
        std::ofstream f(path, std::ios::binary);
        f.write(reinterpret_cast<const char*>(d.message.data()), std::streamsize(d.message.size()));
        out_ << (f.good() ? " -> " + path.string() : " (cannot write " + path.string() + ")");
      }
      out_ << std::endl;
      if (o_.echo) {
        ++echoesPending;
        net.send(d.from, d.did, d.message);
      }
    });
    net.onEvent([&](const TransportEvent& e) {
      if (e.kind == TransportEvent::Kind::Acknowledged && echoesPending) --echoesPending;
      if (e.kind == TransportEvent::Kind::Failed && echoesPending) {
        --echoesPending;
        err_ << "fog: warning: echo to " << e.did << " failed: " << e.reason << "\n";
      }
    });
    std::signal(SIGINT, [](int) { interrupted = 1; });
    std::signal(SIGTERM, [](int) { interrupted = 1; });
    auto start = Clock::now();
    auto limit =
        o_.seconds > 0 ? std::chrono::duration<double>(o_.seconds) : std::chrono::hours(24 * 365);
    auto finished = [&] {
      return interrupted || (o_.count > 0 && received >= o_.count && echoesPending == 0) ||
             Clock::now() - start >= limit;
    };
    while (!finished()) net.runUntil(finished, std::chrono::milliseconds(200));
    // Linger a moment, as TCP's TIME-WAIT does: the last acknowledgements may have been lost
    // and the senders are still waiting for them.
    if (!interrupted) net.runFor(std::chrono::milliseconds(1500));
    finish(net);
    const auto& m = net.metrics();
    err_ << "fog: " << received << " message(s) received; " << m.droppedTotal()
         << " bad packet(s) dropped\n";
    return kOk;
  }

  int netSend() {
    std::string error;
    auto at = o_.to.rfind('@');
    if (at == std::string::npos) return fail("--to takes DID@HOST:PORT", kUsage);
    std::string peer = o_.to.substr(0, at);
    if (!parseDidKey(peer) && !parseDidDifuon(peer))
      return fail("--to: '" + peer + "' is not a did:key or a did:difuon", kUsage);
    auto address = UdpNode::parseAddress(o_.to.substr(at + 1));
    if (!address) return fail("--to takes DID@HOST:PORT with a numeric host", kUsage);
    auto content = readFile(o_.file, error);
    if (!content) return fail(error);
    auto id = identity(error);
    if (!id) return fail(error);
    auto n = node(*id, error);
    if (!n) return fail(error);
    UdpNode& net = **n;
    std::optional<TransportEvent> outcome;
    MessageId mine = 0;
    net.onEvent([&](const TransportEvent& e) {
      if ((e.kind == TransportEvent::Kind::Acknowledged ||
           e.kind == TransportEvent::Kind::Failed) &&
          e.id == mine)
        outcome = e;
    });
    auto start = Clock::now();
    mine = net.send(*address, peer, *content);
    double timeout = o_.seconds > 0 ? o_.seconds : 30;
    bool done = net.runUntil([&] { return outcome.has_value(); },
                             std::chrono::milliseconds(std::int64_t(timeout * 1000)));
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    finish(net);
    if (!done)
      return fail("no acknowledgement from " + o_.to + " within " + std::to_string(int(timeout)) +
                  " s");
    if (outcome->kind == TransportEvent::Kind::Failed)
      return fail("delivery failed: " + outcome->reason);
    double mbps = ms > 0 ? double(content->size()) / 1e6 / (ms / 1000) : 0;
    out_ << "delivered " << content->size() << " bytes to " << peer << " in " << std::fixed
         << std::setprecision(1) << ms << " ms (" << std::setprecision(2) << mbps << " MB/s)";
    if (auto st = net.metrics().retransmissions; st) out_ << ", " << st << " retransmission(s)";
    out_ << "\n";
    return kOk;
  }

private:
  const Options& o_;
  std::ostream& out_;
  std::ostream& err_;
  Keystore store_;
};

} // namespace

int runFog(int argc, const char* const* argv, std::istream&, std::ostream& out, std::ostream& err) {
  try {
    Options o;
    CLI::App app{"fog: deploy Flo programs to a fog of foggers, and manage identities.\n\n"
                 "Keys live in $FOG_HOME (default ~/.fog). Exit status: 0 success, 1 failure, "
                 "2 usage or internal error.",
                 "fog"};
    app.require_subcommand(1, 1);
    auto passOpts = [&](CLI::App* c) {
      c->add_option("--passphrase-file", o.passphraseFile, "read the passphrase from this file");
    };

    CLI::App* id = app.add_subcommand("id", "identities: DIDs and their keys");
    id->require_subcommand(1, 1);
    CLI::App* idNew =
        id->add_subcommand("new", "create an identity; prints its did:key and its DID");
    idNew->add_option("name", o.name, "identity name")->required();
    idNew->add_option("--seed", o.seedHex, "32-byte seed in hex (deterministic, for tests)");
    idNew->add_flag("--no-passphrase", o.noPassphrase,
                    "store the keys unencrypted, protected by file permissions only (daemons)");
    idNew->add_flag("--json", o.json, "machine-readable output");
    passOpts(idNew);
    CLI::App* idList = id->add_subcommand("list", "list identities");
    idList->add_flag("--json", o.json, "machine-readable output");
    CLI::App* idShow = id->add_subcommand("show", "show an identity (--json: its DID document)");
    idShow->add_option("name", o.name, "identity name")->required();
    idShow->add_flag("--json", o.json, "the W3C DID document as JSON");
    CLI::App* idRotate = id->add_subcommand("rotate", "rotate to the pre-committed next key");
    idRotate->add_option("name", o.name, "identity name")->required();
    passOpts(idRotate);

    CLI::App* sign = app.add_subcommand("sign", "write FILE.sig, a detached signature record");
    sign->add_option("--id", o.name, "identity that signs")->required();
    sign->add_option("file", o.file, "file to sign")->required();
    passOpts(sign);
    CLI::App* verify =
        app.add_subcommand("verify", "check a detached signature (exit 0 only if valid)");
    verify->add_option("file", o.file, "the signed file")->required();
    verify->add_option("signature", o.signatureFile, "its .sig record")->required();
    verify->add_flag("--json", o.json, "machine-readable output");

    CLI::App* net = app.add_subcommand("net", "diagnostics of the encrypted transport");
    net->require_subcommand(1, 1);
    auto netOpts = [&](CLI::App* c) {
      c->add_option("--id", o.name, "identity the node speaks as")->required();
      passOpts(c);
      c->add_option("--loss", o.loss, "drop this share of outgoing datagrams (testing)");
      c->add_option("--duplicate", o.duplicate, "duplicate this share of outgoing datagrams");
      c->add_option("--seed", o.seed, "seed of the loss shim");
    };
    CLI::App* listen =
        net->add_subcommand("listen", "print each message received: sender DID and size");
    netOpts(listen);
    listen->add_option("--addr", o.addr, "HOST:PORT to listen on (loopback)")->required();
    listen->add_flag("--echo", o.echo, "send every message back to its sender");
    listen->add_option("--save", o.save, "write each message received to DIR/1, DIR/2, ...");
    listen->add_option("--count", o.count, "exit after this many messages");
    listen->add_option("--duration", o.seconds, "exit after this many seconds");
    CLI::App* send =
        net->add_subcommand("send", "send a file; exit 0 once delivery is acknowledged");
    netOpts(send);
    send->add_option("--to", o.to, "DID@HOST:PORT of the receiver (its did:difuon or did:key)")
        ->required();
    send->add_option("--from", o.addr, "HOST:PORT to send from (default 127.0.0.1, any port)");
    send->add_option("--timeout", o.seconds,
                     "seconds to wait for the acknowledgement (default 30)");
    send->add_option("file", o.file, "file to send")->required();

    CLI::App* prov = app.add_subcommand("provenance", "signed provenance records and lineage");
    prov->require_subcommand(1, 1);
    auto provOpts = [&](CLI::App* c) {
      c->add_option("--db", o.db, "the SQLite store (default $FOG_HOME/provenance.db)");
      c->add_flag("--json", o.json, "machine-readable output");
    };
    CLI::App* provRecord =
        prov->add_subcommand("record", "sign and store a record for a data item; prints its id");
    provRecord->add_option("--id", o.name, "identity of the producer")->required();
    provRecord->add_option(
        "--event", o.event,
        "create, fork, join, modify, send, receive or drop (default: create without "
        "parents, modify with one, join with more)");
    provRecord->add_option("--parent", o.parents, "a parent item id (repeatable)");
    provRecord->add_option("--job", o.job, "the producing job (default: the identity name)");
    provRecord->add_option("file", o.file, "the item's payload")->required();
    passOpts(provRecord);
    provOpts(provRecord);
    CLI::App* provShow = prov->add_subcommand("show", "one record, checked, with its children");
    provShow->add_option("item", o.item, "item id")->required();
    provOpts(provShow);
    CLI::App* provLineage = prov->add_subcommand(
        "lineage", "walk an item back to its sources, verifying every record and link");
    provLineage->add_option("item", o.item, "item id")->required();
    provOpts(provLineage);

    std::vector<CLI::App*> later;
    for (const char* c : {"up", "deploy", "status", "jobs", "logs", "stake"}) {
      CLI::App* cmd = app.add_subcommand(c, "(not implemented yet)");
      cmd->allow_extras();
      later.push_back(cmd);
    }

    std::vector<std::string> args;
    for (int i = argc - 1; i >= 1; --i) args.emplace_back(argv[i]);
    try {
      app.parse(args);
    } catch (const CLI::CallForHelp&) {
      const CLI::App* target = &app;
      while (!target->get_subcommands().empty()) target = target->get_subcommands()[0];
      out << target->help();
      return kOk;
    } catch (const CLI::ParseError& e) {
      err << "fog: error: " << e.what() << "\nRun 'fog --help' for usage.\n";
      return kUsage;
    }

    Session s(o, out, err);
    if (idNew->parsed()) return s.idNew();
    if (idList->parsed()) return s.idList();
    if (idShow->parsed()) return s.idShow();
    if (idRotate->parsed()) return s.idRotate();
    if (sign->parsed()) return s.sign();
    if (verify->parsed()) return s.verify();
    if (listen->parsed()) return s.netListen();
    if (send->parsed()) return s.netSend();
    if (provRecord->parsed()) return s.provenanceRecord();
    if (provShow->parsed()) return s.provenanceShow();
    if (provLineage->parsed()) return s.provenanceLineage();
    for (CLI::App* cmd : later)
      if (cmd->parsed())
        return s.fail("`fog " + cmd->get_name() + "` is not implemented yet", kUsage);
    return kUsage;
  } catch (const std::exception& e) {
    err << "fog: internal error: " << e.what() << "\n";
    return kUsage;
  }
}

} // namespace flo::fog
