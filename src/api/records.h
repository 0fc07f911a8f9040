// The records routes (list, get, create, patch, delete) of App. Private to api/.
#pragma once

#include <span>
#include <string_view>

#include "api/app.h"
#include "api/record_json.h"

namespace slipway::api {

struct App::Records {
  App& app;
  // `params`: the query parameters the route table accepts for this route (anything else is 400).
  // `on_loop` (records route): the caller is an event loop where storage blocks (PostgreSQL); the page comes by a
  // pipelined read, or the request moves to App::off_loop with this match.
  // `extra` (admin listings): members added to each record. Pages answered under another `route` than the records
  // route (admin listings) are never cached.
  void list(http::Request& req, const model::Collection& c, std::span<const std::string_view> params,
            const Principal& auth, http::Responder respond, const RecordExtra& extra = {},
            std::string_view route = kRecordsRoute, const RouteMatch* on_loop = nullptr);
  // `may_block`: the calling thread may wait on storage. Otherwise (an event loop, PostgreSQL) the record comes by a
  // pipelined read, or the request moves to App::off_loop.
  void get(http::Request& req, const RouteMatch& m, const model::Collection& c, const Principal& auth,
           http::Responder respond, bool may_block);
  void create(http::Request& req, const model::Collection& c, const Principal& auth, http::Responder respond);
  void patch(http::Request& req, const model::Collection& c, std::string_view id, const Principal& auth, http::Responder respond);
  void remove(http::Request& req, const model::Collection& c, std::string_view id, const Principal& auth, http::Responder respond);
};

}  // namespace slipway::api
