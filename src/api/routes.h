// The one route table. Each row is a path pattern and, per method, the handler, who may call it, its rate class
// and the query parameters it accepts. RouteTable compiles the rows into the matcher; the access log and metrics
// use the pattern as the route's name, 405/OPTIONS answers its Allow list, and the OpenAPI document and the rate
// limits (later issues) read the same rows. Adding a route is adding a row (App::route_rows in app.cpp).
// Thread safety: a RouteTable is immutable after construction; match() may run on every event loop at once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/principal.h"
#include "http/handler.h"
#include "http/request.h"

namespace slipway::api {

class App;
struct RouteMatch;

// Route names that handlers answer under (the access log's and metrics' `route`).
inline constexpr std::string_view kRecordsRoute = "/api/v1/{collection}";
inline constexpr std::string_view kRecordRoute = "/api/v1/{collection}/{id}";

// Who may call a route. App checks it after resolving the caller and before the handler.
enum class Access : std::uint8_t {
  kPublic,  // no credentials are read at all (probes, metrics)
  kAnyone,  // the caller is resolved (anonymous, or a valid token; a bad one is 401) and the rules decide
  kUser,    // a signed-in user (an access token of a session): 401 anonymous, 403 the admin token or an API key
  kAdmin,   // the admin only: 401 without credentials, 403 for any other caller
};

// Plain function pointers, not std::function: the hot path makes no allocation or indirect call chain for them.
using RouteHandler = void (*)(App& app, http::Request& request, const RouteMatch& match, const Principal& caller,
                              http::Responder respond);

struct RouteMethod {
  http::Method method = http::Method::kGet;  // a GET row answers HEAD too
  RouteHandler handler = nullptr;
  Access access = Access::kAnyone;
  std::string_view rate_class;               // e.g. "health", "read", "write" (the protection issue's limits)
  std::span<const std::string_view> params;  // query parameters the handler accepts; others are 400 (records)
  // Where storage calls block (PostgreSQL), App runs handlers on its storage pool; one marked here runs on the
  // event loop instead and keeps blocking calls off it itself: a pipelined read, App::off_loop, or a write, which
  // only queues for the writers and answers from its completion.
  bool loop_safe = false;
  // A user whose role the file requires MFA for (`auth: mfa: required_for`) but who signed in without a second
  // factor may call only the routes marked here: enough to set one up, see who they are, and sign out.
  bool before_mfa = false;
};

struct RouteSpec {
  std::string_view pattern;  // "/api/v1/{collection}/{id}": literal segments or {name}; must outlive the table
  std::vector<RouteMethod> methods;
};

struct RouteMatch {
  const RouteSpec* route = nullptr;     // nullptr: no route has this path (404)
  const RouteMethod* method = nullptr;  // nullptr: the route has no such method (405)
  std::string_view allow;               // "GET, HEAD, PATCH, DELETE, OPTIONS"
  std::array<std::pair<std::string_view, std::string_view>, 4> params{};  // {name} → the path segment
  std::size_t param_count = 0;

  std::string_view pattern() const { return route ? route->pattern : std::string_view("unmatched"); }
  // The segment bound to {name}; empty when the pattern has no such name.
  std::string_view param(std::string_view name) const;
};

class RouteTable {
 public:
  // Rows are tried in order: list a literal path before a pattern that would also match it. Throws
  // std::invalid_argument for a malformed pattern (a bug in the table, found at start-up by any test).
  explicit RouteTable(std::vector<RouteSpec> rows);
  RouteMatch match(http::Method method, std::string_view path) const;
  const std::vector<RouteSpec>& rows() const { return rows_; }

 private:
  struct Segment {
    std::string_view text;  // the literal, or the parameter's name
    bool param = false;
  };
  struct Compiled {
    std::vector<Segment> segments;
    std::string allow;
  };
  std::vector<RouteSpec> rows_;
  std::vector<Compiled> compiled_;  // one per row, same order
};

}  // namespace slipway::api
