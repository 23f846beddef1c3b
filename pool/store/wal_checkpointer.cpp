/// \file
/// Checkpoints on a thread of their own (see wal_checkpointer.h).
#include "pool/store/wal_checkpointer.h"

#include "core/check.h"

namespace flo::pool::sql {

bool WalCheckpointer::start(sqlite3* writer, const std::string& path, std::string* error,
                            int threshold, int limit) {
  FLO_CHECK(writer && !writer_ && threshold > 0 && limit > threshold);
  Connection own = openConnection(path, SQLITE_OPEN_READWRITE, error);
  if (!own) return false;
  // A connection opens the log when it first reads; until then a checkpoint does nothing.
  if (sqlite3_exec(own.get(), "SELECT count(*) FROM sqlite_schema", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    if (error) *error = errorOf(own.get(), "cannot read " + path);
    return false;
  }
  writer_ = writer;
  own_ = std::move(own);
  threshold_ = threshold;
  limit_ = limit;
  sqlite3_wal_autocheckpoint(writer_, 0);
  sqlite3_wal_hook(writer_, &WalCheckpointer::onCommit, this);
  thread_ = std::thread([this] { run(); });
  return true;
}

void WalCheckpointer::stop() {
  if (!writer_) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
  own_.reset();
  sqlite3_wal_autocheckpoint(writer_, threshold_); // also replaces our hook
  writer_ = nullptr;
}

std::uint64_t WalCheckpointer::checkpoints() const {
  std::lock_guard lock(mutex_);
  return checkpoints_;
}

std::uint64_t WalCheckpointer::failures() const {
  std::lock_guard lock(mutex_);
  return failures_;
}

/// The writer's thread, after each commit, with the frames the log now holds.
int WalCheckpointer::onCommit(void* self, sqlite3* db, const char* name, int frames) {
  auto* c = static_cast<WalCheckpointer*>(self);
  FLO_CHECK(db == c->writer_);
  if (frames >= c->limit_) {
    // Bounded, at the cost of one wait: the commit itself is done either way.
    ++c->forced_;
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  } else if (frames >= c->threshold_) {
    {
      std::lock_guard lock(c->mutex_);
      c->wanted_ = true;
    }
    c->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return wanted_ || stopping_; });
    if (stopping_) return;
    wanted_ = false;
    lock.unlock();
    int rc =
        sqlite3_wal_checkpoint_v2(own_.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    ++checkpoints_;
    if (rc != SQLITE_OK && rc != SQLITE_BUSY) ++failures_; // busy: another is under way
  }
}

} // namespace flo::pool::sql
