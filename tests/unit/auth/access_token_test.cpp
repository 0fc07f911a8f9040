#include "auth/access_token.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/json.hpp>
#include <string>

#include "auth/base64url.h"
#include "auth/key_ring.h"

namespace slipway::auth {
namespace {

constexpr std::string_view kSeedA = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";  // RFC 8037 A.1
constexpr std::string_view kSeedB = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";
constexpr std::int64_t kNow = 1'800'000'000;
constexpr std::string_view kIss = "https://api.example.test";
constexpr std::string_view kAud = "example-app";

KeyRing ring(std::string_view text) {
  Result<KeyRing> r = KeyRing::from_text(text);
  EXPECT_TRUE(r) << r.error().detail;
  return std::move(r).value();
}

AccessClaims claims() {
  AccessClaims c;
  c.sub = "0190a3c4-7e2b-7c1d-9f00-0123456789ab";
  c.sid = "s-42";
  c.roles = {"editor", "member"};
  c.aal = 2;
  c.iat = kNow - 60;
  c.exp = kNow + 600;
  c.iss = kIss;
  c.aud = kAud;
  c.jti = "t-1";
  return c;
}

// The claims of claims() as JSON text, with `extra` spliced in before the closing brace (may start with ',').
std::string payload_json(std::string_view replace_from = {}, std::string_view replace_to = {}) {
  std::string p = R"({"iss":"https://api.example.test","sub":"u1","aud":"example-app","iat":1799999940,)"
                  R"("exp":1800000600,"sid":"s-42","roles":["member"],"aal":1})";
  if (!replace_from.empty()) {
    const std::size_t at = p.find(replace_from);
    EXPECT_NE(at, std::string::npos) << replace_from;
    if (at != std::string::npos) p.replace(at, replace_from.size(), replace_to);
  }
  return p;
}

std::string header_json(const SigningKey& key) { return R"({"alg":"EdDSA","typ":"JWT","kid":")" + key.kid() + "\"}"; }

// A token with any header and claims, validly signed by `key`: hostile content that only the checks after the
// signature can refuse.
std::string forge(const SigningKey& key, std::string_view header, std::string_view payload) {
  std::string t = base64url_encode(header) + "." + base64url_encode(payload);
  return t + "." + base64url_encode(key.sign(t));
}

// Refused as unauthorized with the generic detail, for the reason that `cause_part` names.
void expect_refused(const Result<AccessClaims>& r, std::string_view cause_part) {
  ASSERT_FALSE(r) << "accepted; expected refusal for: " << cause_part;
  EXPECT_EQ(r.error().code, ProblemCode::kUnauthorized);
  EXPECT_EQ(r.error().detail, kInvalidTokenDetail);
  EXPECT_NE(r.error().cause.find(cause_part), std::string::npos)
      << "cause: " << r.error().cause << "\nexpected to contain: " << cause_part;
}

class AccessToken : public ::testing::Test {
 protected:
  KeyRing ring_ = ring(kSeedA);
  const SigningKey& key_ = ring_.active();
  Result<AccessClaims> verify(std::string_view token, std::int64_t now = kNow) const {
    return ring_.verify(token, kIss, kAud, now);
  }
};

TEST_F(AccessToken, SignThenVerifyGivesBackTheClaims) {
  const std::string token = ring_.sign(claims());
  Result<AccessClaims> r = verify(token);
  ASSERT_TRUE(r) << r.error().cause;
  const AccessClaims want = claims();
  EXPECT_EQ(r->sub, want.sub);
  EXPECT_EQ(r->sid, want.sid);
  EXPECT_EQ(r->roles, want.roles);
  EXPECT_EQ(r->aal, 2);
  EXPECT_EQ(r->iat, want.iat);
  EXPECT_EQ(r->exp, want.exp);
  EXPECT_EQ(r->iss, kIss);
  EXPECT_EQ(r->aud, kAud);
  EXPECT_EQ(r->jti, "t-1");
}

TEST_F(AccessToken, HeaderIsEdDsaJwtWithTheActiveKid) {
  const std::string token = ring_.sign(claims());
  const auto header = base64url_decode(token.substr(0, token.find('.')));
  ASSERT_TRUE(header);
  EXPECT_EQ(*header, header_json(key_));
  const auto payload = base64url_decode(token.substr(token.find('.') + 1, token.rfind('.') - token.find('.') - 1));
  ASSERT_TRUE(payload);
  const boost::json::object o = boost::json::parse(*payload).as_object();
  EXPECT_EQ(o.size(), 9u);  // iss sub aud iat exp sid roles aal jti
  AccessClaims no_jti = claims();
  no_jti.jti.clear();
  Result<AccessClaims> r = verify(ring_.sign(no_jti));
  ASSERT_TRUE(r) << r.error().cause;
  EXPECT_EQ(r->jti, "");
}

TEST_F(AccessToken, RefusesAlgNone) {
  const std::string body = base64url_encode(payload_json());
  expect_refused(verify(base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + body + "."), "alg \"none\"");
  expect_refused(verify(base64url_encode(R"({"alg":"none","kid":")" + key_.kid() + "\"}") + "." + body + "."),
                 "alg \"none\"");
}

