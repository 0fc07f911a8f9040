#include "core/concept/model.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <utility>

#include "core/utf8.h"

namespace slipway::model {
namespace {

constexpr std::array<std::pair<FieldType, const char*>, 10> kTypeNames = {{
    {FieldType::kText, "text"},
    {FieldType::kInt, "int"},
    {FieldType::kFloat, "float"},
    {FieldType::kBool, "bool"},
    {FieldType::kDatetime, "datetime"},
    {FieldType::kEmail, "email"},
    {FieldType::kUrl, "url"},
    {FieldType::kEnum, "enum"},
    {FieldType::kJson, "json"},
    {FieldType::kRelation, "relation"},
}};

// Patterns come from the concept file (trusted, but written by hand): a small memory budget keeps a pathological
// pattern from taking megabytes per compiled program; RE2 guarantees linear-time matching regardless.
constexpr std::int64_t kPatternMaxMem = 1 << 20;

class Re2Pattern final : public Pattern {
 public:
  Re2Pattern(std::string source, std::unique_ptr<RE2> re) : source_(std::move(source)), re_(std::move(re)) {}
  const std::string& source() const override { return source_; }
  bool matches(std::string_view text) const override { return RE2::FullMatch(text, *re_); }

 private:
  std::string source_;
  std::unique_ptr<RE2> re_;
};

}  // namespace

const char* field_type_name(FieldType t) {
  for (const auto& [type, name] : kTypeNames) {
    if (type == t) return name;
  }
  return "?";
}

std::optional<FieldType> parse_field_type(std::string_view name) {
  for (const auto& [type, n] : kTypeNames) {
    if (name == n) return type;
  }
  return std::nullopt;
}

const char* on_delete_name(OnDelete d) {
  switch (d) {
    case OnDelete::kRestrict:
      return "restrict";
    case OnDelete::kCascade:
      return "cascade";
    case OnDelete::kSetNull:
      return "set_null";
  }
  return "?";
}

std::shared_ptr<const Pattern> compile_pattern(const std::string& source, std::string& error) {
  RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(kPatternMaxMem);
  auto re = std::make_unique<RE2>(source, options);
  if (!re->ok()) {
    error = re->error();
    return nullptr;
  }
  return std::make_shared<Re2Pattern>(source, std::move(re));
}

const Field* Collection::find_field(std::string_view name) const {
  for (const Field& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

int Collection::field_index(std::string_view name) const {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

bool is_system_field(std::string_view name) {
  for (const char* s : kSystemFields) {
    if (name == s) return true;
  }
  return false;
}

RateLimitSettings RateLimitSettings::defaults() {
  // Sized so a person never meets them (a page load is a few dozen reads) while a script hammering one route is
  // slowed at once; `auth` and `login` are stricter because each of their requests costs a password hash or writes
  // a session. Probes and scrapes (`health`) are not limited. docs/security.md#rate-limits has the reasons.
  RateLimitSettings s;
  auto set = [&](std::string_view cls, RateLimit address, RateLimit user, RateLimit api_key) {
    s.classes[class_index(cls)] = RateClassLimits{address, user, api_key};
  };
  set("login", {20, 60}, {20, 60}, {20, 60});
  set("auth", {60, 60}, {60, 60}, {60, 60});
  set("read", {300, 10}, {600, 10}, {3000, 10});
  set("write", {60, 10}, {120, 10}, {1200, 10});
  set("admin", {300, 10}, {300, 10}, {300, 10});
  set("health", {}, {}, {});
  return s;
}

std::size_t RateLimitSettings::class_index(std::string_view rate_class) {
  for (std::size_t i = 0; i < kRateClassCount; ++i)
    if (kRateClasses[i] == rate_class) return i;
  return kRateClassCount;
}

const Collection* Concept::find_collection(std::string_view name) const {
  for (const Collection& c : collections) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

const Collection* Concept::users() const {
  if (!auth) return nullptr;
  for (const Collection& c : collections) {
    if (c.auth) return &c;
  }
  return nullptr;
}

bool AuthSettings::has_role(std::string_view r) const {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

const char* constraint_violation(const Field& f, const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) {
    if (f.type == FieldType::kEnum)
      return std::find(f.values.begin(), f.values.end(), *s) == f.values.end() ? "enum" : nullptr;
    if (f.type != FieldType::kText && f.type != FieldType::kEmail && f.type != FieldType::kUrl) return nullptr;
    const double len = static_cast<double>(utf8_code_points(*s));
    if (f.min && len < *f.min) return "min";
    if (f.max && len > *f.max) return "max";
    if (f.pattern && !f.pattern->matches(*s)) return "pattern";
    return nullptr;
  }
  double n = 0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) n = static_cast<double>(*i);
  else if (const auto* d = std::get_if<double>(&v)) n = *d;
  else return nullptr;
  if (f.type != FieldType::kInt && f.type != FieldType::kFloat) return nullptr;
  if (f.min && n < *f.min) return "min";
  if (f.max && n > *f.max) return "max";
  return nullptr;
}

}  // namespace slipway::model
