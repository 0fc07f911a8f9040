#include "api/app.h"

#include <sodium.h>

#include "api/admin_routes.h"
#include "api/auth_routes.h"
#include "api/problem_json.h"
#include "api/records.h"
#include "api/routes.h"
#include "core/ascii.h"
#include "core/expr/bound_expr.h"
#include "core/ip_address.h"
#include "core/json_writer.h"
#include "core/sha256.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "runtime/worker_pool.h"

namespace slipway::api {
namespace {

// Who a response names before the caller is known (no route, a rejected token): nobody.
const Principal kAnonymous{};
// Every method some route serves: the Allow of `OPTIONS *` and of a 501.
constexpr std::string_view kServerMethods = "GET, HEAD, POST, PATCH, DELETE, OPTIONS";


http::Response text(int status, std::string content_type, std::string body, std::string_view route) {
  http::Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.route = route;
  r.set_header("Cache-Control", "no-store");
  return r;
}

}  // namespace

namespace {
std::int64_t access_ttl_ms(const model::Concept& c) { return c.auth ? c.auth->access_ttl_s * 1000 + 60'000 : 60'000; }
}  // namespace

App::App(const model::Concept& concept_file, storage::Storage& storage, obs::Logger& logger, obs::Metrics& metrics,
         AppOptions options)
    : concept_(concept_file), storage_(storage), logger_(logger), metrics_(metrics),
      revocations_(access_ttl_ms(concept_file)),
      authenticator_(auth::AuthenticatorOptions{options.admin_token, concept_file.auth ? options.keys : nullptr,
                                                concept_file.auth ? concept_file.auth->issuer : "",
                                                concept_file.auth ? concept_file.auth->audience : ""},
                     revocations_, clock_),
      cors_(concept_file.cors), client_address_(concept_file.server), security_headers_(concept_file.security_headers), rate_limits_(concept_file.rate_limits, metrics), records_(std::make_unique<Records>(Records{*this})),
      routes_(route_rows(concept_file.auth.has_value(),
                         concept_file.auth.has_value() && !concept_file.auth->email_app_url.empty(),
                         concept_file.auth.has_value() && !concept_file.auth->oidc.empty())) {
  denied_anonymous_ = metrics_.counter("slipway_access_denied_total",
                                       "403 answers; a known caller's are in the audit log, anonymous ones only here",
                                       {{"caller", "anonymous"}});
  denied_known_ = metrics_.counter("slipway_access_denied_total",
                                   "403 answers; a known caller's are in the audit log, anonymous ones only here",
                                   {{"caller", "known"}});
  admin_ = std::make_unique<Admin>(*this);
  storage_pool_ = options.storage_pool;
  storage_wait_ = std::chrono::milliseconds(options.storage_wait_ms);
  storage_.changes().subscribe([this](const storage::Change& change) { on_change(change); });
  if (concept_file.auth) {
    if (!options.keys || !options.hash_pool)
      throw std::invalid_argument("identity needs access-token keys and a hashing pool");
    auth_ = std::make_unique<Auth>(*this, *concept_file.auth, options.keys, options.data_keys, *options.hash_pool,
                                   options.password_params);
    auth_->mail_queued = std::move(options.mail_queued);
    if (!concept_file.auth->oidc.empty() && options.outbound && options.outbound_pool) {
      auth_->oidc = std::make_unique<OidcProviders>(*concept_file.auth, std::move(options.oidc_secrets),
                                                    *options.outbound, auth_->clock);
      auth_->outbound_pool = options.outbound_pool;
    }
  }
  if (Status st = load_identity_state(); !st) throw std::runtime_error(st.error().cause);
}

Status App::load_identity_state() {
  auto keys = storage_.list_api_keys();
  if (!keys) return Problem::make(ProblemCode::kUnavailable, "", "cannot read API keys: " + keys.error().cause);
  api_keys_.load(std::move(*keys));
  if (!concept_.auth) return {};
  // Sessions revoked while an access token of theirs may still be alive stay refused after a restart.
  auto revoked = storage_.sessions_revoked_since(clock_.now_ms() - access_ttl_ms(concept_));
  if (!revoked) return Problem::make(ProblemCode::kUnavailable, "", "cannot read revoked sessions: " + revoked.error().cause);
  for (const auto& sid : *revoked) revocations_.revoke_session(sid, clock_.now_ms());
  auto users = storage_.users_revoked_since(clock_.now_ms() - access_ttl_ms(concept_));
  if (!users) return Problem::make(ProblemCode::kUnavailable, "", "cannot read revoked users: " + users.error().cause);
  for (const auto& [uid, at_ms] : *users) revocations_.revoke_user(uid, at_ms);
  return {};
}

void App::on_change(const storage::Change& change) {
  list_cache_.on_change();
  if (!change.remote) return;  // this instance's own identity changes were applied where they were made
  using Kind = storage::Change::Kind;
  switch (change.kind) {
    case Kind::kSessionRevoked: revocations_.revoke_session(change.id, change.at_ms); break;
    case Kind::kUserRevoked: revocations_.revoke_user(change.id, change.at_ms); break;
    case Kind::kApiKeys:
    case Kind::kReset:  // on the listener's thread: reading storage is fine here (change_feed.h)
      if (Status st = load_identity_state(); !st)
        logger_.log(obs::Level::kError, "cannot reload identity state", {{"cause", st.error().cause}});
      break;
    case Kind::kRecord: break;
  }
}

void App::revoke_user_tokens(const std::string& user_id) { revocations_.revoke_user(user_id, clock_.now_ms()); }

void App::housekeeping() {
  storage_.touch_api_keys(api_keys_.drain(), {});
  if (concept_.auth) {
    const std::int64_t now = clock_.now_ms();
    storage_.purge_identity(now - 10'000, now - access_ttl_ms(concept_));  // 10 s: auth_routes.cpp kReuseWindowMs
  }
}

App::~App() = default;

void App::finish_response(const http::Request& request, http::Response& response) const {
  cors_.decorate(request, response);
  security_headers_.decorate(response);
}

Result<Principal> App::authenticate(const http::Request& request) const {
  // Only a request without the header is anonymous. An empty one is a client that meant to authenticate and
  // failed (401); two are ambiguous — a proxy may check one while we would read the other — so 400.
  const std::size_t count = request.header_count("Authorization");
  if (count == 0) return Principal{};
  if (count > 1) return Problem::make(ProblemCode::kBadRequest, "Give the Authorization header once.");
  const std::string_view header = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() || header.size() > 4096 || !ascii_istarts_with(header, kBearer))
    return Problem::make(ProblemCode::kUnauthorized, "The bearer token is missing, malformed or not valid.");
  const std::string_view token = header.substr(kBearer.size());
  if (token.starts_with("slw_")) {  // an API key (auth/opaque_token.h): resolved in memory, no database read
    const std::int64_t now = clock_.now_ms();
    auto key = api_keys_.resolve(token, now);
    if (!key) return Problem::make(ProblemCode::kUnauthorized, "The bearer token is missing, malformed or not valid.");
    if (key->first_use) {  // audited once, with its last-use time written at the same moment
      storage::AuditEntry e = audit_entry(request.request_id, request.remote_addr, key->principal, "api_key.first_use");
      storage_.touch_api_keys({{*key->principal.id, now}}, {std::move(e)});
    }
    return std::move(key->principal);
  }
  return authenticator_.resolve(token);
}

storage::AuditEntry App::audit_entry(std::string_view request_id, std::string_view address, const Principal& caller,
                                     std::string action) {
  storage::AuditEntry e;
  e.action = std::move(action);
  e.actor_kind = kind_name(caller.kind);
  e.actor_id = caller.id.value_or("");
  e.address = address;
  e.request_id = request_id;
  return e;
}

http::Response App::failure(std::string_view request_id, const Principal& caller, const Problem& problem,
                            std::string_view route) const {
  if (problem.code == ProblemCode::kInternal || problem.code == ProblemCode::kUnavailable) {
    logger_.log(obs::Level::kError, "request failed",
                {{"request_id", request_id}, {"route", route}, {"cause", problem.cause}});
  }
  if (problem.code == ProblemCode::kForbidden && caller.anonymous()) {
    // Anonymous denials are counted, not chained: anyone could otherwise grow the audit log (which cannot be
    // trimmed without breaking the chain) by one durable row per request. The access log has each of them.
    denied_anonymous_.inc();
  } else if (problem.code == ProblemCode::kForbidden) {
    // Every denial of a known caller is audited (docs/security.md). Not awaited: the answer does not depend on it,
    // and a failed append is logged. The client's address is on the access-log line of the same request id.
    denied_known_.inc();
    storage::AuditEntry e = audit_entry(request_id, "", caller, "access.denied");
    e.reason = std::string(route);
    e.detail.clear();
    JsonWriter(e.detail).begin_object().key("detail").string(problem.detail).end_object();
    storage_.append_audit({std::move(e)}, [this, id = std::string(request_id)](Status st) {
      if (!st) logger_.log(obs::Level::kError, "audit append failed", {{"request_id", id}, {"cause", st.error().cause}});
    });
  }
  http::Response r = problem_response(problem, request_id);
  r.route = route;
  if (caller.id) r.user_id = *caller.id;
  // Every 503 is temporary (a full queue or pool, the database restarting): tell the client when to come back.
  if (problem.code == ProblemCode::kUnavailable) r.set_header("Retry-After", "1");
  return r;
}

void App::fail(std::string_view request_id, const Principal& caller, const Problem& problem,
               http::Responder& respond, std::string_view route) const {
  respond(failure(request_id, caller, problem, route));
}

// The rows of the one route table. Literal paths before patterns that would also match them.
std::vector<RouteSpec> App::route_rows(bool identity, bool email_flows, bool oidc) {
  static constexpr std::string_view kListParams[] = {"filter", "sort", "limit", "cursor", "fields", "expand", "count"};
  static constexpr std::string_view kGetParams[] = {"fields", "expand"};
  using M = http::Method;
  using R = http::Responder;
  using Q = http::Request;
  using P = Principal;
  std::vector<RouteSpec> rows = {
      {"/livez", {{M::kGet, &App::livez, Access::kPublic, "health", {}}}},
      {"/readyz", {{M::kGet, &App::readyz, Access::kPublic, "health", {}}}},
      {"/metrics", {{M::kGet, &App::metrics, Access::kPublic, "health", {}}}},
  };
  if (identity) {
    // Login, refresh and the key set read no credentials (a stale Authorization header must not break a login).
    const std::vector<RouteSpec> auth_rows = {
        {"/api/v1/auth/signup",
         {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->sign_up(q, c, std::move(r)); },
           Access::kAnyone, "auth", {}}}},
        {"/api/v1/auth/login",
         {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->login(q, std::move(r)); },
           Access::kPublic, "login", {}}}},
        {"/api/v1/auth/refresh",
         {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->refresh(q, std::move(r)); },
           Access::kPublic, "auth", {}}}},
        {"/api/v1/auth/logout",
         {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->logout(q, c, std::move(r)); },
           Access::kUser, "auth", {}, false, /*before_mfa=*/true}}},
        {"/api/v1/auth/me",
         {{M::kGet, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->me(q, c, std::move(r)); },
           Access::kUser, "read", {}, false, /*before_mfa=*/true}}},
        {"/api/v1/auth/mfa/totp",
         {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->totp_enrol(q, c, std::move(r)); },
           Access::kUser, "auth", {}, false, /*before_mfa=*/true},
          {M::kDelete,
           +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->totp_remove(q, c, std::move(r)); },
           Access::kUser, "login", {}}}},
        {"/api/v1/auth/mfa/totp/confirm",
         {{M::kPost,
           +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->totp_confirm(q, c, std::move(r)); },
           Access::kUser, "auth", {}, false, /*before_mfa=*/true}}},
        {"/api/v1/auth/mfa/verify",
         {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->mfa_verify(q, std::move(r)); },
           Access::kPublic, "login", {}}}},
        {"/api/v1/auth/password",
         {{M::kPost,
           +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->change_password(q, c, std::move(r)); },
           Access::kUser, "login", {}}}},
        {"/api/v1/auth/sessions",
         {{M::kGet, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->list_sessions(q, c, std::move(r)); },
           Access::kUser, "read", {}},
          {M::kDelete,
           +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->revoke_other_sessions(q, c, std::move(r)); },
           Access::kUser, "auth", {}}}},
        {"/api/v1/auth/sessions/{id}",
         {{M::kDelete,
           +[](App& a, Q& q, const RouteMatch& m, const P& c, R r) {
             a.auth_->revoke_session(q, m.param("id"), c, std::move(r));
           },
           Access::kUser, "auth", {}}}},
        {"/api/v1/auth/jwks.json",
         {{M::kGet, +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->jwks(q, std::move(r)); },
           Access::kPublic, "health", {}}}},
    };
    rows.insert(rows.end(), auth_rows.begin(), auth_rows.end());
    if (oidc) {
      const std::vector<RouteSpec> oidc_rows = {
          {"/api/v1/auth/oidc/{provider}",
           {{M::kGet,
             +[](App& a, Q& q, const RouteMatch& m, const P&, R r) { a.auth_->oidc_start(q, m.param("provider"), std::move(r)); },
             Access::kPublic, "login", {}}}},
          {"/api/v1/auth/oidc/{provider}/callback",
           {{M::kGet,
             +[](App& a, Q& q, const RouteMatch& m, const P&, R r) {
               a.auth_->oidc_callback(q, m.param("provider"), std::move(r));
             },
             Access::kPublic, "login", {}}}},
      };
      rows.insert(rows.end(), oidc_rows.begin(), oidc_rows.end());
    }
    if (email_flows) {
      const std::vector<RouteSpec> email_rows = {
          {"/api/v1/auth/verify-email",
           {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->verify_email(q, std::move(r)); },
             Access::kPublic, "auth", {}}}},
          {"/api/v1/auth/verify-email/resend",
           {{M::kPost,
             +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->resend_verification(q, c, std::move(r)); },
             Access::kAnyone, "auth", {}, false, /*before_mfa=*/true}}},
          {"/api/v1/auth/password/reset",
           {{M::kPost,
             +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->request_password_reset(q, std::move(r)); },
             Access::kPublic, "login", {}}}},
          {"/api/v1/auth/password/reset/confirm",
           {{M::kPost,
             +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->confirm_password_reset(q, std::move(r)); },
             Access::kPublic, "login", {}}}},
          {"/api/v1/auth/email",
           {{M::kPost,
             +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.auth_->request_email_change(q, c, std::move(r)); },
             Access::kUser, "login", {}}}},
          {"/api/v1/auth/email/confirm",
           {{M::kPost,
             +[](App& a, Q& q, const RouteMatch&, const P&, R r) { a.auth_->confirm_email_change(q, std::move(r)); },
             Access::kPublic, "auth", {}}}},
      };
      rows.insert(rows.end(), email_rows.begin(), email_rows.end());
    }
  }
  static constexpr std::string_view kUserListParams[] = {"filter", "sort", "limit", "cursor", "fields", "count"};
  const std::vector<RouteSpec> admin_rows = {
      {"/api/v1/admin/users",
       {{M::kGet, +[](App& a, Q& q, const RouteMatch& m, const P& c, R r) { a.admin_->list_users(q, m, c, std::move(r)); },
         Access::kAdmin, "admin", kUserListParams}}},
      {"/api/v1/admin/users/{id}",
       {{M::kPatch,
         +[](App& a, Q& q, const RouteMatch& m, const P& c, R r) { a.admin_->patch_user(q, m.param("id"), c, std::move(r)); },
         Access::kAdmin, "admin", {}},
        {M::kDelete,
         +[](App& a, Q& q, const RouteMatch& m, const P& c, R r) { a.admin_->delete_user(q, m.param("id"), c, std::move(r)); },
         Access::kAdmin, "admin", {}}}},
      {"/api/v1/admin/audit",
       {{M::kGet, +[](App& a, Q& q, const RouteMatch& m, const P& c, R r) { a.admin_->list_audit(q, m, c, std::move(r)); },
         Access::kAdmin, "admin", kListParams}}},
      {"/api/v1/admin/api-keys",
       {{M::kPost, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.admin_->create_api_key(q, c, std::move(r)); },
         Access::kAdmin, "admin", {}},
        {M::kGet, +[](App& a, Q& q, const RouteMatch&, const P& c, R r) { a.admin_->list_api_keys(q, c, std::move(r)); },
         Access::kAdmin, "admin", {}}}},
      {"/api/v1/admin/api-keys/{id}",
       {{M::kDelete,
         +[](App& a, Q& q, const RouteMatch& m, const P& c, R r) { a.admin_->revoke_api_key(q, m.param("id"), c, std::move(r)); },
         Access::kAdmin, "admin", {}}}},
  };
  rows.insert(rows.end(), admin_rows.begin(), admin_rows.end());
  const std::vector<RouteSpec> record_rows = {
      {kRecordsRoute,
       {{M::kGet, &App::list_records, Access::kAnyone, "read", kListParams, /*loop_safe=*/true},
        {M::kPost, &App::create_record, Access::kAnyone, "write", {}, /*loop_safe=*/true}}},
      {kRecordRoute,
       {{M::kGet, &App::get_record, Access::kAnyone, "read", kGetParams, /*loop_safe=*/true},
        {M::kPatch, &App::patch_record, Access::kAnyone, "write", {}, /*loop_safe=*/true},
        {M::kDelete, &App::delete_record, Access::kAnyone, "write", {}, /*loop_safe=*/true}}},
  };
  rows.insert(rows.end(), record_rows.begin(), record_rows.end());
  return rows;
}

