// The auth API (docs/api.md#auth): sign-up, login, refresh, logout, me, password change, sessions, JWKS, and the
// second factor (mfa_routes.cpp: TOTP enrolment, confirmation, removal; the login's second step). Only
// served when the concept file has an `auth:` section. Password hashing runs on the worker pool, never on an event
// loop; storage writes complete on the writer thread; answers are sent from whichever thread finishes.
// Thread safety: handlers run on every event loop at once; the state they share (key ring, revocation list,
// metrics) is thread-safe or immutable.
#pragma once

#include <memory>
#include <string>

#include "api/app.h"
#include "api/oidc_providers.h"
#include "auth/data_keys.h"
#include "auth/key_ring.h"
#include "auth/login_throttle.h"
#include "auth/password.h"
#include "auth/revocations.h"
#include "auth/successor_seal.h"
#include "core/clock.h"
#include "core/json_writer.h"
#include "core/uuid7.h"
#include "obs/metrics.h"
#include "storage/email.h"

namespace slipway::runtime {
class WorkerPool;
}

namespace slipway::api {

struct App::Auth {
  Auth(App& app, const model::AuthSettings& settings, std::shared_ptr<const auth::KeyRing> keys,
       std::shared_ptr<const auth::DataKeys> data_keys, runtime::WorkerPool& pool, auth::PasswordParams params);

  void sign_up(http::Request& req, const Principal& caller, http::Responder respond);
  void login(http::Request& req, http::Responder respond);
  void refresh(http::Request& req, http::Responder respond);
  void logout(http::Request& req, const Principal& caller, http::Responder respond);
  void me(http::Request& req, const Principal& caller, http::Responder respond);
  void change_password(http::Request& req, const Principal& caller, http::Responder respond);
  void list_sessions(http::Request& req, const Principal& caller, http::Responder respond);
  void revoke_session(http::Request& req, std::string_view id, const Principal& caller, http::Responder respond);
  void revoke_other_sessions(http::Request& req, const Principal& caller, http::Responder respond);
  void jwks(http::Request& req, http::Responder respond);
  // mfa_routes.cpp
  void totp_enrol(http::Request& req, const Principal& caller, http::Responder respond);
  void totp_confirm(http::Request& req, const Principal& caller, http::Responder respond);
  void totp_remove(http::Request& req, const Principal& caller, http::Responder respond);
  void mfa_verify(http::Request& req, http::Responder respond);
  // email_routes.cpp (served when the file has `smtp:` and `auth: email:`)
  void verify_email(http::Request& req, http::Responder respond);
  void resend_verification(http::Request& req, const Principal& caller, http::Responder respond);
  void request_password_reset(http::Request& req, http::Responder respond);
  void confirm_password_reset(http::Request& req, http::Responder respond);
  void request_email_change(http::Request& req, const Principal& caller, http::Responder respond);
  void confirm_email_change(http::Request& req, http::Responder respond);

  bool email_flows() const { return !settings.email_app_url.empty(); }
  // oidc_routes.cpp (served for the providers of `auth: oidc:`)
  void oidc_start(http::Request& req, std::string_view provider, http::Responder respond);
  void oidc_callback(http::Request& req, std::string_view provider, http::Responder respond);
  std::unique_ptr<OidcProviders> oidc;        // null without providers
  runtime::WorkerPool* outbound_pool = nullptr;  // where sign-ins call the provider (blocking)
  // What a sign-up adds to its transaction when e-mail flows are on: a verification token and its mail.
  std::function<Status(storage::Connection&, const std::string&)> verification_on_signup(const std::string& email);
  std::function<void()> mail_queued;  // wakes the mail sender (api/mail_sender.h); may be empty
  App& app;
  SystemClock clock;  // session times and token iat/exp
  const model::AuthSettings& settings;
  const model::Collection& users;
  std::shared_ptr<const auth::KeyRing> keys;
  std::shared_ptr<const auth::DataKeys> data_keys;  // seal TOTP secrets
  auth::SuccessorSeal seal;
  runtime::WorkerPool& pool;
  auth::PasswordParams params;
  Uuid7Generator session_ids;
  auth::LoginThrottle throttle;

  obs::Counter logins_ok, logins_failed, logins_rejected, logins_throttled;
  obs::Counter refresh_rotated, refresh_repeated, refresh_reused, refresh_invalid;
  obs::Counter password_hashes;
  obs::Counter signups;
  // slipway_auth_mfa_total{event}: challenges issued, second factors verified / failed / throttled, recovery codes
  // used, factors enrolled / confirmed / removed.
  obs::Counter mfa_challenges, mfa_verified, mfa_failed, mfa_throttled, mfa_recovery_used;
  obs::Counter mfa_enrolled, mfa_confirmed, mfa_removed;
  // slipway_auth_email_total{event}: verification mails, verified addresses, reset requests and uses, address
  // change requests and changes.
  obs::Counter email_verification_sent, email_verified, email_reset_requested, email_reset_used,
      email_change_requested, email_changed;

 private:
  // A fresh access token for the session, plus the JSON of a token answer.
  std::string access_token(const std::string& user_id, const std::string& session_id,
                           const std::vector<std::string>& roles, int aal) const;
  // The token members of an answer object (access_token, token_type, expires_in, refresh_token).
  void write_tokens(JsonWriter& w, const std::string& access, const std::string& refresh) const;
  void save_throttles(const std::vector<auth::ThrottleState>& states);
  // After a correct password, for a user with a second factor: a challenge instead of tokens (mfa_routes.cpp).
  void issue_mfa_challenge(const std::string& user_id, std::string request_id, std::string address,
                           const http::Continuation* loop, http::Responder respond);
  // Queues a token (optional) and mails (storage/system/email_store.h), then wakes the sender; `done` may be empty.
  void queue_mail(std::optional<storage::EmailToken> token, std::vector<storage::QueuedMail> mail,
                  std::int64_t min_interval_ms, std::vector<storage::AuditEntry> audit,
                  std::function<void(Result<bool>)> done);
  // A mail ready for the queue: its id, sealed text, and the time.
  storage::QueuedMail make_mail(std::string recipient, std::string kind, const struct MailText& text);
  // The link a mail carries: <app_url><path>?token=<token>.
  std::string link(std::string_view path, std::string_view token) const;
  // The throttle key of a user's second factor: apart from the password's, so a right password never resets it.
  static std::string mfa_throttle_key(std::string_view user_id);
  // Runs `task` on the hashing pool; answers 503 with Retry-After when the pool is full.
  bool offload(std::string_view request_id, const Principal& caller, std::string_view route,
               http::Responder& respond, std::function<void()> task);
  // The same on `on`, with `busy` as the 503's detail.
  bool submit_to(runtime::WorkerPool& on, std::string_view busy, std::string_view request_id, const Principal& caller,
                 std::string_view route, http::Responder& respond, std::function<void()> task);
};

}  // namespace slipway::api
