#include "core/problem.h"

namespace slipway {

int http_status(ProblemCode code) {
  switch (code) {
    case ProblemCode::kBadRequest: return 400;
    case ProblemCode::kUnauthorized: return 401;
    case ProblemCode::kForbidden: return 403;
    case ProblemCode::kNotFound: return 404;
    case ProblemCode::kMethodNotAllowed: return 405;
    case ProblemCode::kConflict: return 409;
    case ProblemCode::kPreconditionFailed: return 412;
    case ProblemCode::kPayloadTooLarge: return 413;
    case ProblemCode::kUnsupportedMediaType: return 415;
    case ProblemCode::kUnprocessable: return 422;
    case ProblemCode::kTooManyRequests: return 429;
    case ProblemCode::kInternal: return 500;
    case ProblemCode::kNotImplemented: return 501;
    case ProblemCode::kUnavailable: return 503;
  }
  return 500;
}

std::string_view problem_title(ProblemCode code) {
  switch (code) {
    case ProblemCode::kBadRequest: return "Bad Request";
    case ProblemCode::kUnauthorized: return "Unauthorized";
    case ProblemCode::kForbidden: return "Forbidden";
    case ProblemCode::kNotFound: return "Not Found";
    case ProblemCode::kMethodNotAllowed: return "Method Not Allowed";
    case ProblemCode::kConflict: return "Conflict";
    case ProblemCode::kPreconditionFailed: return "Precondition Failed";
    case ProblemCode::kPayloadTooLarge: return "Content Too Large";
    case ProblemCode::kUnsupportedMediaType: return "Unsupported Media Type";
    case ProblemCode::kUnprocessable: return "Validation Failed";
    case ProblemCode::kTooManyRequests: return "Too Many Requests";
    case ProblemCode::kInternal: return "Internal Server Error";
    case ProblemCode::kNotImplemented: return "Not Implemented";
    case ProblemCode::kUnavailable: return "Service Unavailable";
  }
  return "Internal Server Error";
}

std::string_view problem_slug(ProblemCode code) {
  switch (code) {
    case ProblemCode::kBadRequest: return "bad-request";
    case ProblemCode::kUnauthorized: return "unauthorized";
    case ProblemCode::kForbidden: return "forbidden";
    case ProblemCode::kNotFound: return "not-found";
    case ProblemCode::kMethodNotAllowed: return "method-not-allowed";
    case ProblemCode::kConflict: return "conflict";
    case ProblemCode::kPreconditionFailed: return "precondition-failed";
    case ProblemCode::kPayloadTooLarge: return "payload-too-large";
    case ProblemCode::kUnsupportedMediaType: return "unsupported-media-type";
    case ProblemCode::kUnprocessable: return "validation-failed";
    case ProblemCode::kTooManyRequests: return "too-many-requests";
    case ProblemCode::kInternal: return "internal";
    case ProblemCode::kNotImplemented: return "not-implemented";
    case ProblemCode::kUnavailable: return "unavailable";
  }
  return "internal";
}

}  // namespace slipway
