// Handler: the one interface between the HTTP server (http/) and the application (api/).
// The session calls body_limit() after the headers are read (so limits belong to parsing), then handle().
#pragma once

#include <cstddef>
#include <functional>

#include "http/request.h"
#include "http/response.h"

namespace slipway::http {

// Where a handler continues work that another thread finished (the storage writer, a database thread): the
// session's own event loop, so rendering and the answer never run on that thread. post() from any thread; the work
// is dropped once the loop has stopped for good, so it must own what it uses.
class Continuation {
 public:
  virtual ~Continuation() = default;
  virtual void post(std::function<void()> work) const = 0;
};

// Called exactly once per request, from any thread (a handler may answer from the storage writer thread
// after a group commit). The session posts the write back to its own executor.
using Responder = std::function<void(Response&&)>;

class Handler {
 public:
  virtual ~Handler() = default;
  // Max body bytes accepted for this request line; 0 = no body allowed. Called on the session's thread.
  virtual std::size_t body_limit(Method method, std::string_view path) const = 0;
  // Must not throw across this boundary for expected errors; a stray exception is caught by the session
  // (500 problem + log line with the request id).
  virtual void handle(Request& request, Responder respond) = 0;
  // Called on the session's thread for every response to a request whose header parsed — the handler's, the
  // session's own 500 for a throwing handle(), and its 413/417 — just before it is written, with the request still
  // valid: the one place for headers that depend on the request rather than on the route that answered (CORS),
  // whichever thread answered. Not called for a request refused before its header parsed. Must not throw.
  virtual void finish_response(const Request& /*request*/, Response& /*response*/) const {}
};

}  // namespace slipway::http
