#include "core/principal.h"

#include <algorithm>

namespace slipway {

std::string rule_key(const Principal& p) {
  // kind | admin bypass | aal | id | roles. The separator (0x1f) cannot occur in ids (UUIDs, "admin") or role
  // names (identifiers), so distinct principals cannot spell the same key.
  std::string k;
  k.reserve(48 + 16 * p.roles.size());
  k.push_back(static_cast<char>('0' + static_cast<int>(p.kind)));
  k.push_back(p.admin() ? 'A' : '-');
  k.push_back(static_cast<char>('0' + std::clamp(p.aal, 0, 9)));
  if (p.id) k.append(*p.id);
  for (const auto& r : p.roles) {
    k.push_back('\x1f');
    k.append(r);
  }
  return k;
}

}  // namespace slipway
