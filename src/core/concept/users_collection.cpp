// The built-in users collection: what identity needs in it (the email field), what the file may add under
// `auth: users:` (fields, indexes, rules, body_limit, as for any collection), and the rules it has by default.
#include "core/concept/auth_parser.h"

#include <algorithm>
#include <array>
#include <utility>

namespace slipway::model {
namespace {

// A user may see and change their own record; listing, creating and deleting users is the admin's (sign-up, not
// the records API, is how users are created).
constexpr std::string_view kOwnRecordRule = "id = @auth.id";
constexpr std::array<RuleAction, 2> kDefaultRuleActions = {RuleAction::kView, RuleAction::kUpdate};

// Kept for identity itself (password hashes, role membership, account state, tokens), so that a later issue can
// add them without renaming a user's field.
constexpr std::array<std::string_view, 4> kReservedNames = {"roles", "disabled", "verified", "tokens"};

Field email_field(SourceLoc loc) {
  Field f;
  f.name = std::string(kUsersEmailField);
  f.type = FieldType::kEmail;
  f.required = true;
  f.unique = true;
  f.max = static_cast<double>(kMaxEmailLength);
  f.loc = loc;
  return f;
}

std::string reserved_users_field(std::string_view name) {
  if (name == kUsersEmailField) {
    return "field 'email' is a built-in field of users (an email, required, unique, at most " +
           std::to_string(kMaxEmailLength) + " characters): it cannot be redefined";
  }
  const bool reserved = name.starts_with("password") ||
                        std::find(kReservedNames.begin(), kReservedNames.end(), name) != kReservedNames.end();
  if (!reserved) return "";
  return "field name '" + std::string(name) +
         "' is reserved in users (password*, roles, disabled, verified and tokens belong to identity)";
}

}  // namespace

ParsedCollection parse_users(ParseContext& ctx, const Entry* users, const CollectionNames& names,
                             SourceLoc section_loc) {
  const BuiltinCollection builtin{"auth.users", {email_field(section_loc)}, &reserved_users_field};
  ParsedCollection out;
  if (users != nullptr) {
    out = parse_collection(ctx, *users, names, &builtin);
  } else {
    out.collection.name = std::string(kUsersCollection);
    out.collection.fields = builtin.fields;
    out.collection.loc = section_loc;
  }
  out.collection.auth = true;
  for (RuleAction action : kDefaultRuleActions) {
    const bool given =
        std::any_of(out.rules.begin(), out.rules.end(), [&](const PendingRule& r) { return r.action == action; });
    if (!given) {
      out.rules.push_back(PendingRule{0, action, std::string(kOwnRecordRule), YAML::Node(), out.collection.loc});
    }
  }
  return out;
}

}  // namespace slipway::model
