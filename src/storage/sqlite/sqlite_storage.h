// SqliteStorage: Storage and SchemaManager on one SQLite database file in WAL mode.
// - Writes go through one GroupCommitWriter (see group_commit_writer.h for the batching invariants).
// - Reads use one read-only connection per calling thread (created on first use) with cached statements; in WAL
//   mode readers never block the writer nor each other.
// - Statements for the hot path (get by id, with and without the view rule) are built once per collection.
// - One writer per database, enforced (docs/decisions/0006): open() takes an exclusive lock on `<path>.lock`
//   (flock) for the life of the object, so a second process (another server, `migrate apply`) cannot write the
//   same file and is told which process holds it. Reader connections are read-only and never checkpoint; the
//   writer's connection is the only one that writes or checkpoints, and it closes last (close()).
// Thread safety: all public methods may be called from any thread. close() REQUIRES that no read is in flight
// (serve calls it after the event loops have stopped).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/uuid7.h"
#include "storage/schema_manager.h"
#include "storage/storage.h"

namespace slipway::storage::sqlite {

class GroupCommitWriter;
class Connection;

struct SqliteOptions {
  std::string path;               // the database file
  // Inspection only (`migrate plan|status` next to a running server): no lock, no writer, no schema changes; a
  // missing file reads as an empty database. Writes and apply() fail with kUnavailable.
  bool read_only = false;
  bool synchronous_full = true;   // false: synchronous=NORMAL (survives a crash of slipway, not power loss)
  // Observability hooks (may be empty): statement latency and group-commit batch sizes.
  std::function<void(double seconds)> on_statement;
  std::function<void(std::size_t batch, double commit_seconds)> on_commit;
};

class SqliteStorage final : public Storage, public SchemaManager {
 public:
  static Result<std::unique_ptr<SqliteStorage>> open(const model::Concept& concept_file, SqliteOptions options,
                                                     const Clock& clock);
  ~SqliteStorage() override;

  Result<ListPage> list(const ListQuery& query, const Principal& auth) override;
  Result<Record> get(const model::Collection& collection, std::string_view id, const Principal& auth,
                     const std::vector<std::string>& expand) override;
  void create(CreateCommand command, Principal auth, std::function<void(Result<CreateResult>)> done) override;
  void update(UpdateCommand command, Principal auth, std::function<void(Result<Record>)> done) override;
  void remove(RemoveCommand command, Principal auth, std::function<void(Status)> done) override;
  void append_audit(std::vector<AuditEntry> entries, std::function<void(Status)> done) override;
  Result<AuditReport> verify_audit() override;
  Result<std::optional<Account>> find_account_by_email(std::string_view email) override;
  Result<std::optional<Account>> find_account(std::string_view user_id) override;
  void open_session(NewSession session, std::optional<std::string> rehash, std::vector<AuditEntry> audit,
                    std::function<void(Result<Account>)> done) override;
  Result<std::optional<RefreshPeek>> peek_refresh_token(std::string_view session_id) override;
  void refresh_session(RefreshCommand command, std::function<void(Result<RefreshOutcome>)> done) override;
  void revoke_sessions(RevokeCommand command, std::vector<AuditEntry> audit,
                       std::function<void(Result<std::vector<std::string>>)> done) override;
  Result<std::vector<SessionInfo>> list_sessions(std::string_view user_id) override;
  void change_password(std::string user_id, std::string new_hash, std::string keep_session,
                       std::vector<AuditEntry> audit, std::function<void(Result<std::vector<std::string>>)> done) override;
  Result<std::vector<std::string>> sessions_revoked_since(std::int64_t since_ms) override;
  Result<std::vector<std::pair<std::string, std::int64_t>>> users_revoked_since(std::int64_t since_ms) override;
  void update_account(AccountUpdate update, std::vector<AuditEntry> audit,
                      std::function<void(Result<Account>)> done) override;
  void create_api_key(ApiKey key, std::vector<AuditEntry> audit, std::function<void(Status)> done) override;
  Result<std::vector<ApiKey>> list_api_keys() override;
  void revoke_api_key(std::string id, std::int64_t now_ms, std::vector<AuditEntry> audit,
                      std::function<void(Status)> done) override;
  void touch_api_keys(std::vector<std::pair<std::string, std::int64_t>> last_used,
                      std::vector<AuditEntry> audit) override;
  void purge_identity(std::int64_t successor_before_ms, std::int64_t revocation_before_ms) override;
  void save_throttles(std::vector<ThrottleRow> rows) override;
  Result<std::vector<ThrottleRow>> load_throttles() override;
  std::uint64_t write_epoch() const override;
  Status ping() override;
  void close() override;

  Result<std::optional<std::string>> current_snapshot() override;
  Result<std::vector<MigrationRecord>> history() override;
  Result<std::vector<SystemMigrationRecord>> system_history() override;
  Status apply(const sql::MigrationPlan& plan, const std::string& applied_by, bool allow_destructive) override;
  Status assess(sql::MigrationPlan& plan, const model::Concept& target) override;

  // Hits and misses of the hot-read cache (GET by id), for the cache hit ratio metric.
  std::uint64_t cache_hits() const;
  std::uint64_t cache_misses() const;
  // Prepared statements evicted from the per-connection caches (all connections), for a metric.
  std::uint64_t statement_evictions() const;

  // Deletes idempotency keys older than 24 h. Called periodically by serve.
  Status purge_idempotency_keys();

 private:
  struct Impl;
  explicit SqliteStorage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace slipway::storage::sqlite