namespace {

http::Admission answer(http::Response r) {
  http::Admission a;
  a.answer = std::move(r);
  return a;
}
}  // namespace

http::Admission App::admit(http::Request& request) {
  request.caller = Principal{};
  const std::string client = resolve_client(request);
  if (request.method == http::Method::kOther) {  // RFC 9110 §9.1: a method no resource here could ever support
    http::Response r = failure(request.request_id, kAnonymous,
                               Problem::make(ProblemCode::kNotImplemented, "This server does not implement that method."),
                               "unmatched");
    r.set_header("Allow", std::string(kServerMethods));
    return answer(std::move(r));
  }
  if (request.method == http::Method::kOptions && request.target == "*") {  // the server as a whole (§9.3.7)
    http::Response r;
    r.status = 204;
    r.route = "*";
    r.set_header("Allow", std::string(kServerMethods));
    return answer(std::move(r));
  }
  const RouteMatch m = routes_.match(request.method, request.path);
  if (!m.route) {  // scanners probing paths are limited like readers
    if (auto refused = limit(request, "read", kAnonymous, client, "unmatched")) return answer(std::move(*refused));
    return answer(failure(request.request_id, kAnonymous,
                          Problem::make(ProblemCode::kNotFound, "No route matches this path."), "unmatched"));
  }
  const std::string_view route = m.pattern();
  if (request.method == http::Method::kOptions) {
    // Before authentication and never rate-limited: a browser sends no credentials with a preflight, and a refused
    // preflight would surface as a baffling CORS error instead of a 429 the page could read.
    if (cors_.enabled() && Cors::is_preflight(request)) return answer(cors_.preflight(request, route));
    http::Response r;
    r.status = 204;
    r.route = route;
    r.set_header("Allow", std::string(m.allow));
    return answer(std::move(r));
  }
  if (!m.method) {
    http::Response r = problem_response(
        Problem::make(ProblemCode::kMethodNotAllowed, "This route does not accept " +
                                                          std::string(http::method_name(request.method)) + "."),
        request.request_id);
    r.route = route;
    r.set_header("Allow", std::string(m.allow));
    return answer(std::move(r));
  }
  const std::string_view rate_class = m.method->rate_class;
  if (m.method->access != Access::kPublic) {
    auto caller = authenticate(request);
    if (!caller) {  // failed credentials are charged to the address: guessing tokens is limited like anything else
      if (auto refused = limit(request, rate_class, kAnonymous, client, route)) return answer(std::move(*refused));
      return answer(failure(request.request_id, kAnonymous, caller.error(), route));
    }
    request.caller = std::move(*caller);
  }
  if (auto refused = limit(request, rate_class, request.caller, client, route)) return answer(std::move(*refused));
  if (m.method->access != Access::kPublic) {
    if (auto refused = refuse(m, request, request.caller))
      return answer(failure(request.request_id, request.caller, *refused, route));
  }
  return {body_limit(m, request.method), std::nullopt};
}

