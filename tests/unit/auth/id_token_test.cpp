#include "auth/id_token.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <memory>

#include "auth/base64url.h"

namespace slipway::auth {
namespace {

constexpr std::int64_t kNow = 1'800'000'000;

std::string b64(std::string_view s) { return base64url_encode(s); }

std::string bn_bytes(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(k, name, &bn);
  std::string out(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

// A signer the test holds the private half of: RS256 (RSA 2048), ES256 (P-256) or EdDSA.
struct Signer {
  std::string alg, kid;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pkey{nullptr, &EVP_PKEY_free};
  unsigned char ed_pk[crypto_sign_PUBLICKEYBYTES]{}, ed_sk[crypto_sign_SECRETKEYBYTES]{};

  static Signer make(const std::string& alg, const std::string& kid) {
    Signer s;
    s.alg = alg;
    s.kid = kid;
    if (alg == "RS256") s.pkey.reset(EVP_RSA_gen(2048));
    if (alg == "ES256") s.pkey.reset(EVP_EC_gen("P-256"));
    if (alg == "EdDSA") crypto_sign_keypair(s.ed_pk, s.ed_sk);
    return s;
  }

  std::string jwk() const {
    if (alg == "RS256")
      return R"({"kty":"RSA","kid":")" + kid + R"(","use":"sig","alg":"RS256","n":")" +
             b64(bn_bytes(pkey.get(), OSSL_PKEY_PARAM_RSA_N)) + R"(","e":")" +
             b64(bn_bytes(pkey.get(), OSSL_PKEY_PARAM_RSA_E)) + R"("})";
    if (alg == "ES256") {
      unsigned char point[65];
      std::size_t len = 0;
      EVP_PKEY_get_octet_string_param(pkey.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &len);
      return R"({"kty":"EC","crv":"P-256","kid":")" + kid + R"(","x":")" +
             b64(std::string_view(reinterpret_cast<char*>(point) + 1, 32)) + R"(","y":")" +
             b64(std::string_view(reinterpret_cast<char*>(point) + 33, 32)) + R"("})";
    }
    return R"({"kty":"OKP","crv":"Ed25519","kid":")" + kid + R"(","x":")" +
           b64(std::string_view(reinterpret_cast<const char*>(ed_pk), sizeof ed_pk)) + R"("})";
  }

  std::string sign(const std::string& claims, std::string header = "") const {
    if (header.empty()) header = R"({"alg":")" + alg + R"(","kid":")" + kid + R"("})";
    const std::string input = b64(header) + "." + b64(claims);
    std::string sig;
    if (alg == "EdDSA") {
      sig.resize(crypto_sign_BYTES);
      crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                           reinterpret_cast<const unsigned char*>(input.data()), input.size(), ed_sk);
    } else {
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      std::size_t len = 0;
      EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey.get());
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()), input.size());
      sig.resize(len);
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size());
      sig.resize(len);
      EVP_MD_CTX_free(ctx);
      if (alg == "ES256") {  // DER → r ‖ s
        const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
        ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
        std::string raw(64, '\0');
        BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
        ECDSA_SIG_free(es);
        sig = raw;
      }
    }
    return input + "." + b64(sig);
  }
};

std::string claims(const std::string& extra = "", const std::string& aud = "\"app\"",
                   std::int64_t exp = kNow + 300, const std::string& nonce = "n-1") {
  return R"({"iss":"https://idp.example","sub":"u-42","aud":)" + aud + R"(,"exp":)" + std::to_string(exp) +
         R"(,"iat":)" + std::to_string(kNow) + R"(,"nonce":")" + nonce +
         R"(","email":"ann@example.com","email_verified":true)" + extra + "}";
}

const IdTokenCheck kCheck{"https://idp.example", "app", "n-1", kNow};

JwkSet set_of(const std::vector<const Signer*>& signers) {
  std::string doc = R"({"keys":[)";
  for (std::size_t i = 0; i < signers.size(); ++i) doc += (i ? "," : "") + signers[i]->jwk();
  auto set = JwkSet::parse(doc + "]}");
  EXPECT_TRUE(set.has_value());
  return std::move(*set);
}

TEST(IdToken, AcceptsAValidTokenOfEverySupportedAlgorithm) {
  for (const char* alg : {"RS256", "ES256", "EdDSA"}) {
    const Signer s = Signer::make(alg, std::string("k-") + alg);
    const JwkSet keys = set_of({&s});
    auto c = verify_id_token(s.sign(claims()), keys, kCheck, nullptr);
    ASSERT_TRUE(c.has_value()) << alg << ": " << c.error().cause;
    EXPECT_EQ(c->sub, "u-42");
    EXPECT_EQ(c->email, "ann@example.com");
    EXPECT_TRUE(c->email_verified);
  }
}

