// Reading `auth:`. Everything has a default, so `auth: {}` turns identity on as documented; every value given is
// checked against its bounds, and lifetimes against each other (a refresh token lives at least as long as the
// access tokens it renews; a session's absolute limit is no shorter than its idle limit).
#include "core/concept/auth_parser.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "core/ascii.h"
#include "core/text_formats.h"

namespace slipway::model {
namespace {

const std::vector<std::string_view> kAuthKeys = {"roles",    "default_role", "signup", "password",
                                                 "tokens",   "sessions",     "users",  "mfa", "email", "oidc"};
const std::vector<std::string_view> kOidcKeys = {"issuer", "client_id", "redirect_uri", "scopes"};
const std::vector<std::string_view> kEmailKeys = {"app_url", "verification"};
const std::vector<std::string_view> kVerificationValues = {"optional", "required"};
const std::vector<std::string_view> kMfaKeys = {"required_for", "issuer"};
const std::vector<std::string_view> kPasswordKeys = {"min_length"};
const std::vector<std::string_view> kTokenKeys = {"access_ttl", "refresh_ttl", "issuer", "audience"};
const std::vector<std::string_view> kSessionKeys = {"idle_timeout", "absolute_timeout"};
const std::vector<std::string_view> kSignupValues = {"open", "invite_only"};
constexpr std::string_view kAdminRole = "admin";

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Whether the file gives a duration and whether it was accepted, for comparing it with another one.
struct Lifetime {
  const Entry* entry = nullptr;  // nullptr: not given, the default applies
  bool ok = true;                // false: given but refused (already reported)
};

// Reads a duration from `min` to `max` into `out`; reports and leaves `out` alone otherwise.
bool read_duration_between(ParseContext& ctx, const Entry& e, std::int64_t min, std::int64_t max, std::int64_t& out) {
  auto seconds = ctx.read_duration(e);
  if (!seconds) return false;
  if (*seconds < min || *seconds > max) {
    ctx.error(ParseContext::value_loc(e), e.key + " must be from " + format_duration(min) + " to " +
                                              format_duration(max) + ", got " + format_duration(*seconds));
    return false;
  }
  out = *seconds;
  return true;
}

// `longer` must be at least `shorter`. Reported at `longer` when the file gives it (the later decision), otherwise
// at `shorter`; a value the file does not give is named as the default.
void check_order(ParseContext& ctx, std::string_view shorter_key, const Lifetime& shorter, std::int64_t shorter_s,
                 std::string_view longer_key, const Lifetime& longer, std::int64_t longer_s) {
  if (!shorter.ok || !longer.ok || longer_s >= shorter_s) return;
  auto text = [](std::string_view key, const Lifetime& l, std::int64_t s) {
    return std::string(key) + " (" + format_duration(s) + (l.entry == nullptr ? ", the default)" : ")");
  };
  if (longer.entry != nullptr) {
    ctx.error(
        ParseContext::value_loc(*longer.entry),
        text(longer_key, longer, longer_s) + " must not be shorter than " + text(shorter_key, shorter, shorter_s));
  } else if (shorter.entry != nullptr) {
    ctx.error(ParseContext::value_loc(*shorter.entry),
              text(shorter_key, shorter, shorter_s) + " must not be longer than " + text(longer_key, longer, longer_s));
  }
}

// Roles in file order. `refused` collects the names reported as invalid, so default_role does not report them again.
void parse_roles(ParseContext& ctx, const Entry& e, AuthSettings& out, std::vector<std::string>& refused) {
  if (!e.value.IsSequence()) {
    ctx.expected(e, "a list of role names (e.g. [editor, member])");
    return;
  }
  if (e.value.size() == 0) {
    ctx.error(ParseContext::value_loc(e),
              "'roles' must list at least one role (or leave it out: admin is always a role)");
    return;
  }
  for (const YAML::Node& node : e.value) {
    const SourceLoc loc = ParseContext::loc_of(node);
    if (!node.IsScalar()) {
      ctx.error(loc, "expected a role name in 'roles', got " + ParseContext::describe(node));
      continue;
    }
    const std::string& role = node.Scalar();
    if (!is_valid_identifier(role)) {
      ctx.error(loc, "invalid role name '" + role +
                         "': use a lowercase letter, then lowercase letters, digits or '_' (at most 63 characters)");
      refused.push_back(role);
    } else if (out.has_role(role)) {
      ctx.error(loc, "role '" + role + "' is listed twice");
    } else {
      out.roles.push_back(role);
    }
  }
}

void check_default_role(ParseContext& ctx, const Entry& e, AuthSettings& out, const std::vector<std::string>& refused) {
  auto role = ctx.read_string(e);
  if (!role) return;
  const SourceLoc loc = ParseContext::value_loc(e);
  if (*role == kAdminRole) {
    ctx.error(loc,
              "default_role cannot be 'admin': every new user would be an admin (give the role to users one by one)");
  } else if (out.has_role(*role)) {
    out.default_role = *role;
  } else if (std::find(refused.begin(), refused.end(), *role) == refused.end()) {
    const std::vector<std::string_view> candidates(out.roles.begin(), out.roles.end());
    const std::string hint = did_you_mean(*role, candidates);
    ctx.error(loc, "default_role '" + *role + "' is not one of the roles: " + join(out.roles) +
                       (hint.empty() ? " (declare it in 'roles')" : hint));
  }
}

void parse_signup(ParseContext& ctx, const Entry& e, AuthSettings& out) {
  auto signup = ctx.read_string(e);
  if (!signup) return;
  if (*signup == "open") {
    out.signup = AuthSettings::Signup::kOpen;
  } else if (*signup == "invite_only") {
    out.signup = AuthSettings::Signup::kInviteOnly;
  } else {
    const std::string hint = did_you_mean(*signup, kSignupValues);
    ctx.error(ParseContext::value_loc(e),
              "unknown signup '" + *signup + "'" + (hint.empty() ? ": expected open or invite_only" : hint));
  }
}

void parse_password(ParseContext& ctx, const Entry& entry, AuthSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.password");
  if (!all) return;
  for (const Entry& e : ctx.known_entries(*all, kPasswordKeys, "in 'auth.password'")) {
    auto n = ctx.read_integer(e);
    if (!n) continue;
    if (*n < kMinPasswordLength) {
      ctx.error(ParseContext::value_loc(e), "min_length must be at least " + std::to_string(kMinPasswordLength) +
                                                ", got " + std::to_string(*n) +
                                                ": shorter passwords are guessed too easily");
    } else if (*n > kMaxPasswordMinLength) {
      ctx.error(ParseContext::value_loc(e),
                "min_length must be at most " + std::to_string(kMaxPasswordMinLength) + ", got " + std::to_string(*n));
    } else {
      out.password_min_length = static_cast<int>(*n);
    }
  }
}

// Reads a non-empty string into `out`.
void read_claim(ParseContext& ctx, const Entry& e, std::string& out) {
  auto s = ctx.read_string(e);
  if (!s) return;
  if (s->empty()) {
    ctx.error(ParseContext::value_loc(e), "'" + e.key + "' must not be empty (leave it out for the default)");
    return;
  }
  out = *s;
}

void parse_tokens(ParseContext& ctx, const Entry& entry, AuthSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.tokens");
  if (!all) return;
  // Kept in a variable, not looped over as a temporary: each Lifetime below points into it.
  const std::vector<Entry> known = ctx.known_entries(*all, kTokenKeys, "in 'auth.tokens'");
  Lifetime access, refresh;
  for (const Entry& e : known) {
    if (e.key == "access_ttl") {
      access = {&e, read_duration_between(ctx, e, kMinAccessTtl, kMaxAccessTtl, out.access_ttl_s)};
    } else if (e.key == "refresh_ttl") {
      refresh = {&e, read_duration_between(ctx, e, kMinRefreshTtl, kMaxRefreshTtl, out.refresh_ttl_s)};
    } else if (e.key == "issuer") {
      read_claim(ctx, e, out.issuer);
    } else if (e.key == "audience") {
      read_claim(ctx, e, out.audience);
    }
  }
  check_order(ctx, "access_ttl", access, out.access_ttl_s, "refresh_ttl", refresh, out.refresh_ttl_s);
}

void parse_sessions(ParseContext& ctx, const Entry& entry, AuthSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.sessions");
  if (!all) return;
  // Kept in a variable, not looped over as a temporary: each Lifetime below points into it.
  const std::vector<Entry> known = ctx.known_entries(*all, kSessionKeys, "in 'auth.sessions'");
  Lifetime idle, absolute;
  for (const Entry& e : known) {
    if (e.key == "idle_timeout") {
      idle = {&e, read_duration_between(ctx, e, kMinSessionTimeout, kMaxSessionTimeout, out.session_idle_s)};
    } else if (e.key == "absolute_timeout") {
      absolute = {&e, read_duration_between(ctx, e, kMinSessionTimeout, kMaxSessionTimeout, out.session_absolute_s)};
    }
  }
  check_order(ctx, "idle_timeout", idle, out.session_idle_s, "absolute_timeout", absolute, out.session_absolute_s);
}

// `mfa:` — which roles must use a second factor, and the name authenticator apps show. Roles are checked once every
// role is known (like default_role).
void parse_mfa(ParseContext& ctx, const Entry& entry, AuthSettings& out, std::optional<Entry>& required_for) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.mfa");
  if (!all) return;
  for (const Entry& e : ctx.known_entries(*all, kMfaKeys, "in 'auth.mfa'")) {
    if (e.key == "required_for") {
      required_for = e;  // a copy: the entries of this loop are a temporary
    } else if (e.key == "issuer") {
      read_claim(ctx, e, out.mfa_issuer);
    }
  }
}

// `email:` — where links in mails lead, and whether login waits for a verified address.
void parse_email(ParseContext& ctx, const Entry& entry, AuthSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.email");
  if (!all) return;
  bool has_url = false;
  for (const Entry& e : ctx.known_entries(*all, kEmailKeys, "in 'auth.email'")) {
    auto v = ctx.read_string(e);
    if (!v) continue;
    const SourceLoc at = ParseContext::value_loc(e);
    if (e.key == "app_url") {
      has_url = true;
      if (!valid_url(*v) || v->find_first_of("?#") != std::string::npos) {
        ctx.error(at, "app_url must be an http or https URL without query or fragment (like https://app.example.com"
                      "/account), got '" + *v + "'");
        continue;
      }
      std::string url = *v;
      while (url.size() > 8 && url.back() == '/') url.pop_back();  // links append "/verify-email?token=…"
      out.email_app_url = url;
    } else if (e.key == "verification") {
      if (*v == "optional") {
        out.verification = AuthSettings::Verification::kOptional;
      } else if (*v == "required") {
        out.verification = AuthSettings::Verification::kRequired;
      } else {
        const std::string hint = did_you_mean(*v, kVerificationValues);
        ctx.error(at, "unknown verification '" + *v + "'" + (hint.empty() ? ": expected optional or required" : hint));
      }
    }
  }
  if (!has_url && !ParseContext::misspelled(*all, kEmailKeys, "app_url"))
    ctx.error(ParseContext::value_loc(entry),
              "missing required key 'app_url' in 'auth.email' (where the links in mails lead)");
}

// An https URL (http only for loopback, for local providers and tests) without query or fragment.
bool is_provider_url(std::string_view u) {
  if (!valid_url(u) || u.find_first_of("?#") != std::string_view::npos) return false;
  if (u.starts_with("https://")) return true;
  return u.starts_with("http://127.0.0.1") || u.starts_with("http://localhost") || u.starts_with("http://[::1]");
}

void parse_oidc_provider(ParseContext& ctx, const Entry& entry, AuthSettings& out) {
  OidcProvider p;
  p.name = entry.key;
  p.loc = ParseContext::loc_of(entry.key_node);
  if (!is_valid_identifier(p.name)) {
    ctx.error(p.loc, "invalid provider name '" + p.name +
                         "': use a lowercase letter, then lowercase letters, digits or '_' (it is a URL segment)");
    return;
  }
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.oidc." + p.name);
  if (!all) return;
  for (const Entry& e : *all)
    if (e.key == "client_secret")
      ctx.error(ParseContext::loc_of(e.key_node), "the client secret is a secret: set SLIPWAY_OIDC_" +
                                                      ascii_upper(p.name) + "_CLIENT_SECRET or SLIPWAY_OIDC_" +
                                                      ascii_upper(p.name) + "_CLIENT_SECRET_FILE, not the file");
  std::vector<Entry> rest;
  for (const Entry& e : *all)
    if (e.key != "client_secret") rest.push_back(e);
  bool ok = true;
  p.scopes = {"openid", "email", "profile"};
  for (const Entry& e : ctx.known_entries(rest, kOidcKeys, "in 'auth.oidc." + p.name + "'")) {
    const SourceLoc at = ParseContext::value_loc(e);
    if (e.key == "scopes") {
      if (!e.value.IsSequence()) {
        ctx.expected(e, "a list of scopes (e.g. [openid, email])");
        ok = false;
        continue;
      }
      p.scopes.clear();
      for (const YAML::Node& n : e.value) {
        const std::string s = n.IsScalar() ? n.Scalar() : "";
        if (s.empty() || s.find_first_of(" \"\\") != std::string::npos || s.size() > 100) {
          ctx.error(ParseContext::loc_of(n), "a scope is one word (like email)");
          ok = false;
        } else {
          p.scopes.push_back(s);
        }
      }
      if (std::find(p.scopes.begin(), p.scopes.end(), "openid") == p.scopes.end()) {
        ctx.error(at, "scopes must include openid (without it the provider sends no ID token)");
        ok = false;
      }
      continue;
    }
    auto v = ctx.read_string(e);
    if (!v) {
      ok = false;
      continue;
    }
    if (e.key == "issuer") {
      if (!is_provider_url(*v)) {
        ctx.error(at, "issuer must be an https URL (http only on loopback), got '" + *v + "'");
        ok = false;
      }
      p.issuer = *v;
    } else if (e.key == "client_id") {
      if (v->empty() || v->size() > 255) {
        ctx.error(at, "client_id must be 1 to 255 characters");
        ok = false;
      }
      p.client_id = *v;
    } else if (e.key == "redirect_uri") {
      const std::string suffix = "/api/v1/auth/oidc/" + p.name + "/callback";
      if (!is_provider_url(*v) || !v->ends_with(suffix)) {
        ctx.error(at, "redirect_uri must be this server's public https URL ending in " + suffix + ", got '" + *v + "'");
        ok = false;
      }
      p.redirect_uri = *v;
    }
  }
  for (const char* key : {"issuer", "client_id", "redirect_uri"}) {
    const bool present = std::any_of(rest.begin(), rest.end(), [&](const Entry& e) { return e.key == key; });
    if (!present && !ParseContext::misspelled(rest, kOidcKeys, key)) {
      ctx.error(ParseContext::value_loc(entry),
                std::string("missing required key '") + key + "' in 'auth.oidc." + p.name + "'");
      ok = false;
    }
  }
  if (ok) out.oidc.push_back(std::move(p));
}

void parse_oidc(ParseContext& ctx, const Entry& entry, AuthSettings& out) {
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth.oidc");
  if (!all) return;
  for (const Entry& e : *all) parse_oidc_provider(ctx, e, out);
}

void check_mfa_roles(ParseContext& ctx, const Entry& e, AuthSettings& out, const std::vector<std::string>& refused) {
  if (!e.value.IsSequence()) {
    ctx.expected(e, "a list of role names (e.g. [admin])");
    return;
  }
  for (const YAML::Node& node : e.value) {
    const SourceLoc loc = ParseContext::loc_of(node);
    if (!node.IsScalar()) {
      ctx.error(loc, "expected a role name in 'required_for', got " + ParseContext::describe(node));
      continue;
    }
    const std::string& role = node.Scalar();
    if (out.has_role(role)) {
      if (std::find(out.mfa_required_for.begin(), out.mfa_required_for.end(), role) != out.mfa_required_for.end())
        ctx.error(loc, "role '" + role + "' is listed twice");
      else
        out.mfa_required_for.push_back(role);
    } else if (std::find(refused.begin(), refused.end(), role) == refused.end()) {
      const std::vector<std::string_view> candidates(out.roles.begin(), out.roles.end());
      const std::string hint = did_you_mean(role, candidates);
      ctx.error(loc, "required_for names '" + role + "', which is not one of the roles: " + join(out.roles) +
                         (hint.empty() ? " (declare it in 'roles')" : hint));
    }
  }
}

}  // namespace

