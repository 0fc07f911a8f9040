#include "storage/sql/cursor.h"

#include <gtest/gtest.h>

namespace slipway::sql {
namespace {

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

}  // namespace
}  // namespace slipway::sql
