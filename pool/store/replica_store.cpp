/// \file
/// The replica's SQLite store (see replica_store.h): the schema, the transaction per batch of
/// effects, and the checks that run when it opens.
#include "pool/store/replica_store.h"

#include "core/check.h"
#include "pool/store/records.h"
#include "pool/store/sqlite.h"
#include "pool/store/wal_checkpointer.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

namespace flo::pool {

namespace {

constexpr std::int64_t kApplicationId = 0x666c6f50; // "floP"
constexpr std::int64_t kSchemaVersion = 3;

// The two tables every round writes, keyed so that a round touches as few pages as it can: a
// proposal is written at the right edge of its table (heights grow), and the chain is appended
// by height with no index beside it. A block's proposal is written once, when it is stored
// (before the vote for it); its commit adds a small row that names it by (height, id), with the
// certificates, results and root, and removes the other proposals of its height. Until version
// 2 the commit wrote the whole block again and the proposal left its table: every block's bytes
// went to the log twice, and the pages it freed went through the free list.
std::string proposalsTable(const char* name) {
  return std::string("CREATE TABLE ") + name + R"sql((
  height INTEGER NOT NULL,
  id BLOB NOT NULL,
  proposal BLOB NOT NULL,
  PRIMARY KEY(height, id)
) WITHOUT ROWID;
)sql";
}
std::string blocksTable(const char* name) {
  return std::string("CREATE TABLE ") + name + R"sql((
  height INTEGER PRIMARY KEY,
  id BLOB NOT NULL,
  qc BLOB NOT NULL,
  child BLOB NOT NULL,
  child_qc BLOB NOT NULL,
  results BLOB NOT NULL,
  state_root BLOB NOT NULL
);
)sql";
}

std::string schema() {
  return R"sql(
CREATE TABLE meta(
  key TEXT PRIMARY KEY NOT NULL,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE safety(
  id INTEGER PRIMARY KEY CHECK (id = 0),
  last_voted_round INTEGER NOT NULL,
  state BLOB NOT NULL
);
CREATE TABLE checkpoints(
  height INTEGER PRIMARY KEY,
  state_root BLOB NOT NULL,
  signatures BLOB NOT NULL,
  snapshot BLOB
);
)sql" + proposalsTable("proposals") +
         blocksTable("blocks");
}

/// Version 1 to 2: the same rows in the tables of version 2 (pending blocks keyed by (height,
/// id), the chain with no unique index on the ids), in one transaction.
std::string migrationFrom1() {
  return R"sql(BEGIN IMMEDIATE;
CREATE TABLE pending_v2(
  height INTEGER NOT NULL, id BLOB NOT NULL, proposal BLOB NOT NULL, PRIMARY KEY(height, id)
) WITHOUT ROWID;
INSERT INTO pending_v2(height, id, proposal) SELECT height, id, proposal FROM pending;
DROP TABLE pending;
ALTER TABLE pending_v2 RENAME TO pending;
CREATE TABLE blocks_v2(
  height INTEGER PRIMARY KEY, id BLOB NOT NULL, block BLOB NOT NULL, child BLOB NOT NULL,
  child_qc BLOB NOT NULL, results BLOB NOT NULL, state_root BLOB NOT NULL
);
INSERT INTO blocks_v2(height, id, block, child, child_qc, results, state_root)
  SELECT height, id, block, child, child_qc, results, state_root FROM blocks;
DROP TABLE blocks;
ALTER TABLE blocks_v2 RENAME TO blocks;
PRAGMA user_version=2;
COMMIT;)sql";
}

/// The one integer a statement answers (a pragma, a count); nullopt when it fails.
std::optional<std::int64_t> oneInteger(sqlite3* db, const char* text) {
  sql::Statement s;
  if (!s.prepare(db, text)) return std::nullopt;
  sql::Use use(s);
  if (use.step() != SQLITE_ROW) return std::nullopt;
  return static_cast<std::int64_t>(use.u64(0));
}

bool exec(sqlite3* db, const std::string& text, std::string* error) {
  char* message = nullptr;
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message) == SQLITE_OK) return true;
  if (error) *error = message ? message : sqlite3_errmsg(db);
  sqlite3_free(message);
  return false;
}

