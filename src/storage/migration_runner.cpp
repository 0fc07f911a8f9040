// The migration runner: history, assessment of data-dependent steps, and applying a plan through the engine's
// migration transaction (Engine::run_migration), recorded with its audit entry. Engine-neutral.
#include "storage/record_store.h"

#include "storage/record_store_impl.h"
#include "storage/system/audit_log.h"

namespace slipway::storage {

namespace {
Problem read_only_problem() {
  return Problem::make(ProblemCode::kUnavailable, "The database is open for inspection only.");
}

// Read-only mode may look at a file slipway never initialised (or none at all): no history table, no history.
Result<bool> has_history(Connection& conn) { return conn.has_table("_slipway_migrations"); }
}  // namespace

Result<std::optional<std::string>> RecordStore::current_snapshot() {
  if (!impl_->engine->exists()) return std::optional<std::string>();
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  auto exists = has_history(**conn);
  if (!exists) return std::move(exists).error();
  if (!*exists) return std::optional<std::string>();
  auto lease = (*conn)->prepare_uncached("SELECT snapshot FROM _slipway_migrations ORDER BY version DESC LIMIT 1");
  if (!lease) return std::move(lease).error();
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(std::string((*lease)->column_text(0)));
}

Result<std::vector<MigrationRecord>> RecordStore::history() {
  std::vector<MigrationRecord> out;
  if (!impl_->engine->exists()) return out;
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  auto exists = has_history(**conn);
  if (!exists) return std::move(exists).error();
  if (!*exists) return out;
  auto lease = (*conn)->prepare_uncached(
      "SELECT version, checksum, applied_at, applied_by, plan FROM _slipway_migrations ORDER BY version");
  if (!lease) return std::move(lease).error();
  for (;;) {
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    if (!*row) break;
    out.push_back({(*lease)->column_int(0), std::string((*lease)->column_text(1)), std::string((*lease)->column_text(2)),
                   std::string((*lease)->column_text(3)), std::string((*lease)->column_text(4))});
  }
  return out;
}

Result<std::vector<SystemMigrationRecord>> RecordStore::system_history() {
  return impl_->engine->system_history();
}

Status RecordStore::assess(sql::MigrationPlan& plan, const model::Concept& target) {
  for (auto& step : plan.steps) {
    if (!step.check) continue;
    if (!impl_->engine->exists()) {  // no database yet: no rows to affect
      sql::settle_step(step, 0);
      continue;
    }
    const model::Collection* c = target.find_collection(step.check->collection);
    const model::Field* f = c ? c->find_field(step.check->field) : nullptr;
    if (!f) return Problem::make(ProblemCode::kInternal, "A migration check names an unknown field.", step.description);
    auto conn = impl_->reader();
    if (!conn) return std::move(conn).error();
    std::int64_t affected = 0;
    if (step.check->kind == sql::DataCheck::Kind::kViolations) {
      // Patterns are RE2, not SQL: every stored value is checked here by the same rules requests are.
      auto scan = (*conn)->prepare_uncached(sql::violation_scan_sql(*step.check, *impl_->dialect));
      if (!scan) return std::move(scan).error();
      for (;;) {
        auto row = (*scan)->step();
        if (!row) return std::move(row).error();
        if (!*row) break;
        Value v;
        switch ((*scan)->column_kind(0)) {
          case ColumnKind::kInt: v = (*scan)->column_int(0); break;
          case ColumnKind::kFloat: v = (*scan)->column_double(0); break;
          default: v = std::string((*scan)->column_text(0)); break;
        }
        if (model::constraint_violation(*f, v)) ++affected;
      }
    } else {
      auto count = (*conn)->prepare_uncached(sql::data_check_count_sql(*step.check, *f, *impl_->dialect));
      if (!count) return std::move(count).error();
      auto row = (*count)->step();
      if (!row) return std::move(row).error();
      affected = *row ? (*count)->column_int(0) : 0;
    }
    sql::settle_step(step, affected);
  }
  return {};
}

Status RecordStore::apply(const sql::MigrationPlan& plan, const std::string& applied_by, bool allow_destructive) {
  for (const auto& step : plan.steps)
    if (step.blocked)
      return Problem::make(ProblemCode::kConflict, "A migration step cannot be applied: " + step.description + ".");
  if (plan.has_destructive() && !allow_destructive)
    return Problem::make(ProblemCode::kConflict, "The plan has destructive steps; run with --allow-destructive.");
  if (!impl_->engine->writable()) return read_only_problem();
  if (plan.has_destructive()) {
    // Expand/contract across instances (docs/operations.md): an instance still serving another version of the
    // concept reads and writes what this plan would drop or change.
    auto others = impl_->engine->serving_other_versions(plan.checksum);
    if (!others) return std::move(others).error();
    if (*others > 0)
      return Problem::make(ProblemCode::kConflict,
                           std::to_string(*others) + " connection(s) of slipway instances serving another version of "
                           "the concept are open: a destructive step would break them. Deploy the new concept to "
                           "every instance first, then apply the destructive steps (docs/operations.md, rolling "
                           "deploys).");
  }
  const std::string applied_at = format_rfc3339_ms(impl_->clock.now_ms());
  // The engine opens the transaction with its rules for schema changes (and a lock several instances share) and
  // checks relations before it commits.
  return impl_->engine->run_migration([&plan, &applied_by, &applied_at](Connection& conn) -> Status {
    // Instances starting at once made the same plan: the first applies it, the others find it done. A plan made
    // from a schema someone else has migrated away from since is refused: its steps no longer fit.
    {
      auto current = conn.prepare_uncached("SELECT snapshot FROM _slipway_migrations ORDER BY version DESC LIMIT 1");
      if (!current) return std::move(current).error();
      auto row = (*current)->step();
      if (!row) return std::move(row).error();
      std::optional<std::string> now;
      if (*row) now = std::string((*current)->column_text(0));
      if (now == plan.snapshot) return {};
      if (now != plan.base)
        return Problem::make(ProblemCode::kConflict,
                             "The database's schema changed after this plan was made (another instance or "
                             "`migrate apply` migrated it); plan again.");
    }
    for (const auto& step : plan.steps) {
      for (const auto& q : step.sql) {
        if (Status st = conn.exec(q); !st) {
          Problem p = std::move(st).error();
          p.detail = "Migration step failed: " + step.description + ".";
          return p;
        }
      }
    }
    auto ins = conn.prepare_uncached(
        "INSERT INTO _slipway_migrations (version, checksum, applied_at, applied_by, plan, snapshot) "
        "VALUES ((SELECT COALESCE(MAX(version), 0) + 1 FROM _slipway_migrations), ?1, ?2, ?3, ?4, ?5)");
    if (!ins) return std::move(ins).error();
    (*ins)->bind(1, Value(plan.checksum));
    (*ins)->bind(2, Value(applied_at));
    (*ins)->bind(3, Value(applied_by));
    (*ins)->bind(4, Value(plan.to_text()));
    (*ins)->bind(5, Value(plan.snapshot));
    if (auto st = (*ins)->step(); !st) return std::move(st).error();
    ins->reset();
    AuditEntry applied;
    applied.action = "migration.apply";
    applied.actor_kind = "system";
    applied.actor_id = applied_by;
    applied.detail = "{\"checksum\":\"" + plan.checksum + "\",\"steps\":" + std::to_string(plan.steps.size()) + "}";
    return append_audit_rows(conn, std::span<const AuditEntry>(&applied, 1), applied_at);
  });
}

}  // namespace slipway::storage
