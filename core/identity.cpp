/// \file
/// did:key, key event logs with pre-rotation, and DID documents (see identity.h).
#include "core/identity.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace flo::core {

namespace {
constexpr std::uint8_t kEd25519Pub[] = {0xed, 0x01}; // multicodec ed25519-pub (varint 0xed)
constexpr std::uint8_t kX25519Pub[] = {0xec, 0x01};  // multicodec x25519-pub (varint 0xec)

std::string multibase(const std::uint8_t (&prefix)[2], const PublicKey& key) {
  Bytes b(prefix, prefix + 2);
  b.insert(b.end(), key.begin(), key.end());
  return "z" + base58Encode(b);
}
} // namespace

std::string ed25519Multibase(const PublicKey& key) {
  return multibase(kEd25519Pub, key);
}
std::string x25519Multibase(const PublicKey& key) {
  return multibase(kX25519Pub, key);
}
std::string didKey(const PublicKey& key) {
  return "did:key:" + ed25519Multibase(key);
}

std::optional<PublicKey> parseDidKey(std::string_view did, std::string* error) {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return std::nullopt;
  };
  constexpr std::string_view prefix = "did:key:z";
  if (!did.starts_with(prefix)) return fail("not a did:key with a base58btc (z) multibase key");
  auto bytes = base58Decode(did.substr(prefix.size()));
  if (!bytes) return fail("the key is not valid base58btc");
  if (bytes->size() < 2 || (*bytes)[0] != kEd25519Pub[0] || (*bytes)[1] != kEd25519Pub[1])
    return fail("not an Ed25519 key (multicodec 0xed01)");
  if (bytes->size() != 34) return fail("an Ed25519 key is 32 bytes");
  PublicKey key{};
  std::copy(bytes->begin() + 2, bytes->end(), key.begin());
  return key;
}

Digest keyDigest(const PublicKey& key) {
  return hash(key.data(), key.size());
}

namespace {
bool verifyRotations(const std::vector<KeyEvent>& log, std::size_t from, KeyState& state,
                     std::string* error);

Value::Map eventBody(const KeyEvent& e) {
  return {{"kind", e.kind == KeyEvent::Kind::Inception ? "inception" : "rotation"},
          {"sequence", e.sequence},
          {"previous", toBytes(e.previous)},
          {"key", toBytes(e.key)},
          {"next", toBytes(e.nextDigest)}};
}
} // namespace

Bytes KeyEvent::signedBytes() const {
  return encodeRecord({"kel-event", kEncodingVersion, eventBody(*this)});
}

Bytes KeyEvent::encode() const {
  Value::Map body = eventBody(*this);
  body["signature"] = toBytes(signature);
  return encodeRecord({"kel-event", kEncodingVersion, std::move(body)});
}

std::optional<KeyEvent> KeyEvent::decode(const Bytes& bytes, std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::string why;
  auto record = decodeRecord(bytes, "kel-event", &why);
  if (!record) return fail("not a key event: " + why);
  const auto& b = record->body;
  if (b.size() != 6)
    return fail("a key event has exactly kind, sequence, previous, key, next and signature");
  auto get = [&](const char* k) -> const Value* {
    auto it = b.find(k);
    return it == b.end() ? nullptr : &it->second;
  };
  const Value *kind = get("kind"), *seq = get("sequence"), *prev = get("previous"),
              *key = get("key"), *next = get("next"), *sig = get("signature");
  if (!kind || !kind->isText() || !seq || !seq->isUnsigned() || !prev || !prev->isBytes() || !key ||
      !key->isBytes() || !next || !next->isBytes() || !sig || !sig->isBytes())
    return fail("a key event field is missing or has the wrong type");
  KeyEvent e;
  if (kind->asText() == "inception")
    e.kind = Kind::Inception;
  else if (kind->asText() == "rotation")
    e.kind = Kind::Rotation;
  else
    return fail("unknown key event kind '" + kind->asText() + "'");
  e.sequence = seq->asUnsigned();
  auto p = toArray<32>(prev->asBytes());
  auto k = toArray<32>(key->asBytes());
  auto n = toArray<32>(next->asBytes());
  auto s = toArray<64>(sig->asBytes());
  if (!p || !k || !n || !s) return fail("a key event field has the wrong length");
  e.previous = *p, e.key = *k, e.nextDigest = *n, e.signature = *s;
  return e;
}

std::string didDifuon(const Digest& digest) {
  return "did:difuon:" + base58Encode(digest.data(), digest.size());
}

