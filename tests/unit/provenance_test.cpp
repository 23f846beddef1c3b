/// \file
/// Provenance: record round trips and every per-record rule, the SQLite store, lineage over a
/// chain and a fork/join DAG, and tampering with the database file itself (a flipped byte, a
/// record replaced by one another key signed, deleted rows), which lineage must name precisely.
#include "core/identity.h"
#include "core/provenance.h"
#include "core/store/provenance_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace flo::core {
namespace {

namespace fs = std::filesystem;
using Event = ProvenanceRecord::Event;

SigningKey keyFor(std::uint8_t n) {
  Seed seed;
  std::fill(seed.data(), seed.data() + seed.size(), n);
  return SigningKey::fromSeed(seed);
}

Bytes text(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

/// A fresh database path (and no leftover -wal / -shm files).
std::string freshDb(const std::string& tag) {
  fs::path p = fs::temp_directory_path() / ("flo_prov_" + tag + "_" + std::to_string(::getpid()));
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(p.string() + suffix);
  return p.string();
}

/// Direct access to the SQLite file, as an attacker with the file would have.
class RawDb {
public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK);
  }
  ~RawDb() { sqlite3_close(db_); }
  void exec(const std::string& sql) {
    char* message = nullptr;
    EXPECT_EQ(sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message), SQLITE_OK)
        << (message ? message : "");
    sqlite3_free(message);
  }
  std::string textOf(const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return out;
  }
  Bytes blob(const std::string& id) {
    sqlite3_stmt* s = nullptr;
    Bytes out;
    sqlite3_prepare_v2(db_, "SELECT record FROM items WHERE item_id = ?", -1, &s, nullptr);
    sqlite3_bind_text(s, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(s) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0));
      out.assign(p, p + sqlite3_column_bytes(s, 0));
    }
    sqlite3_finalize(s);
    return out;
  }
  void setBlob(const std::string& id, const Bytes& bytes) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db_, "UPDATE items SET record = ? WHERE item_id = ?", -1, &s, nullptr);
    sqlite3_bind_blob(s, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    EXPECT_EQ(sqlite3_step(s), SQLITE_DONE);
    EXPECT_EQ(sqlite3_changes(db_), 1);
    sqlite3_finalize(s);
  }

private:
  sqlite3* db_ = nullptr;
};

/// Offset of `needle` in `hay` (the test's way to find a field inside a stored blob).
std::size_t find(const Bytes& hay, const Bytes& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  EXPECT_NE(it, hay.end());
  return static_cast<std::size_t>(it - hay.begin());
}

ProvenanceRecord sample() {
  return makeProvenanceRecord(keyFor(1), Event::Create, {}, text("hello"), "job-1", 1'000'000);
}

ProvenanceCheck check(const ProvenanceRecord& r) {
  std::string why;
  return verifyRecord(r, &why);
}

// ---- records ------------------------------------------------------------------------------

