/// \file
/// Identities. Ephemeral ones (jobs, data items) are W3C `did:key` DIDs of an Ed25519 key.
/// Long-lived participants (users, foggers, replicas, relays) get a self-certifying `did:difuon`
/// DID: the digest of the inception event of a key event log (KEL) that, as in KERI, commits to
/// the digest of the next key (pre-rotation). Anyone holding the log verifies the current key
/// offline; a stolen current key cannot rotate, because only the holder knows the next one.
#pragma once

#include "core/canonical.h"
#include "core/crypto.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace flo::core {

// ---- did:key ------------------------------------------------------------------------------

/// `did:key:z...`: multibase base58btc of the ed25519-pub multicodec (0xed 0x01) and the key.
std::string didKey(const PublicKey& key);
/// The key of a did:key of an Ed25519 key; nullopt (and a reason) for anything else.
std::optional<PublicKey> parseDidKey(std::string_view did, std::string* error = nullptr);
/// The multibase text of a key: z + base58btc(multicodec prefix + key) (used in DID documents).
std::string ed25519Multibase(const PublicKey& key);
std::string x25519Multibase(const PublicKey& key);

// ---- key event log ------------------------------------------------------------------------

struct KeyEvent {
  enum class Kind : std::uint8_t { Inception, Rotation } kind = Kind::Inception;
  std::uint64_t sequence = 0;
  Digest previous{};   ///< digest of the previous event's encoding; zero for inception
  PublicKey key{};     ///< the signing key from this event on
  Digest nextDigest{}; ///< commitment to the next key: hash of its public key
  Signature signature{};

  /// Field by field, which is byte for byte in the encoding (one value, one encoding).
  bool operator==(const KeyEvent&) const = default;

  /// What the signature covers: the canonical record of every field but the signature.
  Bytes signedBytes() const;
  /// The whole event, signature included (what a log stores and chains).
  Bytes encode() const;
  static std::optional<KeyEvent> decode(const Bytes& bytes, std::string* error = nullptr);
};

struct KeyState {
  std::string did;        ///< did:difuon:... of the log
  PublicKey currentKey{}; ///< the key that signs now
  Digest nextDigest{};    ///< the committed next key
  std::uint64_t sequence = 0;
};

/// `did:difuon:` + base58btc of the digest of the inception event's signed bytes.
std::string didOfInception(const KeyEvent& inception);

/// Verifies a whole log: the inception signed by its key, then every rotation chained to the
/// event before it, revealing the key that event committed to, and signed by that key. Returns
/// the current state, or nullopt with the first broken event and why.
std::optional<KeyState> verifyLog(const std::vector<KeyEvent>& log, std::string* error = nullptr);

/// A new log: inception by `current`, committing to `next`.
KeyEvent makeInception(const SigningKey& current, const PublicKey& next);
/// The rotation that follows `last`: `newCurrent` must be the key `last` committed to.
KeyEvent makeRotation(const KeyEvent& last, const SigningKey& newCurrent, const PublicKey& next);

/// Digest of a public key, as `nextDigest` commits to it.
Digest keyDigest(const PublicKey& key);

/// `did:difuon:` + base58btc of `digest`, and back (nullopt, and a reason, for anything else).
std::string didDifuon(const Digest& digest);
std::optional<Digest> parseDidDifuon(std::string_view did, std::string* error = nullptr);

/// A whole log as one record: `key-event-log` with `events`, the encoding of each event in order.
Bytes encodeLog(const std::vector<KeyEvent>& log);
std::optional<std::vector<KeyEvent>> decodeLog(const std::uint8_t* data, std::size_t size,
                                               std::string* error = nullptr);

/// Whether `log` begins with every event of `prefix` (byte for byte).
bool logExtends(const std::vector<KeyEvent>& log, const std::vector<KeyEvent>& prefix);

/// The key event logs a verifier holds, one per did:difuon, each verified when learned. A log
/// replaces the one held only if it extends it: a log that is a prefix of the one held is old
/// news (its current key was rotated out), and one that forks from it is refused, because two
/// histories signed for one DID mean a key was abused after it was rotated out (KERI calls it
/// duplicity). Bounded: when full, new DIDs are verified but not kept.
class KeyDirectory {
public:
  explicit KeyDirectory(std::size_t capacity = 4096) : capacity_(capacity) {}

  /// Verifies `log` and keeps it if it is newer than the one held. Returns the newest state
  /// now held for its DID (which is the held one when `log` is older), or nullopt and why.
  /// With `requireCurrent`, a log is kept only if that key is current in the newest state
  /// (what a peer proving its key presents), and otherwise refused.
  std::optional<KeyState> learn(const std::vector<KeyEvent>& log, std::string* error = nullptr,
                                const PublicKey* requireCurrent = nullptr);
  /// The newest verified state held for `did`.
  std::optional<KeyState> current(std::string_view did) const;
  /// The newest log held for `did`, or nullptr.
  const std::vector<KeyEvent>* log(std::string_view did) const;
  std::size_t size() const { return entries_.size(); }
  /// Every DID held, sorted.
  std::vector<std::string> dids() const;

private:
  struct Entry {
    std::vector<KeyEvent> log;
    KeyState state;
  };
  std::size_t capacity_;
  std::map<std::string, Entry, std::less<>> entries_;
};

// ---- DID documents (W3C DID Core JSON) ------------------------------------------------------

/// The document of a did:key: one Ed25519 verification method (authentication, assertion,
/// capability invocation and delegation) and its X25519 key-agreement key.
std::string didKeyDocument(const PublicKey& key);
/// The document of a did:difuon at `state`: the current key as its verification method, and the
/// log's sequence and next-key commitment as properties.
std::string didDocument(const KeyState& state);

// ---- a participant's keys -----------------------------------------------------------------

/// A long-lived identity with its secrets: the key event log, the current signing key and the
/// committed next one. Pure data; core/store/keystore.h keeps it on disk.
struct Identity {
  std::string name;
  std::vector<KeyEvent> log;
  SigningKey current;
  SigningKey next;
  bool encrypted = true;
  KeyState state() const; ///< from the log (verified when the identity was loaded)
};

} // namespace flo::core