/// Version 2 to 3, in one transaction: each committed block's proposal joins the pending ones in
/// `proposals`, and its row in `blocks` keeps the certificate in place of the whole block. A
/// row that does not decode stops it (and the file stays at version 2), named as open() would.
bool migrateFrom2(sqlite3* c, std::size_t maxTxs, std::string& why) {
  if (!exec(c,
            "BEGIN IMMEDIATE;\n" + proposalsTable("proposals") +
                "INSERT INTO proposals(height, id, proposal) SELECT height, id, proposal FROM "
                "pending WHERE height > (SELECT coalesce(max(height), 0) FROM blocks);\n" +
                blocksTable("blocks_v3"),
            &why))
    return false;
  sql::Statement read, putProposal, putBlock;
  if (!read.prepare(c, "SELECT height, id, block, child, child_qc, results, state_root FROM "
                       "blocks ORDER BY height") ||
      !putProposal.prepare(
          c, "INSERT OR REPLACE INTO proposals(height, id, proposal) VALUES(?1, ?2, ?3)") ||
      !putBlock.prepare(c, "INSERT INTO blocks_v3(height, id, qc, child, child_qc, results, "
                           "state_root) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"))
    return why = sqlite3_errmsg(c), false;
  sql::Use rows(read);
  int rc;
  while ((rc = rows.step()) == SQLITE_ROW) {
    const std::uint64_t height = rows.u64(0);
    auto block = decodeCommittedBlock(rows.blob(2), maxTxs, &why);
    if (!block) return why = "table blocks, height " + std::to_string(height) + ": " + why, false;
    sql::Use p(putProposal);
    sql::Use b(putBlock);
    if (!p.bind(1, height) || !p.bind(2, rows.blob(1)) ||
        !p.bind(3, encodeProposal(block->proposal)) || !p.run() || !b.bind(1, height) ||
        !b.bind(2, rows.blob(1)) || !b.bind(3, encodeQc(block->qc)) || !b.bind(4, rows.blob(3)) ||
        !b.bind(5, rows.blob(4)) || !b.bind(6, rows.blob(5)) || !b.bind(7, rows.blob(6)) ||
        !b.run())
      return why = sqlite3_errmsg(c), false;
  }
  if (rc != SQLITE_DONE) return why = sqlite3_errmsg(c), false;
  return exec(c,
              "DROP TABLE pending; DROP TABLE blocks; ALTER TABLE blocks_v3 RENAME TO blocks; "
              "PRAGMA user_version=3; COMMIT",
              &why);
}

} // namespace

/// An exclusive flock on PATH.lock for as long as the store is open: two replica processes on
/// one store would sign for one key from two safety states (the kernel drops the lock when the
/// process dies, kill -9 included, so a crash leaves nothing to clean up).
struct StoreLock {
  int fd = -1;
  StoreLock() = default;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock() {
    if (fd >= 0) ::close(fd); // releases the lock
  }
  bool take(const std::string& path, std::string& why) {
    std::string lockPath = path + ".lock";
    fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return why = "cannot open " + lockPath + ": " + std::strerror(errno), false;
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      why = errno == EWOULDBLOCK
                ? path + " is in use by another replica process (" + lockPath + " is locked)"
                : "cannot lock " + lockPath + ": " + std::strerror(errno);
      return false;
    }
    return true;
  }
};

struct SqliteStore::Db {
  StoreLock lock;             // released after the connection closes
  sql::Connection connection; // destroyed last: the statements below finalize first
  sql::Statement begin, commit, rollback;
  bool syncIsFull = true; ///< PRAGMA synchronous in force, set between transactions
  sql::Statement putSafety, getSafety;
  sql::Statement putProposal, pruneSiblings, pruneBetween, allPending, countPending;
  sql::Statement putBlock, getBlock, blocksFrom, getRoot, getResults;
  sql::Statement putCheckpoint, dropOldSnapshots, latestCheckpoint;
  sql::WalCheckpointer checkpointer; // stopped before the connection closes
  sqlite3* get() const { return connection.get(); }
};

