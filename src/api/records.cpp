#include "api/records.h"

#include <charconv>
#include <optional>

#include "api/problem_json.h"
#include "api/query_string.h"
#include "api/record_input.h"
#include "api/record_json.h"
#include "api/routes.h"
#include "core/ascii.h"
#include "core/expr/bound_expr.h"
#include "core/sha256.h"
#include "core/uuid7.h"

namespace slipway::api {
namespace {

constexpr std::string_view kListRoute = kRecordsRoute;
constexpr int kDefaultLimit = 20;
constexpr int kMaxLimit = 500;
constexpr std::size_t kMaxIdempotencyKey = 255;

Problem bad_param(std::string parameter, std::string detail) {
  Problem p = Problem::make(ProblemCode::kBadRequest, std::move(detail));
  p.parameter = std::move(parameter);
  return p;
}

// Tags a Problem from the expression language with the parameter it came from.
Problem in_param(Problem p, std::string parameter) {
  p.parameter = std::move(parameter);
  if (p.position >= 0) p.detail += " (at position " + std::to_string(p.position) + ")";
  return p;
}

bool is_json_content_type(std::string_view ct) {
  const std::size_t semi = ct.find(';');
  std::string_view type = ct.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return ascii_iequals(type, "application/json");
}

Result<std::vector<std::string>> parse_expand(std::string_view text, const model::Collection& c, bool admin) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view name = text.substr(pos, comma - pos);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    const model::Field* f = c.find_field(name);
    if (!f || f->type != model::FieldType::kRelation || (f->hidden && !admin)) {
      Problem p = bad_param("expand", "'" + std::string(name.substr(0, 64)) + "' is not a relation field of '" + c.name + "'.");
      p.position = static_cast<int>(pos);
      return p;
    }
    bool dup = false;
    for (const auto& e : out) dup |= e == name;
    if (!dup) out.emplace_back(name);
    if (comma == text.size()) break;
    pos = comma + 1;
  }
  if (out.size() > 8) return bad_param("expand", "At most 8 relations can be expanded.");
  return out;
}


// Record ids are canonical lower-case UUIDs; anything else names no record (404, not 400: ids are opaque).
std::optional<std::string> record_id(std::string_view id) {
  if (!is_uuid(id)) return std::nullopt;
  std::string lower(id);
  ascii_to_lower(lower);
  return lower;
}

Problem no_such_record() { return Problem::make(ProblemCode::kNotFound, "The record does not exist."); }

// Writes take no query parameters: any given is reported like every other unknown parameter.
Status no_query(std::string_view query) {
  if (query.empty()) return {};
  auto params = QueryParams::parse(query, {});
  if (!params) return std::move(params).error();
  return {};
}

http::Response record_response(int status, const storage::Record& r, const model::Collection& c,
                               const model::Concept& concept_file, const Projection& projection, const Principal& auth) {
  http::Response resp;
  resp.status = status;
  resp.content_type = "application/json";
  JsonWriter w(resp.body);
  write_record(w, r, c, concept_file, projection);
  resp.set_header("ETag", record_etag(r));
  resp.set_header("Cache-Control", "private, no-cache");
  resp.route = kRecordRoute;
  if (auth.id) resp.user_id = *auth.id;
  return resp;
}

}  // namespace

