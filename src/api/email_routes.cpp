// The e-mail flows (docs/security.md#e-mail-flows): verification at sign-up, password reset, change of address.
// Each mail carries a single-use token (256 random bits; stored as its digest) in a link to the app; the app posts
// it here. Mail is only queued here, in the database with the change that causes it; api/mail_sender.h sends it.
#include "api/auth_common.h"
#include "api/auth_routes.h"
#include "api/mail_templates.h"
#include "api/problem_json.h"
#include "api/record_input.h"
#include "auth/opaque_token.h"
#include "auth/password_policy.h"
#include "core/text_formats.h"
#include "storage/system/email_store.h"

namespace slipway::api {
namespace {

constexpr std::int64_t kVerifyTtlMs = 24 * 3600'000;
constexpr std::int64_t kResetTtlMs = 30 * 60'000;
constexpr std::int64_t kChangeTtlMs = 24 * 3600'000;
constexpr std::int64_t kResendIntervalMs = 60'000;  // one mail of a kind per user per minute, whoever asks
constexpr std::size_t kMaxTokenBytes = 256;
constexpr std::size_t kMaxEmailBytes = 254;

Problem bad_link() {
  return Problem::make(ProblemCode::kUnauthorized,
                       "The link is not valid: expired, already used, or replaced by a newer one.");
}

}  // namespace

std::string App::Auth::link(std::string_view path, std::string_view token) const {
  return settings.email_app_url + std::string(path) + "?token=" + std::string(token);
}

storage::QueuedMail App::Auth::make_mail(std::string recipient, std::string kind, const MailText& text) {
  storage::QueuedMail m;
  m.id = session_ids.generate();
  m.recipient = std::move(recipient);
  m.kind = std::move(kind);
  m.sealed = seal_mail(*data_keys, m.id, text);
  m.created_ms = clock.now_ms();
  return m;
}

void App::Auth::queue_mail(std::optional<storage::EmailToken> token, std::vector<storage::QueuedMail> mail,
                           std::int64_t min_interval_ms, std::vector<storage::AuditEntry> audit,
                           std::function<void(Result<bool>)> done) {
  app.storage_.email()->issue(std::move(token), std::move(mail), min_interval_ms, std::move(audit),
                              [this, done = std::move(done)](Result<bool> issued) {
                                if (issued && *issued && mail_queued) mail_queued();
                                if (done) done(std::move(issued));
                              });
}

std::function<Status(storage::Connection&, const std::string&)> App::Auth::verification_on_signup(
    const std::string& email) {
  const std::string token = auth::random_token();
  storage::EmailToken t{auth::token_digest(token), "", "verify", email, clock.now_ms(), clock.now_ms() + kVerifyTtlMs};
  storage::QueuedMail m = make_mail(email, "verify", verification_mail(app.concept_.app, link("/verify-email", token)));
  return [t, m](storage::Connection& conn, const std::string& user_id) mutable -> Status {
    t.user_id = user_id;
    if (Status st = storage::EmailStore::insert_token(conn, t); !st) return st;
    return storage::EmailStore::enqueue(conn, m);
  };
}

void App::Auth::verify_email(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/verify-email";
  static constexpr std::string_view kNames[] = {"token"};
  auto fields = parse_string_fields(req.body, kNames, kMaxTokenBytes);
  if (!fields) return app.fail(req.request_id, {}, fields.error(), respond, route);
  if (!(*fields)[0]) return app.fail(req.request_id, {}, required({"token"}), respond, route);
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, Principal{}, "auth.email.verify");
  e.actor_kind = "user";
  app.storage_.email()->verify_email(
      auth::token_digest(*(*fields)[0]), clock.now_ms(), {std::move(e)},
      App::on_loop(req, [this, request_id = req.request_id, respond](Result<std::string> user) mutable {
        if (!user) return app.fail(request_id, {}, user.error(), respond, route);
        email_verified.inc();
        respond(no_content(route, *user));
      }));
}

