// Engine: what a database driver gives the engine-neutral record store (storage/record_store.h) besides its
// connections — where reads and writes run, the engine's migration transaction, and health. SQLite
// (storage/sqlite/sqlite_engine.h) and PostgreSQL implement it; docs/decisions/0010 has the picture.
// Thread safety: every method from any thread, except close() (after the last read).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "storage/driver.h"
#include "storage/schema_manager.h"
#include "storage/sql/cursor.h"
#include "storage/sql/dialect.h"

namespace slipway::storage {

class Engine {
 public:
  virtual ~Engine() = default;

  virtual const sql::Dialect& dialect() const = 0;
  // False only for a read-only inspection of a database that does not exist yet (it reads as empty).
  virtual bool exists() const = 0;
  // False for a read-only inspection: writes complete with kUnavailable.
  virtual bool writable() const = 0;
  // True when other processes may write the database (PostgreSQL: several instances, the CLI beside them). Caches
  // of what was read are then off: another instance's write is acknowledged before this one could hear of it.
  virtual bool shared() const = 0;

  // A connection for the statements of one storage call.
  virtual Result<ReadLease> reader() = 0;
  // A read of one statement that waits for no connection of its own (PostgreSQL: pipelined, pg_pipeline.h).
  // `done` runs once, on a thread of the engine's, with the rows (valid during the call only) or a Problem. False,
  // `done` left untouched: the engine has no such path or it is saturated; read through reader() instead, where
  // blocking is harmless.
  using RowsDone = std::function<void(Result<Statement*>)>;
  virtual bool read_pipelined(const std::string& sql, std::vector<Value> params, RowsDone& done) {
    (void)sql, (void)params, (void)done;
    return false;
  }
  // Queues a write; `op.complete` is called exactly once, after its transaction committed or failed.
  virtual void submit(WriteOp op) = 0;
  // Runs `fn` in a write transaction of its own and waits for it (maintenance).
  virtual Status run_exclusive(std::function<Status(Connection&)> fn) = 0;
  // Runs a migration: `body` (the plan's statements and its history row) inside one transaction opened with the
  // engine's rules for schema changes, checked before commit (relations left dangling fail it). Waits.
  virtual Status run_migration(std::function<Status(Connection&)> body) = 0;

  // How many other processes serve this database with a concept whose snapshot checksum is not `checksum` (a
  // destructive migration would break them). Always 0 where one process serves the database (SQLite).
  virtual Result<int> serving_other_versions(std::string_view checksum) {
    (void)checksum;
    return 0;
  }

  // The key sealing list cursors, kept in the database (loaded when the engine opened it).
  virtual const sql::CursorKey& cursor_key() const = 0;
  // slipway's own schema versions: applied, then pending.
  virtual Result<std::vector<SystemMigrationRecord>> system_history() = 0;

  // Starts delivering other processes' changes (and kReset whenever some may have been missed: at the start and
  // after a lost connection) to `deliver`, on a thread of the engine's. A no-op where no other process writes.
  virtual void listen(std::function<void(Change)> deliver) { (void)deliver; }

  // Reachable and able to write (for /readyz).
  virtual Status ping() = 0;
  // Stops writes after draining what is queued and closes every connection. Idempotent.
  virtual void close() = 0;
  // Prepared statements evicted from bounded statement caches since start (a metric).
  virtual std::uint64_t statement_evictions() const = 0;
};

}  // namespace slipway::storage
