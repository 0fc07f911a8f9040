#include "api/admin_routes.h"

#include <boost/json.hpp>

#include "api/problem_json.h"
#include "api/record_json.h"
#include "api/records.h"
#include "auth/opaque_token.h"
#include "core/ascii.h"
#include "core/json_writer.h"
#include "core/uuid7.h"

namespace slipway::api {
namespace {

namespace json = boost::json;

constexpr std::string_view kUsersRoute = "/api/v1/admin/users";
constexpr std::string_view kUserRoute = "/api/v1/admin/users/{id}";
constexpr std::string_view kKeysRoute = "/api/v1/admin/api-keys";
constexpr std::string_view kKeyRoute = "/api/v1/admin/api-keys/{id}";
constexpr std::size_t kMaxKeyName = 100;

Problem unprocessable(std::string field, std::string code, std::string message) {
  Problem p = Problem::make(ProblemCode::kUnprocessable, "The request body is not valid.");
  p.errors.push_back({std::move(field), std::move(code), std::move(message)});
  return p;
}

Result<json::object> body_object(std::string_view body) {
  json::parse_options opts;
  opts.max_depth = 8;
  json::error_code ec;
  json::value v = json::parse(body, ec, {}, opts);
  if (ec || !v.is_object())
    return Problem::make(ProblemCode::kBadRequest, "The request body must be a JSON object.");
  return std::move(v.as_object());
}

// A list of declared role names, sorted and unique; a 422 naming the first unknown one.
Result<std::vector<std::string>> parse_roles(const json::value& v, const model::AuthSettings* auth,
                                             std::string_view field) {
  if (!v.is_array()) return unprocessable(std::string(field), "type", "must be an array of role names");
  std::vector<std::string> roles;
  for (const auto& r : v.get_array()) {
    if (!r.is_string()) return unprocessable(std::string(field), "type", "must be an array of role names");
    std::string name(r.get_string());
    if (!auth || !auth->has_role(name))
      return unprocessable(std::string(field), "enum",
                           "'" + name.substr(0, 64) + "' is not a role of the concept file's auth.roles");
    roles.push_back(std::move(name));
  }
  std::sort(roles.begin(), roles.end());
  roles.erase(std::unique(roles.begin(), roles.end()), roles.end());
  return roles;
}

void write_roles(JsonWriter& w, const std::vector<std::string>& roles) {
  w.begin_array();
  for (const auto& r : roles) w.string(r);
  w.end_array();
}

void write_key(JsonWriter& w, const storage::ApiKey& k) {
  w.key("id").string(k.id);
  w.key("name").string(k.name);
  w.key("prefix").string(k.prefix);
  w.key("roles");
  write_roles(w, k.roles);
  w.key("created").string(format_rfc3339_ms(k.created_ms));
  w.key("created_by").string(k.created_by);
  w.key("expires");
  if (k.expires_ms) w.string(format_rfc3339_ms(*k.expires_ms)); else w.null();
  w.key("revoked");
  if (k.revoked_ms) w.string(format_rfc3339_ms(*k.revoked_ms)); else w.null();
  w.key("last_used");
  if (k.last_used_ms) w.string(format_rfc3339_ms(*k.last_used_ms)); else w.null();
}

http::Response json_answer(int status, std::string body, std::string_view route, const Principal& caller) {
  http::Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  r.route = route;
  r.user_id = caller.id.value_or("");
  r.set_header("Cache-Control", "no-store");
  return r;
}

model::Collection audit_log_collection() {
  model::Collection c;
  c.name = "_slipway_audit_log";
  auto field = [&c](std::string name, model::FieldType type) {
    model::Field f;
    f.name = std::move(name);
    f.type = type;
    c.fields.push_back(std::move(f));
  };
  field("seq", model::FieldType::kInt);
  for (const char* name : {"action", "actor_kind", "actor_id", "reason", "collection", "record_id", "address",
                           "request_id"})
    field(name, model::FieldType::kText);
  field("detail", model::FieldType::kJson);
  field("prev_hash", model::FieldType::kText);
  field("hash", model::FieldType::kText);
  return c;
}

}  // namespace

App::Admin::Admin(App& a) : app(a), ids(clock), audit_log(audit_log_collection()) {}

void App::Admin::list_audit(http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond) {
  app.records_->list(req, audit_log, m.method->params, caller, std::move(respond), {}, "/api/v1/admin/audit");
}

void App::Admin::list_users(http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond) {
  const model::Collection* users = app.concept_.users();
  if (!users)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kNotFound, "Identity is not enabled: the concept file has no `auth:` section."),
                    respond, kUsersRoute);
  // The records list of the users collection (filter, sort, cursor as everywhere), each user with its roles and
  // disabled flag from the account.
  App* self = &app;
  RecordExtra extra = [self](JsonWriter& w, const storage::Record& r) {
    auto account = self->storage_.find_account(r.id);
    w.key("roles");
    write_roles(w, account && *account ? (*account)->roles : std::vector<std::string>{});
    w.key("disabled").boolean(account && *account && (*account)->disabled);
  };
  app.records_->list(req, *users, m.method->params, caller, std::move(respond), extra, kUsersRoute);
}

