#include "core/concept/loader.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "core/concept/auth_parser.h"
#include "core/concept/collection_parser.h"
#include "core/concept/cors_parser.h"
#include "core/concept/mail_parser.h"
#include "core/concept/rate_limit_parser.h"
#include "core/concept/security_headers_parser.h"
#include "core/concept/parse_context.h"
#include "core/concept/rule_binder.h"
#include "core/concept/yaml_guard.h"
#include "core/utf8.h"

namespace slipway::model {
namespace {

const std::vector<std::string_view> kTopLevelKeys = {"app",  "collections", "server",     "cors",
                                                     "auth", "smtp",        "outbound",   "rate_limits",
                                                     "security_headers"};
const std::vector<std::string_view> kServerKeys = {"listen", "log_level", "trusted_proxies", "client_address_header"};
constexpr std::size_t kMaxTrustedProxies = 64;

// Collection names that would collide with routes under /api/v1/ or with what later issues add (the built-in
// `users` collection comes with `auth:` and is extended there, not declared).
const std::vector<std::string_view> kReservedCollections = {
    "api",      "admin",   "auth",     "me",      "events", "users",   "collections", "batch",
    "realtime", "files",   "health",   "livez",   "readyz", "metrics", "docs",        "openapi",
    "sessions", "apikeys", "webhooks", "backups", "audit",  "schema"};

// The byte offset of the first byte that is not valid UTF-8 or is NUL, or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  return std::min(s.find('\0'), first_invalid_utf8(s));
}

SourceLoc loc_of_offset(std::string_view text, std::size_t offset) {
  SourceLoc loc{1, 1};
  for (std::size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.column = 1;
    } else {
      ++loc.column;
    }
  }
  return loc;
}

bool is_valid_app_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || s[0] < 'a' || s[0] > 'z') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'; });
}

// Checks a collection's name; reports and returns false when it cannot be used.
bool check_collection_name(ParseContext& ctx, const Entry& e) {
  const SourceLoc loc = ParseContext::loc_of(e.key_node);
  if (!is_valid_identifier(e.key)) {
    ctx.error(loc, "invalid collection name '" + e.key +
                       "': use a lowercase letter, then lowercase letters, digits or '_' (at most 63 characters)");
    return false;
  }
  if (e.key.starts_with("sqlite_")) {
    ctx.error(loc, "collection name '" + e.key + "' is reserved (the prefix 'sqlite_' belongs to SQLite)");
    return false;
  }
  if (e.key == kUsersCollection) {
    ctx.error(loc, "collection name 'users' is reserved: extend the built-in users collection under `auth: users:`");
    return false;
  }
  if (std::find(kReservedCollections.begin(), kReservedCollections.end(), e.key) != kReservedCollections.end()) {
    ctx.error(loc, "collection name '" + e.key + "' is reserved");
    return false;
  }
  return true;
}

void parse_app(ParseContext& ctx, const Entry& e, Concept& out) {
  auto app = ctx.read_string(e);
  if (!app) return;
  if (!is_valid_app_name(*app)) {
    ctx.error(ParseContext::value_loc(e),
              "invalid app name '" + *app + "': use a lowercase letter, then lowercase letters, digits, '_' or '-'");
    return;
  }
  out.app = *app;
}

// HOST:PORT or [IPv6]:PORT with a port from 0 to 65535.
bool valid_listen(std::string_view l) {
  const std::size_t colon = l.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == l.size() || l.size() - colon - 1 > 5) return false;
  const std::string_view port = l.substr(colon + 1);
  if (port.find_first_not_of("0123456789") != std::string_view::npos) return false;
  return std::stoul(std::string(port)) <= 65535;
}

// `trusted_proxies: [10.0.0.0/8, "2001:db8::/32", 127.0.0.1]`: networks or single addresses.
void parse_trusted_proxies(ParseContext& ctx, const Entry& e, std::vector<IpNetwork>& out) {
  if (!e.value.IsSequence()) {
    ctx.expected(e, "a list of networks (e.g. [10.0.0.0/8, 127.0.0.1])");
    return;
  }
  for (const YAML::Node& node : e.value) {
    const SourceLoc loc = ParseContext::loc_of(node);
    if (!node.IsScalar()) {
      ctx.error(loc, "expected a network in 'trusted_proxies', got " + ParseContext::describe(node));
      continue;
    }
    const auto network = parse_network(node.Scalar());
    if (!network) {
      ctx.error(loc, "invalid network '" + node.Scalar() +
                         "' in 'trusted_proxies': expected an address or ADDRESS/PREFIX with no bits set past the "
                         "prefix (e.g. 10.0.0.0/8, 127.0.0.1, ::1)");
      continue;
    }
    if (network->prefix == 0 || (network->base.v4() && network->prefix == 96)) {
      ctx.error(loc, "'" + node.Scalar() + "' in 'trusted_proxies' trusts every address: anyone could then choose "
                         "their own client address; list the proxies' networks");
      continue;
    }
    if (out.size() == kMaxTrustedProxies) {
      ctx.error(loc, "'trusted_proxies' lists more than " + std::to_string(kMaxTrustedProxies) + " networks");
      return;
    }
    out.push_back(*network);
  }
}

