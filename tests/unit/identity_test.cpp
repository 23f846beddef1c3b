/// \file
/// Identities: did:key against published vectors, key event logs with pre-rotation, the
/// keystore, and detached signatures.
#include "core/os/system.h"
#include "core/signed_file.h"
#include "core/store/keystore.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <sys/stat.h>
#include <vector>

namespace flo::core {
namespace {

namespace fs = std::filesystem;

Seed seedFromHex(std::string_view hex) {
  Seed s;
  auto b = fromHex(hex);
  std::copy(b->begin(), b->end(), s.data());
  return s;
}

fs::path freshHome(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("flo_ks_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(p);
  return p;
}

TEST(DidKey, MatchesPublishedVectors) {
  // A did:key document published with its Ed25519 and X25519 keys in base58 (acapy's test data,
  // following the W3C did:key method).
  auto pk = toArray<32>(*base58Decode("8HH5gYEeNc3z7PYXmd54d4x6qAfCNrqQqEB3nS7Zfu7K"));
  ASSERT_TRUE(pk);
  EXPECT_EQ(didKey(*pk), "did:key:z6MkmjY8GnV5i9YTDtPETC2uUAW6ejw3nk5mXF5yci5ab7th");
  auto x = x25519FromEd25519(*pk);
  ASSERT_TRUE(x);
  EXPECT_EQ(base58Encode(x->data(), x->size()), "79CXkde3j8TNuMXxPdV7nLUrT2g7JAEjH5TreyVY7GEZ");
  EXPECT_EQ(x25519Multibase(*x), "z6LShpNhGwSupbB7zjuivH156vhLJBDDzmQtA4BY9S94pe1K");
  std::string doc = didKeyDocument(*pk);
  EXPECT_NE(doc.find("z6LShpNhGwSupbB7zjuivH156vhLJBDDzmQtA4BY9S94pe1K"), std::string::npos);
}

TEST(DidKey, SeedGivesRfc8032Key) {
  // RFC 8032 §7.1 test 1: secret key (seed) and its public key.
  auto key = SigningKey::fromSeed(
      seedFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  EXPECT_EQ(toHex(key.publicKey()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(toHex(key.sign(Bytes{})),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
            "701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  auto parsed = parseDidKey(didKey(key.publicKey()));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, key.publicKey());
}

TEST(DidKey, RejectsOtherKeysAndGarbage) {
  std::string why;
  EXPECT_FALSE(parseDidKey("did:web:example.com", &why));
  EXPECT_FALSE(parseDidKey("did:key:z6LShpNhGwSupbB7zjuivH156vhLJBDDzmQtA4BY9S94pe1K", &why));
  EXPECT_NE(why.find("Ed25519"), std::string::npos);
  EXPECT_FALSE(parseDidKey("did:key:z0OIl", &why));    // not base58
  EXPECT_FALSE(parseDidKey("did:key:zTjsVPtY", &why)); // too short
}

TEST(Base58, RoundTripsWithLeadingZeros) {
  Bytes b{0, 0, 1, 2, 255};
  EXPECT_EQ(base58Encode(b).substr(0, 2), "11");
  EXPECT_EQ(*base58Decode(base58Encode(b)), b);
  EXPECT_EQ(base58Encode(Bytes{}), "");
}

TEST(KeyEventLog, RotationsVerifyThroughPreCommitment) {
  SigningKey k0 = generateSigningKey(), k1 = generateSigningKey(), k2 = generateSigningKey();
  std::vector<KeyEvent> log{makeInception(k0, k1.publicKey())};
  std::string did = didOfInception(log[0]);
  log.push_back(makeRotation(log.back(), k1, k2.publicKey()));
  std::string why;
  auto state = verifyLog(log, &why);
  ASSERT_TRUE(state) << why;
  EXPECT_EQ(state->did, did); // the DID never changes
  EXPECT_EQ(state->currentKey, k1.publicKey());
  EXPECT_EQ(state->sequence, 1u);
  // Round trip through the canonical encoding.
  for (const auto& e : log) EXPECT_EQ(KeyEvent::decode(e.encode())->encode(), e.encode());
}

TEST(KeyEventLog, StolenCurrentKeyCannotRotate) {
  SigningKey k0 = generateSigningKey(), k1 = generateSigningKey();
  SigningKey thief = generateSigningKey();
  std::vector<KeyEvent> log{makeInception(k0, k1.publicKey())};
  log.push_back(makeRotation(log.back(), thief, thief.publicKey()));
  std::string why;
  EXPECT_FALSE(verifyLog(log, &why));
  EXPECT_NE(why.find("event 1"), std::string::npos);
  EXPECT_NE(why.find("pre-rotation"), std::string::npos);
}

TEST(KeyEventLog, TamperingIsNamed) {
  SigningKey k0 = generateSigningKey(), k1 = generateSigningKey(), k2 = generateSigningKey();
  std::vector<KeyEvent> log{makeInception(k0, k1.publicKey())};
  log.push_back(makeRotation(log.back(), k1, k2.publicKey()));
  std::string why;
  auto forged = log;
  forged[1].signature[0] ^= 1;
  EXPECT_FALSE(verifyLog(forged, &why));
  EXPECT_NE(why.find("not signed"), std::string::npos);
  auto rewired = log;
  rewired[0].nextDigest[3] ^= 1;
  rewired[0].signature = k0.sign(rewired[0].signedBytes());
  EXPECT_FALSE(verifyLog(rewired, &why));
  EXPECT_NE(why.find("event 1"), std::string::npos);
  EXPECT_FALSE(verifyLog({}, &why));
}

TEST(KeyEventLog, EncodesAsOneRecordAndNamesItsDid) {
  SigningKey k0 = generateSigningKey(), k1 = generateSigningKey(), k2 = generateSigningKey();
  std::vector<KeyEvent> log{makeInception(k0, k1.publicKey())};
  log.push_back(makeRotation(log.back(), k1, k2.publicKey()));
  Bytes bytes = encodeLog(log);
  std::string why;
  auto back = decodeLog(bytes.data(), bytes.size(), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(encodeLog(*back), bytes);
  EXPECT_TRUE(logExtends(*back, {log[0]}));
  EXPECT_FALSE(logExtends({log[0]}, *back));
  bytes.pop_back();
  EXPECT_FALSE(decodeLog(bytes.data(), bytes.size(), &why));
  std::string did = didOfInception(log[0]);
  auto digest = parseDidDifuon(did);
  ASSERT_TRUE(digest);
  EXPECT_EQ(didDifuon(*digest), did);
  EXPECT_FALSE(parseDidDifuon("did:difuon:abc", &why)); // not 32 bytes
  EXPECT_FALSE(parseDidDifuon(didKey(k0.publicKey()), &why));
}

TEST(KeyDirectory, KeepsTheNewestLogAndRefusesForks) {
  SigningKey k0 = generateSigningKey(), k1 = generateSigningKey(), k2 = generateSigningKey(),
             k3 = generateSigningKey();
  std::vector<KeyEvent> v0{makeInception(k0, k1.publicKey())};
  auto v1 = v0;
  v1.push_back(makeRotation(v1.back(), k1, k2.publicKey()));
  std::string did = didOfInception(v0[0]);
  KeyDirectory dir;
  std::string why;
  ASSERT_TRUE(dir.learn(v0, &why)) << why;
  EXPECT_EQ(dir.current(did)->currentKey, k0.publicKey());
  ASSERT_TRUE(dir.learn(v1, &why)) << why;
  EXPECT_EQ(dir.current(did)->currentKey, k1.publicKey());
  // An older log is old news: the state held stays the newest.
  EXPECT_EQ(dir.learn(v0)->currentKey, k1.publicKey());
  // The holder of k1 signing a second, different rotation at sequence 1 is a fork.
  auto fork = v0;
  fork.push_back(makeRotation(fork.back(), k1, k3.publicKey()));
  EXPECT_FALSE(dir.learn(fork, &why));
  EXPECT_NE(why.find("conflicting"), std::string::npos) << why;
  EXPECT_NE(why.find("sequence 1"), std::string::npos) << why;
  EXPECT_EQ(dir.log(did)->size(), 2u);
  EXPECT_EQ(dir.size(), 1u);
  // An extension is checked from where the held log ends: a rotation to a key the last event
  // did not commit to is refused, and the held log stays.
  auto bad = v1;
  bad.push_back(makeRotation(bad.back(), k3, k0.publicKey()));
  EXPECT_FALSE(dir.learn(bad, &why));
  EXPECT_NE(why.find("event 2"), std::string::npos) << why;
  EXPECT_NE(why.find("pre-rotation"), std::string::npos) << why;
  EXPECT_EQ(dir.log(did)->size(), 2u);
  // A full directory still verifies new DIDs but does not keep them.
  KeyDirectory small(1);
  ASSERT_TRUE(small.learn(v1));
  std::vector<KeyEvent> other{makeInception(k2, k3.publicKey())};
  EXPECT_TRUE(small.learn(other));
  EXPECT_EQ(small.size(), 1u);
}

TEST(Keystore, KnownLogsOnlyMoveForward) {
  fs::path home = freshHome("known");
  Keystore store(home);
  SigningKey k0 = generateSigningKey(), k1 = generateSigningKey(), k2 = generateSigningKey(),
             k3 = generateSigningKey();
  std::vector<KeyEvent> v0{makeInception(k0, k1.publicKey())};
  auto v1 = v0;
  v1.push_back(makeRotation(v1.back(), k1, k2.publicKey()));
  std::string did = didOfInception(v0[0]), error;
  KeyDirectory seen;
  ASSERT_TRUE(seen.learn(v1));
  ASSERT_TRUE(store.saveKnown(seen, error)) << error;
  // A later process that saw only the older log does not set the file back.
  KeyDirectory older;
  ASSERT_TRUE(older.learn(v0));
  ASSERT_TRUE(store.saveKnown(older, error)) << error;
  KeyDirectory loaded;
  std::vector<std::string> warnings;
  store.loadKnown(loaded, &warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_TRUE(loaded.current(did));
  EXPECT_EQ(loaded.current(did)->currentKey, k1.publicKey());
  // A fork is never written over the held log; a damaged file is named and skipped.
  auto fork = v0;
  fork.push_back(makeRotation(fork.back(), k1, k3.publicKey()));
  KeyDirectory forked;
  ASSERT_TRUE(forked.learn(fork));
  ASSERT_TRUE(store.saveKnown(forked, error)) << error;
  {
    std::ofstream(home / "known" / "junk.kel") << "not a log";
  }
  KeyDirectory again;
  store.loadKnown(again, &warnings);
  EXPECT_EQ(again.log(did)->back().encode(), v1.back().encode());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("junk.kel"), std::string::npos);
  // Own identities count as known.
  ASSERT_TRUE(store.create("me", std::nullopt, std::nullopt, error)) << error;
  KeyDirectory withOwn;
  store.loadKnown(withOwn);
  EXPECT_EQ(withOwn.size(), 2u);
  fs::remove_all(home);
}

/// Base64 of `b` (RFC 4648; `url` for the URL-safe alphabet), without padding.
std::string base64(const Bytes& b, bool url) {
  const char* alphabet = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
                             : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t bit = 0; bit < b.size() * 8; bit += 6) {
    unsigned v = 0;
    for (std::size_t k = bit; k < bit + 6; ++k)
      v = v << 1 | (k < b.size() * 8 ? (b[k / 8] >> (7 - k % 8)) & 1 : 0);
    out += alphabet[v];
  }
  return out;
}

/// Texts that any file holding `secret` in a common encoding must contain: the raw bytes, hex in
/// either case, decimal bytes as a list, base58, and base64 in both alphabets at each of the
/// three alignments the secret can have in a longer base64 text (only the characters that
/// depend on the secret's bytes alone).
std::vector<std::string> encodingsOf(const Bytes& secret) {
  std::vector<std::string> forms{std::string(secret.begin(), secret.end()), toHex(secret),
                                 base58Encode(secret)};
  std::string upper = toHex(secret);
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  forms.push_back(upper);
  std::string decimal;
  for (std::uint8_t x : secret) decimal += (decimal.empty() ? "" : ",") + std::to_string(x);
  forms.push_back(decimal);
  for (bool url : {false, true})
    for (std::size_t shift = 0; shift < 3; ++shift) {
      Bytes shifted(shift, 0);
      shifted.insert(shifted.end(), secret.begin(), secret.end());
      std::string text = base64(shifted, url);
      std::size_t first = (shift * 8 + 5) / 6, last = (shifted.size() * 8) / 6;
      forms.push_back(text.substr(first, last - first));
    }
  return forms;
}

TEST(Keystore, EncryptedAtRestAndWrongPassphrase) {
  Keystore store(freshHome("enc"));
  std::string error;
  auto id = store.create("alice", std::nullopt, std::string("correct horse"), error);
  ASSERT_TRUE(id) << error;
  struct stat st{};
  ASSERT_EQ(::stat(store.fileOf("alice").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Neither key's seed nor its secret key (libsodium's seed || public key) is in the file, in
  // any encoding: only the sealed secrets are.
  std::ifstream in(store.fileOf("alice"), std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(file.find("\"secrets\""), std::string::npos) << file;
  for (const SigningKey* key : {&id->current, &id->next}) {
    Bytes seed(key->seed().data(), key->seed().data() + key->seed().size());
    Bytes secret = seed;
    secret.insert(secret.end(), key->publicKey().begin(), key->publicKey().end());
    for (const Bytes* b : {&seed, &secret})
      for (const std::string& form : encodingsOf(*b))
        EXPECT_EQ(file.find(form), std::string::npos)
            << "the key file holds a " << (b == &seed ? "seed" : "secret key") << " as '"
            << (form.size() == b->size() ? toHex(*b) : form) << "'";
  }
  EXPECT_FALSE(store.load("alice", std::string("wrong"), error));
  EXPECT_NE(error.find("wrong passphrase"), std::string::npos);
  auto back = store.load("alice", std::string("correct horse"), error);
  ASSERT_TRUE(back) << error;
  EXPECT_EQ(back->current.publicKey(), id->current.publicKey());
  EXPECT_FALSE(store.create("alice", std::nullopt, std::nullopt, error));
  EXPECT_FALSE(store.create("../evil", std::nullopt, std::nullopt, error));
}

TEST(Keystore, SeededIdentitiesAreDeterministic) {
  Seed seed = seedFromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  std::string error;
  Keystore a(freshHome("a")), b(freshHome("b"));
  auto ia = a.create("x", seed, std::nullopt, error);
  auto ib = b.create("x", seed, std::nullopt, error);
  ASSERT_TRUE(ia && ib);
  EXPECT_EQ(ia->state().did, ib->state().did);
  EXPECT_EQ(didKey(ia->current.publicKey()),
            "did:key:z6MktwupdmLXVVqTzCw4i46r4uGyosGXRnR3XjN4Zq7oMMsw");
}

TEST(Keystore, RefusesKeyFilesOthersCanRead) {
  Keystore store(freshHome("perm"));
  std::string error;
  ASSERT_TRUE(store.create("d", std::nullopt, std::nullopt, error));
  ::chmod(store.fileOf("d").c_str(), 0644);
  EXPECT_FALSE(store.loadPublic("d", error));
  EXPECT_NE(error.find("chmod 600"), std::string::npos);
}

TEST(Signatures, ValidTamperedAndRotatedOut) {
  Keystore store(freshHome("sig"));
  std::string error;
  auto id = store.create("s", std::nullopt, std::nullopt, error);
  ASSERT_TRUE(id);
  Bytes content{'h', 'i'};
  Bytes sig = signDetached(*id, content);
  EXPECT_TRUE(verifyDetached(content, sig).valid);
  Bytes other{'h', 'o'};
  EXPECT_EQ(verifyDetached(other, sig).reason, "the content does not match the signed digest");
  Bytes broken = sig;
  broken[broken.size() / 2] ^= 0x40;
  EXPECT_FALSE(verifyDetached(content, broken).valid);
  // After a rotation the verifier who knows the newer log rejects the old key.
  auto rotated = store.rotate("s", std::nullopt, error);
  ASSERT_TRUE(rotated) << error;
  LogLookup lookup = [&](const std::string&) { return std::optional(rotated->log); };
  Verification v = verifyDetached(content, sig, lookup);
  EXPECT_FALSE(v.valid);
  EXPECT_NE(v.reason.find("no longer current"), std::string::npos);
  EXPECT_TRUE(verifyDetached(content, signDetached(*rotated, content), lookup).valid);
}

} // namespace
} // namespace flo::core
