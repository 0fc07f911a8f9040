#include "storage/record_store.h"

#include "storage/audit_detail.h"
#include "storage/record_store_impl.h"
#include "storage/system/audit_log.h"
#include "storage/system/identity_store.h"

namespace slipway::storage {

void RecordStore::create(CreateCommand cmd, Principal auth, std::function<void(Result<CreateResult>)> done) {
  const model::Collection& c = *cmd.collection;
  if (!auth.admin() && !c.rules.create) return done(forbidden("create records"));
  auto result = std::make_shared<std::optional<CreateResult>>();
  auto* impl = impl_.get();
  // The new record, made once: an op run again (after another op of its batch failed) inserts the same row.
  Record made;
  made.id = impl->uuids.generate();
  made.created = format_rfc3339_ms(impl->clock.now_ms());
  made.updated = made.created;
  made.version = 1;
  made.values = cmd.values;
  // A plain create — no Idempotency-Key, account, session, audit entry, relation to check or create rule to test —
  // is one INSERT: WriteOp::single, which PostgreSQL's writers pipeline.
  bool plain = cmd.idempotency_key.empty() && !cmd.account && !cmd.session && cmd.audit.empty() && !cmd.effects &&
               (auth.admin() || Impl::always_true(c.rules.create));
  for (std::size_t i = 0; i < c.fields.size() && plain; ++i)
    plain = c.fields[i].type != model::FieldType::kRelation || is_null(cmd.values[i]);
  std::shared_ptr<WriteOp::Single> single;
  if (plain) {
    single = std::make_shared<WriteOp::Single>();
    single->sql = impl->prepared.at(&c).insert_sql;
    single->params = {Value(made.id), Value(made.created), Value(made.updated), Value(made.version)};
    single->params.insert(single->params.end(), made.values.begin(), made.values.end());
    *result = CreateResult{made, false};
  }
  auto apply = [impl, cmd = std::move(cmd), auth, result, made = std::move(made)](Connection& conn) -> Status {
    const model::Collection& c = *cmd.collection;
    const std::int64_t now = impl->clock.now_ms();
    const std::string scope = c.name + "|" + rule_key(auth);
    if (!cmd.idempotency_key.empty()) {
      auto lease = conn.prepare(
          "SELECT fingerprint, record_id FROM _slipway_idempotency WHERE scope = ?1 AND key = ?2 AND created_ms > ?3");
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(scope));
      (*lease)->bind(2, Value(cmd.idempotency_key));
      (*lease)->bind(3, Value(now - kIdempotencyTtlMs));
      auto row = (*lease)->step();
      if (!row) return std::move(row).error();
      if (*row) {
        if ((*lease)->column_text(0) != cmd.idempotency_fingerprint) {
          return Problem::make(ProblemCode::kUnprocessable,
                               "This Idempotency-Key was already used with a different request.");
        }
        const std::string record_id((*lease)->column_text(1));
        // The replay shows the record as the caller may see it now: through the view rule for everyone but the
        // admin, so a guessed key and body can never reveal a row the caller may not view.
        const Impl::Prepared& p = impl->prepared.at(&c);
        const Impl::SelectById& q = auth.admin() || !p.view ? p.admin : *p.view;
        auto rows = impl->query(conn, c, q.sql, q.params, auth, &record_id);
        if (!rows) return std::move(rows).error();
        if (!auth.admin() && (!c.rules.view || rows->empty()))
          return Problem::make(ProblemCode::kConflict,
                               "This Idempotency-Key was already used; the record it created is not visible to you.");
        if (rows->empty()) return not_found();
        if (Status st = impl->mask_relations(conn, c, std::span<Record>(&rows->front(), 1), auth); !st) return st;
        *result = CreateResult{std::move(rows->front()), true};
        return {};
      }
    }
    std::vector<std::pair<int, const Value*>> rel;
    for (std::size_t i = 0; i < c.fields.size(); ++i) rel.emplace_back(static_cast<int>(i), &cmd.values[i]);
    if (Status st = impl->check_relations(conn, c, rel, auth); !st) return st;

    Record r = made;
    {
      auto lease = conn.prepare(impl->prepared.at(&c).insert_sql);
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(r.id));
      (*lease)->bind(2, Value(r.created));
      (*lease)->bind(3, Value(r.updated));
      (*lease)->bind(4, Value(r.version));
      for (std::size_t i = 0; i < r.values.size(); ++i) (*lease)->bind(static_cast<int>(i) + 5, r.values[i]);
      auto st = (*lease)->step();
      if (!st) {
        Problem p = std::move(st).error();
        if (p.fault == Fault::kForeignKey) {
          p.code = ProblemCode::kUnprocessable;
          p.detail = "A relation names no existing record.";
        }
        return p;
      }
    }
    if (cmd.account) {  // a sign-up: the account and first session ride the users record's savepoint
      if (Status st = insert_account(conn, r.id, *cmd.account, now); !st) return st;
    }
    if (cmd.session) {
      NewSession s = *cmd.session;
      s.user_id = r.id;
      if (Status st = insert_session(conn, s, now); !st) return st;
    }
    if (cmd.effects) {
      if (Status st = cmd.effects(conn, r.id); !st) return st;
    }
    if (!auth.admin() && !Impl::always_true(c.rules.create)) {  // the create rule, against the new row, in its transaction
      const Impl::SelectById& q = *impl->prepared.at(&c).create;
      auto ok = impl->exists(conn, q.sql, q.params, auth, r.id);
      if (!ok) return std::move(ok).error();
      if (!*ok) return forbidden("create this record");
    }
    if (!cmd.idempotency_key.empty()) {
      auto lease = conn.prepare(
          "INSERT INTO _slipway_idempotency (scope, key, fingerprint, record_id, created_ms) "
          "VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint, "
          "record_id = excluded.record_id, created_ms = excluded.created_ms "
          "WHERE _slipway_idempotency.created_ms <= ?6");
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(scope));
      (*lease)->bind(2, Value(cmd.idempotency_key));
      (*lease)->bind(3, Value(cmd.idempotency_fingerprint));
      (*lease)->bind(4, Value(r.id));
      (*lease)->bind(5, Value(now));
      (*lease)->bind(6, Value(now - kIdempotencyTtlMs));  // only an expired key is replaced
      auto st = (*lease)->step();
      if (!st) return std::move(st).error();
      if (conn.changes() == 0) {
        // A live key appeared after the SELECT above: a concurrent request with the same key committed first
        // (several writers on PostgreSQL). Run this op again: its SELECT now finds that request and replays it.
        Problem p = Problem::make(ProblemCode::kConflict, "A request with this Idempotency-Key is in progress.",
                                  "idempotency key taken concurrently");
        p.fault = Fault::kSerialization;
        return p;
      }
    }
    if (!cmd.audit.empty()) {
      std::vector<AuditEntry> entries = cmd.audit;
      for (auto& e : entries) {
        if (e.record_id.empty()) e.record_id = r.id;
        if (c.audit && e.action.starts_with("record.")) e.detail = record_change_json(c, nullptr, &r);
      }
      if (Status st = append_audit_rows(conn, entries, r.created); !st) return st;
    }
    // Not announced to other instances: nothing there depends on an id it has never seen (caches drop changed and
    // deleted records; a new one is in no cache), and the NOTIFY cost a fifth of create throughput (bench/README.md).
    *result = CreateResult{std::move(r), false};
    return {};
  };
  WriteOp op{std::move(apply), [impl, &c, result, done = std::move(done)](Status st) {
                // Committed, or uncertain (change_feed.h, invariants 1 and 2): published before the answer.
                const bool made = st && !(*result)->replayed;
                impl->publish_record(Change::Op::kCreate, c, made ? (*result)->record.id : std::string(), made ? 1 : 0);
                if (!st) return done(std::move(st).error());
                done(std::move(**result));
              }};
  op.single = std::move(single);
  impl_->submit(std::move(op));
}