void App::Admin::patch_user(http::Request& req, std::string_view id, const Principal& caller, http::Responder respond) {
  auto obj = body_object(req.body);
  if (!obj) return app.fail(req.request_id, caller, obj.error(), respond, kUserRoute);
  if (!is_uuid(id))
    return app.fail(req.request_id, caller, Problem::make(ProblemCode::kNotFound, "No such user."), respond, kUserRoute);
  storage::AccountUpdate update;
  update.user_id = std::string(id);
  ascii_to_lower(update.user_id);
  update.now_ms = clock.now_ms();
  for (const auto& kv : *obj) {
    if (kv.key() == "roles") {
      auto roles = parse_roles(kv.value(), app.concept_.auth ? &*app.concept_.auth : nullptr, "roles");
      if (!roles) return app.fail(req.request_id, caller, roles.error(), respond, kUserRoute);
      update.roles = std::move(*roles);
    } else if (kv.key() == "disabled") {
      if (!kv.value().is_bool())
        return app.fail(req.request_id, caller, unprocessable("disabled", "type", "must be true or false"), respond, kUserRoute);
      update.disabled = kv.value().get_bool();
    } else {
      return app.fail(req.request_id, caller,
                      unprocessable(std::string(kv.key().substr(0, 64)), "unknown", "only roles and disabled may change here"),
                      respond, kUserRoute);
    }
  }
  std::vector<storage::AuditEntry> audit;
  if (update.roles) {
    storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "user.roles.set");
    e.collection = "users";
    e.record_id = update.user_id;
    e.detail.clear();
    JsonWriter w(e.detail);
    w.begin_object().key("roles");
    write_roles(w, *update.roles);
    w.end_object();
    audit.push_back(std::move(e));
  }
  if (update.disabled) {
    storage::AuditEntry e =
        App::audit_entry(req.request_id, req.remote_addr, caller, *update.disabled ? "user.disable" : "user.enable");
    e.collection = "users";
    e.record_id = update.user_id;
    audit.push_back(std::move(e));
  }
  const std::string uid = update.user_id;
  const bool revoke = update.roles.has_value() || (update.disabled && *update.disabled);
  App* self = &app;
  app.storage_.update_account(
      std::move(update), std::move(audit),
      App::on_loop(req, [self, caller, uid, revoke, request_id = req.request_id, respond](Result<storage::Account> account) mutable {
        if (!account) return self->fail(request_id, caller, account.error(), respond, kUserRoute);
        // Tokens issued before now carry the old roles (or belong to a disabled user): refused from now on, so the
        // client refreshes and gets the current roles — or, disabled, nothing.
        if (revoke) self->revoke_user_tokens(uid);
        std::string body;
        JsonWriter w(body);
        w.begin_object();
        w.key("id").string(account->user_id);
        w.key("email").string(account->email);
        w.key("roles");
        write_roles(w, account->roles);
        w.key("disabled").boolean(account->disabled);
        w.end_object();
        respond(json_answer(200, std::move(body), kUserRoute, caller));
      }));
}

void App::Admin::delete_user(http::Request& req, std::string_view id, const Principal& caller, http::Responder respond) {
  const model::Collection* users = app.concept_.users();
  if (!users)
    return app.fail(req.request_id, caller, Problem::make(ProblemCode::kNotFound, "No such user."), respond, kUserRoute);
  // The records route's delete: the user's record, account and sessions in one transaction, audited as an admin
  // write, tokens refused at once.
  app.records_->remove(req, *users, id, caller, std::move(respond));
}

