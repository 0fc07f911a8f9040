#include "storage/sqlite/sqlite_storage.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <span>
#include <unordered_map>
#include <unordered_set>

#include "core/clock.h"
#include "core/expr/bound_expr.h"
#include "core/expr/names.h"
#include "storage/record_cache.h"
#include "storage/sql/cursor.h"
#include "storage/sql/schema_sql.h"
#include "storage/sql/select_builder.h"
#include "storage/sqlite/connection.h"
#include "storage/audit_detail.h"
#include "storage/sqlite/audit_log.h"
#include "storage/sqlite/group_commit_writer.h"
#include "storage/sqlite/identity_store.h"
#include "storage/sqlite/system_migrations.h"

namespace slipway::storage::sqlite {
namespace {

constexpr std::int64_t kIdempotencyTtlMs = 24LL * 3600 * 1000;

// The key that seals list cursors (sql/cursor.h): made once per database and kept in it, so cursors stay valid
// across restarts (and, on PostgreSQL later, across instances) and a copied database keeps its cursors.
Result<sql::CursorKey> load_cursor_key(Connection& conn) {
  const sql::CursorKey fresh = sql::new_cursor_key();
  std::string hex(fresh.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), fresh.data(), fresh.size());
  hex.pop_back();
  {
    auto ins = conn.prepare_uncached("INSERT OR IGNORE INTO _slipway_secrets (name, value) VALUES ('cursor_key', ?1)");
    if (!ins) return std::move(ins).error();
    (*ins)->bind(1, Value(hex));
    if (auto st = (*ins)->step(); !st) return std::move(st).error();
  }
  auto sel = conn.prepare_uncached("SELECT value FROM _slipway_secrets WHERE name = 'cursor_key'");
  if (!sel) return std::move(sel).error();
  auto row = (*sel)->step();
  if (!row) return std::move(row).error();
  sql::CursorKey key{};
  const std::string_view stored = *row ? (*sel)->column_text(0) : std::string_view();
  std::size_t n = 0;
  if (stored.size() != key.size() * 2 ||
      sodium_hex2bin(key.data(), key.size(), stored.data(), stored.size(), nullptr, &n, nullptr) != 0 || n != key.size())
    return Problem::make(ProblemCode::kInternal, "The database's cursor key is damaged.", "bad _slipway_secrets.cursor_key");
  return key;
}

std::atomic<std::uint64_t> g_instance_ids{1};

Problem not_found() { return Problem::make(ProblemCode::kNotFound, "The record does not exist."); }
Problem forbidden(std::string_view action) {
  return Problem::make(ProblemCode::kForbidden, "You are not allowed to " + std::string(action) + " in this collection.");
}

// 412 for an If-Match that names another version than the record's: a lost update (the client's copy is older),
// or a version the record never had (newer than it).
Problem stale_version(std::int64_t expected, std::int64_t current) {
  const std::string now = "the record is at version " + std::to_string(current);
  if (expected > current)
    return Problem::make(ProblemCode::kPreconditionFailed, "If-Match names version " + std::to_string(expected) +
                                                               ", which this record never had; " + now + ".");
  return Problem::make(ProblemCode::kPreconditionFailed, "The record was changed by someone else since version " +
                                                             std::to_string(expected) + ": " + now + ".");
}

const expr::BoundExpr* rule_for(const std::optional<model::Rule>& rule) { return rule ? rule->bound.get() : nullptr; }

// The rule a non-admin caller is held to; kForbidden when the action has no rule (admin only).
Result<const expr::BoundExpr*> rule_or_forbidden(const std::optional<model::Rule>& rule, const Principal& auth,
                                                 std::string_view action) {
  if (auth.admin()) return static_cast<const expr::BoundExpr*>(nullptr);
  if (!rule) return forbidden(action);
  return rule->bound.get();
}

Value read_value(Statement& st, int col, model::FieldType type) {
  if (st.column_is_null(col)) return Null{};
  switch (type) {
    case model::FieldType::kInt: return st.column_int(col);
    case model::FieldType::kFloat: return st.column_double(col);
    case model::FieldType::kBool: return st.column_int(col) != 0;
    case model::FieldType::kJson: return JsonText{std::string(st.column_text(col))};
    default: return std::string(st.column_text(col));
  }
}

Record read_record(Statement& st, const model::Collection& c) {
  Record r;
  r.id = st.column_text(0);
  r.created = st.column_text(1);
  r.updated = st.column_text(2);
  r.version = st.column_int(3);
  r.values.reserve(c.fields.size());
  for (std::size_t i = 0; i < c.fields.size(); ++i) r.values.push_back(read_value(st, static_cast<int>(i) + 4, c.fields[i].type));
  return r;
}

Value sort_value(const Record& r, const model::Collection& c, const std::string& field) {
  if (field == "id") return r.id;
  if (field == "created") return r.created;
  if (field == "updated") return r.updated;
  if (field == "version") return r.version;
  const int idx = c.field_index(field);
  return idx >= 0 ? r.values[static_cast<std::size_t>(idx)] : Value(Null{});
}

void bind_all(Statement& st, const std::vector<sql::ParamSource>& params, const Principal& auth, std::int64_t now) {
  for (std::size_t i = 0; i < params.size(); ++i) st.bind(static_cast<int>(i) + 1, sql::resolve_param(params[i], auth, now));
}

}  // namespace

