#include "core/clock.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(Rfc3339, FormatsEpochWithMilliseconds) {
  EXPECT_EQ(format_rfc3339_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339_ms(1795963310123), "2026-11-29T14:41:50.123Z");
  EXPECT_EQ(format_rfc3339_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(Rfc3339, ParsesDatesTimesAndOffsets) {
  std::int64_t ms = 0;
  ASSERT_TRUE(parse_rfc3339("2026-11-29T14:41:50.123Z", ms));
  EXPECT_EQ(ms, 1795963310123);
  ASSERT_TRUE(parse_rfc3339("2026-11-29T16:41:50.123+02:00", ms));
  EXPECT_EQ(ms, 1795963310123);
  ASSERT_TRUE(parse_rfc3339("1970-01-02", ms));
  EXPECT_EQ(ms, 86400000);
  ASSERT_TRUE(parse_rfc3339("2024-02-29T00:00:00Z", ms));
}

TEST(Rfc3339, RejectsMalformedAndOutOfRange) {
  std::int64_t ms = 0;
  for (const char* bad : {"", "2026", "2026-13-01", "2026-02-30", "2023-02-29T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T10:00:00", "2026-01-01T10:00:00Zjunk", "2026-01-01T10:00:00.Z",
                          "2026-01-01T10:00:00+2:00", "２０２６-01-01"}) {
    EXPECT_FALSE(parse_rfc3339(bad, ms)) << bad;
  }
}

// Issue 6 item 5: instants are stored as text, so only those whose UTC form has a four-digit year are accepted;
// the extremes themselves round-trip (what the server writes it accepts back).
TEST(Rfc3339, AcceptsOnlyInstantsInYears0001To9999Utc) {
  std::int64_t ms = 0;
  EXPECT_FALSE(parse_rfc3339("0000-01-01T00:00:00+23:59", ms));
  EXPECT_FALSE(parse_rfc3339("0000-12-31", ms));
  EXPECT_FALSE(parse_rfc3339("0001-01-01T00:00:00+00:01", ms));
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59-23:59", ms));
  EXPECT_FALSE(parse_rfc3339("9999-12-31T23:59:59.999-00:01", ms));
  ASSERT_TRUE(parse_rfc3339("0001-01-01T00:00:00Z", ms));
  EXPECT_EQ(ms, kMinEpochMs);
  EXPECT_EQ(format_rfc3339_ms(ms), "0001-01-01T00:00:00.000Z");
  ASSERT_TRUE(parse_rfc3339("9999-12-31T23:59:59.999Z", ms));
  EXPECT_EQ(ms, kMaxEpochMs);
  EXPECT_EQ(format_rfc3339_ms(ms), "9999-12-31T23:59:59.999Z");
  std::int64_t back = 0;
  ASSERT_TRUE(parse_rfc3339(format_rfc3339_ms(kMinEpochMs), back));
  EXPECT_EQ(back, kMinEpochMs);
  ASSERT_TRUE(parse_rfc3339("0001-01-01T01:00:00+01:00", ms));
  EXPECT_EQ(ms, kMinEpochMs);
}

}  // namespace
}  // namespace slipway