TEST(ProvenanceRecord, RoundTripsAndIsSelfCertifying) {
  ProvenanceRecord source = sample();
  ProvenanceRecord r = makeProvenanceRecord(keyFor(2), Event::Modify, {source.itemId},
                                            text("HELLO"), "job-2", 1'000'050);
  EXPECT_EQ(check(r), ProvenanceCheck::Ok);
  std::string why;
  auto back = ProvenanceRecord::decode(r.encode(), &why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(back->encode(), r.encode());
  EXPECT_EQ(back->itemId, r.itemId);
  EXPECT_EQ(back->event, Event::Modify);
  EXPECT_EQ(back->parents, std::vector<std::string>{source.itemId});
  EXPECT_EQ(back->payloadHash, hash(text("HELLO")));
  EXPECT_EQ(back->job, "job-2");
  EXPECT_EQ(back->producer, didKey(keyFor(2).publicKey()));
  EXPECT_EQ(back->timestampMicros, 1'000'050u);
  EXPECT_EQ(back->signature, r.signature);
  // The id is the digest of the signed content, in did:key syntax, but never a key.
  EXPECT_EQ(r.itemId, itemIdOf(hash(r.signedBytes())));
  EXPECT_EQ(parseItemId(r.itemId), hash(r.signedBytes()));
  EXPECT_TRUE(r.itemId.starts_with("did:key:z"));
  EXPECT_FALSE(parseDidKey(r.itemId));
  EXPECT_FALSE(parseItemId(r.producer));
  // Deterministic: the same content gives the same id and bytes.
  EXPECT_EQ(sample().encode(), source.encode());
  for (int e = 0; e <= static_cast<int>(Event::Drop); ++e)
    EXPECT_EQ(eventFromName(eventName(static_cast<Event>(e))), static_cast<Event>(e));
}

TEST(ProvenanceRecord, DecodeRejectsOtherShapes) {
  ProvenanceRecord r = sample();
  std::string why;
  Value::Map body{
      {"event", "create"}, {"parents", Value::Array{}},        {"payload", toBytes(r.payloadHash)},
      {"job", "j"},        {"producer", r.producer},           {"time", std::uint64_t(1)},
      {"id", r.itemId},    {"signature", toBytes(r.signature)}};
  auto encoded = [](Value::Map b, const char* type = "provenance") {
    return encodeRecord({type, kEncodingVersion, std::move(b)});
  };
  EXPECT_TRUE(ProvenanceRecord::decode(encoded(body), &why)) << why;
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(body, "tx"), &why));
  auto without = body;
  without.erase("job");
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(without), &why));
  auto extra = body;
  extra["note"] = "x";
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(extra), &why));
  auto badEvent = body;
  badEvent["event"] = "clone";
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(badEvent), &why));
  EXPECT_NE(why.find("clone"), std::string::npos);
  auto shortHash = body;
  shortHash["payload"] = Bytes(31, 0);
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(shortHash), &why));
  auto badParent = body;
  badParent["parents"] = Value::Array{Value(std::uint64_t(7))};
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(badParent), &why));
  auto negativeTime = body;
  negativeTime["time"] = Value(std::int64_t(-1));
  EXPECT_FALSE(ProvenanceRecord::decode(encoded(negativeTime), &why));
  EXPECT_FALSE(ProvenanceRecord::decode(Bytes{0x01}, &why));
}