struct SqliteStorage::Impl {
  const model::Concept& concept_file;
  SqliteOptions options;
  const Clock& clock;
  Uuid7Generator uuids;
  std::unique_ptr<sql::Dialect> dialect = sql::make_sqlite_dialect();
  std::unique_ptr<GroupCommitWriter> writer;
  std::uint64_t instance_id = g_instance_ids.fetch_add(1);
  std::atomic<bool> closed{false};
  std::atomic<std::uint64_t> write_epoch{0};
  int lock_fd = -1;       // <path>.lock, flock()ed exclusively while open (not in read-only mode)
  bool missing = false;   // read-only mode: the database file does not exist (reads as an empty database)
  sql::CursorKey cursor_key{};  // seals list cursors; loaded from the database at open (not in read-only mode)
  const model::Collection* users = nullptr;   // the built-in users collection (`auth:` in the file), or nullptr
  // Collections whose view rule is exactly `id = @auth.id`: masking relations to them needs no query.
  std::unordered_set<const model::Collection*> self_only_view;
  std::unique_ptr<IdentityStore> identity;    // accounts and sessions; null without the users collection

  // Every reader connection this storage opened, so close() can close them before the writer (the writer closes
  // last). Each thread finds its own through a thread_local map keyed by instance_id.
  std::mutex readers_mu;
  std::vector<std::unique_ptr<Connection>> readers;  // GUARDED_BY(readers_mu)

  // "SELECT <columns> FROM c t WHERE t.id = ?1 [AND (rule)]": parameter 1 is the id, bound per call.
  struct SelectById {
    std::string sql;
    std::vector<sql::ParamSource> params;
  };
  // Per-collection statements built once: select by id as the admin and under each action's rule, and insert.
  struct Prepared {
    SelectById admin;
    std::optional<SelectById> view, create, update, remove;  // absent when the action has no rule
    std::string insert_sql;
    // The statement a caller is held to; REQUIRES: the admin, or the action has a rule (checked before).
    const SelectById& for_caller(const std::optional<SelectById>& rule, const Principal& auth) const {
      return auth.admin() ? admin : *rule;
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
  std::unordered_map<const model::Collection*, std::size_t> index_of;
  std::vector<bool> view_row_only;
  std::vector<std::vector<std::size_t>> delete_reaches;

  Impl(const model::Concept& c, SqliteOptions o, const Clock& k)
      : concept_file(c), options(std::move(o)), clock(k), uuids(k), cache(c.collections.size()),
        verdicts(c.collections.size()) {
    const auto& cols = c.collections;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      index_of[&cols[i]] = i;
      view_row_only.push_back(cols[i].rules.view && expr::row_only(*cols[i].rules.view->bound));
      view_caller_local.push_back(cols[i].rules.view && !view_row_only.back() &&
                                  expr::row_and_caller_only(*cols[i].rules.view->bound));
    }
    for (std::size_t i = 0; i < cols.size(); ++i) {
      std::vector<bool> seen(cols.size(), false);
      std::vector<std::size_t> frontier{i};
      while (!frontier.empty()) {
        const std::string& target = cols[frontier.back()].name;
        frontier.pop_back();
        for (std::size_t j = 0; j < cols.size(); ++j)
          for (const auto& f : cols[j].fields)
            if (f.type == model::FieldType::kRelation && f.to == target && f.on_delete != model::OnDelete::kRestrict &&
                !seen[j]) {
              seen[j] = true;
              frontier.push_back(j);
            }
      }
      std::vector<std::size_t> reach;
      for (std::size_t j = 0; j < cols.size(); ++j)
        if (seen[j]) reach.push_back(j);
      delete_reaches.push_back(std::move(reach));
    }
  }

  Result<Connection*> reader() {
    if (closed.load(std::memory_order_relaxed) || missing)
      return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
    thread_local std::unordered_map<std::uint64_t, Connection*> connections;
    Connection*& conn = connections[instance_id];
    if (!conn) {
      OpenOptions oo;
      oo.read_only = true;
      auto opened = Connection::open(options.path, oo);
      if (!opened) return std::move(opened).error();
      std::lock_guard lock(readers_mu);
      readers.push_back(std::move(*opened));
      conn = readers.back().get();
    }
    return conn;
  }

