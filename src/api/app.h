// App: the application behind the HTTP server (implements http::Handler). Resolves the caller, matches the one
// route table, and dispatches in a fixed order: route → auth → handler → (session: access log + metrics).
// Wiring happens in cli/serve.cpp; App owns no threads.
// Thread safety: handle() is called concurrently from every event loop; App's state is immutable after
// construction except the readiness flag (atomic).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "api/client_address.h"
#include "api/cors.h"
#include "api/list_cache.h"
#include "api/rate_limits.h"
#include "api/security_headers.h"
#include "api/routes.h"
#include "auth/api_keys.h"
#include "auth/authenticator.h"
#include "auth/data_keys.h"
#include "auth/key_ring.h"
#include "auth/password.h"
#include "auth/revocations.h"
#include "core/principal.h"
#include "core/concept/model.h"
#include "http/handler.h"
#include "obs/metrics.h"
#include "storage/storage.h"

namespace slipway::outbound {
class OutboundClient;
}

namespace slipway::runtime {
class WorkerPool;
}

namespace slipway::obs {
class Logger;
class Metrics;
}  // namespace slipway::obs

namespace slipway::api {

struct AppOptions {
  std::string admin_token;  // the secret; only its SHA-256 is kept after construction
  // Identity (when the concept file has `auth:`): the access-token keys and the pool that hashes passwords.
  std::shared_ptr<const auth::KeyRing> keys;
  std::shared_ptr<const auth::DataKeys> data_keys;  // seal TOTP secrets
  runtime::WorkerPool* hash_pool = nullptr;
  // Set when storage calls block on the network (PostgreSQL): every handler that touches storage runs on this pool,
  // never on an event loop (docs/decisions/0010). Null on SQLite, whose reads are local and run on the loop.
  runtime::WorkerPool* storage_pool = nullptr;
  // A request that waited longer than this for a storage thread is answered 503 instead of run (with the pool's
  // own wait for a connection, the bound on how long a request waits for the database).
  int storage_wait_ms = 2000;
  auth::PasswordParams password_params;
  std::function<void()> mail_queued;  // wakes the mail sender when a request queued mail (may be empty)
  // OpenID Connect (`auth: oidc:`): the client for calls to providers, the pool those calls block on, and each
  // provider's client secret by name.
  outbound::OutboundClient* outbound = nullptr;
  runtime::WorkerPool* outbound_pool = nullptr;
  std::map<std::string, std::string> oidc_secrets;
};

class App final : public http::Handler {
 public:
  App(const model::Concept& concept_file, storage::Storage& storage, obs::Logger& logger, obs::Metrics& metrics,
      AppOptions options);
  ~App() override;

  // Route, CORS preflight, OPTIONS and 405, the caller (401), who may call the route (401/403) and an anonymous
  // write its collection's rule refuses whatever it carries (403): all from the header, before the body is read.
  http::Admission admit(http::Request& request) override;
  // REQUIRES: admit() let `request` go on (request.caller is its caller).
  void handle(http::Request& request, http::Responder respond) override;
  // Adds the CORS headers of the request's Origin (api/cors.h) and the security headers (api/security_headers.h) to
  // every response, errors included.
  void finish_response(const http::Request& request, http::Response& response) const override;

  std::uint64_t rate_limit_evictions() const { return rate_limits_.evictions(); }
  // /readyz turns 503 once draining starts (SIGTERM), before the server stops accepting.
  void set_draining() { draining_.store(true, std::memory_order_relaxed); }

