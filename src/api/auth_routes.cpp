#include "api/auth_routes.h"

#include "api/auth_common.h"
#include "api/problem_json.h"
#include "api/record_input.h"
#include "api/record_json.h"
#include "auth/authenticator.h"
#include "auth/opaque_token.h"
#include "auth/password_policy.h"
#include "core/ascii.h"
#include "core/json_writer.h"
#include "core/uuid7.h"
#include "obs/logger.h"
#include "runtime/worker_pool.h"

namespace slipway::api {
namespace {

constexpr std::int64_t kReuseWindowMs = 10'000;   // docs/security.md#refresh-tokens
constexpr std::size_t kMaxRefreshTokenBytes = 256;

Problem wrong_credentials() {
  return Problem::make(ProblemCode::kUnauthorized, "The e-mail address or the password is wrong.");
}

Problem bad_refresh_token() {
  return Problem::make(ProblemCode::kUnauthorized, "The refresh token is not valid: expired, revoked or already used.");
}

Problem password_rejected(std::string field, std::string message) {
  Problem p = Problem::make(ProblemCode::kUnprocessable, "The password does not meet the password policy.");
  p.errors.push_back({std::move(field), "password_policy", std::move(message)});
  return p;
}

}  // namespace

App::Auth::Auth(App& a, const model::AuthSettings& s, std::shared_ptr<const auth::KeyRing> k,
                std::shared_ptr<const auth::DataKeys> dk, runtime::WorkerPool& p, auth::PasswordParams pp)
    : app(a), settings(s), users(*a.concept_.users()), keys(std::move(k)), data_keys(std::move(dk)), seal(*keys),
      pool(p), params(pp),
      session_ids(clock),
      throttle(auth::ThrottlePolicy{}, auth::ThrottlePolicy{.free_failures = 20}) {
  auto throttles = a.storage_.load_throttles();
  if (!throttles) throw std::runtime_error("cannot read login throttles: " + throttles.error().cause);
  std::vector<auth::ThrottleState> states;
  for (auto& t : *throttles) states.push_back({std::move(t.key), t.failures, t.last_failure_ms, t.locked_until_ms});
  throttle.load(states);
  auto& m = a.metrics_;
  const char* logins = "slipway_auth_logins_total";
  const char* logins_help = "Logins by outcome (success; failure: wrong e-mail or password, or disabled; throttled: "
                            "429 before any check; rejected: the hash pool was full)";
  logins_ok = m.counter(logins, logins_help, {{"outcome", "success"}});
  logins_failed = m.counter(logins, logins_help, {{"outcome", "failure"}});
  logins_rejected = m.counter(logins, logins_help, {{"outcome", "rejected"}});
  logins_throttled = m.counter(logins, logins_help, {{"outcome", "throttled"}});
  const char* refreshes = "slipway_auth_token_refreshes_total";
  const char* refreshes_help = "Refresh-token uses by outcome (rotated, repeated within the reuse window, reused: "
                               "the session was revoked, invalid)";
  refresh_rotated = m.counter(refreshes, refreshes_help, {{"outcome", "rotated"}});
  refresh_repeated = m.counter(refreshes, refreshes_help, {{"outcome", "repeated"}});
  refresh_reused = m.counter(refreshes, refreshes_help, {{"outcome", "reused"}});
  refresh_invalid = m.counter(refreshes, refreshes_help, {{"outcome", "invalid"}});
  password_hashes = m.counter("slipway_auth_password_hashes_total",
                              "argon2id computations (hashing or verifying), on the worker pool");
  signups = m.counter("slipway_auth_signups_total", "Users who signed up");
  const char* mfa = "slipway_auth_mfa_total";
  const char* mfa_help = "Second-factor events (challenge: a login's password was right and a code is due; verified, "
                         "failed, throttled: second factors presented; recovery_code: one was used; enrolled, "
                         "confirmed, removed: TOTP factors)";
  mfa_challenges = m.counter(mfa, mfa_help, {{"event", "challenge"}});
  mfa_verified = m.counter(mfa, mfa_help, {{"event", "verified"}});
  mfa_failed = m.counter(mfa, mfa_help, {{"event", "failed"}});
  mfa_throttled = m.counter(mfa, mfa_help, {{"event", "throttled"}});
  mfa_recovery_used = m.counter(mfa, mfa_help, {{"event", "recovery_code"}});
  mfa_enrolled = m.counter(mfa, mfa_help, {{"event", "enrolled"}});
  mfa_confirmed = m.counter(mfa, mfa_help, {{"event", "confirmed"}});
  mfa_removed = m.counter(mfa, mfa_help, {{"event", "removed"}});
  const char* em = "slipway_auth_email_total";
  const char* em_help = "E-mail flow events (verification_sent, verified, reset_requested: for a known address, "
                        "reset_used, change_requested, changed)";
  email_verification_sent = m.counter(em, em_help, {{"event", "verification_sent"}});
  email_verified = m.counter(em, em_help, {{"event", "verified"}});
  email_reset_requested = m.counter(em, em_help, {{"event", "reset_requested"}});
  email_reset_used = m.counter(em, em_help, {{"event", "reset_used"}});
  email_change_requested = m.counter(em, em_help, {{"event", "change_requested"}});
  email_changed = m.counter(em, em_help, {{"event", "changed"}});
}

std::string App::Auth::access_token(const std::string& user_id, const std::string& session_id,
                                    const std::vector<std::string>& roles, int aal) const {
  auth::AccessClaims c;
  c.sub = user_id;
  c.sid = session_id;
  c.roles = roles;
  c.aal = aal;
  const std::int64_t now_ms = clock.now_ms();
  c.iat = now_ms / 1000;
  c.jti = auth::make_jti(now_ms);  // the minting time to the millisecond, for revocations (auth/authenticator.h)
  c.exp = c.iat + settings.access_ttl_s;
  c.iss = settings.issuer;
  c.aud = settings.audience;
  return keys->sign(c);
}

void App::Auth::write_tokens(JsonWriter& w, const std::string& access, const std::string& refresh) const {
  w.key("access_token").string(access);
  w.key("token_type").string("Bearer");
  w.key("expires_in").integer(settings.access_ttl_s);
  w.key("refresh_token").string(refresh);
}

void App::Auth::save_throttles(const std::vector<auth::ThrottleState>& states) {
  std::vector<storage::ThrottleRow> rows;
  rows.reserve(states.size());
  for (const auto& t : states) rows.push_back({t.key, t.failures, t.last_failure_ms, t.locked_until_ms});
  app.storage_.save_throttles(std::move(rows));
}

bool App::Auth::offload(std::string_view request_id, const Principal& caller, std::string_view route,
                        http::Responder& respond, std::function<void()> task) {
  return submit_to(pool, "The server is busy hashing passwords; try again in a moment.", request_id, caller, route,
                   respond, std::move(task));
}

bool App::Auth::submit_to(runtime::WorkerPool& on, std::string_view busy, std::string_view request_id,
                          const Principal& caller, std::string_view route, http::Responder& respond,
                          std::function<void()> task) {
  if (on.try_submit(std::move(task))) return true;
  http::Response r = problem_response(Problem::make(ProblemCode::kUnavailable, std::string(busy)), request_id);
  r.route = route;
  r.user_id = caller.id.value_or("");
  r.set_header("Retry-After", "1");
  respond(std::move(r));
  return false;
}

void App::Auth::sign_up(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/signup";
  if (settings.signup == model::AuthSettings::Signup::kInviteOnly && !caller.admin())
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kForbidden, "Sign-up is by invitation only: an admin creates accounts."),
                    respond, route);
  auto body = parse_sign_up_body(req.body, users);
  if (!body) return app.fail(req.request_id, caller, body.error(), respond, route);
  if (auto why = auth::check_password(body->password, {settings.password_min_length, 1024}))
    return app.fail(req.request_id, caller, password_rejected("password", *why), respond, route);
  const int email_index = users.field_index(model::kUsersEmailField);
  auto& email = std::get<std::string>(body->values[static_cast<std::size_t>(email_index)]);
  email = normalised_email(email);

  storage::CreateCommand cmd;
  cmd.collection = &users;
  cmd.values = std::move(body->values);
  storage::NewAccount account;
  if (settings.default_role) account.roles = {*settings.default_role};
  storage::NewSession session;
  session.id = session_ids.generate();
  session.auth_time_ms = clock.now_ms();
  session.expires_ms = session.auth_time_ms + settings.session_absolute_s * 1000;
  session.user_agent = user_agent_of(req);
  session.address = req.remote_addr;
  const std::string refresh = session.id + "." + auth::random_token();  // names its session: one-row lookups
  session.refresh_hash = auth::token_digest(refresh);
  // With `verification: required` a sign-up opens no session: nobody uses the app under an address they have not
  // proven. The answer has the user; tokens come from a login once the link in the mail was used.
  const bool tokens = !(email_flows() && settings.verification == model::AuthSettings::Verification::kRequired);
  if (tokens) cmd.session = session;
  if (email_flows()) cmd.effects = verification_on_signup(email);
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "auth.signup");
  e.collection = users.name;
  cmd.audit.push_back(std::move(e));

  offload(req.request_id, caller, route, respond,
          [this, cmd = std::move(cmd), account = std::move(account), password = std::move(body->password), refresh,
           tokens, request_id = req.request_id, loop = req.loop, respond]() mutable {
            password_hashes.inc();
            auto hash = auth::hash_password(password, params);
            if (!hash) return app.fail(request_id, {}, hash.error(), respond, route);
            account.password_hash = std::move(*hash);
            const std::vector<std::string> roles = account.roles;
            const std::string sid = cmd.session ? cmd.session->id : "";
            cmd.account = std::move(account);
            app.storage_.create(
                std::move(cmd), Principal::bootstrap_admin(),
                App::on_loop(loop, [this, roles, sid, refresh, tokens, request_id,
                                    respond](Result<storage::CreateResult> created) mutable {
                  if (!created) return app.fail(request_id, {}, created.error(), respond, route);
                  signups.inc();
                  if (email_flows()) {
                    email_verification_sent.inc();
                    if (mail_queued) mail_queued();
                  }
                  const std::string& uid = created->record.id;
                  std::string body;
                  JsonWriter w(body);
                  w.begin_object().key("user");
                  write_record(w, created->record, users, app.concept_, {});
                  if (tokens)
                    write_tokens(w, access_token(uid, sid, roles, 1), refresh);
                  else
                    w.key("verification_required").boolean(true);
                  w.end_object();
                  http::Response r = json_response(201, std::move(body), route, uid);
                  r.set_header("Location", "/api/v1/auth/me");
                  respond(std::move(r));
                }));
          });
}

