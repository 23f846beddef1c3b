/// \file
/// The fog driver: a table of subcommands built with CLI11. For now the identity commands
/// (`fog id new|list|show|rotate`, `fog sign`, `fog verify`); the pool, relay and fogger
/// commands say that they are not implemented yet.
#include "fog/fog.h"

#include "core/keystore.h"
#include "core/signed_file.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
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
};

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
    auto secret = secretFor(o_.name, error);
    if (!secret) return fail(error);
    auto id = store_.load(o_.name, *secret, error);
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
    // The newest log this machine holds for the signer: its own identities.
    LogLookup lookup = [this](const std::string& did) -> std::optional<std::vector<KeyEvent>> {
      for (const auto& name : store_.list()) {
        std::string e;
        auto pub = store_.loadPublic(name, e);
        if (pub && pub->state.did == did) return pub->log;
      }
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

    std::vector<CLI::App*> later;
    for (const char* c : {"up", "deploy", "status", "jobs", "logs", "provenance", "stake", "net"}) {
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
