// ApiKeyRegistry: every API key of the database in memory, so a request with `Authorization: Bearer slw_…` is
// resolved without a database read: the key's public id finds the entry, the digest of the whole key is compared
// in constant time, then revocation and expiry. Last use is noted in memory and written in batches (drain()), never
// once per request; the first use ever is reported at once so it can be audited.
// Thread safety: every method from any thread (a shared mutex; resolve() takes it shared).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/principal.h"
#include "storage/identity.h"

namespace slipway::auth {

class ApiKeyRegistry {
 public:
  struct Resolved {
    Principal principal;
    bool first_use = false;  // never used before: audit it
  };
  void load(std::vector<storage::ApiKey> keys);
  void add(storage::ApiKey key);
  void revoke(const std::string& id, std::int64_t now_ms);
  // nullopt for anything but a live key: unknown id, wrong secret, revoked, expired.
  std::optional<Resolved> resolve(std::string_view presented, std::int64_t now_ms);
  // (id, last use) of every key used since the previous drain.
  std::vector<std::pair<std::string, std::int64_t>> drain();

 private:
  struct Entry {
    explicit Entry(storage::ApiKey k) : key(std::move(k)) {}
    storage::ApiKey key;
    std::atomic<std::int64_t> used_ms{0};  // last use not yet written (set under the shared lock)
  };
  std::shared_mutex mu_;
  std::unordered_map<std::string, Entry> by_prefix_;  // GUARDED_BY(mu_)
  std::unordered_map<std::string, std::string> prefix_of_;  // GUARDED_BY(mu_): id → prefix
};

}  // namespace slipway::auth