void App::Records::list(http::Request& req, const model::Collection& c, std::span<const std::string_view> accepted,
                        const Principal& auth, http::Responder respond, const RecordExtra& extra,
                        std::string_view route, const RouteMatch* on_loop) {
  auto params = QueryParams::parse(req.query, accepted);
  if (!params) return app.fail(req.request_id, auth, params.error(), respond, route);
  storage::ListQuery q;
  q.collection = &c;
  q.limit = kDefaultLimit;
  if (auto f = params->get("filter"); f && !f->empty()) {
    auto bound = expr::parse_and_bind(*f, c, app.concept_, {expr::Purpose::kFilter, auth.admin()});
    if (!bound) return app.fail(req.request_id, auth, in_param(std::move(bound).error(), "filter"), respond, route);
    q.filter = std::move(*bound);
  }
  if (auto s = params->get("sort"); s && !s->empty()) {
    auto sort = expr::parse_sort(*s, c, app.concept_, auth.admin());
    if (!sort) return app.fail(req.request_id, auth, in_param(std::move(sort).error(), "sort"), respond, route);
    q.sort = std::move(*sort);
  }
  if (auto l = params->get("limit")) {
    int limit = 0;
    auto [ptr, ec] = std::from_chars(l->data(), l->data() + l->size(), limit);
    if (ec != std::errc() || ptr != l->data() + l->size() || limit < 1 || limit > kMaxLimit)
      return app.fail(req.request_id, auth, bad_param("limit", "limit must be an integer from 1 to 500."), respond, route);
    q.limit = limit;
  }
  if (auto cur = params->get("cursor")) q.cursor = std::string(*cur);
  Projection projection;
  if (auto f = params->get("fields"); f && !f->empty()) {
    auto fields = expr::parse_fields(*f, c, auth.admin());
    if (!fields) return app.fail(req.request_id, auth, in_param(std::move(fields).error(), "fields"), respond, route);
    projection.fields = std::move(*fields);
  }
  if (auto e = params->get("expand"); e && !e->empty()) {
    auto ex = parse_expand(*e, c, auth.admin());
    if (!ex) return app.fail(req.request_id, auth, ex.error(), respond, route);
    q.expand = std::move(*ex);
  }
  if (auto cnt = params->get("count")) {
    if (*cnt != "true" && *cnt != "false")
      return app.fail(req.request_id, auth, bad_param("count", "count must be true or false."), respond, route);
    q.count = *cnt == "true";
  }
  http::Response resp;
  resp.content_type = "application/json";
  resp.route = route;
  if (auth.id) resp.user_id = *auth.id;
  resp.set_header("Cache-Control", "private, no-cache");
  // Repeated identical queries are answered from the list cache until any write commits (see list_cache.h);
  // anything whose result moves with time alone (@now) is always computed.
  // Only where this process is the only writer (storage.h, caches_allowed): on PostgreSQL every list is computed.
  bool cacheable = app.storage_.caches_allowed() && route == kRecordsRoute && !extra &&
                   !(q.filter && expr::references_now(*q.filter)) &&
                   !(!auth.admin() && c.rules.list && expr::references_now(*c.rules.list->bound));
  // Relation values (masked when their target is hidden from the caller) and expanded records follow the targets'
  // view rules: one that moves with time makes the page uncacheable too.
  for (const auto& f : c.fields) {
    if (f.type != model::FieldType::kRelation) continue;
    const model::Collection* target = app.concept_.find_collection(f.to);
    if (target && target->rules.view && expr::references_now(*target->rules.view->bound)) cacheable = false;
  }
  std::string cache_key;
  std::uint64_t epoch = 0;
  if (cacheable) {
    cache_key = ListCache::key(c.name, req.query, auth);
    epoch = app.list_cache_.epoch();  // before the read: see list_cache.h
    if (auto hit = app.list_cache_.find(cache_key, epoch)) {
      resp.body = **hit;
      return respond(std::move(resp));
    }
  }
  // The answer, on the request's loop. The request outlives it (it holds the Responder), so it may be borrowed.
  App* self = &app;
  auto answer = [self, &req, &c, auth, route, resp = std::move(resp), projection = std::move(projection), extra,
                 cacheable, cache_key = std::move(cache_key), epoch, respond](Result<storage::ListPage> page) mutable {
    if (!page) return self->fail(req.request_id, auth, page.error(), respond, route);
    JsonWriter w(resp.body);
    w.begin_object().key("items").begin_array();
    for (const auto& r : page->items) write_record(w, r, c, self->concept_, projection, extra);
    w.end_array().key("next_cursor");
    if (page->next_cursor) w.string(*page->next_cursor); else w.null();
    if (page->total) w.key("total").integer(*page->total);
    w.end_object();
    if (cacheable) self->list_cache_.insert(std::move(cache_key), epoch, std::make_shared<const std::string>(resp.body));
    respond(std::move(resp));
  };
  if (!on_loop) return answer(app.storage_.list(q, auth));
  std::function<void(Result<storage::ListPage>)> done = App::on_loop(req, std::move(answer));
  if (app.storage_.list_async(q, auth, done)) return;
  app.off_loop(*on_loop, req, auth, std::move(respond), &App::list_records_blocking);
}

