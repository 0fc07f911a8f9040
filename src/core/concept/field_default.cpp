// Reading `default:`: the value must have the field's type and satisfy its min/max, pattern and enum values,
// so that a record created without the field is always valid.
#include <algorithm>

#include "core/clock.h"
#include "core/concept/collection_parser.h"
#include "core/json_writer.h"
#include "core/text_formats.h"
#include "core/utf8.h"

namespace slipway::model {
namespace {

// A YAML value as compact JSON. Quoted scalars are strings; plain ones become booleans, numbers or strings.
void to_json(const YAML::Node& n, std::string& out) {
  JsonWriter w(out);
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      out.push_back('{');
      bool first = true;
      std::vector<std::string> seen;
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string key = it->first.IsScalar() ? it->first.Scalar() : ParseContext::describe(it->first);
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) continue;
        seen.push_back(key);
        if (!first) out.push_back(',');
        first = false;
        append_json_string(out, key);
        out.push_back(':');
        to_json(it->second, out);
      }
      out.push_back('}');
      return;
    }
    case YAML::NodeType::Sequence: {
      out.push_back('[');
      for (std::size_t i = 0; i < n.size(); ++i) {
        if (i > 0) out.push_back(',');
        to_json(n[i], out);
      }
      out.push_back(']');
      return;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "?") {  // plain (unquoted) scalar
        if (auto b = parse_yaml_bool(s)) {
          w.boolean(*b);
          return;
        }
        if (auto i = parse_int64(s)) {
          w.integer(*i);
          return;
        }
        if (auto d = parse_finite_double(s)) {
          w.number(*d);
          return;
        }
      }
      w.string(s);
      return;
    }
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  w.null();
}

}  // namespace

std::optional<Value> parse_default(ParseContext& ctx, const Entry& e, const Field& f) {
  const SourceLoc loc = ParseContext::value_loc(e);
  const std::string of = " of field '" + f.name + "'";
  auto check_range = [&](double v) {
    if (f.min && v < *f.min) {
      ctx.error(loc, "default" + of + " is below min (" + format_number(*f.min) + ")");
      return false;
    }
    if (f.max && v > *f.max) {
      ctx.error(loc, "default" + of + " is above max (" + format_number(*f.max) + ")");
      return false;
    }
    return true;
  };
  switch (f.type) {
    case FieldType::kInt: {
      auto i = ctx.read_integer(e);
      if (!i || !check_range(static_cast<double>(*i))) return std::nullopt;
      return Value{*i};
    }
    case FieldType::kFloat: {
      auto d = ctx.read_number(e);
      if (!d || !check_range(*d)) return std::nullopt;
      return Value{*d};
    }
    case FieldType::kBool: {
      auto b = ctx.read_bool(e);
      if (!b) return std::nullopt;
      return Value{*b};
    }
    case FieldType::kJson: {
      std::string json;
      to_json(e.value, json);
      return Value{JsonText{std::move(json)}};
    }
    case FieldType::kRelation:
      return std::nullopt;  // rejected as an option before
    case FieldType::kText:
    case FieldType::kEmail:
    case FieldType::kUrl:
    case FieldType::kEnum:
    case FieldType::kDatetime:
      break;
  }
  if (!e.value.IsScalar()) {
    ctx.expected(e, f.type == FieldType::kDatetime ? "an RFC 3339 datetime" : "a string");
    return std::nullopt;
  }
  const std::string& s = e.value.Scalar();
  if (f.type == FieldType::kDatetime) {
    std::int64_t ms = 0;
    if (!parse_rfc3339(s, ms)) {
      ctx.expected(e, "an RFC 3339 datetime in years 0001-9999 (UTC)");
      return std::nullopt;
    }
    return Value{format_rfc3339_ms(ms)};
  }
  if (f.type == FieldType::kEnum) {
    if (std::find(f.values.begin(), f.values.end(), s) == f.values.end()) {
      std::vector<std::string_view> candidates(f.values.begin(), f.values.end());
      std::string hint = did_you_mean(s, candidates);
      std::string list;
      for (const std::string& v : f.values) list += (list.empty() ? "" : ", ") + v;
      ctx.error(loc, "default '" + s + "'" + of + " is not one of its values" + (hint.empty() ? ": " + list : hint));
      return std::nullopt;
    }
    return Value{s};
  }
  const double length = static_cast<double>(utf8_code_points(s));
  if (f.min && length < *f.min) {
    ctx.error(loc, "default" + of + " is shorter than min (" + format_number(*f.min) + " characters)");
    return std::nullopt;
  }
  if (f.max && length > *f.max) {
    ctx.error(loc, "default" + of + " is longer than max (" + format_number(*f.max) + " characters)");
    return std::nullopt;
  }
  if (f.type == FieldType::kEmail && !valid_email(s)) {
    ctx.error(loc, "default" + of + " is not a valid email address");
    return std::nullopt;
  }
  if (f.type == FieldType::kUrl && !valid_url(s)) {
    ctx.error(loc, "default" + of + " is not a valid http(s) URL");
    return std::nullopt;
  }
  if (f.pattern && !f.pattern->matches(s)) {
    ctx.error(loc, "default" + of + " does not match its pattern");
    return std::nullopt;
  }
  return Value{s};
}

}  // namespace slipway::model
