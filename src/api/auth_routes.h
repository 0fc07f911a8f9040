// The auth API (docs/api.md#auth): sign-up, login, refresh, logout, me, password change, sessions, JWKS. Only
// served when the concept file has an `auth:` section. Password hashing runs on the worker pool, never on an event
// loop; storage writes complete on the writer thread; answers are sent from whichever thread finishes.
// Thread safety: handlers run on every event loop at once; the state they share (key ring, revocation list,
// metrics) is thread-safe or immutable.
#pragma once

#include <memory>
#include <string>

#include "api/app.h"
#include "auth/key_ring.h"
#include "auth/login_throttle.h"
#include "auth/password.h"
#include "auth/revocations.h"
#include "auth/successor_seal.h"
#include "core/clock.h"
#include "core/json_writer.h"
#include "core/uuid7.h"
#include "obs/metrics.h"

namespace slipway::runtime {
class WorkerPool;
}

namespace slipway::api {

struct App::Auth {
  Auth(App& app, const model::AuthSettings& settings, std::shared_ptr<const auth::KeyRing> keys,
       runtime::WorkerPool& pool, auth::PasswordParams params);

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

  App& app;
  SystemClock clock;  // session times and token iat/exp
  const model::AuthSettings& settings;
  const model::Collection& users;
  std::shared_ptr<const auth::KeyRing> keys;
  auth::SuccessorSeal seal;
  runtime::WorkerPool& pool;
  auth::PasswordParams params;
  Uuid7Generator session_ids;
  auth::LoginThrottle throttle;

  obs::Counter logins_ok, logins_failed, logins_rejected, logins_throttled;
  obs::Counter refresh_rotated, refresh_repeated, refresh_reused, refresh_invalid;
  obs::Counter password_hashes;
  obs::Counter signups;

 private:
  // A fresh access token for the session, plus the JSON of a token answer.
  std::string access_token(const std::string& user_id, const std::string& session_id,
                           const std::vector<std::string>& roles, int aal) const;
  // The token members of an answer object (access_token, token_type, expires_in, refresh_token).
  void write_tokens(JsonWriter& w, const std::string& access, const std::string& refresh) const;
  void save_throttles(const std::vector<auth::ThrottleState>& states);
  // Runs `task` on the worker pool; answers 503 with Retry-After when the pool is full.
  bool offload(std::string_view request_id, const Principal& caller, std::string_view route,
               http::Responder& respond, std::function<void()> task);
};

}  // namespace slipway::api
