// RecordStore's private state and helpers, shared by the record_*.cpp files that implement it. Not for other
// includes: everything here is an implementation detail of storage/record_store.h.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/expr/bound_expr.h"
#include "core/expr/names.h"
#include "core/uuid7.h"
#include "storage/change_feed.h"
#include "storage/record_cache.h"
#include "storage/record_store.h"
#include "storage/sql/select_builder.h"
#include "storage/system/identity_store.h"
#include "storage/system/email_store.h"
#include "storage/system/mfa_store.h"
#include "storage/system/oidc_store.h"

namespace slipway::storage {

inline constexpr std::int64_t kIdempotencyTtlMs = 24LL * 3600 * 1000;

inline Problem not_found() { return Problem::make(ProblemCode::kNotFound, "The record does not exist."); }
inline Problem forbidden(std::string_view action) {
  return Problem::make(ProblemCode::kForbidden, "You are not allowed to " + std::string(action) + " in this collection.");
}

// 412 for an If-Match that names no version the record is at: a lost update (the client's copy is older), a
// version the record never had (newer than it), or tags that can never match (weak or malformed ones).
inline Problem stale_version(const IfMatch& expected, std::int64_t current) {
  const std::string now = "the record is at version " + std::to_string(current);
  if (expected.versions.empty())
    return Problem::make(ProblemCode::kPreconditionFailed,
                         "If-Match names no strong entity-tag of this record (a weak or malformed one never matches); " +
                             now + ".");
  if (expected.versions.size() > 1)
    return Problem::make(ProblemCode::kPreconditionFailed, "If-Match names none of the record's versions; " + now + ".");
  const std::int64_t v = expected.versions.front();
  if (v > current)
    return Problem::make(ProblemCode::kPreconditionFailed, "If-Match names version " + std::to_string(v) +
                                                               ", which this record never had; " + now + ".");
  return Problem::make(ProblemCode::kPreconditionFailed, "The record was changed by someone else since version " +
                                                             std::to_string(v) + ": " + now + ".");
}

inline const expr::BoundExpr* rule_for(const std::optional<model::Rule>& rule) { return rule ? rule->bound.get() : nullptr; }

// The rule a non-admin caller is held to; kForbidden when the action has no rule (admin only).
inline Result<const expr::BoundExpr*> rule_or_forbidden(const std::optional<model::Rule>& rule, const Principal& auth,
                                                 std::string_view action) {
  if (auth.admin()) return static_cast<const expr::BoundExpr*>(nullptr);
  if (!rule) return forbidden(action);
  return rule->bound.get();
}

inline Value read_value(Statement& st, int col, model::FieldType type) {
  if (st.column_is_null(col)) return Null{};
  switch (type) {
    case model::FieldType::kInt: return st.column_int(col);
    case model::FieldType::kFloat: return st.column_double(col);
    case model::FieldType::kBool: return st.column_int(col) != 0;
    case model::FieldType::kJson: return JsonText{std::string(st.column_text(col))};
    default: return std::string(st.column_text(col));
  }
}

inline Record read_record(Statement& st, const model::Collection& c) {
  Record r;
  r.id = st.column_text(0);
  r.created = st.column_text(1);
  r.updated = st.column_text(2);
  r.version = st.column_int(3);
  r.values.reserve(c.fields.size());
  for (std::size_t i = 0; i < c.fields.size(); ++i) r.values.push_back(read_value(st, static_cast<int>(i) + 4, c.fields[i].type));
  return r;
}

inline Value sort_value(const Record& r, const model::Collection& c, const std::string& field) {
  if (field == "id") return r.id;
  if (field == "created") return r.created;
  if (field == "updated") return r.updated;
  if (field == "version") return r.version;
  const int idx = c.field_index(field);
  return idx >= 0 ? r.values[static_cast<std::size_t>(idx)] : Value(Null{});
}

inline void bind_all(Statement& st, const std::vector<sql::ParamSource>& params, const Principal& auth, std::int64_t now) {
  for (std::size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i) + 1, sql::resolve_param(params[i], auth, now));
}


struct RecordStore::Impl {
  // `rule: "true"`: nothing to check, no statement to run.
  static bool always_true(const std::optional<model::Rule>& rule) {
    return rule && rule->bound && rule->bound->kind == expr::BoundExpr::Kind::kConst && rule->bound->value;
  }

