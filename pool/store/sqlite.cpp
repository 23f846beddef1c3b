/// \file
/// The shared SQLite plumbing of pool/store (see sqlite.h).
#include "pool/store/sqlite.h"

namespace flo::pool::sql {

std::string errorOf(sqlite3* db, const std::string& what) {
  return what + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
}

Connection openConnection(const std::string& path, int flags, std::string* error) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  Connection connection(db); // closed on every failure path from here
  if (rc != SQLITE_OK) {
    if (error) *error = errorOf(db, "cannot open " + path);
    return nullptr;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  return connection;
}

bool Statement::prepare(sqlite3* db, const char* text) {
  sqlite3_finalize(s_);
  s_ = nullptr;
  return sqlite3_prepare_v3(db, text, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) == SQLITE_OK;
}

Bytes Use::blob(int column) const {
  const auto* data = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, column));
  int size = sqlite3_column_bytes(s_, column);
  return data ? Bytes(data, data + size) : Bytes();
}

std::string Use::text(int column) const {
  const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(s_, column));
  return data ? std::string(data, static_cast<std::size_t>(sqlite3_column_bytes(s_, column)))
              : std::string();
}

std::optional<std::vector<std::string>> textRows(sqlite3* db, const char* text,
                                                 std::string* error) {
  Statement s;
  if (!s.prepare(db, text)) {
    if (error) *error = errorOf(db, text);
    return std::nullopt;
  }
  Use use(s);
  std::vector<std::string> rows;
  int rc;
  while ((rc = use.step()) == SQLITE_ROW) rows.push_back(use.text(0));
  if (rc != SQLITE_DONE) {
    if (error) *error = errorOf(db, text);
    return std::nullopt;
  }
  return rows;
}

} // namespace flo::pool::sql
