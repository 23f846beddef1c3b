/// \file
/// Keystore files: JSON with the hex-encoded log and sealed seeds (see keystore.h).
#include "core/store/keystore.h"

#include "core/os/system.h"

#include <nlohmann/json.hpp>
#include <sodium.h>

#include <algorithm>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace flo::core {

namespace fs = std::filesystem;

namespace {
constexpr const char* kFormat = "difuon-keystore-1";
constexpr std::size_t kMaxKeyFile = 1 << 20; // a key file is small; refuse anything larger

Bytes seedsPlaintext(const Identity& id) {
  Value::Map m{{"current", Bytes(id.current.seed().data(), id.current.seed().data() + 32)},
               {"next", Bytes(id.next.seed().data(), id.next.seed().data() + 32)}};
  return encode(Value(std::move(m)));
}

std::optional<std::pair<Seed, Seed>> seedsFrom(const Bytes& plain) {
  auto v = decode(plain);
  if (!v || !v->isMap()) return std::nullopt;
  const Value* c = v->find("current");
  const Value* n = v->find("next");
  if (!c || !n || !c->isBytes() || !n->isBytes() || c->asBytes().size() != 32 ||
      n->asBytes().size() != 32)
    return std::nullopt;
  std::pair<Seed, Seed> out;
  std::copy(c->asBytes().begin(), c->asBytes().end(), out.first.data());
  std::copy(n->asBytes().begin(), n->asBytes().end(), out.second.data());
  return out;
}

std::string associatedData(const std::string& name, const std::string& did) {
  return std::string(kFormat) + "\n" + name + "\n" + did;
}

bool deriveKey(const std::string& passphrase, const Bytes& salt, unsigned long long ops,
               std::size_t mem, std::uint8_t* key) {
  return crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, passphrase.data(),
                       passphrase.size(), salt.data(), ops, mem, crypto_pwhash_ALG_ARGON2ID13) == 0;
}

/// Writes `text` to `path` atomically with mode 0600.
bool writeAtomically(const fs::path& path, const std::string& text, std::string& error) {
  fs::path tmp = path;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return error = "cannot write " + tmp.string(), false;
  ::fchmod(fd, 0600);
  bool ok = ::write(fd, text.data(), text.size()) == ssize_t(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return error = "cannot write " + path.string(), false;
  }
  int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) ::fsync(dir), ::close(dir);
  return true;
}

Seed deriveNextSeed(const Seed& seed) {
  // Deterministic next key for a seeded identity: keyed BLAKE2b of a fixed label.
  Seed next;
  static const char label[] = "difuon next key";
  crypto_generichash(next.data(), next.size(), reinterpret_cast<const std::uint8_t*>(label),
                     sizeof label - 1, seed.data(), seed.size());
  return next;
}
} // namespace

fs::path Keystore::defaultHome() {
  if (const char* home = std::getenv("FOG_HOME"); home && *home) return home;
  if (const char* user = std::getenv("HOME"); user && *user) return fs::path(user) / ".fog";
  return ".fog";
}

bool Keystore::validName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

fs::path Keystore::fileOf(const std::string& name) const {
  return home_ / "keys" / (name + ".key");
}

namespace {
std::optional<std::vector<KeyEvent>> readLogFile(const fs::path& path, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return why = "cannot read " + path.string(), std::nullopt;
  return decodeLog(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), &why);
}
} // namespace

void Keystore::loadKnown(KeyDirectory& into, std::vector<std::string>* warnings) const {
  auto warn = [&](std::string w) {
    if (warnings) warnings->push_back(std::move(w));
  };
  for (const auto& name : list()) {
    std::string why;
    auto pub = loadPublic(name, why);
    if (pub && !into.learn(pub->log, &why)) warn("identity " + name + ": " + why);
  }
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(home_ / "known", ec)) {
    if (e.path().extension() != ".kel") continue;
    std::string why;
    auto log = readLogFile(e.path(), why);
    if (!log || !into.learn(*log, &why)) warn(e.path().string() + ": " + why);
  }
}