void App::Auth::login(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/login";
  static constexpr std::string_view kNames[] = {"email", "password"};
  const Principal anonymous;
  auto fields = required_fields(req.body, kNames, kMaxSecretBytes);
  if (!fields) return app.fail(req.request_id, anonymous, fields.error(), respond, route);
  const std::string email = normalised_email((*fields)[0]);
  std::string account_key = auth::LoginThrottle::account_key(email);
  std::string address_key = auth::LoginThrottle::address_key(req.remote_addr);
  std::vector<auth::ThrottleState> counted;
  if (auto wait_ms = throttle.begin(account_key, address_key, clock.now_ms(), counted)) {
    // Before any lookup or hashing, and the same for every address: it never tells whether the account exists.
    logins_throttled.inc();
    return respond(throttled_response("Too many failed logins", *wait_ms, req.request_id, route, ""));
  }
  save_throttles(counted);  // counted as a failure before the hash: parallel attempts cannot pass one check
  auto account = app.storage_.find_account_by_email(email);
  if (!account) return app.fail(req.request_id, anonymous, account.error(), respond, route);
  const bool queued = offload(req.request_id, anonymous, route, respond,
          [this, account = std::move(*account), password = std::move((*fields)[1]), request_id = req.request_id,
           address = req.remote_addr, user_agent = user_agent_of(req), account_key = std::move(account_key),
           address_key = std::move(address_key), loop = req.loop, respond]() mutable {
            // The same argon2id work whether or not the address is known (no enumeration by timing).
            password_hashes.inc();
            const std::string& stored =
                account && !account->password_hash.empty() ? account->password_hash : auth::dummy_hash(params);
            const auth::Verify verdict = auth::verify_password(password, stored, params);
            const bool match = account && !account->password_hash.empty() && verdict != auth::Verify::kMismatch;
            if (!match || account->disabled) {
              logins_failed.inc();  // (already counted by the throttle when the attempt began)
              Principal who;
              if (account) {
                who.kind = PrincipalKind::kUser;
                who.id = account->user_id;
              }
              storage::AuditEntry e = App::audit_entry(request_id, address, who, "auth.login.failure");
              e.reason = !account ? "unknown_email" : !match ? "wrong_password" : "disabled";
              app.storage_.append_audit({std::move(e)}, {});
              return app.fail(request_id, Principal{}, wrong_credentials(), respond, route);
            }
            save_throttles(throttle.succeeded(account_key, address_key, clock.now_ms()));
            if (email_flows() && settings.verification == model::AuthSettings::Verification::kRequired &&
                !account->email_verified) {
              Problem p = Problem::make(ProblemCode::kForbidden,
                                        "Verify your e-mail address first: open the link in the mail we sent, or ask "
                                        "for a new one (POST /api/v1/auth/verify-email/resend).");
              return app.fail(request_id, Principal{}, p, respond, route);
            }
            if (account->mfa) return issue_mfa_challenge(account->user_id, request_id, address, loop, respond);
            std::optional<std::string> rehash;
            if (verdict == auth::Verify::kMatchNeedsRehash) {
              password_hashes.inc();
              if (auto h = auth::hash_password(password, params)) rehash = std::move(*h);
            }
            auto user = app.storage_.get(users, account->user_id, Principal::bootstrap_admin(), {});
            if (!user) return app.fail(request_id, Principal{}, wrong_credentials(), respond, route);
            storage::NewSession session;
            session.id = session_ids.generate();
            session.user_id = account->user_id;
            session.auth_time_ms = clock.now_ms();
            session.expires_ms = session.auth_time_ms + settings.session_absolute_s * 1000;
            session.user_agent = std::move(user_agent);
            session.address = address;
            const std::string refresh = session.id + "." + auth::random_token();
            session.refresh_hash = auth::token_digest(refresh);
            Principal who;
            who.kind = PrincipalKind::kUser;
            who.id = account->user_id;
            storage::AuditEntry e = App::audit_entry(request_id, address, who, "auth.login.success");
            e.detail = "{\"session\":\"" + session.id + "\"}";
            const std::string sid = session.id;
            app.storage_.open_session(
                std::move(session), std::move(rehash), {std::move(e)},
                App::on_loop(loop, [this, user = std::move(*user), sid, refresh, request_id,
                 respond](Result<storage::Account> account) mutable {
                  if (!account) {
                    if (account.error().code == ProblemCode::kUnauthorized) logins_failed.inc();
                    return app.fail(request_id, Principal{}, account.error(), respond, route);
                  }
                  logins_ok.inc();
                  std::string body;
                  JsonWriter w(body);
                  w.begin_object();
                  // Signed with the roles as they are in the session's own transaction, not as read before hashing.
                  write_tokens(w, access_token(account->user_id, sid, account->roles, 1), refresh);
                  // A role the file requires MFA for, and no factor yet: this session may only enrol one.
                  if (settings.mfa_required(account->roles)) w.key("mfa_enrolment_required").boolean(true);
                  w.key("user");
                  write_record(w, user, users, app.concept_, {});
                  w.end_object();
                  respond(json_response(200, std::move(body), route, account->user_id));
                }));
          });
  if (!queued) logins_rejected.inc();
}

