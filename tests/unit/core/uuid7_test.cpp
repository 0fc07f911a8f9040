#include "core/uuid7.h"

#include <gtest/gtest.h>

#include <set>

#include "core/clock.h"

namespace slipway {
namespace {

class FixedClock final : public Clock {
 public:
  std::int64_t now_ms() const override { return ms; }
  std::int64_t ms = 1795963310123;
};

TEST(Uuid7, IsCanonicalVersion7Variant10) {
  FixedClock clock;
  Uuid7Generator gen(clock);
  const std::string id = gen.generate();
  ASSERT_TRUE(is_uuid(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
  EXPECT_EQ(id.substr(0, 8), "01a227c1");  // 48-bit ms timestamp, big-endian
}

TEST(Uuid7, SortsInCreationOrderWithinOneMillisecond) {
  FixedClock clock;
  Uuid7Generator gen(clock);
  std::string prev = gen.generate();
  std::set<std::string> seen{prev};
  for (int i = 0; i < 20000; ++i) {  // more than the 12-bit counter: must borrow into the next ms
    std::string next = gen.generate();
    ASSERT_LT(prev, next);
    ASSERT_TRUE(seen.insert(next).second);
    prev = next;
  }
}

TEST(Uuid7, SortsAcrossClockGoingBackwards) {
  FixedClock clock;
  Uuid7Generator gen(clock);
  const std::string a = gen.generate();
  clock.ms -= 5000;
  EXPECT_LT(a, gen.generate());
}

TEST(Uuid7, IsUuidRejectsMalformed) {
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("01a2d4d2-0000-7000-8000-00000000000"));
  EXPECT_FALSE(is_uuid("01a2d4d2-0000-7000-8000-00000000000g"));
  EXPECT_FALSE(is_uuid("01a2d4d2x0000-7000-8000-000000000000"));
  EXPECT_FALSE(is_uuid("' OR 1=1 --"));
}

}  // namespace
}  // namespace slipway
