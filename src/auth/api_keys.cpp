#include "auth/api_keys.h"

#include <mutex>

#include "auth/opaque_token.h"

namespace slipway::auth {

void ApiKeyRegistry::load(std::vector<storage::ApiKey> keys) {
  for (auto& k : keys) add(std::move(k));
}

void ApiKeyRegistry::add(storage::ApiKey key) {
  std::unique_lock lock(mu_);
  prefix_of_[key.id] = key.prefix;
  std::string prefix = key.prefix;
  if (auto it = by_prefix_.find(prefix); it != by_prefix_.end() && it->second.key.id == key.id) {
    // A reload (another instance changed the keys) may have read the row before this instance's own revocation
    // committed: revocation only moves one way, so a revoked key stays revoked here, and noted use stays noted.
    if (it->second.key.revoked_ms && !key.revoked_ms) key.revoked_ms = it->second.key.revoked_ms;
    it->second.key = std::move(key);
    return;
  }
  by_prefix_.erase(prefix);
  by_prefix_.try_emplace(prefix, std::move(key));
}

void ApiKeyRegistry::revoke(const std::string& id, std::int64_t now_ms) {
  std::unique_lock lock(mu_);
  auto p = prefix_of_.find(id);
  if (p == prefix_of_.end()) return;
  auto it = by_prefix_.find(p->second);
  if (it != by_prefix_.end()) it->second.key.revoked_ms = now_ms;
}

std::optional<ApiKeyRegistry::Resolved> ApiKeyRegistry::resolve(std::string_view presented, std::int64_t now_ms) {
  auto parsed = parse_api_key(presented);
  if (!parsed) return std::nullopt;
  const std::string digest = token_digest(presented);
  std::shared_lock lock(mu_);
  auto it = by_prefix_.find(parsed->prefix);
  if (it == by_prefix_.end()) return std::nullopt;
  const storage::ApiKey& k = it->second.key;
  if (!constant_time_equal(digest, k.secret_hash)) return std::nullopt;
  if (k.revoked_ms || (k.expires_ms && *k.expires_ms <= now_ms)) return std::nullopt;
  Resolved out;
  out.principal.kind = PrincipalKind::kApiKey;
  out.principal.id = k.id;
  out.principal.set_roles(k.roles);
  out.principal.aal = 1;
  const std::int64_t before = it->second.used_ms.exchange(now_ms, std::memory_order_relaxed);
  out.first_use = !k.last_used_ms && before == 0;
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> ApiKeyRegistry::drain() {
  std::vector<std::pair<std::string, std::int64_t>> out;
  std::unique_lock lock(mu_);
  for (auto& [prefix, e] : by_prefix_) {
    const std::int64_t used = e.used_ms.exchange(0, std::memory_order_relaxed);
    if (used == 0) continue;
    out.emplace_back(e.key.id, used);
    e.key.last_used_ms = used;
  }
  return out;
}

}  // namespace slipway::auth
