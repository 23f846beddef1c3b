/// \file
/// The provenance store over SQLite's C API with prepared statements, and the verifying lineage
/// walk (see provenance_store.h).
#include "core/store/provenance_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cassert>
#include <deque>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace flo::core {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS items(
  item_id TEXT PRIMARY KEY NOT NULL,
  record BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS parents(
  child TEXT NOT NULL,
  parent TEXT NOT NULL,
  PRIMARY KEY(child, parent)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS parents_by_parent ON parents(parent);
)sql";

std::string sqliteError(sqlite3* db, const std::string& what) {
  return what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

/// Resets a statement and its bindings when a use of it ends, whatever the path out.
class StatementUse {
public:
  explicit StatementUse(sqlite3_stmt* s) : s_(s) {}
  ~StatementUse() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  StatementUse(const StatementUse&) = delete;
  StatementUse& operator=(const StatementUse&) = delete;
  sqlite3_stmt* get() const { return s_; }
  bool bindText(int index, const std::string& text) {
    return sqlite3_bind_text(s_, index, text.data(), static_cast<int>(text.size()),
                             SQLITE_TRANSIENT) == SQLITE_OK;
  }
  bool bindBlob(int index, const Bytes& bytes) {
    return sqlite3_bind_blob(s_, index, bytes.data(), static_cast<int>(bytes.size()),
                             SQLITE_TRANSIENT) == SQLITE_OK;
  }
  int step() { return sqlite3_step(s_); }

private:
  sqlite3_stmt* s_;
};

std::string columnText(sqlite3_stmt* s, int column) {
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, column));
  return text ? std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(s, column)))
              : std::string();
}

} // namespace

struct ProvenanceStore::Statements {
  sqlite3_stmt* selectRecord = nullptr;
  sqlite3_stmt* insertItem = nullptr;
  sqlite3_stmt* insertParent = nullptr;
  sqlite3_stmt* selectParents = nullptr;
  sqlite3_stmt* selectChildren = nullptr;
  sqlite3_stmt* count = nullptr;
  sqlite3_stmt* begin = nullptr;
  sqlite3_stmt* commit = nullptr;
  sqlite3_stmt* rollback = nullptr;

  ~Statements() {
    for (sqlite3_stmt* s : {selectRecord, insertItem, insertParent, selectParents, selectChildren,
                            count, begin, commit, rollback})
      sqlite3_finalize(s); // a no-op on nullptr
  }
};

std::unique_ptr<ProvenanceStore> ProvenanceStore::open(const std::string& path,
                                                       std::string* error) {
  auto fail = [&](std::string why) -> std::unique_ptr<ProvenanceStore> {
    if (error) *error = std::move(why);
    return nullptr;
  };
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // From here on the connection is closed on every failure path.
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> guard(db, sqlite3_close_v2);
  if (rc != SQLITE_OK) return fail(sqliteError(db, "cannot open " + path));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);

  // The journal mode answers with the mode now in force; anything but "wal" is an error.
  sqlite3_stmt* pragma = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &pragma, nullptr) != SQLITE_OK)
    return fail(sqliteError(db, path + " is not a provenance store"));
  std::string mode;
  if (sqlite3_step(pragma) == SQLITE_ROW) mode = columnText(pragma, 0);
  sqlite3_finalize(pragma);
  if (mode != "wal") return fail(sqliteError(db, "cannot put " + path + " in WAL mode"));
  if (sqlite3_exec(db, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK)
    return fail(sqliteError(db, "cannot set synchronous=NORMAL"));

  int version = -1;
  if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &pragma, nullptr) == SQLITE_OK &&
      sqlite3_step(pragma) == SQLITE_ROW)
    version = sqlite3_column_int(pragma, 0);
  sqlite3_finalize(pragma);
  if (version < 0) return fail(sqliteError(db, "cannot read the schema version of " + path));
  if (version > kSchemaVersion)
    return fail(path + " has provenance schema version " + std::to_string(version) +
                " (this reader understands " + std::to_string(kSchemaVersion) + ")");
  if (version < kSchemaVersion) {
    std::string script = std::string("BEGIN IMMEDIATE;") + kSchema +
                         "PRAGMA user_version=" + std::to_string(kSchemaVersion) + "; COMMIT;";
    char* message = nullptr;
    if (sqlite3_exec(db, script.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string why = message ? message : "unknown error";
      sqlite3_free(message);
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return fail("cannot create the provenance schema in " + path + ": " + why);
    }
  }

  auto statements = std::make_unique<Statements>();
  const std::pair<sqlite3_stmt**, const char*> sql[] = {
      {&statements->selectRecord, "SELECT record FROM items WHERE item_id = ?1"},
      {&statements->insertItem, "INSERT OR IGNORE INTO items(item_id, record) VALUES(?1, ?2)"},
      {&statements->insertParent, "INSERT OR IGNORE INTO parents(child, parent) VALUES(?1, ?2)"},
      {&statements->selectParents, "SELECT parent FROM parents WHERE child = ?1"},
      {&statements->selectChildren, "SELECT child FROM parents WHERE parent = ?1 ORDER BY child"},
      {&statements->count, "SELECT count(*) FROM items"},
      {&statements->begin, "BEGIN IMMEDIATE"},
      {&statements->commit, "COMMIT"},
      {&statements->rollback, "ROLLBACK"},
  };
  for (const auto& [slot, text] : sql)
    if (sqlite3_prepare_v3(db, text, -1, SQLITE_PREPARE_PERSISTENT, slot, nullptr) != SQLITE_OK)
      return fail(sqliteError(db, path + " is not a provenance store"));
  return std::unique_ptr<ProvenanceStore>(
      new ProvenanceStore(guard.release(), std::move(statements)));
}

