#include "api/record_input.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/clock.h"
#include "core/json_writer.h"
#include "core/text_formats.h"
#include "core/utf8.h"
#include "core/uuid7.h"

namespace slipway::api {
namespace {

namespace json = boost::json;
using model::Field;
using model::FieldType;

Problem bad_json(std::string detail) { return Problem::make(ProblemCode::kBadRequest, std::move(detail)); }

Result<json::object> parse_object(std::string_view body) {
  if (body.empty()) return bad_json("The request body is empty; a JSON object is expected.");
  json::parse_options opts;
  opts.max_depth = kMaxJsonDepth;
  json::error_code ec;
  // Default resource: the object outlives this function (a copy would keep a local resource's storage).
  json::value v = json::parse(body, ec, {}, opts);
  if (ec) {
    if (ec == json::error::too_deep)
      return bad_json("The JSON body is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels.");
    return bad_json("The request body is not valid JSON (" + ec.message() + ").");
  }
  if (!v.is_object()) return bad_json("The request body must be a JSON object.");
  return std::move(v.as_object());
}

std::string fmt_number(double d) {
  if (d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  std::string out;
  append_json_double(out, d);  // shortest round-trip form: 0.5, not 0.500000
  return out;
}

// True when every number inside `v` is finite; else `where` names the first one that is not ("x.y[2]").
// Depth is bounded by the parser (kMaxJsonDepth).
bool all_finite(const json::value& v, std::string& where) {
  switch (v.kind()) {
    case json::kind::double_:
      return std::isfinite(v.get_double());
    case json::kind::array: {
      const auto& a = v.get_array();
      for (std::size_t i = 0; i < a.size(); ++i) {
        if (!all_finite(a[i], where)) {
          where = "[" + std::to_string(i) + "]" + where;
          return false;
        }
      }
      return true;
    }
    case json::kind::object:
      for (const auto& kv : v.get_object()) {
        if (!all_finite(kv.value(), where)) {
          std::string key(kv.key().substr(0, 64));
          where = "." + key + where;
          return false;
        }
      }
      return true;
    default:
      return true;
  }
}

void err(std::vector<FieldError>& errors, const Field& f, std::string code, std::string message) {
  errors.push_back({f.name, std::move(code), std::move(message)});
}

// The field's min/max/pattern/enum, checked by the one rule migrations use too (model::constraint_violation); on
// failure appends the error with a message for people.
bool within_limits(const Value& v, const Field& f, std::vector<FieldError>& errors) {
  const char* code = model::constraint_violation(f, v);
  if (!code) return true;
  const std::string_view c = code;
  const bool text = std::holds_alternative<std::string>(v);
  const std::string unit = text ? " characters" : "";
  if (c == "min") {
    err(errors, f, "min", "must be at least " + fmt_number(*f.min) + unit);
  } else if (c == "max") {
    err(errors, f, "max", "must be at most " + fmt_number(*f.max) + unit);
  } else if (c == "enum") {
    std::string list;
    for (const auto& a : f.values) list += (list.empty() ? "" : ", ") + a;
    err(errors, f, "enum", "must be one of: " + list);
  } else {
    err(errors, f, "pattern", "does not match the required pattern");
  }
  return false;
}

// Converts one JSON value for field `f`; on failure appends to `errors` and returns nullopt.
std::optional<Value> convert(const json::value& v, const Field& f, std::vector<FieldError>& errors) {
  if (v.is_null()) return Value(Null{});
  switch (f.type) {
    case FieldType::kText:
    case FieldType::kEmail:
    case FieldType::kUrl:
    case FieldType::kEnum:
    case FieldType::kDatetime:
    case FieldType::kRelation: {
      if (!v.is_string()) {
        err(errors, f, "type", "must be a string");
        return std::nullopt;
      }
      std::string s(v.as_string());
      if (s.find('\0') != std::string::npos) {
        err(errors, f, "type", "must not contain NUL characters");
        return std::nullopt;
      }
      if (f.type == FieldType::kDatetime) {
        std::int64_t ms;
        if (!parse_rfc3339(s, ms)) {
          err(errors, f, "datetime", "must be an RFC 3339 date-time in years 0001-9999 (UTC), e.g. 2026-01-31T12:00:00Z");
          return std::nullopt;
        }
        return Value(format_rfc3339_ms(ms));
      }
      if (f.type == FieldType::kRelation) {
        if (!is_uuid(s)) {
          err(errors, f, "relation", "must be the id of a record in '" + f.to + "'");
          return std::nullopt;
        }
        for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        return Value(std::move(s));
      }
      if (f.type == FieldType::kEmail && !valid_email(s)) {
        err(errors, f, "email", "must be an email address");
        return std::nullopt;
      }
      if (f.type == FieldType::kUrl && !valid_url(s)) {
        err(errors, f, "url", "must be an http or https URL");
        return std::nullopt;
      }
      if (s.empty() && f.required && f.type != FieldType::kEnum) return Value(std::move(s));  // once, as "required"
      Value value(std::move(s));
      if (!within_limits(value, f, errors)) return std::nullopt;
      return value;
    }
    case FieldType::kInt: {
      std::int64_t i;
      if (v.is_int64()) i = v.as_int64();
      else if (v.is_uint64()) {
        err(errors, f, "range", "is too large for a 64-bit integer");
        return std::nullopt;
      } else if (v.is_double()) {
        const double d = v.as_double();
        if (d != std::floor(d) || !std::isfinite(d)) {
          err(errors, f, "type", "must be an integer");
          return std::nullopt;
        }
        if (d < -9.2e18 || d > 9.2e18) {
          err(errors, f, "range", "is too large for a 64-bit integer");
          return std::nullopt;
        }
        i = static_cast<std::int64_t>(d);
      } else {
        err(errors, f, "type", "must be an integer");
        return std::nullopt;
      }
      if (!within_limits(Value(i), f, errors)) return std::nullopt;
      return Value(i);
    }
    case FieldType::kFloat: {
      if (!v.is_number()) {
        err(errors, f, "type", "must be a number");
        return std::nullopt;
      }
      const double d = v.to_number<double>();
      if (!std::isfinite(d)) {
        err(errors, f, "range", "must be a finite number");
        return std::nullopt;
      }
      if (!within_limits(Value(d), f, errors)) return std::nullopt;
      return Value(d);
    }
    case FieldType::kBool:
      if (!v.is_bool()) {
        err(errors, f, "type", "must be true or false");
        return std::nullopt;
      }
      return Value(v.as_bool());
    case FieldType::kJson: {
      // JSON has no Infinity or NaN: a number that overflowed a double (1e999) would be served as `Infinity`,
      // which no strict client parses, so refuse it as a float field does.
      if (std::string where; !all_finite(v, where)) {
        if (!where.empty() && where.front() == '.') where.erase(0, 1);
        err(errors, f, "range",
            "must contain only finite numbers (" + (where.empty() ? std::string("the value") : where) +
                " is out of range)");
        return std::nullopt;
      }
      return Value(JsonText{json::serialize(v)});
    }
  }
  return std::nullopt;
}

bool is_missing(const Value& v, const Field& f) {
  if (is_null(v)) return true;
  if (f.type == FieldType::kText) {
    if (const auto* s = std::get_if<std::string>(&v)) return s->empty();
  }
  return false;
}

Problem invalid(std::vector<FieldError> errors) {
  Problem p = Problem::make(ProblemCode::kUnprocessable,
                            errors.size() == 1 ? "1 field is invalid." : std::to_string(errors.size()) + " fields are invalid.");
  p.errors = std::move(errors);
  return p;
}

// Keys that are not fields of the collection: system fields are read-only, anything else unknown.
void check_keys(const json::object& o, const model::Collection& c, std::vector<FieldError>& errors) {
  for (const auto& kv : o) {
    const std::string_view key = kv.key();
    if (c.find_field(key)) continue;
    std::string name = key.size() <= 64 ? std::string(key) : std::string(key.substr(0, 64)) + "…";
    if (model::is_system_field(key) || key == "expand")
      errors.push_back({std::move(name), "read_only", "is set by the server and cannot be written"});
    else
      errors.push_back({std::move(name), "unknown", "is not a field of '" + c.name + "'"});
  }
}

}  // namespace

namespace {
Result<std::vector<Value>> create_values(const json::object* obj, const model::Collection& c,
                                         std::vector<FieldError> errors);
}  // namespace

Result<std::vector<Value>> parse_create_body(std::string_view body, const model::Collection& c) {
  auto obj = parse_object(body);
  if (!obj) return std::move(obj).error();
  return create_values(&*obj, c, {});
}

Result<SignUpBody> parse_sign_up_body(std::string_view body, const model::Collection& users) {
  auto obj = parse_object(body);
  if (!obj) return std::move(obj).error();
  std::vector<FieldError> errors;
  SignUpBody out;
  if (const json::value* p = obj->if_contains("password"); !p || p->is_null()) {
    errors.push_back({"password", "required", "is required"});
  } else if (!p->is_string()) {
    errors.push_back({"password", "type", "must be a string"});
  } else {
    out.password = std::string(p->get_string());
  }
  obj->erase("password");
  auto values = create_values(&*obj, users, std::move(errors));
  if (!values) return std::move(values).error();
  out.values = std::move(*values);
  return out;
}

Result<std::vector<std::optional<std::string>>> parse_string_fields(std::string_view body,
                                                                   std::span<const std::string_view> names,
                                                                   std::size_t max_bytes) {
  auto obj = parse_object(body);
  if (!obj) return std::move(obj).error();
  std::vector<FieldError> errors;
  std::vector<std::optional<std::string>> out(names.size());
  for (const auto& kv : *obj) {
    const std::string_view key = kv.key();
    const auto it = std::find(names.begin(), names.end(), key);
    std::string name = key.size() <= 64 ? std::string(key) : std::string(key.substr(0, 64)) + "…";
    if (it == names.end()) {
      errors.push_back({std::move(name), "unknown", "is not accepted here"});
    } else if (kv.value().is_null()) {
      continue;
    } else if (!kv.value().is_string()) {
      errors.push_back({std::move(name), "type", "must be a string"});
    } else if (kv.value().get_string().size() > max_bytes) {
      errors.push_back({std::move(name), "max", "is longer than " + std::to_string(max_bytes) + " bytes"});
    } else {
      out[static_cast<std::size_t>(it - names.begin())] = std::string(kv.value().get_string());
    }
  }
  if (!errors.empty()) return invalid(std::move(errors));
  return out;
}

namespace {
Result<std::vector<Value>> create_values(const json::object* obj, const model::Collection& c,
                                         std::vector<FieldError> errors) {
  check_keys(*obj, c, errors);
  std::vector<Value> values(c.fields.size(), Value(Null{}));
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    const Field& f = c.fields[i];
    const json::value* v = obj->if_contains(f.name);
    if (v && !v->is_null()) {
      auto converted = convert(*v, f, errors);
      if (!converted) continue;
      values[i] = std::move(*converted);
    } else if (f.default_value) {
      values[i] = *f.default_value;
    }
    if (f.required && is_missing(values[i], f)) err(errors, f, "required", "is required");
  }
  if (!errors.empty()) return invalid(std::move(errors));
  return values;
}
}  // namespace

Result<std::vector<std::pair<int, Value>>> parse_patch_body(std::string_view body, const model::Collection& c) {
  auto obj = parse_object(body);
  if (!obj) return std::move(obj).error();
  std::vector<FieldError> errors;
  check_keys(*obj, c, errors);
  std::vector<std::pair<int, Value>> changes;
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    const Field& f = c.fields[i];
    const json::value* v = obj->if_contains(f.name);
    if (!v) continue;
    if (f.immutable) {
      err(errors, f, "immutable", "cannot be changed after the record is created");
      continue;
    }
    auto converted = convert(*v, f, errors);
    if (!converted) continue;
    if (f.required && is_missing(*converted, f)) {
      err(errors, f, "required", "is required");
      continue;
    }
    changes.emplace_back(static_cast<int>(i), std::move(*converted));
  }
  if (!errors.empty()) return invalid(std::move(errors));
  return changes;
}

Status validate_required(const std::vector<Value>& values, const model::Collection& c) {
  std::vector<FieldError> errors;
  for (std::size_t i = 0; i < c.fields.size(); ++i)
    if (c.fields[i].required && is_missing(values[i], c.fields[i])) err(errors, c.fields[i], "required", "is required");
  if (!errors.empty()) return invalid(std::move(errors));
  return {};
}

}  // namespace slipway::api
