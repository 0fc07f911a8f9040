// RecordStore: Storage and SchemaManager written once for every engine, over an Engine (storage/engine.h) and its
// connections (storage/driver.h). It owns slipway's own logic — list paging and sealed cursors, reads by id and
// their caches, expand, relation masks and checks through the target's view rule, idempotency, the create rule
// checked inside the write, UPDATE text, the cascade graph of a delete, the migration runner — so an engine driver
// is only connections, transactions and its own rules (docs/decisions/0010).
//
// Reads run on the calling thread on a connection the engine lends (Engine::reader); writes are ops of the
// engine's writer and complete on its thread after commit.
// Thread safety: every method from any thread. close() REQUIRES that no read is in flight.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "core/clock.h"
#include "storage/engine.h"
#include "storage/schema_manager.h"
#include "storage/storage.h"

namespace slipway::storage {

// Observability hooks (each may be empty).
struct StoreHooks {
  std::function<void(double seconds)> on_statement;  // latency of each read statement
};

class RecordStore final : public Storage, public SchemaManager {
 public:
  // REQUIRES: `concept_file` outlives the store; the engine was opened on it (system tables migrated).
  RecordStore(const model::Concept& concept_file, std::unique_ptr<Engine> engine, const Clock& clock,
              StoreHooks hooks = {});
  ~RecordStore() override;

  Result<ListPage> list(const ListQuery& query, const Principal& auth) override;
  Result<Record> get(const model::Collection& collection, std::string_view id, const Principal& auth,
                     const std::vector<std::string>& expand) override;
  bool list_async(const ListQuery& query, const Principal& auth,
                  std::function<void(Result<ListPage>)>& done) override;
  bool get_async(const model::Collection& collection, std::string_view id, const Principal& auth,
                 const std::vector<std::string>& expand, std::function<void(Result<Record>)>& done) override;
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
  MfaStore* mfa() override;
  EmailStore* email() override;
  OidcStore* oidc() override;
  ChangeFeed& changes() override;
  bool caches_allowed() const override;
  Status ping() override;
  void close() override;

  Result<std::optional<std::string>> current_snapshot() override;
  Result<std::vector<MigrationRecord>> history() override;
  Result<std::vector<SystemMigrationRecord>> system_history() override;
  Status apply(const sql::MigrationPlan& plan, const std::string& applied_by, bool allow_destructive) override;
  Status assess(sql::MigrationPlan& plan, const model::Concept& target) override;

  // Publishes other instances' changes on the feed from now on (serve calls it once everything is subscribed).
  void start_listening();
  // The engine's SQL dialect (plans are made in it).
  const sql::Dialect& dialect() const;
  // Hits and misses of the hot-read cache (GET by id), for the cache hit ratio metric.
  std::uint64_t cache_hits() const;
  std::uint64_t cache_misses() const;
  // Prepared statements evicted from the engine's bounded statement caches, for a metric.
  std::uint64_t statement_evictions() const;
  // Deletes idempotency keys older than 24 h. Called periodically by serve.
  Status purge_idempotency_keys();

  struct Impl;  // storage/record_store_impl.h: shared by the record_*.cpp files

 private:
  std::unique_ptr<Impl> impl_;
};

// Where each driver's open_storage ends: makes its engine `E` from `options`, opens it (E::open(clock)) and puts the
// store over it, with the statement-latency hook the options carry.
template <class E, class Options>
Result<std::unique_ptr<RecordStore>> open_record_store(const model::Concept& concept_file, Options options,
                                                       const Clock& clock) {
  StoreHooks hooks;
  hooks.on_statement = options.on_statement;
  auto engine = std::make_unique<E>(std::move(options));
  if (Status st = engine->open(clock); !st) return std::move(st).error();
  return std::make_unique<RecordStore>(concept_file, std::move(engine), clock, std::move(hooks));
}

}  // namespace slipway::storage
