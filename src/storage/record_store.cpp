#include "storage/record_store.h"

#include "storage/record_store_impl.h"
#include "storage/sql/cursor.h"
#include "storage/system/audit_log.h"

namespace slipway::storage {

RecordStore::Impl::Impl(const model::Concept& c, std::unique_ptr<Engine> e, const Clock& k, StoreHooks h)
    : concept_file(c), engine(std::move(e)), dialect(&engine->dialect()), clock(k), hooks(std::move(h)), uuids(k),
      cache(c.collections.size()), verdicts(c.collections.size()) {
  const auto& cols = c.collections;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    index_of[&cols[i]] = i;
    index_by_name[cols[i].name] = i;
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
  const sql::Dialect& d = *dialect;
  for (const auto& col : c.collections) {
    Prepared p;
    auto select_by_id = [&](const expr::BoundExpr* rule, bool admin, bool lock) {
      sql::SqlBuilder b = sql::build_get_sql(d, col, rule, admin);
      if (lock) b.append(d.lock_rows("t"));
      return SelectById{b.take_sql(), b.take_params()};
    };
    auto under = [&](const std::optional<model::Rule>& rule, bool lock) -> std::optional<SelectById> {
      if (!rule) return std::nullopt;
      return select_by_id(rule->bound.get(), false, lock);
    };
    p.admin = select_by_id(nullptr, true, false);
    p.admin_locked = select_by_id(nullptr, true, true);
    p.view = under(col.rules.view, false);
    p.create = under(col.rules.create, false);
    p.update = under(col.rules.update, true);
    p.remove = under(col.rules.remove, true);
    std::string cols = "\"id\", \"created\", \"updated\", \"version\"";
    std::string vals = "?1, ?2, ?3, ?4";
    int n = 4;
    for (const auto& f : col.fields) {
      cols += ", " + d.quote_ident(f.name);
      vals += ", " + d.placeholder(++n);
    }
    p.insert_sql = "INSERT INTO " + d.quote_ident(col.name) + " (" + cols + ") VALUES (" + vals + ")";
    prepared.emplace(&col, std::move(p));
  }
  users = c.users();
  for (const auto& col : c.collections) {
    if (!col.rules.view) continue;
    std::string text;
    for (char ch : col.rules.view->source)
      if (ch != ' ' && ch != '\t' && ch != '\n') text.push_back(ch);
    if (text == "id=@auth.id" || text == "@auth.id=id") self_only_view.insert(&col);
  }
  for (const auto& col : c.collections) masks_locally.push_back(compute_masks_without_query(col));
  feed.subscribe([this](const Change& change) { on_change(change); });
  if (users) {
    identity = std::make_unique<IdentityStore>(
        d.quote_ident(users->name), d.lock_rows("s"), [this] { return reader(); },
        [this](WriteOp op) { submit(std::move(op)); });
    mfa = std::make_unique<MfaStore>(*identity, [this] { return reader(); }, [this](WriteOp op) { submit(std::move(op)); });
    email = std::make_unique<EmailStore>(d.quote_ident(users->name), [this] { return reader(); },
                                         [this](WriteOp op) { submit(std::move(op)); });
    oidc = std::make_unique<OidcStore>(*identity, [this] { return reader(); }, [this](WriteOp op) { submit(std::move(op)); });
  }
}

RecordStore::RecordStore(const model::Concept& concept_file, std::unique_ptr<Engine> engine, const Clock& clock,
                         StoreHooks hooks)
    : impl_(std::make_unique<Impl>(concept_file, std::move(engine), clock, std::move(hooks))) {}

RecordStore::~RecordStore() { close(); }

Result<ListPage> RecordStore::list(const ListQuery& q, const Principal& auth) {
  const model::Collection& c = *q.collection;
  auto rule = rule_or_forbidden(c.rules.list, auth, "list records");
  if (!rule) return std::move(rule).error();
  const std::uint32_t sig = sql::sort_signature(sql::canonical_sort(q.sort));
  std::optional<sql::DecodedCursor> after;
  if (!q.cursor.empty()) {
    auto decoded = sql::decode_cursor(impl_->engine->cursor_key(), q.cursor, sig, q.sort.size());
    if (!decoded) return std::move(decoded).error();
    after = std::move(*decoded);
  }
  sql::ListSql built = sql::build_list_sql(*impl_->dialect, c, *rule, q.filter.get(), q.sort,
                                           after ? &*after : nullptr, q.limit, q.count, auth.admin());
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  auto rows = impl_->query(**conn, c, built.select.sql(), built.select.params(), auth);
  if (!rows) return std::move(rows).error();
  ListPage page = impl_->page_of(std::move(*rows), c, q.sort, q.limit, sig);
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

Result<Record> RecordStore::get(const model::Collection& c, std::string_view id, const Principal& auth,
                                  const std::vector<std::string>& expand) {
  auto rule = rule_or_forbidden(c.rules.view, auth, "view records");
  if (!rule) return std::move(rule).error();
  const Impl::Prepared& p = impl_->prepared.at(&c);
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  const std::string sid(id);
  const std::size_t idx = impl_->index_of.at(&c);
  const bool caching = !impl_->engine->shared();
  if (caching && expand.empty() && (auth.admin() || impl_->view_row_only[idx])) {
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
  const bool verdict_cached = caching && expand.empty() && !auth.admin() && impl_->view_caller_local[idx];
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

bool RecordStore::list_async(const ListQuery& q, const Principal& auth, std::function<void(Result<ListPage>)>& done) {
  const model::Collection& c = *q.collection;
  // As get_async: one statement only (no count, no expand, no masking query), and only where nothing is cached.
  if (!impl_->engine->shared() || q.count || !q.expand.empty() || (!auth.admin() && !impl_->masks_without_query(c)))
    return false;
  auto rule = rule_or_forbidden(c.rules.list, auth, "list records");
  if (!rule) return false;  // list() answers it
  const std::uint32_t sig = sql::sort_signature(sql::canonical_sort(q.sort));
  std::optional<sql::DecodedCursor> after;
  if (!q.cursor.empty()) {
    auto decoded = sql::decode_cursor(impl_->engine->cursor_key(), q.cursor, sig, q.sort.size());
    if (!decoded) return false;  // list() answers it
    after = std::move(*decoded);
  }
  sql::ListSql built = sql::build_list_sql(*impl_->dialect, c, *rule, q.filter.get(), q.sort,
                                           after ? &*after : nullptr, q.limit, false, auth.admin());
  std::vector<Value> params;
  const std::int64_t now = impl_->clock.now_ms();
  for (const auto& source : built.select.params()) params.push_back(sql::resolve_param(source, auth, now));
  auto answer = std::make_shared<std::function<void(Result<ListPage>)>>(std::move(done));
  Engine::RowsDone rows_done = [impl = impl_.get(), &c, auth, answer, sort = q.sort, limit = q.limit, sig,
                                t0 = std::chrono::steady_clock::now()](Result<Statement*> rows) {
    if (!rows) return (*answer)(std::move(rows).error());
    impl->observe(t0);
    auto records = impl->read_records(**rows, c);
    if (!records) return (*answer)(std::move(records).error());
    ListPage page = impl->page_of(std::move(*records), c, sort, limit, sig);
    if (Status st = impl->mask_relations(nullptr, c, page.items, auth); !st) return (*answer)(std::move(st).error());
    (*answer)(std::move(page));
  };
  if (impl_->engine->read_pipelined(built.select.sql(), std::move(params), rows_done)) return true;
  done = std::move(*answer);
  return false;
}

bool RecordStore::get_async(const model::Collection& c, std::string_view id, const Principal& auth,
                            const std::vector<std::string>& expand, std::function<void(Result<Record>)>& done) {
  // Only where nothing is cached (the engine is shared) and one statement answers: no expand, no masking query.
  if (!impl_->engine->shared() || !expand.empty() || (!auth.admin() && !impl_->masks_without_query(c))) return false;
  auto rule = rule_or_forbidden(c.rules.view, auth, "view records");
  if (!rule) return false;  // get() answers it
  const Impl::Prepared& p = impl_->prepared.at(&c);
  const Impl::SelectById& q = p.for_caller(p.view, auth);
  std::vector<Value> params;
  params.reserve(std::max<std::size_t>(q.params.size(), 1));
  const std::int64_t now = impl_->clock.now_ms();
  for (const auto& source : q.params) params.push_back(sql::resolve_param(source, auth, now));
  if (params.empty()) params.emplace_back();
  params[0] = Value(std::string(id));  // parameter 1 is the id (SelectById)
  auto answer = std::make_shared<std::function<void(Result<Record>)>>(std::move(done));
  Engine::RowsDone rows_done = [impl = impl_.get(), &c, auth, answer,
                                t0 = std::chrono::steady_clock::now()](Result<Statement*> rows) {
    if (!rows) return (*answer)(std::move(rows).error());
    impl->observe(t0);
    auto records = impl->read_records(**rows, c);
    if (!records) return (*answer)(std::move(records).error());
    if (records->empty()) return (*answer)(not_found());
    if (Status st = impl->mask_relations(nullptr, c, *records, auth); !st) return (*answer)(std::move(st).error());
    (*answer)(std::move(records->front()));
  };
  if (impl_->engine->read_pipelined(q.sql, std::move(params), rows_done)) return true;
  done = std::move(*answer);
  return false;
}

Result<AuditReport> RecordStore::verify_audit() {
  if (!impl_->engine->exists()) return AuditReport{};
  auto conn = impl_->reader();
  if (!conn) return std::move(conn).error();
  return verify_audit_chain(**conn);
}

ChangeFeed& RecordStore::changes() { return impl_->feed; }
bool RecordStore::caches_allowed() const { return !impl_->engine->shared(); }

void RecordStore::Impl::on_change(const Change& change) {
  if (change.kind == Change::Kind::kReset) {
    for (std::size_t i = 0; i < concept_file.collections.size(); ++i) {
      cache.invalidate_all(i);
      verdicts.invalidate_all(i);
    }
    return;
  }
  if (change.kind != Change::Kind::kRecord) return;
  const auto it = index_by_name.find(change.collection);
  if (it == index_by_name.end()) return;  // another instance's concept knows a collection this one does not
  const std::size_t idx = it->second;
  if (change.op == Change::Op::kCreate) return;  // a new id is in no cache, and no verdict depends on it
  cache.invalidate(idx, change.id);
  verdicts.invalidate_all(idx);
  if (change.op != Change::Op::kDelete) return;
  for (std::size_t other : delete_reaches[idx]) {  // ON DELETE CASCADE / SET NULL changed rows there too
    cache.invalidate_all(other);
    verdicts.invalidate_all(other);
  }
}

Status RecordStore::ping() {
  if (impl_->closed.load()) return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
  return impl_->engine->ping();
}

void RecordStore::close() {
  if (impl_->closed.exchange(true)) return;
  impl_->engine->close();
}

void RecordStore::start_listening() {
  impl_->engine->listen([impl = impl_.get()](Change change) { impl->feed.publish_remote(std::move(change)); });
}

const sql::Dialect& RecordStore::dialect() const { return *impl_->dialect; }
std::uint64_t RecordStore::cache_hits() const { return impl_->cache.hits(); }
std::uint64_t RecordStore::cache_misses() const { return impl_->cache.misses(); }
std::uint64_t RecordStore::statement_evictions() const { return impl_->engine->statement_evictions(); }

}  // namespace slipway::storage