void parse_server(ParseContext& ctx, const Entry& e, Concept& out) {
  auto entries = ctx.map_entries(e.value, ParseContext::value_loc(e), "server");
  if (!entries) return;
  for (const Entry& se : ctx.known_entries(*entries, kServerKeys, "in 'server'")) {
    if (se.key == "trusted_proxies") {
      parse_trusted_proxies(ctx, se, out.server.trusted_proxies);
      continue;
    }
    auto value = ctx.read_string(se);
    if (!value) continue;
    if (se.key == "client_address_header") {
      if (*value == "x-forwarded-for") out.server.client_address_header = ServerSettings::AddressHeader::kXForwardedFor;
      else if (*value == "forwarded") out.server.client_address_header = ServerSettings::AddressHeader::kForwarded;
      else
        ctx.error(ParseContext::value_loc(se),
                  "invalid client_address_header '" + *value + "': expected x-forwarded-for or forwarded");
    } else if (se.key == "listen") {
      if (!valid_listen(*value)) {
        ctx.error(ParseContext::value_loc(se), "invalid listen address '" + *value +
                                                   "': expected HOST:PORT, e.g. 127.0.0.1:8080 or [::1]:8080");
        continue;
      }
      out.server.listen = *value;
    } else if (*value != "debug" && *value != "info" && *value != "warn" && *value != "error") {
      ctx.error(ParseContext::value_loc(se), "invalid log_level '" + *value + "': expected debug, info, warn or error");
    } else {
      out.server.log_level = *value;
    }
  }
}

// The entries under `collections:` when it is a non-empty map; more than kMaxCollections are reported and cut.
std::vector<Entry> collection_entries(ParseContext& ctx, const Entry& e) {
  auto entries = ctx.map_entries(e.value, ParseContext::value_loc(e), "collections");
  if (!entries) return {};
  if (entries->empty()) {
    ctx.error(ParseContext::value_loc(e), "'collections' must declare at least one collection");
    return {};
  }
  if (entries->size() > kMaxCollections) {
    ctx.error(ParseContext::loc_of((*entries)[kMaxCollections].key_node),
              "the concept file has more than " + std::to_string(kMaxCollections) + " collections");
    entries->resize(kMaxCollections);
  }
  return std::move(*entries);
}

// Reads every collection before binding any rule: a relation may point at a collection declared later or at the
// built-in users collection (which `auth` brings, after the declared ones), and a rule may follow it there.
void parse_collections(ParseContext& ctx, const Entry* collections, const Entry* auth, Concept& out) {
  const std::vector<Entry> entries =
      collections != nullptr ? collection_entries(ctx, *collections) : std::vector<Entry>{};
  CollectionNames names;
  std::vector<const Entry*> valid;
  for (const Entry& ce : entries) {
    names.all.push_back(ce.key);
    if (check_collection_name(ctx, ce)) {
      names.valid.insert(ce.key);
      valid.push_back(&ce);
    }
  }
  if (auth != nullptr) names.valid.insert(std::string(kUsersCollection));
  std::vector<ParsedCollection> parsed;
  parsed.reserve(valid.size() + 1);
  for (const Entry* ce : valid) parsed.push_back(parse_collection(ctx, *ce, names));
  if (auth != nullptr) {
    ParsedAuth a = parse_auth(ctx, *auth, names, out.app);
    out.auth = std::move(a.settings);
    parsed.push_back(std::move(a.users));
  }

  std::vector<PendingRule> rules;
  std::vector<std::set<std::string, std::less<>>> broken;
  out.collections.reserve(parsed.size());
  for (ParsedCollection& p : parsed) {
    for (PendingRule& r : p.rules) {
      r.collection = out.collections.size();
      rules.push_back(std::move(r));
    }
    broken.push_back(std::move(p.broken));
    out.collections.push_back(std::move(p.collection));
  }
  // From here on the collections stay where they are: rules bind to them.
  bind_rules(ctx, out, rules, broken);
}

LoadResult finish(ParseContext& ctx, std::unique_ptr<Concept> concept_file, const std::string& path) {
  LoadResult result;
  result.diagnostics = std::move(ctx.diagnostics());
  for (Diagnostic& d : result.diagnostics) d.file = path;
  std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  if (result.diagnostics.empty()) result.concept_file = std::move(concept_file);
  return result;
}

}  // namespace

