// libsodium's one-time start-up (CPU feature detection, the random source), done on first use by every auth
// function that needs libsodium, so callers never have to remember it.
// Thread safety: safe from any thread (a function-local static; sodium_init() is itself idempotent).
#pragma once

namespace slipway::auth {

// Aborts when libsodium cannot start (no usable random source): nothing in auth could be done safely without it.
void ensure_sodium();

}  // namespace slipway::auth