TEST_F(AccessToken, RefusesHs256SignedWithThePublicKeyAsHmacSecret) {
  // The classic algorithm confusion: a verifier that takes "alg" from the token would check an HMAC keyed with
  // the (public) verification key.
  for (std::string_view secret : {key_.public_key(), std::string_view(key_.x())}) {
    const std::string input = base64url_encode(R"({"alg":"HS256","typ":"JWT","kid":")" + key_.kid() + "\"}") + "." +
                              base64url_encode(payload_json());
    std::string mac(crypto_auth_hmacsha256_BYTES, '\0');
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
    crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(input.data()), input.size());
    crypto_auth_hmacsha256_final(&st, reinterpret_cast<unsigned char*>(mac.data()));
    expect_refused(verify(input + "." + base64url_encode(mac)), "alg \"HS256\"");
  }
}

TEST_F(AccessToken, RefusesEveryAlgButExactlyEdDsaEvenWhenValidlySigned) {
  for (std::string_view alg : {"ES256", "RS256", "eddsa", "EdDSA ", "Ed25519"}) {
    const std::string h = R"({"alg":")" + std::string(alg) + R"(","typ":"JWT","kid":")" + key_.kid() + "\"}";
    expect_refused(verify(forge(key_, h, payload_json())), "alg \"" + std::string(alg) + "\"");
  }
  expect_refused(verify(forge(key_, R"({"typ":"JWT","kid":")" + key_.kid() + "\"}", payload_json())),
                 "\"alg\" is missing");
  expect_refused(verify(forge(key_, R"({"alg":1,"kid":")" + key_.kid() + "\"}", payload_json())),
                 "\"alg\" is not a string");
}

TEST_F(AccessToken, RefusesAnUnknownOrMissingKid) {
  const KeyRing stranger = ring(kSeedB);
  AccessClaims c = claims();
  expect_refused(verify(stranger.sign(c)), "names no key");
  expect_refused(verify(forge(key_, R"({"alg":"EdDSA","typ":"JWT"})", payload_json())), "\"kid\" is missing");
  // A kid of ours on a token signed by another key: the kid picks the key, the signature then fails.
  expect_refused(verify(forge(stranger.active(), header_json(key_), payload_json())), "signature does not verify");
}

TEST_F(AccessToken, RefusesCritTypAndUnknownHeaderMembers) {
  const std::string kid = key_.kid();
  expect_refused(
      verify(forge(key_, R"({"alg":"EdDSA","kid":")" + kid + R"(","crit":["exp"],"exp":1})", payload_json())),
      "\"crit\"");
  expect_refused(verify(forge(key_, R"({"alg":"EdDSA","kid":")" + kid + R"(","typ":"at+jwt"})", payload_json())),
                 "typ is not JWT");
  expect_refused(
      verify(forge(key_, R"({"alg":"EdDSA","kid":")" + kid + R"(","jku":"https://evil.test/k"})", payload_json())),
      "\"jku\" is not accepted");
  // typ is optional and compared case-insensitively (RFC 7519 §5.1).
  EXPECT_TRUE(verify(forge(key_, R"({"alg":"EdDSA","kid":")" + kid + "\"}", payload_json())));
  EXPECT_TRUE(verify(forge(key_, R"({"alg":"EdDSA","typ":"jwt","kid":")" + kid + "\"}", payload_json())));
}