  const model::Concept& concept_file;
  std::unique_ptr<Engine> engine;
  const sql::Dialect* dialect;  // the engine's
  const Clock& clock;
  StoreHooks hooks;
  Uuid7Generator uuids;
  std::atomic<bool> closed{false};
  ChangeFeed feed;
  const model::Collection* users = nullptr;   // the built-in users collection (`auth:` in the file), or nullptr
  // Collections whose view rule is exactly `id = @auth.id`: masking relations to them needs no query.
  std::unordered_set<const model::Collection*> self_only_view;
  std::unique_ptr<IdentityStore> identity;    // accounts and sessions; null without the users collection
  std::unique_ptr<MfaStore> mfa;              // second factors; null without the users collection
  std::unique_ptr<EmailStore> email;          // e-mail tokens and the mail queue; null without it too
  std::unique_ptr<OidcStore> oidc;            // OpenID Connect states and identities; null without it too

  // "SELECT <columns> FROM c t WHERE t.id = ?1 [AND (rule)]": parameter 1 is the id, bound per call.
  struct SelectById {
    std::string sql;
    std::vector<sql::ParamSource> params;
  };
  // Per-collection statements built once: select by id as the admin and under each action's rule, and insert.
  struct Prepared {
    SelectById admin;
    SelectById admin_locked;  // the admin's, locking the row (writes that change it)
    std::optional<SelectById> view, create;
    std::optional<SelectById> update, remove;  // lock the row they read (Dialect::lock_rows)
    // absent when the action has no rule
    std::string insert_sql;
    // The statement a caller is held to; REQUIRES: the admin, or the action has a rule (checked before).
    const SelectById& for_caller(const std::optional<SelectById>& rule, const Principal& auth) const {
      return auth.admin() ? admin : *rule;
    }
    // For the update and remove statements: the admin's locking one.
    const SelectById& for_writer(const std::optional<SelectById>& rule, const Principal& auth) const {
      return auth.admin() ? admin_locked : *rule;
    }
  };
  std::unordered_map<const model::Collection*, Prepared> prepared;

  // Hot reads by id (see record_cache.h). Per collection: whether its view rule can be cached with the row, and
  // which collections a delete in it can change through ON DELETE CASCADE / SET NULL (transitively).
  RecordCache cache;
  // Verdicts of view rules that read the row and the caller (`owner = @auth.id`): rows the caller may view, keyed by
  // id + rule_key(caller); dropped whole for a collection whenever any of its rows changes (coarse, and so simple
  // to keep right). Only visible rows are kept.
  RecordCache verdicts;
  std::vector<bool> view_caller_local;
  std::vector<bool> masks_locally;  // per collection index: masks_without_query
  std::unordered_map<const model::Collection*, std::size_t> index_of;
  std::unordered_map<std::string, std::size_t> index_by_name;
  std::vector<bool> view_row_only;
  std::vector<std::vector<std::size_t>> delete_reaches;

  // Builds the per-collection statements, the cache policy and the cascade graph (record_store.cpp).
  Impl(const model::Concept& c, std::unique_ptr<Engine> e, const Clock& k, StoreHooks h);

  Result<ReadLease> reader() {
    if (closed.load(std::memory_order_relaxed) || !engine->exists())
      return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
    return engine->reader();
  }
  void submit(WriteOp op) { engine->submit(std::move(op)); }

  // A record write's change, on the thread completing it, before its answer (change_feed.h).
  void publish_record(Change::Op op, const model::Collection& c, const std::string& id, std::int64_t version) {
    feed.publish(record_change(op, c, id, version));
  }
  // Tells other instances about a record write, inside its transaction (Connection::announce).
  static Status announce_record(Connection& conn, Change::Op op, const model::Collection& c, const std::string& id,
                                std::int64_t version) {
    return conn.announce(record_change(op, c, id, version));
  }
  static Change record_change(Change::Op op, const model::Collection& c, const std::string& id, std::int64_t version) {
    Change ch;
    ch.kind = Change::Kind::kRecord;
    ch.op = op;
    ch.collection = c.name;
    ch.id = id;
    ch.version = version;
    return ch;
  }
  // The caches' subscriber (record_store.cpp).
  void on_change(const Change& change);