std::string App::resolve_client(http::Request& request) const {
  const auto peer = parse_ip(request.remote_addr);
  if (!peer) return request.remote_addr;  // not an IP peer (unit tests): its text is its key
  if (!client_address_.trusts_proxies()) return peer->client_key();
  const IpAddress client = client_address_.resolve(*peer, request);
  request.remote_addr = client.to_string();
  return client.client_key();
}

std::optional<http::Response> App::limit(http::Request& request, std::string_view rate_class, const Principal& caller,
                                         std::string_view client_key, std::string_view route) {
  if (!rate_limits_.enabled()) return std::nullopt;
  const RateKey key = RateLimits::key_of(caller);
  const std::string_view identity = key == RateKey::kAddress ? client_key : std::string_view(*caller.id);
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now().time_since_epoch()).count();
  RateCharge charge = rate_limits_.charge(rate_class, key, identity, now);
  if (!charge.limited) return std::nullopt;
  request.response_headers.emplace_back("RateLimit-Policy", std::string(charge.policy));
  request.response_headers.emplace_back("RateLimit", std::move(charge.state));
  if (charge.allowed) return std::nullopt;
  const std::string who = key == RateKey::kAddress ? "this address" : key == RateKey::kUser ? "this user" : "this API key";
  http::Response r = problem_response(
      Problem::make(ProblemCode::kTooManyRequests, "Too many " + std::string(rate_class) + " requests from " + who +
                                                       "; retry in " + std::to_string(charge.retry_after_s) + " s."),
      request.request_id);
  r.route = route;
  if (caller.id) r.user_id = *caller.id;
  r.set_header("Retry-After", std::to_string(charge.retry_after_s));
  return r;
}

