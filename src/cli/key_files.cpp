#include "cli/key_files.h"

#include "cli/common.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>

namespace slipway::cli {
namespace {

struct KeySource {
  const char* env;       // SLIPWAY_JWT_KEYS
  const char* file_env;  // SLIPWAY_JWT_KEYS_FILE
  const char* dev_file;  // dev-jwt-keys, in the data directory
  const char* missing;   // the production message when neither is set
};

constexpr KeySource kJwt{"SLIPWAY_JWT_KEYS", "SLIPWAY_JWT_KEYS_FILE", "dev-jwt-keys",
                         "no access-token signing key: the concept file has an `auth:` section, so set "
                         "SLIPWAY_JWT_KEYS_FILE to a file with one base64 Ed25519 seed per line (make one with: "
                         "openssl rand -base64 32 > jwt.keys)"};
constexpr KeySource kData{"SLIPWAY_DATA_KEYS", "SLIPWAY_DATA_KEYS_FILE", "dev-data-keys",
                          "no data key: the concept file has an `auth:` section (TOTP secrets are stored encrypted), "
                          "so set SLIPWAY_DATA_KEYS_FILE to a file with one base64 32-byte key per line (make one "
                          "with: openssl rand -base64 32 > data.keys)"};

bool configured(const KeySource& s) {
  const char* env = std::getenv(s.env);
  const char* file = std::getenv(s.file_env);
  return (env && *env) || (file && *file);
}

template <typename Ring>
std::shared_ptr<const Ring> parse(const std::string& text, const std::string& origin, std::string& error) {
  auto ring = Ring::from_text(text);
  if (!ring) {
    error = origin + ": " + ring.error().detail;
    return nullptr;
  }
  return std::make_shared<const Ring>(std::move(*ring));
}

template <typename Ring>
std::shared_ptr<const Ring> resolve(const KeySource& s, bool dev, const std::string& data_dir, bool create,
                                    std::string& error) {
  const char* env = std::getenv(s.env);
  const char* file = std::getenv(s.file_env);
  if (env && *env && file && *file) {
    error = std::string("set ") + s.env + " or " + s.file_env + ", not both";
    return nullptr;
  }
  if (env && *env) return parse<Ring>(env, s.env, error);
  if (file && *file) {
    std::string text;
    if (!read_whole_file(file, text)) {
      error = std::string("cannot read ") + s.file_env + " " + file;
      return nullptr;
    }
    return parse<Ring>(text, std::string(s.file_env) + " " + file, error);
  }
  if (!dev) {
    error = s.missing;
    return nullptr;
  }
  const std::string path = data_dir + "/" + s.dev_file;
  std::string text;
  if (read_whole_file(path, text)) return parse<Ring>(text, path, error);
  if (!create) {
    error = "no key yet (dev mode creates one in " + path + " on serve)";
    return nullptr;
  }
  const std::string out = Ring::generate().to_text();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0 || ::write(fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) {
    if (fd >= 0) ::close(fd);
    error = "cannot write " + path;
    return nullptr;
  }
  ::close(fd);
  return parse<Ring>(out, path, error);
}

}  // namespace

bool jwt_keys_configured() { return configured(kJwt); }
bool data_keys_configured() { return configured(kData); }

std::shared_ptr<const auth::KeyRing> resolve_jwt_keys(bool dev, const std::string& data_dir, bool create,
                                                      std::string& error) {
  return resolve<auth::KeyRing>(kJwt, dev, data_dir, create, error);
}

std::shared_ptr<const auth::DataKeys> resolve_data_keys(bool dev, const std::string& data_dir, bool create,
                                                        std::string& error) {
  return resolve<auth::DataKeys>(kData, dev, data_dir, create, error);
}

}  // namespace slipway::cli
