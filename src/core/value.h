// Value: one field value as it travels between the JSON body, validation, the expression compiler and storage.
// Thread safety: a plain value type.
#pragma once

#include <cstdint>
#include <string>
#include <variant>

namespace slipway {

struct Null {
  bool operator==(const Null&) const = default;
};

// Raw JSON text of a `json` field, kept verbatim (already validated and re-serialised compactly).
struct JsonText {
  std::string text;
  bool operator==(const JsonText&) const = default;
};

// Datetimes are carried as canonical RFC 3339 UTC text with milliseconds ("2026-11-24T14:41:50.123Z"),
// which sorts lexicographically in time order. Text, email, url, enum and relation ids are strings.
using Value = std::variant<Null, bool, std::int64_t, double, std::string, JsonText>;

inline bool is_null(const Value& v) { return std::holds_alternative<Null>(v); }

}  // namespace slipway
