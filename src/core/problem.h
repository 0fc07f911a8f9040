// Problem: an error value as the client sees it (RFC 9457) plus a private cause that only the log sees.
// Thread safety: a plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace slipway {

// One code per HTTP status we answer with; the status, title and type URI are derived from it.
enum class ProblemCode : std::uint8_t {
  kBadRequest,           // 400: malformed input (filter, sort, JSON, UTF-8, cursor)
  kUnauthorized,         // 401
  kForbidden,            // 403
  kNotFound,             // 404
  kMethodNotAllowed,     // 405
  kConflict,             // 409: unique violation, concurrent idempotent request
  kPreconditionFailed,   // 412: If-Match on a stale version
  kPayloadTooLarge,      // 413
  kUnsupportedMediaType, // 415
  kUnprocessable,        // 422: validation failures (errors[] lists each field)
  kTooManyRequests,      // 429
  kInternal,             // 500: never carries internal details in `detail`
  kNotImplemented,       // 501: a request method the server does not recognise
  kUnavailable,          // 503: draining, database broken
};

// What kind of storage failure a Problem reports, as a storage driver classified its engine's error (never by
// matching message text above the driver). kNone for every Problem that did not come from a database.
enum class Fault : std::uint8_t {
  kNone,
  kUnique,          // a unique constraint (409 naming the field where the driver knows it)
  kForeignKey,      // a relation names no record, or a record is still referenced
  kBusy,            // locked by another writer past the busy timeout
  kSerialization,   // deadlock or serialization failure: nothing was written, the work may be run again
  kConnectionLost,  // the connection broke: a commit in flight has an unknown outcome
  kTimeout,         // a statement ran past its timeout, or no connection came free in time
  kFull,            // disk full or I/O error while writing
};

// One failing field in a 422 answer.
struct FieldError {
  std::string field;
  std::string code;     // machine-readable: "required", "max", "type", "pattern", ...
  std::string message;  // human-readable
};

struct Problem {
  ProblemCode code = ProblemCode::kInternal;
  std::string detail;               // public: goes to the client
  std::string cause;                // private: goes to the log only (SQL errors, errno, ...)
  std::vector<FieldError> errors;   // for kUnprocessable
  int position = -1;                // 0-based offset into the client's expression, or -1
  std::string parameter;            // the query parameter the position refers to ("filter", "sort"), or empty
  Fault fault = Fault::kNone;       // set by storage drivers only

  static Problem make(ProblemCode code, std::string detail, std::string cause = {}) {
    Problem p;
    p.code = code;
    p.detail = std::move(detail);
    p.cause = std::move(cause);
    return p;
  }
};

int http_status(ProblemCode code);
std::string_view problem_title(ProblemCode code);
// A stable type URI slug per code, e.g. "validation-failed" (the type is "https://slipway.dev/problems/<slug>").
std::string_view problem_slug(ProblemCode code);

}  // namespace slipway
