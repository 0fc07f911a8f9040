#include "auth/base64url.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

TEST(Base64Url, EncodesWithoutPaddingInTheUrlSafeAlphabet) {
  EXPECT_EQ(base64url_encode(""), "");
  EXPECT_EQ(base64url_encode("f"), "Zg");
  EXPECT_EQ(base64url_encode("fo"), "Zm8");
  EXPECT_EQ(base64url_encode("foo"), "Zm9v");
  EXPECT_EQ(base64url_encode("\xfb\xff\xbf"), "-_-_");
  EXPECT_EQ(base64url_encode(R"({"alg":"EdDSA"})"), "eyJhbGciOiJFZERTQSJ9");  // RFC 8037 A.4
}

TEST(Base64Url, DecodesWhatItEncodes) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "\xfb\xff\xbf", "\0\1\2"}) {
    auto d = base64url_decode(base64url_encode(s));
    ASSERT_TRUE(d) << s;
    EXPECT_EQ(*d, s);
  }
}

TEST(Base64Url, RefusesEverySpellingButTheOneCanonical) {
  EXPECT_FALSE(base64url_decode("Zg=="));   // padding
  EXPECT_FALSE(base64url_decode("+/+/"));   // standard alphabet
  EXPECT_FALSE(base64url_decode("Zm9 v"));  // whitespace
  EXPECT_FALSE(base64url_decode("Zm9v\n"));
  EXPECT_FALSE(base64url_decode("Z"));    // a lone character holds no whole byte
  EXPECT_FALSE(base64url_decode("Zh"));   // "Zg" with a non-zero unused bit: same byte, second spelling
  EXPECT_FALSE(base64url_decode("Zm9"));  // fine
  EXPECT_TRUE(base64url_decode("Zm8"));
  EXPECT_FALSE(base64url_decode("Zm.v"));
}

}  // namespace
}  // namespace slipway::auth
