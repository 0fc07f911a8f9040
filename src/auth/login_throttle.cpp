#include "auth/login_throttle.h"

#include <arpa/inet.h>

#include <cstring>

#include <algorithm>

#include "core/sha256.h"

namespace slipway::auth {

std::string LoginThrottle::account_key(std::string_view normalised_email) {
  return "account:" + sha256_hex(normalised_email);
}

std::string LoginThrottle::address_key(std::string_view address) {
  // An IPv6 host usually holds a whole /64: the address's first 8 bytes are its key, whatever way it is written
  // (zeros compressed or not). Anything that does not parse as IPv6 (IPv4, or text) is its own key.
  const std::string text(address.substr(0, 64));
  unsigned char bytes[16] = {};
  if (text.find(':') == std::string::npos || ::inet_pton(AF_INET6, text.c_str(), bytes) != 1) return "address:" + text;
  std::memset(bytes + 8, 0, 8);
  char out[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, bytes, out, sizeof out);
  return "address:" + std::string(out) + "/64";
}

const ThrottlePolicy& LoginThrottle::policy_for(const std::string& key) const {
  return key.starts_with("account:") ? account_ : address_;
}

std::int64_t LoginThrottle::wait_ms(const std::string& key, std::int64_t now_ms) const {
  auto it = states_.find(key);
  return it == states_.end() ? 0 : it->second.locked_until_ms - now_ms;
}

ThrottleState& LoginThrottle::touch(const std::string& key, std::int64_t now_ms) {
  const ThrottlePolicy& p = policy_for(key);
  if (states_.size() >= p.max_keys && !states_.count(key)) {
    // Full (many addresses): drop what matters least first — unlocked keys within their free failures, then any
    // unlocked key. A key with a running lock is never dropped.
    for (int pass = 0; pass < 2 && states_.size() >= p.max_keys; ++pass) {
      for (auto it = states_.begin(); it != states_.end();) {
        const bool droppable = it->second.locked_until_ms <= now_ms &&
                               (pass == 1 || it->second.failures <= policy_for(it->first).free_failures);
        it = droppable ? states_.erase(it) : std::next(it);
      }
    }
  }
  ThrottleState& s = states_[key];
  if (s.key.empty()) s.key = key;
  if (s.failures > 0 && now_ms - s.last_failure_ms > p.forget_after_ms) s = ThrottleState{key, 0, 0, 0};
  return s;
}

void LoginThrottle::fail(ThrottleState& s, std::int64_t now_ms) {
  const ThrottlePolicy& p = policy_for(s.key);
  s.failures += 1;
  s.last_failure_ms = now_ms;
  if (s.failures > p.free_failures) {
    const std::int64_t doublings = std::min<std::int64_t>(s.failures - p.free_failures - 1, 30);
    s.locked_until_ms = now_ms + std::min(p.max_delay_ms, p.base_delay_ms << doublings);
  }
}

std::optional<std::int64_t> LoginThrottle::begin(const std::string& account, const std::string& address,
                                                 std::int64_t now_ms, std::vector<ThrottleState>& changed) {
  std::lock_guard lock(mu_);
  const std::int64_t wait = std::max(wait_ms(account, now_ms), wait_ms(address, now_ms));
  if (wait > 0) return wait;
  for (const std::string* k : {&account, &address}) {
    ThrottleState& s = touch(*k, now_ms);
    fail(s, now_ms);
    changed.push_back(s);
  }
  return std::nullopt;
}

std::vector<ThrottleState> LoginThrottle::succeeded(const std::string& account, const std::string& address,
                                                    std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::vector<ThrottleState> changed;
  states_.erase(account);
  changed.push_back(ThrottleState{account, 0, 0, 0});
  auto it = states_.find(address);
  if (it != states_.end()) {
    ThrottleState& s = it->second;
    s.failures = std::max<std::int64_t>(0, s.failures - 1);
    if (s.failures <= address_.free_failures) s.locked_until_ms = std::min(s.locked_until_ms, now_ms);
    changed.push_back(s);
  }
  return changed;
}

std::vector<ThrottleState> LoginThrottle::record_failure(const std::string& key, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  ThrottleState& s = touch(key, now_ms);
  fail(s, now_ms);
  return {s};
}

void LoginThrottle::load(const std::vector<ThrottleState>& states) {
  std::lock_guard lock(mu_);
  for (const auto& s : states) states_[s.key] = s;
}

}  // namespace slipway::auth