void App::Auth::resend_verification(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/verify-email/resend";
  static constexpr std::string_view kNames[] = {"email"};
  // A signed-in user asks for themselves; anyone else names an address (a login refused for an unverified address
  // has no token) and gets the same 202 whether or not it is known.
  std::optional<std::string> email;
  if (caller.kind == PrincipalKind::kUser) {
    auto account = app.storage_.find_account(*caller.id);
    if (!account) return app.fail(req.request_id, caller, account.error(), respond, route);
    if (*account && (*account)->email_verified)
      return app.fail(req.request_id, caller,
                      Problem::make(ProblemCode::kConflict, "This e-mail address is verified already."), respond, route);
    if (*account) email = (*account)->email;
  } else {
    auto fields = parse_string_fields(req.body, kNames, kMaxEmailBytes);
    if (!fields) return app.fail(req.request_id, caller, fields.error(), respond, route);
    if (!(*fields)[0]) return app.fail(req.request_id, caller, required({"email"}), respond, route);
    email = normalised_email(*(*fields)[0]);
  }
  http::Response accepted = json_response(202, "{\"status\":\"accepted\"}", route, caller.id.value_or(""));
  auto account = app.storage_.find_account_by_email(*email);
  if (!account) return app.fail(req.request_id, caller, account.error(), respond, route);
  if (!*account || (*account)->email_verified || (*account)->disabled) return respond(std::move(accepted));
  const std::string token = auth::random_token();
  const std::int64_t now = clock.now_ms();
  storage::EmailToken t{auth::token_digest(token), (*account)->user_id, "verify", *email, now, now + kVerifyTtlMs};
  std::vector<storage::QueuedMail> mail{
      make_mail(*email, "verify", verification_mail(app.concept_.app, link("/verify-email", token)))};
  queue_mail(std::move(t), std::move(mail), kResendIntervalMs, {}, [this](Result<bool> issued) {
    if (issued && *issued) email_verification_sent.inc();
  });
  respond(std::move(accepted));  // not waiting for the write: known and unknown addresses answer alike
}

