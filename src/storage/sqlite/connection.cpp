#include "storage/sqlite/connection.h"

#include <string>

namespace slipway::storage::sqlite {

Problem sqlite_problem(sqlite3* db, int rc, std::string_view what) {
  const int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string cause = std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  switch (ext) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return Problem::make(ProblemCode::kConflict, "A record with this value already exists.", std::move(cause));
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      return Problem::make(ProblemCode::kConflict, "The record is referenced by other records.", std::move(cause));
    default:
      break;
  }
  if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
    return Problem::make(ProblemCode::kUnavailable, "The database is busy; retry later.", std::move(cause));
  if ((rc & 0xff) == SQLITE_FULL || (rc & 0xff) == SQLITE_IOERR)
    return Problem::make(ProblemCode::kUnavailable, "The database cannot write right now.", std::move(cause));
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
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
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
  cache_.clear();  // finalize statements before closing
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
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &stmt, nullptr);
    if (rc != SQLITE_OK) return sqlite_problem(db_, rc, "prepare");
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, stmt)).first;
  }
  return StatementLease(it->second.get());
}

Result<std::unique_ptr<Statement>> Connection::prepare_uncached(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return sqlite_problem(db_, rc, "prepare");
  return std::make_unique<Statement>(db_, stmt);
}

std::string sqlite_library_version() { return sqlite3_libversion(); }

}  // namespace slipway::storage::sqlite
