#include "auth/key_ring.h"

#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <set>
#include <string>

#include "auth/base64url.h"

namespace slipway::auth {
namespace {

// RFC 8037 Appendix A.1: the example Ed25519 key (d = seed, x = public key).
constexpr std::string_view kRfcSeed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr std::string_view kRfcX = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
// RFC 8037 Appendix A.3: its JWK thumbprint.
constexpr std::string_view kRfcThumbprint = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k";
// A second fixed key: 32 bytes 0x01..0x20 in base64url.
constexpr std::string_view kOtherSeed = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA";

SigningKey key_from(std::string_view seed_b64url) {
  const std::optional<std::string> seed = base64url_decode(seed_b64url);
  EXPECT_TRUE(seed && seed->size() == 32);
  std::array<unsigned char, 32> bytes{};
  std::copy(seed->begin(), seed->end(), bytes.begin());
  return SigningKey::from_seed(bytes);
}

TEST(SigningKey, KidIsTheRfc7638ThumbprintOfTheRfc8037ExampleKey) {
  EXPECT_EQ(ed25519_jwk_thumbprint(kRfcX), kRfcThumbprint);
  const SigningKey key = key_from(kRfcSeed);
  EXPECT_EQ(key.x(), kRfcX);
  EXPECT_EQ(key.kid(), kRfcThumbprint);
  EXPECT_EQ(key.seed_base64url(), kRfcSeed);
}

TEST(SigningKey, ReproducesTheRfc8037SignatureExample) {
  // RFC 8037 Appendix A.4: JWS signing input and the signature Ed25519 (deterministic) must give for it.
  const SigningKey key = key_from(kRfcSeed);
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  const std::string sig = key.sign(input);
  EXPECT_EQ(base64url_encode(sig),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
  EXPECT_TRUE(key.verify(input, sig));  // A.5
  EXPECT_FALSE(key.verify(input + "x", sig));
  EXPECT_FALSE(key.verify(input, sig.substr(0, 63)));
}

TEST(SigningKey, GeneratedKeysDifferAndSurviveAMove) {
  SigningKey a = SigningKey::generate();
  const SigningKey b = SigningKey::generate();
  EXPECT_NE(a.kid(), b.kid());
  const std::string kid = a.kid();
  const std::string sig = a.sign("message");
  SigningKey moved = std::move(a);
  EXPECT_EQ(moved.kid(), kid);
  EXPECT_TRUE(moved.verify("message", sig));
  EXPECT_EQ(moved.sign("message"), sig);
}

TEST(KeyRing, FromTextSkipsCommentsAndBlankLinesAndTheFirstKeySigns) {
  // The second key written in standard base64 with padding and a CRLF line end.
  const std::string text = std::string("# rotated 2026-01-01\n\n   ") + std::string(kOtherSeed) +
                           "  \n# old key, remove after the token lifetime\r\n"
                           "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\r\n";
  Result<KeyRing> ring = KeyRing::from_text(text);
  ASSERT_TRUE(ring) << ring.error().detail;
  EXPECT_EQ(ring->size(), 2u);
  EXPECT_EQ(ring->active().kid(), key_from(kOtherSeed).kid());
  ASSERT_NE(ring->find(kRfcThumbprint), nullptr);
  EXPECT_EQ(ring->find(kRfcThumbprint)->x(), kRfcX);
  EXPECT_EQ(ring->find("no-such-kid"), nullptr);
}

TEST(KeyRing, FromTextErrorsNameTheLineAndNeverTheKey) {
  // 31 bytes: almost a key.
  const std::string short_key = base64url_encode(std::string(31, '\x07'));
  Result<KeyRing> r = KeyRing::from_text("# keys\n" + std::string(kRfcSeed) + "\n\n" + short_key + "\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("line 4"), std::string::npos) << r.error().detail;
  EXPECT_EQ(r.error().detail.find(short_key), std::string::npos);
  EXPECT_EQ(r.error().detail.find(kRfcSeed), std::string::npos);
  EXPECT_EQ(r.error().cause.find(short_key), std::string::npos);

  // A 64-byte libsodium secret key (seed ‖ public key) is not a seed.
  const std::string secret64 = base64url_encode(std::string(64, '\x05'));
  r = KeyRing::from_text(secret64);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("line 1"), std::string::npos);
  EXPECT_EQ(r.error().detail.find(secret64.substr(0, 20)), std::string::npos);

  // The key with a character changed into one outside both alphabets.
  std::string bad(kRfcSeed);
  bad[10] = '*';
  r = KeyRing::from_text("\n" + bad);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("line 2"), std::string::npos);
  EXPECT_EQ(r.error().detail.find(bad.substr(0, 12)), std::string::npos);
}

TEST(KeyRing, FromTextRefusesARepeatedKeyAndAFileWithoutKeys) {
  Result<KeyRing> r = KeyRing::from_text(std::string(kRfcSeed) + "\n" + std::string(kOtherSeed) + "\n" +
                                         "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().detail.find("line 3: the same key as line 1"), std::string::npos) << r.error().detail;
  for (std::string_view empty : {"", "\n\n", "# only a comment\n"}) {
    r = KeyRing::from_text(empty);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().detail.find("no key"), std::string::npos);
  }
}

TEST(KeyRing, ToTextRoundTripsInOrder) {
  Result<KeyRing> ring = KeyRing::from_text(std::string(kOtherSeed) + "\n" + std::string(kRfcSeed));
  ASSERT_TRUE(ring);
  const std::string text = ring->to_text();
  EXPECT_NE(text.find("# kid " + std::string(kRfcThumbprint)), std::string::npos);
  Result<KeyRing> again = KeyRing::from_text(text);
  ASSERT_TRUE(again) << again.error().detail;
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(again->active().kid(), ring->active().kid());
  EXPECT_NE(again->find(kRfcThumbprint), nullptr);

  const KeyRing fresh = KeyRing::generate();
  EXPECT_EQ(fresh.size(), 1u);
  Result<KeyRing> reloaded = KeyRing::from_text(fresh.to_text());
  ASSERT_TRUE(reloaded);
  EXPECT_EQ(reloaded->active().kid(), fresh.active().kid());
  EXPECT_NE(KeyRing::generate().active().kid(), fresh.active().kid());
}

TEST(KeyRing, JwksListsEveryPublicKeyAndNoSecret) {
  Result<KeyRing> ring = KeyRing::from_text(std::string(kOtherSeed) + "\n" + std::string(kRfcSeed));
  ASSERT_TRUE(ring);
  const std::string jwks = ring->jwks_json();
  boost::json::value v = boost::json::parse(jwks);
  const boost::json::array& keys = v.at("keys").as_array();
  ASSERT_EQ(keys.size(), 2u);
  std::set<std::string> kids;
  for (const boost::json::value& k : keys) {
    const boost::json::object& o = k.as_object();
    EXPECT_EQ(o.size(), 6u);
    EXPECT_EQ(o.at("kty"), "OKP");
    EXPECT_EQ(o.at("crv"), "Ed25519");
    EXPECT_EQ(o.at("alg"), "EdDSA");
    EXPECT_EQ(o.at("use"), "sig");
    EXPECT_FALSE(o.contains("d"));
    const std::string kid(o.at("kid").as_string());
    EXPECT_EQ(ed25519_jwk_thumbprint(std::string(o.at("x").as_string())), kid);
    kids.insert(kid);
  }
  EXPECT_EQ(kids, (std::set<std::string>{std::string(kRfcThumbprint), key_from(kOtherSeed).kid()}));
  EXPECT_EQ(std::string(keys[0].at("kid").as_string()), ring->active().kid());  // the active key first
  EXPECT_EQ(jwks.find(kRfcSeed), std::string::npos);
  EXPECT_EQ(jwks.find(kOtherSeed), std::string::npos);
}

}  // namespace
}  // namespace slipway::auth
