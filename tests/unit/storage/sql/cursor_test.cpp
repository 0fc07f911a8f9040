#include "storage/sql/cursor.h"

#include <gtest/gtest.h>
#include <sodium.h>

namespace slipway::sql {
namespace {

const CursorKey kKey = new_cursor_key();

std::string encode_cursor(std::uint32_t sig, const std::vector<Value>& keys, std::string_view id) {
  return sql::encode_cursor(kKey, sig, keys, id);
}
Result<DecodedCursor> decode_cursor(std::string_view text, std::uint32_t sig, std::size_t n) {
  return sql::decode_cursor(kKey, text, sig, n);
}

TEST(Cursor, RoundTripsMixedKeyTypes) {
  const std::uint32_t sig = sort_signature("-created,views,published");
  const std::vector<Value> keys{Value(std::string("2026-11-24T10:00:00.000Z")), Value(std::int64_t{42}), Value(Null{})};
  const std::string c = encode_cursor(sig, keys, "01a227c1-502b-7000-8000-000000000001");
  EXPECT_EQ(c.find_first_of("+/="), std::string::npos);  // URL-safe without padding
  auto d = decode_cursor(c, sig, 3);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->keys, keys);
  EXPECT_EQ(d->id, "01a227c1-502b-7000-8000-000000000001");
}

TEST(Cursor, RejectsACursorMadeForAnotherSortOrder) {
  const std::string c = encode_cursor(sort_signature("title"), {Value(std::string("a"))}, "id");
  auto d = decode_cursor(c, sort_signature("-title"), 1);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ProblemCode::kBadRequest);
  EXPECT_EQ(d.error().parameter, "cursor");
}

TEST(Cursor, RejectsMalformedAndHostileInput) {
  const std::uint32_t sig = sort_signature("");
  for (std::string bad : {std::string(""), std::string("!!!"), std::string("' OR 1=1 --"), std::string(5000, 'A'),
                          std::string("W10"),  // "[]"
                          std::string("WzEsMl0")}) {  // "[1,2]": wrong signature/shape
    EXPECT_FALSE(decode_cursor(bad, sig, 0).has_value()) << bad;
  }
  // Wrong number of keys for the sort.
  EXPECT_FALSE(decode_cursor(encode_cursor(sig, {}, "x"), sig, 1).has_value());
}

// Issue 6 item 8: a cursor used to be plain base64 of the sort values (hidden fields included).
TEST(Cursor, IsOpaqueAndTamperProof) {
  const std::uint32_t sig = sort_signature("secret");
  const std::string c = encode_cursor(sig, {Value(std::string("the-hidden-value"))}, "01a227c1-502b-7000-8000-000000000001");
  std::string bin(c.size(), '\0');
  std::size_t n = 0;
  ASSERT_EQ(sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), c.data(), c.size(), nullptr, &n,
                              nullptr, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
            0);
  bin.resize(n);
  EXPECT_EQ(bin.find("the-hidden-value"), std::string::npos);
  EXPECT_EQ(bin.find("01a227c1"), std::string::npos);
  // Two cursors for the same position differ (random nonce), so neither reveals equality of positions.
  EXPECT_NE(c, encode_cursor(sig, {Value(std::string("the-hidden-value"))}, "01a227c1-502b-7000-8000-000000000001"));
  // Any altered character fails authentication.
  for (std::size_t i = 0; i < c.size(); i += 7) {
    std::string altered = c;
    altered[i] = altered[i] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(decode_cursor(altered, sig, 1).has_value()) << i;
  }
  // Sealed with another key (another database): refused.
  EXPECT_FALSE(sql::decode_cursor(new_cursor_key(), c, sig, 1).has_value());
  // A plain (unsealed) cursor in the old format is refused.
  const std::string plain = "WzEsImEiLCJpZCJd";  // [1,"a","id"]
  EXPECT_FALSE(decode_cursor(plain, 1, 1).has_value());
}

}  // namespace
}  // namespace slipway::sql
