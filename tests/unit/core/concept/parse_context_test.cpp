#include "core/concept/parse_context.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace slipway::model {
namespace {

TEST(ParseDuration, ReadsEachUnit) {
  EXPECT_EQ(parse_duration("90s"), 90);
  EXPECT_EQ(parse_duration("15m"), 15 * 60);
  EXPECT_EQ(parse_duration("12h"), 12 * 3600);
  EXPECT_EQ(parse_duration("30d"), 30 * 86400);
}

TEST(ParseDuration, ReadsAPlainIntegerAsSeconds) {
  EXPECT_EQ(parse_duration("900"), 900);
  EXPECT_EQ(parse_duration("1"), 1);
}

TEST(ParseDuration, RefusesWordsSpacesSignsAndFractions) {
  for (const char* s : {"15 minutes", "15 m", " 15m", "15m ", "-1m", "+1m", "1.5h", "1e3", "m", "", "15M", "15ms", "1w",
                        "0x10", "15mm"}) {
    EXPECT_EQ(parse_duration(s), std::nullopt) << s;
  }
}

TEST(ParseDuration, RefusesZero) {
  EXPECT_EQ(parse_duration("0s"), std::nullopt);
  EXPECT_EQ(parse_duration("0"), std::nullopt);
  EXPECT_EQ(parse_duration("00d"), std::nullopt);
}

TEST(ParseDuration, RefusesWhatOverflowsSixtyFourBits) {
  const std::int64_t max = std::numeric_limits<std::int64_t>::max();
  EXPECT_EQ(parse_duration(std::to_string(max)), max);
  EXPECT_EQ(parse_duration(std::to_string(max) + "0"), std::nullopt);
  EXPECT_EQ(parse_duration(std::to_string(max / 86400) + "d"), max / 86400 * 86400);
  EXPECT_EQ(parse_duration(std::to_string(max / 86400 + 1) + "d"), std::nullopt);
  EXPECT_EQ(parse_duration("99999999999999999999s"), std::nullopt);
}

TEST(FormatDuration, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_duration(60), "1m");
  EXPECT_EQ(format_duration(900), "15m");
  EXPECT_EQ(format_duration(86400), "1d");
  EXPECT_EQ(format_duration(24 * 3600 + 3600), "25h");
  EXPECT_EQ(format_duration(90), "90s");
  EXPECT_EQ(format_duration(365 * 86400), "365d");
}

}  // namespace
}  // namespace slipway::model