void RecordStore::update(UpdateCommand cmd, Principal auth, std::function<void(Result<Record>)> done) {
  const model::Collection& c = *cmd.collection;
  if (!auth.admin() && !c.rules.update) return done(forbidden("update records"));
  auto result = std::make_shared<std::optional<Record>>();
  auto* impl = impl_.get();
  std::string id = cmd.id;
  auto apply = [impl, cmd = std::move(cmd), auth, result](Connection& conn) -> Status {
    const model::Collection& c = *cmd.collection;
    if (cmd.effects) {
      if (Status st = cmd.effects(conn); !st) return st;
    }
    const Impl::Prepared& p = impl->prepared.at(&c);
    const Impl::SelectById& q = p.for_writer(p.update, auth);
    auto rows = impl->query(conn, c, q.sql, q.params, auth, &cmd.id);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return not_found();
    Record r = std::move(rows->front());
    if (cmd.if_match && !cmd.if_match->matches(r.version)) return stale_version(*cmd.if_match, r.version);
    const std::optional<Record> before = c.audit && !cmd.audit.empty() ? std::optional<Record>(r) : std::nullopt;
    if (cmd.changes.empty()) {
      if (Status st = impl->mask_relations(conn, c, std::span<Record>(&r, 1), auth); !st) return st;
      *result = std::move(r);
      return {};
    }
    for (const auto& [idx, v] : cmd.changes) r.values[static_cast<std::size_t>(idx)] = v;
    if (cmd.validate) {
      if (Status st = cmd.validate(r); !st) return st;
    }
    std::vector<std::pair<int, const Value*>> rel;
    for (const auto& [idx, v] : cmd.changes) rel.emplace_back(idx, &v);
    if (Status st = impl->check_relations(conn, c, rel, auth); !st) return st;
    r.updated = format_rfc3339_ms(impl->clock.now_ms());
    r.version += 1;
    std::string sql = "UPDATE " + impl->dialect->quote_ident(c.name) + " SET ";
    int n = 0;
    for (const auto& [idx, v] : cmd.changes) {
      sql += impl->dialect->quote_ident(c.fields[static_cast<std::size_t>(idx)].name) + " = " + impl->dialect->placeholder(++n) + ", ";
    }
    sql += "\"updated\" = " + impl->dialect->placeholder(n + 1) + ", \"version\" = " + impl->dialect->placeholder(n + 2) +
           " WHERE \"id\" = " + impl->dialect->placeholder(n + 3);
    auto lease = conn.prepare(sql);
    if (!lease) return std::move(lease).error();
    n = 0;
    for (const auto& [idx, v] : cmd.changes) (*lease)->bind(++n, v);
    (*lease)->bind(n + 1, Value(r.updated));
    (*lease)->bind(n + 2, Value(r.version));
    (*lease)->bind(n + 3, Value(r.id));
    auto st = (*lease)->step();
    if (!st) return std::move(st).error();
    if (before) {
      std::vector<AuditEntry> entries = cmd.audit;
      for (auto& e : entries)
        if (e.action.starts_with("record.")) e.detail = record_change_json(c, &*before, &r);
      if (Status audited = append_audit_rows(conn, entries, r.updated); !audited) return audited;
    } else if (Status audited = append_audit_rows(conn, cmd.audit, r.updated); !audited) {
      return audited;
    }
    if (Status st = Impl::announce_record(conn, Change::Op::kUpdate, c, r.id, r.version); !st) return st;
    if (Status masked = impl->mask_relations(conn, c, std::span<Record>(&r, 1), auth); !masked) return masked;
    *result = std::move(r);
    return {};
  };
  impl_->submit(WriteOp{std::move(apply), [impl, &c, id = std::move(id), result, done = std::move(done)](Status st) {
                          impl->publish_record(Change::Op::kUpdate, c, id, st ? (*result)->version : 0);
                          if (!st) return done(std::move(st).error());
                          done(std::move(**result));
                        }});
}

