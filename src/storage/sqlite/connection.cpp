#include "storage/sqlite/connection.h"

#include <atomic>
#include <string>

namespace slipway::storage::sqlite {
namespace {
std::atomic<std::uint64_t> g_evictions{0};
}  // namespace

std::uint64_t statement_cache_evictions() { return g_evictions.load(std::memory_order_relaxed); }

Problem sqlite_problem(sqlite3* db, int rc, std::string_view what) {
  const int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string cause = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY: {
      // SQLite names the column only in its message ("UNIQUE constraint failed: authors.email"): read it here, in
      // the driver, so no layer above matches message text. A unique index is on one field (schema_sql.h).
      Problem p = Problem::make(ProblemCode::kConflict, "A record with this value already exists.", cause);
      p.fault = Fault::kUnique;
      constexpr std::string_view kPrefix = "UNIQUE constraint failed: ";
      const std::string_view msg = db ? sqlite3_errmsg(db) : "";
      if (msg.starts_with(kPrefix)) {
        std::string_view column = msg.substr(kPrefix.size());
        if (const std::size_t dot = column.find('.'); dot != std::string_view::npos) column.remove_prefix(dot + 1);
        if (!column.empty() && column.find_first_of(",. ") == std::string_view::npos && column != "id") {
          p.detail = "Another record already has this value of '" + std::string(column) + "'.";
          p.errors.push_back({std::string(column), "unique", "is already taken by another record"});
        }
      }
      return p;
    }
    case SQLITE_CONSTRAINT_FOREIGNKEY: {
      Problem p = Problem::make(ProblemCode::kConflict, "The record is referenced by other records.", std::move(cause));
      p.fault = Fault::kForeignKey;
      return p;
    }
    default:
      break;
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
    Problem p = Problem::make(ProblemCode::kUnavailable, "The database is busy; retry later.", std::move(cause));
    p.fault = Fault::kBusy;
    return p;
  }
  if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR) {
    Problem p = Problem::make(ProblemCode::kUnavailable, "The database cannot write right now.", std::move(cause));
    p.fault = Fault::kFull;
    return p;
  }
  return Problem::make(ProblemCode::kInternal, "An unexpected error occurred.", std::move(cause));
}

void Statement::bind(int index, const Value& v) {
  switch (v.index()) {
    case 0: sqlite3_bind_null(stmt_, index); break;
    case 1: sqlite3_bind_int64(stmt_, index, std::get<bool>(v) ? 1 : 0); break;
    case 2: sqlite3_bind_int64(stmt_, index, std::get<std::int64_t>(v)); break;
    case 3: sqlite3_bind_double(stmt_, index, std::get<double>(v)); break;
    case 4: {
      const auto& s = std::get<std::string>(v);
      sqlite3_bind_text64(stmt_, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
    case 5: {
      const auto& s = std::get<JsonText>(v).text;
      sqlite3_bind_text64(stmt_, index, s.data(), s.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
      break;
    }
  }
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_problem(db_, rc, "step");
}

ColumnKind Statement::column_kind(int i) const {
  switch (sqlite3_column_type(stmt_, i)) {
    case SQLITE_NULL: return ColumnKind::kNull;
    case SQLITE_INTEGER: return ColumnKind::kInt;
    case SQLITE_FLOAT: return ColumnKind::kFloat;
    default: return ColumnKind::kText;
  }
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& path, const OpenOptions& options) {
  sqlite3* db = nullptr;
  const int flags = (options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) |
                    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Problem p = Problem::make(ProblemCode::kUnavailable, "The database cannot be opened.",
                              "open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
    sqlite3_close_v2(db);
    return p;
  }
  std::unique_ptr<Connection> conn(new Connection(db, options.statement_cache));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  // A reader never checkpoints, not even as the last connection to close: the writer is the only checkpointer
  // (SQLite before 3.51.3 can corrupt a WAL when two connections write or checkpoint at once).
  if (options.read_only) sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-16000;";
  if (!options.read_only) {
    pragmas += "PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=4000;";
    pragmas += options.synchronous_full ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  } else {
    pragmas += "PRAGMA query_only=ON;";
  }
  if (Status st = conn->exec(pragmas); !st) return std::move(st).error();
  return conn;
}

Connection::~Connection() {
  index_.clear();
  lru_.clear();  // finalize statements before closing
  sqlite3_close_v2(db_);
}

Status Connection::exec(std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    Problem p = sqlite_problem(db_, rc, "exec");
    sqlite3_free(err);
    return p;
  }
  return {};
}

Result<StatementLease> Connection::prepare(const std::string& sql) {
  if (auto it = index_.find(std::string_view(sql)); it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);  // most recently used; iterators stay valid
    return StatementLease(lru_.front().statement.get());
  }
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_problem(db_, rc, "prepare");
  Cached entry{sql, std::make_unique<Statement>(db_, stmt), 0};
  entry.bytes = entry.sql.size() + static_cast<std::size_t>(sqlite3_stmt_status(stmt, SQLITE_STMTSTATUS_MEMUSED, 0));
  cached_bytes_ += entry.bytes;
  lru_.push_front(std::move(entry));
  index_.emplace(std::string_view(lru_.front().sql), lru_.begin());
  StatementLease lease(lru_.front().statement.get());  // leased before evicting: never evicts itself
  evict_to_fit();
  return lease;
}

void Connection::evict_to_fit() {
  auto it = lru_.end();
  while ((lru_.size() > limits_.max_statements || cached_bytes_ > limits_.max_bytes) && it != lru_.begin()) {
    --it;
    if (it->statement->leased()) continue;  // in use further up this thread's stack
    cached_bytes_ -= it->bytes;
    index_.erase(std::string_view(it->sql));
    it = lru_.erase(it);
    g_evictions.fetch_add(1, std::memory_order_relaxed);
  }
}

Result<std::unique_ptr<storage::Statement>> Connection::prepare_uncached(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_problem(db_, rc, "prepare");
  return std::unique_ptr<storage::Statement>(std::make_unique<Statement>(db_, stmt));
}

Result<bool> Connection::has_table(std::string_view name) {
  auto lease = prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  if (!lease) return std::move(lease).error();
  (*lease)->bind(1, Value(std::string(name)));
  return (*lease)->step();
}

std::string sqlite_library_version() { return sqlite3_libversion(); }

}  // namespace slipway::storage::sqlite