ParsedAuth parse_auth(ParseContext& ctx, const Entry& entry, const CollectionNames& names, std::string_view app) {
  ParsedAuth out;
  AuthSettings& a = out.settings;
  a.loc = ParseContext::loc_of(entry.key_node);
  const Entry* users = nullptr;
  std::optional<std::vector<Entry>> all;
  if (entry.value.IsNull()) {
    ctx.error(ParseContext::value_loc(entry),
              "expected a map for 'auth', got null (write `auth: {}` for the defaults)");
  } else {
    all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), "auth");
  }
  std::vector<Entry> known;
  if (all) known = ctx.known_entries(*all, kAuthKeys, "in 'auth'");
  std::vector<std::string> refused_roles;
  const Entry* default_role = nullptr;
  std::optional<Entry> mfa_required_for;
  for (const Entry& e : known) {
    if (e.key == "roles") {
      parse_roles(ctx, e, a, refused_roles);
    } else if (e.key == "default_role") {
      default_role = &e;  // checked once every role is known
    } else if (e.key == "signup") {
      parse_signup(ctx, e, a);
    } else if (e.key == "password") {
      parse_password(ctx, e, a);
    } else if (e.key == "tokens") {
      parse_tokens(ctx, e, a);
    } else if (e.key == "sessions") {
      parse_sessions(ctx, e, a);
    } else if (e.key == "users") {
      users = &e;
    } else if (e.key == "mfa") {
      parse_mfa(ctx, e, a, mfa_required_for);
    } else if (e.key == "oidc") {
      parse_oidc(ctx, e, a);
    } else if (e.key == "email") {
      parse_email(ctx, e, a);
      a.email_loc = ParseContext::loc_of(e.key_node);
    }
  }
  if (!a.has_role(kAdminRole)) a.roles.insert(a.roles.begin(), std::string(kAdminRole));
  if (default_role != nullptr) check_default_role(ctx, *default_role, a, refused_roles);
  if (mfa_required_for) check_mfa_roles(ctx, *mfa_required_for, a, refused_roles);
  if (a.mfa_issuer.empty()) a.mfa_issuer = std::string(app);
  if (a.issuer.empty()) a.issuer = "slipway:" + std::string(app);
  if (a.audience.empty()) a.audience = std::string(app);
  out.users = parse_users(ctx, users, names, a.loc);
  return out;
}

}  // namespace slipway::model