void App::Auth::refresh(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/refresh";
  static constexpr std::string_view kNames[] = {"refresh_token"};
  auto fields = parse_string_fields(req.body, kNames, kMaxRefreshTokenBytes);
  if (!fields) return app.fail(req.request_id, {}, fields.error(), respond, route);
  if (!(*fields)[0]) return app.fail(req.request_id, {}, required({"refresh_token"}), respond, route);
  const std::string& presented = *(*fields)[0];
  const std::size_t dot = presented.find('.');
  std::string session_id = presented.substr(0, dot == std::string::npos ? 0 : dot);
  ascii_to_lower(session_id);
  if (dot == std::string::npos || !is_uuid(session_id)) {
    refresh_invalid.inc();
    return app.fail(req.request_id, {}, bad_refresh_token(), respond, route);
  }
  const std::string presented_hash = auth::token_digest(presented);
  // A read first, on this event loop: a token naming no live session costs no write, and the access token is
  // signed here rather than on the single writer thread. The write below checks the token against the session
  // (rotation, repeat, reuse) and may still refuse: the read is only a head start.
  auto peek = app.storage_.peek_refresh_token(session_id);
  if (!peek) return app.fail(req.request_id, {}, peek.error(), respond, route);
  if (!*peek || (*peek)->disabled) {
    refresh_invalid.inc();
    return app.fail(req.request_id, {}, bad_refresh_token(), respond, route);
  }
  const std::string access = access_token((*peek)->user_id, (*peek)->session_id, (*peek)->roles, (*peek)->aal);
  const std::string next = session_id + "." + auth::random_token();
  storage::RefreshCommand cmd;
  cmd.session_id = session_id;
  cmd.presented_hash = presented_hash;
  cmd.next_hash = auth::token_digest(next);
  cmd.next_sealed = seal.seal(next);
  cmd.now_ms = clock.now_ms();
  cmd.idle_timeout_ms = settings.session_idle_s * 1000;
  cmd.refresh_ttl_ms = settings.refresh_ttl_s * 1000;
  cmd.reuse_window_ms = kReuseWindowMs;
  cmd.address = req.remote_addr;
  cmd.request_id = req.request_id;
  app.storage_.refresh_session(
      std::move(cmd), App::on_loop(req, [this, next, access, sid = (*peek)->session_id, request_id = req.request_id,
                       respond](Result<storage::RefreshOutcome> r) mutable {
        if (!r) return app.fail(request_id, {}, r.error(), respond, route);
        using Kind = storage::RefreshOutcome::Kind;
        std::string refresh_token;
        switch (r->kind) {
          case Kind::kRotated:
            refresh_rotated.inc();
            refresh_token = next;
            break;
          case Kind::kRepeated: {
            auto successor = seal.open(r->sealed);
            if (!successor) {  // sealed under a key this process no longer has (rotated signing key)
              refresh_invalid.inc();
              return app.fail(request_id, {}, bad_refresh_token(), respond, route);
            }
            refresh_repeated.inc();
            refresh_token = std::move(*successor);
            break;
          }
          case Kind::kReused:
            refresh_reused.inc();
            app.revocations_.revoke_session(r->session.id, clock.now_ms());
            return app.fail(request_id, {}, bad_refresh_token(), respond, route);
          case Kind::kInvalid:
            refresh_invalid.inc();
            return app.fail(request_id, {}, bad_refresh_token(), respond, route);
        }
        if (r->session.id != sid) {  // cannot happen (a token belongs to one session); never answer across sessions
          refresh_invalid.inc();
          return app.fail(request_id, {}, bad_refresh_token(), respond, route);
        }
        std::string body;
        body.reserve(access.size() + refresh_token.size() + 96);
        JsonWriter w(body);
        w.begin_object();
        write_tokens(w, access, refresh_token);
        w.end_object();
        respond(json_response(200, std::move(body), route, r->session.user_id));
      }));
}