  void observe(std::chrono::steady_clock::time_point t0) const {
    if (hooks.on_statement)
      hooks.on_statement(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  Result<std::vector<Record>> query(Connection& conn, const model::Collection& c, const std::string& sql,
                                    const std::vector<sql::ParamSource>& params, const Principal& auth,
                                    const std::string* id_override = nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    auto lease = conn.prepare(sql);
    if (!lease) return std::move(lease).error();
    bind_all(**lease, params, auth, clock.now_ms());
    if (id_override) (*lease)->bind(1, Value(*id_override));
    auto rows = read_records(**lease, c);
    observe(t0);
    return rows;
  }

  // Every row of an executed statement as c's records.
  static Result<std::vector<Record>> read_records(Statement& st, const model::Collection& c) {
    std::vector<Record> rows;
    for (;;) {
      auto more = st.step();
      if (!more) return std::move(more).error();
      if (!*more) break;
      rows.push_back(read_record(st, c));
    }
    return rows;
  }

  // A list page from its rows (limit + 1 were asked for: one more means a next page, whose sealed cursor holds the
  // last row's sort values).
  ListPage page_of(std::vector<Record> rows, const model::Collection& c, const std::vector<expr::SortKey>& sort,
                   int limit, std::uint32_t sig) const {
    ListPage page;
    page.items = std::move(rows);
    if (page.items.size() > static_cast<std::size_t>(limit)) {
      page.items.pop_back();
      const Record& last = page.items.back();
      std::vector<Value> keys;
      for (const auto& k : sort) keys.push_back(sort_value(last, c, k.field));
      page.next_cursor = sql::encode_cursor(engine->cursor_key(), sig, keys, last.id);
    }
    return page;
  }

  Status expand(Connection& conn, const model::Collection& c, std::vector<Record>& records,
                const std::vector<std::string>& names, const Principal& auth) {
    for (const auto& name : names) {
      const int idx = c.field_index(name);
      if (idx < 0) continue;
      const model::Field& f = c.fields[static_cast<std::size_t>(idx)];
      const model::Collection* target = concept_file.find_collection(f.to);
      if (!target) continue;
      if (!auth.admin() && !target->rules.view) continue;  // nothing of it may be viewed: never embedded
      std::vector<std::string> ids;
      std::unordered_set<std::string> seen;
      for (const auto& r : records) {
        const auto& v = r.values[static_cast<std::size_t>(idx)];
        if (const auto* s = std::get_if<std::string>(&v); s && seen.insert(*s).second) ids.push_back(*s);
      }
      if (ids.empty()) continue;
      sql::SqlBuilder b = sql::build_get_many_sql(*dialect, *target, auth.admin() ? nullptr : rule_for(target->rules.view),
                                                  auth.admin(), ids);
      auto rows = query(conn, *target, b.sql(), b.params(), auth);
      if (!rows) return std::move(rows).error();
      if (Status st = mask_relations(conn, *target, *rows, auth); !st) return st;  // theirs, too
      std::unordered_map<std::string, std::shared_ptr<Record>> by_id;
      for (auto& row : *rows) {
        auto p = std::make_shared<Record>(std::move(row));
        by_id.emplace(p->id, p);
      }
      for (auto& r : records) {
        const auto& v = r.values[static_cast<std::size_t>(idx)];
        if (const auto* s = std::get_if<std::string>(&v)) {
          if (auto it = by_id.find(*s); it != by_id.end()) r.expand.emplace_back(name, it->second);
        }
      }
    }
    return {};
  }

  // On the writer connection: every relation value must name a record the writer may view (422 otherwise, the
  // same answer for a hidden record as for a missing one, so a write cannot probe for hidden rows).
  Status check_relations(Connection& conn, const model::Collection& c,
                         const std::vector<std::pair<int, const Value*>>& values, const Principal& auth) {
    std::vector<FieldError> errors;
    for (const auto& [idx, v] : values) {
      const model::Field& f = c.fields[static_cast<std::size_t>(idx)];
      if (f.type != model::FieldType::kRelation || is_null(*v)) continue;
      const model::Collection* target = concept_file.find_collection(f.to);
      bool found = false;
      if (target && (auth.admin() || target->rules.view)) {
        const Prepared& p = prepared.at(target);
        const SelectById& q = p.for_caller(p.view, auth);
        auto row = exists(conn, q.sql, q.params, auth, std::get<std::string>(*v));
        if (!row) return std::move(row).error();
        found = *row;
      }
      if (!found) errors.push_back({f.name, "relation", "no record in '" + f.to + "' has this id"});
    }
    if (errors.empty()) return {};
    Problem p = Problem::make(ProblemCode::kUnprocessable, "The record is not valid.");
    p.errors = std::move(errors);
    return p;
  }

  // Relation values that name a record the caller may not view read as null (docs/api.md, "Relations"): an id
  // would tell the caller that a hidden record exists. Batched per relation field; nothing to do for the admin or
  // when the target's view rule is `true`.
  Status mask_relations(Connection& conn, const model::Collection& c, std::span<Record> records,
                        const Principal& auth) {
    return mask_relations(&conn, c, records, auth);
  }
  // `conn` may be null where masks_without_query(c): no statement is needed then.
  Status mask_relations(Connection* conn, const model::Collection& c, std::span<Record> records,
                        const Principal& auth) {
    if (auth.admin() || records.empty()) return {};
    for (std::size_t i = 0; i < c.fields.size(); ++i) {
      const model::Field& f = c.fields[i];
      if (f.type != model::FieldType::kRelation) continue;
      const model::Collection* target = concept_file.find_collection(f.to);
      if (!target || expr::names::visible_to_everyone(*target)) continue;
      std::vector<std::string> ids;
      std::unordered_set<std::string> seen;
      for (const Record& r : records)
        if (const auto* s = std::get_if<std::string>(&r.values[i]); s && seen.insert(*s).second) ids.push_back(*s);
      if (ids.empty()) continue;
      std::unordered_set<std::string> visible;
      if (self_only_view.contains(target)) {
        // `view: "id = @auth.id"` (the users collection's default): the caller sees exactly their own record, which
        // exists (the relation is a foreign key). No query.
        if (auth.id && seen.contains(*auth.id)) visible.insert(*auth.id);
      } else if (const auto& rule = target->rules.view) {  // no view rule: nothing of it is visible to a non-admin
        if (!conn) return Problem::make(ProblemCode::kInternal, "An unexpected error occurred.", "mask without a connection");
        sql::SqlBuilder b = sql::build_get_many_sql(*dialect, *target, rule->bound.get(), false, ids);
        auto rows = query(*conn, *target, b.sql(), b.params(), auth);
        if (!rows) return std::move(rows).error();
        for (const auto& row : *rows) visible.insert(row.id);
      }
      for (Record& r : records) {
        Value& v = r.values[i];
        if (const auto* s = std::get_if<std::string>(&v); s && !visible.contains(*s)) v = Null{};
      }
    }
    return {};
  }
  // Whether mask_relations on c's records never needs a statement: each relation leads to a collection everyone
  // may view, or to one whose view rule is `id = @auth.id`, or to one no caller but the admin may view.
  bool masks_without_query(const model::Collection& c) const { return masks_locally[index_of.at(&c)]; }
  bool compute_masks_without_query(const model::Collection& c) const {
    for (const auto& f : c.fields) {
      if (f.type != model::FieldType::kRelation) continue;
      const model::Collection* target = concept_file.find_collection(f.to);
      if (target && !expr::names::visible_to_everyone(*target) && !self_only_view.contains(target) &&
          target->rules.view)
        return false;
    }
    return true;
  }
  Result<Record> visible_copy(Connection& conn, const model::Collection& c, const Record& cached,
                              const Principal& auth) {
    Record r(cached);
    if (Status st = mask_relations(conn, c, std::span<Record>(&r, 1), auth); !st) return std::move(st).error();
    return r;
  }

  // Runs a one-row statement on the writer connection; returns whether a row came back.
  Result<bool> exists(Connection& conn, const std::string& sql, const std::vector<sql::ParamSource>& params,
                      const Principal& auth, const std::string& id) {
    auto lease = conn.prepare(sql);
    if (!lease) return std::move(lease).error();
    bind_all(**lease, params, auth, clock.now_ms());
    (*lease)->bind(1, Value(id));
    return (*lease)->step();
  }
};

}  // namespace slipway::storage
