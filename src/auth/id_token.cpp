#include "auth/id_token.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <sodium.h>

#include <array>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "auth/base64url.h"
#include "auth/sodium_init.h"
#include "auth/strict_json.h"

namespace slipway::auth {

namespace json = boost::json;

struct JwkSet::Key {
  std::string kid;
  std::string alg;  // "RS256", "ES256", "EdDSA"
  EVP_PKEY* pkey = nullptr;                  // RSA, EC
  std::array<unsigned char, 32> ed25519{};  // OKP
  ~Key() { EVP_PKEY_free(pkey); }
};

namespace {

constexpr std::string_view kDetail = "The identity provider's answer could not be verified.";

Problem refuse(const std::string& cause) {
  return Problem::make(ProblemCode::kUnauthorized, std::string(kDetail), "id token: " + cause);
}

std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 60)) out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  return out;
}

std::optional<std::string> b64_member(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return base64url_decode(std::string_view(v->get_string()));
}

EVP_PKEY* from_params(const char* type, OSSL_PARAM_BLD* bld) {
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr);
  EVP_PKEY* pkey = nullptr;
  if (params && ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return pkey;
}

EVP_PKEY* rsa_key(const std::string& n, const std::string& e) {
  if (n.size() < 256 || n.size() > 1024 || e.empty() || e.size() > 8) return nullptr;  // 2048 to 8192 bits
  BIGNUM* bn_n = BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr);
  BIGNUM* bn_e = BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr);
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bn_n && bn_e && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
    pkey = from_params("RSA", bld);
  OSSL_PARAM_BLD_free(bld);
  BN_free(bn_n);
  BN_free(bn_e);
  return pkey;
}

EVP_PKEY* p256_key(const std::string& x, const std::string& y) {
  if (x.size() != 32 || y.size() != 32) return nullptr;
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  EVP_PKEY* pkey = nullptr;
  if (bld && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
      OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1)
    pkey = from_params("EC", bld);
  OSSL_PARAM_BLD_free(bld);
  return pkey;
}

// A JWS ES256 signature is r ‖ s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> es256_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  ECDSA_SIG* sig = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(sig);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig, &der);
  ECDSA_SIG_free(sig);
  if (len <= 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(len));
  OPENSSL_free(der);
  return out;
}

bool verify(const JwkSet::Key& key, std::string_view input, std::string_view signature) {
  if (key.alg == "EdDSA") {
    ensure_sodium();
    return signature.size() == crypto_sign_BYTES &&
           crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                       reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                                       key.ed25519.data()) == 0;
  }
  std::string der;
  if (key.alg == "ES256") {
    auto d = es256_der(signature);
    if (!d) return false;
    der = std::move(*d);
    signature = der;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = ctx && EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key.pkey) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                             reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::optional<std::int64_t> as_int(const json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX))
    return static_cast<std::int64_t>(v->get_uint64());
  return std::nullopt;
}

std::optional<std::string> str(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

}  // namespace

JwkSet::JwkSet() = default;
JwkSet::~JwkSet() = default;
JwkSet::JwkSet(JwkSet&&) noexcept = default;
JwkSet& JwkSet::operator=(JwkSet&&) noexcept = default;

const JwkSet::Key* JwkSet::find(std::string_view kid) const {
  for (const auto& k : keys_)
    if (k->kid == kid) return k.get();
  return nullptr;
}

Result<JwkSet> JwkSet::parse(std::string_view text) {
  std::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec || !doc.is_object()) return Problem::make(ProblemCode::kUnavailable, "The identity provider's keys are unreadable.", "jwks: not a JSON object");
  const json::value* keys = doc.get_object().if_contains("keys");
  if (keys == nullptr || !keys->is_array())
    return Problem::make(ProblemCode::kUnavailable, "The identity provider's keys are unreadable.", "jwks: no \"keys\" array");
  JwkSet set;
  for (const json::value& v : keys->get_array()) {
    if (!v.is_object() || set.keys_.size() >= kMaxKeys) continue;
    const json::object& k = v.get_object();
    auto kid = str(k, "kid");
    auto kty = str(k, "kty");
    auto use = str(k, "use");
    auto alg = str(k, "alg");
    if (!kid || kid->empty() || !kty || (use && *use != "sig")) continue;
    auto key = std::make_unique<Key>();
    key->kid = *kid;
    if (*kty == "RSA" && (!alg || *alg == "RS256")) {
      auto n = b64_member(k, "n");
      auto e = b64_member(k, "e");
      if (!n || !e) continue;
      key->alg = "RS256";
      key->pkey = rsa_key(*n, *e);
      if (!key->pkey) continue;
    } else if (*kty == "EC" && str(k, "crv") == std::optional<std::string>("P-256") && (!alg || *alg == "ES256")) {
      auto x = b64_member(k, "x");
      auto y = b64_member(k, "y");
      if (!x || !y) continue;
      key->alg = "ES256";
      key->pkey = p256_key(*x, *y);
      if (!key->pkey) continue;
    } else if (*kty == "OKP" && str(k, "crv") == std::optional<std::string>("Ed25519") && (!alg || *alg == "EdDSA")) {
      auto x = b64_member(k, "x");
      if (!x || x->size() != key->ed25519.size()) continue;
      key->alg = "EdDSA";
      std::copy(x->begin(), x->end(), key->ed25519.begin());
    } else {
      continue;
    }
    if (set.has(key->kid)) continue;  // the first of a repeated kid
    set.keys_.push_back(std::move(key));
  }
  return set;
}

