// The driver seam (docs/decisions/0010): what the engine-neutral record store needs of a database engine, and
// nothing more. SQLite (storage/sqlite) and PostgreSQL (storage/postgres) implement it.
//
// - SQL text written by hand above this seam uses `?N` placeholders (1-based); a driver whose engine spells them
//   otherwise rewrites them once per prepared text. Text that differs between engines comes from sql::Dialect.
// - Errors are values: a driver turns its engine's error into a Problem whose `fault` says what kind it was
//   (unique, foreign key, busy, serialization, connection lost, timeout). Nothing above this line reads an
//   engine's message text.
// Thread safety: a Connection and its statements are used by one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/value.h"
#include "storage/change_feed.h"

namespace slipway::storage {

// What a result column holds in the current row, for code that reads values of a type it does not know.
enum class ColumnKind : std::uint8_t { kNull, kInt, kFloat, kText };

// Work that must not run in two processes at once on one database (several instances on PostgreSQL): each key
// names what it serialises. Values are PostgreSQL advisory-lock keys ("slw" + a number).
enum class LockKey : std::int64_t {
  kSystemSchema = 0x736c7701,   // applying slipway's own schema versions
  kConceptSchema = 0x736c7702,  // applying a migration plan of the concept
  kAuditChain = 0x736c7703,     // appending to the audit chain (one chain, one head)
};

// A prepared statement with its bound parameters and current row.
class Statement {
 public:
  virtual ~Statement() = default;
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  virtual void bind(int index, const Value& v) = 0;  // 1-based
  // A row → true; no more rows → false; an error → a Problem with its fault set.
  virtual Result<bool> step() = 0;
  virtual bool column_is_null(int i) const = 0;
  virtual std::int64_t column_int(int i) const = 0;  // a boolean column reads as 0 / 1
  virtual double column_double(int i) const = 0;
  virtual std::string_view column_text(int i) const = 0;  // valid until the next step() or release()
  virtual ColumnKind column_kind(int i) const = 0;
  // Back to its prepared state: bindings cleared, result released (a lease's end).
  virtual void release() = 0;
  bool leased() const { return leased_; }
  void set_leased(bool on) { leased_ = on; }

 private:
  bool leased_ = false;  // a StatementLease holds it: a statement cache never evicts it then
};

// Releases a cached statement when the scope ends, so it never stays mid-result (on SQLite that would pin a read
// snapshot and stop checkpoints).
class StatementLease {
 public:
  explicit StatementLease(Statement* s) : s_(s) { s_->set_leased(true); }
  ~StatementLease() { reset(); }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  StatementLease(StatementLease&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Statement* operator->() { return s_; }
  Statement& operator*() { return *s_; }
  // Ends the lease early (the statement is released and may be evicted).
  void reset() {
    if (!s_) return;
    s_->release();
    s_->set_leased(false);
    s_ = nullptr;
  }

 private:
  Statement* s_;
};

class Connection {
 public:
  virtual ~Connection() = default;
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs SQL without results (DDL, transaction control). Several statements allowed.
  virtual Status exec(std::string_view sql) = 0;
  // A cached prepared statement for this SQL text (bounded cache), released when the lease ends.
  virtual Result<StatementLease> prepare(const std::string& sql) = 0;
  // Uncached, for one-off statements (migrations, inspection).
  virtual Result<std::unique_ptr<Statement>> prepare_uncached(std::string_view sql) = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE stepped on this connection.
  virtual std::int64_t changes() const = 0;
  // Whether one of slipway's tables exists (inspection may open a database slipway never initialised).
  virtual Result<bool> has_table(std::string_view name) = 0;
  // Holds `key` until the current transaction ends, waiting for any other process holding it. A no-op where one
  // process writes the database (SQLite). REQUIRES: inside a transaction.
  virtual Status lock_across_processes(LockKey key) = 0;
  // Tells the other processes on the database about a change of the current transaction, delivered if and when
  // it commits (PostgreSQL NOTIFY; rolled back with its op). A no-op where no other process can be serving
  // the database (SQLite).
  virtual Status announce(const Change& change) = 0;
  // The audit chain's head (seq, hash) as the current transaction's last append left it, for an engine that keeps
  // it: the next append in the same transaction then needs neither the lock (held already) nor a read. The engine
  // clears it whenever a transaction begins or ends. Null: not kept (SQLite, whose savepoints would have to undo
  // it); every append locks and reads.
  virtual std::optional<std::pair<std::int64_t, std::string>>* audit_head_memo() { return nullptr; }
};

// Runs SELECT 1: the connection reaches its database (health checks).
inline Status ping_connection(Connection& conn) {
  auto lease = conn.prepare("SELECT 1");
  if (!lease) return std::move(lease).error();
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  return {};
}

// One unit of write work: runs inside a write transaction (SQLite: its own savepoint; PostgreSQL: the batch's
// transaction, which is rolled back and run again without this op when it fails), then completes once the
// transaction's fate is known.
struct WriteOp {
  // An error rolls back this op only. May run more than once (an attempt rolled back for another op's failure, a
  // deadlock): it must leave nothing behind but what it writes through `conn` and the results it assigns.
  std::function<Status(Connection&)> apply;
  // Called after the commit (or its failure): `status` is the op's own error, or the commit's.
  std::function<void(Status status)> complete;
  // Runs alone, outside any transaction the writer opens (the op manages its own): migrations.
  bool alone = false;
  // Times the op was put back after a deadlock or serialization failure (PostgreSQL's writers).
  int attempts = 0;
  // Set when the whole op is this one statement (`?N` placeholders) — exactly what `apply` runs, with no outcome
  // but done or an error (a plain create). Writers that pipeline (PostgreSQL) send a batch of such ops without
  // waiting for each answer; the others run `apply`.
  struct Single {
    std::string sql;
    std::vector<Value> params;
  };
  std::shared_ptr<const Single> single = nullptr;
};

// A connection for the statements of one storage call. On SQLite it is the calling thread's own read connection;
// on PostgreSQL one checked out of the pool and given back when the lease ends.
class ReadLease {
 public:
  using GiveBack = void (*)(void* owner, Connection* conn);
  explicit ReadLease(Connection* conn, GiveBack give_back = nullptr, void* owner = nullptr)
      : conn_(conn), give_back_(give_back), owner_(owner) {}
  ~ReadLease() {
    if (conn_ && give_back_) give_back_(owner_, conn_);
  }
  ReadLease(const ReadLease&) = delete;
  ReadLease& operator=(const ReadLease&) = delete;
  ReadLease(ReadLease&& o) noexcept : conn_(o.conn_), give_back_(o.give_back_), owner_(o.owner_) { o.conn_ = nullptr; }
  Connection& operator*() { return *conn_; }
  Connection* operator->() { return conn_; }

 private:
  Connection* conn_;
  GiveBack give_back_;
  void* owner_;
};

}  // namespace slipway::storage
