#include "auth/revocations.h"

#include <mutex>

namespace slipway::auth {

void RevocationList::revoke_session(const std::string& session_id, std::int64_t now_ms) {
  std::unique_lock lock(mu_);
  sessions_[session_id] = now_ms;
  prune(now_ms);
  count_.store(sessions_.size() + users_.size(), std::memory_order_release);
}

void RevocationList::revoke_user(const std::string& user_id, std::int64_t now_ms) {
  std::unique_lock lock(mu_);
  users_[user_id] = now_ms;
  prune(now_ms);
  count_.store(sessions_.size() + users_.size(), std::memory_order_release);
}

bool RevocationList::is_revoked(std::string_view session_id, std::string_view user_id,
                                std::int64_t issued_at_ms) const {
  if (count_.load(std::memory_order_acquire) == 0) return false;
  std::shared_lock lock(mu_);
  if (!session_id.empty() && sessions_.count(std::string(session_id))) return true;
  auto it = users_.find(std::string(user_id));
  return it != users_.end() && issued_at_ms <= it->second;
}


std::size_t RevocationList::size() const { return count_.load(std::memory_order_acquire); }

void RevocationList::prune(std::int64_t now_ms) {
  if (now_ms - last_prune_ms_ < keep_ms_ / 4) return;
  last_prune_ms_ = now_ms;
  for (auto* map : {&sessions_, &users_}) {
    for (auto it = map->begin(); it != map->end();) {
      it = now_ms - it->second > keep_ms_ ? map->erase(it) : std::next(it);
    }
  }
}

}  // namespace slipway::auth