std::optional<Problem> App::refuse(const RouteMatch& m, const http::Request& request, const Principal& caller) const {
  if (m.method->access == Access::kUser && (caller.kind != PrincipalKind::kUser || caller.session_id.empty())) {
    return caller.anonymous() ? Problem::make(ProblemCode::kUnauthorized, "This route needs a signed-in user.")
                              : Problem::make(ProblemCode::kForbidden, "Only a signed-in user may call this route.");
  }
  // `auth: mfa: required_for`: a user holding such a role, signed in without a second factor, may only enrol one.
  if (caller.kind == PrincipalKind::kUser && caller.aal < 2 && !m.method->before_mfa && concept_.auth &&
      concept_.auth->mfa_required(caller.roles)) {
    return Problem::make(ProblemCode::kForbidden,
                         "Your role requires a second factor: set one up (POST /api/v1/auth/mfa/totp, then "
                         "/api/v1/auth/mfa/totp/confirm), or sign in again with it.");
  }
  if (m.method->access == Access::kAdmin && !caller.admin()) {
    return !caller.id ? Problem::make(ProblemCode::kUnauthorized, "This route needs the admin's credentials.")
                      : Problem::make(ProblemCode::kForbidden, "Only the admin may call this route.");
  }
  // An anonymous create or update that the collection's rule refuses whatever it carries (the rule is absent, or
  // false without a caller: `@auth.id != null`) is refused here, so its body is never read.
  if (!caller.anonymous()) return std::nullopt;
  const bool create = request.method == http::Method::kPost && m.pattern() == kRecordsRoute;
  const bool update = request.method == http::Method::kPatch && m.pattern() == kRecordRoute;
  if (!create && !update) return std::nullopt;
  const model::Collection* c = concept_.find_collection(m.param("collection"));
  if (!c || c->auth) return std::nullopt;  // 404, or the users collection's own answer
  const std::optional<model::Rule>& rule = create ? c->rules.create : c->rules.update;
  if (rule && !expr::never_true_for_anonymous(*rule->bound)) return std::nullopt;
  return Problem::make(ProblemCode::kForbidden, create ? "You are not allowed to create records in this collection."
                                                       : "You are not allowed to update records in this collection.");
}

