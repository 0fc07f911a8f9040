// LoginThrottle: brute-force protection for password logins, per account and per client address
// (docs/security.md#brute-force-protection).
//
//   attempt ─► begin(account key, address key) ── locked ──► 429 + Retry-After (no lookup, no hashing)
//                   │ free: the attempt is counted as a failure now, before the hash, so requests sent in parallel
//                   │ cannot all pass one check before any of them is counted
//                   ▼ verify password ── wrong ──► nothing more (already counted)
//                                      └ right ──► succeeded(): the account key is forgotten, the address's count
//                                                  gives the attempt back
//
// Each key allows a number of free failures, then every further failure locks the key for a delay that doubles
// from 1 s up to 15 min; a day without a failure forgets the key. The account key is a digest of the normalised
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
  std::int64_t last_failure_ms = 0;
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

  // Milliseconds to wait (nothing counted), or nullopt: the attempt may go on and is counted as a failure for both
  // keys already; `changed` receives the states to persist.
  std::optional<std::int64_t> begin(const std::string& account, const std::string& address, std::int64_t now_ms,
                                    std::vector<ThrottleState>& changed);
  // The attempt was right: forgets the account key and takes the attempt back from the address's count.
  std::vector<ThrottleState> succeeded(const std::string& account, const std::string& address, std::int64_t now_ms);
  // A failure without a begin() (the password check of a signed-in user): counts it for one key.
  std::vector<ThrottleState> record_failure(const std::string& key, std::int64_t now_ms);
  void load(const std::vector<ThrottleState>& states);

 private:
  const ThrottlePolicy& policy_for(const std::string& key) const;
  ThrottleState& touch(const std::string& key, std::int64_t now_ms);  // REQUIRES: mu_ held
  void fail(ThrottleState& s, std::int64_t now_ms);                   // REQUIRES: mu_ held
  std::int64_t wait_ms(const std::string& key, std::int64_t now_ms) const;  // REQUIRES: mu_ held

  ThrottlePolicy account_, address_;
  std::mutex mu_;
  std::unordered_map<std::string, ThrottleState> states_;  // GUARDED_BY(mu_)
};

}  // namespace slipway::auth
