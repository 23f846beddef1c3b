/// \file
/// The little of SQLite's C API that the replica store and the chain verifier share: a
/// connection and prepared statements that finalize themselves, a use of a statement that
/// resets it on every path out, typed binds and column reads, and pragmas read as rows. Private
/// to pool/store; nothing here throws.
#pragma once

#include "core/canonical.h"

#include <sqlite3.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace flo::pool::sql {

using core::Bytes;

struct CloseConnection {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Connection = std::unique_ptr<sqlite3, CloseConnection>;

/// "what: SQLite's message for the connection's last error".
std::string errorOf(sqlite3* db, const std::string& what);

/// Opens `path` with `flags` (SQLITE_OPEN_*), extended result codes on and a busy timeout;
/// null and why on failure.
Connection openConnection(const std::string& path, int flags, std::string* error);

/// A prepared statement, finalized with its owner.
class Statement {
public:
  Statement() = default;
  ~Statement() { sqlite3_finalize(s_); } // a no-op on nullptr
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  /// Prepares `text` on `db`; false (the connection holds why) on failure.
  bool prepare(sqlite3* db, const char* text);
  sqlite3_stmt* get() const { return s_; }

private:
  sqlite3_stmt* s_ = nullptr;
};

/// One use of a statement: binds, steps, reads; resets the statement and its bindings when it
/// ends, whatever the path out. Integers are stored as SQLite's signed 64 bits, bit for bit.
class Use {
public:
  explicit Use(const Statement& s) : s_(s.get()) {}
  ~Use() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

  bool bind(int index, std::uint64_t value) {
    return sqlite3_bind_int64(s_, index, static_cast<sqlite3_int64>(value)) == SQLITE_OK;
  }
  bool bind(int index, const Bytes& bytes) {
    return sqlite3_bind_blob(s_, index, bytes.data(), static_cast<int>(bytes.size()),
                             SQLITE_TRANSIENT) == SQLITE_OK;
  }
  template <std::size_t N> bool bind(int index, const std::array<std::uint8_t, N>& bytes) {
    return sqlite3_bind_blob(s_, index, bytes.data(), static_cast<int>(N), SQLITE_TRANSIENT) ==
           SQLITE_OK;
  }
  /// SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  /// Steps a statement that returns no rows; true when it ran to completion.
  bool run() { return step() == SQLITE_DONE; }

  bool isNull(int column) const { return sqlite3_column_type(s_, column) == SQLITE_NULL; }
  std::uint64_t u64(int column) const {
    return static_cast<std::uint64_t>(sqlite3_column_int64(s_, column));
  }
  Bytes blob(int column) const;
  std::string text(int column) const;

private:
  sqlite3_stmt* s_;
};

/// The rows of a statement with one text column (a pragma's answer); nullopt and why when it
/// fails.
std::optional<std::vector<std::string>> textRows(sqlite3* db, const char* text, std::string* error);

} // namespace flo::pool::sql
