#include "cli/admin_token.h"

#include "cli/common.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace slipway::cli {
namespace {

bool read_file(const std::string& path, std::string& out) {
  if (!read_whole_file(path, out)) return false;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  return true;
}

bool acceptable(const std::string& token, std::string& error) {
  if (token.size() < kMinAdminTokenLength) {
    error = "the admin token must be at least " + std::to_string(kMinAdminTokenLength) + " characters";
    return false;
  }
  for (unsigned char c : token)
    if (c <= 0x20 || c >= 0x7f) {
      error = "the admin token must be printable ASCII without spaces";
      return false;
    }
  return true;
}

}  // namespace

bool admin_token_configured() {
  const char* env = std::getenv("SLIPWAY_ADMIN_TOKEN");
  const char* file = std::getenv("SLIPWAY_ADMIN_TOKEN_FILE");
  return (env && *env) || (file && *file);
}

bool resolve_admin_token(bool dev, const std::string& data_dir, bool create, std::string& token, std::string& error) {
  const char* env = std::getenv("SLIPWAY_ADMIN_TOKEN");
  const char* file = std::getenv("SLIPWAY_ADMIN_TOKEN_FILE");
  if (env && *env && file && *file) {
    error = "set SLIPWAY_ADMIN_TOKEN or SLIPWAY_ADMIN_TOKEN_FILE, not both";
    return false;
  }
  if (env && *env) {
    token = env;
    return acceptable(token, error);
  }
  if (file && *file) {
    if (!read_file(file, token)) {
      error = std::string("cannot read SLIPWAY_ADMIN_TOKEN_FILE ") + file;
      return false;
    }
    return acceptable(token, error);
  }
  if (!dev) {
    error = "no admin token: set SLIPWAY_ADMIN_TOKEN or SLIPWAY_ADMIN_TOKEN_FILE (production mode requires one)";
    return false;
  }
  const std::string path = data_dir + "/dev-admin-token";
  if (read_file(path, token) && acceptable(token, error)) return true;
  if (!create) {
    error = "no admin token yet (dev mode creates one in " + path + " on serve)";
    return false;
  }
  unsigned char raw[24];
  randombytes_buf(raw, sizeof raw);
  char hex[sizeof raw * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  token = std::string("dev_") + hex;
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0 || ::write(fd, token.data(), token.size()) != static_cast<ssize_t>(token.size())) {
    if (fd >= 0) ::close(fd);
    error = "cannot write " + path;
    return false;
  }
  ::close(fd);
  return true;
}

}  // namespace slipway::cli
