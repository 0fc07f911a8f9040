#include "api/problem_json.h"

#include "core/json_writer.h"

namespace slipway::api {

http::Response problem_response(const Problem& p, std::string_view request_id) {
  http::Response r;
  r.status = http_status(p.code);
  r.content_type = "application/problem+json";
  JsonWriter w(r.body);
  w.begin_object();
  w.key("type").string(std::string(kProblemType) + std::string(problem_slug(p.code)));
  w.key("title").string(problem_title(p.code));
  w.key("status").integer(r.status);
  // A 500 never explains itself to the client: the cause is in the log under the same request_id.
  w.key("detail").string(p.code == ProblemCode::kInternal ? "An unexpected error occurred." : p.detail);
  w.key("request_id").string(request_id);
  if (!p.parameter.empty()) w.key("parameter").string(p.parameter);
  if (p.position >= 0) w.key("position").integer(p.position);
  if (!p.errors.empty()) {
    w.key("errors").begin_array();
    for (const auto& e : p.errors) {
      w.begin_object().key("field").string(e.field).key("code").string(e.code).key("message").string(e.message).end_object();
    }
    w.end_array();
  }
  w.end_object();
  if (p.code == ProblemCode::kUnauthorized) r.set_header("WWW-Authenticate", "Bearer");
  return r;
}

}  // namespace slipway::api