void App::Auth::logout(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/logout";
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "auth.logout");
  e.detail = "{\"session\":\"" + caller.session_id + "\"}";
  app.revocations_.revoke_session(caller.session_id, clock.now_ms());  // this instance refuses it from now on
  app.storage_.revoke_sessions(
      storage::RevokeCommand{*caller.id, caller.session_id, "", "logout", clock.now_ms()}, {std::move(e)},
      App::on_loop(req, [this, caller, request_id = req.request_id, respond](Result<std::vector<std::string>> r) mutable {
        if (!r && r.error().code != ProblemCode::kNotFound) return app.fail(request_id, caller, r.error(), respond, route);
        respond(no_content(route, *caller.id));
      }));
}

void App::Auth::me(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/me";
  auto user = app.storage_.get(users, *caller.id, Principal::bootstrap_admin(), {});
  if (!user) {
    return app.fail(req.request_id, caller,
                    user.error().code == ProblemCode::kNotFound
                        ? Problem::make(ProblemCode::kUnauthorized, "The user of this token no longer exists.")
                        : user.error(),
                    respond, route);
  }
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("user");
  write_record(w, *user, users, app.concept_, {});
  w.key("roles").begin_array();
  for (const auto& r : caller.roles) w.string(r);
  w.end_array();
  w.key("session_id").string(caller.session_id);
  w.key("aal").integer(caller.aal);
  w.end_object();
  http::Response r = json_response(200, std::move(body), route, *caller.id);
  r.headers.back().second = "private, no-store";
  respond(std::move(r));
}