TEST_F(AccessToken, RefusesAFlippedSignatureBitAndAnAlteredPayload) {
  const std::string token = ring_.sign(claims());
  const std::size_t dot2 = token.rfind('.');
  std::string sig = *base64url_decode(token.substr(dot2 + 1));
  sig[10] = static_cast<char>(sig[10] ^ 0x01);
  expect_refused(verify(token.substr(0, dot2 + 1) + base64url_encode(sig)), "signature does not verify");

  AccessClaims admin = claims();
  admin.roles = {"admin"};
  const std::string other = ring_.sign(admin);
  const std::size_t dot1 = token.find('.');
  const std::string spliced =  // the header and signature of `token` around the claims of `other`
      token.substr(0, dot1) + other.substr(other.find('.'), other.rfind('.') - other.find('.')) + token.substr(dot2);
  expect_refused(verify(spliced), "signature does not verify");
}

TEST_F(AccessToken, RefusesAMissingTruncatedOrReSpelledSignature) {
  const std::string token = ring_.sign(claims());
  const std::string unsigned_part = token.substr(0, token.rfind('.') + 1);
  expect_refused(verify(unsigned_part), "signature is 0 bytes");
  const std::string sig = *base64url_decode(token.substr(token.rfind('.') + 1));
  expect_refused(verify(unsigned_part + base64url_encode(sig.substr(0, 63))), "signature is 63 bytes");
  expect_refused(verify(unsigned_part + base64url_encode(sig + "x")), "signature is 65 bytes");
  expect_refused(verify(token + "=="), "signature is not base64url");
  // 64 bytes are 86 characters whose last one carries 4 unused bits: setting one of them spells the same bytes
  // differently, which a lax decoder would accept as the same signature.
  constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string respelled = token;
  respelled.back() = kAlphabet[kAlphabet.find(respelled.back()) ^ 1];
  expect_refused(verify(respelled), "signature is not base64url");
}

TEST_F(AccessToken, ChecksTheSignatureBeforeTheClaimsAreEvenDecoded) {
  const std::string header = base64url_encode(header_json(key_));
  const std::string garbage_claims = "!!not-base64!!";
  const std::string sig = base64url_encode(std::string(64, '\x01'));
  expect_refused(verify(header + "." + garbage_claims + "." + sig), "signature does not verify");
  // The same claims, signed: now the claims are read and refused.
  const std::string input = header + "." + garbage_claims;
  expect_refused(verify(input + "." + base64url_encode(key_.sign(input))), "claims are not base64url");
  expect_refused(verify(forge(key_, header_json(key_), "not json")), "claims: not JSON");
  expect_refused(verify(forge(key_, header_json(key_), "[1,2]")), "claims: not a JSON object");
}

TEST_F(AccessToken, RefusesAnythingButThreeParts) {
  const std::string token = ring_.sign(claims());
  expect_refused(verify(token.substr(0, token.rfind('.'))), "not three");
  expect_refused(verify(token + "." + token.substr(token.rfind('.') + 1)), "not three");
  expect_refused(verify(""), "not three");
  expect_refused(verify(".."), "header: not JSON");
  expect_refused(verify("a b.c.d"), "header is not base64url");
}

TEST_F(AccessToken, RefusesAnOversizedTokenBeforeReadingIt) {
  AccessClaims big = claims();
  big.roles.assign(900, "role-name");
  const std::string token = ring_.sign(big);
  ASSERT_GT(token.size(), kMaxAccessTokenBytes);
  expect_refused(verify(token), "longer than 8192 bytes");
  big.roles.resize(300);
  const std::string fits = ring_.sign(big);
  ASSERT_LE(fits.size(), kMaxAccessTokenBytes);
  EXPECT_TRUE(verify(fits));
}