std::unique_ptr<SqliteStore> SqliteStore::open(const std::string& path, const Genesis& genesis,
                                               std::string* error) {
  auto fail = [&](std::string why) -> std::unique_ptr<SqliteStore> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  std::string why;
  auto db = std::make_unique<Db>();
  if (!db->lock.take(path, why)) return fail(why);
  db->connection = sql::openConnection(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, &why);
  if (!db->connection) return fail(why);
  sqlite3* c = db->get();

  // What kind of file, at what version, before anything is written to it. A file that is not
  // a database fails here first.
  auto application = oneInteger(c, "PRAGMA application_id");
  auto version = oneInteger(c, "PRAGMA user_version");
  auto tables = oneInteger(c, "SELECT count(*) FROM sqlite_schema");
  if (!application || !version || !tables)
    return fail(path + " is not a replica store: " + sqlite3_errmsg(c));
  const bool fresh = *application == 0 && *version == 0 && *tables == 0;
  if (!fresh && *application != kApplicationId)
    return fail(path + " is not a replica store (another SQLite database)");
  if (!fresh && (*version < 1 || *version > kSchemaVersion))
    return fail(path + " has replica store schema version " + std::to_string(*version) +
                " (this reader understands 1 to " + std::to_string(kSchemaVersion) + ")");

  // The journal mode answers with the mode now in force; anything but "wal" is an error.
  auto mode = sql::textRows(c, "PRAGMA journal_mode=WAL", &why);
  if (!mode) return fail("cannot put " + path + " in WAL mode: " + why);
  if (mode->size() != 1 || mode->front() != "wal")
    return fail("cannot put " + path + " in WAL mode");
  if (!exec(c, "PRAGMA synchronous=FULL; PRAGMA cell_size_check=ON", &why))
    return fail("cannot set synchronous=FULL on " + path + ": " + why);
  auto check = sql::textRows(c, "PRAGMA quick_check", &why);
  if (!check) return fail(path + " fails PRAGMA quick_check: " + why);
  if (check->size() != 1 || check->front() != "ok")
    return fail(path + " fails PRAGMA quick_check: " + (check->empty() ? "" : check->front()));

  // A new file gets the schema and the pool's identity.
  const Digest chain = genesis.chainId();
  if (fresh) {
    sql::Statement meta;
    bool ok = exec(c, "BEGIN IMMEDIATE", &why) && exec(c, schema(), &why) &&
              meta.prepare(c, "INSERT INTO meta(key, value) VALUES(?1, ?2)");
    for (const auto& [key, value] : {std::pair<const char*, Bytes>{"chain", core::toBytes(chain)},
                                     {"genesis", genesis.encode()}}) {
      if (!ok) break;
      sql::Use use(meta);
      ok = sqlite3_bind_text(meta.get(), 1, key, -1, SQLITE_STATIC) == SQLITE_OK &&
           use.bind(2, value) && use.run();
      if (!ok) why = sqlite3_errmsg(c);
    }
    ok = ok && exec(c,
                    "PRAGMA application_id=" + std::to_string(kApplicationId) +
                        "; PRAGMA user_version=" + std::to_string(kSchemaVersion) + "; COMMIT",
                    &why);
    if (!ok) {
      exec(c, "ROLLBACK", nullptr);
      return fail("cannot create the replica store schema in " + path + ": " + why);
    }
  }

  // Whose: the chain id stored when it was created must be this genesis's.
  {
    sql::Statement s;
    if (!s.prepare(c, "SELECT key, value FROM meta"))
      return fail(sql::errorOf(c, path + " is not a replica store"));
    sql::Use use(s);
    std::optional<Bytes> storedChain, storedGenesis;
    while (use.step() == SQLITE_ROW) {
      if (use.text(0) == "chain") storedChain = use.blob(1);
      if (use.text(0) == "genesis") storedGenesis = use.blob(1);
    }
    auto stored = storedChain ? digestFrom(*storedChain) : std::nullopt;
    if (!stored || !storedGenesis) return fail(path + ": table meta: no chain id or genesis");
    if (*stored != chain)
      return fail(path + " holds the store of another pool: chain " + core::toHex(*stored) +
                  ", the genesis given is chain " + core::toHex(chain));
    auto g = Genesis::decode(*storedGenesis, &why);
    if (!g || g->chainId() != *stored)
      return fail(path + ": table meta: the stored genesis is not the chain's" +
                  (g ? std::string() : ": " + why));
  }

  // A file of an older version (of this pool: checked above) is rewritten to this version's
  // tables, a version at a time, each in one transaction. Version 1 to 2 moves rows as they
  // are (a row that does not decode is found below, as in a file made at this version); 2 to 3
  // decodes each block, and stops at one that does not.
  for (std::int64_t from = fresh ? kSchemaVersion : *version; from < kSchemaVersion; ++from) {
    const bool ok = from == 1 ? exec(c, migrationFrom1(), &why)
                              : migrateFrom2(c, genesis.params.maxBlockTxs, why);
    if (!ok) {
      exec(c, "ROLLBACK", nullptr);
      return fail("cannot bring " + path + " from replica store schema version " +
                  std::to_string(from) + " to " + std::to_string(from + 1) + ": " + why);
    }
  }

  const std::pair<sql::Statement*, const char*> statements[] = {
      {&db->begin, "BEGIN IMMEDIATE"},
      {&db->commit, "COMMIT"},
      {&db->rollback, "ROLLBACK"},
      {&db->putSafety,
       "INSERT OR REPLACE INTO safety(id, last_voted_round, state) VALUES(0, ?1, ?2)"},
      {&db->getSafety, "SELECT last_voted_round, state FROM safety WHERE id = 0"},
      {&db->putProposal,
       "INSERT OR REPLACE INTO proposals(height, id, proposal) VALUES(?1, ?2, ?3)"},
      {&db->pruneSiblings, "DELETE FROM proposals WHERE height = ?1 AND id != ?2"},
      {&db->pruneBetween, "DELETE FROM proposals WHERE height > ?1 AND height < ?2"},
      {&db->allPending, "SELECT id, height, proposal FROM proposals WHERE height > ?1 ORDER BY id"},
      {&db->countPending, "SELECT count(*) FROM proposals WHERE height > ?1"},
      {&db->putBlock, "INSERT INTO blocks(height, id, qc, child, child_qc, results, state_root) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
      {&db->getBlock,
       "SELECT p.proposal, b.qc, b.child, b.child_qc FROM blocks b "
       "JOIN proposals p ON p.height = b.height AND p.id = b.id WHERE b.height = ?1"},
      {&db->blocksFrom,
       "SELECT b.height, b.id, p.proposal, b.qc, b.results, b.state_root FROM blocks b "
       "LEFT JOIN proposals p ON p.height = b.height AND p.id = b.id "
       "WHERE b.height >= ?1 ORDER BY b.height"},
      {&db->getRoot, "SELECT state_root FROM blocks WHERE height = ?1"},
      {&db->getResults, "SELECT results FROM blocks WHERE height = ?1"},
      {&db->putCheckpoint, "INSERT OR REPLACE INTO checkpoints(height, state_root, signatures, "
                           "snapshot) VALUES(?1, ?2, ?3, ?4)"},
      // A state transfer's base (no block below it) keeps its snapshot: the chain above it
      // starts from that state. (Height 1 is never a base: a transfer from genesis to it
      // would skip nothing, and is synced.)
      {&db->dropOldSnapshots,
       "UPDATE checkpoints SET snapshot = NULL WHERE height < ?1 AND snapshot IS NOT NULL AND "
       "(height = 1 OR EXISTS (SELECT 1 FROM blocks b WHERE b.height = checkpoints.height - 1))"},
      {&db->latestCheckpoint, "SELECT height, state_root, snapshot, signatures FROM checkpoints "
                              "WHERE snapshot IS NOT NULL ORDER BY height DESC LIMIT 1"},
  };
  for (const auto& [statement, text] : statements)
    if (!statement->prepare(c, text))
      return fail(sql::errorOf(c, path + " is not a replica store"));

  // The chain is 1..tip, but for gaps a state transfer left: the block above a gap is the base,
  // a stable checkpoint whose snapshot is kept.
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, genesis, std::move(db)));
  auto max = oneInteger(c, "SELECT coalesce(max(height), 0) FROM blocks");
  if (!max) return fail(sql::errorOf(c, "cannot read the chain of " + path));
  {
    sql::Statement s;
    if (!s.prepare(c, "SELECT coalesce((SELECT max(p.height) FROM blocks p WHERE p.height < "
                      "b.height), 0) + 1 FROM blocks b WHERE b.height > 1 AND NOT EXISTS (SELECT "
                      "1 FROM blocks p WHERE p.height = b.height - 1) AND NOT EXISTS (SELECT 1 "
                      "FROM checkpoints k WHERE k.height = b.height AND k.snapshot IS NOT NULL) "
                      "ORDER BY b.height LIMIT 1"))
      return fail(sql::errorOf(c, "cannot read the chain of " + path));
    sql::Use use(s);
    if (use.step() == SQLITE_ROW)
      return fail(store->rowError("blocks", use.u64(0), "missing (the chain has a gap)"));
  }
  store->tip_ = std::uint64_t(*max);
  {
    sql::Use use(store->db_->getSafety);
    if (use.step() == SQLITE_ROW) {
      store->hasSafety_ = true;
      store->lastVotedRound_ = use.u64(0);
    }
  }
  {
    sql::Use use(store->db_->latestCheckpoint);
    if (use.step() == SQLITE_ROW) store->checkpoint_ = use.u64(0);
  }
  // The restart state, rebuilt and checked now: a store that opens can be restarted from.
  auto restored = store->tryRestore(&why);
  if (!restored) return fail(why);
  for (const Proposal& p : restored->pending)
    store->above_.insert_or_assign({p.header.height, p.header.id()}, Unbound(p));
  store->restored_ = std::move(restored);
  // From here on the WAL is checkpointed beside the writer, never inside a vote's commit.
  if (!store->db_->checkpointer.start(c, path, &why))
    return fail("cannot open a second connection to " + path + " for checkpoints: " + why);
  return store;
}

