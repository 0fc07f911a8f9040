// Handler: the one interface between the HTTP server (http/) and the application (api/).
// The session calls admit() once the header is read — before a byte of the body — and then either writes the answer
// admit() gave (never reading the body) or reads the body under the limit admit() set and calls handle().
#pragma once

#include <cstddef>
#include <functional>
#include <optional>

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

// What admit() decided from a request's header.
struct Admission {
  std::size_t body_limit = 0;      // when the request goes on: max body bytes (0: no body allowed)
  std::optional<Response> answer;  // set: the request is answered with it now; a body it has is never read, and
                                   // the connection then closes (after the answer, with a short linger)
};

class Handler {
 public:
  virtual ~Handler() = default;
  // Called on the session's thread once the header is parsed (req.body is empty): everything that needs no body —
  // the route, who is calling, whether they may, rate limits — is decided here, so a request refused for any of
  // those is answered without its body being read (a client cannot make the server buffer megabytes it refuses).
  // May write what handle() will need into `request` (Request::caller). Must not throw.
  virtual Admission admit(Request& request) = 0;
  // Must not throw across this boundary for expected errors; a stray exception is caught by the session
  // (500 problem + log line with the request id).
  virtual void handle(Request& request, Responder respond) = 0;
  // Called on the session's thread for every response to a request whose header parsed — admit()'s, the handler's,
  // the session's own 500 for a throwing handle(), and its 413/417 — just before it is written, with the request still
  // valid: the one place for headers that depend on the request rather than on the route that answered (CORS),
  // whichever thread answered. Not called for a request refused before its header parsed. Must not throw.
  virtual void finish_response(const Request& /*request*/, Response& /*response*/) const {}
};

}  // namespace slipway::http
