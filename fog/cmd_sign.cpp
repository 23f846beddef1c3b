/// \file
/// `fog sign` and `fog verify`: detached signature records, checked against the key event logs
/// this machine holds.
#include "core/signed_file.h"
#include "fog/commands.h"
#include "runtime/host/host.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <ostream>

namespace flo::fog {

using namespace core;

void addSignOptions(CLI::App& app, Options& o) {
  app.add_option("--id", o.name, "identity that signs")->required();
  app.add_option("file", o.file, "file to sign")->required();
  addPassphraseOptions(app, o);
}

int sign(Context& c) {
  std::string error;
  auto content = readFile(c.options.file, error);
  if (!content) return c.fail(error);
  auto id = c.identity(error);
  if (!id) return c.fail(error);
  Bytes record = signDetached(*id, *content);
  std::string sigPath = c.options.file + ".sig";
  std::ofstream f(sigPath, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(record.data()), std::streamsize(record.size()));
  if (!f.flush()) return c.fail("cannot write '" + sigPath + "'");
  c.out << sigPath << "\n";
  return kOk;
}

void addVerifyOptions(CLI::App& app, Options& o) {
  app.add_option("file", o.file, "the signed file, or a bundle's folder")->required();
  app.add_option("signature", o.signatureFile, "its .sig record (default: FILE.sig)");
  app.add_flag("--json", o.json, "machine-readable output");
}

int verify(Context& c) {
  std::string error;
  // A bundle (docs/bundles.md): its manifest's signature, then every object against the
  // manifest's hash.
  bool bundle = std::filesystem::is_directory(c.options.file);
  std::string file =
      bundle ? (std::filesystem::path(c.options.file) / "manifest.json").string() : c.options.file;
  std::string sigFile = c.options.signatureFile.empty() ? file + ".sig" : c.options.signatureFile;
  std::vector<std::string> badObjects;
  std::size_t objects = 0;
  if (bundle) {
    auto m = host::readManifest(c.options.file, error);
    if (!m) return c.fail(error);
    for (const auto& [triple, t] : m->targets) {
      ++objects;
      std::string why;
      if (!host::checkedObject(c.options.file, *m, triple, why)) badObjects.push_back(why);
    }
  }
  auto content = readFile(file, error);
  if (!content) return c.fail(error);
  auto sig = readFile(sigFile, error);
  if (!sig) return c.fail(error);
  // The newest log this machine holds for the signer: its own identities', or one seen from
  // the signer before (fog net keeps the logs of the peers it met).
  KeyDirectory known;
  c.keystore().loadKnown(known);
  LogLookup lookup = [&known](const std::string& did) -> std::optional<std::vector<KeyEvent>> {
    if (const auto* log = known.log(did)) return *log;
    return std::nullopt;
  };
  Verification v = verifyDetached(*content, *sig, lookup);
  if (c.options.json) {
    nlohmann::json j{{"valid", v.valid && badObjects.empty()},
                     {"signer", v.did},
                     {"reason", v.reason},
                     {"rotation", v.keySequence}};
    if (bundle) j["bad_objects"] = badObjects;
    c.out << j.dump(2) << "\n";
  } else if (v.valid) {
    c.out << "valid signature by " << v.did << " (key of rotation " << v.keySequence << ")\n";
    if (bundle && badObjects.empty())
      c.out << "bundle: " << objects << " objects match the manifest\n";
  }
  if (!v.valid)
    return c.fail("invalid signature" + (v.did.empty() ? "" : " by " + v.did) + ": " + v.reason);
  for (const auto& why : badObjects) c.fail(why);
  if (!badObjects.empty()) return kFailed;
  return kOk;
}

} // namespace flo::fog
