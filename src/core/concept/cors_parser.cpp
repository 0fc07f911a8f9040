// Reading `cors:`. Browsers compare Origin, methods and header names exactly as they send them, so anything here
// that could never match (an upper-case origin, a trailing slash, `patch`) is an error with the form that would.
#include "core/concept/cors_parser.h"

#include <algorithm>
#include <utility>

#include "core/ascii.h"

namespace slipway::model {
namespace {

const std::vector<std::string_view> kCorsKeys = {"origins", "methods", "headers", "expose_headers", "credentials",
                                                 "max_age"};
// The methods the API answers (OPTIONS is the preflight itself). GET, HEAD and POST never need listing for a
// browser, but listing them is harmless.
const std::vector<std::string_view> kCorsMethods = {"GET", "HEAD", "POST", "PATCH", "DELETE"};
// Real methods the API does not serve: a did-you-mean from these to a served one ("PUT" → "GET") would mislead.
const std::vector<std::string_view> kUnservedMethods = {"PUT", "OPTIONS", "CONNECT", "TRACE"};

struct Item {
  std::string value;
  SourceLoc loc;
};

// The scalars of a list, each with where it is. Reports a value that is not a list, and items that are not scalars.
std::optional<std::vector<Item>> read_list(ParseContext& ctx, const Entry& e, std::string_view what) {
  if (!e.value.IsSequence()) {
    ctx.expected(e, "a list of " + std::string(what));
    return std::nullopt;
  }
  std::vector<Item> items;
  for (const YAML::Node& node : e.value) {
    const SourceLoc loc = ParseContext::loc_of(node);
    if (!node.IsScalar()) {
      ctx.error(loc, "expected a string in '" + e.key + "', got " + ParseContext::describe(node));
      continue;
    }
    items.push_back(Item{node.Scalar(), loc});
  }
  return items;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool all_of_chars(std::string_view s, std::string_view allowed_punct, bool hex_only = false) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    const bool digit = c >= '0' && c <= '9';
    const bool letter = hex_only ? (c >= 'a' && c <= 'f') : (c >= 'a' && c <= 'z');
    return digit || letter || allowed_punct.find(c) != std::string_view::npos;
  });
}

void parse_origins(ParseContext& ctx, const Entry& e, CorsSettings& out, SourceLoc& wildcard) {
  auto items = read_list(ctx, e, "origins (e.g. [\"https://app.example.com\"])");
  if (!items) return;
  if (items->empty()) {
    ctx.error(ParseContext::value_loc(e), "'origins' must list at least one origin (or remove 'cors')");
    return;
  }
  for (const Item& item : *items) {
    const std::string& o = item.value;
    if (o == "*") {
      if (items->size() > 1) {
        ctx.error(item.loc, "origin '*' allows every origin: list it alone or list exact origins");
        continue;
      }
      wildcard = item.loc;
    } else if (o == "null") {
      ctx.error(item.loc, "origin 'null' cannot be allowed: sandboxed documents and local files all send it");
      continue;
    } else if (o.find('*') != std::string::npos) {
      ctx.error(item.loc, "origin '" + o + "' has a wildcard: list each origin exactly");
      continue;
    } else if (std::string suggestion; !is_serialized_origin(o, suggestion)) {
      if (!suggestion.empty()) {
        ctx.error(item.loc, "origin '" + o + "' never matches what a browser sends (did you mean '" + suggestion + "'?)");
      } else {
        ctx.error(item.loc, "invalid origin '" + o + "': expected http(s)://host[:port], e.g. https://app.example.com");
      }
      continue;
    }
    if (std::find(out.origins.begin(), out.origins.end(), o) != out.origins.end()) {
      ctx.error(item.loc, "origin '" + o + "' is listed twice");
      continue;
    }
    out.origins.push_back(o);
  }
}

void parse_methods(ParseContext& ctx, const Entry& e, CorsSettings& out, SourceLoc& wildcard) {
  auto items = read_list(ctx, e, "methods (e.g. [GET, POST, PATCH, DELETE])");
  if (!items) return;
  for (const Item& item : *items) {
    const std::string& m = item.value;
    if (m == "*") {
      wildcard = item.loc;
    } else if (std::find(kCorsMethods.begin(), kCorsMethods.end(), m) == kCorsMethods.end()) {
      std::string upper = m;
      std::transform(upper.begin(), upper.end(), upper.begin(),
                     [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; });
      if (std::find(kCorsMethods.begin(), kCorsMethods.end(), upper) != kCorsMethods.end()) {
        ctx.error(item.loc, "method '" + m + "' never matches: methods are case-sensitive (did you mean '" + upper + "'?)");
      } else {
        const bool unserved = std::find(kUnservedMethods.begin(), kUnservedMethods.end(), upper) != kUnservedMethods.end();
        ctx.error(item.loc, "unknown method '" + m + "' in 'methods': expected GET, HEAD, POST, PATCH or DELETE" +
                                (unserved ? std::string() : did_you_mean(m, kCorsMethods)));
      }
      continue;
    }
    if (std::find(out.methods.begin(), out.methods.end(), m) != out.methods.end()) {
      ctx.error(item.loc, "method '" + m + "' is listed twice");
      continue;
    }
    out.methods.push_back(m);
  }
}

