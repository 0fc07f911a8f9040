// Brute-force protection: free failures, then doubling delays; per account and per address; nothing in its
// answers depends on whether the account exists.
#include "auth/login_throttle.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;

// An attempt that fails: begin() counts it; nothing more happens on a wrong password. Returns the wait, if locked.
std::optional<std::int64_t> attempt(LoginThrottle& t, const std::string& acc, const std::string& addr,
                                    std::int64_t now) {
  std::vector<ThrottleState> changed;
  return t.begin(acc, addr, now, changed);
}

TEST(LoginThrottle, FreeFailuresThenDelaysThatDoubleUpToTheCap) {
  LoginThrottle t(ThrottlePolicy{}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  std::int64_t now = kT0;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(attempt(t, acc, addr, now)) << i;
  // The 6th failure locks for 1 s, the 7th for 2 s, then 4, 8, ...
  EXPECT_FALSE(attempt(t, acc, addr, now));
  EXPECT_EQ(attempt(t, acc, addr, now), 1000);  // refused, and not counted
  now += 1000;
  EXPECT_FALSE(attempt(t, acc, addr, now));
  EXPECT_EQ(attempt(t, acc, addr, now), 2000);
  for (int i = 0; i < 40; ++i) t.record_failure(acc, now);
  EXPECT_EQ(attempt(t, acc, addr, now), 15 * 60 * 1000);  // capped: never more than 100 failures before a long lock
}

TEST(LoginThrottle, ParallelAttemptsAreCountedBeforeTheirHashSoTheyCannotAllPassOneCheck) {
  LoginThrottle t(ThrottlePolicy{.free_failures = 5}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  int admitted = 0;
  for (int i = 0; i < 66; ++i) admitted += attempt(t, acc, addr, kT0) ? 0 : 1;  // none has finished hashing yet
  EXPECT_EQ(admitted, 6);  // the free five, and the one that sets the lock
}

TEST(LoginThrottle, ASuccessForgetsTheAccountAndGivesTheAddressItsAttemptBack) {
  LoginThrottle t(ThrottlePolicy{.free_failures = 1}, ThrottlePolicy{.free_failures = 2});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  EXPECT_FALSE(attempt(t, acc, addr, kT0));
  EXPECT_FALSE(attempt(t, acc, addr, kT0));  // the second failure locks the account
  EXPECT_TRUE(attempt(t, acc, addr, kT0));
  t.succeeded(acc, addr, kT0);  // (a success found by an attempt admitted earlier)
  EXPECT_FALSE(attempt(t, acc, addr, kT0));  // the account starts over; the address is at 2 of 2 free
  EXPECT_FALSE(attempt(t, LoginThrottle::account_key("b@example.com"), addr, kT0));  // the address's third failure
  EXPECT_TRUE(attempt(t, LoginThrottle::account_key("c@example.com"), addr, kT0));   // locked it for everyone
  EXPECT_FALSE(attempt(t, acc, LoginThrottle::address_key("10.0.0.2"), kT0 + 2000));
  // Successes from one address (a NAT with many users) do not pile up as failures.
  LoginThrottle nat(ThrottlePolicy{}, ThrottlePolicy{.free_failures = 2});
  for (int i = 0; i < 10; ++i) {
    const std::string user = LoginThrottle::account_key("u" + std::to_string(i) + "@example.com");
    ASSERT_FALSE(attempt(nat, user, addr, kT0)) << i;
    nat.succeeded(user, addr, kT0);
  }
}

TEST(LoginThrottle, UnknownAndKnownAddressesAreThrottledAlike) {
  // Keys are digests of whatever address was typed: the throttle never consults the accounts.
  LoginThrottle t(ThrottlePolicy{.free_failures = 2}, ThrottlePolicy{.free_failures = 1000});
  const std::string addr = LoginThrottle::address_key("10.0.0.1");
  for (const char* email : {"real@example.com", "nobody@example.com"}) {
    const std::string acc = LoginThrottle::account_key(email);
    for (int i = 0; i < 3; ++i) attempt(t, acc, addr, kT0);
    EXPECT_EQ(attempt(t, acc, addr, kT0), 1000) << email;
  }
  EXPECT_EQ(LoginThrottle::account_key("x@example.com").size(), 8 + 64u);  // "account:" + hex digest, no address
}

TEST(LoginThrottle, ADayWithoutFailuresForgetsAKey) {
  LoginThrottle t(ThrottlePolicy{.free_failures = 1}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  attempt(t, acc, addr, kT0);
  attempt(t, acc, addr, kT0 + 3600 * 1000);  // failures keep the key alive: a day counts from the last one
  EXPECT_EQ(t.record_failure(acc, kT0 + 20LL * 3600 * 1000)[0].failures, 3);
  const std::int64_t later = kT0 + 45LL * 3600 * 1000;
  EXPECT_FALSE(attempt(t, acc, addr, later));
  EXPECT_EQ(t.record_failure(acc, later)[0].failures, 2);  // a new run: the attempt above, then this
}

TEST(LoginThrottle, StateSurvivesThroughLoad) {
  LoginThrottle before(ThrottlePolicy{.free_failures = 0}, ThrottlePolicy{.free_failures = 1000});
  const std::string acc = LoginThrottle::account_key("a@example.com"), addr = LoginThrottle::address_key("10.0.0.1");
  std::vector<ThrottleState> states;
  EXPECT_FALSE(before.begin(acc, addr, kT0, states));
  LoginThrottle after(ThrottlePolicy{.free_failures = 0}, ThrottlePolicy{.free_failures = 1000});
  after.load(states);
  EXPECT_EQ(attempt(after, acc, addr, kT0), 1000);
}

TEST(LoginThrottle, AnIpv6HostIsCountedByItsSlash64HoweverItIsWritten) {
  EXPECT_EQ(LoginThrottle::address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "address:2001:db8:1:2::/64");
  EXPECT_EQ(LoginThrottle::address_key("2001:db8:1:2:1:1:1:1"), LoginThrottle::address_key("2001:db8:1:2:ffff:0:0:9"));
  // Zeros compressed inside the first four groups (the review's case): still one key per /64.
  EXPECT_EQ(LoginThrottle::address_key("2001::5:a:b:c:d"), LoginThrottle::address_key("2001:0:0:5:1:2:3:4"));
  EXPECT_EQ(LoginThrottle::address_key("2001:db8::1"), "address:2001:db8::/64");
  EXPECT_EQ(LoginThrottle::address_key("192.0.2.7"), "address:192.0.2.7");
}

}  // namespace
}  // namespace slipway::auth
