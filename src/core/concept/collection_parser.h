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
  std::set<std::string, std::less<>> valid;  // those with a valid name (the ones that will exist)
};

enum class RuleAction : std::uint8_t { kList, kView, kCreate, kUpdate, kDelete };

struct PendingRule {
  std::size_t collection = 0;  // index into Concept::collections
  RuleAction action = RuleAction::kList;
  std::string source;
  YAML::Node node;  // the scalar, to map an error offset to a file column
};

struct ParsedCollection {
  Collection collection;
  std::vector<PendingRule> rules;             // `collection` index left 0: the caller sets it
  std::set<std::string, std::less<>> broken;  // fields skipped because of an error (silences follow-on errors)
};

// [a-z][a-z0-9_]{0,62}: collection and field names (they become SQL identifiers and URL segments).
bool is_valid_identifier(std::string_view name);
const char* rule_action_name(RuleAction a);

ParsedCollection parse_collection(ParseContext& ctx, const Entry& entry, const CollectionNames& names);

// Returns nullopt when the field cannot be kept (bad name, missing or unknown type, enum without values,
// relation without a valid target); option errors are reported and the option ignored.
std::optional<Field> parse_field(ParseContext& ctx, const Entry& entry, const CollectionNames& names);

// Reads `default:` for an otherwise parsed field; reports and returns nullopt when it does not fit the field.
std::optional<Value> parse_default(ParseContext& ctx, const Entry& entry, const Field& field);

}  // namespace slipway::model