std::optional<Digest> parseDidDifuon(std::string_view did, std::string* error) {
  auto fail = [&](const char* why) {
    if (error) *error = why;
    return std::nullopt;
  };
  constexpr std::string_view prefix = "did:difuon:";
  if (!did.starts_with(prefix)) return fail("not a did:difuon");
  auto bytes = base58Decode(did.substr(prefix.size()));
  if (!bytes) return fail("the identifier is not valid base58btc");
  auto digest = toArray<32>(*bytes);
  if (!digest) return fail("a did:difuon names a 32-byte digest");
  return digest;
}

std::string didOfInception(const KeyEvent& inception) {
  return didDifuon(hash(inception.signedBytes()));
}

Bytes encodeLog(const std::vector<KeyEvent>& log) {
  Value::Array events;
  for (const auto& e : log) events.emplace_back(e.encode());
  return encodeRecord({"key-event-log", kEncodingVersion, {{"events", std::move(events)}}});
}

std::optional<std::vector<KeyEvent>> decodeLog(const std::uint8_t* data, std::size_t size,
                                               std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::string why;
  auto record = decodeRecord(Bytes(data, data + size), "key-event-log", &why);
  if (!record) return fail("not a key event log: " + why);
  auto it = record->body.find("events");
  if (record->body.size() != 1 || it == record->body.end() || !it->second.isArray())
    return fail("a key event log has exactly one field, events, an array");
  std::vector<KeyEvent> log;
  for (const auto& e : it->second.asArray()) {
    if (!e.isBytes()) return fail("event " + std::to_string(log.size()) + " is not bytes");
    auto event = KeyEvent::decode(e.asBytes(), &why);
    if (!event) return fail("event " + std::to_string(log.size()) + ": " + why);
    log.push_back(std::move(*event));
  }
  return log;
}

bool logExtends(const std::vector<KeyEvent>& log, const std::vector<KeyEvent>& prefix) {
  return prefix.size() <= log.size() && std::equal(prefix.begin(), prefix.end(), log.begin());
}

std::optional<KeyState> KeyDirectory::learn(const std::vector<KeyEvent>& log, std::string* error,
                                            const PublicKey* requireCurrent) {
  auto accept = [&](const KeyState& state) -> std::optional<KeyState> {
    if (!requireCurrent || state.currentKey == *requireCurrent) return state;
    if (error)
      *error = "the key is not the current key of " + state.did + " (its log is at rotation " +
               std::to_string(state.sequence) + ")";
    return std::nullopt;
  };
  // What is held was verified: a prefix of it needs no work, an extension only its new events.
  if (!log.empty() && log[0].kind == KeyEvent::Kind::Inception) {
    auto held = entries_.find(didOfInception(log[0]));
    if (held != entries_.end()) {
      Entry& e = held->second;
      if (logExtends(e.log, log)) return accept(e.state);
      if (logExtends(log, e.log)) {
        KeyState state = e.state;
        if (!verifyRotations(log, e.log.size(), state, error) || !accept(state))
          return std::nullopt;
        e = Entry{log, state};
        return state;
      }
    }
  }
  auto state = verifyLog(log, error);
  if (!state || !accept(*state)) return std::nullopt;
  auto it = entries_.find(state->did);
  if (it == entries_.end()) {
    if (entries_.size() < capacity_) entries_.emplace(state->did, Entry{log, *state});
    return state;
  }
  // Held, and neither extends the other (both cases are above): two histories.
  const Entry& held = it->second;
  if (error)
    *error = "conflicting key event logs for " + state->did +
             ": two different events at sequence " +
             std::to_string(
                 std::mismatch(log.begin(), log.end(), held.log.begin(), held.log.end()).first -
                 log.begin());
  return std::nullopt;
}

std::optional<KeyState> KeyDirectory::current(std::string_view did) const {
  auto it = entries_.find(did);
  if (it == entries_.end()) return std::nullopt;
  return it->second.state;
}

std::vector<std::string> KeyDirectory::dids() const {
  std::vector<std::string> out;
  for (const auto& [did, entry] : entries_) out.push_back(did);
  return out;
}

const std::vector<KeyEvent>* KeyDirectory::log(std::string_view did) const {
  auto it = entries_.find(did);
  return it == entries_.end() ? nullptr : &it->second.log;
}

KeyEvent makeInception(const SigningKey& current, const PublicKey& next) {
  KeyEvent e;
  e.kind = KeyEvent::Kind::Inception;
  e.key = current.publicKey();
  e.nextDigest = keyDigest(next);
  e.signature = current.sign(e.signedBytes());
  return e;
}

