#include "outbound/circuit_breaker.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "fake_clock.h"

namespace slipway::outbound {
namespace {

using testing::FakeClock;
using Change = std::pair<CircuitState, CircuitState>;

struct Fixture {
  FakeClock clock;
  std::vector<Change> changes;
  CircuitBreaker breaker{CircuitBreakerOptions{3, 1000, 5000}, clock,
                         [this](CircuitState from, CircuitState to) { changes.emplace_back(from, to); }};

  void fail(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(breaker.allow());
      breaker.record_failure();
    }
  }
};

TEST(CircuitBreaker, StartsClosedAndAdmitsEveryCall) {
  Fixture f;
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(f.breaker.allow());
  EXPECT_EQ(f.breaker.state(), CircuitState::kClosed);
  EXPECT_TRUE(f.changes.empty());
}

TEST(CircuitBreaker, OpensAfterThresholdFailuresWithinTheWindow) {
  Fixture f;
  f.fail(2);
  EXPECT_EQ(f.breaker.state(), CircuitState::kClosed);
  f.fail(1);
  EXPECT_EQ(f.breaker.state(), CircuitState::kOpen);
  EXPECT_FALSE(f.breaker.allow());
  EXPECT_EQ(f.breaker.reopens_at_ms(), f.clock.now_ms() + 5000);
  ASSERT_EQ(f.changes.size(), 1u);
  EXPECT_EQ(f.changes[0], Change(CircuitState::kClosed, CircuitState::kOpen));
}

TEST(CircuitBreaker, FailuresOutsideTheWindowDoNotCount) {
  Fixture f;
  f.fail(2);
  f.clock.advance(1000);  // both are now a full window old
  f.fail(2);
  EXPECT_EQ(f.breaker.state(), CircuitState::kClosed);
  f.clock.advance(999);  // the last two are still inside
  f.fail(1);
  EXPECT_EQ(f.breaker.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, SuccessesInBetweenDoNotForgiveFailures) {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    f.breaker.record_success();
    f.fail(1);
  }
  EXPECT_EQ(f.breaker.state(), CircuitState::kOpen);
}

TEST(CircuitBreaker, StaysOpenForOpenMsThenAdmitsExactlyOneProbe) {
  Fixture f;
  f.fail(3);
  f.clock.advance(4999);
  EXPECT_FALSE(f.breaker.allow());
  f.clock.advance(1);
  EXPECT_TRUE(f.breaker.allow());  // the probe
  EXPECT_EQ(f.breaker.state(), CircuitState::kHalfOpen);
  EXPECT_FALSE(f.breaker.allow());  // everyone else waits for the probe's result
  EXPECT_FALSE(f.breaker.allow());
  EXPECT_EQ(f.breaker.reopens_at_ms(), 0);
}

TEST(CircuitBreaker, ProbeSuccessClosesWithAFreshCount) {
  Fixture f;
  f.fail(3);
  f.clock.advance(5000);
  ASSERT_TRUE(f.breaker.allow());
  f.breaker.record_success();
  EXPECT_EQ(f.breaker.state(), CircuitState::kClosed);
  f.fail(2);  // the failures that opened it are forgotten
  EXPECT_EQ(f.breaker.state(), CircuitState::kClosed);
  ASSERT_EQ(f.changes.size(), 3u);
  EXPECT_EQ(f.changes[1], Change(CircuitState::kOpen, CircuitState::kHalfOpen));
  EXPECT_EQ(f.changes[2], Change(CircuitState::kHalfOpen, CircuitState::kClosed));
}

TEST(CircuitBreaker, ProbeFailureReopensForAnotherOpenMs) {
  Fixture f;
  f.fail(3);
  f.clock.advance(5000);
  ASSERT_TRUE(f.breaker.allow());
  f.breaker.record_failure();
  EXPECT_EQ(f.breaker.state(), CircuitState::kOpen);
  f.clock.advance(4999);
  EXPECT_FALSE(f.breaker.allow());
  f.clock.advance(1);
  EXPECT_TRUE(f.breaker.allow());
  ASSERT_EQ(f.changes.size(), 4u);
  EXPECT_EQ(f.changes[2], Change(CircuitState::kHalfOpen, CircuitState::kOpen));
  EXPECT_EQ(f.changes[3], Change(CircuitState::kOpen, CircuitState::kHalfOpen));
}

TEST(CircuitBreaker, LateResultsWhileOpenAreIgnored) {
  Fixture f;
  f.fail(3);
  f.breaker.record_success();  // a call admitted before it opened finishes now
  EXPECT_EQ(f.breaker.state(), CircuitState::kOpen);
  f.breaker.record_failure();
  EXPECT_EQ(f.changes.size(), 1u);
}

TEST(CircuitBreaker, ALostProbeIsReplacedAfterOpenMs) {
  Fixture f;
  f.fail(3);
  f.clock.advance(5000);
  ASSERT_TRUE(f.breaker.allow());  // this probe never reports
  f.clock.advance(4999);
  EXPECT_FALSE(f.breaker.allow());
  f.clock.advance(1);
  EXPECT_TRUE(f.breaker.allow());
  EXPECT_EQ(f.breaker.state(), CircuitState::kHalfOpen);
}

TEST(CircuitBreaker, RefusesOptionsOutOfRange) {
  FakeClock clock;
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{0, 1000, 1000}, clock), std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{1, 0, 1000}, clock), std::invalid_argument);
  EXPECT_THROW(CircuitBreaker(CircuitBreakerOptions{1, 1000, 0}, clock), std::invalid_argument);
}

TEST(CircuitBreaker, StateNamesAreTheMetricLabels) {
  EXPECT_EQ(circuit_state_name(CircuitState::kClosed), "closed");
  EXPECT_EQ(circuit_state_name(CircuitState::kHalfOpen), "half_open");
  EXPECT_EQ(circuit_state_name(CircuitState::kOpen), "open");
}

}  // namespace
}  // namespace slipway::outbound