Result<IdTokenClaims> verify_id_token(std::string_view token, const JwkSet& keys, const IdTokenCheck& want,
                                      bool* unknown_kid) {
  if (unknown_kid) *unknown_kid = false;
  if (token.size() > kMaxIdTokenBytes) return refuse("longer than " + std::to_string(kMaxIdTokenBytes) + " bytes");
  const std::size_t d1 = token.find('.');
  const std::size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return refuse("not three dot-separated parts");
  const auto header_text = base64url_decode(token.substr(0, d1));
  const auto claims_text = base64url_decode(token.substr(d1 + 1, d2 - d1 - 1));
  const auto signature = base64url_decode(token.substr(d2 + 1));
  if (!header_text || !claims_text || !signature) return refuse("a part is not base64url");
  std::string why;
  auto header = parse_strict_json_object(*header_text, why);
  if (!header) return refuse("header: " + why);
  auto alg = str(*header, "alg");
  if (!alg || (*alg != "RS256" && *alg != "ES256" && *alg != "EdDSA"))
    return refuse("alg \"" + printable(alg.value_or("(missing)")) + "\" is not RS256, ES256 or EdDSA");
  if (header->contains("crit")) return refuse("header has \"crit\"");
  auto kid = str(*header, "kid");
  if (!kid) return refuse("header has no kid");
  const JwkSet::Key* key = keys.find(*kid);
  if (key == nullptr) {
    if (unknown_kid) *unknown_kid = true;
    return refuse("kid \"" + printable(*kid) + "\" is not in the provider's keys");
  }
  if (key->alg != *alg) return refuse("alg " + *alg + " is not the key's (" + key->alg + ")");
  if (!verify(*key, token.substr(0, d2), *signature)) return refuse("signature does not verify");

  auto claims = parse_strict_json_object(*claims_text, why);
  if (!claims) return refuse("claims: " + why);
  const json::object& c = *claims;
  if (str(c, "iss") != std::optional<std::string>(want.issuer))
    return refuse("iss \"" + printable(str(c, "iss").value_or("(missing)")) + "\" is not the provider's");
  const json::value* aud = c.if_contains("aud");
  bool for_us = false;
  std::size_t audiences = 0;
  if (aud && aud->is_string()) {
    audiences = 1;
    for_us = aud->get_string() == want.client_id;
  } else if (aud && aud->is_array()) {
    for (const json::value& a : aud->get_array()) {
      ++audiences;
      if (a.is_string() && a.get_string() == want.client_id) for_us = true;
    }
  }
  if (!for_us) return refuse("aud does not name this client");
  if (audiences > 1 && str(c, "azp") != std::optional<std::string>(want.client_id))
    return refuse("several audiences and azp is not this client");
  auto exp = as_int(c.if_contains("exp"));
  auto iat = as_int(c.if_contains("iat"));
  if (!exp || !iat) return refuse("exp or iat missing or not an integer");
  if (*exp <= want.now_s - kIdTokenLeewaySeconds) return refuse("expired");
  if (*iat > want.now_s + kIdTokenLeewaySeconds) return refuse("issued in the future");
  if (str(c, "nonce") != std::optional<std::string>(want.nonce)) return refuse("nonce is not this login's");
  IdTokenClaims out;
  auto sub = str(c, "sub");
  if (!sub || sub->empty() || sub->size() > 255) return refuse("sub missing, empty or too long");
  out.sub = *sub;
  out.email = str(c, "email");
  const json::value* verified = c.if_contains("email_verified");
  out.email_verified = verified && verified->is_bool() && verified->get_bool();
  out.name = str(c, "name");
  return out;
}

}  // namespace slipway::auth