void App::Admin::create_api_key(http::Request& req, const Principal& caller, http::Responder respond) {
  auto obj = body_object(req.body);
  if (!obj) return app.fail(req.request_id, caller, obj.error(), respond, kKeysRoute);
  storage::ApiKey key;
  key.id = ids.generate();
  key.created_ms = clock.now_ms();
  key.created_by = caller.id.value_or("");
  for (const auto& kv : *obj) {
    if (kv.key() == "name") {
      if (!kv.value().is_string() || kv.value().get_string().empty() || kv.value().get_string().size() > kMaxKeyName)
        return app.fail(req.request_id, caller, unprocessable("name", "type", "must be a string of 1 to 100 bytes"),
                        respond, kKeysRoute);
      key.name = std::string(kv.value().get_string());
    } else if (kv.key() == "roles") {
      auto roles = parse_roles(kv.value(), app.concept_.auth ? &*app.concept_.auth : nullptr, "roles");
      if (!roles) return app.fail(req.request_id, caller, roles.error(), respond, kKeysRoute);
      key.roles = std::move(*roles);
    } else if (kv.key() == "expires") {
      if (kv.value().is_null()) continue;
      std::int64_t ms = 0;
      if (!kv.value().is_string() || !parse_rfc3339(kv.value().get_string(), ms) || ms <= key.created_ms)
        return app.fail(req.request_id, caller,
                        unprocessable("expires", "datetime", "must be an RFC 3339 time in the future"), respond,
                        kKeysRoute);
      key.expires_ms = ms;
    } else {
      return app.fail(req.request_id, caller,
                      unprocessable(std::string(kv.key().substr(0, 64)), "unknown", "is not accepted here"), respond,
                      kKeysRoute);
    }
  }
  if (key.name.empty())
    return app.fail(req.request_id, caller, unprocessable("name", "required", "is required"), respond, kKeysRoute);
  const auth::ApiKeySecret secret = auth::generate_api_key();
  key.prefix = secret.prefix;
  key.secret_hash = auth::token_digest(secret.full);
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "api_key.create");
  e.detail.clear();
  JsonWriter(e.detail).begin_object().key("api_key").string(key.id).key("prefix").string(key.prefix).end_object();
  App* self = &app;
  app.storage_.create_api_key(
      key, {std::move(e)},
      App::on_loop(req, [self, key, full = secret.full, caller, request_id = req.request_id, respond](Status st) mutable {
        if (!st) return self->fail(request_id, caller, st.error(), respond, kKeysRoute);
        self->api_keys_.add(key);
        std::string body;
        JsonWriter w(body);
        w.begin_object();
        write_key(w, key);
        w.key("key").string(full);  // the only time it is shown
        w.end_object();
        http::Response r = json_answer(201, std::move(body), kKeysRoute, caller);
        r.set_header("Location", "/api/v1/admin/api-keys/" + key.id);
        respond(std::move(r));
      }));
}

void App::Admin::list_api_keys(http::Request& req, const Principal& caller, http::Responder respond) {
  auto keys = app.storage_.list_api_keys();
  if (!keys) return app.fail(req.request_id, caller, keys.error(), respond, kKeysRoute);
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("items").begin_array();
  for (const auto& k : *keys) {
    w.begin_object();
    write_key(w, k);
    w.end_object();
  }
  w.end_array().end_object();
  respond(json_answer(200, std::move(body), kKeysRoute, caller));
}

void App::Admin::revoke_api_key(http::Request& req, std::string_view id, const Principal& caller,
                                http::Responder respond) {
  const std::string key_id(id.substr(0, 64));
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "api_key.revoke");
  e.detail.clear();
  JsonWriter(e.detail).begin_object().key("api_key").string(key_id).end_object();
  const std::int64_t now = clock.now_ms();
  App* self = &app;
  app.storage_.revoke_api_key(key_id, now, {std::move(e)},
                              App::on_loop(req, [self, key_id, now, caller, request_id = req.request_id, respond](Status st) mutable {
                                if (!st) return self->fail(request_id, caller, st.error(), respond, kKeyRoute);
                                self->api_keys_.revoke(key_id, now);
                                http::Response r;
                                r.status = 204;
                                r.route = kKeyRoute;
                                r.user_id = caller.id.value_or("");
                                respond(std::move(r));
                              }));
}

}  // namespace slipway::api