TEST_F(AccessToken, RefusesDuplicateNamesInHeaderOrClaims) {
  const std::string kid = key_.kid();
  expect_refused(
      verify(forge(key_, R"({"alg":"none","alg":"EdDSA","typ":"JWT","kid":")" + kid + "\"}", payload_json())),
      "header: a member name appears twice");
  expect_refused(verify(forge(key_, header_json(key_), payload_json(R"("sub":"u1")", R"("sub":"u1","sub":"admin")"))),
                 "claims: a member name appears twice");
}

TEST_F(AccessToken, RefusesAWrongIssuerOrAudience) {
  AccessClaims c = claims();
  c.iss = "https://other.example.test";
  expect_refused(verify(ring_.sign(c)), "not the expected issuer");
  c = claims();
  c.aud = "other-app";
  expect_refused(verify(ring_.sign(c)), "aud does not name the expected audience");
  expect_refused(ring_.verify(ring_.sign(claims()), kIss, "other-app", kNow), "aud does not name");
}

TEST_F(AccessToken, AcceptsAnAudienceArrayThatHoldsTheExpectedAudience) {
  auto with_aud = [&](std::string_view aud) {
    return verify(forge(key_, header_json(key_), payload_json(R"("aud":"example-app")", aud)));
  };
  Result<AccessClaims> r = with_aud(R"("aud":["other","example-app"])");
  ASSERT_TRUE(r) << r.error().cause;
  EXPECT_EQ(r->aud, kAud);
  expect_refused(with_aud(R"("aud":["other","another"])"), "aud does not name");
  expect_refused(with_aud(R"("aud":[])"), "aud does not name");
  expect_refused(with_aud(R"("aud":["example-app",7])"), "\"aud\" array holds something other than strings");
  expect_refused(with_aud(R"("aud":null)"), "\"aud\" is missing or neither");
}

TEST_F(AccessToken, RefusesAnExpiredTokenWithoutLeeway) {
  AccessClaims c = claims();
  c.exp = kNow;
  expect_refused(verify(ring_.sign(c)), "expired");
  c.exp = kNow + 1;
  EXPECT_TRUE(verify(ring_.sign(c)));
  EXPECT_TRUE(verify(ring_.sign(claims()), kNow + 599));
  expect_refused(verify(ring_.sign(claims()), kNow + 600), "expired");
}

TEST_F(AccessToken, AllowsThirtySecondsOfClockSkewForIatAndNbfOnly) {
  AccessClaims c = claims();
  c.iat = kNow + kClockLeewaySeconds;
  EXPECT_TRUE(verify(ring_.sign(c)));
  c.iat = kNow + kClockLeewaySeconds + 1;
  expect_refused(verify(ring_.sign(c)), "issued in the future");
  c = claims();
  c.iat = kNow + 5000;
  c.exp = kNow + 6000;
  expect_refused(verify(ring_.sign(c)), "issued in the future");

  auto with_nbf = [&](std::int64_t nbf) {
    return verify(
        forge(key_, header_json(key_), payload_json(R"("aal":1)", R"("aal":1,"nbf":)" + std::to_string(nbf))));
  };
  EXPECT_TRUE(with_nbf(kNow - 100));
  EXPECT_TRUE(with_nbf(kNow + kClockLeewaySeconds));
  expect_refused(with_nbf(kNow + kClockLeewaySeconds + 1), "not valid yet");
}

