#include "auth/strict_json.h"

#include <algorithm>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <vector>

namespace slipway::auth {
namespace {

namespace json = boost::json;

// Builds the value as Boost.JSON's own parser does (value_stack), and also keeps the member names of every object
// still open, so a repeated name is found when its object closes.
class StrictHandler {
 public:
  // NOLINTBEGIN(readability-identifier-naming): the names basic_parser requires of a handler
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();
  // NOLINTEND(readability-identifier-naming)

  json::value_stack st;
  bool duplicate = false;

  bool on_document_begin(json::error_code&) {
    st.reset();
    return true;
  }
  bool on_document_end(json::error_code&) { return true; }
  bool on_object_begin(json::error_code&) {
    names_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t n, json::error_code& ec) {
    std::vector<std::string>& names = names_.back();
    std::sort(names.begin(), names.end());
    if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
      duplicate = true;
      ec = json::error::syntax;
      return false;
    }
    names_.pop_back();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(json::error_code&) { return true; }
  bool on_array_end(std::size_t n, json::error_code&) {
    st.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    st.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, json::error_code&) {
    key_.append(s.data(), s.size());
    names_.back().push_back(std::move(key_));
    key_.clear();
    st.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, json::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, json::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, json::error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, json::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, json::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, json::error_code&) {
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, json::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(json::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, json::error_code&) { return true; }
  bool on_comment(json::string_view, json::error_code&) { return true; }

 private:
  std::vector<std::vector<std::string>> names_;  // one list per object still open
  std::string key_;                              // a name arriving in parts
};

}  // namespace

std::optional<json::object> parse_strict_json_object(std::string_view text, std::string& why) {
  json::parse_options options;  // standard JSON only
  options.max_depth = kMaxJsonDepth;
  json::basic_parser<StrictHandler> parser(options);
  json::error_code ec;
  const std::size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().duplicate) {
    why = "a member name appears twice in one object";
    return std::nullopt;
  }
  if (ec) {
    why = "not JSON (" + ec.message() + ")";
    return std::nullopt;
  }
  if (used != text.size() || !parser.done()) {
    why = "not JSON (text after the value)";
    return std::nullopt;
  }
  json::value v = parser.handler().st.release();
  if (!v.is_object()) {
    why = "not a JSON object";
    return std::nullopt;
  }
  return std::move(v.as_object());
}

}  // namespace slipway::auth
