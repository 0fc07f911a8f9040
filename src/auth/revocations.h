// RevocationList: what makes a still-unexpired access token stop working at once on this instance, without a
// database read per request. Two kinds of entry, each kept only as long as a token it could refuse may live (the
// access-token lifetime):
//   - a session id (logout, session revoked, refresh-token reuse, password change ending other sessions);
//   - a user id with a time: tokens issued before it are refused (roles changed, user disabled or deleted), so the
//     client refreshes and gets a token with the current roles — or, if disabled, none.
// Start-up fills it from storage (sessions revoked within the lifetime). Across instances (PostgreSQL) the change
// feed will push entries into it (the PostgreSQL issue).
// Thread safety: every method from any thread; is_revoked() takes no lock while the list is empty (the usual case).
#pragma once

#include <atomic>
#include <cstdint>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace slipway::auth {

class RevocationList {
 public:
  explicit RevocationList(std::int64_t keep_ms) : keep_ms_(keep_ms) {}

  void revoke_session(const std::string& session_id, std::int64_t now_ms);
  // Tokens of `user_id` issued at or before `now_ms` are refused.
  void revoke_user(const std::string& user_id, std::int64_t now_ms);
  // `issued_at_ms`: when the token was minted, to the millisecond (slipway writes it into `jti`; see
  // issued_at_ms_of()), so a token minted just after a revocation is never caught by it.
  bool is_revoked(std::string_view session_id, std::string_view user_id, std::int64_t issued_at_ms) const;
  std::size_t size() const;

 private:
  void prune(std::int64_t now_ms);  // REQUIRES: mu_ held exclusively

  const std::int64_t keep_ms_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::int64_t> sessions_;  // GUARDED_BY(mu_): id → when revoked
  std::unordered_map<std::string, std::int64_t> users_;     // GUARDED_BY(mu_): id → tokens before this are stale
  std::atomic<std::size_t> count_{0};
  std::int64_t last_prune_ms_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace slipway::auth
