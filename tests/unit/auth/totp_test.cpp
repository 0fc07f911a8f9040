#include "auth/totp.h"

#include <gtest/gtest.h>


namespace slipway::auth {
namespace {

// RFC 6238 Appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890", 8 digits.
TEST(Totp, MatchesRfc6238Vectors) {
  const std::string secret = "12345678901234567890";
  EXPECT_EQ(totp_code(secret, totp_step(59'000), 8), "94287082");
  EXPECT_EQ(totp_code(secret, totp_step(1111111109'000), 8), "07081804");
  EXPECT_EQ(totp_code(secret, totp_step(1111111111'000), 8), "14050471");
  EXPECT_EQ(totp_code(secret, totp_step(1234567890'000), 8), "89005924");
  EXPECT_EQ(totp_code(secret, totp_step(2000000000'000), 8), "69279037");
  EXPECT_EQ(totp_code(secret, totp_step(20000000000'000), 8), "65353130");
  EXPECT_EQ(totp_code(secret, totp_step(59'000)), "287082");  // six digits: the last six
}

TEST(Totp, Base32RoundTripsAndMatchesRfc4648) {
  EXPECT_EQ(base32_encode("foobar"), "MZXW6YTBOI");
  EXPECT_EQ(base32_encode("f"), "MY");
  EXPECT_EQ(*base32_decode("MZXW6YTBOI"), "foobar");
  EXPECT_EQ(*base32_decode("mzxw 6ytb oi======"), "foobar");
  EXPECT_FALSE(base32_decode("MZXW1").has_value());  // '1' is not in the alphabet
  const std::string secret = new_totp_secret();
  EXPECT_EQ(secret.size(), kTotpSecretBytes);
  EXPECT_EQ(*base32_decode(base32_encode(secret)), secret);
}

TEST(Totp, AcceptsOneStepEitherSideAndNoMore) {
  const std::string secret = "12345678901234567890";
  const std::int64_t now = 1'700'000'015'000;
  const std::int64_t step = totp_step(now);
  for (int d = -1; d <= 1; ++d) EXPECT_EQ(totp_verify(secret, totp_code(secret, step + d), now, {}), step + d) << d;
  EXPECT_FALSE(totp_verify(secret, totp_code(secret, step - 2), now, {}));
  EXPECT_FALSE(totp_verify(secret, totp_code(secret, step + 2), now, {}));
}

TEST(Totp, RefusesAReplayedOrOlderCode) {
  const std::string secret = "12345678901234567890";
  const std::int64_t now = 1'700'000'015'000;
  const std::int64_t step = totp_step(now);
  EXPECT_FALSE(totp_verify(secret, totp_code(secret, step), now, step));       // the same code again
  EXPECT_FALSE(totp_verify(secret, totp_code(secret, step - 1), now, step));   // an older one after a newer one
  EXPECT_EQ(totp_verify(secret, totp_code(secret, step + 1), now, step), step + 1);  // the next one still works
}

TEST(Totp, RefusesMalformedCodes) {
  const std::string secret = "12345678901234567890";
  const std::int64_t now = 59'000;
  EXPECT_FALSE(totp_verify(secret, "28708", now, {}));
  EXPECT_FALSE(totp_verify(secret, "2870822", now, {}));
  EXPECT_FALSE(totp_verify(secret, "28708a", now, {}));
  EXPECT_FALSE(totp_verify(secret, " 287082", now, {}));
  EXPECT_TRUE(totp_verify(secret, "287082", now, {}));
}

TEST(Totp, OtpauthUriCarriesTheParametersEncoded) {
  EXPECT_EQ(otpauth_uri("my app", "ann+x@example.com", "foobar"),
            "otpauth://totp/my%20app:ann%2Bx%40example.com?secret=MZXW6YTBOI&issuer=my%20app&algorithm=SHA1&digits=6"
            "&period=30");
}

}  // namespace
}  // namespace slipway::auth
