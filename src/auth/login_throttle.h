// LoginThrottle: brute-force protection for password logins, per account and per client address
// (docs/security.md#brute-force-protection).
//
//   attempt ─► check(account key, address key) ── locked ──► 429 + Retry-After (no hashing, same for every address)
//                   │ free
//                   ▼ verify password ── wrong ──► record_failure(both keys) ─► delay grows, state persisted
//                                      └ right ──► record_success(account key)
//
// Each key allows a number of free failures, then every further failure locks the key for a delay that doubles
// from 1 s up to 15 min; a day without failures forgets the key. The account key is a digest of the normalised
// e-mail address, so an unknown address is throttled exactly like a known one and the answer never tells them
// apart. The state is kept in memory for the check and written through storage (fire-and-forget) so a restart does
// not reset it; start-up loads it back.
// Thread safety: every method from any thread (one mutex; logins are rare next to reads).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace slipway::auth {

struct ThrottleState {
  std::string key;
  std::int64_t failures = 0;
  std::int64_t window_start_ms = 0;  // first failure of the current run
  std::int64_t locked_until_ms = 0;
};

struct ThrottlePolicy {
  std::int64_t free_failures = 5;  // per key before delays start
  std::int64_t base_delay_ms = 1000;
  std::int64_t max_delay_ms = 15 * 60 * 1000;
  std::int64_t forget_after_ms = 24LL * 3600 * 1000;
  std::size_t max_keys = 100'000;  // memory bound: beyond it, unlocked keys are dropped first
};

class LoginThrottle {
 public:
  LoginThrottle(ThrottlePolicy account, ThrottlePolicy address) : account_(account), address_(address) {}

  static std::string account_key(std::string_view normalised_email);
  static std::string address_key(std::string_view address);  // IPv6: its /64

  // Milliseconds until an attempt may be made, or nullopt when it may be made now.
  std::optional<std::int64_t> check(const std::string& account, const std::string& address, std::int64_t now_ms);
  // The states to persist after a failed attempt.
  std::vector<ThrottleState> record_failure(const std::string& account, const std::string& address,
                                            std::int64_t now_ms);
  // Forgets the account key after a successful login (the address keeps its count: one address trying many
  // accounts is what the address key is for).
  void record_success(const std::string& account);
  void load(const std::vector<ThrottleState>& states);

 private:
  const ThrottlePolicy& policy_for(const std::string& key) const;
  ThrottleState& touch(const std::string& key, std::int64_t now_ms);  // REQUIRES: mu_ held

  ThrottlePolicy account_, address_;
  std::mutex mu_;
  std::unordered_map<std::string, ThrottleState> states_;  // GUARDED_BY(mu_)
};

}  // namespace slipway::auth
