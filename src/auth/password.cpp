#include "auth/password.h"

#include <sodium.h>

#include <charconv>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "auth/sodium_init.h"

namespace slipway::auth {
namespace {

constexpr std::string_view kPrefix = crypto_pwhash_argon2id_STRPREFIX;  // "$argon2id$"
constexpr std::uint64_t kArgonVersion = 19;                             // 0x13, the only one libsodium writes

struct StoredParams {
  std::uint64_t version = 0;
  std::uint64_t mem_kib = 0;
  std::uint64_t ops = 0;
};

// Reads "<name>=<digits>" at `s` and moves past it.
bool read_field(std::string_view& s, std::string_view name, std::uint64_t& out) {
  if (s.substr(0, name.size()) != name || s.size() < name.size() + 2 || s[name.size()] != '=') return false;
  s.remove_prefix(name.size() + 1);
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data()) return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()));
  return true;
}

// "$argon2id$v=19$m=19456,t=2,p=1$..." → {19, 19456, 2}. Only after libsodium accepted the string.
std::optional<StoredParams> stored_params(std::string_view s) {
  StoredParams p;
  std::uint64_t lanes = 0;
  s.remove_prefix(kPrefix.size());
  if (!read_field(s, "v", p.version) || s.substr(0, 1) != "$") return std::nullopt;
  s.remove_prefix(1);
  if (!read_field(s, "m", p.mem_kib) || s.substr(0, 1) != ",") return std::nullopt;
  s.remove_prefix(1);
  if (!read_field(s, "t", p.ops) || s.substr(0, 1) != ",") return std::nullopt;
  s.remove_prefix(1);
  if (!read_field(s, "p", lanes) || s.substr(0, 1) != "$") return std::nullopt;
  return p;
}

bool weaker_than(const StoredParams& stored, const PasswordParams& current) {
  return stored.version < kArgonVersion || stored.ops < current.ops || stored.mem_kib < current.mem_bytes / 1024;
}

}  // namespace

Result<std::string> hash_password(std::string_view password, const PasswordParams& params) {
  ensure_sodium();
  if (params.ops < crypto_pwhash_argon2id_OPSLIMIT_MIN || params.ops > crypto_pwhash_argon2id_OPSLIMIT_MAX ||
      params.mem_bytes < crypto_pwhash_argon2id_MEMLIMIT_MIN || params.mem_bytes > crypto_pwhash_argon2id_MEMLIMIT_MAX)
    return Problem::make(ProblemCode::kInternal, "internal error",
                         "argon2id parameters out of range: t=" + std::to_string(params.ops) +
                             " m=" + std::to_string(params.mem_bytes) + " bytes");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops, params.mem_bytes,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Problem::make(
        ProblemCode::kInternal, "internal error",
        "argon2id hashing failed (out of memory for m=" + std::to_string(params.mem_bytes) + " bytes?)");
  return std::string(out);
}

Verify verify_password(std::string_view password, std::string_view stored, const PasswordParams& current) {
  ensure_sodium();
  // libsodium reads a NUL-terminated string: anything it could misread (too long, an inner NUL) is refused here.
  if (stored.size() >= crypto_pwhash_STRBYTES || stored.substr(0, kPrefix.size()) != kPrefix ||
      stored.find('\0') != std::string_view::npos)
    return Verify::kMismatch;
  char str[crypto_pwhash_STRBYTES] = {};
  stored.copy(str, stored.size());
  if (crypto_pwhash_str_verify(str, password.data(), password.size()) != 0) return Verify::kMismatch;
  const std::optional<StoredParams> p = stored_params(stored);
  if (!p || weaker_than(*p, current)) return Verify::kMatchNeedsRehash;
  return Verify::kMatch;
}

const std::string& dummy_hash(const PasswordParams& params) {
  ensure_sodium();
  static std::mutex mu;
  static std::map<std::pair<std::uint64_t, std::size_t>, std::string> hashes;  // GUARDED_BY(mu); nodes never move
  static const std::string kNone;
  std::lock_guard lock(mu);
  const auto key = std::make_pair(params.ops, params.mem_bytes);
  if (auto it = hashes.find(key); it != hashes.end()) return it->second;
  unsigned char secret[32];
  randombytes_buf(secret, sizeof secret);
  Result<std::string> h = hash_password(std::string_view(reinterpret_cast<const char*>(secret), sizeof secret), params);
  sodium_memzero(secret, sizeof secret);
  if (!h) return kNone;
  return hashes.emplace(key, std::move(h).value()).first->second;
}

}  // namespace slipway::auth
