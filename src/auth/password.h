// Password hashing with argon2id (libsodium crypto_pwhash, RFC 9106), stored as PHC strings that carry their own
// parameters: "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>".
//
// Default parameters: m = 19 MiB, t = 2, p = 1 — one of the equivalent argon2id settings OWASP's Password Storage
// Cheat Sheet lists as its minimum (46 MiB/t=1, 19 MiB/t=2, 12 MiB/t=3, 9 MiB/t=4, 7 MiB/t=5; libsodium always
// uses p = 1). Chosen over 46 MiB/t=1 because every hash runs on the worker pool and memory is what bounds it on a
// small host (2 threads × 19 MiB), and because a second pass leaves argon2id's data-independent first pass less
// exposed to time-memory trade-offs than t = 1 does. Roughly 50-150 ms per hash on one core, depending on the CPU
// (100-150 ms measured on a busy 2-core build machine).
//
// Passwords are bytes: the full (data, size) goes to argon2id, so a NUL or anything past byte 72 (bcrypt's limit)
// still counts. No Unicode normalisation is applied (see docs/security.md); the policy (password_policy.h) bounds
// the length before anything is hashed.
//
// Hashing is CPU- and memory-heavy by design: call these on the worker pool (runtime/worker_pool.h), never on an
// event loop. Thread safety: every function may be called from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace slipway::auth {

struct PasswordParams {
  std::uint64_t ops = 2;                     // argon2id t: passes over memory (at least 1)
  std::size_t mem_bytes = 19 * 1024 * 1024;  // argon2id m, in bytes (stored in KiB; at least 8 KiB)
};

// The PHC string for `password` with a fresh random salt. kInternal when libsodium refuses: out of memory, or
// parameters outside argon2id's limits (the cause says which; the password never appears in it).
[[nodiscard]] Result<std::string> hash_password(std::string_view password, const PasswordParams& params);

enum class Verify {
  kMatch,
  kMatchNeedsRehash,  // the password is right; store hash_password(password, current) in place of `stored`
  kMismatch,          // wrong password, or `stored` is not an argon2id PHC string
};

// Checks `password` against `stored` (work as set by the parameters inside `stored`, in constant time for the
// comparison). On a match, kMatchNeedsRehash when `stored` is weaker than `current` in any respect: fewer passes,
// less memory, or an older argon2 version. A stored hash stronger than `current` is kept (lowering the parameters
// never weakens existing hashes).
[[nodiscard]] Verify verify_password(std::string_view password, std::string_view stored, const PasswordParams& current);

// A valid hash (with `params`) of a random password nobody knows, computed once per distinct params and kept for
// the process. A login for an unknown account verifies against it and discards the answer, so it takes as long as
// a login with a wrong password. Returns an empty string (and keeps nothing) only if hashing failed for lack of
// memory; verifying against it is then a quick kMismatch.
const std::string& dummy_hash(const PasswordParams& params);

}  // namespace slipway::auth
