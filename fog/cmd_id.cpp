/// \file
/// `fog id new|list|show|rotate`: identities in the keystore, their DIDs and their keys.
#include "fog/commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <ostream>

namespace flo::fog {

using namespace core;

void addIdNewOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "identity name")->required();
  app.add_option("--seed", o.seedHex, "32-byte seed in hex (deterministic, for tests)");
  app.add_flag("--no-passphrase", o.noPassphrase,
               "store the keys unencrypted, protected by file permissions only (daemons)");
  app.add_flag("--json", o.json, "machine-readable output");
  addPassphraseOptions(app, o);
}

int idNew(Context& c) {
  const Options& o = c.options;
  std::optional<Seed> seed;
  if (!o.seedHex.empty()) {
    auto bytes = fromHex(o.seedHex);
    if (!bytes || bytes->size() != 32)
      return c.fail("--seed takes 64 hex digits (32 bytes)", kUsage);
    seed.emplace();
    std::copy(bytes->begin(), bytes->end(), seed->data());
  }
  std::string error;
  std::optional<std::string> pass;
  if (!o.noPassphrase) {
    pass = c.passphrase(true, error);
    if (!pass) return c.fail(error + " (or --no-passphrase for a daemon's key)", kUsage);
  }
  auto id = c.keystore().create(o.name, seed, pass, error);
  if (!id) return c.fail(error);
  KeyState st = id->state();
  if (o.json) {
    c.out << nlohmann::json{{"name", id->name},
                            {"did", st.did},
                            {"key", didKey(st.currentKey)},
                            {"encrypted", id->encrypted}}
                 .dump(2)
          << "\n";
  } else {
    c.out << didKey(st.currentKey) << "\n" << st.did << "\n";
  }
  if (!id->encrypted)
    c.err << "fog: note: the secret keys of '" << id->name
          << "' are stored unencrypted, protected only by file permissions (0600)\n";
  return kOk;
}

void addIdListOptions(CLI::App& app, Options& o) {
  app.add_flag("--json", o.json, "machine-readable output");
}

int idList(Context& c) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& name : c.keystore().list()) {
    std::string error;
    auto pub = c.keystore().loadPublic(name, error);
    if (!pub) {
      c.warn(error);
      continue;
    }
    if (c.options.json)
      list.push_back({{"name", name},
                      {"did", pub->state.did},
                      {"key", didKey(pub->state.currentKey)},
                      {"rotations", pub->state.sequence},
                      {"encrypted", pub->encrypted}});
    else
      c.out << name << "  " << pub->state.did << "  " << didKey(pub->state.currentKey)
            << (pub->encrypted ? "" : "  (unencrypted)") << "\n";
  }
  if (c.options.json) c.out << list.dump(2) << "\n";
  return kOk;
}

void addIdShowOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "identity name")->required();
  app.add_flag("--json", o.json, "the W3C DID document as JSON");
}

int idShow(Context& c) {
  std::string error;
  auto pub = c.keystore().loadPublic(c.options.name, error);
  if (!pub) return c.fail(error);
  if (c.options.json) {
    c.out << didDocument(pub->state) << "\n";
  } else {
    c.out << "name:     " << pub->name << "\n"
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

void addIdRotateOptions(CLI::App& app, Options& o) {
  app.add_option("name", o.name, "identity name")->required();
  addPassphraseOptions(app, o);
}

int idRotate(Context& c) {
  std::string error;
  auto secret = c.secretFor(c.options.name, error);
  if (!secret) return c.fail(error);
  auto id = c.keystore().rotate(c.options.name, *secret, error);
  if (!id) return c.fail(error);
  KeyState st = id->state();
  c.out << didKey(st.currentKey) << "\n" << st.did << "\n";
  return kOk;
}

} // namespace flo::fog
