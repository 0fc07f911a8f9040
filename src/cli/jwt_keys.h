// The access-token signing keys (auth/key_ring.h): from SLIPWAY_JWT_KEYS (the key file's text) or the file named by
// SLIPWAY_JWT_KEYS_FILE — never from the concept file, never logged. In dev mode missing keys are generated once,
// stored in <data>/dev-jwt-keys (0600) and reused, so tokens survive a restart. In production missing keys stop
// start-up when the concept file turns identity on (`auth:`).
#pragma once

#include <memory>
#include <string>

#include "auth/key_ring.h"

namespace slipway::cli {

// True when SLIPWAY_JWT_KEYS or SLIPWAY_JWT_KEYS_FILE is set: then bad keys are an error in every mode.
bool jwt_keys_configured();

// nullptr with `error` set when no usable keys exist (or, with `create` in dev mode, cannot be made).
std::shared_ptr<const auth::KeyRing> resolve_jwt_keys(bool dev, const std::string& data_dir, bool create,
                                                      std::string& error);

}  // namespace slipway::cli
