#include "storage/sqlite/sqlite_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "storage/sqlite/connection.h"
#include "storage/sqlite/group_commit_writer.h"
#include "storage/system/system_migrations.h"
#include "storage/system/secrets.h"

namespace slipway::storage::sqlite {
namespace {

std::atomic<std::uint64_t> g_instance_ids{1};

Problem read_only_problem() {
  return Problem::make(ProblemCode::kUnavailable, "The database is open for inspection only.");
}

class SqliteEngine final : public Engine {
 public:
  explicit SqliteEngine(SqliteOptions options) : options_(std::move(options)) {}

  ~SqliteEngine() override {
    close();
    writer_.reset();  // the writer's connection closes last, still under the lock
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock
  }

  Status open(const Clock& clock) {
    if (options_.read_only) {
      struct stat st {};
      missing_ = ::stat(options_.path.c_str(), &st) != 0;
      return {};
    }
    if (Status st = take_lock(); !st) return st;
    OpenOptions oo;
    oo.synchronous_full = options_.synchronous_full;
    auto conn = Connection::open(options_.path, oo);
    if (!conn) return std::move(conn).error();
    if (Status st = apply_system_migrations(**conn, sql::DialectKind::kSqlite, "slipway " SLIPWAY_VERSION, format_rfc3339_ms(clock.now_ms())); !st)
      return st;
    auto key = load_cursor_key(**conn);
    if (!key) return std::move(key).error();
    cursor_key_ = *key;
    WriterStats stats;
    stats.on_commit = options_.on_commit;
    writer_ = std::make_unique<GroupCommitWriter>(std::move(*conn), std::move(stats));
    return {};
  }

  const sql::Dialect& dialect() const override { return *dialect_; }
  bool exists() const override { return !missing_; }
  bool writable() const override { return writer_ != nullptr; }
  bool shared() const override { return false; }  // the file lock: this process is the only writer

  Result<ReadLease> reader() override {
    if (closed_.load(std::memory_order_relaxed) || missing_)
      return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
    thread_local std::unordered_map<std::uint64_t, Connection*> connections;
    Connection*& conn = connections[instance_id_];
    if (!conn) {
      OpenOptions oo;
      oo.read_only = true;
      auto opened = Connection::open(options_.path, oo);
      if (!opened) return std::move(opened).error();
      std::lock_guard lock(readers_mu_);
      readers_.push_back(std::move(*opened));
      conn = readers_.back().get();
    }
    return ReadLease(conn);
  }

  void submit(WriteOp op) override {
    if (!writer_) return op.complete(read_only_problem());
    writer_->submit(std::move(op));
  }

  Status run_exclusive(std::function<Status(storage::Connection&)> fn) override {
    if (!writer_) return read_only_problem();
    return writer_->run_exclusive([fn = std::move(fn)](Connection& conn) { return fn(conn); });
  }

  // On the writer's own connection, alone between batches (invariant 5 of group_commit_writer.h): table rebuilds
  // need foreign_keys=OFF, which SQLite only honours outside a transaction.
  Status run_migration(std::function<Status(storage::Connection&)> body) override {
    if (!writer_) return read_only_problem();
    return writer_->run_alone([&body](Connection& conn) -> Status {
      if (Status st = conn.exec("PRAGMA foreign_keys=OFF; BEGIN IMMEDIATE"); !st) {
        (void)conn.exec("PRAGMA foreign_keys=ON");
        return st;
      }
      // Each statement apart: after SQLITE_FULL or an I/O error SQLite has already rolled back, so ROLLBACK fails
      // and must not keep foreign_keys=ON from running on the shared writer connection.
      auto fail = [&conn](Problem p) -> Status {
        if (conn.in_transaction()) (void)conn.exec("ROLLBACK");
        (void)conn.exec("PRAGMA foreign_keys=ON");  // if even this fails, the writer fails (run_alone checks)
        return p;
      };
      if (Status st = body(conn); !st) return fail(std::move(st).error());
      auto check = conn.prepare_uncached("PRAGMA foreign_key_check");
      if (!check) return fail(std::move(check).error());
      auto row = (*check)->step();
      if (!row) return fail(std::move(row).error());
      if (*row)
        return fail(Problem::make(ProblemCode::kConflict, "The migration would leave relations pointing at missing records."));
      check->reset();
      if (Status st = conn.exec("COMMIT"); !st) return fail(std::move(st).error());
      return conn.exec("PRAGMA foreign_keys=ON");
    });
  }