TEST(ProvenanceRecord, EachRule) {
  SigningKey key = keyFor(3), other = keyFor(4);
  std::string a = sample().itemId;
  std::string b = makeProvenanceRecord(key, Event::Create, {}, text("b"), "j", 2).itemId;
  Digest payload = hash(text("payload"));
  auto sealed = [&](Event e, std::vector<std::string> parents, Digest p = hash(text("payload"))) {
    ProvenanceRecord r;
    r.event = e;
    r.parents = std::move(parents);
    r.payloadHash = p;
    r.job = "job";
    r.timestampMicros = 7;
    r.seal(key);
    return r;
  };
  // Parent counts: create 0, join >= 2, everything else exactly 1.
  EXPECT_EQ(check(sealed(Event::Create, {})), ProvenanceCheck::Ok);
  EXPECT_EQ(check(sealed(Event::Create, {a})), ProvenanceCheck::Shape);
  EXPECT_EQ(check(sealed(Event::Join, {a, b})), ProvenanceCheck::Ok);
  EXPECT_EQ(check(sealed(Event::Join, {a})), ProvenanceCheck::Shape);
  EXPECT_EQ(check(sealed(Event::Join, {a, a})), ProvenanceCheck::Shape); // distinct parents
  for (Event e : {Event::Fork, Event::Modify, Event::Send, Event::Receive}) {
    EXPECT_EQ(check(sealed(e, {a})), ProvenanceCheck::Ok) << eventName(e);
    EXPECT_EQ(check(sealed(e, {})), ProvenanceCheck::Shape) << eventName(e);
    EXPECT_EQ(check(sealed(e, {a, b})), ProvenanceCheck::Shape) << eventName(e);
  }
  // A drop carries no payload.
  EXPECT_EQ(check(sealed(Event::Drop, {a}, Digest{})), ProvenanceCheck::Ok);
  EXPECT_EQ(check(sealed(Event::Drop, {a}, payload)), ProvenanceCheck::Shape);
  EXPECT_EQ(check(makeProvenanceRecord(key, Event::Drop, {a}, payload, "j", 1)),
            ProvenanceCheck::Ok); // the factory zeroes it
  // Parents are item ids, not keys or junk.
  EXPECT_EQ(check(sealed(Event::Modify, {didKey(key.publicKey())})), ProvenanceCheck::Shape);
  EXPECT_EQ(check(sealed(Event::Modify, {"did:key:z0OIl"})), ProvenanceCheck::Shape);
  // The job is named.
  ProvenanceRecord noJob = sealed(Event::Create, {});
  noJob.job.clear();
  noJob.seal(key);
  EXPECT_EQ(check(noJob), ProvenanceCheck::Shape);

  // The producer must be a did:key of an Ed25519 key.
  ProvenanceRecord web = sealed(Event::Create, {});
  web.producer = "did:web:example.com";
  web.itemId = itemIdOf(hash(web.signedBytes()));
  web.signature = key.sign(web.signedBytes());
  std::string why;
  EXPECT_EQ(verifyRecord(web, &why), ProvenanceCheck::Producer);
  EXPECT_NE(why.find("did:web"), std::string::npos);

  // The id is the digest of the content.
  ProvenanceRecord changed = sealed(Event::Create, {});
  changed.payloadHash[0] ^= 1;
  EXPECT_EQ(verifyRecord(changed, &why), ProvenanceCheck::ItemId);
  EXPECT_NE(why.find(changed.itemId), std::string::npos);

  // The signature is the producer's: another key's signature of the same content fails.
  ProvenanceRecord forged = sealed(Event::Create, {});
  forged.signature = other.sign(forged.signedBytes());
  EXPECT_EQ(check(forged), ProvenanceCheck::Signature);
  ProvenanceRecord flipped = sealed(Event::Create, {});
  flipped.signature[10] ^= 0x40;
  EXPECT_EQ(check(flipped), ProvenanceCheck::Signature);
}

// ---- the store ----------------------------------------------------------------------------

struct Chain {
  std::vector<ProvenanceRecord> records; // create, modify, modify, send, receive
  const std::string& id(std::size_t i) const { return records[i].itemId; }
};

/// create -> modify -> modify (producer A, job 1) -> send (A) -> receive (producer B, job 2).
Chain makeChain() {
  SigningKey a = keyFor(10), b = keyFor(11);
  Chain c;
  c.records.push_back(makeProvenanceRecord(a, Event::Create, {}, text("raw"), "job-1", 100));
  c.records.push_back(
      makeProvenanceRecord(a, Event::Modify, {c.id(0)}, text("clean"), "job-1", 200));
  c.records.push_back(
      makeProvenanceRecord(a, Event::Modify, {c.id(1)}, text("scaled"), "job-1", 300));
  c.records.push_back(
      makeProvenanceRecord(a, Event::Send, {c.id(2)}, text("scaled"), "job-1", 400));
  c.records.push_back(
      makeProvenanceRecord(b, Event::Receive, {c.id(3)}, text("scaled"), "job-2", 450));
  return c;
}

std::unique_ptr<ProvenanceStore> storeWith(const std::string& path, const Chain& chain) {
  std::string why;
  auto store = ProvenanceStore::open(path, &why);
  EXPECT_TRUE(store) << why;
  for (const auto& r : chain.records) EXPECT_TRUE(store->add(r, &why)) << why;
  return store;
}

std::vector<std::string> reversedIds(const Chain& chain) {
  std::vector<std::string> ids;
  for (auto it = chain.records.rbegin(); it != chain.records.rend(); ++it)
    ids.push_back(it->itemId);
  return ids;
}

