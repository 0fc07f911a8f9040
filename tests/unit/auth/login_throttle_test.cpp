// Brute-force protection: free failures, then doubling delays; per account and per address; nothing in its
// answers depends on whether the account exists.
#include "auth/login_throttle.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;

TEST(LoginThrottle, FreeFailuresThenDelaysThatDoubleUpToTheCap) {
  LoginThrottle t(ThrottlePolicy{}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  std::int64_t now = kT0;
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(t.check(acc, addr, now)) << i;
    t.record_failure(acc, addr, now);
  }
  // The 6th failure locks for 1 s, the 7th for 2 s, then 4, 8, ...
  EXPECT_FALSE(t.check(acc, addr, now));
  t.record_failure(acc, addr, now);
  EXPECT_EQ(t.check(acc, addr, now), 1000);
  now += 1000;
  EXPECT_FALSE(t.check(acc, addr, now));
  t.record_failure(acc, addr, now);
  EXPECT_EQ(t.check(acc, addr, now), 2000);
  for (int i = 0; i < 40; ++i) t.record_failure(acc, addr, now);
  EXPECT_EQ(t.check(acc, addr, now), 15 * 60 * 1000);  // capped: never more than 100 failures before a long lock
}

TEST(LoginThrottle, ASuccessForgetsTheAccountButNotTheAddress) {
  LoginThrottle t(ThrottlePolicy{.free_failures = 1}, ThrottlePolicy{.free_failures = 2});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  t.record_failure(acc, addr, kT0);
  t.record_failure(acc, addr, kT0);
  EXPECT_TRUE(t.check(acc, addr, kT0));
  t.record_success(acc);
  EXPECT_FALSE(t.check(acc, addr, kT0));
  t.record_failure(LoginThrottle::account_key("b@example.com"), addr, kT0);  // the address's third failure
  EXPECT_TRUE(t.check(acc, addr, kT0));  // any account from that address now waits
  EXPECT_FALSE(t.check(acc, LoginThrottle::address_key("10.0.0.2"), kT0));
}

TEST(LoginThrottle, UnknownAndKnownAddressesAreThrottledAlike) {
  // Keys are digests of whatever address was typed: the throttle never consults the accounts.
  LoginThrottle t(ThrottlePolicy{.free_failures = 2}, ThrottlePolicy{.free_failures = 1000});
  const std::string addr = LoginThrottle::address_key("10.0.0.1");
  for (const char* email : {"real@example.com", "nobody@example.com"}) {
    const std::string acc = LoginThrottle::account_key(email);
    for (int i = 0; i < 3; ++i) t.record_failure(acc, addr, kT0);
    EXPECT_EQ(t.check(acc, addr, kT0), 1000) << email;
  }
  EXPECT_EQ(LoginThrottle::account_key("x@example.com").size(), 8 + 64u);  // "account:" + hex digest, no address
}

TEST(LoginThrottle, ADayWithoutFailuresForgetsAKey) {
  LoginThrottle t(ThrottlePolicy{.free_failures = 1}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  t.record_failure(acc, addr, kT0);
  t.record_failure(acc, addr, kT0);
  const std::int64_t later = kT0 + 25LL * 3600 * 1000;
  EXPECT_FALSE(t.check(acc, addr, later));
  auto states = t.record_failure(acc, addr, later);
  EXPECT_EQ(states[0].failures, 1);  // a new run, not the third failure
}

TEST(LoginThrottle, StateSurvivesThroughLoad) {
  LoginThrottle before(ThrottlePolicy{.free_failures = 0}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  auto states = before.record_failure(acc, addr, kT0);
  LoginThrottle after(ThrottlePolicy{.free_failures = 0}, ThrottlePolicy{.free_failures = 1000});
  after.load(states);
  EXPECT_EQ(after.check(acc, addr, kT0), 1000);
}

TEST(LoginThrottle, AnIpv6HostIsCountedByItsSlash64) {
  EXPECT_EQ(LoginThrottle::address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "address:2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::address_key("2001:db8:1:2:1:1:1:1"), LoginThrottle::address_key("2001:db8:1:2:ffff:0:0:9"));
  EXPECT_EQ(LoginThrottle::address_key("2001:db8::1"), "address:2001:db8::1");
  EXPECT_EQ(LoginThrottle::address_key("192.0.2.7"), "address:192.0.2.7");
}

}  // namespace
}  // namespace slipway::auth