void RecordStore::remove(RemoveCommand cmd, Principal auth, std::function<void(Status)> done) {
  const model::Collection& c = *cmd.collection;
  if (!auth.admin() && !c.rules.remove) return done(forbidden("delete records"));
  auto* impl = impl_.get();
  const std::string cmd_id = cmd.id;
  auto apply = [impl, cmd = std::move(cmd), auth](Connection& conn) -> Status {
    const model::Collection& c = *cmd.collection;
    const Impl::Prepared& p = impl->prepared.at(&c);
    const Impl::SelectById& q = p.for_writer(p.remove, auth);
    auto rows = impl->query(conn, c, q.sql, q.params, auth, &cmd.id);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return not_found();
    if (cmd.if_match && !cmd.if_match->matches(rows->front().version))
      return stale_version(*cmd.if_match, rows->front().version);
    auto lease = conn.prepare("DELETE FROM " + impl->dialect->quote_ident(c.name) + " WHERE \"id\" = ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(cmd.id));
    auto st = (*lease)->step();
    if (!st) return std::move(st).error();
    if (Status told = Impl::announce_record(conn, Change::Op::kDelete, c, cmd.id, 0); !told) return told;
    if (&c == impl->users) {  // a deleted user's account and sessions go with the record
      if (Status gone = delete_identity_rows(conn, cmd.id, impl->clock.now_ms()); !gone) return gone;
    }
    if (c.audit && !cmd.audit.empty()) {
      std::vector<AuditEntry> entries = cmd.audit;
      for (auto& e : entries)
        if (e.action.starts_with("record.")) e.detail = record_change_json(c, &rows->front(), nullptr);
      return append_audit_rows(conn, entries, format_rfc3339_ms(impl->clock.now_ms()));
    }
    return append_audit_rows(conn, cmd.audit, format_rfc3339_ms(impl->clock.now_ms()));
  };
  impl_->submit(WriteOp{std::move(apply), [impl, &c, id = std::string(cmd_id), done = std::move(done)](Status st) {
                          impl->publish_record(Change::Op::kDelete, c, id, 0);
                          done(std::move(st));
                        }});
}

void RecordStore::append_audit(std::vector<AuditEntry> entries, std::function<void(Status)> done) {
  auto* impl = impl_.get();
  auto apply = [impl, entries = std::move(entries)](Connection& conn) -> Status {
    return append_audit_rows(conn, entries, format_rfc3339_ms(impl->clock.now_ms()));
  };
  impl_->submit(WriteOp{std::move(apply), [done = std::move(done)](Status st) {
                          if (done) done(std::move(st));
                        }});
}

Status RecordStore::purge_idempotency_keys() {
  const std::int64_t cutoff = impl_->clock.now_ms() - kIdempotencyTtlMs;
  return impl_->engine->run_exclusive([cutoff](Connection& conn) -> Status {
    auto lease = conn.prepare("DELETE FROM _slipway_idempotency WHERE created_ms <= ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(cutoff));
    auto st = (*lease)->step();
    if (!st) return std::move(st).error();
    return {};
  });
}

}  // namespace slipway::storage
