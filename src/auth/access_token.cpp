#include "auth/access_token.h"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>

#include "auth/base64url.h"
#include "auth/key_ring.h"
#include "auth/strict_json.h"
#include "core/ascii.h"
#include "core/json_writer.h"

namespace slipway::auth {
namespace {

namespace json = boost::json;

Problem refuse(std::string_view cause) {
  return Problem::make(ProblemCode::kUnauthorized, std::string(kInvalidTokenDetail),
                       "access token: " + std::string(cause));
}

// A token's text as it may appear in a log line: at most 40 characters, printable ASCII only.
std::string loggable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 40)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  if (s.size() > 40) out += "...";
  return out;
}

std::optional<std::int64_t> as_int64(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v.get_uint64());
  return std::nullopt;  // a double (1.7e9, 1.5), a string, a number past int64
}

// The string member `name`, or nullopt (with `cause` set) when it is missing or not a string.
std::optional<std::string_view> string_member(const json::object& o, std::string_view name, std::string& cause) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) {
    cause = "\"" + std::string(name) + "\" is " + (v == nullptr ? "missing" : "not a string");
    return std::nullopt;
  }
  return std::string_view(v->get_string());
}

std::optional<std::int64_t> int_member(const json::object& o, std::string_view name, std::string& cause) {
  const json::value* v = o.if_contains(name);
  std::optional<std::int64_t> i = v == nullptr ? std::nullopt : as_int64(*v);
  if (!i) cause = "\"" + std::string(name) + "\" is " + (v == nullptr ? "missing" : "not an integer");
  return i;
}

// Checks the header (step 2 of access_token.h) and returns the key it names.
Result<const SigningKey*> check_header(const KeyRing& ring, std::string_view header_b64) {
  const std::optional<std::string> header_text = base64url_decode(header_b64);
  if (!header_text) return refuse("header is not base64url");
  std::string why;
  const std::optional<json::object> header = parse_strict_json_object(*header_text, why);
  if (!header) return refuse("header: " + why);
  std::string cause;
  const std::optional<std::string_view> alg = string_member(*header, "alg", cause);
  if (!alg) return refuse("header " + cause);
  if (*alg != "EdDSA") return refuse("alg \"" + loggable(*alg) + "\" is not EdDSA");
  if (header->contains("crit")) return refuse("header has \"crit\"");
  if (const json::value* typ = header->if_contains("typ"))
    if (!typ->is_string() || !ascii_iequals(typ->get_string(), "JWT")) return refuse("typ is not JWT");
  for (const auto& member : *header)
    if (member.key() != "alg" && member.key() != "typ" && member.key() != "kid")
      return refuse("header member \"" + loggable(member.key()) + "\" is not accepted");
  const std::optional<std::string_view> kid = string_member(*header, "kid", cause);
  if (!kid) return refuse("header " + cause);
  const SigningKey* key = ring.find(*kid);
  if (key == nullptr) return refuse("kid \"" + loggable(*kid) + "\" names no key of the ring");
  return key;
}