ProvenanceStore::ProvenanceStore(sqlite3* db, std::unique_ptr<Statements> statements)
    : db_(db), statements_(std::move(statements)) {}

ProvenanceStore::~ProvenanceStore() {
  statements_.reset(); // finalize before closing
  sqlite3_close_v2(db_);
}

bool ProvenanceStore::insert(const ProvenanceRecord& record, std::string* error) {
  auto fail = [&](const std::string& what) {
    if (error) *error = sqliteError(db_, what);
    return false;
  };
  {
    StatementUse s(statements_->insertItem);
    if (!s.bindText(1, record.itemId) || !s.bindBlob(2, record.encode()) || s.step() != SQLITE_DONE)
      return fail("cannot store " + record.itemId);
  }
  for (const auto& parent : record.parents) {
    StatementUse s(statements_->insertParent);
    if (!s.bindText(1, record.itemId) || !s.bindText(2, parent) || s.step() != SQLITE_DONE)
      return fail("cannot store the parents of " + record.itemId);
  }
  return true;
}

bool ProvenanceStore::add(const ProvenanceRecord& record, std::string* error) {
  return addAll({record}, error);
}

bool ProvenanceStore::addAll(const std::vector<ProvenanceRecord>& records, std::string* error) {
  for (const auto& record : records) {
    std::string why;
    if (ProvenanceCheck check = verifyRecord(record, &why); check != ProvenanceCheck::Ok) {
      if (error)
        *error = "record " + record.itemId + " fails the " + checkName(check) + " check: " + why;
      return false;
    }
  }
  {
    StatementUse begin(statements_->begin);
    if (begin.step() != SQLITE_DONE) {
      if (error) *error = sqliteError(db_, "cannot begin a transaction");
      return false;
    }
  }
  for (const auto& record : records) {
    if (!insert(record, error)) {
      StatementUse rollback(statements_->rollback);
      rollback.step();
      return false;
    }
  }
  StatementUse commit(statements_->commit);
  if (commit.step() != SQLITE_DONE) {
    if (error) *error = sqliteError(db_, "cannot commit");
    StatementUse rollback(statements_->rollback);
    rollback.step();
    return false;
  }
  return true;
}

std::optional<ProvenanceRecord> ProvenanceStore::get(const std::string& itemId,
                                                     std::string* error) {
  StatementUse s(statements_->selectRecord);
  if (!s.bindText(1, itemId)) return std::nullopt;
  int rc = s.step();
  if (rc != SQLITE_ROW) {
    if (error)
      *error = rc == SQLITE_DONE ? "no record for " + itemId : sqliteError(db_, "cannot read");
    return std::nullopt;
  }
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), 0));
  Bytes bytes(data, data + sqlite3_column_bytes(s.get(), 0));
  return ProvenanceRecord::decode(bytes, error);
}

bool ProvenanceStore::contains(const std::string& itemId) {
  StatementUse s(statements_->selectRecord);
  return s.bindText(1, itemId) && s.step() == SQLITE_ROW;
}

std::vector<std::string> ProvenanceStore::children(const std::string& itemId) {
  std::vector<std::string> out;
  StatementUse s(statements_->selectChildren);
  if (!s.bindText(1, itemId)) return out;
  while (s.step() == SQLITE_ROW) out.push_back(columnText(s.get(), 0));
  return out;
}

std::size_t ProvenanceStore::size() {
  StatementUse s(statements_->count);
  return s.step() == SQLITE_ROW ? static_cast<std::size_t>(sqlite3_column_int64(s.get(), 0)) : 0;
}

