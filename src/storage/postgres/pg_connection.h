// PgConnection: one libpq connection as a storage::Connection (storage/driver.h), with its own bounded cache of
// prepared statements. Blocking calls: it is used by one thread at a time, never an event loop's (decision 0010).
//
// - SQL written with `?N` placeholders is rewritten to `$N` once, when it is prepared (outside quotes).
// - Parameters travel as text; results come back as text and are read by column type: booleans as 0/1, and
//   timestamptz as slipway's canonical RFC 3339 UTC with milliseconds (the session's TimeZone is UTC).
// - Errors carry their kind (Problem::fault) from the SQLSTATE; a unique violation names the field from the index
//   name (schema_sql.h: "<collection>__unique__<field>"). A broken connection (the server restarted, the network
//   failed) is reported as kConnectionLost and the connection stays broken: its owner drops it.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "storage/driver.h"

namespace slipway::storage::postgres {

struct PgConnectOptions {
  std::string url;                      // postgres://user@host:port/db?... (a libpq connection URI)
  int connect_timeout_s = 5;
  int statement_timeout_ms = 5000;      // 0: none
  std::size_t max_statements = 256;     // prepared statements kept per connection
  std::string application_name = "slipway";
};

class PgConnection;

// The rows of one PGresult (owned), read as every storage::Statement reads them: booleans as 0/1, timestamptz as
// RFC 3339 UTC with milliseconds. Alone it serves results that arrived some other way (pg_pipeline.h); bind() is
// then meaningless and ignored.
class PgRows : public storage::Statement {
 public:
  explicit PgRows(PGresult* res = nullptr) { reset(res); }
  ~PgRows() override { clear(); }

  void bind(int, const Value&) override {}
  Result<bool> step() override;
  bool column_is_null(int i) const override { return PQgetisnull(res_, row_, i) != 0; }
  std::int64_t column_int(int i) const override;
  double column_double(int i) const override;
  std::string_view column_text(int i) const override;
  ColumnKind column_kind(int i) const override;
  void release() override { clear(); }

 protected:
  void reset(PGresult* res);  // takes `res` (may be null), positioned before its first row
  void clear();

  PGresult* res_ = nullptr;

 private:
  int rows_ = 0;
  int row_ = -1;
  mutable std::vector<std::string> text_;  // per column: a timestamptz reformatted for column_text
};

// A parameter as libpq's text format spells it (NULL → `null` true).
void encode_param(const Value& v, std::string& out, bool& null);
// Every parameter: `text` holds them, `values` points into `text` (null for NULL), ready for PQsend*.
void encode_params(const std::vector<Value>& params, std::vector<std::string>& text, std::vector<const char*>& values);

class PgStatement final : public PgRows {
 public:
  // `name` empty: not prepared, `sql` runs as a one-off with its parameters.
  PgStatement(PgConnection& conn, std::string name, std::string sql)
      : conn_(conn), name_(std::move(name)), sql_(std::move(sql)) {}
  ~PgStatement() override { release(); }

  void bind(int index, const Value& v) override;
  Result<bool> step() override;
  void release() override;
  const std::string& name() const { return name_; }

 private:
  PgConnection& conn_;
  std::string name_;
  std::string sql_;
  std::vector<std::string> params_;
  std::vector<bool> null_;
  bool executed_ = false;
};

class PgConnection final : public storage::Connection {
 public:
  static Result<std::unique_ptr<PgConnection>> connect(const PgConnectOptions& options);
  ~PgConnection() override;

  Status exec(std::string_view sql) override;
  Result<StatementLease> prepare(const std::string& sql) override;
  Result<std::unique_ptr<storage::Statement>> prepare_uncached(std::string_view sql) override;
  std::int64_t changes() const override { return changes_; }
  Result<bool> has_table(std::string_view name) override;
  Status lock_across_processes(LockKey key) override;
  Status announce(const Change& change) override;
  // Kept; the writer clears it at every BEGIN, COMMIT and ROLLBACK (forget_transaction).
  std::optional<std::pair<std::int64_t, std::string>>* audit_head_memo() override { return &audit_head_; }
  void forget_transaction() { audit_head_.reset(); }
  // The process's name in the changes it announces (set once by the engine, before any write).
  void set_origin(std::string origin) { origin_ = std::move(origin); }
  // While on (a writer's batch), announce() only queues: flush_announcements() sends what is queued in one
  // statement (before COMMIT); discard_announcements() drops it (the transaction rolled back). Off: each
  // announce() is its own statement. Turning it on or off drops anything queued.
  void buffer_announcements(bool on);
  Status flush_announcements();
  void discard_announcements() { pending_.clear(); }

  // False once the connection broke (or its owner lost track of its state: mark_broken): the owner replaces it.
  bool ok() const { return !broken_ && PQstatus(conn_) == CONNECTION_OK; }
  void mark_broken() { broken_ = true; }
  PGconn* raw() { return conn_; }
  // The Problem for a failed result (or a failed send when `res` is null); records the affected-row count of a
  // good one.
  Problem problem(const PGresult* res, std::string_view what) const;
  void set_changes(std::int64_t n) { changes_ = n; }

 private:
  PgConnection(PGconn* conn, std::size_t max_statements) : conn_(conn), max_statements_(max_statements) {}
  void evict_to_fit();

  PGconn* conn_;
  std::size_t max_statements_;
  std::int64_t changes_ = 0;
  std::uint64_t next_name_ = 0;
  std::string origin_;
  std::optional<std::pair<std::int64_t, std::string>> audit_head_;  // see audit_head_memo()
  bool buffering_ = false;
  bool broken_ = false;
  std::vector<std::string> pending_;  // encoded changes queued while buffering_
  struct Cached {
    std::string sql;
    std::unique_ptr<PgStatement> statement;
  };
  std::list<Cached> lru_;  // most recently used first
  std::unordered_map<std::string_view, std::list<Cached>::iterator> index_;
};

// The channel every slipway process on a database announces its changes on, and listens to.
inline constexpr std::string_view kChangesChannel = "slipway_changes";

// `?N` placeholders → `$N`, outside quoted strings and identifiers.
std::string to_dollar_placeholders(std::string_view sql);

// Prepared statements evicted from every PostgreSQL connection's cache since start (a metric).
std::uint64_t pg_statement_evictions();
void count_statement_eviction();  // one more (a cache other than PgConnection's: pg_pipeline.h)

// The fault of a SQLSTATE (storage/driver.h): "23505" → kUnique, "40P01" → kSerialization, class 08 → kConnectionLost.
Fault fault_of_sqlstate(std::string_view sqlstate);

}  // namespace slipway::storage::postgres