  const sql::CursorKey& cursor_key() const override { return cursor_key_; }

  Result<std::vector<SystemMigrationRecord>> system_history() override {
    if (missing_) return system_migration_status_of_nothing(sql::DialectKind::kSqlite);
    auto conn = reader();
    if (!conn) return std::move(conn).error();
    return system_migration_status(**conn, sql::DialectKind::kSqlite);
  }

  Status ping() override {
    if (closed_.load()) return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
    if (!writer_) return read_only_problem();
    if (writer_->failed()) return Problem::make(ProblemCode::kUnavailable, "The database writer has failed.");
    auto conn = reader();
    if (!conn) return std::move(conn).error();
    return ping_connection(**conn);
  }

  void close() override {
    if (closed_.exchange(true)) return;
    {  // readers first: the writer, the only checkpointer, closes last
      std::lock_guard lock(readers_mu_);
      readers_.clear();
    }
    if (writer_) writer_->close();  // drains and stops; its connection closes with the engine, then the lock
  }

  std::uint64_t statement_evictions() const override { return statement_cache_evictions(); }

 private:
  // Takes <path>.lock exclusively (non-blocking) and writes our pid into it; a Problem naming the holder's pid
  // when another process has it.
  Status take_lock() {
    const std::string lock_path = options_.path + ".lock";
    lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd_ < 0)
      return Problem::make(ProblemCode::kUnavailable, "The database cannot be opened.",
                           "open " + lock_path + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(lock_fd_, pid, sizeof pid - 1, 0);
      std::string holder;  // only the digits: the file is ours, but anyone who can write the directory can edit it
      for (ssize_t i = 0; i < n && pid[i] >= '0' && pid[i] <= '9'; ++i) holder.push_back(pid[i]);
      ::close(lock_fd_);
      lock_fd_ = -1;
      if (err != EWOULDBLOCK)
        return Problem::make(ProblemCode::kUnavailable, "The database cannot be opened.",
                             "lock " + lock_path + ": " + std::strerror(err));
      return Problem::make(ProblemCode::kUnavailable, "The database is in use by another slipway process.",
                           "in use by another slipway process" + (holder.empty() ? "" : " (pid " + holder + ")") +
                               ": only one process may write it; stop that process first (a running server "
                               "applies safe migrations itself at start-up with serve --migrate)");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock_fd_, 0) == 0) (void)!::pwrite(lock_fd_, pid.data(), pid.size(), 0);
    return {};
  }

  SqliteOptions options_;
  std::unique_ptr<sql::Dialect> dialect_ = sql::make_sqlite_dialect();
  std::unique_ptr<GroupCommitWriter> writer_;
  std::uint64_t instance_id_ = g_instance_ids.fetch_add(1);
  std::atomic<bool> closed_{false};
  int lock_fd_ = -1;      // <path>.lock, flock()ed exclusively while open (not in read-only mode)
  bool missing_ = false;  // read-only mode: the database file does not exist (reads as an empty database)
  sql::CursorKey cursor_key_{};  // loaded from the database at open (not in read-only mode)
  // Every reader connection this engine opened, so close() can close them before the writer. Each thread finds
  // its own through a thread_local map keyed by instance_id_.
  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;  // GUARDED_BY(readers_mu_)
};

}  // namespace

Result<std::unique_ptr<RecordStore>> open_storage(const model::Concept& concept_file, SqliteOptions options,
                                                  const Clock& clock) {
  // Before the first connection: no process-wide memory statistics (they put a global mutex on every
  // sqlite3_malloc, which the reader threads would contend on).
  static std::once_flag configured;
  std::call_once(configured, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing can be sealed safely
  });
  return open_record_store<SqliteEngine>(concept_file, std::move(options), clock);
}

}  // namespace slipway::storage::sqlite