bool Keystore::saveKnown(const KeyDirectory& from, std::string& error) const {
  std::error_code ec;
  fs::create_directories(home_ / "known", ec);
  fs::permissions(home_ / "known", fs::perms::owner_all, fs::perm_options::replace, ec);
  for (const auto& did : from.dids()) {
    const std::vector<KeyEvent>* log = from.log(did);
    auto digest = parseDidDifuon(did);
    if (!log || !digest) continue;
    fs::path path = home_ / "known" / (base58Encode(digest->data(), digest->size()) + ".kel");
    std::string why;
    if (fs::exists(path, ec)) {
      auto held = readLogFile(path, why);
      // Only forward: never replace a log by an older one or by a fork of it.
      if (held && (held->size() >= log->size() || !logExtends(*log, *held))) continue;
    }
    Bytes bytes = encodeLog(*log);
    if (!writeAtomically(path, std::string(bytes.begin(), bytes.end()), error)) return false;
  }
  return true;
}

std::vector<std::string> Keystore::list() const {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(home_ / "keys", ec)) {
    if (e.path().extension() == ".key" && validName(e.path().stem().string()))
      names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<Identity> Keystore::create(const std::string& name, const std::optional<Seed>& seed,
                                         const std::optional<std::string>& passphrase,
                                         std::string& error) {
  ensureSodium();
  if (!validName(name)) {
    error = "invalid identity name '" + name + "': use 1-64 letters, digits, '_' or '-'";
    return std::nullopt;
  }
  if (fs::exists(fileOf(name))) {
    error = "an identity named '" + name + "' already exists";
    return std::nullopt;
  }
  Identity id{name,
              {},
              seed ? SigningKey::fromSeed(*seed) : generateSigningKey(),
              seed ? SigningKey::fromSeed(deriveNextSeed(*seed)) : generateSigningKey(),
              passphrase.has_value()};
  id.log.push_back(makeInception(id.current, id.next.publicKey()));
  if (!save(id, passphrase, error)) return std::nullopt;
  return id;
}

bool Keystore::save(const Identity& id, const std::optional<std::string>& passphrase,
                    std::string& error) {
  std::error_code ec;
  fs::create_directories(home_ / "keys", ec);
  fs::permissions(home_ / "keys", fs::perms::owner_all, fs::perm_options::replace, ec);
  KeyState state = id.state();
  nlohmann::json doc;
  doc["format"] = kFormat;
  doc["name"] = id.name;
  doc["did"] = state.did;
  nlohmann::json log = nlohmann::json::array();
  for (const auto& e : id.log) log.push_back(toHex(e.encode()));
  doc["log"] = log;
  Bytes plain = seedsPlaintext(id);
  if (passphrase) {
    Bytes salt(crypto_pwhash_SALTBYTES);
    randombytes_buf(salt.data(), salt.size());
    unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
    std::size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;
    Secret<crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key;
    if (!deriveKey(*passphrase, salt, ops, mem, key.data()))
      return error = "key derivation failed (out of memory?)", false;
    Bytes nonce(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    randombytes_buf(nonce.data(), nonce.size());
    std::string ad = associatedData(id.name, state.did);
    Bytes sealed(plain.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
    unsigned long long len = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), &len, plain.data(), plain.size(),
                                               reinterpret_cast<const std::uint8_t*>(ad.data()),
                                               ad.size(), nullptr, nonce.data(), key.data());
    sealed.resize(len);
    doc["protection"] = "argon2id-xchacha20poly1305";
    doc["kdf"] = {{"salt", toHex(salt)}, {"opslimit", ops}, {"memlimit", mem}};
    doc["nonce"] = toHex(nonce);
    doc["secrets"] = toHex(sealed);
  } else {
    doc["protection"] = "none (file permissions only)";
    doc["secrets"] = toHex(plain);
  }
  sodium_memzero(plain.data(), plain.size());
  std::string text = doc.dump(2) + "\n";
  return writeAtomically(fileOf(id.name), text, error);
}

namespace {
std::optional<nlohmann::json> readKeyFile(const fs::path& path, const std::string& name,
                                          std::string& error) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) {
    error = "no identity named '" + name + "'";
    return std::nullopt;
  }
  if ((st.st_mode & 077) != 0) {
    error = "refusing to use " + path.string() + ": it is readable by others (chmod 600 it)";
    return std::nullopt;
  }
  if (std::size_t(st.st_size) > kMaxKeyFile) {
    error = path.string() + " is too large to be a key file";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  auto doc = nlohmann::json::parse(buf.str(), nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("format", "") != kFormat) {
    error = path.string() + " is not a Difuon key file";
    return std::nullopt;
  }
  return doc;
}

std::optional<std::vector<KeyEvent>> logFrom(const nlohmann::json& doc, std::string& error) {
  std::vector<KeyEvent> log;
  if (!doc.contains("log") || !doc["log"].is_array())
    return error = "the key file has no log", std::nullopt;
  for (const auto& h : doc["log"]) {
    auto bytes = h.is_string() ? fromHex(h.get<std::string>()) : std::nullopt;
    std::string why;
    auto e = bytes ? KeyEvent::decode(*bytes, &why) : std::nullopt;
    if (!e) return error = "the key file's log is damaged: " + why, std::nullopt;
    log.push_back(*e);
  }
  return log;
}
} // namespace

