// The second factor (docs/security.md#multi-factor-login): TOTP enrolment, confirmation and removal, and the
// login's second step. Codes are checked here (HMAC-SHA1, microseconds: on the event loop); each one is spent by
// the storage write that relies on it (storage/system/mfa_store.h), so a code works once across every instance.
#include "api/auth_common.h"
#include "api/auth_routes.h"
#include "api/problem_json.h"
#include "api/record_input.h"
#include "api/record_json.h"
#include "auth/opaque_token.h"
#include "auth/qr_svg.h"
#include "auth/recovery_codes.h"
#include "auth/totp.h"
#include "storage/system/mfa_store.h"

namespace slipway::api {
namespace {

constexpr std::int64_t kChallengeTtlMs = 5 * 60'000;  // from the password to the second factor
constexpr std::size_t kMaxCodeBytes = 256;

std::string totp_associated_data(std::string_view user_id) { return "totp:" + std::string(user_id); }

Problem bad_mfa_token() {
  return Problem::make(ProblemCode::kUnauthorized,
                       "The MFA token is not valid: expired, already used, or too many wrong codes. Sign in again.");
}

Problem wrong_code() { return Problem::make(ProblemCode::kUnauthorized, "The code is wrong or was already used."); }

Problem no_data_key() {
  return Problem::make(ProblemCode::kInternal, "The second factor cannot be checked now.",
                       "the TOTP secret does not open with the configured data keys (SLIPWAY_DATA_KEYS)");
}

// One of `code` or `recovery_code`, not both: a 422 naming them otherwise.
std::optional<Problem> one_factor(const std::optional<std::string>& code, const std::optional<std::string>& recovery) {
  if (code.has_value() == recovery.has_value()) {
    Problem p = Problem::make(ProblemCode::kUnprocessable, "Give either a TOTP code or a recovery code.");
    p.errors.push_back({"code", code ? "conflict" : "required", code ? "give only one of code and recovery_code"
                                                                     : "is required (or recovery_code)"});
    return p;
  }
  return std::nullopt;
}

}  // namespace

std::string App::Auth::mfa_throttle_key(std::string_view user_id) {
  return auth::LoginThrottle::account_key("mfa:" + std::string(user_id));
}

void App::Auth::issue_mfa_challenge(const std::string& user_id, std::string request_id, std::string address,
                                    const http::Continuation* loop, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/login";
  const std::string token = auth::random_token();
  storage::MfaChallenge c;
  c.digest = auth::token_digest(token);
  c.user_id = user_id;
  c.created_ms = clock.now_ms();
  c.expires_ms = c.created_ms + kChallengeTtlMs;
  Principal who;
  who.kind = PrincipalKind::kUser;
  who.id = user_id;
  storage::AuditEntry e = App::audit_entry(request_id, address, who, "auth.login.mfa_challenge");
  app.storage_.mfa()->open_challenge(
      std::move(c), {std::move(e)},
      App::on_loop(loop, [this, token, user_id, request_id, respond](Status st) mutable {
        if (!st) return app.fail(request_id, {}, st.error(), respond, route);
        mfa_challenges.inc();
        std::string body;
        JsonWriter w(body);
        w.begin_object();
        w.key("mfa_required").boolean(true);
        w.key("mfa_token").string(token);
        w.key("expires_in").integer(kChallengeTtlMs / 1000);
        w.key("methods").begin_array().string("totp").string("recovery_code").end_array();
        w.end_object();
        // No user id in the access log yet: nobody is signed in until the second factor.
        respond(json_response(200, std::move(body), route, ""));
      }));
}

void App::Auth::mfa_verify(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/mfa/verify";
  static constexpr std::string_view kNames[] = {"mfa_token", "code", "recovery_code"};
  const Principal anonymous;
  auto fields = parse_string_fields(req.body, kNames, kMaxCodeBytes);
  if (!fields) return app.fail(req.request_id, anonymous, fields.error(), respond, route);
  if (!(*fields)[0]) return app.fail(req.request_id, anonymous, required({"mfa_token"}), respond, route);
  if (auto p = one_factor((*fields)[1], (*fields)[2])) return app.fail(req.request_id, anonymous, *p, respond, route);
  storage::MfaStore& mfa = *app.storage_.mfa();
  const std::int64_t now = clock.now_ms();
  const std::string digest = auth::token_digest(*(*fields)[0]);
  auto challenge = mfa.find_challenge(digest, now);
  if (!challenge) return app.fail(req.request_id, anonymous, challenge.error(), respond, route);
  if (!*challenge) {
    mfa_failed.inc();
    return app.fail(req.request_id, anonymous, bad_mfa_token(), respond, route);
  }
  const std::string user_id = (*challenge)->user_id;
  Principal who;
  who.kind = PrincipalKind::kUser;
  who.id = user_id;
  const std::string mfa_key = mfa_throttle_key(user_id);
  const std::string address_key = auth::LoginThrottle::address_key(req.remote_addr);
  std::vector<auth::ThrottleState> counted;
  if (auto wait_ms = throttle.begin(mfa_key, address_key, now, counted)) {
    mfa_throttled.inc();
    return respond(throttled_response("Too many wrong codes", *wait_ms, req.request_id, route, ""));
  }
  save_throttles(counted);  // counted as a failure before the check, like a password

  // A wrong code: counted on the challenge and audited, then 401.
  auto refuse = [this, &mfa, digest, who, request_id = req.request_id, address = req.remote_addr, now,
                 loop = req.loop](std::string reason, http::Responder respond) {
    mfa_failed.inc();
    storage::AuditEntry e = App::audit_entry(request_id, address, who, "auth.mfa.failure");
    e.reason = std::move(reason);
    mfa.fail_challenge(digest, now, {std::move(e)}, App::on_loop(loop, [this, request_id, respond](Status) mutable {
                         app.fail(request_id, {}, wrong_code(), respond, route);
                       }));
  };

  auto factor = mfa.find_totp(user_id);
  if (!factor) return app.fail(req.request_id, anonymous, factor.error(), respond, route);
  if (!*factor || !(*factor)->confirmed_ms) return refuse("no_factor", std::move(respond));
  storage::FactorUse use;
  std::string method;
  if ((*fields)[1]) {
    auto secret = data_keys->open((*factor)->secret_sealed, totp_associated_data(user_id));
    if (!secret) return app.fail(req.request_id, anonymous, no_data_key(), respond, route);
    use.totp_step = auth::totp_verify(*secret, *(*fields)[1], now, (*factor)->last_step);
    if (!use.totp_step) return refuse("wrong_code", std::move(respond));
    method = "totp";
  } else {
    auto canonical = auth::normalise_recovery_code(*(*fields)[2]);
    if (!canonical) return refuse("wrong_recovery_code", std::move(respond));
    use.recovery_digest = auth::recovery_code_digest(*canonical);
    method = "recovery_code";
  }
  auto user = app.storage_.get(users, user_id, Principal::bootstrap_admin(), {});
  if (!user) return app.fail(req.request_id, anonymous, bad_mfa_token(), respond, route);

  storage::NewSession session;
  session.id = session_ids.generate();
  session.user_id = user_id;
  session.auth_time_ms = now;
  session.expires_ms = now + settings.session_absolute_s * 1000;
  session.user_agent = user_agent_of(req);
  session.address = req.remote_addr;
  const std::string refresh = session.id + "." + auth::random_token();
  session.refresh_hash = auth::token_digest(refresh);
  std::vector<storage::AuditEntry> audit;
  storage::AuditEntry ok = App::audit_entry(req.request_id, req.remote_addr, who, "auth.login.success");
  ok.detail.clear();
  JsonWriter(ok.detail).begin_object().key("session").string(session.id).key("aal").integer(2).key("method").string(
      method).end_object();
  audit.push_back(std::move(ok));
  if (use.recovery_digest)
    audit.push_back(App::audit_entry(req.request_id, req.remote_addr, who, "auth.mfa.recovery_code.use"));
  const std::string sid = session.id;
  const bool recovery = use.recovery_digest.has_value();
  mfa.complete_challenge(
      digest, std::move(use), std::move(session), now, std::move(audit),
      App::on_loop(req, [this, refuse, user = std::move(*user), sid, refresh, recovery, mfa_key, address_key,
                         request_id = req.request_id, respond](Result<storage::Account> account) mutable {
        if (!account) {
          // Spent meanwhile (a replayed code, a used recovery code, a consumed challenge) or the user is gone.
          if (account.error().code == ProblemCode::kUnauthorized)
            return refuse(recovery ? "recovery_code_spent" : "code_spent", std::move(respond));
          return app.fail(request_id, {}, account.error(), respond, route);
        }
        save_throttles(throttle.succeeded(mfa_key, address_key, clock.now_ms()));
        mfa_verified.inc();
        if (recovery) mfa_recovery_used.inc();
        logins_ok.inc();
        std::string body;
        JsonWriter w(body);
        w.begin_object();
        write_tokens(w, access_token(account->user_id, sid, account->roles, 2), refresh);
        w.key("user");
        write_record(w, user, users, app.concept_, {});
        w.end_object();
        respond(json_response(200, std::move(body), route, account->user_id));
      }));
}

void App::Auth::totp_enrol(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/mfa/totp";
  static constexpr std::string_view kNames[] = {"password"};
  const std::string& uid = *caller.id;
  auto account = app.storage_.find_account(uid);
  if (!account) return app.fail(req.request_id, caller, account.error(), respond, route);
  if (!*account)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kUnauthorized, "The user of this token no longer exists."), respond, route);
  if ((*account)->mfa)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kConflict,
                                  "A TOTP factor is already set up: remove it first (DELETE /api/v1/auth/mfa/totp)."),
                    respond, route);
  // The enrolment itself, once the caller is confirmed.
  auto enrol = [this, caller, email = (*account)->email, request_id = req.request_id, address = req.remote_addr,
                loop = req.loop](http::Responder respond) {
    const std::string secret = auth::new_totp_secret();
    const std::string uri = auth::otpauth_uri(settings.mfa_issuer, email, secret);
    auto svg = auth::qr_svg(uri);
    if (!svg)
      return app.fail(request_id, caller,
                      Problem::make(ProblemCode::kInternal, "The QR code could not be drawn.", "libqrencode failed"),
                      respond, route);
    storage::AuditEntry e = App::audit_entry(request_id, address, caller, "auth.mfa.totp.enrol");
    app.storage_.mfa()->begin_totp(
        *caller.id, data_keys->seal(secret, totp_associated_data(*caller.id)), clock.now_ms(), {std::move(e)},
        App::on_loop(loop, [this, caller, secret = auth::base32_encode(secret), uri, svg = std::move(*svg), request_id,
                            respond](Status st) mutable {
          if (!st) return app.fail(request_id, caller, st.error(), respond, route);
          mfa_enrolled.inc();
          std::string body;
          JsonWriter w(body);
          w.begin_object();
          w.key("secret").string(secret);
          w.key("otpauth_uri").string(uri);
          w.key("qr_svg").string(svg);
          w.end_object();
          respond(json_response(201, std::move(body), route, *caller.id));
        }));
  };
  // Re-authentication: a stolen access token alone must not be able to put the thief's factor on the account
  // (the owner would then be asked for the thief's codes). An account without a password (made by OpenID Connect)
  // has nothing to re-check here: its session came from the provider.
  if ((*account)->password_hash.empty()) return enrol(std::move(respond));
  auto fields = required_fields(req.body, kNames, kMaxSecretBytes);
  if (!fields) return app.fail(req.request_id, caller, fields.error(), respond, route);
  const std::string account_key = auth::LoginThrottle::account_key((*account)->email);
  const std::string address_key = auth::LoginThrottle::address_key(req.remote_addr);
  std::vector<auth::ThrottleState> counted;
  if (auto wait_ms = throttle.begin(account_key, address_key, clock.now_ms(), counted))
    return respond(throttled_response("Too many failed password checks", *wait_ms, req.request_id, route, uid));
  save_throttles(counted);
  offload(req.request_id, caller, route, respond,
          [this, caller, enrol, stored = (*account)->password_hash, password = std::move((*fields)[0]), account_key,
           address_key, request_id = req.request_id, respond]() mutable {
            password_hashes.inc();
            if (auth::verify_password(password, stored, params) == auth::Verify::kMismatch) {
              Problem p = Problem::make(ProblemCode::kForbidden, "The password is wrong.");
              p.errors.push_back({"password", "mismatch", "is not the current password"});
              return app.fail(request_id, caller, p, respond, route);
            }
            save_throttles(throttle.succeeded(account_key, address_key, clock.now_ms()));
            enrol(std::move(respond));
          });
}