// Reads and checks the claims (steps 4-6 of access_token.h).
Result<AccessClaims> check_claims(const json::object& o, std::string_view expected_iss, std::string_view expected_aud,
                                  std::int64_t now_s) {
  AccessClaims c;
  std::string cause;
  const auto sub = string_member(o, "sub", cause);
  if (!sub) return refuse(cause);
  const auto sid = string_member(o, "sid", cause);
  if (!sid) return refuse(cause);
  if (sub->empty() || sid->empty()) return refuse("\"sub\" or \"sid\" is empty");
  c.sub = *sub;
  c.sid = *sid;

  const json::value* roles = o.if_contains("roles");
  if (roles == nullptr || !roles->is_array()) return refuse("\"roles\" is missing or not an array");
  for (const json::value& r : roles->get_array()) {
    if (!r.is_string()) return refuse("\"roles\" holds something other than strings");
    c.roles.emplace_back(r.get_string());
  }
  const auto aal = int_member(o, "aal", cause);
  if (!aal) return refuse(cause);
  if (*aal < 1 || *aal > 3) return refuse("\"aal\" is not 1, 2 or 3");
  c.aal = static_cast<int>(*aal);

  const auto iss = string_member(o, "iss", cause);
  if (!iss) return refuse(cause);
  if (*iss != expected_iss) return refuse("iss \"" + loggable(*iss) + "\" is not the expected issuer");
  c.iss = *iss;
  const json::value* aud = o.if_contains("aud");
  bool aud_ok = false;
  if (aud != nullptr && aud->is_string()) {
    aud_ok = aud->get_string() == expected_aud;
  } else if (aud != nullptr && aud->is_array()) {
    for (const json::value& a : aud->get_array()) {
      if (!a.is_string()) return refuse("\"aud\" array holds something other than strings");
      aud_ok = aud_ok || a.get_string() == expected_aud;
    }
  } else {
    return refuse("\"aud\" is missing or neither a string nor an array");
  }
  if (!aud_ok) return refuse("aud does not name the expected audience");
  c.aud = expected_aud;

  const auto iat = int_member(o, "iat", cause);
  if (!iat) return refuse(cause);
  const auto exp = int_member(o, "exp", cause);
  if (!exp) return refuse(cause);
  c.iat = *iat;
  c.exp = *exp;
  if (*exp <= now_s) return refuse("expired (exp " + std::to_string(*exp) + " <= now " + std::to_string(now_s) + ")");
  if (*iat > now_s + kClockLeewaySeconds)
    return refuse("issued in the future (iat " + std::to_string(*iat) + ", now " + std::to_string(now_s) + ")");
  if (*exp <= *iat) return refuse("exp is not after iat");
  if (o.contains("nbf")) {
    const auto nbf = int_member(o, "nbf", cause);
    if (!nbf) return refuse(cause);
    if (*nbf > now_s + kClockLeewaySeconds)
      return refuse("not valid yet (nbf " + std::to_string(*nbf) + ", now " + std::to_string(now_s) + ")");
  }
  if (o.contains("jti")) {
    const auto jti = string_member(o, "jti", cause);
    if (!jti) return refuse(cause);
    c.jti = *jti;
  }
  return c;
}

}  // namespace

std::string KeyRing::sign(const AccessClaims& claims) const {
  const SigningKey& key = active();
  std::string header;
  JsonWriter(header)
      .begin_object()
      .key("alg")
      .string("EdDSA")
      .key("typ")
      .string("JWT")
      .key("kid")
      .string(key.kid())
      .end_object();
  std::string payload;
  JsonWriter w(payload);
  w.begin_object();
  w.key("iss").string(claims.iss);
  w.key("sub").string(claims.sub);
  w.key("aud").string(claims.aud);
  w.key("iat").integer(claims.iat);
  w.key("exp").integer(claims.exp);
  w.key("sid").string(claims.sid);
  w.key("roles").begin_array();
  for (const std::string& role : claims.roles) w.string(role);
  w.end_array();
  w.key("aal").integer(claims.aal);
  if (!claims.jti.empty()) w.key("jti").string(claims.jti);
  w.end_object();

  std::string token = base64url_encode(header);
  token += '.';
  token += base64url_encode(payload);
  token += '.' + base64url_encode(key.sign(token));
  return token;
}

Result<AccessClaims> KeyRing::verify(std::string_view token, std::string_view expected_iss,
                                     std::string_view expected_aud, std::int64_t now_s) const {
  if (token.size() > kMaxAccessTokenBytes)
    return refuse("longer than " + std::to_string(kMaxAccessTokenBytes) + " bytes");
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return refuse("not three dot-separated parts");
  const std::string_view signing_input = token.substr(0, dot2);

  Result<const SigningKey*> key = check_header(*this, token.substr(0, dot1));
  if (!key) return std::move(key).error();

  const std::optional<std::string> signature = base64url_decode(token.substr(dot2 + 1));
  if (!signature) return refuse("signature is not base64url");
  if (signature->size() != SigningKey::kSignatureBytes)
    return refuse("signature is " + std::to_string(signature->size()) + " bytes, not 64");
  if (!(*key)->verify(signing_input, *signature)) return refuse("signature does not verify");

  // Only now, signed by a key of ours, are the claims decoded at all.
  const std::optional<std::string> payload_text = base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!payload_text) return refuse("claims are not base64url");
  std::string why;
  const std::optional<json::object> payload = parse_strict_json_object(*payload_text, why);
  if (!payload) return refuse("claims: " + why);
  return check_claims(*payload, expected_iss, expected_aud, now_s);
}

}  // namespace slipway::auth