std::size_t App::body_limit(const RouteMatch& m, http::Method method) const {
  // A write to a collection gets the collection's limit. Anything else may carry a small body that is read and
  // ignored, so the client gets the real answer rather than a 413 about a body nobody wanted.
  constexpr std::size_t kIgnoredBodyLimit = 64 * 1024;
  if (method != http::Method::kPost && method != http::Method::kPatch) return kIgnoredBodyLimit;
  if (m.pattern() != kRecordsRoute && m.pattern() != kRecordRoute) return kIgnoredBodyLimit;
  const model::Collection* c = concept_.find_collection(m.param("collection"));
  return c ? c->body_limit : kIgnoredBodyLimit;
}

void App::handle(http::Request& request, http::Responder respond) {
  // admit() has answered every request without a route and method, and resolved the caller of every other.
  const RouteMatch m = routes_.match(request.method, request.path);
  if (!m.method) {
    return fail(request.request_id, kAnonymous, Problem::make(ProblemCode::kInternal, "", "handle() without admit()"),
                respond, m.pattern());
  }
  dispatch(m, request, request.caller, std::move(respond));
}

void App::dispatch(const RouteMatch& m, http::Request& request, const Principal& caller, http::Responder respond) {
  const bool touches_storage = m.method->rate_class != "health" || m.pattern() == "/readyz";
  if (!storage_pool_ || !touches_storage || m.method->loop_safe)
    return m.method->handler(*this, request, m, caller, std::move(respond));
  off_loop(m, request, caller, std::move(respond), m.method->handler);
}

