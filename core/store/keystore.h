/// \file
/// The keystore: one file per identity under `$FOG_HOME/keys/` (default `~/.fog`), holding the
/// public key event log in the clear and the current and next secret seeds encrypted at rest:
/// Argon2id (crypto_pwhash) derives a key from the passphrase, XChaCha20-Poly1305 seals the
/// seeds, with the identity's name and DID as associated data. A passphrase-less mode, for
/// daemons, relies on file permissions alone and says so. Files are 0600 in a 0700 directory,
/// written atomically (temporary file, fsync, rename): a crash never leaves half a key.
#pragma once

#include "core/identity.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace flo::core {

/// The public part of an identity: readable without the passphrase.
struct PublicIdentity {
  std::string name;
  std::vector<KeyEvent> log;
  KeyState state;
  bool encrypted = true;
};

class Keystore {
public:
  /// `home` is $FOG_HOME; the keys live in `home/keys`.
  explicit Keystore(std::filesystem::path home) : home_(std::move(home)) {}
  /// $FOG_HOME, else ~/.fog.
  static std::filesystem::path defaultHome();

  /// A new identity. `seed` makes it deterministic (the next key is derived from it too);
  /// no `passphrase` stores the seeds unencrypted. Fails if the name is taken or invalid.
  std::optional<Identity> create(const std::string& name, const std::optional<Seed>& seed,
                                 const std::optional<std::string>& passphrase, std::string& error);
  /// Loads and decrypts; "wrong passphrase" when it does not open the seeds.
  std::optional<Identity> load(const std::string& name,
                               const std::optional<std::string>& passphrase,
                               std::string& error) const;
  /// The log and state without touching the secrets.
  std::optional<PublicIdentity> loadPublic(const std::string& name, std::string& error) const;
  /// Rotates to the committed next key and commits to a fresh one; rewrites the file.
  std::optional<Identity> rotate(const std::string& name,
                                 const std::optional<std::string>& passphrase, std::string& error);
  /// Names of the identities in the store, sorted.
  std::vector<std::string> list() const;

  /// The key event logs this machine holds: its own identities' and other participants' it
  /// has seen ($FOG_HOME/known/, one file per did:difuon, the canonical log record). Files
  /// that do not verify are skipped and named in `warnings`.
  void loadKnown(KeyDirectory& into, std::vector<std::string>* warnings = nullptr) const;
  /// Writes every log in `from` that is newer than the file held for its DID (never an older
  /// or forked one), so that a peer that rotated is known by its new key from then on, and its
  /// rotated-out key refused, by every later process on this machine.
  bool saveKnown(const KeyDirectory& from, std::string& error) const;

  std::filesystem::path fileOf(const std::string& name) const;
  static bool validName(std::string_view name);

private:
  bool save(const Identity& id, const std::optional<std::string>& passphrase, std::string& error);
  std::filesystem::path home_;
};

} // namespace flo::core
