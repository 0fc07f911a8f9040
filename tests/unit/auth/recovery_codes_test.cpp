#include "auth/recovery_codes.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

TEST(RecoveryCodes, TenDistinctCodesThatNormalise) {
  const auto codes = new_recovery_codes();
  ASSERT_EQ(codes.size(), kRecoveryCodeCount);
  for (const auto& c : codes) {
    EXPECT_EQ(c.size(), 19u);
    auto n = normalise_recovery_code(c);
    ASSERT_TRUE(n.has_value());
    EXPECT_EQ(normalise_recovery_code(" " + c + " "), n);  // spaces around a pasted code do not matter
  }
  for (std::size_t i = 0; i < codes.size(); ++i)
    for (std::size_t j = i + 1; j < codes.size(); ++j) EXPECT_NE(codes[i], codes[j]);
  EXPECT_EQ(normalise_recovery_code("ABCD-EFGH 2345-6777"), "abcdefgh23456777");
  EXPECT_FALSE(normalise_recovery_code("abcd-efgh-2345-677"));   // 15 characters
  EXPECT_FALSE(normalise_recovery_code("abcd-efgh-2345-6771"));  // '1' is not base32
  EXPECT_EQ(recovery_code_digest("abcdefgh23456777").size(), 64u);
}

}  // namespace
}  // namespace slipway::auth
