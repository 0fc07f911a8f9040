#include "api/app.h"

#include <sodium.h>

#include "api/problem_json.h"
#include "api/records.h"
#include "api/routes.h"
#include "core/ascii.h"
#include "core/json_writer.h"
#include "core/sha256.h"
#include "obs/logger.h"
#include "obs/metrics.h"

namespace slipway::api {
namespace {

// Who a response names before the caller is known (no route, a rejected token): nobody.
const AuthContext kAnonymous{};


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

App::App(const model::Concept& concept_file, storage::Storage& storage, obs::Logger& logger, obs::Metrics& metrics,
         AppOptions options)
    : concept_(concept_file), storage_(storage), logger_(logger), metrics_(metrics), cors_(concept_file.cors),
      records_(std::make_unique<Records>(Records{*this})) {
  if (!options.admin_token.empty()) admin_digest_ = sha256_raw(options.admin_token);
}

App::~App() = default;

void App::finish_response(const http::Request& request, http::Response& response) const {
  cors_.decorate(request, response);
}

std::size_t App::body_limit(http::Method method, std::string_view path) const {
  // A write to a collection gets the collection's limit. Anything else may carry a small body that is read and
  // ignored, so the client gets the real answer (404, 405, ...) rather than a 413 about a body nobody wanted.
  constexpr std::size_t kIgnoredBodyLimit = 64 * 1024;
  if (method == http::Method::kOptions) return 0;  // a preflight is answered from its header alone
  const RouteMatch m = match_route(method, path);
  if (!m.route || !m.method_allowed || (method != http::Method::kPost && method != http::Method::kPatch))
    return kIgnoredBodyLimit;
  const model::Collection* c = concept_.find_collection(m.collection);
  return c ? c->body_limit : kIgnoredBodyLimit;
}

Result<AuthContext> App::authenticate(const http::Request& request) const {
  AuthContext auth;
  // Only a request without the header is anonymous. An empty one is a client that meant to authenticate and
  // failed (401); two are ambiguous — a proxy may check one while we would read the other — so 400.
  const std::size_t count = request.header_count("Authorization");
  if (count == 0) return auth;
  if (count > 1) return Problem::make(ProblemCode::kBadRequest, "Give the Authorization header once.");
  const std::string_view header = request.header("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  auto unauthorized = [] {
    return Problem::make(ProblemCode::kUnauthorized, "The bearer token is missing, malformed or not valid.");
  };
  if (header.size() <= kBearer.size() || header.size() > 4096) return unauthorized();
  if (!ascii_istarts_with(header, kBearer) || admin_digest_.empty()) return unauthorized();
  const std::string presented = sha256_raw(header.substr(kBearer.size()));
  // Constant time: both sides are 32-byte digests, so neither the length nor the content of the secret leaks.
  if (sodium_memcmp(presented.data(), admin_digest_.data(), presented.size()) != 0) return unauthorized();
  auth.admin = true;
  auth.id = "admin";
  auth.role = "admin";
  return auth;
}

void App::fail(std::string_view request_id, const AuthContext& caller, const Problem& problem,
               http::Responder& respond, std::string_view route) const {
  if (problem.code == ProblemCode::kInternal || problem.code == ProblemCode::kUnavailable) {
    logger_.log(obs::Level::kError, "request failed",
                {{"request_id", request_id}, {"route", route}, {"cause", problem.cause}});
  }
  http::Response r = problem_response(problem, request_id);
  r.route = route;
  if (caller.id) r.user_id = *caller.id;
  respond(std::move(r));
}

void App::handle(http::Request& request, http::Responder respond) {
  const RouteMatch m = match_route(request.method, request.path);
  if (!m.route) {
    return fail(request.request_id, kAnonymous, Problem::make(ProblemCode::kNotFound, "No route matches this path."),
                respond, "unmatched");
  }
  const std::string_view route = m.route->pattern;
  if (request.method == http::Method::kOptions) {
    // Before authentication: a browser sends no credentials with a preflight, whatever the actual request carries.
    if (cors_.enabled() && Cors::is_preflight(request)) return respond(cors_.preflight(request, route));
    http::Response r;
    r.status = 204;
    r.route = route;
    r.set_header("Allow", std::string(m.route->allow));
    return respond(std::move(r));
  }
  if (!m.method_allowed) {
    http::Response r = problem_response(
        Problem::make(ProblemCode::kMethodNotAllowed, "This route does not accept " +
                                                          std::string(http::method_name(request.method)) + "."),
        request.request_id);
    r.route = route;
    r.set_header("Allow", std::string(m.route->allow));
    return respond(std::move(r));
  }
  switch (m.route->id) {
    case RouteId::kLivez:
      return respond(text(200, "application/json", "{\"status\":\"ok\"}", route));
    case RouteId::kReadyz: {
      if (draining_.load(std::memory_order_relaxed)) {
        return respond(text(503, "application/json", "{\"status\":\"draining\"}", route));
      }
      if (Status st = storage_.ping(); !st) {
        logger_.log(obs::Level::kWarn, "not ready", {{"cause", st.error().cause}});
        return respond(text(503, "application/json", "{\"status\":\"database unavailable\"}", route));
      }
      return respond(text(200, "application/json", "{\"status\":\"ready\"}", route));
    }
    case RouteId::kMetrics:
      return respond(text(200, "text/plain; version=0.0.4; charset=utf-8", metrics_.render(), route));
    case RouteId::kRecords:
    case RouteId::kRecord:
      break;
  }
  auto auth = authenticate(request);
  if (!auth) return fail(request.request_id, kAnonymous, auth.error(), respond, route);
  const model::Collection* c = concept_.find_collection(m.collection);
  if (!c) {
    return fail(request.request_id, *auth, Problem::make(ProblemCode::kNotFound, "No such collection."), respond,
                route);
  }
  if (m.route->id == RouteId::kRecords) {
    if (request.method == http::Method::kPost) return records_->create(request, *c, *auth, std::move(respond));
    return records_->list(request, *c, *auth, std::move(respond));
  }
  switch (request.method) {
    case http::Method::kPatch: return records_->patch(request, *c, m.id, *auth, std::move(respond));
    case http::Method::kDelete: return records_->remove(request, *c, m.id, *auth, std::move(respond));
    default: return records_->get(request, *c, m.id, *auth, std::move(respond));
  }
}

}  // namespace slipway::api