 private:
  struct Records;
  struct Auth;
  struct Admin;
  // The route table's rows (app.cpp): every route slipway serves, with its handlers below. The auth rows are there
  // only with identity on (`auth:` in the file).
  static std::vector<RouteSpec> route_rows(bool identity, bool email_flows, bool oidc);
  static void livez(App& app, http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond);
  static void readyz(App& app, http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond);
  static void metrics(App& app, http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond);
  static void list_records(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                           http::Responder respond);
  static void list_records_blocking(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                                    http::Responder respond);  // list_records where blocking is harmless
  static void create_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                            http::Responder respond);
  static void get_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                         http::Responder respond);
  static void get_record_blocking(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                                  http::Responder respond);  // get_record where blocking is harmless
  static void patch_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                           http::Responder respond);
  static void delete_record(App& app, http::Request& req, const RouteMatch& m, const Principal& caller,
                            http::Responder respond);
  // The collection a records route names, or a 404 answered (then nullptr).
  const model::Collection* collection_or_404(http::Request& req, const RouteMatch& m, const Principal& caller,
                                             http::Responder& respond) const;
  // Resolves Authorization: nullopt → anonymous; a Problem (401) when a token is presented and wrong.
  Result<Principal> authenticate(const http::Request& request) const;
  // The client address (api/client_address.h) into request.remote_addr. Returns its client key (its rate-limit
  // bucket identity).
  std::string resolve_client(http::Request& request) const;
  // Charges the request to its bucket of `rate_class` (the caller's, or the address's): nullopt when it passes (its
  // RateLimit fields then go on the response), else the 429 to answer.
  std::optional<http::Response> limit(http::Request& request, std::string_view rate_class, const Principal& caller,
                                      std::string_view client_key, std::string_view route);
  // Why `caller` may not call the matched route (401/403), or nullopt: the checks admit() makes after authenticating.
  std::optional<Problem> refuse(const RouteMatch& m, const http::Request& request, const Principal& caller) const;
  // The most body bytes the matched route reads: a collection's `body_limit` for its writes, 64 KiB otherwise.
  std::size_t body_limit(const RouteMatch& m, http::Method method) const;
 public:
  // Makes the caller's access tokens stop working on this instance (a user disabled, deleted, or given other roles):
  // tokens issued before now are refused, so the client refreshes (docs/security.md#revocation).
  void revoke_user_tokens(const std::string& user_id);
  // Writes the API keys' last-use times noted since the previous call and purges identity leftovers (sealed refresh
  // successors past their window, stale user revocations). serve calls it every 30 s and at shutdown.
  void housekeeping();

 private:
  // API keys and revocations from storage (at start-up, and again when another instance's change or a lost
  // listener connection says they may have changed).
  Status load_identity_state();
  // The change feed's subscriber: the list cache, and identity changes other instances made.
  void on_change(const storage::Change& change);
  // Runs the matched handler: on the event loop, or on the storage pool when storage calls block (a full pool
  // answers 503 with Retry-After).
  void dispatch(const RouteMatch& m, http::Request& request, const Principal& caller, http::Responder respond);
  // Runs `handler` where blocking storage calls are harmless: on the storage pool when there is one (a full pool,
  // or a wait past storage_wait_ms, answers 503 with Retry-After), else right here.
  void off_loop(const RouteMatch& m, http::Request& request, const Principal& caller, http::Responder respond,
                RouteHandler handler);
  // Wraps a storage completion so it runs on the request's event loop rather than on the thread that finished the
  // write (the writer, a database thread): rendering and the answer leave that thread. Without a loop (unit tests)
  // it runs where it is called. The completion must own what it uses (it holds the Responder, which keeps the
  // session and so its loop alive).
  template <class F>
  static auto on_loop(const http::Request& req, F f) {
    return on_loop(req.loop, std::move(f));
  }
  template <class F>
  static auto on_loop(const http::Continuation* loop, F f) {
    return [loop, f = std::move(f)](auto result) mutable {
      if (!loop) return f(std::move(result));
      loop->post([f = std::move(f), result = std::move(result)]() mutable { f(std::move(result)); });
    };
  }
  // An audit entry naming the caller, the request and `action` (api/app.cpp); the rest is the caller's to fill.
  static storage::AuditEntry audit_entry(std::string_view request_id, std::string_view address, const Principal& caller,
                                         std::string action);
  // Answers with the problem. `caller` names who asked in the access log: every response after authentication
  // carries it (docs/operations.md), errors included, so it is a parameter here rather than left to each caller.
  // The response fail() answers with (logging and auditing it as fail() does), for answers that are returned rather
  // than sent (admit()).
  http::Response failure(std::string_view request_id, const Principal& caller, const Problem& problem,
                         std::string_view route) const;
  void fail(std::string_view request_id, const Principal& caller, const Problem& problem, http::Responder& respond,
            std::string_view route) const;

  const model::Concept& concept_;
  storage::Storage& storage_;
  obs::Logger& logger_;
  obs::Metrics& metrics_;
  std::atomic<bool> draining_{false};
  SystemClock clock_;
  auth::RevocationList revocations_;
  auth::Authenticator authenticator_;
  std::unique_ptr<Auth> auth_;  // null without identity
  runtime::WorkerPool* storage_pool_ = nullptr;
  std::chrono::milliseconds storage_wait_{2000};
  mutable auth::ApiKeyRegistry api_keys_;
  mutable obs::Counter denied_anonymous_, denied_known_;  // resolve() notes last use
  std::unique_ptr<Admin> admin_;
  Cors cors_;
  ClientAddress client_address_;
  SecurityHeaders security_headers_;
  RateLimits rate_limits_;
  ListCache list_cache_;
  std::unique_ptr<Records> records_;
  const RouteTable routes_;
  friend struct Records;
  friend struct Auth;
  friend struct Admin;
};

}  // namespace slipway::api
