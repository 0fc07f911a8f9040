#include "auth/password_policy.h"

#include <gtest/gtest.h>

#include <string>

#include "auth/common_passwords.h"

namespace slipway::auth {
namespace {

using namespace std::string_literals;

std::string repeat(std::string_view s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(PasswordPolicy, DefaultsAreTwelveToOneThousandTwentyFourCharacters) {
  const PasswordPolicy p;
  EXPECT_EQ(p.min_length, 12);
  EXPECT_EQ(p.max_length, 1024);
  EXPECT_GE(p.min_length, kMinPasswordLengthFloor);
  EXPECT_GE(p.max_length, kMaxPasswordLengthFloor);
}

TEST(PasswordPolicy, LengthCountsCodePointsNotBytes) {
  const PasswordPolicy p;
  const std::string grin = "\xF0\x9F\x98\x80";                                             // U+1F600, four bytes
  EXPECT_EQ(check_password(repeat(grin, 12), p), std::nullopt);                            // 48 bytes, 12 characters
  EXPECT_EQ(check_password(repeat(grin, 11), p), "must be at least 12 characters");        // 44 bytes, still 11
  EXPECT_EQ(check_password(repeat("\xC3\xA9", 11), p), "must be at least 12 characters");  // 11 × é, 22 bytes
  EXPECT_EQ(check_password(repeat("\xC3\xA9", 11) + "x", p), std::nullopt);
}

TEST(PasswordPolicy, MinimumAndMaximumAreInclusive) {
  const PasswordPolicy p{8, 64};
  EXPECT_EQ(check_password("tr0ub4d!", p), std::nullopt);
  EXPECT_EQ(check_password("tr0ub4d", p), "must be at least 8 characters");
  EXPECT_EQ(check_password(std::string(64, 'k'), p), std::nullopt);
  EXPECT_EQ(check_password(std::string(65, 'k'), p), "must be at most 64 characters");
}

TEST(PasswordPolicy, SixtyFourCharactersAndMoreAreAcceptedByDefault) {
  const PasswordPolicy p;
  EXPECT_EQ(check_password(repeat("correct horse ", 4) + "battery staple!", p), std::nullopt);
  EXPECT_EQ(check_password(std::string(64, 'z'), p), std::nullopt);
  EXPECT_EQ(check_password(std::string(1024, 'z'), p), std::nullopt);
  EXPECT_EQ(check_password(std::string(1025, 'z'), p), "must be at most 1024 characters");
  EXPECT_EQ(check_password(repeat("\xE2\x82\xAC", 1024), p), std::nullopt);  // 1024 × €, 3072 bytes
}

TEST(PasswordPolicy, NoCompositionRules) {
  const PasswordPolicy p;
  EXPECT_EQ(check_password("alllowercaseletters", p), std::nullopt);
  EXPECT_EQ(check_password("only spaces count too", p), std::nullopt);
  EXPECT_EQ(check_password("937462019374", p), std::nullopt);
}

TEST(PasswordPolicy, RefusesCommonPasswordsWhateverTheirCase) {
  const PasswordPolicy p;
  // Entries of the list that are at least 12 characters long (only 56 of the 10,000 are).
  for (const char* pw :
       {"qwerty123456", "1qaz2wsx3edc", "leavemealone", "QWERTY123456", "LeaveMeAlone", "1QAZ2wsx3EDC"})
    EXPECT_EQ(check_password(pw, p), "is one of the 10,000 most common passwords") << pw;
  EXPECT_EQ(check_password("qwerty1234567", p), std::nullopt);  // not on the list
  // With the floor of 8, far more of the list applies.
  const PasswordPolicy eight{8, 64};
  EXPECT_EQ(check_password("password1", eight), "is one of the 10,000 most common passwords");
  EXPECT_EQ(check_password("Password1", eight), "is one of the 10,000 most common passwords");
  EXPECT_EQ(check_password("password1!", eight), std::nullopt);
}

TEST(PasswordPolicy, RefusesInvalidUtf8WithItsOwnMessage) {
  const PasswordPolicy p;
  EXPECT_EQ(check_password("valid-but-\xFF-byte", p), "is not valid UTF-8");
  EXPECT_EQ(check_password("overlong\xC0\xAFslash!!", p), "is not valid UTF-8");
  EXPECT_EQ(check_password("surrogate\xED\xA0\x80half", p), "is not valid UTF-8");
  EXPECT_EQ(check_password("\xFF", p), "is not valid UTF-8");  // checked before the length
}

TEST(CommonPasswords, HoldsTheFirstTenThousandEntriesOfTheZxcvbnList) {
  EXPECT_EQ(common_password_count(), 10000u);
  EXPECT_TRUE(is_common_password("123456"));    // rank 1
  EXPECT_TRUE(is_common_password("password"));  // rank 2
  EXPECT_TRUE(is_common_password("qqqqqq1"));   // rank 10,000
  EXPECT_FALSE(is_common_password("cathy1"));   // rank 10,001: not taken
  EXPECT_FALSE(is_common_password(""));
  EXPECT_FALSE(is_common_password("123456 "));
  EXPECT_FALSE(is_common_password("123456\n"));
  EXPECT_FALSE(is_common_password("password\0"s));
}

}  // namespace
}  // namespace slipway::auth