SqliteStore::SqliteStore(std::string path, const Genesis& genesis, std::unique_ptr<Db> db)
    : path_(std::move(path)), genesis_(genesis), db_(std::move(db)) {
  genesisRoot_ = Ledger(genesis_).stateRoot();
  genesisId_ = genesisHeader(genesis_, genesisRoot_).id();
}

SqliteStore::~SqliteStore() = default;

std::string SqliteStore::rowError(const char* table, std::optional<std::uint64_t> height,
                                  const std::string& why) const {
  return path_ + ": table " + table + (height ? ", height " + std::to_string(*height) : "") + ": " +
         why;
}

bool SqliteStore::fail(std::string* error, std::string why) {
  failure_ = why;
  if (error) *error = std::move(why);
  return false;
}

// ---- writing ----------------------------------------------------------------------------------

bool SqliteStore::apply(const Effect& effect, std::string* error) {
  return applyAll({&effect}, error);
}

bool SqliteStore::apply(const std::vector<Effect>& effects, std::string* error) {
  std::vector<const Effect*> all;
  all.reserve(effects.size());
  for (const Effect& e : effects) all.push_back(&e);
  return applyAll(all, error);
}

bool SqliteStore::applyAll(const std::vector<const Effect*>& effects, std::string* error) {
  if (failed()) {
    if (error) *error = "the store failed earlier: " + failure_;
    return false;
  }
  if (std::none_of(effects.begin(), effects.end(), [](const Effect* e) { return isDurable(*e); }))
    return true;
  sqlite3* c = db_->get();
  // An fsync only for what a vote relies on; a commit alone is written, and made durable by
  // the next fsync (see the file comment).
  const bool sync = std::any_of(effects.begin(), effects.end(),
                                [](const Effect* e) { return holdsBackMessages(*e); });
  // PRAGMA synchronous takes effect when the statement is compiled, not when it runs: a
  // prepared copy stepped again sets nothing (from 39eea9d to e8ee5f0 the votes were written
  // without an fsync that way). So it is compiled afresh each time it changes.
  if (sync != db_->syncIsFull) {
    std::string why;
    if (!exec(c, sync ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", &why))
      return fail(error, path_ + ": cannot set synchronous: " + why);
    db_->syncIsFull = sync;
  }
  {
    sql::Use begin(db_->begin);
    if (!begin.run()) return fail(error, sql::errorOf(c, path_ + ": cannot begin a transaction"));
  }
  // What the store will hold once the transaction commits.
  std::uint64_t tip = tip_, checkpoint = checkpoint_, voted = lastVotedRound_;
  Stored above = above_;
  bool hasSafety = hasSafety_;
  // Each write returns why it failed (empty when it did not), read while the failed statement
  // still holds its error; the statement is reset before any rollback.
  auto writeProposal = [&](std::uint64_t height, const Digest& id, const Proposal& proposal,
                           const std::string& what) -> std::string {
    sql::Use u(db_->putProposal);
    if (!u.bind(1, height) || !u.bind(2, id) || !u.bind(3, encodeProposal(proposal)) || !u.run())
      return sql::errorOf(c, what);
    return {};
  };
  auto writeCheckpoint = [&](const StoreCheckpoint& p) -> std::string {
    const std::string what =
        path_ + ": cannot store the checkpoint at height " + std::to_string(p.height);
    {
      sql::Use u(db_->putCheckpoint);
      if (!u.bind(1, p.height) || !u.bind(2, p.stateRoot) ||
          !u.bind(3, encodeSignatures(p.signatures)) || !u.bind(4, p.snapshot) || !u.run())
        return sql::errorOf(c, what);
    }
    sql::Use u(db_->dropOldSnapshots);
    if (!u.bind(1, p.height) || !u.run()) return sql::errorOf(c, what);
    checkpoint = std::max(checkpoint, p.height);
    return {};
  };
  // The committed block that becomes the tip (the next height, or a state transfer's base).
  auto writeTip = [&](const CommittedBlock& block, const BlockHeader& child,
                      const QuorumCert& childQc, const std::vector<TxResult>& results,
                      const Digest& root, const std::string& what) -> std::string {
    const std::uint64_t height = block.proposal.header.height;
    const Digest id = block.proposal.header.id();
    // The proposal is stored already, unless this replica never voted for the block or
    // state transfer brought a peer's copy of it: then it is written now.
    auto stored = above.find({height, id});
    if (stored == above.end() || !(stored->second == Unbound(block.proposal)))
      if (std::string why = writeProposal(height, id, block.proposal, what); !why.empty())
        return why;
    {
      sql::Use u(db_->putBlock);
      if (!u.bind(1, height) || !u.bind(2, id) || !u.bind(3, encodeQc(block.qc)) ||
          !u.bind(4, encodeHeader(child)) || !u.bind(5, encodeQc(childQc)) ||
          !u.bind(6, encodeResults(results)) || !u.bind(7, root) || !u.run())
        return sql::errorOf(c, what);
    }
    // The other proposals of its height can never commit now. (Those below it went when their
    // heights committed; none is kept at or below the tip, above.)
    sql::Use u(db_->pruneSiblings);
    if (!u.bind(1, height) || !u.bind(2, id) || !u.run()) return sql::errorOf(c, what);
    above.erase(above.begin(), above.lower_bound({height + 1, Digest{}}));
    tip = height;
    return {};
  };
  auto write = [&](const Effect& effect) -> std::string {
    if (const auto* s = std::get_if<PersistSafety>(&effect)) {
      // The last voted round only ever grows (the core's invariant, checked where it is kept).
      FLO_CHECK(!hasSafety || s->state.lastVotedRound >= voted);
      sql::Use u(db_->putSafety);
      if (!u.bind(1, s->state.lastVotedRound) || !u.bind(2, encodeSafety(s->state)) || !u.run())
        return sql::errorOf(c, path_ + ": cannot store the safety state");
      hasSafety = true;
      voted = s->state.lastVotedRound;
    } else if (const auto* b = std::get_if<StoreBlock>(&effect)) {
      const BlockHeader& h = b->proposal.header;
      // A block at or below the tip can never commit (its height has its block): not kept.
      if (h.height <= tip) return {};
      const Digest id = h.id();
      if (std::string why = writeProposal(h.height, id, b->proposal,
                                          path_ + ": cannot store the block at height " +
                                              std::to_string(h.height));
          !why.empty())
        return why;
      above.insert_or_assign({h.height, id}, Unbound(b->proposal));
    } else if (const auto* k = std::get_if<CommitBlock>(&effect)) {
      const std::uint64_t height = k->block.proposal.header.height;
      FLO_CHECK(height == tip + 1);
      return writeTip(k->block, k->child, k->childQc, k->results, k->stateRoot,
                      path_ + ": cannot commit the block at height " + std::to_string(height));
    } else if (const auto* p = std::get_if<StoreCheckpoint>(&effect)) {
      // Stable means a quorum signed a root this replica computed: at or below its tip.
      FLO_CHECK(p->height <= tip);
      if (std::string why = writeCheckpoint(*p); !why.empty()) return why;
    } else if (const auto* i = std::get_if<InstallSnapshot>(&effect)) {
      // State transfer: the base becomes the tip, above a gap; its checkpoint is the state.
      const std::uint64_t height = i->block.proposal.header.height;
      FLO_CHECK(height > tip && i->checkpoint.height == height);
      const std::string what =
          path_ + ": cannot install the state transferred at height " + std::to_string(height);
      // The proposals stored between the old tip and the base can never commit now.
      {
        sql::Use u(db_->pruneBetween);
        if (!u.bind(1, tip) || !u.bind(2, height) || !u.run()) return sql::errorOf(c, what);
      }
      // Not executed here: no results.
      if (std::string why =
              writeTip(i->block, i->child, i->childQc, {}, i->checkpoint.stateRoot, what);
          !why.empty())
        return why;
      if (std::string why = writeCheckpoint(i->checkpoint); !why.empty()) return why;
    }
    return {};
  };
  auto rollBack = [&](std::string why) {
    if (!sqlite3_get_autocommit(c)) {
      sql::Use rollback(db_->rollback);
      rollback.run();
    }
    return fail(error, std::move(why));
  };
  for (const Effect* e : effects)
    if (std::string why = write(*e); !why.empty()) return rollBack(std::move(why));
  std::string why;
  {
    sql::Use commit(db_->commit);
    if (!commit.run()) why = sql::errorOf(c, path_ + ": cannot commit");
  }
  if (!why.empty()) return rollBack(std::move(why));
  tip_ = tip;
  checkpoint_ = checkpoint;
  lastVotedRound_ = voted;
  above_ = std::move(above);
  hasSafety_ = hasSafety;
  restored_.reset();
  return true;
}

// ---- reading ----------------------------------------------------------------------------------

std::optional<StoredBlock> SqliteStore::committed(std::uint64_t height) const {
  if (height == 0 || height > tip_) return std::nullopt;
  sql::Use use(db_->getBlock);
  std::optional<Proposal> proposal;
  std::optional<QuorumCert> qc, childQc;
  std::optional<BlockHeader> child;
  if (!use.bind(1, height)) return std::nullopt;
  const int rc = use.step();
  if (rc == SQLITE_DONE) return std::nullopt; // below a state transfer's base: not held
  if (rc == SQLITE_ROW) {
    proposal = decodeProposal(use.blob(0), genesis_.params.maxBlockTxs);
    qc = decodeQc(use.blob(1));
    child = decodeHeader(use.blob(2));
    childQc = decodeQc(use.blob(3));
  }
  // What open() checked of every row, checked again of this one (a replica serves it to peers,
  // who would refuse it): a row changed under a running store is counted, not served.
  if (!proposal || !qc || !child || !childQc || proposal->header.height != height ||
      qc->block != proposal->header.id()) {
    ++corruptReads_;
    return std::nullopt;
  }
  return StoredBlock{CommittedBlock{std::move(*proposal), std::move(*qc)}, std::move(*child),
                     std::move(*childQc)};
}

std::optional<StoreCheckpoint> SqliteStore::latestCheckpoint() const {
  sql::Use use(db_->latestCheckpoint);
  if (use.step() != SQLITE_ROW) return std::nullopt;
  auto root = digestFrom(use.blob(1));
  auto signatures = decodeSignatures(use.blob(3));
  if (!root || !signatures) {
    ++corruptReads_;
    return std::nullopt;
  }
  return StoreCheckpoint{use.u64(0), *root, std::move(*signatures), use.blob(2)};
}

std::optional<SafetyState> SqliteStore::safety() const {
  sql::Use use(db_->getSafety);
  if (use.step() != SQLITE_ROW) return std::nullopt;
  return decodeSafety(use.blob(1));
}

std::optional<Digest> SqliteStore::stateRoot(std::uint64_t height) const {
  if (height == 0) return genesisRoot_;
  sql::Use use(db_->getRoot);
  if (!use.bind(1, height) || use.step() != SQLITE_ROW) return std::nullopt;
  return digestFrom(use.blob(0));
}

std::optional<std::vector<TxResult>> SqliteStore::results(std::uint64_t height) const {
  sql::Use use(db_->getResults);
  if (!use.bind(1, height) || use.step() != SQLITE_ROW) return std::nullopt;
  return decodeResults(use.blob(0));
}

std::size_t SqliteStore::pendingCount() const {
  sql::Use use(db_->countPending);
  return use.bind(1, tip_) && use.step() == SQLITE_ROW ? std::size_t(use.u64(0)) : 0;
}

Restored SqliteStore::restore() const {
  if (restored_) return *std::exchange(restored_, std::nullopt);
  std::string why;
  auto restored = tryRestore(&why);
  if (!restored) std::fprintf(stderr, "%s\n", why.c_str());
  // open() checked this state; a row that no longer decodes went bad under a running replica.
  FLO_CHECK(restored.has_value());
  return std::move(*restored);
}

std::optional<Restored> SqliteStore::tryRestore(std::string* error) const {
  auto fail = [&](std::string why) -> std::optional<Restored> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  sqlite3* c = db_->get();
  const std::size_t maxTxs = genesis_.params.maxBlockTxs;
  std::string why;
  Restored r{SafetyState{}, Ledger(genesis_), {}, {}, {}};

  {
    sql::Use use(db_->getSafety);
    int rc = use.step();
    if (rc == SQLITE_ROW) {
      auto safety = decodeSafety(use.blob(1), &why);
      if (!safety) return fail(rowError("safety", std::nullopt, why));
      if (safety->lastVotedRound != use.u64(0))
        return fail(rowError("safety", std::nullopt,
                             "the last_voted_round column disagrees with the state"));
      r.safety = std::move(*safety);
    } else if (rc != SQLITE_DONE) {
      return fail(sql::errorOf(c, path_ + ": cannot read the safety state"));
    }
  }

  // The ledger at the latest stable checkpoint, from its snapshot.
  std::uint64_t from = 0;
  std::optional<Digest> checkpointRoot;
  {
    sql::Use use(db_->latestCheckpoint);
    int rc = use.step();
    if (rc == SQLITE_ROW) {
      from = use.u64(0);
      checkpointRoot = digestFrom(use.blob(1));
      if (!checkpointRoot) return fail(rowError("checkpoints", from, "a root not of 32 bytes"));
      if (from > tip_)
        return fail(rowError("checkpoints", from, "above the tip " + std::to_string(tip_)));
      auto ledger = Ledger::decode(genesis_, use.blob(2), &why);
      if (!ledger) return fail(rowError("checkpoints", from, "the snapshot: " + why));
      if (ledger->height() != from || ledger->stateRoot() != *checkpointRoot)
        return fail(rowError("checkpoints", from, "the snapshot is not the state it signs"));
      r.ledger = std::move(*ledger);
    } else if (rc != SQLITE_DONE) {
      return fail(sql::errorOf(c, path_ + ": cannot read the checkpoints"));
    }
  }

  // The blocks after it (and the checkpoint's own, for its id and root), re-executed.
  Digest parent = genesisId_;
  std::uint64_t next = from == 0 ? 1 : from;
  std::optional<CommittedBlock> last;
  {
    sql::Use use(db_->blocksFrom);
    use.bind(1, next);
    int rc;
    while ((rc = use.step()) == SQLITE_ROW) {
      const std::uint64_t h = use.u64(0);
      if (h != next) return fail(rowError("blocks", next, "missing (the chain has a gap)"));
      auto id = digestFrom(use.blob(1));
      auto root = digestFrom(use.blob(5));
      if (!id || !root) return fail(rowError("blocks", h, "an id or state root not of 32 bytes"));
      if (use.isNull(2)) return fail(rowError("blocks", h, "its proposal is not stored"));
      auto proposal = decodeProposal(use.blob(2), maxTxs, &why);
      if (!proposal) return fail(rowError("proposals", h, why));
      auto qc = decodeQc(use.blob(3), &why);
      if (!qc) return fail(rowError("blocks", h, why));
      CommittedBlock block{std::move(*proposal), std::move(*qc)};
      const BlockHeader& header = block.proposal.header;
      if (header.height != h || header.id() != *id || block.qc.block != *id)
        return fail(rowError("blocks", h, "the block is not the one its height and id name"));
      if (h == from) {
        if (*root != *checkpointRoot)
          return fail(rowError("checkpoints", from, "its state root is not the block's"));
      } else {
        if (header.parent != parent)
          return fail(rowError("blocks", h, "its parent is not the block below it"));
        std::vector<Tx> txs;
        for (std::size_t i = 0; i < block.proposal.txs.size(); ++i) {
          auto tx = Tx::decode(block.proposal.txs[i], &why);
          if (!tx)
            return fail(rowError("blocks", h, "transaction " + std::to_string(i) + ": " + why));
          txs.push_back(std::move(*tx));
        }
        std::vector<TxResult> results = r.ledger.executeBlock(h, header.timeMs, txs);
        auto stored = decodeResults(use.blob(4), &why);
        if (!stored) return fail(rowError("blocks", h, why));
        if (*stored != results)
          return fail(rowError("blocks", h, "the stored results are not what the block gives"));
        if (r.ledger.stateRoot() != *root)
          return fail(rowError("blocks", h, "the stored state root is not what the block gives"));
      }
      parent = *id;
      last = std::move(block);
      ++next;
    }
    if (rc != SQLITE_DONE) return fail(sql::errorOf(c, path_ + ": cannot read the blocks"));
  }
  if (next != tip_ + 1) return fail(rowError("blocks", next, "missing (the chain has a gap)"));

  if (!last) {
    r.tip = genesisHeader(genesis_, genesisRoot_);
    r.tipQc.block = genesisId_;
  } else {
    r.tip = last->proposal.header;
    r.tipQc = last->qc;
  }

  {
    sql::Use use(db_->allPending);
    use.bind(1, tip_);
    int rc;
    while ((rc = use.step()) == SQLITE_ROW) {
      const std::uint64_t h = use.u64(1);
      auto id = digestFrom(use.blob(0));
      auto p = decodeProposal(use.blob(2), maxTxs, &why);
      if (!p) return fail(rowError("proposals", h, why));
      if (!id || p->header.id() != *id || p->header.height != h)
        return fail(rowError("proposals", h, "the block is not the one its height and id name"));
      r.pending.push_back(std::move(*p));
    }
    if (rc != SQLITE_DONE) return fail(sql::errorOf(c, path_ + ": cannot read the pending blocks"));
  }
  return r;
}

} // namespace flo::pool
