#include "cli/jwt_keys.h"

#include "cli/common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace slipway::cli {
namespace {

std::shared_ptr<const auth::KeyRing> parse(const std::string& text, const std::string& origin, std::string& error) {
  auto ring = auth::KeyRing::from_text(text);
  if (!ring) {
    error = origin + ": " + ring.error().detail;
    return nullptr;
  }
  return std::make_shared<const auth::KeyRing>(std::move(*ring));
}

}  // namespace

bool jwt_keys_configured() {
  const char* env = std::getenv("SLIPWAY_JWT_KEYS");
  const char* file = std::getenv("SLIPWAY_JWT_KEYS_FILE");
  return (env && *env) || (file && *file);
}

std::shared_ptr<const auth::KeyRing> resolve_jwt_keys(bool dev, const std::string& data_dir, bool create,
                                                      std::string& error) {
  const char* env = std::getenv("SLIPWAY_JWT_KEYS");
  const char* file = std::getenv("SLIPWAY_JWT_KEYS_FILE");
  if (env && *env && file && *file) {
    error = "set SLIPWAY_JWT_KEYS or SLIPWAY_JWT_KEYS_FILE, not both";
    return nullptr;
  }
  if (env && *env) return parse(env, "SLIPWAY_JWT_KEYS", error);
  if (file && *file) {
    std::string text;
    if (!read_whole_file(file, text)) {
      error = std::string("cannot read SLIPWAY_JWT_KEYS_FILE ") + file;
      return nullptr;
    }
    return parse(text, std::string("SLIPWAY_JWT_KEYS_FILE ") + file, error);
  }
  if (!dev) {
    error = "no access-token signing key: the concept file has an `auth:` section, so set SLIPWAY_JWT_KEYS_FILE to a "
            "file with one base64 Ed25519 seed per line (make one with: openssl rand -base64 32 > jwt.keys)";
    return nullptr;
  }
  const std::string path = data_dir + "/dev-jwt-keys";
  std::string text;
  if (read_whole_file(path, text)) return parse(text, path, error);
  if (!create) {
    error = "no access-token key yet (dev mode creates one in " + path + " on serve)";
    return nullptr;
  }
  const auth::KeyRing ring = auth::KeyRing::generate();
  const std::string out = ring.to_text();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    if (fd >= 0) ::close(fd);
    error = "cannot write " + path;
    return nullptr;
  }
  ::close(fd);
  return parse(out, path, error);
}

}  // namespace slipway::cli