LoadResult load_concept_string(std::string_view text, std::string path_for_messages) {
  ParseContext ctx(text);
  if (text.size() > kMaxFileBytes) {
    ctx.error(SourceLoc{1, 1}, "the file is larger than the maximum of " + std::to_string(kMaxFileBytes) + " bytes");
    return finish(ctx, nullptr, path_for_messages);
  }
  if (const std::size_t bad = invalid_utf8_at(text); bad != std::string_view::npos) {
    const char* what = text[bad] == '\0' ? "a NUL byte" : "invalid UTF-8";
    ctx.error(loc_of_offset(text, bad), std::string("the file contains ") + what + ": it must be UTF-8 text");
    return finish(ctx, nullptr, path_for_messages);
  }
  GuardResult guard = guard_yaml(text, GuardLimits{kMaxDepth, kMaxNodes});
  for (Diagnostic& d : guard.diagnostics) ctx.error(SourceLoc{d.line, d.column}, std::move(d.message));
  if (guard.fatal) return finish(ctx, nullptr, path_for_messages);

  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {  // the guard pass parsed the same text: not expected
    ctx.error(SourceLoc{e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
    return finish(ctx, nullptr, path_for_messages);
  }
  if (root.IsNull()) {
    ctx.error(SourceLoc{1, 1}, "the file is empty: expected a map with 'app' and 'collections'");
    return finish(ctx, nullptr, path_for_messages);
  }
  auto top = ctx.map_entries(root, ParseContext::loc_of(root), "the top level");
  if (!top) return finish(ctx, nullptr, path_for_messages);

  auto concept_file = std::make_unique<Concept>();
  concept_file->source_path = path_for_messages;
  bool has_app = false;
  const Entry* collections = nullptr;
  const Entry* auth = nullptr;
  const Entry* smtp = nullptr;
  const std::vector<Entry> known = ctx.known_entries(*top, kTopLevelKeys, "at top level");
  for (const Entry& e : known) {
    if (e.key == "app") {
      has_app = true;
      parse_app(ctx, e, *concept_file);
    } else if (e.key == "collections") {
      collections = &e;  // read after the loop, with auth, once `app` is known
    } else if (e.key == "auth") {
      auth = &e;
    } else if (e.key == "server") {
      parse_server(ctx, e, *concept_file);
    } else if (e.key == "cors") {
      parse_cors(ctx, e, concept_file->cors);
    } else if (e.key == "smtp") {
      smtp = &e;  // after `app` (the sender's default name)
    } else if (e.key == "outbound") {
      parse_outbound(ctx, e, concept_file->outbound);
    } else if (e.key == "rate_limits") {
      parse_rate_limits(ctx, e, concept_file->rate_limits);
    } else if (e.key == "security_headers") {
      parse_security_headers(ctx, e, concept_file->security_headers);
    }
  }
  if (smtp != nullptr) parse_smtp(ctx, *smtp, concept_file->app, concept_file->smtp);
  parse_collections(ctx, collections, auth, *concept_file);
  // Mail is sent only for the e-mail flows: each needs the other, and neither is ignored silently.
  const bool email_flows = concept_file->auth && concept_file->auth->email_loc;
  if (email_flows && smtp == nullptr)
    ctx.error(*concept_file->auth->email_loc,
              "auth.email needs an `smtp:` section: the mail server that sends the verification and reset mails");
  if (smtp != nullptr && !email_flows)
    ctx.error(ParseContext::loc_of(smtp->key_node),
              "smtp is used by the e-mail flows of `auth:`: add `auth: email: app_url:` (where the links in mails "
              "lead)");
  for (std::string_view key : {std::string_view("app"), std::string_view("collections")}) {
    const bool present = key == "app" ? has_app : collections != nullptr;
    if (!present && !ParseContext::misspelled(*top, kTopLevelKeys, key)) {
      ctx.error(ParseContext::loc_of(root), "missing required key '" + std::string(key) + "' at top level");
    }
  }
  return finish(ctx, std::move(concept_file), path_for_messages);
}

LoadResult load_concept_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult result;
    result.diagnostics.push_back(Diagnostic{path, 0, 0, std::string("cannot read file: ") + std::strerror(errno)});
    return result;
  }
  // Read at most one byte past the limit: enough to know the file is too large without reading all of it.
  std::string text(kMaxFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    LoadResult result;
    result.diagnostics.push_back(Diagnostic{path, 0, 0, std::string("cannot read file: ") + std::strerror(errno)});
    return result;
  }
  text.resize(static_cast<std::size_t>(in.gcount()));
  return load_concept_string(text, path);
}

}  // namespace slipway::model
