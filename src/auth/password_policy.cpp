#include "auth/password_policy.h"

#include "auth/common_passwords.h"
#include "core/utf8.h"

namespace slipway::auth {

std::optional<std::string> check_password(std::string_view password, const PasswordPolicy& policy) {
  if (!valid_utf8(password)) return "is not valid UTF-8";
  const std::size_t length = utf8_code_points(password);
  if (length < static_cast<std::size_t>(policy.min_length))
    return "must be at least " + std::to_string(policy.min_length) + " characters";
  if (length > static_cast<std::size_t>(policy.max_length))
    return "must be at most " + std::to_string(policy.max_length) + " characters";
  if (is_common_password(password)) return "is one of the 10,000 most common passwords";
  return std::nullopt;
}

}  // namespace slipway::auth