KeyEvent makeRotation(const KeyEvent& last, const SigningKey& newCurrent, const PublicKey& next) {
  KeyEvent e;
  e.kind = KeyEvent::Kind::Rotation;
  e.sequence = last.sequence + 1;
  e.previous = hash(last.encode());
  e.key = newCurrent.publicKey();
  e.nextDigest = keyDigest(next);
  e.signature = newCurrent.sign(e.signedBytes());
  return e;
}

namespace {
/// Checks events [from, end) of a log whose events before `from` gave `state`, and advances it.
bool verifyRotations(const std::vector<KeyEvent>& log, std::size_t from, KeyState& state,
                     std::string* error) {
  auto fail = [&](std::size_t i, std::string why) {
    if (error) *error = "event " + std::to_string(i) + ": " + why;
    return false;
  };
  for (std::size_t i = from; i < log.size(); ++i) {
    const KeyEvent& e = log[i];
    if (e.kind != KeyEvent::Kind::Rotation) return fail(i, "only the first event is an inception");
    if (e.sequence != i)
      return fail(i, "sequence " + std::to_string(e.sequence) + ", expected " + std::to_string(i));
    if (e.previous != hash(log[i - 1].encode()))
      return fail(i, "it does not chain to the event before it");
    if (keyDigest(e.key) != state.nextDigest)
      return fail(i, "its key is not the one the previous event committed to (pre-rotation)");
    if (!verifySignature(e.key, e.signature, e.signedBytes()))
      return fail(i, "the rotation is not signed by its key");
    state.currentKey = e.key;
    state.nextDigest = e.nextDigest;
    state.sequence = e.sequence;
  }
  return true;
}
} // namespace

std::optional<KeyState> verifyLog(const std::vector<KeyEvent>& log, std::string* error) {
  auto fail = [&](std::string why) {
    if (error) *error = "event 0: " + why;
    return std::nullopt;
  };
  if (log.empty()) {
    if (error) *error = "the key event log is empty";
    return std::nullopt;
  }
  const KeyEvent& first = log[0];
  if (first.kind != KeyEvent::Kind::Inception) return fail("the log must start with an inception");
  if (first.sequence != 0 || first.previous != Digest{})
    return fail("an inception has sequence 0 and no previous event");
  if (!verifySignature(first.key, first.signature, first.signedBytes()))
    return fail("the inception is not signed by its key");
  KeyState state{didOfInception(first), first.key, first.nextDigest, 0};
  if (!verifyRotations(log, 1, state, error)) return std::nullopt;
  return state;
}

std::string didKeyDocument(const PublicKey& key) {
  std::string did = didKey(key);
  std::string vm = did + "#" + ed25519Multibase(key);
  nlohmann::json doc = {
      {"@context",
       {"https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://w3id.org/security/suites/x25519-2020/v1"}},
      {"id", did},
      {"verificationMethod",
       {{{"id", vm},
         {"type", "Ed25519VerificationKey2020"},
         {"controller", did},
         {"publicKeyMultibase", ed25519Multibase(key)}}}},
      {"authentication", {vm}},
      {"assertionMethod", {vm}},
      {"capabilityInvocation", {vm}},
      {"capabilityDelegation", {vm}}};
  if (auto x = x25519FromEd25519(key)) {
    doc["keyAgreement"] = {{{"id", did + "#" + x25519Multibase(*x)},
                            {"type", "X25519KeyAgreementKey2020"},
                            {"controller", did},
                            {"publicKeyMultibase", x25519Multibase(*x)}}};
  }
  return doc.dump(2);
}

std::string didDocument(const KeyState& state) {
  std::string vm = state.did + "#key-" + std::to_string(state.sequence);
  nlohmann::json doc = {
      {"@context",
       {"https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/ed25519-2020/v1"}},
      {"id", state.did},
      {"verificationMethod",
       {{{"id", vm},
         {"type", "Ed25519VerificationKey2020"},
         {"controller", state.did},
         {"publicKeyMultibase", ed25519Multibase(state.currentKey)}}}},
      {"authentication", {vm}},
      {"assertionMethod", {vm}},
      {"capabilityInvocation", {vm}},
      {"alsoKnownAs", {didKey(state.currentKey)}},
      {"keyEventLog", {{"sequence", state.sequence}, {"nextKeyDigest", toHex(state.nextDigest)}}}};
  return doc.dump(2);
}

KeyState Identity::state() const {
  return *verifyLog(log);
}

} // namespace flo::core
