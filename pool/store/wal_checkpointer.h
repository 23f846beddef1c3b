/// \file
/// Checkpoints a WAL database on a thread of its own, so that the writer never stalls on one.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold (1,000 pages
/// by default): it copies the WAL into the database file and fsyncs it, a few milliseconds in
/// which a replica's vote waits. Here the writer's connection checkpoints nothing by itself; its
/// WAL hook wakes this thread once the log holds `threshold` frames, and the thread runs a
/// PASSIVE checkpoint on a connection of its own, which copies what is committed without
/// blocking the writer (it keeps appending meanwhile). Once everything is copied, the writer's
/// next transaction starts the log from its beginning again, as with automatic checkpoints.
///
/// If the log still grows past `limit` frames (the thread cannot keep up, or keeps failing),
/// the writer runs a RESTART checkpoint itself at its next commit: it waits, but the log stays
/// bounded. Nothing of durability depends on checkpoints: committed transactions are in the WAL.
#pragma once

#include "pool/store/sqlite.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace flo::pool::sql {

class WalCheckpointer {
public:
  static constexpr int kThreshold = 1000; ///< frames (SQLite's automatic threshold)
  static constexpr int kLimit = 16000;    ///< frames: the writer checkpoints itself past this

  /// Takes over checkpointing for `writer` (the only connection that writes `path`): turns its
  /// automatic checkpoints off, installs its WAL hook, and opens the thread's connection. False,
  /// with why, when that connection cannot be opened (then `writer` is left as it was).
  bool start(sqlite3* writer, const std::string& path, std::string* error,
             int threshold = kThreshold, int limit = kLimit);
  /// Stops and joins the thread and closes its connection; the writer gets its automatic
  /// checkpoints back. Idempotent.
  void stop();
  ~WalCheckpointer() { stop(); }

  /// Checkpoints run by the thread, and the ones of them that failed (the log is kept).
  std::uint64_t checkpoints() const;
  std::uint64_t failures() const;
  /// Checkpoints the writer ran itself because the log had passed the limit.
  std::uint64_t forced() const { return forced_; }

private:
  static int onCommit(void* self, sqlite3* db, const char* name, int frames);
  void run();

  sqlite3* writer_ = nullptr;
  Connection own_; ///< the thread's connection
  int threshold_ = kThreshold, limit_ = kLimit;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool wanted_ = false, stopping_ = false;       ///< under mutex_
  std::uint64_t checkpoints_ = 0, failures_ = 0; ///< under mutex_
  std::uint64_t forced_ = 0;                     ///< the writer's thread only
};

} // namespace flo::pool::sql
