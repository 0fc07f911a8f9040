// The concept model: what slipway.yaml says, validated and resolved. Built once at start-up by the loader
// (concept/loader.h) and then immutable: shared read-only by every thread without locks.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/source_span.h"
#include "core/value.h"

namespace slipway::expr {
struct BoundExpr;
}

namespace slipway::model {

enum class FieldType : std::uint8_t { kText, kInt, kFloat, kBool, kDatetime, kEmail, kUrl, kEnum, kJson, kRelation };
enum class OnDelete : std::uint8_t { kRestrict, kCascade, kSetNull };

// Names as written in the file ("text", "int", ...), and back.
const char* field_type_name(FieldType t);
std::optional<FieldType> parse_field_type(std::string_view name);
const char* on_delete_name(OnDelete d);

// A compiled RE2 pattern. Kept behind an opaque pointer so RE2 stays out of this header.
class Pattern {
 public:
  virtual ~Pattern() = default;
  virtual const std::string& source() const = 0;
  // Full match (the whole value must match), linear time (RE2: no ReDoS).
  virtual bool matches(std::string_view text) const = 0;
};
// Returns nullptr and sets `error` when the pattern does not compile.
std::shared_ptr<const Pattern> compile_pattern(const std::string& source, std::string& error);

struct Field {
  std::string name;
  FieldType type = FieldType::kText;
  bool required = false;
  bool unique = false;
  bool hidden = false;     // never returned; usable in filter/sort by the admin only
  bool immutable = false;  // settable on create, rejected on update
  bool sensitive = false;  // never logged (encryption at rest comes with a later issue)
  std::optional<Value> default_value;
  // For text/email/url: length in code points. For int/float: the value. For json: ignored.
  std::optional<double> min;
  std::optional<double> max;
  std::shared_ptr<const Pattern> pattern;   // text/email/url only
  std::vector<std::string> values;          // enum only, in file order
  std::string to;                           // relation only: target collection name
  OnDelete on_delete = OnDelete::kRestrict; // relation only
  SourceLoc loc;                            // where the field is declared
};

// The value constraint a stored value breaks: "min", "max", "pattern" or "enum"; nullptr when it breaks none or is
// null. Lengths count code points, as request validation does. Used to check existing data against a changed field
// (migrations); `required` and `unique` are about absence and other rows, not one value, and are checked apart.
const char* constraint_violation(const Field& f, const Value& v);

// One rule as written, and bound against its collection (expr::bind with the rule policy).
struct Rule {
  std::string source;                             // the expression text from the file
  std::shared_ptr<const expr::BoundExpr> bound;   // never null for a present rule
  SourceLoc loc;                                  // where the expression string starts in the file
};

// Per-action rules. An absent rule (nullopt) means admin only; "true" means everyone.
struct Rules {
  std::optional<Rule> list;
  std::optional<Rule> view;
  std::optional<Rule> create;
  std::optional<Rule> update;
  std::optional<Rule> remove;  // `delete:` in the file
};

struct Index {
  std::vector<std::string> fields;  // system fields (created, updated, id) allowed too
  SourceLoc loc;
};

struct Collection {
  std::string name;
  std::vector<Field> fields;      // in file order; system fields are not in here
  std::vector<Index> indexes;
  Rules rules;
  std::size_t body_limit = 1 << 20;  // max request body bytes for this collection (`body_limit:` in the file)
  bool audit = false;  // `audit: true`: every create/update/delete is in the audit log with before and after
  SourceLoc loc;
  bool auth = false;  // the built-in users collection (Concept::users()), extended under `auth: users:`