std::optional<PublicIdentity> Keystore::loadPublic(const std::string& name,
                                                   std::string& error) const {
  if (!validName(name)) return error = "invalid identity name '" + name + "'", std::nullopt;
  auto doc = readKeyFile(fileOf(name), name, error);
  if (!doc) return std::nullopt;
  auto log = logFrom(*doc, error);
  if (!log) return std::nullopt;
  std::string why;
  auto state = verifyLog(*log, &why);
  if (!state)
    return error = "the key event log of '" + name + "' does not verify: " + why, std::nullopt;
  return PublicIdentity{name, std::move(*log), *state,
                        doc->value("protection", "").rfind("argon2id", 0) == 0};
}

std::optional<Identity> Keystore::load(const std::string& name,
                                       const std::optional<std::string>& passphrase,
                                       std::string& error) const {
  ensureSodium();
  auto pub = loadPublic(name, error);
  if (!pub) return std::nullopt;
  auto doc = readKeyFile(fileOf(name), name, error);
  auto secrets = fromHex(doc->value("secrets", ""));
  if (!secrets) return error = "the key file's secrets are damaged", std::nullopt;
  Bytes plain;
  if (pub->encrypted) {
    if (!passphrase)
      return error = "identity '" + name + "' is encrypted: a passphrase is needed", std::nullopt;
    const auto& kdf = (*doc)["kdf"];
    auto salt = fromHex(kdf.value("salt", ""));
    auto nonce = fromHex(doc->value("nonce", ""));
    unsigned long long ops = kdf.value("opslimit", 0ull);
    std::size_t mem = kdf.value("memlimit", std::size_t(0));
    if (!salt || salt->size() != crypto_pwhash_SALTBYTES || !nonce ||
        nonce->size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
        ops < crypto_pwhash_OPSLIMIT_MIN || ops > crypto_pwhash_OPSLIMIT_SENSITIVE ||
        mem < crypto_pwhash_MEMLIMIT_MIN || mem > crypto_pwhash_MEMLIMIT_SENSITIVE ||
        secrets->size() < crypto_aead_xchacha20poly1305_ietf_ABYTES)
      return error = "the key file's encryption parameters are damaged", std::nullopt;
    Secret<crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key;
    if (!deriveKey(*passphrase, *salt, ops, mem, key.data()))
      return error = "key derivation failed (out of memory?)", std::nullopt;
    plain.resize(secrets->size());
    unsigned long long len = 0;
    std::string ad = associatedData(name, pub->state.did);
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &len, nullptr, secrets->data(),
                                                   secrets->size(),
                                                   reinterpret_cast<const std::uint8_t*>(ad.data()),
                                                   ad.size(), nonce->data(), key.data()) != 0)
      return error = "wrong passphrase for identity '" + name + "'", std::nullopt;
    plain.resize(len);
  } else {
    plain = *secrets;
  }
  auto seeds = seedsFrom(plain);
  sodium_memzero(plain.data(), plain.size());
  if (!seeds) return error = "the key file's secrets are damaged", std::nullopt;
  Identity id{name, pub->log, SigningKey::fromSeed(seeds->first),
              SigningKey::fromSeed(seeds->second), pub->encrypted};
  if (id.current.publicKey() != pub->state.currentKey ||
      keyDigest(id.next.publicKey()) != pub->state.nextDigest)
    return error = "the secrets of '" + name + "' do not match its key event log", std::nullopt;
  return id;
}

std::optional<Identity> Keystore::rotate(const std::string& name,
                                         const std::optional<std::string>& passphrase,
                                         std::string& error) {
  auto id = load(name, passphrase, error);
  if (!id) return std::nullopt;
  SigningKey fresh = generateSigningKey();
  id->log.push_back(makeRotation(id->log.back(), id->next, fresh.publicKey()));
  id->current = id->next;
  id->next = fresh;
  if (!save(*id, id->encrypted ? passphrase : std::nullopt, error)) return std::nullopt;
  return id;
}

} // namespace flo::core