LineageReport ProvenanceStore::lineage(const std::string& itemId, std::size_t maxItems) {
  using Event = ProvenanceRecord::Event;
  LineageReport report;
  // Breadth-first. `via` holds, for each item queued, the child it was first reached from (the
  // queried item has none); it gives the path of a broken item. Ids commit to their parents, so a
  // cycle would need a hash collision; `via` doubles as the visited set all the same.
  std::deque<std::string> queue{itemId};
  std::unordered_map<std::string, std::string> via{{itemId, std::string()}};
  std::unordered_map<std::string, Event> eventOf; // items verified so far
  // Children verified before their parent, for the link checks once the parent is read.
  std::unordered_map<std::string, std::vector<std::pair<std::string, Event>>> waiting;

  auto pathTo = [&](const std::string& id) {
    std::vector<std::string> path;
    for (const std::string* at = &id; !at->empty(); at = &via.at(*at)) path.push_back(*at);
    std::reverse(path.begin(), path.end());
    return path;
  };
  auto brokenAt = [&](const std::string& id, ProvenanceCheck check, std::string detail) {
    report.broken = BrokenLink{id, check, std::move(detail), pathTo(id)};
    return report;
  };
  // The link child -> parent, once both events are known.
  auto linkProblem = [](Event child, const std::string& parent, Event parentEvent) {
    if (parentEvent == Event::Drop) return "its parent " + parent + " is a drop";
    if (child == Event::Receive && parentEvent != Event::Send)
      return "a receive's parent is a send, " + parent + " is a " + eventName(parentEvent);
    return std::string();
  };

  while (!queue.empty()) {
    if (report.visited.size() >= maxItems) {
      report.truncated = true;
      return report;
    }
    std::string id = std::move(queue.front());
    queue.pop_front();

    Bytes bytes;
    {
      StatementUse s(statements_->selectRecord);
      if (!s.bindText(1, id)) return brokenAt(id, ProvenanceCheck::Storage, "cannot bind");
      int rc = s.step();
      if (rc == SQLITE_DONE) {
        const std::string& child = via.at(id);
        return brokenAt(id, ProvenanceCheck::Missing,
                        child.empty() ? "no record is stored for the queried item"
                                      : "no record is stored for this parent of " + child);
      }
      if (rc != SQLITE_ROW)
        return brokenAt(id, ProvenanceCheck::Storage, sqliteError(db_, "cannot read"));
      const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s.get(), 0));
      bytes.assign(data, data + sqlite3_column_bytes(s.get(), 0));
    }
    std::string why;
    auto record = ProvenanceRecord::decode(bytes, &why);
    if (!record) return brokenAt(id, ProvenanceCheck::Decode, why);
    if (record->itemId != id)
      return brokenAt(id, ProvenanceCheck::ItemId,
                      "the record stored under this id claims the id " + record->itemId);
    if (ProvenanceCheck check = verifyRecord(*record, &why); check != ProvenanceCheck::Ok)
      return brokenAt(id, check, why);

    // The links from the children that named this item before it was read.
    if (auto it = waiting.find(id); it != waiting.end()) {
      for (const auto& [child, childEvent] : it->second)
        if (std::string problem = linkProblem(childEvent, id, record->event); !problem.empty())
          return brokenAt(child, ProvenanceCheck::Link, problem);
      waiting.erase(it);
    }

    // The parent index must list exactly the record's parents.
    std::vector<std::string> indexed;
    {
      StatementUse s(statements_->selectParents);
      if (!s.bindText(1, id)) return brokenAt(id, ProvenanceCheck::Storage, "cannot bind");
      int rc;
      while ((rc = s.step()) == SQLITE_ROW) indexed.push_back(columnText(s.get(), 0));
      if (rc != SQLITE_DONE)
        return brokenAt(id, ProvenanceCheck::Storage, sqliteError(db_, "cannot read parents"));
    }
    std::vector<std::string> expected = record->parents;
    std::sort(indexed.begin(), indexed.end());
    std::sort(expected.begin(), expected.end());
    if (indexed != expected)
      return brokenAt(id, ProvenanceCheck::ParentIndex,
                      "the parent index lists " + std::to_string(indexed.size()) +
                          " parents, the record " + std::to_string(expected.size()) +
                          (indexed.size() == expected.size() ? " (different ones)" : ""));

    eventOf.emplace(id, record->event);
    report.visited.push_back(id);
    if (record->parents.empty()) report.sources.push_back(id);
    for (const auto& parent : record->parents) {
      if (auto known = eventOf.find(parent); known != eventOf.end()) {
        if (std::string problem = linkProblem(record->event, parent, known->second);
            !problem.empty())
          return brokenAt(id, ProvenanceCheck::Link, problem);
        continue;
      }
      waiting[parent].emplace_back(id, record->event);
      if (via.emplace(parent, id).second) queue.push_back(parent);
    }
  }
  return report;
}

} // namespace flo::core