void App::Auth::change_password(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/password";
  static constexpr std::string_view kNames[] = {"current_password", "new_password"};
  auto fields = required_fields(req.body, kNames, kMaxSecretBytes);
  if (!fields) return app.fail(req.request_id, caller, fields.error(), respond, route);
  if (auto why = auth::check_password((*fields)[1], {settings.password_min_length, 1024}))
    return app.fail(req.request_id, caller, password_rejected("new_password", *why), respond, route);
  auto account = app.storage_.find_account(*caller.id);
  if (!account) return app.fail(req.request_id, caller, account.error(), respond, route);
  if (!*account)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kUnauthorized, "The user of this token no longer exists."), respond, route);
  // Guessing the current password with a stolen access token is throttled like a login, on the same keys.
  std::string account_key = auth::LoginThrottle::account_key((*account)->email);
  std::string address_key = auth::LoginThrottle::address_key(req.remote_addr);
  std::vector<auth::ThrottleState> counted;
  if (auto wait_ms = throttle.begin(account_key, address_key, clock.now_ms(), counted)) {
    return respond(throttled_response("Too many failed password checks", *wait_ms, req.request_id, route, *caller.id));
  }
  save_throttles(counted);
  offload(req.request_id, caller, route, respond,
          [this, caller, stored = (*account)->password_hash, current = std::move((*fields)[0]),
           next = std::move((*fields)[1]), request_id = req.request_id, address = req.remote_addr,
           account_key = std::move(account_key), address_key = std::move(address_key), loop = req.loop,
           respond]() mutable {
            password_hashes.inc();
            if (stored.empty() || auth::verify_password(current, stored, params) == auth::Verify::kMismatch) {
              Problem p = Problem::make(ProblemCode::kForbidden, "The current password is wrong.");
              p.errors.push_back({"current_password", "mismatch", "is not the current password"});
              return app.fail(request_id, caller, p, respond, route);
            }
            save_throttles(throttle.succeeded(account_key, address_key, clock.now_ms()));
            password_hashes.inc();
            auto hash = auth::hash_password(next, params);
            if (!hash) return app.fail(request_id, caller, hash.error(), respond, route);
            storage::AuditEntry e = App::audit_entry(request_id, address, caller, "auth.password.change");
            app.storage_.change_password(
                *caller.id, std::move(*hash), caller.session_id, {std::move(e)},
                App::on_loop(loop, [this, caller, request_id, respond](Result<std::vector<std::string>> ended) mutable {
                  if (!ended) return app.fail(request_id, caller, ended.error(), respond, route);
                  for (const auto& sid : *ended) app.revocations_.revoke_session(sid, clock.now_ms());
                  respond(no_content(route, *caller.id));
                }));
          });
}

