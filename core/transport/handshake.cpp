/// \file
/// The handshake and identity proof (see handshake.h).
#include "core/transport/handshake.h"

#include "core/check.h"
#include "core/transport/stream.h"

#include <sodium.h>

#include <cstring>

namespace flo::core {

namespace {

Bytes signedMessage(std::string_view context, const Bytes& body) {
  Bytes m;
  m.reserve(context.size() + body.size() + 32);
  wire::putText(m, context);
  m.insert(m.end(), body.begin(), body.end());
  return m;
}

Bytes welcomeMessage(const Bytes& unsignedWelcome, const Bytes& helloBytes) {
  Bytes m;
  wire::putText(m, wire::kWelcomeContext);
  wire::putArray(m, hash(helloBytes));
  m.insert(m.end(), unsignedWelcome.begin(), unsignedWelcome.end());
  return m;
}

PublicKey freshEphemeral(const RandomSource& random, Secret<32>& ephemeral) {
  random(ephemeral.data(), ephemeral.size());
  PublicKey pub{};
  crypto_scalarmult_base(pub.data(), ephemeral.data());
  return pub;
}

} // namespace

Bytes makeHello(const SigningKey& key, wire::Hello fields, const RandomSource& random,
                Secret<32>& ephemeral) {
  fields.ephemeral = freshEphemeral(random, ephemeral);
  random(fields.nonce.data(), fields.nonce.size());
  fields.initiatorKey = key.publicKey();
  Bytes b = fields.encodeUnsigned();
  wire::putArray(b, key.sign(signedMessage(wire::kHelloContext, b)));
  FLO_CHECK(b.size() == wire::kHelloSize);
  return b;
}

bool verifyHello(const wire::Hello& hello) {
  return verifySignature(hello.initiatorKey, hello.signature,
                         signedMessage(wire::kHelloContext, hello.encodeUnsigned()));
}

Bytes makeWelcome(const SigningKey& key, const Bytes& helloBytes, wire::Welcome fields,
                  const RandomSource& random, Secret<32>& ephemeral) {
  fields.ephemeral = freshEphemeral(random, ephemeral);
  fields.responderKey = key.publicKey();
  Bytes b = fields.encodeUnsigned();
  wire::putArray(b, key.sign(welcomeMessage(b, helloBytes)));
  FLO_CHECK(b.size() == wire::kWelcomeSize);
  return b;
}

bool verifyWelcome(const wire::Welcome& welcome, const Bytes& helloBytes) {
  return verifySignature(welcome.responderKey, welcome.signature,
                         welcomeMessage(welcome.encodeUnsigned(), helloBytes));
}

std::optional<SessionKeys> deriveSessionKeys(const Secret<32>& ephemeral,
                                             const PublicKey& theirEphemeral,
                                             const Bytes& helloBytes, const Bytes& welcomeBytes,
                                             bool initiator) {
  Secret<32> shared;
  if (crypto_scalarmult(shared.data(), ephemeral.data(), theirEphemeral.data()) != 0)
    return std::nullopt;
  Bytes transcript = helloBytes;
  transcript.insert(transcript.end(), welcomeBytes.begin(), welcomeBytes.end());
  Digest th = hash(transcript);
  Secret<64> okm;
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, 64);
  crypto_generichash_update(&st, reinterpret_cast<const std::uint8_t*>(wire::kKeysContext.data()),
                            wire::kKeysContext.size());
  crypto_generichash_update(&st, shared.data(), shared.size());
  crypto_generichash_update(&st, th.data(), th.size());
  crypto_generichash_final(&st, okm.data(), 64);
  sodium_memzero(&st, sizeof st);
  SessionKeys keys;
  std::memcpy((initiator ? keys.tx : keys.rx).data(), okm.data(), 32);
  std::memcpy((initiator ? keys.rx : keys.tx).data(), okm.data() + 32, 32);
  return keys;
}

bool LogAssembly::add(const wire::IdentityChunk& c, std::string& why) {
  if (bytes_.empty()) bytes_.resize(c.total);
  if (bytes_.size() != c.total) return why = "its key event log changed size in flight", false;
  FLO_CHECK(std::size_t(c.offset) + c.length <= bytes_.size()); // the wire parser checked it
  std::memcpy(bytes_.data() + c.offset, c.bytes, c.length);
  received_ += addRange(have_, c.offset, std::uint32_t(c.offset) + c.length);
  FLO_CHECK(received_ <= bytes_.size());
  return true;
}

Bytes LogAssembly::take() {
  Bytes out = std::move(bytes_);
  bytes_ = {};
  have_.clear();
  received_ = 0;
  return out;
}

bool proveLog(const Bytes& logBytes, const std::string& did, const PublicKey& peerKey,
              KeyDirectory& directory, std::string& why) {
  auto log = decodeLog(logBytes.data(), logBytes.size(), &why);
  if (!log) return false;
  if (log->empty() || didOfInception(log->front()) != did)
    return why = "it sent the key event log of another DID", false;
  return directory.learn(*log, &why, &peerKey).has_value();
}

} // namespace flo::core