  // nullptr when absent. Linear scan: collections have tens of fields, and names are short.
  const Field* find_field(std::string_view name) const;
  int field_index(std::string_view name) const;  // -1 when absent
};

// The system fields every record has, in this order, before the collection's own fields.
inline constexpr const char* kSystemFields[] = {"id", "created", "updated", "version"};
bool is_system_field(std::string_view name);

// Server settings the file may carry (`server:`). Flags and SLIPWAY_* env vars override them; `mode` and secrets
// are deliberately not settable here (a committed file must not switch production into dev mode or hold secrets).
struct ServerSettings {
  std::optional<std::string> listen;     // HOST:PORT
  std::optional<std::string> log_level;  // debug|info|warn|error
  // Peers whose forwarding header is believed (docs/security.md#client-address): the client address of a request
  // from one of them is read from `client_address_header`; from anyone else it is the peer itself.
  std::vector<IpNetwork> trusted_proxies;
  enum class AddressHeader : std::uint8_t { kXForwardedFor, kForwarded };
  AddressHeader client_address_header = AddressHeader::kXForwardedFor;
};

// `cors:` — which browser front ends on other origins may call the API (docs/concept-file.md#cors). Absent or
// without origins: no cross-origin browser access at all (no Access-Control-* header is ever sent).
struct CorsSettings {
  std::vector<std::string> origins;         // exact origins ("https://app.example.com", lower case), or only "*"
  std::vector<std::string> methods;         // allowed methods beyond the always-allowed GET, HEAD, POST; or "*"
  std::vector<std::string> headers;         // allowed request headers, lower case; "*": any but Authorization
  std::vector<std::string> expose_headers;  // response headers scripts may read beyond the safelisted ones
  bool credentials = false;                 // let the browser send cookies/credentials (never with "*")
  std::optional<std::int64_t> max_age;      // seconds a browser may reuse a preflight answer

  bool enabled() const { return !origins.empty(); }
  bool any_origin() const { return origins.size() == 1 && origins.front() == "*"; }
};

// `security_headers:` — what every response carries besides `X-Content-Type-Options: nosniff` (docs/security.md).
struct SecurityHeaderSettings {
  // The Content-Security-Policy of HTML responses (the admin UI, reference pages): same-origin resources only, no
  // inline script or style, no plugins, never framed. Every other response gets `default-src 'none'; ...`, which
  // lets nothing run if a browser is ever made to render it.
  std::string html_content_security_policy =
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
      "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
  std::string referrer_policy = "no-referrer";
};

// `rate_limits:` — token buckets per route class (the route table's `rate_class`) and kind of caller
// (docs/security.md#rate-limits). On by default with the limits below; `rate_limits: off` turns all of them off.
struct RateLimit {
  std::uint32_t quota = 0;    // requests a full bucket holds; 0: no limit
  std::int64_t window_s = 0;  // seconds to refill an empty bucket (quota / window_s per second, continuously)
  bool on() const { return quota > 0; }
};

// Whose bucket a request is charged to: a signed-in user's, an API key's, or else its client address's (anonymous
// callers, the admin token, and requests whose credentials fail).
struct RateClassLimits {
  RateLimit address;
  RateLimit user;
  RateLimit api_key;
};

// The route classes, in the order policies are numbered (route table: `rate_class`).
inline constexpr std::string_view kRateClasses[] = {"login", "auth", "read", "write", "admin", "health"};
inline constexpr std::size_t kRateClassCount = std::size(kRateClasses);

struct RateLimitSettings {
  bool enabled = true;
  std::array<RateClassLimits, kRateClassCount> classes;  // indexed like kRateClasses

