/// \file
/// The transport's handshake and identity proof, as functions over keys and bytes.
///
/// HELLO and WELCOME are signed by each side's Ed25519 key (WELCOME over the HELLO's digest
/// too), carry fresh X25519 ephemeral keys, and yield two directional ChaCha20-Poly1305 keys:
/// BLAKE2b-512(context || X25519(e_i, e_r) || BLAKE2b(HELLO || WELCOME)). Ephemeral secrets are
/// wiped as soon as the keys are derived (forward secrecy).
///
/// A did:difuon peer then proves that the handshake's key is current for its DID by sending
/// its key event log in IDENTITY chunks; LogAssembly puts them back together, and proveLog
/// checks the log against the DID and the KeyDirectory (which refuses stale and forked logs).
#pragma once

#include "core/crypto.h"
#include "core/identity.h"
#include "core/transport/wire.h"

#include <map>
#include <optional>
#include <string>

namespace flo::core {

/// The keys of one session: what we send with and what we receive with.
struct SessionKeys {
  Secret<32> tx, rx;
};

/// A HELLO signed by `key`, with a fresh ephemeral key drawn from `random` (its secret in
/// `ephemeral`, to be kept until the WELCOME comes).
Bytes makeHello(const SigningKey& key, wire::Hello fields, const RandomSource& random,
                Secret<32>& ephemeral);
/// Whether a decoded HELLO's signature verifies (the costly check: rate-limit first).
bool verifyHello(const wire::Hello& hello);

/// A WELCOME answering `helloBytes`, signed by `key`, with a fresh ephemeral key.
Bytes makeWelcome(const SigningKey& key, const Bytes& helloBytes, wire::Welcome fields,
                  const RandomSource& random, Secret<32>& ephemeral);
bool verifyWelcome(const wire::Welcome& welcome, const Bytes& helloBytes);

/// The session keys from our ephemeral secret and the peer's ephemeral key, bound to the
/// transcript. nullopt for a low-order peer point (X25519 refuses an all-zero result).
std::optional<SessionKeys> deriveSessionKeys(const Secret<32>& ephemeral,
                                             const PublicKey& theirEphemeral,
                                             const Bytes& helloBytes, const Bytes& welcomeBytes,
                                             bool initiator);

/// A peer's key event log, reassembled from IDENTITY chunks (any order, repeats allowed).
class LogAssembly {
public:
  /// Takes a chunk; false (with `why`) if it contradicts the chunks before it.
  bool add(const wire::IdentityChunk& chunk, std::string& why);
  bool started() const { return !bytes_.empty(); }
  bool complete() const { return !bytes_.empty() && received_ == bytes_.size(); }
  /// The whole log (when complete), leaving the assembly empty.
  Bytes take();

private:
  Bytes bytes_;
  std::map<std::uint32_t, std::uint32_t> have_; ///< byte ranges received
  std::size_t received_ = 0;
};

/// Whether `logBytes` is a key event log of `did` that shows `peerKey` as current, by what
/// `directory` accepts (it keeps the log if so). False with `why` otherwise.
bool proveLog(const Bytes& logBytes, const std::string& did, const PublicKey& peerKey,
              KeyDirectory& directory, std::string& why);

} // namespace flo::core
