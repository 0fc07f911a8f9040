// Internal to the loader: reading one collection (fields, indexes, rules, body_limit) and one field from their
// YAML nodes. Rules are only collected here (as PendingRule); they are bound later, once the Concept is final.
// Thread safety: one call per load.
#pragma once

#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

// Names known before any collection is read, so a relation may point at a collection declared later.
struct CollectionNames {
  std::vector<std::string> all;              // every key under `collections:`, in file order
  std::set<std::string, std::less<>> valid;  // the ones that will exist: valid names, and users with `auth:`
};

enum class RuleAction : std::uint8_t { kList, kView, kCreate, kUpdate, kDelete };

struct PendingRule {
  std::size_t collection = 0;  // index into Concept::collections
  RuleAction action = RuleAction::kList;
  std::string source;
  YAML::Node node;  // the scalar, to map an error offset to a file column; none for a built-in default rule
  SourceLoc loc;    // a built-in default rule's position (its section), used when there is no node
};

struct ParsedCollection {
  Collection collection;
  std::vector<PendingRule> rules;             // `collection` index left 0: the caller sets it
  std::set<std::string, std::less<>> broken;  // fields skipped because of an error (silences follow-on errors)
};

// What a built-in collection that the file extends rather than declares (auth.users) brings to parse_collection:
// fields that come before the file's own, names the file may not declare, and where it is written (for messages).
// `fields:` is optional for it.
struct BuiltinCollection {
  std::string section;        // "auth.users"
  std::vector<Field> fields;  // the built-in fields, in this order
  // The message for a field name the file may not declare, or "" when it may.
  std::string (*reserved)(std::string_view field) = nullptr;
};

// [a-z][a-z0-9_]{0,62}: collection and field names (they become SQL identifiers and URL segments).
bool is_valid_identifier(std::string_view name);
const char* rule_action_name(RuleAction a);

// `builtin`: the collection is a built-in one extended by the file (its name is entry.key all the same).
ParsedCollection parse_collection(ParseContext& ctx, const Entry& entry, const CollectionNames& names,
                                  const BuiltinCollection* builtin = nullptr);

// Returns nullopt when the field cannot be kept (bad name, missing or unknown type, enum without values,
// relation without a valid target); option errors are reported and the option ignored.
std::optional<Field> parse_field(ParseContext& ctx, const Entry& entry, const CollectionNames& names);

// Reads `default:` for an otherwise parsed field; reports and returns nullopt when it does not fit the field.
std::optional<Value> parse_default(ParseContext& ctx, const Entry& entry, const Field& field);

}  // namespace slipway::model
