// The admin token: from SLIPWAY_ADMIN_TOKEN or the file named by SLIPWAY_ADMIN_TOKEN_FILE (never from the concept
// file, never logged). In dev mode a missing token is generated once, stored in <data>/dev-admin-token (0600)
// and reused, so the README tour keeps working across restarts. In production a missing token is an error.
#pragma once

#include <string>

namespace slipway::cli {

inline constexpr std::size_t kMinAdminTokenLength = 32;

// True when SLIPWAY_ADMIN_TOKEN or SLIPWAY_ADMIN_TOKEN_FILE is set: then a bad token is an error in every mode.
bool admin_token_configured();

// Returns false with `error` set when no usable token exists (or, with `create` in dev mode, cannot be made).
bool resolve_admin_token(bool dev, const std::string& data_dir, bool create, std::string& token, std::string& error);

}  // namespace slipway::cli
