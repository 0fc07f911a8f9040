// slipway's secret key files, each from an env var holding the text or a `*_FILE` env var naming a file — never
// from the concept file, never logged (auth/key_file.h has the format):
//   SLIPWAY_JWT_KEYS[_FILE]   the access-token signing keys (auth/key_ring.h)
//   SLIPWAY_DATA_KEYS[_FILE]  the keys that encrypt stored secrets such as TOTP secrets (auth/data_keys.h)
// In dev mode missing keys are generated once, stored in <data>/dev-jwt-keys and <data>/dev-data-keys (0600) and
// reused, so tokens and enrolled factors survive a restart. In production missing keys stop start-up when the
// concept file turns identity on (`auth:`).
#pragma once

#include <memory>
#include <string>

#include "auth/data_keys.h"
#include "auth/key_ring.h"

namespace slipway::cli {

// True when the env var or its *_FILE form is set: then bad keys are an error in every mode.
bool jwt_keys_configured();
bool data_keys_configured();

// nullptr with `error` set when no usable keys exist (or, with `create` in dev mode, cannot be made).
std::shared_ptr<const auth::KeyRing> resolve_jwt_keys(bool dev, const std::string& data_dir, bool create,
                                                      std::string& error);
std::shared_ptr<const auth::DataKeys> resolve_data_keys(bool dev, const std::string& data_dir, bool create,
                                                        std::string& error);

}  // namespace slipway::cli