TEST(ProvenanceStore, ChainLineageVerifies) {
  std::string path = freshDb("chain");
  Chain chain = makeChain();
  auto store = storeWith(path, chain);
  EXPECT_EQ(store->size(), 5u);
  LineageReport report = store->lineage(chain.id(4));
  EXPECT_TRUE(report.verified()) << report.broken->detail;
  EXPECT_EQ(report.visited, reversedIds(chain));
  EXPECT_EQ(report.sources, std::vector<std::string>{chain.id(0)});
  EXPECT_EQ(store->children(chain.id(2)), std::vector<std::string>{chain.id(3)});
  auto got = store->get(chain.id(2));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->encode(), chain.records[2].encode());
  // Adding again is a no-op; the file is in WAL mode.
  std::string why;
  EXPECT_TRUE(store->add(chain.records[2], &why)) << why;
  EXPECT_EQ(store->size(), 5u);
  RawDb raw(path);
  EXPECT_EQ(raw.textOf("PRAGMA journal_mode"), "wal");
  EXPECT_EQ(raw.textOf("PRAGMA user_version"), "1");
}

TEST(ProvenanceStore, ForkJoinDag) {
  SigningKey a = keyFor(20), b = keyFor(21);
  std::string why;
  auto store = ProvenanceStore::open(freshDb("dag"), &why);
  ASSERT_TRUE(store) << why;
  auto src = makeProvenanceRecord(a, Event::Create, {}, text("frame"), "split", 1);
  auto left = makeProvenanceRecord(a, Event::Fork, {src.itemId}, text("left"), "split", 2);
  auto right = makeProvenanceRecord(a, Event::Fork, {src.itemId}, text("right"), "split", 2);
  auto edge = makeProvenanceRecord(b, Event::Modify, {left.itemId}, text("edges"), "detect", 3);
  auto other = makeProvenanceRecord(b, Event::Create, {}, text("imu"), "imu", 3);
  auto join = makeProvenanceRecord(b, Event::Join, {edge.itemId, right.itemId, other.itemId},
                                   text("fused"), "fuse", 4);
  // Any order: the join before its parents.
  ASSERT_TRUE(store->addAll({join, edge, right, left, src, other}, &why)) << why;
  LineageReport report = store->lineage(join.itemId);
  ASSERT_TRUE(report.verified()) << report.broken->detail;
  // Breadth-first: the join, its three parents in order, then their parents; the shared source
  // of both forks once.
  EXPECT_EQ(report.visited, (std::vector<std::string>{join.itemId, edge.itemId, right.itemId,
                                                      other.itemId, left.itemId, src.itemId}));
  EXPECT_EQ(report.sources, (std::vector<std::string>{other.itemId, src.itemId}));
  auto forks = store->children(src.itemId);
  std::sort(forks.begin(), forks.end());
  auto expected = std::vector<std::string>{left.itemId, right.itemId};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(forks, expected);
  // A walk that may read only 2 items says it stopped.
  LineageReport bounded = store->lineage(join.itemId, 2);
  EXPECT_TRUE(bounded.truncated);
  EXPECT_FALSE(bounded.verified());
  EXPECT_EQ(bounded.visited.size(), 2u);
}

TEST(ProvenanceStore, RefusesInvalidRecords) {
  std::string why;
  auto store = ProvenanceStore::open(freshDb("refuse"), &why);
  ASSERT_TRUE(store) << why;
  ProvenanceRecord bad = sample();
  bad.timestampMicros += 1; // content no longer matches the id
  EXPECT_FALSE(store->add(bad, &why));
  EXPECT_NE(why.find("item-id"), std::string::npos);
  // All or nothing.
  EXPECT_FALSE(store->addAll({sample(), bad}, &why));
  EXPECT_EQ(store->size(), 0u);
}

/// Expects lineage of the chain's last item to fail at `item` with `check`, reached along the
/// chain.
void expectBrokenAt(ProvenanceStore& store, const Chain& chain, std::size_t item,
                    ProvenanceCheck check) {
  LineageReport report = store.lineage(chain.id(4));
  ASSERT_TRUE(report.broken);
  EXPECT_EQ(report.broken->itemId, chain.id(item));
  EXPECT_EQ(report.broken->check, check)
      << checkName(report.broken->check) << ": " << report.broken->detail;
  std::vector<std::string> path;
  for (std::size_t i = 4; i + 1 > item; --i) path.push_back(chain.id(i));
  EXPECT_EQ(report.broken->path, path);
  // Everything before the broken item verified.
  EXPECT_EQ(report.visited.size(), 4 - item);
}