void App::Records::get(http::Request& req, const RouteMatch& m, const model::Collection& c, const Principal& auth,
                       http::Responder respond, bool may_block) {
  auto params = QueryParams::parse(req.query, m.method->params);
  if (!params) return app.fail(req.request_id, auth, params.error(), respond, kRecordRoute);
  Projection projection;
  if (auto f = params->get("fields"); f && !f->empty()) {
    auto fields = expr::parse_fields(*f, c, auth.admin());
    if (!fields) return app.fail(req.request_id, auth, in_param(std::move(fields).error(), "fields"), respond, kRecordRoute);
    projection.fields = std::move(*fields);
  }
  std::vector<std::string> expand;
  if (auto e = params->get("expand"); e && !e->empty()) {
    auto ex = parse_expand(*e, c, auth.admin());
    if (!ex) return app.fail(req.request_id, auth, ex.error(), respond, kRecordRoute);
    expand = std::move(*ex);
  }
  const auto rid = record_id(m.param("id"));
  if (!rid) return app.fail(req.request_id, auth, no_such_record(), respond, kRecordRoute);
  // The answer, on the request's loop. The request outlives it (it holds the Responder), so it may be borrowed.
  App* self = &app;
  auto answer = [self, &req, &c, auth, projection = std::move(projection), respond](Result<storage::Record> rec) mutable {
    if (!rec) return self->fail(req.request_id, auth, rec.error(), respond, kRecordRoute);
    const std::string etag = record_etag(*rec);
    if (auto inm = req.header("If-None-Match"); !inm.empty() && if_none_match(inm, etag)) {
      http::Response r;
      r.status = 304;
      r.route = kRecordRoute;
      if (auth.id) r.user_id = *auth.id;
      r.set_header("ETag", etag);
      r.set_header("Cache-Control", "private, no-cache");
      return respond(std::move(r));
    }
    respond(record_response(200, *rec, c, self->concept_, projection, auth));
  };
  if (may_block) return answer(app.storage_.get(c, *rid, auth, expand));
  std::function<void(Result<storage::Record>)> done = App::on_loop(req, std::move(answer));
  if (app.storage_.get_async(c, *rid, auth, expand, done)) return;
  app.off_loop(m, req, auth, std::move(respond), &App::get_record_blocking);
}

void App::Records::create(http::Request& req, const model::Collection& c, const Principal& auth, http::Responder respond) {
  if (Status st = no_query(req.query); !st) return app.fail(req.request_id, auth, st.error(), respond, kListRoute);
  if (c.auth) {  // a user needs credentials with the record: sign-up makes both in one transaction
    Problem p = Problem::make(ProblemCode::kMethodNotAllowed,
                              "Users are created by POST /api/v1/auth/signup (or `slipway user create`), not here.");
    http::Response r = problem_response(p, req.request_id);
    r.route = kListRoute;
    r.user_id = auth.id.value_or("");
    r.set_header("Allow", "GET, HEAD, OPTIONS");
    return respond(std::move(r));
  }
  if (!is_json_content_type(req.header("Content-Type")))
    return app.fail(req.request_id, auth, Problem::make(ProblemCode::kUnsupportedMediaType, "The body must be application/json."), respond, kListRoute);
  std::string key(req.header("Idempotency-Key"));
  if (!key.empty()) {
    bool ok = key.size() <= kMaxIdempotencyKey;
    for (unsigned char ch : key) ok &= ch > 0x20 && ch < 0x7f;
    if (!ok)
      return app.fail(req.request_id, auth, Problem::make(ProblemCode::kBadRequest, "Idempotency-Key must be 1-255 visible ASCII characters."),
                      respond, kListRoute);
    // Keys are scoped to who sends them (rule_key). Anonymous callers have no identity to scope by: sharing one
    // scope would let any of them replay another's write, so the key is refused rather than silently ignored.
    if (auth.anonymous())
      return app.fail(req.request_id, auth, Problem::make(ProblemCode::kBadRequest, "Idempotency-Key needs an authenticated caller: anonymous requests share no scope to keep keys apart."),
                      respond, kListRoute);
  }
  auto values = parse_create_body(req.body, c);
  if (!values) return app.fail(req.request_id, auth, values.error(), respond, kListRoute);
  storage::CreateCommand cmd;
  cmd.collection = &c;
  cmd.values = std::move(*values);
  if (!key.empty()) {
    cmd.idempotency_key = std::move(key);
    cmd.idempotency_fingerprint = sha256_hex(req.body);
  }
  if (auth.admin() || c.audit) {  // admin writes and `audit: true` collections, in the write's own transaction
    cmd.audit.push_back(App::audit_entry(req.request_id, req.remote_addr, auth, "record.create"));
    cmd.audit.back().collection = c.name;
  }
  App* self = &app;
  std::string request_id = req.request_id;
  app.storage_.create(std::move(cmd), auth,
                      App::on_loop(req, [self, &c, auth, request_id = std::move(request_id), respond = std::move(respond)](
                          Result<storage::CreateResult> result) mutable {
                        if (!result) {
                          return self->fail(request_id, auth, result.error(), respond, kListRoute);
                        }
                        http::Response resp = record_response(201, result->record, c, self->concept_, {}, auth);
                        resp.route = kListRoute;
                        resp.set_header("Location", "/api/v1/" + c.name + "/" + result->record.id);
                        if (result->replayed) resp.set_header("Idempotent-Replayed", "true");
                        respond(std::move(resp));
                      }));
}

