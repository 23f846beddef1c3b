/// \file
/// The provenance store: records in one SQLite file (WAL journal, synchronous=NORMAL, so a
/// commit survives a crash of the process and costs no fsync until a checkpoint), and the
/// lineage query that walks any item back to its sources, verifying every record and hash link
/// on the way and naming the first broken one.
///
/// Schema (PRAGMA user_version = 1):
///   items(item_id TEXT PRIMARY KEY, record BLOB)  -- ProvenanceRecord::encode()
///   parents(child TEXT, parent TEXT, PRIMARY KEY(child, parent)), index on parent
/// The record's own parent list is what lineage trusts (it is signed and hashed into the id);
/// the parents table is an index for forward queries (children), cross-checked by lineage.
///
/// Records may be added in any order: add() checks a record on its own (verifyRecord) but not
/// that its parents are stored, so records that arrive before their parents are kept. A parent
/// still missing when lineage is asked is reported as a broken link.
///
/// Not thread-safe: one store (one SQLite connection) per thread. Errors never throw.
#pragma once

#include "core/provenance.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace flo::core {

/// The first broken item of a lineage walk.
struct BrokenLink {
  std::string itemId; ///< the item whose record or link failed
  ProvenanceCheck check = ProvenanceCheck::Ok;
  std::string detail;            ///< why, for people
  std::vector<std::string> path; ///< from the queried item to itemId, both included
};

struct LineageReport {
  /// Items verified, breadth-first from the queried item (which comes first when it verifies).
  std::vector<std::string> visited;
  /// Verified items without parents (Create records) among them.
  std::vector<std::string> sources;
  std::optional<BrokenLink> broken; ///< the first failure in breadth-first order
  bool truncated = false;           ///< the walk stopped at its item limit
  bool verified() const { return !broken && !truncated; }
};

class ProvenanceStore {
public:
  /// Opens or creates the store at `path`. Nullptr and a reason when SQLite cannot open it, it
  /// is not a provenance store, or its schema is newer than this reader.
  static std::unique_ptr<ProvenanceStore> open(const std::string& path,
                                               std::string* error = nullptr);
  ~ProvenanceStore();
  ProvenanceStore(const ProvenanceStore&) = delete;
  ProvenanceStore& operator=(const ProvenanceStore&) = delete;

  /// Verifies the record on its own, then stores it and its parent links in one transaction.
  /// Adding a stored id again is a no-op. False and a reason when the record fails a check or
  /// the write fails (then nothing is stored).
  bool add(const ProvenanceRecord& record, std::string* error = nullptr);
  /// The same for many records in one transaction (all or nothing).
  bool addAll(const std::vector<ProvenanceRecord>& records, std::string* error = nullptr);

  /// The stored record, decoded but not verified; nullopt when absent or undecodable.
  std::optional<ProvenanceRecord> get(const std::string& itemId, std::string* error = nullptr);
  bool contains(const std::string& itemId);
  /// Items whose records name `itemId` as a parent (from the parent index).
  std::vector<std::string> children(const std::string& itemId);
  std::size_t size();

  /// Walks `itemId` back to its sources breadth-first, at most `maxItems` records. Each record
  /// is decoded from its stored bytes and checked: it is stored under the id its content hashes
  /// to, verifyRecord passes, the parent index matches, and no parent is a Drop nor a Receive's
  /// parent anything but a Send. A parent with no record is Missing. Stops at the first failure.
  LineageReport lineage(const std::string& itemId, std::size_t maxItems = 1'000'000);

private:
  struct Statements;
  ProvenanceStore(sqlite3* db, std::unique_ptr<Statements> statements);
  bool insert(const ProvenanceRecord& record, std::string* error);

  sqlite3* db_;
  std::unique_ptr<Statements> statements_;
};

} // namespace flo::core
