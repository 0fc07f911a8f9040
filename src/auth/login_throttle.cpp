#include "auth/login_throttle.h"

#include <algorithm>

#include "core/sha256.h"

namespace slipway::auth {

std::string LoginThrottle::account_key(std::string_view normalised_email) {
  return "account:" + sha256_hex(normalised_email);
}

std::string LoginThrottle::address_key(std::string_view address) {
  if (address.find(':') == std::string_view::npos) return "address:" + std::string(address);
  // An IPv6 host usually holds a whole /64: count its first four groups as one key. An address that compresses
  // zeros ("::") within those groups has fewer colons there and is kept whole.
  std::size_t pos = std::string_view::npos, from = 0;
  for (int i = 0; i < 4; ++i) {
    pos = address.find(':', from);
    if (pos == std::string_view::npos) break;
    from = pos + 1;
  }
  if (pos == std::string_view::npos || address.substr(0, pos).find("::") != std::string_view::npos)
    return "address:" + std::string(address);
  return "address:" + std::string(address.substr(0, pos)) + "::/64";
}

const ThrottlePolicy& LoginThrottle::policy_for(const std::string& key) const {
  return key.starts_with("account:") ? account_ : address_;
}

std::optional<std::int64_t> LoginThrottle::check(const std::string& account, const std::string& address,
                                                 std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::int64_t wait = 0;
  for (const std::string* k : {&account, &address}) {
    auto it = states_.find(*k);
    if (it != states_.end()) wait = std::max(wait, it->second.locked_until_ms - now_ms);
  }
  if (wait <= 0) return std::nullopt;
  return wait;
}

ThrottleState& LoginThrottle::touch(const std::string& key, std::int64_t now_ms) {
  const ThrottlePolicy& p = policy_for(key);
  if (states_.size() >= p.max_keys && !states_.count(key)) {
    for (auto it = states_.begin(); it != states_.end();)
      it = it->second.locked_until_ms <= now_ms ? states_.erase(it) : std::next(it);
  }
  ThrottleState& s = states_[key];
  if (s.key.empty()) s.key = key;
  if (s.failures > 0 && now_ms - s.window_start_ms > p.forget_after_ms) s = ThrottleState{key, 0, 0, 0};
  return s;
}

std::vector<ThrottleState> LoginThrottle::record_failure(const std::string& account, const std::string& address,
                                                         std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::vector<ThrottleState> out;
  for (const std::string* k : {&account, &address}) {
    const ThrottlePolicy& p = policy_for(*k);
    ThrottleState& s = touch(*k, now_ms);
    if (s.failures == 0) s.window_start_ms = now_ms;
    s.failures += 1;
    if (s.failures > p.free_failures) {
      const std::int64_t doublings = std::min<std::int64_t>(s.failures - p.free_failures - 1, 30);
      const std::int64_t delay = std::min(p.max_delay_ms, p.base_delay_ms << doublings);
      s.locked_until_ms = now_ms + delay;
    }
    out.push_back(s);
  }
  return out;
}

void LoginThrottle::record_success(const std::string& account) {
  std::lock_guard lock(mu_);
  states_.erase(account);
}

void LoginThrottle::load(const std::vector<ThrottleState>& states) {
  std::lock_guard lock(mu_);
  for (const auto& s : states) states_[s.key] = s;
}

}  // namespace slipway::auth
