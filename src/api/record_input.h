// Record input: a JSON request body turned into typed field values, validated against the concept.
// Every failing field is reported at once (422 errors[]); malformed JSON is a 400.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/concept/model.h"
#include "core/result.h"
#include "core/value.h"

namespace slipway::api {

inline constexpr int kMaxJsonDepth = 32;

// POST: every field, defaults applied, required checked. One value per field (Null where absent).
Result<std::vector<Value>> parse_create_body(std::string_view body, const model::Collection& c);
// PATCH: only the fields present; immutable fields rejected. Values are type-checked and range-checked here;
// `required` is checked on the merged record by validate_record.
Result<std::vector<std::pair<int, Value>>> parse_patch_body(std::string_view body, const model::Collection& c);
// POST /auth/signup: the users record's fields plus `password` (a string, returned apart and never stored as a
// field). Errors of both are reported together (422 errors[]).
struct SignUpBody {
  std::vector<Value> values;
  std::string password;
};
Result<SignUpBody> parse_sign_up_body(std::string_view body, const model::Collection& users);
// A body of string fields only (login, refresh, password change): one entry per name, nullopt when absent or null.
// Unknown keys, non-strings and strings over max_bytes are 422 errors[].
Result<std::vector<std::optional<std::string>>> parse_string_fields(std::string_view body,
                                                                   std::span<const std::string_view> names,
                                                                   std::size_t max_bytes);
// Required fields of a whole record (after a merge).
Status validate_required(const std::vector<Value>& values, const model::Collection& c);

}  // namespace slipway::api