TEST(IdToken, RefusesEveryClaimThatIsNotThisLogins) {
  const Signer s = Signer::make("RS256", "k1");
  const JwkSet keys = set_of({&s});
  auto refused = [&](const std::string& token, std::string_view cause) {
    auto r = verify_id_token(token, keys, kCheck, nullptr);
    ASSERT_FALSE(r.has_value()) << cause;
    EXPECT_EQ(r.error().code, ProblemCode::kUnauthorized);
    EXPECT_NE(r.error().cause.find(cause), std::string::npos) << r.error().cause;
  };
  refused(s.sign(claims("", "\"someone-else\"")), "aud");
  refused(s.sign(claims("", R"(["app","other"])")), "azp");
  EXPECT_TRUE(verify_id_token(s.sign(claims(R"(,"azp":"app")", R"(["app","other"])")), keys, kCheck, nullptr));
  refused(s.sign(claims("", "\"app\"", kNow - 61)), "expired");
  refused(s.sign(claims("", "\"app\"", kNow + 300, "other-nonce")), "nonce");
  std::string wrong_iss = claims();
  wrong_iss.replace(wrong_iss.find("https://idp.example"), 19, "https://evil.example");
  refused(s.sign(wrong_iss), "iss");
  std::string no_sub = claims();
  no_sub.replace(no_sub.find(R"("sub":"u-42",)"), 13, "");
  refused(s.sign(no_sub), "sub");
  refused(s.sign(claims(R"(,"email":"x@example.com")")), "claims");  // a duplicate member
}

TEST(IdToken, RefusesForgedAlgorithmsSignaturesAndUnknownKeys) {
  const Signer s = Signer::make("RS256", "k1");
  const JwkSet keys = set_of({&s});
  const std::string good = s.sign(claims());
  bool unknown = false;
  // alg none, HS256 (a MAC keyed with public material), an alg the key is not for.
  const std::string body = good.substr(good.find('.') + 1, good.rfind('.') - good.find('.') - 1);
  EXPECT_FALSE(verify_id_token(b64(R"({"alg":"none","kid":"k1"})") + "." + body + ".", keys, kCheck, &unknown));
  EXPECT_FALSE(verify_id_token(b64(R"({"alg":"HS256","kid":"k1"})") + "." + body + ".c2ln", keys, kCheck, &unknown));
  EXPECT_FALSE(verify_id_token(s.sign(claims(), R"({"alg":"ES256","kid":"k1"})"), keys, kCheck, &unknown));
  EXPECT_FALSE(unknown);
  // Claims changed under the same signature.
  std::string tampered = good;
  const std::string other = s.sign(claims(R"(,"name":"Mallory")"));
  tampered = good.substr(0, good.find('.') + 1) + other.substr(other.find('.') + 1, other.rfind('.') - other.find('.') - 1) +
             good.substr(good.rfind('.'));
  auto r = verify_id_token(tampered, keys, kCheck, &unknown);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().cause.find("signature"), std::string::npos);
  // A key the set does not hold: flagged, so the caller refetches the JWKS once.
  const Signer rotated = Signer::make("RS256", "k2");
  EXPECT_FALSE(verify_id_token(rotated.sign(claims()), keys, kCheck, &unknown));
  EXPECT_TRUE(unknown);
  EXPECT_TRUE(verify_id_token(rotated.sign(claims()), set_of({&s, &rotated}), kCheck, &unknown));
  // Malformed tokens.
  for (const char* bad : {"", "a.b", "a.b.c.d", "!!.!!.!!"})
    EXPECT_FALSE(verify_id_token(bad, keys, kCheck, nullptr)) << bad;
  EXPECT_FALSE(verify_id_token(std::string(kMaxIdTokenBytes + 1, 'a'), keys, kCheck, nullptr));
}

TEST(JwkSet, KeepsOnlySigningKeysItCanVerifyWith) {
  const Signer s = Signer::make("RS256", "k1");
  auto set = JwkSet::parse(R"({"keys":[)" + s.jwk() +
                           R"(,{"kty":"RSA","kid":"enc","use":"enc","n":"AQAB","e":"AQAB"},)"
                           R"({"kty":"EC","crv":"P-384","kid":"p384","x":"AA","y":"AA"},)"
                           R"({"kty":"oct","kid":"hmac","k":"c2VjcmV0"},{"kty":"RSA","n":"AQAB","e":"AQAB"}]})");
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->size(), 1u);
  EXPECT_TRUE(set->has("k1"));
  EXPECT_FALSE(JwkSet::parse("not json").has_value());
  EXPECT_FALSE(JwkSet::parse(R"({"nokeys":[]})").has_value());
}

}  // namespace
}  // namespace slipway::auth