void App::off_loop(const RouteMatch& m, http::Request& request, const Principal& caller, http::Responder respond,
                   RouteHandler handler) {
  if (!storage_pool_) return handler(*this, request, m, caller, std::move(respond));
  // The request stays valid until `respond` is called, so the task may borrow it.
  auto task = [this, m, &request, caller, respond, handler, queued = std::chrono::steady_clock::now()]() mutable {
    if (std::chrono::steady_clock::now() - queued > storage_wait_) {  // waited too long already: say so, now
      return fail(request.request_id, caller,
                  Problem::make(ProblemCode::kUnavailable,
                                "The database is busy: no connection came free in time; retry later."),
                  respond, m.pattern());
    }
    try {  // the session's own catch-all is on the loop: a throw here must still answer
      handler(*this, request, m, caller, http::Responder(respond));
    } catch (const std::exception& e) {
      logger_.log(obs::Level::kError, "handler threw", {{"request_id", request.request_id}, {"cause", e.what()}});
      fail(request.request_id, caller, Problem::make(ProblemCode::kInternal, "An unexpected error occurred."), respond,
           m.pattern());
    }
  };
  if (storage_pool_->try_submit(std::move(task))) return;
  fail(request.request_id, caller,
       Problem::make(ProblemCode::kUnavailable, "The server is busy: too many requests wait for the database."),
       respond, m.pattern());
}

