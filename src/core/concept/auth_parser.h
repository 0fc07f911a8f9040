// Internal to the loader: reading the top-level `auth:` section into AuthSettings, and building the built-in users
// collection that the section brings (extended by `auth: users:`). Every bound below is checked with a
// file:line:col diagnostic; why they are where they are: docs/concept-file.md#auth.
// Thread safety: one call per load.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/concept/collection_parser.h"
#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

inline constexpr int kMinPasswordLength = 8;      // the lowest `password: min_length` (NIST SP 800-63B's floor)
inline constexpr int kMaxPasswordMinLength = 64;  // the highest: verifiers must accept at least 64 characters
inline constexpr std::int64_t kMinAccessTtl = 60;
inline constexpr std::int64_t kMaxAccessTtl = 86400;
inline constexpr std::int64_t kMinRefreshTtl = 3600;
inline constexpr std::int64_t kMaxRefreshTtl = 365 * 86400;
inline constexpr std::int64_t kMinSessionTimeout = 60;
inline constexpr std::int64_t kMaxSessionTimeout = 365 * 86400;
inline constexpr std::int64_t kMaxEmailLength = 254;  // the built-in email field's max (RFC 5321's path limit)

struct ParsedAuth {
  AuthSettings settings;
  ParsedCollection users;  // the built-in users collection, its `auth` flag set; rules still to bind
};

// `names` must already count the users collection as valid, so that its own fields may point at it. `app` is the
// app name, for the default issuer and audience.
ParsedAuth parse_auth(ParseContext& ctx, const Entry& entry, const CollectionNames& names, std::string_view app);

// The built-in users collection: the email field, then the fields of `users` (nullptr when the file does not
// extend it), and the default view and update rules (`id = @auth.id`) for each action `users` gives no rule.
// `section_loc` is where built-in parts point (the `auth:` key).
ParsedCollection parse_users(ParseContext& ctx, const Entry* users, const CollectionNames& names,
                             SourceLoc section_loc);

}  // namespace slipway::model
