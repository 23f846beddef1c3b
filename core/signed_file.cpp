/// \file
/// Detached signature records (see signed_file.h).
#include "core/signed_file.h"

namespace flo::core {

namespace {
Bytes signedPart(const std::string& did, const PublicKey& key, const Digest& content) {
  return encodeRecord({"signed-content",
                       kEncodingVersion,
                       {{"signer", did}, {"key", toBytes(key)}, {"content", toBytes(content)}}});
}
} // namespace

Bytes signDetached(const Identity& signer, const Bytes& content) {
  KeyState state = signer.state();
  Digest digest = hash(content);
  Signature sig = signer.current.sign(signedPart(state.did, state.currentKey, digest));
  Value::Array log;
  for (const auto& e : signer.log) log.emplace_back(e.encode());
  return encodeRecord({"signature",
                       kEncodingVersion,
                       {{"signer", state.did},
                        {"log", std::move(log)},
                        {"key", toBytes(state.currentKey)},
                        {"content", toBytes(digest)},
                        {"signature", toBytes(sig)}}});
}

Verification verifyDetached(const Bytes& content, const Bytes& signatureRecord,
                            const LogLookup& lookup) {
  Verification v;
  auto fail = [&](std::string why) {
    v.reason = std::move(why);
    return v;
  };
  std::string why;
  auto record = decodeRecord(signatureRecord, "signature", &why);
  if (!record) return fail("not a signature record: " + why);
  const auto& b = record->body;
  auto field = [&](const char* k) -> const Value* {
    auto it = b.find(k);
    return it == b.end() ? nullptr : &it->second;
  };
  const Value *signer = field("signer"), *log = field("log"), *key = field("key"),
              *digest = field("content"), *sig = field("signature");
  if (!signer || !signer->isText() || !log || !log->isArray() || !key || !key->isBytes() ||
      !digest || !digest->isBytes() || !sig || !sig->isBytes())
    return fail("the signature record is missing a field");
  v.did = signer->asText();
  std::vector<KeyEvent> events;
  for (const auto& e : log->asArray()) {
    if (!e.isBytes()) return fail("the signer's key event log is damaged");
    auto event = KeyEvent::decode(e.asBytes(), &why);
    if (!event) return fail("the signer's key event log is damaged: " + why);
    events.push_back(*event);
  }
  auto state = verifyLog(events, &why);
  if (!state) return fail("the signer's key event log does not verify: " + why);
  if (state->did != v.did)
    return fail("the key event log belongs to " + state->did + ", not " + v.did);
  // A newer log the verifier holds wins, if it extends this one.
  if (lookup) {
    if (auto known = lookup(v.did); known && known->size() > events.size()) {
      auto newer = logExtends(*known, events) ? verifyLog(*known, &why) : std::nullopt;
      if (newer && newer->did == v.did) state = newer;
    }
  }
  auto pk = toArray<32>(key->asBytes());
  auto d = toArray<32>(digest->asBytes());
  auto s = toArray<64>(sig->asBytes());
  if (!pk || !d || !s) return fail("a field of the signature record has the wrong length");
  if (*pk != state->currentKey)
    return fail("signed by a key that is no longer current for " + v.did +
                " (the log is at rotation " + std::to_string(state->sequence) + ")");
  if (*d != hash(content)) return fail("the content does not match the signed digest");
  if (!verifySignature(*pk, *s, signedPart(v.did, *pk, *d)))
    return fail("the signature is invalid");
  v.valid = true;
  v.keySequence = state->sequence;
  return v;
}

} // namespace flo::core
