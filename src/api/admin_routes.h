// The admin API (docs/api.md#admin): users (list with roles, set roles, disable, delete) and API keys (create —
// the key shown once —, list, revoke). Every route needs the admin; every write is audited in its transaction.
// Thread safety: as App::Auth.
#pragma once

#include <string_view>

#include "api/app.h"
#include "auth/api_keys.h"
#include "core/clock.h"
#include "core/uuid7.h"

namespace slipway::api {

struct App::Admin {
  explicit Admin(App& a);

  void list_users(http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond);
  void patch_user(http::Request& req, std::string_view id, const Principal& caller, http::Responder respond);
  void delete_user(http::Request& req, std::string_view id, const Principal& caller, http::Responder respond);
  void create_api_key(http::Request& req, const Principal& caller, http::Responder respond);
  void list_api_keys(http::Request& req, const Principal& caller, http::Responder respond);
  void list_audit(http::Request& req, const RouteMatch& m, const Principal& caller, http::Responder respond);
  void revoke_api_key(http::Request& req, std::string_view id, const Principal& caller, http::Responder respond);

  App& app;
  SystemClock clock;
  Uuid7Generator ids;
  // The audit log as a read-only collection over the view `_slipway_audit_log` (system version 3), so the records
  // list — filter, sort, cursor, count — serves it unchanged (docs/api.md#admin).
  model::Collection audit_log;
};

}  // namespace slipway::api