void App::Auth::totp_confirm(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/mfa/totp/confirm";
  static constexpr std::string_view kNames[] = {"code"};
  auto fields = parse_string_fields(req.body, kNames, kMaxCodeBytes);
  if (!fields) return app.fail(req.request_id, caller, fields.error(), respond, route);
  if (!(*fields)[0]) return app.fail(req.request_id, caller, required({"code"}), respond, route);
  const std::string& uid = *caller.id;
  storage::MfaStore& mfa = *app.storage_.mfa();
  auto factor = mfa.find_totp(uid);
  if (!factor) return app.fail(req.request_id, caller, factor.error(), respond, route);
  if (!*factor || (*factor)->confirmed_ms)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kConflict,
                                  "No TOTP enrolment waits for confirmation: begin one with POST /api/v1/auth/mfa/totp."),
                    respond, route);
  auto secret = data_keys->open((*factor)->secret_sealed, totp_associated_data(uid));
  if (!secret) return app.fail(req.request_id, caller, no_data_key(), respond, route);
  const std::int64_t now = clock.now_ms();
  auto step = auth::totp_verify(*secret, *(*fields)[0], now, std::nullopt);
  if (!step) {
    Problem p = Problem::make(ProblemCode::kUnprocessable,
                              "The code does not match: check the device's clock and enter the code it shows now.");
    p.errors.push_back({"code", "invalid", "is not the current code of this enrolment"});
    return app.fail(req.request_id, caller, p, respond, route);
  }
  std::vector<std::string> codes = auth::new_recovery_codes();
  std::vector<std::string> digests;
  for (const auto& c : codes) digests.push_back(auth::recovery_code_digest(*auth::normalise_recovery_code(c)));
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, caller, "auth.mfa.totp.confirm");
  mfa.confirm_totp(
      uid, (*factor)->secret_sealed, *step, std::move(digests), caller.session_id, now, {std::move(e)},
      App::on_loop(req, [this, caller, codes = std::move(codes), request_id = req.request_id,
                         respond](Result<std::vector<std::string>> ended) mutable {
        if (!ended) return app.fail(request_id, caller, ended.error(), respond, route);
        for (const auto& sid : *ended) app.revocations_.revoke_session(sid, clock.now_ms());
        mfa_confirmed.inc();
        std::string body;
        JsonWriter w(body);
        w.begin_object();
        w.key("recovery_codes").begin_array();
        for (const auto& c : codes) w.string(c);
        w.end_array();
        // This session proved the factor: from now on it is at level 2 (its refresh tokens too).
        w.key("access_token").string(access_token(*caller.id, caller.session_id, caller.roles, 2));
        w.key("token_type").string("Bearer");
        w.key("expires_in").integer(settings.access_ttl_s);
        w.end_object();
        respond(json_response(200, std::move(body), route, *caller.id));
      }));
}