void App::Auth::list_sessions(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/sessions";
  auto sessions = app.storage_.list_sessions(*caller.id);
  if (!sessions) return app.fail(req.request_id, caller, sessions.error(), respond, route);
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("items").begin_array();
  for (const auto& s : *sessions) {
    w.begin_object();
    w.key("id").string(s.id);
    w.key("created").string(format_rfc3339_ms(s.created_ms));
    w.key("last_used").string(format_rfc3339_ms(s.last_used_ms));
    w.key("expires").string(format_rfc3339_ms(s.expires_ms));
    w.key("user_agent").string(s.user_agent);
    w.key("address").string(s.address);
    w.key("current").boolean(s.id == caller.session_id);
    w.end_object();
  }
  w.end_array().end_object();
  respond(json_response(200, std::move(body), route, *caller.id));
}

void App::Auth::revoke_session(http::Request& req, std::string_view id, const Principal& caller,
                               http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/sessions/{id}";
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "auth.session.revoke");
  const std::string sid(id.substr(0, 64));
  e.detail.clear();
  JsonWriter(e.detail).begin_object().key("session").string(sid).end_object();
  app.storage_.revoke_sessions(
      storage::RevokeCommand{*caller.id, sid, "", "revoked", clock.now_ms()}, {std::move(e)},
      App::on_loop(req, [this, caller, sid, request_id = req.request_id, respond](Result<std::vector<std::string>> r) mutable {
        if (!r) return app.fail(request_id, caller, r.error(), respond, route);
        app.revocations_.revoke_session(sid, clock.now_ms());
        respond(no_content(route, *caller.id));
      }));
}

void App::Auth::revoke_other_sessions(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/sessions";
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "auth.session.revoke_others");
  app.storage_.revoke_sessions(
      storage::RevokeCommand{*caller.id, std::nullopt, caller.session_id, "revoked", clock.now_ms()}, {std::move(e)},
      App::on_loop(req, [this, caller, request_id = req.request_id, respond](Result<std::vector<std::string>> r) mutable {
        if (!r) return app.fail(request_id, caller, r.error(), respond, route);
        for (const auto& sid : *r) app.revocations_.revoke_session(sid, clock.now_ms());
        respond(no_content(route, *caller.id));
      }));
}

void App::Auth::jwks(http::Request&, http::Responder respond) {
  http::Response r = json_response(200, keys->jwks_json(), "/api/v1/auth/jwks.json", "");
  r.headers.back().second = "public, max-age=300";
  respond(std::move(r));
}

}  // namespace slipway::api