TEST(ProvenanceStore, FlippedByteInTheFileIsNamed) {
  Chain chain = makeChain();
  const std::string& middle = chain.id(2);
  struct Case {
    const char* name;
    std::size_t (*offset)(const Bytes& blob, const ProvenanceRecord& r);
    ProvenanceCheck check;
  };
  const Case cases[] = {
      {"payload",
       [](const Bytes& blob, const ProvenanceRecord& r) {
         return find(blob, toBytes(r.payloadHash)) + 5;
       },
       ProvenanceCheck::ItemId},
      {"signature",
       [](const Bytes& blob, const ProvenanceRecord& r) {
         return find(blob, toBytes(r.signature)) + 17;
       },
       ProvenanceCheck::Signature},
      {"header", [](const Bytes&, const ProvenanceRecord&) -> std::size_t { return 0; },
       ProvenanceCheck::Decode},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string path = freshDb(std::string("flip_") + c.name);
    storeWith(path, chain).reset(); // closed: only the file remains
    {
      RawDb raw(path);
      Bytes blob = raw.blob(middle);
      ASSERT_EQ(blob, chain.records[2].encode());
      blob[c.offset(blob, chain.records[2])] ^= 0x01;
      raw.setBlob(middle, blob);
    }
    std::string why;
    auto store = ProvenanceStore::open(path, &why);
    ASSERT_TRUE(store) << why;
    expectBrokenAt(*store, chain, 2, c.check);
    // The items above it still verify on their own walk... down to it.
    EXPECT_TRUE(store->lineage(chain.id(1)).verified());
  }
}

TEST(ProvenanceStore, RecordReplacedByAnotherKeyIsNamed) {
  Chain chain = makeChain();
  SigningKey mallory = keyFor(66);
  const ProvenanceRecord& original = chain.records[2];
  {
    // A valid record of mallory's with the same parent and content, under the middle item's id.
    std::string path = freshDb("replace");
    storeWith(path, chain).reset();
    ProvenanceRecord replacement =
        makeProvenanceRecord(mallory, original.event, original.parents, original.payloadHash,
                             original.job, original.timestampMicros);
    ASSERT_EQ(check(replacement), ProvenanceCheck::Ok);
    RawDb(path).setBlob(original.itemId, replacement.encode());
    auto store = ProvenanceStore::open(path);
    expectBrokenAt(*store, chain, 2, ProvenanceCheck::ItemId);
  }
  {
    // The same record re-signed by mallory, still claiming the original producer.
    std::string path = freshDb("resign");
    storeWith(path, chain).reset();
    ProvenanceRecord resigned = original;
    resigned.signature = mallory.sign(resigned.signedBytes());
    RawDb(path).setBlob(original.itemId, resigned.encode());
    auto store = ProvenanceStore::open(path);
    expectBrokenAt(*store, chain, 2, ProvenanceCheck::Signature);
  }
  {
    // Mallory's record with the id field rewritten to the original's.
    std::string path = freshDb("claim");
    storeWith(path, chain).reset();
    ProvenanceRecord claimed = original;
    claimed.payloadHash = hash(text("poisoned"));
    claimed.seal(mallory);
    claimed.itemId = original.itemId;
    RawDb(path).setBlob(original.itemId, claimed.encode());
    auto store = ProvenanceStore::open(path);
    expectBrokenAt(*store, chain, 2, ProvenanceCheck::ItemId);
  }
}