void App::Auth::totp_remove(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/mfa/totp";
  static constexpr std::string_view kNames[] = {"password", "code", "recovery_code"};
  auto fields = parse_string_fields(req.body, kNames, kMaxSecretBytes);
  if (!fields) return app.fail(req.request_id, caller, fields.error(), respond, route);
  const int given = ((*fields)[0] ? 1 : 0) + ((*fields)[1] ? 1 : 0) + ((*fields)[2] ? 1 : 0);
  if (given != 1) {
    Problem p = Problem::make(ProblemCode::kUnprocessable,
                              "Confirm who you are with one of password, code or recovery_code.");
    p.errors.push_back({"password", given == 0 ? "required" : "conflict",
                        given == 0 ? "is required (or code, or recovery_code)" : "give only one"});
    return app.fail(req.request_id, caller, p, respond, route);
  }
  const std::string& uid = *caller.id;
  storage::MfaStore& mfa = *app.storage_.mfa();
  auto factor = mfa.find_totp(uid);
  if (!factor) return app.fail(req.request_id, caller, factor.error(), respond, route);
  if (!*factor)
    return app.fail(req.request_id, caller, Problem::make(ProblemCode::kNotFound, "No TOTP factor is set up."),
                    respond, route);
  auto account = app.storage_.find_account(uid);
  if (!account) return app.fail(req.request_id, caller, account.error(), respond, route);
  if (!*account)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kUnauthorized, "The user of this token no longer exists."), respond, route);
  // Guessing the password or a code with a stolen access token is throttled like a login.
  const std::string key = (*fields)[0] ? auth::LoginThrottle::account_key((*account)->email) : mfa_throttle_key(uid);
  const std::string address_key = auth::LoginThrottle::address_key(req.remote_addr);
  const std::int64_t now = clock.now_ms();
  std::vector<auth::ThrottleState> counted;
  if (auto wait_ms = throttle.begin(key, address_key, now, counted))
    return respond(throttled_response("Too many failed checks", *wait_ms, req.request_id, route, uid));
  save_throttles(counted);

  auto forbidden = [](std::string field, std::string detail) {
    Problem p = Problem::make(ProblemCode::kForbidden, std::move(detail));
    p.errors.push_back({std::move(field), "mismatch", "does not confirm who you are"});
    return p;
  };
  // The removal itself, once the caller is confirmed (`use` is spent in its transaction).
  auto remove = [this, caller, key, address_key, forbidden, request_id = req.request_id, address = req.remote_addr,
                 loop = req.loop](storage::FactorUse use, http::Responder respond) {
    storage::AuditEntry e = App::audit_entry(request_id, address, caller, "auth.mfa.totp.remove");
    app.storage_.mfa()->remove_totp(
        *caller.id, std::move(use), caller.session_id, clock.now_ms(), {std::move(e)},
        App::on_loop(loop, [this, caller, key, address_key, forbidden, request_id,
                            respond](Result<std::vector<std::string>> ended) mutable {
          if (!ended) {
            if (ended.error().code == ProblemCode::kUnauthorized)
              return app.fail(request_id, caller, forbidden("code", "The code is wrong or was already used."), respond,
                              route);
            return app.fail(request_id, caller, ended.error(), respond, route);
          }
          save_throttles(throttle.succeeded(key, address_key, clock.now_ms()));
          for (const auto& sid : *ended) app.revocations_.revoke_session(sid, clock.now_ms());
          mfa_removed.inc();
          respond(no_content(route, *caller.id));
        }));
  };

  if ((*fields)[0] && caller.aal < 2)
    return app.fail(req.request_id, caller,
                    forbidden("password", "Removing the factor from a session that did not use it needs a code or a "
                                          "recovery code, not the password."),
                    respond, route);
  if ((*fields)[0]) {  // the password, from a session that proved the factor: argon2id on the worker pool
    offload(req.request_id, caller, route, respond,
            [this, caller, remove, forbidden, stored = (*account)->password_hash, password = std::move(*(*fields)[0]),
             request_id = req.request_id, respond]() mutable {
              password_hashes.inc();
              if (stored.empty() || auth::verify_password(password, stored, params) == auth::Verify::kMismatch)
                return app.fail(request_id, caller, forbidden("password", "The password is wrong."), respond, route);
              remove(storage::FactorUse{}, std::move(respond));
            });
    return;
  }
  storage::FactorUse use;
  if ((*fields)[1]) {
    auto secret = (*factor)->confirmed_ms ? data_keys->open((*factor)->secret_sealed, totp_associated_data(uid))
                                          : std::nullopt;
    if ((*factor)->confirmed_ms && !secret) return app.fail(req.request_id, caller, no_data_key(), respond, route);
    if (secret) use.totp_step = auth::totp_verify(*secret, *(*fields)[1], now, (*factor)->last_step);
    if (!use.totp_step)
      return app.fail(req.request_id, caller, forbidden("code", "The code is wrong or was already used."), respond,
                      route);
  } else {
    auto canonical = auth::normalise_recovery_code(*(*fields)[2]);
    if (!canonical)
      return app.fail(req.request_id, caller, forbidden("recovery_code", "The recovery code is wrong."), respond,
                      route);
    use.recovery_digest = auth::recovery_code_digest(*canonical);
  }
  remove(std::move(use), std::move(respond));
}

}  // namespace slipway::api