void App::Auth::request_password_reset(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/password/reset";
  static constexpr std::string_view kNames[] = {"email"};
  auto fields = parse_string_fields(req.body, kNames, kMaxEmailBytes);
  if (!fields) return app.fail(req.request_id, {}, fields.error(), respond, route);
  if (!(*fields)[0]) return app.fail(req.request_id, {}, required({"email"}), respond, route);
  const std::string email = normalised_email(*(*fields)[0]);
  if (!valid_email(email)) {
    Problem p = Problem::make(ProblemCode::kUnprocessable, "The e-mail address is not valid.");
    p.errors.push_back({"email", "email", "must be an email address"});
    return app.fail(req.request_id, {}, p, respond, route);
  }
  auto account = app.storage_.find_account_by_email(email);
  if (!account) return app.fail(req.request_id, {}, account.error(), respond, route);
  if (*account && !(*account)->disabled) {
    const std::string token = auth::random_token();
    const std::int64_t now = clock.now_ms();
    storage::EmailToken t{auth::token_digest(token), (*account)->user_id, "reset", email, now, now + kResetTtlMs};
    std::vector<storage::QueuedMail> mail{make_mail(
        email, "reset", reset_mail(app.concept_.app, link("/reset-password", token), kResetTtlMs / 60'000))};
    Principal who;
    who.kind = PrincipalKind::kUser;
    who.id = (*account)->user_id;
    storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, who, "auth.password.reset.request");
    queue_mail(std::move(t), std::move(mail), kResendIntervalMs, {std::move(e)}, [this](Result<bool> issued) {
      if (issued && *issued) email_reset_requested.inc();
    });
  }
  // The same answer, at once, for a known, unknown or disabled address: nothing here tells them apart.
  respond(json_response(202, "{\"status\":\"accepted\"}", route, ""));
}

void App::Auth::confirm_password_reset(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/password/reset/confirm";
  static constexpr std::string_view kNames[] = {"token", "new_password"};
  auto fields = required_fields(req.body, kNames, kMaxSecretBytes);
  if (!fields) return app.fail(req.request_id, {}, fields.error(), respond, route);
  if (auto why = auth::check_password((*fields)[1], {settings.password_min_length, 1024})) {
    Problem p = Problem::make(ProblemCode::kUnprocessable, "The password does not meet the password policy.");
    p.errors.push_back({"new_password", "password_policy", *why});
    return app.fail(req.request_id, {}, p, respond, route);
  }
  const std::string digest = auth::token_digest((*fields)[0]);
  // A dead link costs no hashing: checked first (the write checks it again, and spends it).
  auto live = app.storage_.email()->find_token(digest, "reset", clock.now_ms());
  if (!live) return app.fail(req.request_id, {}, live.error(), respond, route);
  if (!*live) return app.fail(req.request_id, {}, bad_link(), respond, route);
  offload(req.request_id, {}, route, respond,
          [this, digest, password = std::move((*fields)[1]), request_id = req.request_id, address = req.remote_addr,
           loop = req.loop, respond]() mutable {
            password_hashes.inc();
            auto hash = auth::hash_password(password, params);
            if (!hash) return app.fail(request_id, {}, hash.error(), respond, route);
            storage::AuditEntry e = App::audit_entry(request_id, address, Principal{}, "auth.password.reset.use");
            app.storage_.email()->reset_password(
                digest, std::move(*hash), clock.now_ms(), {std::move(e)},
                App::on_loop(loop, [this, request_id, respond](Result<storage::EmailStore::ResetOutcome> r) mutable {
                  if (!r) return app.fail(request_id, {}, r.error(), respond, route);
                  for (const auto& sid : r->revoked) app.revocations_.revoke_session(sid, clock.now_ms());
                  email_reset_used.inc();
                  respond(no_content(route, r->user_id));
                }));
          });
}

void App::Auth::request_email_change(http::Request& req, const Principal& caller, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/email";
  static constexpr std::string_view kNames[] = {"new_email", "password"};
  auto fields = required_fields(req.body, kNames, kMaxSecretBytes);
  if (!fields) return app.fail(req.request_id, caller, fields.error(), respond, route);
  const std::string new_email = normalised_email((*fields)[0]);
  if (new_email.size() > kMaxEmailBytes || !valid_email(new_email)) {
    Problem p = Problem::make(ProblemCode::kUnprocessable, "The new e-mail address is not valid.");
    p.errors.push_back({"new_email", "email", "must be an email address"});
    return app.fail(req.request_id, caller, p, respond, route);
  }
  auto account = app.storage_.find_account(*caller.id);
  if (!account) return app.fail(req.request_id, caller, account.error(), respond, route);
  if (!*account)
    return app.fail(req.request_id, caller,
                    Problem::make(ProblemCode::kUnauthorized, "The user of this token no longer exists."), respond, route);
  if ((*account)->email == new_email) {
    Problem p = Problem::make(ProblemCode::kUnprocessable, "This is already the account's e-mail address.");
    p.errors.push_back({"new_email", "unchanged", "is the current address"});
    return app.fail(req.request_id, caller, p, respond, route);
  }
  // Re-authentication: the password, throttled like a login on the account's own key.
  std::string account_key = auth::LoginThrottle::account_key((*account)->email);
  std::string address_key = auth::LoginThrottle::address_key(req.remote_addr);
  std::vector<auth::ThrottleState> counted;
  if (auto wait_ms = throttle.begin(account_key, address_key, clock.now_ms(), counted))
    return respond(throttled_response("Too many failed password checks", *wait_ms, req.request_id, route, *caller.id));
  save_throttles(counted);
  offload(req.request_id, caller, route, respond,
          [this, caller, stored = (*account)->password_hash, old_email = (*account)->email, new_email,
           password = std::move((*fields)[1]), account_key = std::move(account_key),
           address_key = std::move(address_key), request_id = req.request_id, address = req.remote_addr,
           loop = req.loop, respond]() mutable {
            password_hashes.inc();
            if (stored.empty() || auth::verify_password(password, stored, params) == auth::Verify::kMismatch) {
              Problem p = Problem::make(ProblemCode::kForbidden, "The password is wrong.");
              p.errors.push_back({"password", "mismatch", "is not the current password"});
              return app.fail(request_id, caller, p, respond, route);
            }
            save_throttles(throttle.succeeded(account_key, address_key, clock.now_ms()));
            // Only after the password: no cheap way to ask whether an address has an account.
            auto taken = app.storage_.find_account_by_email(new_email);
            if (!taken) return app.fail(request_id, caller, taken.error(), respond, route);
            if (*taken) {  // as sign-up does: an address in use cannot be given (sign-up would say so anyway)
              Problem p = Problem::make(ProblemCode::kConflict, "Another account uses this e-mail address.");
              p.errors.push_back({"new_email", "unique", "is already in use"});
              return app.fail(request_id, caller, p, respond, route);
            }
            const std::string token = auth::random_token();
            const std::int64_t now = clock.now_ms();
            storage::EmailToken t{auth::token_digest(token), *caller.id, "change", new_email, now, now + kChangeTtlMs};
            std::vector<storage::QueuedMail> mail{
                make_mail(new_email, "change", change_mail(app.concept_.app, link("/confirm-email", token), new_email)),
                make_mail(old_email, "change_notice", change_notice_mail(app.concept_.app, new_email))};
            storage::AuditEntry e = App::audit_entry(request_id, address, caller, "auth.email.change.request");
            queue_mail(std::move(t), std::move(mail), kResendIntervalMs, {std::move(e)},
                       App::on_loop(loop, [this, caller, request_id, respond](Result<bool> issued) mutable {
                         if (!issued) return app.fail(request_id, caller, issued.error(), respond, route);
                         if (*issued) email_change_requested.inc();
                         respond(json_response(202, "{\"status\":\"accepted\"}", route, *caller.id));
                       }));
          });
}

void App::Auth::confirm_email_change(http::Request& req, http::Responder respond) {
  static constexpr std::string_view route = "/api/v1/auth/email/confirm";
  static constexpr std::string_view kNames[] = {"token"};
  auto fields = parse_string_fields(req.body, kNames, kMaxTokenBytes);
  if (!fields) return app.fail(req.request_id, {}, fields.error(), respond, route);
  if (!(*fields)[0]) return app.fail(req.request_id, {}, required({"token"}), respond, route);
  const std::string digest = auth::token_digest(*(*fields)[0]);
  const std::int64_t now = clock.now_ms();
  auto live = app.storage_.email()->find_token(digest, "change", now);
  if (!live) return app.fail(req.request_id, {}, live.error(), respond, route);
  if (!*live) return app.fail(req.request_id, {}, bad_link(), respond, route);
  const std::string user_id = (*live)->user_id;
  const std::string new_email = (*live)->email;
  // The users record changes like any record (version, caches, change feed, the unique address), with the token
  // spent in the same transaction.
  storage::UpdateCommand cmd;
  cmd.collection = &users;
  cmd.id = user_id;
  cmd.changes.emplace_back(users.field_index(model::kUsersEmailField), Value(new_email));
  cmd.effects = [digest, user_id, new_email, now](storage::Connection& conn) {
    return storage::EmailStore::spend_change_token(conn, digest, user_id, new_email, now);
  };
  Principal who;
  who.kind = PrincipalKind::kUser;
  who.id = user_id;
  storage::AuditEntry e = App::audit_entry(req.request_id, req.remote_addr, who, "auth.email.change");
  e.collection = users.name;
  e.record_id = user_id;
  cmd.audit.push_back(std::move(e));
  app.storage_.update(std::move(cmd), Principal::bootstrap_admin(),
                      App::on_loop(req, [this, user_id, request_id = req.request_id, respond](Result<storage::Record> r) mutable {
                        if (!r) {
                          Problem p = r.error();
                          if (p.code == ProblemCode::kNotFound) p = bad_link();  // the user is gone
                          return app.fail(request_id, {}, p, respond, route);
                        }
                        email_changed.inc();
                        respond(no_content(route, user_id));
                      }));
}

}  // namespace slipway::api
