#include "auth/data_keys.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

TEST(DataKeys, SealsAndOpensBoundToItsAssociatedData) {
  const DataKeys keys = DataKeys::generate();
  const std::string sealed = keys.seal("secret bytes", "totp:u1");
  EXPECT_TRUE(sealed.starts_with(keys.active_kid() + "."));
  EXPECT_EQ(keys.open(sealed, "totp:u1"), "secret bytes");
  EXPECT_FALSE(keys.open(sealed, "totp:u2"));  // moved to another user's row
  std::string altered = sealed;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(keys.open(altered, "totp:u1"));
  EXPECT_FALSE(keys.open("nokey", "totp:u1"));
}

TEST(DataKeys, OlderKeysStillOpenAfterRotation) {
  const DataKeys old_keys = DataKeys::generate();
  const std::string sealed = old_keys.seal("s", "a");
  const DataKeys fresh = DataKeys::generate();
  // The new key first, the old one below it: the new one seals, both open.
  std::string text = fresh.to_text() + old_keys.to_text();
  auto rotated = DataKeys::from_text(text);
  ASSERT_TRUE(rotated.has_value());
  EXPECT_EQ(rotated->active_kid(), fresh.active_kid());
  EXPECT_EQ(rotated->open(sealed, "a"), "s");
  EXPECT_FALSE(fresh.open(sealed, "a"));
}

TEST(DataKeys, RefusesBadFilesByLine) {
  auto bad = DataKeys::from_text("# comment\nnot-a-key\n");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().detail, "data key file line 2: not a data key (a 32-byte key in base64url or base64)");
  const std::string one = DataKeys::generate().to_text();
  auto twice = DataKeys::from_text(one + one);
  ASSERT_FALSE(twice.has_value());
  EXPECT_NE(twice.error().detail.find("the same key as line"), std::string::npos);
  EXPECT_FALSE(DataKeys::from_text("\n# only comments\n").has_value());
}

}  // namespace
}  // namespace slipway::auth