TEST(ProvenanceStore, DeletedRowsAreNamed) {
  Chain chain = makeChain();
  {
    // The record of a parent is gone: the link from the middle item to it is broken.
    std::string path = freshDb("delete_item");
    storeWith(path, chain).reset();
    RawDb(path).exec("DELETE FROM items WHERE item_id = '" + chain.id(1) + "'");
    auto store = ProvenanceStore::open(path);
    expectBrokenAt(*store, chain, 1, ProvenanceCheck::Missing);
    EXPECT_NE(store->lineage(chain.id(4)).broken->detail.find(chain.id(2)), std::string::npos);
  }
  {
    // The parent index row of the middle item is gone.
    std::string path = freshDb("delete_parent");
    storeWith(path, chain).reset();
    RawDb(path).exec("DELETE FROM parents WHERE child = '" + chain.id(2) + "'");
    auto store = ProvenanceStore::open(path);
    expectBrokenAt(*store, chain, 2, ProvenanceCheck::ParentIndex);
  }
  {
    // A parent recorded after the fact is found once it is there.
    std::string path = freshDb("late_parent");
    std::string why;
    auto store = ProvenanceStore::open(path, &why);
    ASSERT_TRUE(store) << why;
    for (std::size_t i = 4; i >= 1; --i) ASSERT_TRUE(store->add(chain.records[i], &why)) << why;
    expectBrokenAt(*store, chain, 0, ProvenanceCheck::Missing);
    ASSERT_TRUE(store->add(chain.records[0], &why)) << why;
    EXPECT_TRUE(store->lineage(chain.id(4)).verified());
  }
  std::string why;
  auto empty = ProvenanceStore::open(freshDb("empty"), &why);
  LineageReport none = empty->lineage(chain.id(4));
  ASSERT_TRUE(none.broken);
  EXPECT_EQ(none.broken->check, ProvenanceCheck::Missing);
  EXPECT_EQ(none.broken->path, std::vector<std::string>{chain.id(4)});
}

TEST(ProvenanceStore, LinkRules) {
  SigningKey a = keyFor(30);
  std::string why;
  auto store = ProvenanceStore::open(freshDb("links"), &why);
  ASSERT_TRUE(store) << why;
  auto src = makeProvenanceRecord(a, Event::Create, {}, text("x"), "j", 1);
  auto changed = makeProvenanceRecord(a, Event::Modify, {src.itemId}, text("y"), "j", 2);
  auto received = makeProvenanceRecord(a, Event::Receive, {changed.itemId}, text("y"), "j", 3);
  auto dropped = makeProvenanceRecord(a, Event::Drop, {changed.itemId}, Digest{}, "j", 4);
  auto zombie = makeProvenanceRecord(a, Event::Modify, {dropped.itemId}, text("z"), "j", 5);
  ASSERT_TRUE(store->addAll({src, changed, received, dropped, zombie}, &why)) << why;
  LineageReport r1 = store->lineage(received.itemId);
  ASSERT_TRUE(r1.broken);
  EXPECT_EQ(r1.broken->itemId, received.itemId); // a receive's parent is a send
  EXPECT_EQ(r1.broken->check, ProvenanceCheck::Link);
  LineageReport r2 = store->lineage(zombie.itemId);
  ASSERT_TRUE(r2.broken);
  EXPECT_EQ(r2.broken->itemId, zombie.itemId); // nothing derives from a drop
  EXPECT_EQ(r2.broken->check, ProvenanceCheck::Link);
  EXPECT_TRUE(store->lineage(dropped.itemId).verified());
}

TEST(ProvenanceStore, SurvivesCloseAndReopen) {
  std::string path = freshDb("durable");
  Chain chain = makeChain();
  storeWith(path, chain).reset();
  std::string why;
  auto store = ProvenanceStore::open(path, &why);
  ASSERT_TRUE(store) << why;
  EXPECT_EQ(store->size(), 5u);
  for (const auto& r : chain.records) EXPECT_TRUE(store->contains(r.itemId));
  LineageReport report = store->lineage(chain.id(4));
  EXPECT_TRUE(report.verified());
  EXPECT_EQ(report.visited, reversedIds(chain));
  // A file that is not a database is refused with a reason.
  std::string junk = freshDb("junk");
  {
    std::ofstream(junk) << std::string(4096, 'x');
  }
  EXPECT_FALSE(ProvenanceStore::open(junk, &why));
  EXPECT_FALSE(why.empty());
}

} // namespace
} // namespace flo::core