void App::livez(App&, http::Request&, const RouteMatch& m, const Principal&, http::Responder respond) {
  respond(text(200, "application/json", "{\"status\":\"ok\"}", m.pattern()));
}

void App::readyz(App& app, http::Request&, const RouteMatch& m, const Principal&, http::Responder respond) {
  if (app.draining_.load(std::memory_order_relaxed)) {
    return respond(text(503, "application/json", "{\"status\":\"draining\"}", m.pattern()));
  }
  if (Status st = app.storage_.ping(); !st) {
    app.logger_.log(obs::Level::kWarn, "not ready", {{"cause", st.error().cause}});
    return respond(text(503, "application/json", "{\"status\":\"database unavailable\"}", m.pattern()));
  }
  respond(text(200, "application/json", "{\"status\":\"ready\"}", m.pattern()));
}

void App::metrics(App& app, http::Request&, const RouteMatch& m, const Principal&, http::Responder respond) {
  respond(text(200, "text/plain; version=0.0.4; charset=utf-8", app.metrics_.render(), m.pattern()));
}

const model::Collection* App::collection_or_404(http::Request& req, const RouteMatch& m, const Principal& caller,
                                                http::Responder& respond) const {
  const model::Collection* c = concept_.find_collection(m.param("collection"));
  if (!c) fail(req.request_id, caller, Problem::make(ProblemCode::kNotFound, "No such collection."), respond, m.pattern());
  return c;
}

void App::list_records(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                       http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond))
    app.records_->list(req, *c, m.method->params, caller, std::move(respond), {}, kRecordsRoute,
                       app.storage_pool_ ? &m : nullptr);
}

void App::list_records_blocking(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                                http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond))
    app.records_->list(req, *c, m.method->params, caller, std::move(respond));
}

void App::create_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                        http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond)) app.records_->create(req, *c, caller, std::move(respond));
}

void App::get_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                     http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond))
    app.records_->get(req, m, *c, caller, std::move(respond), /*may_block=*/!app.storage_pool_);
}

void App::get_record_blocking(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                              http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond))
    app.records_->get(req, m, *c, caller, std::move(respond), /*may_block=*/true);
}

void App::patch_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                       http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond))
    app.records_->patch(req, *c, m.param("id"), caller, std::move(respond));
}

void App::delete_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                        http::Responder respond) {
  if (const auto* c = app.collection_or_404(req, m, caller, respond))
    app.records_->remove(req, *c, m.param("id"), caller, std::move(respond));
}

}  // namespace slipway::api