void App::Records::patch(http::Request& req, const model::Collection& c, std::string_view id, const Principal& auth,
                         http::Responder respond) {
  if (Status st = no_query(req.query); !st) return app.fail(req.request_id, auth, st.error(), respond, kRecordRoute);
  if (!is_json_content_type(req.header("Content-Type")))
    return app.fail(req.request_id, auth, Problem::make(ProblemCode::kUnsupportedMediaType, "The body must be application/json."), respond, kRecordRoute);
  storage::UpdateCommand cmd;
  cmd.if_match = if_match_of(req);
  auto changes = parse_patch_body(req.body, c);
  if (!changes) return app.fail(req.request_id, auth, changes.error(), respond, kRecordRoute);
  if (c.auth) {  // the address is the login: it changes through its own flow (identity II), never by a PATCH
    const int email = c.field_index(model::kUsersEmailField);
    for (const auto& [idx, v] : *changes) {
      if (idx != email) continue;
      Problem p = Problem::make(ProblemCode::kUnprocessable, "The e-mail address cannot be changed here.");
      p.errors.push_back({std::string(model::kUsersEmailField), "read_only", "is the login and cannot be changed here"});
      return app.fail(req.request_id, auth, p, respond, kRecordRoute);
    }
  }
  const auto rid = record_id(id);
  if (!rid) return app.fail(req.request_id, auth, no_such_record(), respond, kRecordRoute);
  cmd.collection = &c;
  cmd.id = *rid;
  cmd.changes = std::move(*changes);
  cmd.validate = [&c](const storage::Record& merged) { return validate_required(merged.values, c); };
  if (auth.admin() || c.audit) {
    cmd.audit.push_back(App::audit_entry(req.request_id, req.remote_addr, auth, "record.update"));
    cmd.audit.back().collection = c.name;
    cmd.audit.back().record_id = cmd.id;
  }
  App* self = &app;
  std::string request_id = req.request_id;
  app.storage_.update(std::move(cmd), auth,
                      App::on_loop(req, [self, &c, auth, request_id = std::move(request_id), respond = std::move(respond)](
                          Result<storage::Record> result) mutable {
                        if (!result) {
                          return self->fail(request_id, auth, result.error(), respond, kRecordRoute);
                        }
                        respond(record_response(200, *result, c, self->concept_, {}, auth));
                      }));
}

void App::Records::remove(http::Request& req, const model::Collection& c, std::string_view id, const Principal& auth,
                          http::Responder respond) {
  if (Status st = no_query(req.query); !st) return app.fail(req.request_id, auth, st.error(), respond, kRecordRoute);
  storage::RemoveCommand cmd;
  cmd.if_match = if_match_of(req);
  const auto rid = record_id(id);
  if (!rid) return app.fail(req.request_id, auth, no_such_record(), respond, kRecordRoute);
  cmd.collection = &c;
  cmd.id = *rid;
  if (auth.admin() || c.audit) {
    cmd.audit.push_back(App::audit_entry(req.request_id, req.remote_addr, auth, "record.delete"));
    cmd.audit.back().collection = c.name;
    cmd.audit.back().record_id = cmd.id;
  }
  App* self = &app;
  std::string request_id = req.request_id;
  const std::string removed_user = c.auth ? cmd.id : std::string();
  app.storage_.remove(std::move(cmd), auth,
                      App::on_loop(req, [self, auth, removed_user, request_id = std::move(request_id), respond = std::move(respond)](
                          Status st) mutable {
                        if (!st) {
                          return self->fail(request_id, auth, st.error(), respond, kRecordRoute);
                        }
                        if (!removed_user.empty()) self->revoke_user_tokens(removed_user);
                        http::Response r;
                        r.status = 204;
                        r.route = kRecordRoute;
                        if (auth.id) r.user_id = *auth.id;
                        respond(std::move(r));
                      }));
}

}  // namespace slipway::api
