// Reading one field: its name, type, and options, each checked against the type.
#include <algorithm>

#include "core/concept/collection_parser.h"

namespace slipway::model {
namespace {

// In the order a reader expects them: the order also breaks did-you-mean ties.
const std::vector<std::string_view> kFieldOptions = {"type",   "required",  "unique",   "default", "min",
                                                     "max",    "pattern",   "values",   "to",      "on_delete",
                                                     "hidden", "immutable", "sensitive"};
const std::vector<std::string_view> kTypeNames = {"text",  "int", "float", "bool", "datetime",
                                                  "email", "url", "enum",  "json", "relation"};
const std::vector<std::string_view> kOnDeleteNames = {"restrict", "cascade", "set_null"};

bool has_length(FieldType t) { return t == FieldType::kText || t == FieldType::kEmail || t == FieldType::kUrl; }

// Where an option is valid, as told to the user; nullptr when it is valid for `t`.
const char* invalid_option_hint(std::string_view option, FieldType t) {
  if (option == "min" || option == "max") {
    return has_length(t) || t == FieldType::kInt || t == FieldType::kFloat ? nullptr
                                                                           : "only for text, email, url, int and float";
  }
  if (option == "pattern") return has_length(t) ? nullptr : "only for text, email and url";
  if (option == "values") return t == FieldType::kEnum ? nullptr : "only for enum";
  if (option == "to" || option == "on_delete") return t == FieldType::kRelation ? nullptr : "only for relation";
  if (option == "unique") return t == FieldType::kJson ? "json values cannot be compared for uniqueness" : nullptr;
  if (option == "default") return t == FieldType::kRelation ? "a relation has no default" : nullptr;
  return nullptr;
}

std::string with_article(FieldType t) {
  const std::string name = field_type_name(t);
  const bool vowel = name[0] == 'i' || name[0] == 'e';
  return (vowel ? "an " : "a ") + name;
}

std::string join(const std::vector<std::string_view>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// Reads min/max for the field's type: a length (non-negative integer), an integer, or a number.
std::optional<double> read_bound(ParseContext& ctx, const Entry& e, FieldType t) {
  if (has_length(t)) {
    auto i = e.value.IsScalar() ? parse_int64(e.value.Scalar()) : std::nullopt;
    if (!i || *i < 0) {
      ctx.expected(e, "a non-negative integer (a length in characters)");
      return std::nullopt;
    }
    return static_cast<double>(*i);
  }
  if (t == FieldType::kInt) {
    auto i = ctx.read_integer(e);
    if (!i) return std::nullopt;
    return static_cast<double>(*i);
  }
  return ctx.read_number(e);
}

std::string trimmed(std::string_view s) {
  const std::size_t first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return std::string(s.substr(first, s.find_last_not_of(" \t") - first + 1));
}

// `values: open, done` is a list without its brackets. In block style YAML reads it as the one string
// "open, done"; inside a flow map `{ type: enum, values: open, done }` as `values: open` followed by a key `done`
// without a value. Finds the words meant (moving those keys out of `entries`, so they are not also reported as
// unknown options) and reports once how to write the list. Returns true when it did.
bool unbracketed_values(ParseContext& ctx, const YAML::Node& field, std::vector<Entry>& entries) {
  auto find = [&](std::string_view key) {
    return std::find_if(entries.begin(), entries.end(), [&](const Entry& e) { return e.key == key; });
  };
  auto type = find("type");
  auto values = find("values");
  if (type == entries.end() || !type->value.IsScalar() || type->value.Scalar() != "enum") return false;
  if (values == entries.end() || !values->value.IsScalar()) return false;
  std::vector<std::string> words;
  std::string_view text = values->value.Scalar();
  auto add = [&](std::string_view word) {
    if (std::string w = trimmed(word); !w.empty()) words.push_back(std::move(w));
  };
  for (std::size_t comma; (comma = text.find(',')) != std::string_view::npos; text.remove_prefix(comma + 1)) {
    add(text.substr(0, comma));
  }
  add(text);
  auto next = values + 1;
  if (field.Style() == YAML::EmitterStyle::Flow) {
    while (next != entries.end() && next->value.IsNull() &&
           std::find(kFieldOptions.begin(), kFieldOptions.end(), next->key) == kFieldOptions.end()) {
      add(next->key);
      ++next;
    }
  }
  if (words.size() < 2) return false;
  std::string list;
  for (const std::string& w : words) list += (list.empty() ? "" : ", ") + w;
  ctx.error(ParseContext::value_loc(*values),
            "expected a list for 'values', got '" + list + "': write values: [" + list + "]");
  entries.erase(values, next);
  return true;
}

void read_values(ParseContext& ctx, const Entry& e, Field& f) {
  if (!e.value.IsSequence()) {
    ctx.expected(e, "a list");
    return;
  }
  if (e.value.size() == 0) {
    ctx.error(ParseContext::value_loc(e), "'values' of field '" + f.name + "' must list at least one value");
    return;
  }
  for (const YAML::Node& item : e.value) {
    const SourceLoc loc = ParseContext::loc_of(item);
    if (!item.IsScalar()) {
      ctx.error(loc, "expected a string as enum value of field '" + f.name + "', got " + ParseContext::describe(item));
      continue;
    }
    const std::string& v = item.Scalar();
    if (v.empty()) {
      ctx.error(loc, "enum values of field '" + f.name + "' must not be empty");
    } else if (std::find(f.values.begin(), f.values.end(), v) != f.values.end()) {
      ctx.error(loc, "duplicate enum value '" + v + "' in field '" + f.name + "'");
    } else {
      f.values.push_back(v);
    }
  }
}

// Returns false when the field must be dropped (its target does not exist).
bool read_target(ParseContext& ctx, const Entry& e, Field& f, const CollectionNames& names) {
  auto to = ctx.read_string(e);
  if (!to) return false;
  if (names.valid.count(*to) != 0) {
    f.to = *to;
    return true;
  }
  if (std::find(names.all.begin(), names.all.end(), *to) == names.all.end()) {
    std::vector<std::string_view> candidates(names.valid.begin(), names.valid.end());
    std::string hint = *to == kUsersCollection ? " (add an `auth:` section to get the built-in users collection)"
                                               : did_you_mean(*to, candidates);
    ctx.error(ParseContext::value_loc(e),
              "relation field '" + f.name + "' refers to unknown collection '" + *to + "'" + hint);
  }
  // A target with an invalid name was already reported where it is declared.
  return false;
}

void read_on_delete(ParseContext& ctx, const Entry& e, Field& f) {
  auto s = ctx.read_string(e);
  if (!s) return;
  if (*s == "restrict") {
    f.on_delete = OnDelete::kRestrict;
  } else if (*s == "cascade") {
    f.on_delete = OnDelete::kCascade;
  } else if (*s == "set_null") {
    f.on_delete = OnDelete::kSetNull;
  } else {
    std::string hint = did_you_mean(*s, kOnDeleteNames);
    ctx.error(ParseContext::value_loc(e), "unknown on_delete '" + *s + "' in field '" + f.name + "'" +
                                              (hint.empty() ? ": expected " + join(kOnDeleteNames) : hint));
  }
}

bool check_field_name(ParseContext& ctx, const Entry& entry) {
  const SourceLoc loc = ParseContext::loc_of(entry.key_node);
  const std::string& name = entry.key;
  if (is_system_field(name)) {
    ctx.error(loc, "field name '" + name + "' is reserved: every record has a system field '" + name + "'");
    return false;
  }
  if (name == "expand") {
    ctx.error(loc, "field name 'expand' is reserved (it is a query parameter)");
    return false;
  }
  if (!is_valid_identifier(name)) {
    ctx.error(loc, "invalid field name '" + name +
                       "': use a lowercase letter, then lowercase letters, digits or '_' (at most 63 characters)");
    return false;
  }
  return true;
}

}  // namespace

std::optional<Field> parse_field(ParseContext& ctx, const Entry& entry, const CollectionNames& names) {
  if (!check_field_name(ctx, entry)) return std::nullopt;
  auto all = ctx.map_entries(entry.value, ParseContext::value_loc(entry), entry.key);
  if (!all) return std::nullopt;
  Field f;
  f.name = entry.key;
  f.loc = ParseContext::loc_of(entry.key_node);
  const bool values_without_brackets = unbracketed_values(ctx, entry.value, *all);
  const std::vector<Entry> options = ctx.known_entries(*all, kFieldOptions, "in field '" + f.name + "'");

  const Entry* type_entry = nullptr;
  for (const Entry& e : options) {
    if (e.key == "type") type_entry = &e;
  }
  if (type_entry == nullptr) {
    if (!ParseContext::misspelled(*all, kFieldOptions, "type")) {
      ctx.error(f.loc, "missing required key 'type' in field '" + f.name + "'");
    }
    return std::nullopt;
  }
  auto type_name = ctx.read_string(*type_entry);
  if (!type_name) return std::nullopt;
  auto type = parse_field_type(*type_name);
  if (!type) {
    std::string hint = did_you_mean(*type_name, kTypeNames);
    ctx.error(ParseContext::value_loc(*type_entry), "unknown type '" + *type_name + "' in field '" + f.name + "'" +
                                                        (hint.empty() ? ": expected " + join(kTypeNames) : hint));
    return std::nullopt;
  }
  f.type = *type;

  bool keep = true;
  bool has_target = false;
  bool has_values = false;
  const Entry* default_entry = nullptr;
  const Entry* max_entry = nullptr;
  const Entry* on_delete_entry = nullptr;
  for (const Entry& e : options) {
    if (e.key == "type") continue;
    if (const char* hint = invalid_option_hint(e.key, f.type)) {
      ctx.error(ParseContext::loc_of(e.key_node),
                "option '" + e.key + "' is not valid for " + with_article(f.type) + " field (" + hint + ")");
      if (e.key == "values") has_values = true;  // reported once: do not also ask for it
      continue;
    }
    auto set_flag = [&](bool& flag) {
      if (auto b = ctx.read_bool(e)) flag = *b;
    };
    if (e.key == "required")
      set_flag(f.required);
    else if (e.key == "unique")
      set_flag(f.unique);
    else if (e.key == "hidden")
      set_flag(f.hidden);
    else if (e.key == "immutable")
      set_flag(f.immutable);
    else if (e.key == "sensitive")
      set_flag(f.sensitive);
    else if (e.key == "min")
      f.min = read_bound(ctx, e, f.type);
    else if (e.key == "max") {
      f.max = read_bound(ctx, e, f.type);
      max_entry = &e;
    } else if (e.key == "default")
      default_entry = &e;
    else if (e.key == "values") {
      has_values = true;
      read_values(ctx, e, f);
    } else if (e.key == "to") {
      has_target = true;
      keep = read_target(ctx, e, f, names) && keep;
    } else if (e.key == "on_delete") {
      on_delete_entry = &e;
      read_on_delete(ctx, e, f);
    } else if (e.key == "pattern") {
      if (auto source = ctx.read_string(e)) {
        std::string err;
        f.pattern = compile_pattern(*source, err);
        if (!f.pattern) ctx.error(ParseContext::value_loc(e), "invalid pattern in field '" + f.name + "': " + err);
      }
    }
  }

  if (f.type == FieldType::kEnum && !has_values && !values_without_brackets &&
      !ParseContext::misspelled(*all, kFieldOptions, "values")) {
    ctx.error(f.loc, "missing required key 'values' in field '" + f.name + "'");
  }
  if (f.type == FieldType::kEnum && f.values.empty()) keep = false;
  if (f.type == FieldType::kRelation && !has_target) {
    if (!ParseContext::misspelled(*all, kFieldOptions, "to")) {
      ctx.error(f.loc, "missing required key 'to' in field '" + f.name + "'");
    }
    keep = false;
  }
  if (f.min && f.max && *f.min > *f.max && max_entry != nullptr) {
    ctx.error(ParseContext::value_loc(*max_entry), "min (" + format_number(*f.min) + ") is greater than max (" +
                                                       format_number(*f.max) + ") in field '" + f.name + "'");
  }
  if (f.on_delete == OnDelete::kSetNull && f.required && on_delete_entry != nullptr) {
    ctx.error(ParseContext::value_loc(*on_delete_entry),
              "on_delete: set_null needs an optional field, but field '" + f.name + "' is required");
  }
  if (default_entry != nullptr && keep) f.default_value = parse_default(ctx, *default_entry, f);
  if (!keep) return std::nullopt;
  return f;
}

bool is_valid_identifier(std::string_view name) {
  if (name.empty() || name.size() > 63 || name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace slipway::model