  ~Impl() {  // after close(), which closed the readers (or open() failed before any was made)
    writer.reset();  // the writer's connection closes last, still under the lock
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  void submit(WriteOp op) {
    if (!writer) return op.complete(read_only_problem());
    writer->submit(std::move(op));
  }
  static Problem read_only_problem() {
    return Problem::make(ProblemCode::kUnavailable, "The database is open for inspection only.");
  }

  // Takes <path>.lock exclusively (non-blocking) and writes our pid into it; a Problem naming the holder's pid
  // when another process has it.
  Status take_lock() {
    const std::string lock_path = options.path + ".lock";
    lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0)
      return Problem::make(ProblemCode::kUnavailable, "The database cannot be opened.",
                           "open " + lock_path + ": " + std::strerror(errno));
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      char pid[32] = {};
      const ssize_t n = ::pread(lock_fd, pid, sizeof pid - 1, 0);
      std::string holder;  // only the digits: the file is ours, but anyone who can write the directory can edit it
      for (ssize_t i = 0; i < n && pid[i] >= '0' && pid[i] <= '9'; ++i) holder.push_back(pid[i]);
      ::close(lock_fd);
      lock_fd = -1;
      if (err != EWOULDBLOCK)
        return Problem::make(ProblemCode::kUnavailable, "The database cannot be opened.",
                             "lock " + lock_path + ": " + std::strerror(err));
      return Problem::make(ProblemCode::kUnavailable, "The database is in use by another slipway process.",
                           "in use by another slipway process" + (holder.empty() ? "" : " (pid " + holder + ")") +
                               ": only one process may write it; stop that process first (a running server "
                               "applies safe migrations itself at start-up with serve --migrate)");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock_fd, 0) == 0) (void)!::pwrite(lock_fd, pid.data(), pid.size(), 0);
    return {};
  }

  void observe(std::chrono::steady_clock::time_point t0) const {
    if (options.on_statement)
      options.on_statement(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }

  Result<std::vector<Record>> query(Connection& conn, const model::Collection& c, const std::string& sql,
                                    const std::vector<sql::ParamSource>& params, const Principal& auth,
                                    const std::string* id_override = nullptr) {
    const auto t0 = std::chrono::steady_clock::now();
    auto lease = conn.prepare(sql);
    if (!lease) return std::move(lease).error();
    bind_all(**lease, params, auth, clock.now_ms());
    if (id_override) (*lease)->bind(1, Value(*id_override));
    std::vector<Record> rows;
    for (;;) {
      auto more = (*lease)->step();
      if (!more) return std::move(more).error();
      if (!*more) break;
      rows.push_back(read_record(**lease, c));
    }
    observe(t0);
    return rows;
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
        sql::SqlBuilder b = sql::build_get_many_sql(*dialect, *target, rule->bound.get(), false, ids);
        auto rows = query(conn, *target, b.sql(), b.params(), auth);
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

SqliteStorage::SqliteStorage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SqliteStorage::~SqliteStorage() { close(); }

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::open(const model::Concept& concept_file, SqliteOptions options,
                                                            const Clock& clock) {
  // Before the first connection: no process-wide memory statistics (they put a global mutex on every
  // sqlite3_malloc, which the reader threads would contend on).
  static std::once_flag configured;
  std::call_once(configured, [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing can be sealed safely
  });
  auto impl = std::make_unique<Impl>(concept_file, std::move(options), clock);
  std::unique_ptr<Connection> writer_conn;
  if (impl->options.read_only) {
    struct stat st {};
    impl->missing = ::stat(impl->options.path.c_str(), &st) != 0;
  } else {
    if (Status st = impl->take_lock(); !st) return std::move(st).error();
    OpenOptions oo;
    oo.synchronous_full = impl->options.synchronous_full;
    auto conn = Connection::open(impl->options.path, oo);
    if (!conn) return std::move(conn).error();
    if (Status st = apply_system_migrations(**conn, "slipway " SLIPWAY_VERSION, format_rfc3339_ms(clock.now_ms())); !st)
      return std::move(st).error();
    auto key = load_cursor_key(**conn);
    if (!key) return std::move(key).error();
    impl->cursor_key = *key;
    writer_conn = std::move(*conn);
  }
  const sql::Dialect& d = *impl->dialect;
  for (const auto& c : concept_file.collections) {
    Impl::Prepared p;
    auto select_by_id = [&](const expr::BoundExpr* rule, bool admin) {
      sql::SqlBuilder b = sql::build_get_sql(d, c, rule, admin);
      return Impl::SelectById{b.take_sql(), b.take_params()};
    };
    auto under = [&](const std::optional<model::Rule>& rule) -> std::optional<Impl::SelectById> {
      if (!rule) return std::nullopt;
      return select_by_id(rule->bound.get(), false);
    };
    p.admin = select_by_id(nullptr, true);
    p.view = under(c.rules.view);
    p.create = under(c.rules.create);
    p.update = under(c.rules.update);
    p.remove = under(c.rules.remove);
    std::string cols = "\"id\", \"created\", \"updated\", \"version\"";
    std::string vals = "?1, ?2, ?3, ?4";
    int n = 4;
    for (const auto& f : c.fields) {
      cols += ", " + d.quote_ident(f.name);
      vals += ", " + d.placeholder(++n);
    }
    p.insert_sql = "INSERT INTO " + d.quote_ident(c.name) + " (" + cols + ") VALUES (" + vals + ")";
    impl->prepared.emplace(&c, std::move(p));
  }
  if (writer_conn) {
    WriterStats stats;
    stats.on_commit = impl->options.on_commit;
    impl->writer = std::make_unique<GroupCommitWriter>(std::move(writer_conn), std::move(stats));
  }
  impl->users = concept_file.users();
  for (const auto& c : concept_file.collections) {
    if (!c.rules.view) continue;
    std::string text;
    for (char ch : c.rules.view->source)
      if (ch != ' ' && ch != '\t' && ch != '\n') text.push_back(ch);
    if (text == "id=@auth.id" || text == "@auth.id=id") impl->self_only_view.insert(&c);
  }
  if (impl->users) {
    Impl* raw = impl.get();
    impl->identity = std::make_unique<IdentityStore>(
        d.quote_ident(impl->users->name), [raw] { return raw->reader(); },
        [raw](WriteOp op) { raw->submit(std::move(op)); });
  }
  return std::unique_ptr<SqliteStorage>(new SqliteStorage(std::move(impl)));
}

Result<ListPage> SqliteStorage::list(const ListQuery& q, const Principal& auth) {
  const model::Collection& c = *q.collection;
  auto rule = rule_or_forbidden(c.rules.list, auth, "list records");
  if (!rule) return std::move(rule).error();
  const std::uint32_t sig = sql::sort_signature(sql::canonical_sort(q.sort));
  std::optional<sql::DecodedCursor> after;
  if (!q.cursor.empty()) {
    auto decoded = sql::decode_cursor(impl_->cursor_key, q.cursor, sig, q.sort.size());
    if (!decoded) return std::move(decoded).error();
    after = std::move(*decoded);
  }
  sql::ListSql built = sql::build_list_sql(*impl_->dialect, c, *rule, q.filter.get(), q.sort,
                                           after ? &*after : nullptr, q.limit, q.count, auth.admin());
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  auto rows = impl_->query(**conn, c, built.select.sql(), built.select.params(), auth);
  if (!rows) return std::move(rows).error();
  ListPage page;
  page.items = std::move(*rows);
  if (page.items.size() > static_cast<std::size_t>(q.limit)) {
    page.items.pop_back();
    const Record& last = page.items.back();
    std::vector<Value> keys;
    for (const auto& k : q.sort) keys.push_back(sort_value(last, c, k.field));
    page.next_cursor = sql::encode_cursor(impl_->cursor_key, sig, keys, last.id);
  }
  if (built.count) {
    auto lease = (*conn)->prepare(built.count->sql());
    if (!lease) return std::move(lease).error();
    bind_all(**lease, built.count->params(), auth, impl_->clock.now_ms());
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    page.total = (*lease)->column_int(0);
  }
  // After the cursor (it holds the real sort values, sealed), before expand (which then only finds visible ones).
  if (Status st = impl_->mask_relations(**conn, c, page.items, auth); !st) return std::move(st).error();
  if (!q.expand.empty()) {
    if (Status st = impl_->expand(**conn, c, page.items, q.expand, auth); !st) return std::move(st).error();
  }
  return page;
}

Result<Record> SqliteStorage::get(const model::Collection& c, std::string_view id, const Principal& auth,
                                  const std::vector<std::string>& expand) {
  auto rule = rule_or_forbidden(c.rules.view, auth, "view records");
  if (!rule) return std::move(rule).error();
  const Impl::Prepared& p = impl_->prepared.at(&c);
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  const std::string sid(id);
  const std::size_t idx = impl_->index_of.at(&c);
  if (expand.empty() && (auth.admin() || impl_->view_row_only[idx])) {
    if (auto hit = impl_->cache.find(idx, sid)) {
      if (!auth.admin() && !hit->visible) return not_found();
      return impl_->visible_copy(**conn, c, *hit->record, auth);
    }
    const std::uint64_t epoch = impl_->cache.epoch(idx);  // before the read: see record_cache.h
    auto rows = impl_->query(**conn, c, p.admin.sql, p.admin.params, Principal::bootstrap_admin(), &sid);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return not_found();
    bool visible = false;
    if (c.rules.view) {  // the verdict depends on the row only, so any caller's context gives the same answer
      auto seen = impl_->query(**conn, c, p.view->sql, p.view->params, Principal{}, &sid);
      if (!seen) return std::move(seen).error();
      visible = !seen->empty();
    }
    auto record = std::make_shared<const Record>(std::move(rows->front()));
    impl_->cache.insert(idx, epoch, RecordCache::Entry{record, visible});
    if (!auth.admin() && !visible) return not_found();
    return impl_->visible_copy(**conn, c, *record, auth);
  }
  const bool verdict_cached = expand.empty() && !auth.admin() && impl_->view_caller_local[idx];
  std::string verdict_key;
  std::uint64_t verdict_epoch = 0;
  if (verdict_cached) {
    verdict_key = sid + '\x1f' + rule_key(auth);
    if (auto hit = impl_->verdicts.find(idx, verdict_key)) return impl_->visible_copy(**conn, c, *hit->record, auth);
    verdict_epoch = impl_->verdicts.epoch(idx);  // before the read: see record_cache.h
  }
  const Impl::SelectById& q = p.for_caller(p.view, auth);
  auto rows = impl_->query(**conn, c, q.sql, q.params, auth, &sid);
  if (verdict_cached && rows && !rows->empty())
    impl_->verdicts.insert(idx, verdict_epoch, verdict_key,
                           RecordCache::Entry{std::make_shared<const Record>(rows->front()), true});
  if (!rows) return std::move(rows).error();
  if (rows->empty()) return not_found();
  if (Status st = impl_->mask_relations(**conn, c, *rows, auth); !st) return std::move(st).error();
  if (!expand.empty()) {
    if (Status st = impl_->expand(**conn, c, *rows, expand, auth); !st) return std::move(st).error();
  }
  return std::move(rows->front());
}

void SqliteStorage::create(CreateCommand cmd, Principal auth, std::function<void(Result<CreateResult>)> done) {
  const model::Collection& c = *cmd.collection;
  if (!auth.admin() && !c.rules.create) return done(forbidden("create records"));
  auto result = std::make_shared<std::optional<CreateResult>>();
  auto* impl = impl_.get();
  auto apply = [impl, cmd = std::move(cmd), auth, result](Connection& conn) -> Status {
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

    Record r;
    r.id = impl->uuids.generate();
    r.created = format_rfc3339_ms(now);
    r.updated = r.created;
    r.version = 1;
    r.values = cmd.values;
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
        if (p.code == ProblemCode::kConflict && p.cause.find("FOREIGN KEY") != std::string::npos) {
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
    if (!auth.admin()) {  // the create rule, checked against the new row inside this savepoint
      const Impl::SelectById& q = *impl->prepared.at(&c).create;
      auto ok = impl->exists(conn, q.sql, q.params, auth, r.id);
      if (!ok) return std::move(ok).error();
      if (!*ok) return forbidden("create this record");
    }
    if (!cmd.idempotency_key.empty()) {
      auto lease = conn.prepare(
          "INSERT OR REPLACE INTO _slipway_idempotency (scope, key, fingerprint, record_id, created_ms) "
          "VALUES (?1, ?2, ?3, ?4, ?5)");
      if (!lease) return std::move(lease).error();
      (*lease)->bind(1, Value(scope));
      (*lease)->bind(2, Value(cmd.idempotency_key));
      (*lease)->bind(3, Value(cmd.idempotency_fingerprint));
      (*lease)->bind(4, Value(r.id));
      (*lease)->bind(5, Value(now));
      auto st = (*lease)->step();
      if (!st) return std::move(st).error();
    }
    if (!cmd.audit.empty()) {
      std::vector<AuditEntry> entries = cmd.audit;
      for (auto& e : entries) {
        if (e.record_id.empty()) e.record_id = r.id;
        if (c.audit && e.action.starts_with("record.")) e.detail = record_change_json(c, nullptr, &r);
      }
      if (Status st = append_audit_rows(conn, entries, r.created); !st) return st;
    }
    *result = CreateResult{std::move(r), false};
    return {};
  };
  impl_->submit(WriteOp{std::move(apply), [impl, result, done = std::move(done)](Status st) {
                                  impl->write_epoch.fetch_add(1, std::memory_order_seq_cst);
                                  if (!st) return done(std::move(st).error());
                                  done(std::move(**result));
                                }});
}

void SqliteStorage::update(UpdateCommand cmd, Principal auth, std::function<void(Result<Record>)> done) {
  const model::Collection& c = *cmd.collection;
  if (!auth.admin() && !c.rules.update) return done(forbidden("update records"));
  auto result = std::make_shared<std::optional<Record>>();
  auto* impl = impl_.get();
  const std::size_t idx = impl->index_of.at(&c);
  std::string id = cmd.id;
  auto apply = [impl, cmd = std::move(cmd), auth, result](Connection& conn) -> Status {
    const model::Collection& c = *cmd.collection;
    const Impl::Prepared& p = impl->prepared.at(&c);
    const Impl::SelectById& q = p.for_caller(p.update, auth);
    auto rows = impl->query(conn, c, q.sql, q.params, auth, &cmd.id);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return not_found();
    Record r = std::move(rows->front());
    if (cmd.if_match && *cmd.if_match != r.version) return stale_version(*cmd.if_match, r.version);
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
    if (Status masked = impl->mask_relations(conn, c, std::span<Record>(&r, 1), auth); !masked) return masked;
    *result = std::move(r);
    return {};
  };
  impl_->submit(WriteOp{std::move(apply), [impl, idx, id = std::move(id), result, done = std::move(done)](Status st) {
                                  impl->cache.invalidate(idx, id);  // committed (or uncertain): before the answer
                                  impl->verdicts.invalidate_all(idx);
                                  impl->write_epoch.fetch_add(1, std::memory_order_seq_cst);
                                  if (!st) return done(std::move(st).error());
                                  done(std::move(**result));
                                }});
}

void SqliteStorage::remove(RemoveCommand cmd, Principal auth, std::function<void(Status)> done) {
  const model::Collection& c = *cmd.collection;
  if (!auth.admin() && !c.rules.remove) return done(forbidden("delete records"));
  auto* impl = impl_.get();
  const std::string cmd_id = cmd.id;
  auto apply = [impl, cmd = std::move(cmd), auth](Connection& conn) -> Status {
    const model::Collection& c = *cmd.collection;
    const Impl::Prepared& p = impl->prepared.at(&c);
    const Impl::SelectById& q = p.for_caller(p.remove, auth);
    auto rows = impl->query(conn, c, q.sql, q.params, auth, &cmd.id);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return not_found();
    if (cmd.if_match && *cmd.if_match != rows->front().version) return stale_version(*cmd.if_match, rows->front().version);
    auto lease = conn.prepare("DELETE FROM " + impl->dialect->quote_ident(c.name) + " WHERE \"id\" = ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(cmd.id));
    auto st = (*lease)->step();
    if (!st) return std::move(st).error();
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
  const std::size_t idx = impl->index_of.at(&c);
  impl_->submit(WriteOp{std::move(apply), [impl, idx, id = std::string(cmd_id), done = std::move(done)](Status st) {
                                  impl->cache.invalidate(idx, id);
                                  impl->verdicts.invalidate_all(idx);
                                  for (std::size_t other : impl->delete_reaches[idx]) {
                                    impl->cache.invalidate_all(other);
                                    impl->verdicts.invalidate_all(other);
                                  }
                                  impl->write_epoch.fetch_add(1, std::memory_order_seq_cst);
                                  done(std::move(st));
                                }});
}

void SqliteStorage::append_audit(std::vector<AuditEntry> entries, std::function<void(Status)> done) {
  auto* impl = impl_.get();
  auto apply = [impl, entries = std::move(entries)](Connection& conn) -> Status {
    return sqlite::append_audit_rows(conn, entries, format_rfc3339_ms(impl->clock.now_ms()));
  };
  impl_->submit(WriteOp{std::move(apply), [done = std::move(done)](Status st) {
                          if (done) done(std::move(st));
                        }});
}

Result<AuditReport> SqliteStorage::verify_audit() {
  if (impl_->missing) return AuditReport{};
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  return verify_audit_chain(**conn);
}

namespace {
Problem no_identity() {
  return Problem::make(ProblemCode::kNotFound, "Identity is not enabled: the concept file has no `auth:` section.");
}
}  // namespace

Result<std::optional<Account>> SqliteStorage::find_account_by_email(std::string_view email) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->find_account_by_email(email);
}

Result<std::optional<Account>> SqliteStorage::find_account(std::string_view user_id) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->find_account(user_id);
}

void SqliteStorage::open_session(NewSession session, std::optional<std::string> rehash, std::vector<AuditEntry> audit,
                                 std::function<void(Result<Account>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->open_session(std::move(session), std::move(rehash), std::move(audit), impl_->clock.now_ms(),
                                std::move(done));
}

Result<std::optional<RefreshPeek>> SqliteStorage::peek_refresh_token(std::string_view session_id) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->peek_refresh_token(session_id);
}

void SqliteStorage::refresh_session(RefreshCommand command, std::function<void(Result<RefreshOutcome>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->refresh_session(std::move(command), std::move(done));
}

void SqliteStorage::revoke_sessions(RevokeCommand command, std::vector<AuditEntry> audit,
                                    std::function<void(Result<std::vector<std::string>>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->revoke_sessions(std::move(command), std::move(audit), std::move(done));
}

Result<std::vector<SessionInfo>> SqliteStorage::list_sessions(std::string_view user_id) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->list_sessions(user_id, impl_->clock.now_ms());
}

void SqliteStorage::change_password(std::string user_id, std::string new_hash, std::string keep_session,
                                    std::vector<AuditEntry> audit,
                                    std::function<void(Result<std::vector<std::string>>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->change_password(std::move(user_id), std::move(new_hash), std::move(keep_session),
                                   impl_->clock.now_ms(), std::move(audit), std::move(done));
}

Result<std::vector<std::string>> SqliteStorage::sessions_revoked_since(std::int64_t since_ms) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->sessions_revoked_since(since_ms);
}

void SqliteStorage::update_account(AccountUpdate update, std::vector<AuditEntry> audit,
                                   std::function<void(Result<Account>)> done) {
  if (!impl_->identity) return done(no_identity());
  impl_->identity->update_account(std::move(update), std::move(audit), std::move(done));
}

void SqliteStorage::create_api_key(ApiKey key, std::vector<AuditEntry> audit, std::function<void(Status)> done) {
  if (!impl_->writer) return done(Impl::read_only_problem());
  IdentityStore::create_api_key(*impl_->writer, std::move(key), std::move(audit), std::move(done));
}

Result<std::vector<ApiKey>> SqliteStorage::list_api_keys() {
  if (impl_->missing) return std::vector<ApiKey>{};
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  return IdentityStore::list_api_keys(**conn);
}

void SqliteStorage::revoke_api_key(std::string id, std::int64_t now_ms, std::vector<AuditEntry> audit,
                                   std::function<void(Status)> done) {
  if (!impl_->writer) return done(Impl::read_only_problem());
  IdentityStore::revoke_api_key(*impl_->writer, std::move(id), now_ms, std::move(audit), std::move(done));
}

void SqliteStorage::touch_api_keys(std::vector<std::pair<std::string, std::int64_t>> last_used,
                                   std::vector<AuditEntry> audit) {
  if (!impl_->writer) return;
  IdentityStore::touch_api_keys(*impl_->writer, std::move(last_used), std::move(audit));
}

Result<std::vector<std::pair<std::string, std::int64_t>>> SqliteStorage::users_revoked_since(std::int64_t since_ms) {
  if (!impl_->identity) return no_identity();
  return impl_->identity->users_revoked_since(since_ms);
}

void SqliteStorage::purge_identity(std::int64_t successor_before_ms, std::int64_t revocation_before_ms) {
  if (!impl_->identity) return;
  impl_->identity->purge(successor_before_ms, revocation_before_ms);
}

void SqliteStorage::save_throttles(std::vector<ThrottleRow> rows) {
  if (!impl_->identity) return;
  impl_->identity->save_throttles(std::move(rows));
}

Result<std::vector<ThrottleRow>> SqliteStorage::load_throttles() {
  if (!impl_->identity) return no_identity();
  return impl_->identity->load_throttles();
}

std::uint64_t SqliteStorage::write_epoch() const { return impl_->write_epoch.load(std::memory_order_seq_cst); }

Status SqliteStorage::ping() {
  if (impl_->closed.load()) return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
  if (!impl_->writer) return Impl::read_only_problem();
  if (impl_->writer->failed()) return Problem::make(ProblemCode::kUnavailable, "The database writer has failed.");
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  auto lease = (*conn)->prepare("SELECT 1");
  if (!lease) return std::move(lease).error();
  auto row = (*lease)->step();
  if (!row) return std::move(row).error();
  return {};
}

void SqliteStorage::close() {
  if (impl_->closed.exchange(true)) return;
  {  // readers first: the writer, the only checkpointer, closes last
    std::lock_guard lock(impl_->readers_mu);
    impl_->readers.clear();
  }
  if (impl_->writer) impl_->writer->close();  // drains and stops; its connection closes with ~Impl, then the lock
}

std::uint64_t SqliteStorage::cache_hits() const { return impl_->cache.hits(); }
std::uint64_t SqliteStorage::cache_misses() const { return impl_->cache.misses(); }

Status SqliteStorage::purge_idempotency_keys() {
  const std::int64_t cutoff = impl_->clock.now_ms() - kIdempotencyTtlMs;
  if (!impl_->writer) return Impl::read_only_problem();
  return impl_->writer->run_exclusive([cutoff](Connection& conn) -> Status {
    auto lease = conn.prepare("DELETE FROM _slipway_idempotency WHERE created_ms <= ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(cutoff));
    auto st = (*lease)->step();
    if (!st) return std::move(st).error();
    return {};
  });
}

namespace {
// Read-only mode may look at a file slipway never initialised (or none at all): no history table, no history.
Result<bool> has_history(Connection& conn) {
  auto lease = conn.prepare_uncached("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_slipway_migrations'");
  if (!lease) return std::move(lease).error();
  return (*lease)->step();
}
}  // namespace

Result<std::optional<std::string>> SqliteStorage::current_snapshot() {
  if (impl_->missing) return std::optional<std::string>();
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

Result<std::vector<MigrationRecord>> SqliteStorage::history() {
  std::vector<MigrationRecord> out;
  if (impl_->missing) return out;
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

Result<std::vector<SystemMigrationRecord>> SqliteStorage::system_history() {
  if (impl_->missing) return system_migration_status_of_nothing();
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  return system_migration_status(**conn);
}

Status SqliteStorage::assess(sql::MigrationPlan& plan, const model::Concept& target) {
  for (auto& step : plan.steps) {
    if (!step.check) continue;
    if (impl_->missing) {  // no database yet: no rows to affect
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
        switch (sqlite3_column_type((*scan)->raw(), 0)) {
          case SQLITE_INTEGER: v = (*scan)->column_int(0); break;
          case SQLITE_FLOAT: v = (*scan)->column_double(0); break;
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

Status SqliteStorage::apply(const sql::MigrationPlan& plan, const std::string& applied_by, bool allow_destructive) {
  for (const auto& step : plan.steps)
    if (step.blocked)
      return Problem::make(ProblemCode::kConflict, "A migration step cannot be applied: " + step.description + ".");
  if (plan.has_destructive() && !allow_destructive)
    return Problem::make(ProblemCode::kConflict, "The plan has destructive steps; run with --allow-destructive.");
  if (!impl_->writer) return Impl::read_only_problem();
  const std::string applied_at = format_rfc3339_ms(impl_->clock.now_ms());
  // On the writer's own connection, alone between batches (invariant 5 of group_commit_writer.h): table rebuilds
  // need foreign_keys=OFF, which SQLite only honours outside a transaction.
  return impl_->writer->run_alone([&plan, &applied_by, &applied_at](Connection& conn) -> Status {
    if (Status st = conn.exec("PRAGMA foreign_keys=OFF; BEGIN IMMEDIATE"); !st) {
      (void)conn.exec("PRAGMA foreign_keys=ON");
      return st;
    }
    // Each statement apart: after SQLITE_FULL or an I/O error SQLite has already rolled back, so ROLLBACK fails
    // and must not keep foreign_keys=ON from running on the shared writer connection.
    auto fail = [&conn](Problem p) -> Status {
      if (!sqlite3_get_autocommit(conn.raw())) (void)conn.exec("ROLLBACK");
      (void)conn.exec("PRAGMA foreign_keys=ON");  // if even this fails, the writer fails (run_alone checks)
      return p;
    };
    for (const auto& step : plan.steps) {
      for (const auto& q : step.sql) {
        if (Status st = conn.exec(q); !st) {
          Problem p = std::move(st).error();
          p.detail = "Migration step failed: " + step.description + ".";
          return fail(std::move(p));
        }
      }
    }
    {
      auto check = conn.prepare_uncached("PRAGMA foreign_key_check");
      if (!check) return fail(std::move(check).error());
      auto row = (*check)->step();
      if (!row) return fail(std::move(row).error());
      if (*row)
        return fail(Problem::make(ProblemCode::kConflict, "The migration would leave relations pointing at missing records."));
    }
    auto ins = conn.prepare_uncached(
        "INSERT INTO _slipway_migrations (version, checksum, applied_at, applied_by, plan, snapshot) "
        "VALUES ((SELECT COALESCE(MAX(version), 0) + 1 FROM _slipway_migrations), ?1, ?2, ?3, ?4, ?5)");
    if (!ins) return fail(std::move(ins).error());
    (*ins)->bind(1, Value(plan.checksum));
    (*ins)->bind(2, Value(applied_at));
    (*ins)->bind(3, Value(applied_by));
    (*ins)->bind(4, Value(plan.to_text()));
    (*ins)->bind(5, Value(plan.snapshot));
    if (auto st = (*ins)->step(); !st) return fail(std::move(st).error());
    ins->reset();
    AuditEntry applied;
    applied.action = "migration.apply";
    applied.actor_kind = "system";
    applied.actor_id = applied_by;
    applied.detail = "{\"checksum\":\"" + plan.checksum + "\",\"steps\":" + std::to_string(plan.steps.size()) + "}";
    if (Status st = append_audit_rows(conn, std::span<const AuditEntry>(&applied, 1), applied_at); !st)
      return fail(std::move(st).error());
    if (Status st = conn.exec("COMMIT"); !st) return fail(std::move(st).error());
    return conn.exec("PRAGMA foreign_keys=ON");
  });
}

std::uint64_t SqliteStorage::statement_evictions() const { return statement_cache_evictions(); }

}  // namespace slipway::storage::sqlite