// `headers` and `expose_headers`: header names, compared without case by browsers, kept in lower case.
void parse_header_names(ParseContext& ctx, const Entry& e, std::vector<std::string>& out, SourceLoc& wildcard) {
  auto items = read_list(ctx, e, "header names (e.g. [authorization, content-type])");
  if (!items) return;
  for (const Item& item : *items) {
    if (item.value == "*") {
      wildcard = item.loc;
    } else if (!is_token(item.value)) {
      ctx.error(item.loc, "invalid header name '" + item.value + "' in '" + e.key + "'");
      continue;
    }
    std::string name = item.value;
    ascii_to_lower(name);
    if (std::find(out.begin(), out.end(), name) != out.end()) {
      ctx.error(item.loc, "header '" + item.value + "' is listed twice in '" + e.key + "'");
      continue;
    }
    out.push_back(std::move(name));
  }
}

}  // namespace

bool is_serialized_origin(std::string_view origin, std::string& suggestion) {
  suggestion.clear();
  std::string lower(origin);
  ascii_to_lower(lower);
  const std::size_t sep = lower.find("://");
  if (sep == std::string::npos) return false;
  const std::string scheme = lower.substr(0, sep);
  if (scheme != "http" && scheme != "https") return false;
  std::string_view authority = std::string_view(lower).substr(sep + 3);
  authority = authority.substr(0, authority.find('/'));  // a path, or only a trailing slash: dropped below
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with('[')) {  // IPv6 literal
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return false;
    host = authority.substr(0, close + 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(':')) return false;
    if (!after.empty()) port = after.substr(1);
    if (host.size() < 3 || !all_of_chars(host.substr(1, host.size() - 2), ":.", /*hex_only=*/true)) return false;
  } else {
    if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
    }
    if (host.empty() || !all_of_chars(host, ".-") || host.front() == '.' || host.front() == '-') return false;
  }
  if (authority.size() != host.size() && port.empty()) return false;  // "https://host:" has no port
  if (!port.empty()) {
    if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string_view::npos) return false;
    const int n = std::stoi(std::string(port));
    if (n < 1 || n > 65535) return false;
    // A browser leaves out the scheme's default port, and writes the number without leading zeros.
    if ((scheme == "http" && n == 80) || (scheme == "https" && n == 443)) port = {};
  }
  std::string canonical = scheme + "://" + std::string(host);
  if (!port.empty()) canonical += ":" + std::to_string(std::stoi(std::string(port)));
  if (canonical == origin) return true;
  suggestion = std::move(canonical);
  return false;
}

void parse_cors(ParseContext& ctx, const Entry& entry, CorsSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "cors");
  if (!all) return;
  SourceLoc any_origin{0, 0}, any_method{0, 0}, any_header{0, 0}, any_exposed{0, 0};
  std::optional<SourceLoc> credentials_at;
  bool has_origins = false;
  for (const Entry& e : ctx.known_entries(*all, kCorsKeys, "in 'cors'")) {
    if (e.key == "origins") {
      has_origins = true;
      parse_origins(ctx, e, out, any_origin);
    } else if (e.key == "methods") {
      parse_methods(ctx, e, out, any_method);
    } else if (e.key == "headers") {
      parse_header_names(ctx, e, out.headers, any_header);
    } else if (e.key == "expose_headers") {
      parse_header_names(ctx, e, out.expose_headers, any_exposed);
    } else if (e.key == "credentials") {
      if (auto b = ctx.read_bool(e)) {
        out.credentials = *b;
        if (*b) credentials_at = ParseContext::value_loc(e);
      }
    } else if (e.key == "max_age") {
      auto seconds = ctx.read_integer(e);
      if (!seconds) continue;
      if (*seconds < 0 || *seconds > kMaxCorsMaxAge) {
        ctx.error(ParseContext::value_loc(e), "max_age must be from 0 to " + std::to_string(kMaxCorsMaxAge) +
                                                  " seconds, got " + std::to_string(*seconds));
        continue;
      }
      out.max_age = *seconds;
    }
  }
  if (!has_origins && !ParseContext::misspelled(*all, kCorsKeys, "origins")) {
    ctx.error(ParseContext::loc_of(entry.key_node), "missing required key 'origins' in 'cors'");
  }
  // With credentials a browser reads "*" literally (an origin, method or header named "*"), so it would never
  // match; for origins it would also hand any site the caller's credentials if it did. Refused outright.
  if (credentials_at) {
    const std::string where = " (credentials: true is at line " + std::to_string(credentials_at->line) + ")";
    if (any_origin.line > 0) {
      ctx.error(any_origin, "origin '*' cannot be combined with credentials: true" + where +
                                ": list the exact origins that may send credentials");
      out.origins.clear();
    }
    for (const auto& [loc, key] : {std::pair{any_method, "methods"}, std::pair{any_header, "headers"},
                                   std::pair{any_exposed, "expose_headers"}}) {
      if (loc.line > 0) {
        ctx.error(loc, std::string("'*' in '") + key + "' cannot be combined with credentials: true" + where +
                           ": a browser takes it literally; list the names");
      }
    }
  }
}

}  // namespace slipway::model