TEST_F(AccessToken, RefusesMissingOrMistypedClaims) {
  auto with = [&](std::string_view from, std::string_view to) {
    return verify(forge(key_, header_json(key_), payload_json(from, to)));
  };
  EXPECT_TRUE(with(R"("aal":1)", R"("aal":1)"));  // the template itself is accepted
  expect_refused(with(R"("sub":"u1",)", ""), "\"sub\" is missing");
  expect_refused(with(R"("sub":"u1")", R"("sub":7)"), "\"sub\" is not a string");
  expect_refused(with(R"("sub":"u1")", R"("sub":"")"), "is empty");
  expect_refused(with(R"("sid":"s-42",)", ""), "\"sid\" is missing");
  expect_refused(with(R"("roles":["member"])", R"("roles":"member")"), "\"roles\" is missing or not an array");
  expect_refused(with(R"("roles":["member"])", R"("roles":["member",1])"), "\"roles\" holds");
  expect_refused(with(R"("aal":1)", R"("aal":1.5)"), "\"aal\" is not an integer");
  expect_refused(with(R"("aal":1)", R"("aal":0)"), "\"aal\" is not 1, 2 or 3");
  expect_refused(with(R"("aal":1)", R"("aal":"2")"), "\"aal\" is not an integer");
  expect_refused(with(R"("exp":1800000600,)", ""), "\"exp\" is missing");
  expect_refused(with(R"("exp":1800000600)", R"("exp":"1800000600")"), "\"exp\" is not an integer");
  expect_refused(with(R"("exp":1800000600)", R"("exp":1.8000006e9)"), "\"exp\" is not an integer");
  expect_refused(with(R"("exp":1800000600)", R"("exp":18446744073709551615)"), "\"exp\" is not an integer");
  expect_refused(with(R"("iat":1799999940,)", ""), "\"iat\" is missing");
  expect_refused(with(R"("iss":"https://api.example.test",)", ""), "\"iss\" is missing");
  expect_refused(with(R"("aud":"example-app",)", ""), "\"aud\" is missing");
  expect_refused(with(R"("aal":1)", R"("aal":1,"nbf":"soon")"), "\"nbf\" is not an integer");
  expect_refused(with(R"("aal":1)", R"("aal":1,"jti":5)"), "\"jti\" is not a string");
  // exp in the future, iat within the leeway but after exp.
  expect_refused(with(R"("iat":1799999940,"exp":1800000600)", R"("iat":1800000020,"exp":1800000010)"),
                 "exp is not after iat");
}

TEST_F(AccessToken, CauseKeepsTokenTextShortAndPrintable) {
  const std::string alg = std::string(200, 'A') + "\n";
  Result<AccessClaims> r =
      verify(forge(key_, R"({"alg":")" + alg.substr(0, 200) + R"(\n","kid":")" + key_.kid() + "\"}", payload_json()));
  ASSERT_FALSE(r);
  EXPECT_LT(r.error().cause.size(), 120u) << r.error().cause;
  EXPECT_EQ(r.error().cause.find('\n'), std::string::npos);
}

TEST(AccessTokenRotation, AnOldKeysTokenVerifiesWhileTheOldKeyStaysInTheRing) {
  const KeyRing old_ring = ring(kSeedA);
  const std::string old_token = old_ring.sign(claims());

  const KeyRing rotated = ring(std::string(kSeedB) + "\n" + std::string(kSeedA) + "\n");  // new key first
  Result<AccessClaims> r = rotated.verify(old_token, kIss, kAud, kNow);
  ASSERT_TRUE(r) << r.error().cause;
  EXPECT_EQ(r->sub, claims().sub);

  // New tokens are signed by the new key, and the old ring does not know it.
  const std::string new_token = rotated.sign(claims());
  const auto header = base64url_decode(new_token.substr(0, new_token.find('.')));
  ASSERT_TRUE(header);
  EXPECT_NE(header->find(rotated.active().kid()), std::string::npos);
  EXPECT_NE(rotated.active().kid(), old_ring.active().kid());
  EXPECT_TRUE(rotated.verify(new_token, kIss, kAud, kNow));
  expect_refused(old_ring.verify(new_token, kIss, kAud, kNow), "names no key");

  // Once the old key is removed, its tokens are refused.
  const KeyRing retired = ring(kSeedB);
  expect_refused(retired.verify(old_token, kIss, kAud, kNow), "names no key");
}

}  // namespace
}  // namespace slipway::auth
