// AuthContext: who is asking. Resolved once per request by the api layer, read by rules at execution.
#pragma once

#include <optional>
#include <string>

namespace slipway {

struct AuthContext {
  bool admin = false;                 // the admin passes every rule and may filter/sort on hidden fields
  std::optional<std::string> id;      // @auth.id (null when anonymous)
  std::optional<std::string> role;    // @auth.role (null when anonymous)
};

}  // namespace slipway
