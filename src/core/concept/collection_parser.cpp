// Reading one collection: fields (via parse_field), indexes, rules (collected for later binding), body_limit, audit.
#include "core/concept/collection_parser.h"

#include <algorithm>

#include "core/concept/loader.h"

namespace slipway::model {
namespace {

const std::vector<std::string_view> kCollectionKeys = {"fields", "indexes", "rules", "body_limit", "audit"};
const std::vector<std::string_view> kRuleKeys = {"list", "view", "create", "update", "delete"};

std::string index_text(const std::vector<std::string>& fields) {
  std::string s = "[";
  for (std::size_t i = 0; i < fields.size(); ++i) s += (i > 0 ? ", " : "") + fields[i];
  return s + "]";
}

void parse_fields(ParseContext& ctx, const Entry& e, const CollectionNames& names, const BuiltinCollection* builtin,
                  ParsedCollection& out) {
  Collection& c = out.collection;
  auto entries = ctx.map_entries(e.value, ParseContext::value_loc(e), "fields");
  if (!entries) return;
  std::size_t count = 0;
  for (const Entry& fe : *entries) {
    if (++count > kMaxFields) {
      ctx.error(ParseContext::loc_of(fe.key_node),
                "collection '" + c.name + "' has more than " + std::to_string(kMaxFields) + " fields");
      break;
    }
    if (builtin != nullptr && builtin->reserved != nullptr) {
      if (std::string message = builtin->reserved(fe.key); !message.empty()) {
        ctx.error(ParseContext::loc_of(fe.key_node), std::move(message));
        // A built-in field still exists for rules and indexes; any other reserved name does not.
        if (c.find_field(fe.key) == nullptr) out.broken.insert(fe.key);
        continue;
      }
    }
    if (auto f = parse_field(ctx, fe, names)) {
      c.fields.push_back(std::move(*f));
    } else {
      out.broken.insert(fe.key);
    }
  }
}

void parse_indexes(ParseContext& ctx, const Entry& e, ParsedCollection& out) {
  Collection& c = out.collection;
  if (!e.value.IsSequence()) {
    ctx.expected(e, "a list of indexes (each a list of field names)");
    return;
  }
  std::vector<std::string_view> candidates;
  for (const Field& f : c.fields) candidates.push_back(f.name);
  for (const char* s : kSystemFields) candidates.push_back(s);

  for (const YAML::Node& item : e.value) {
    const SourceLoc loc = ParseContext::loc_of(item);
    if (!item.IsSequence() || item.size() == 0) {
      ctx.error(loc, "expected a non-empty list of field names for an index of collection '" + c.name + "', got " +
                         ParseContext::describe(item));
      continue;
    }
    Index index;
    index.loc = loc;
    bool ok = true;
    for (const YAML::Node& name_node : item) {
      const SourceLoc name_loc = ParseContext::loc_of(name_node);
      if (!name_node.IsScalar()) {
        ctx.error(name_loc, "expected a field name in an index of collection '" + c.name + "', got " +
                                ParseContext::describe(name_node));
        ok = false;
        continue;
      }
      const std::string& name = name_node.Scalar();
      if (out.broken.count(name) != 0) {
        ok = false;  // the field itself was reported
      } else if (c.find_field(name) == nullptr && !is_system_field(name)) {
        ctx.error(name_loc, "index of collection '" + c.name + "' names unknown field '" + name + "'" +
                                did_you_mean(name, candidates));
        ok = false;
      } else if (std::find(index.fields.begin(), index.fields.end(), name) != index.fields.end()) {
        ctx.error(name_loc, "field '" + name + "' appears twice in one index of collection '" + c.name + "'");
        ok = false;
      } else {
        index.fields.push_back(name);
      }
    }
    if (!ok) continue;
    auto same = std::find_if(c.indexes.begin(), c.indexes.end(),
                             [&](const Index& other) { return other.fields == index.fields; });
    if (same != c.indexes.end()) {
      ctx.error(loc, "duplicate index " + index_text(index.fields) + " in collection '" + c.name +
                         "' (first defined at line " + std::to_string(same->loc.line) + ")");
      continue;
    }
    c.indexes.push_back(std::move(index));
  }
}

void parse_rules(ParseContext& ctx, const Entry& e, ParsedCollection& out) {
  const std::string& name = out.collection.name;
  auto entries = ctx.map_entries(e.value, ParseContext::value_loc(e), "rules");
  if (!entries) return;
  for (const Entry& re : ctx.known_entries(*entries, kRuleKeys, "in rules of collection '" + name + "'")) {
    auto source = ctx.read_string(re);
    if (!source) continue;
    const auto action =
        static_cast<RuleAction>(std::find(kRuleKeys.begin(), kRuleKeys.end(), re.key) - kRuleKeys.begin());
    if (source->find_first_not_of(" \t\r\n") == std::string::npos) {
      ctx.error(ParseContext::value_loc(re), "rule '" + re.key + "' of collection '" + name +
                                                 "' is empty: omit it (admins only) or write \"true\" (everyone)");
      continue;
    }
    out.rules.push_back(PendingRule{0, action, *source, re.value, SourceLoc{}});
  }
}

// "1048576", "512KiB", "1MiB": bytes, at most kMaxBodyLimit.
void parse_body_limit(ParseContext& ctx, const Entry& e, Collection& c) {
  const char* expected = "a size in bytes, KiB or MiB (e.g. 1MiB)";
  if (!e.value.IsScalar()) {
    ctx.expected(e, expected);
    return;
  }
  std::string_view s = e.value.Scalar();
  std::size_t unit = 1;
  if (s.size() > 3 && (s.ends_with("KiB") || s.ends_with("MiB"))) {
    unit = s.ends_with("KiB") ? std::size_t{1} << 10 : std::size_t{1} << 20;
    s.remove_suffix(3);
  }
  auto n = parse_int64(s);
  if (!n || *n <= 0) {
    ctx.expected(e, expected);
    return;
  }
  if (static_cast<std::uint64_t>(*n) > kMaxBodyLimit / unit) {
    ctx.error(ParseContext::value_loc(e), "body_limit of collection '" + c.name + "' is above the maximum of 64MiB");
    return;
  }
  c.body_limit = static_cast<std::size_t>(*n) * unit;
}

}  // namespace

const char* rule_action_name(RuleAction a) {
  switch (a) {
    case RuleAction::kList:
      return "list";
    case RuleAction::kView:
      return "view";
    case RuleAction::kCreate:
      return "create";
    case RuleAction::kUpdate:
      return "update";
    case RuleAction::kDelete:
      return "delete";
  }
  return "?";
}

ParsedCollection parse_collection(ParseContext& ctx, const Entry& entry, const CollectionNames& names,
                                  const BuiltinCollection* builtin) {
  ParsedCollection out;
  Collection& c = out.collection;
  c.name = entry.key;
  c.loc = ParseContext::loc_of(entry.key_node);
  if (builtin != nullptr) c.fields = builtin->fields;
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), builtin ? builtin->section : entry.key);
  if (!all) return out;
  const std::vector<Entry> entries = ctx.known_entries(
      *all, kCollectionKeys, builtin ? "in '" + builtin->section + "'" : "in collection '" + c.name + "'");
  auto find = [&](std::string_view key) -> const Entry* {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  };
  // Fields first: indexes and rules refer to them.
  if (const Entry* e = find("fields")) {
    parse_fields(ctx, *e, names, builtin, out);
  } else if (builtin == nullptr && !ParseContext::misspelled(*all, kCollectionKeys, "fields")) {
    ctx.error(c.loc, "missing required key 'fields' in collection '" + c.name + "'");
  }
  if (const Entry* e = find("indexes")) parse_indexes(ctx, *e, out);
  if (const Entry* e = find("rules")) parse_rules(ctx, *e, out);
  if (const Entry* e = find("body_limit")) parse_body_limit(ctx, *e, c);
  if (const Entry* e = find("audit")) {
    if (auto on = ctx.read_bool(*e)) c.audit = *on;
  }
  return out;
}

}  // namespace slipway::model