  static RateLimitSettings defaults();
  // The index of `rate_class` in kRateClasses, or kRateClassCount.
  static std::size_t class_index(std::string_view rate_class);
};

// `smtp:` — the mail server slipway sends through (e-mail verification, password reset, change of address). The
// password is a secret: SLIPWAY_SMTP_PASSWORD or SLIPWAY_SMTP_PASSWORD_FILE, never the file.
struct SmtpSettings {
  enum class Tls : std::uint8_t { kStartTls, kImplicit, kNone };
  std::string host;
  int port = 587;
  Tls tls = Tls::kStartTls;
  std::string username;   // empty: no login
  std::string from;       // the sender's address (addr-spec)
  std::string from_name;  // shown beside it; the app name when not given
  SourceLoc loc;          // where `smtp:` is
};

// `outbound:` — timeouts and circuit breakers of every call slipway makes out (SMTP now; OpenID Connect, webhooks).
struct OutboundSettings {
  std::int64_t connect_timeout_s = 5;
  std::int64_t timeout_s = 15;
  int circuit_failures = 5;          // failures within the window that open a destination's circuit
  std::int64_t circuit_window_s = 30;
  std::int64_t circuit_open_s = 30;  // how long it stays open before one probe may pass
};

// One OpenID provider users may sign in with (`auth: oidc: <name>:`). The client secret is a secret:
// SLIPWAY_OIDC_<NAME>_CLIENT_SECRET or SLIPWAY_OIDC_<NAME>_CLIENT_SECRET_FILE (the name upper-cased).
struct OidcProvider {
  std::string name;          // the path segment: /api/v1/auth/oidc/<name>
  std::string issuer;        // exactly as the provider's discovery document says it (no trailing slash added)
  std::string client_id;
  std::string redirect_uri;  // exactly as registered at the provider: ends in /api/v1/auth/oidc/<name>/callback
  std::vector<std::string> scopes;  // always holds "openid"
  SourceLoc loc;
};

// `auth:` — identity for the app's own users. Opt-in: only a file with the section gets the built-in users
// collection and the auth API; without it nothing changes (no users table, no schema change). Durations are in
// seconds, and the loader has checked every value against its bounds.
struct AuthSettings {
  enum class Signup : std::uint8_t { kOpen, kInviteOnly };
  std::vector<std::string> roles;           // declared roles, always containing "admin" (put first when not declared)
  std::optional<std::string> default_role;  // given to every new user; one of `roles`, never "admin"
  Signup signup = Signup::kOpen;
  int password_min_length = 12;  // code points
  std::int64_t access_ttl_s = 15 * 60;
  std::int64_t refresh_ttl_s = 30 * 86400;  // >= access_ttl_s
  std::int64_t session_idle_s = 7 * 86400;
  std::int64_t session_absolute_s = 30 * 86400;  // >= session_idle_s
  std::string issuer;    // the tokens' `iss`; the loader fills in "slipway:<app>" when not given
  std::string audience;  // the tokens' `aud`; the loader fills in the app name when not given
  // `mfa:`. Users holding one of these roles must sign in with a second factor; until they have one they may only
  // enrol (docs/security.md#multi-factor-login). In file order, each one of `roles`.
  std::vector<std::string> mfa_required_for;
  std::string mfa_issuer;  // the name authenticator apps show (otpauth issuer); the loader fills in the app name
  // `email:` (needs `smtp:`). Links in mails are <app_url>/verify-email?token=…, /reset-password?token=…,
  // /confirm-email?token=… — pages of the app that post the token to the API.
  enum class Verification : std::uint8_t { kOptional, kRequired };
  std::string email_app_url;  // empty: no e-mail flows (no `smtp:`)
  Verification verification = Verification::kOptional;  // kRequired: no login before the address is verified
  std::optional<SourceLoc> email_loc;  // where `email:` is, when given
  std::vector<OidcProvider> oidc;      // in file order

  const OidcProvider* find_oidc(std::string_view name) const {
    for (const auto& p : oidc)
      if (p.name == name) return &p;
    return nullptr;
  }
  SourceLoc loc;         // where `auth:` is

  bool mfa_required(const std::vector<std::string>& held) const {
    for (const auto& r : held)
      for (const auto& m : mfa_required_for)
        if (r == m) return true;
    return false;
  }

  bool has_role(std::string_view r) const;
};

// The built-in collection's name, and its one built-in field (the identity: required, unique).
inline constexpr std::string_view kUsersCollection = "users";
inline constexpr std::string_view kUsersEmailField = "email";

struct Concept {
  std::string app;
  ServerSettings server;
  CorsSettings cors;
  RateLimitSettings rate_limits = RateLimitSettings::defaults();
  SecurityHeaderSettings security_headers;
  std::optional<SmtpSettings> smtp;  // nullopt: no mail is sent (and the e-mail flows are not served)
  OutboundSettings outbound;
  std::optional<AuthSettings> auth;     // nullopt: no `auth:` section — no users collection, no auth API
  std::vector<Collection> collections;  // in file order; with `auth`, the built-in users collection last
  std::string source_path;              // the file it was loaded from, for diagnostics

  const Collection* find_collection(std::string_view name) const;
  const Collection* users() const;  // the built-in users collection; nullptr without `auth`
};

}  // namespace slipway::model
