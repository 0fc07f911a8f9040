#include "auth/opaque_token.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "auth/base64url.h"

namespace slipway::auth {
namespace {

TEST(RandomToken, IsBase64UrlOfTheRequestedNumberOfRandomBytes) {
  const std::string t = random_token();
  EXPECT_EQ(t.size(), 43u);
  const auto bytes = base64url_decode(t);
  ASSERT_TRUE(bytes);
  EXPECT_EQ(bytes->size(), 32u);
  EXPECT_EQ(random_token(16).size(), 22u);
  EXPECT_EQ(base64url_decode(random_token(16))->size(), 16u);
  EXPECT_EQ(random_token(48).size(), 64u);
}

TEST(RandomToken, TokensDoNotRepeatAndUseTheWholeAlphabet) {
  std::set<std::string> seen;
  std::set<char> chars;
  for (int i = 0; i < 2000; ++i) {
    const std::string t = random_token();
    EXPECT_TRUE(seen.insert(t).second);
    chars.insert(t.begin(), t.end());
  }
  // 2000 × 43 characters: every one of the 64 characters shows up unless the source is badly skewed.
  EXPECT_EQ(chars.size(), 64u);
}

TEST(TokenDigest, IsSha256InLowerCaseHex) {
  EXPECT_EQ(token_digest("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
  const std::string t = random_token();
  EXPECT_EQ(token_digest(t), token_digest(t));
  EXPECT_NE(token_digest(t), token_digest(t + "x"));
  EXPECT_EQ(token_digest(t).size(), 64u);
}

TEST(ConstantTimeEqual, ComparesContentsAndLengths) {
  EXPECT_TRUE(constant_time_equal("", ""));
  EXPECT_TRUE(constant_time_equal("abc", "abc"));
  EXPECT_FALSE(constant_time_equal("abc", "abd"));
  EXPECT_FALSE(constant_time_equal("abc", "ab"));
  EXPECT_FALSE(constant_time_equal("", "a"));
}

TEST(ApiKey, GeneratedKeysHaveTheDocumentedFormat) {
  const ApiKeySecret k = generate_api_key();
  EXPECT_EQ(k.full.size(), kApiKeyLength);
  EXPECT_EQ(k.full.size(), 56u);
  EXPECT_EQ(k.full, "slw_" + k.prefix + "_" + k.secret);
  EXPECT_EQ(k.prefix.size(), 8u);
  EXPECT_EQ(k.secret.size(), 43u);
  EXPECT_EQ(k.prefix.find_first_not_of("abcdefghijklmnopqrstuvwxyz234567"), std::string::npos);
  EXPECT_EQ(k.secret.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            std::string::npos);
}

TEST(ApiKey, GeneratedKeysDrawFromTheWholeAlphabetsAndDoNotRepeat) {
  std::set<std::string> prefixes, secrets;
  std::set<char> prefix_chars, secret_chars;
  for (int i = 0; i < 500; ++i) {
    const ApiKeySecret k = generate_api_key();
    EXPECT_TRUE(prefixes.insert(k.prefix).second);
    EXPECT_TRUE(secrets.insert(k.secret).second);
    prefix_chars.insert(k.prefix.begin(), k.prefix.end());
    secret_chars.insert(k.secret.begin(), k.secret.end());
  }
  EXPECT_EQ(prefix_chars.size(), 32u);
  EXPECT_EQ(secret_chars.size(), 62u);
}

TEST(ApiKey, ParseAcceptsGeneratedKeys) {
  for (int i = 0; i < 50; ++i) {
    const ApiKeySecret k = generate_api_key();
    const auto parsed = parse_api_key(k.full);
    ASSERT_TRUE(parsed) << k.full;
    EXPECT_EQ(parsed->prefix, k.prefix);
    EXPECT_EQ(parsed->secret, k.secret);
    EXPECT_EQ(parsed->full, k.full);
  }
}

TEST(ApiKey, ParseRefusesMalformedKeys) {
  const std::string good = generate_api_key().full;
  ASSERT_TRUE(parse_api_key(good));
  const std::string secret(43, 'A');
  ASSERT_TRUE(parse_api_key("slw_abcdefgh_" + secret));
  for (const std::string& bad : {
           std::string(),
           std::string("slw_"),
           "sk__abcdefgh_" + secret,            // another marker
           "SLW_abcdefgh_" + secret,            // the marker in upper case
           "slw_ABCDEFGH_" + secret,            // the id is lower case only
           "slw_abcdefg1_" + secret,            // 1 is not base32
           "slw_abcdefg8_" + secret,            // nor 8
           "slw_abcdefgh-" + secret,            // wrong separator
           "slw_abcdefgh_" + secret.substr(1),  // 42 secret characters
           "slw_abcdefgh_" + secret + "A",      // 44
           "slw_abcdefgh_" + secret.substr(1) + "-",
           "slw_abcdefgh_" + secret.substr(1) + "_",
           "slw_abcdefgh_" + secret.substr(1) + "=",
           "slw_abcdefghi" + secret,  // id of 9, no separator
           " " + good.substr(1),
           good.substr(0, 55) + "\n",
           good + " ",
           good.substr(0, 20) + '\0' + good.substr(21),
       })
    EXPECT_FALSE(parse_api_key(bad)) << bad;
}

}  // namespace
}  // namespace slipway::auth
