// Connection: RAII owner of one sqlite3 handle plus its prepared-statement cache.
// Thread safety: a Connection is used by one thread at a time (the writer thread, or the reader thread that owns
// it); SQLite is opened with SQLITE_OPEN_NOMUTEX accordingly.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/result.h"
#include "core/value.h"
#include "storage/driver.h"

namespace slipway::storage::sqlite {

// A prepared statement; its lease's end resets it and clears its bindings (storage::StatementLease).
class Statement final : public storage::Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement() override { sqlite3_finalize(stmt_); }

  void bind(int index, const Value& v) override;  // 1-based
  // SQLITE_ROW → true, SQLITE_DONE → false, error → Problem (kInternal with the SQLite message as cause,
  // kConflict with its fault for a UNIQUE or FOREIGN KEY violation; callers that know better remap, e.g. create →
  // 422).
  Result<bool> step() override;
  void release() override { sqlite3_reset(stmt_); sqlite3_clear_bindings(stmt_); }

  bool column_is_null(int i) const override { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::int64_t column_int(int i) const override { return sqlite3_column_int64(stmt_, i); }
  double column_double(int i) const override { return sqlite3_column_double(stmt_, i); }
  std::string_view column_text(int i) const override {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string_view(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string_view();
  }
  ColumnKind column_kind(int i) const override;
  int column_count() const { return sqlite3_column_count(stmt_); }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

// Bounds of one connection's prepared-statement cache. Filters are client input, so the number of distinct SQL
// texts is unbounded; past either bound the least recently used statement is finalized (never one that is leased).
struct StatementCacheLimits {
  std::size_t max_statements = 256;
  std::size_t max_bytes = 2 << 20;  // SQLite's own estimate of each statement's memory, plus its SQL text
};

struct OpenOptions {
  bool read_only = false;
  bool synchronous_full = true;  // PRAGMA synchronous=FULL: a committed transaction survives power loss
  int busy_timeout_ms = 5000;
  StatementCacheLimits statement_cache;
};

class Connection final : public storage::Connection {
 public:
  // Opens (creating when !read_only) the database file and applies the pragmas (WAL, synchronous, foreign_keys).
  static Result<std::unique_ptr<Connection>> open(const std::string& path, const OpenOptions& options);
  ~Connection() override;

  // Runs SQL without results (DDL, BEGIN/COMMIT, pragmas). Several statements allowed.
  Status exec(std::string_view sql) override;
  // A cached prepared statement for this SQL text, reset when the lease ends. The cache is an LRU bounded by
  // OpenOptions::statement_cache.
  Result<StatementLease> prepare(const std::string& sql) override;
  // Uncached, for one-off statements (migrations).
  Result<std::unique_ptr<storage::Statement>> prepare_uncached(std::string_view sql) override;
  // Whether a transaction is open.
  bool in_transaction() const { return !sqlite3_get_autocommit(db_); }
  std::int64_t changes() const override { return sqlite3_changes64(db_); }
  Result<bool> has_table(std::string_view name) override;
  Status lock_across_processes(LockKey) override { return {}; }  // one process writes: the file lock says so
  Status announce(const Change&) override { return {}; }          // and no other serves it
  sqlite3* raw() { return db_; }
  std::size_t cached_statements() const { return lru_.size(); }
  std::size_t cached_bytes() const { return cached_bytes_; }

 private:
  struct Cached {
    std::string sql;
    std::unique_ptr<Statement> statement;
    std::size_t bytes = 0;
  };
  Connection(sqlite3* db, StatementCacheLimits limits) : db_(db), limits_(limits) {}
  void evict_to_fit();

  sqlite3* db_;
  StatementCacheLimits limits_;
  std::list<Cached> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Cached>::iterator> index_;  // keys view lru_'s sql strings
  std::size_t cached_bytes_ = 0;
};

// Statements evicted from every connection's cache since start (a process-wide counter, for /metrics).
std::uint64_t statement_cache_evictions();

// A Problem for the current error of `db` (the SQLite message goes to the private cause only).
Problem sqlite_problem(sqlite3* db, int rc, std::string_view what);

// The SQLite library in use at run time (sqlite3_libversion(), e.g. "3.40.1"): the shared library may be newer
// than the headers slipway was compiled against. For `slipway version`, so cli/ need not include sqlite3.h.
std::string sqlite_library_version();

}  // namespace slipway::storage::sqlite
