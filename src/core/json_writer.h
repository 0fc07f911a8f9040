// JsonWriter: appends JSON text straight into a string (no DOM), for records, problems, snapshots and cursors.
// The caller is responsible for structure (commas are tracked per nesting level).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/value.h"

namespace slipway {

// Appends `s` as a JSON string literal (with quotes). Invalid UTF-8 becomes U+FFFD; control chars are escaped.
void append_json_string(std::string& out, std::string_view s);
// Appends a double in the shortest round-trip form; non-finite values become null.
void append_json_double(std::string& out, double d);
// Appends a Value: Null → null, bool, int, double, string, JsonText verbatim.
void append_json_value(std::string& out, const Value& v);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object() { sep(); out_.push_back('{'); first_.push_back(true); return *this; }
  JsonWriter& end_object() { out_.push_back('}'); first_.pop_back(); return *this; }
  JsonWriter& begin_array() { sep(); out_.push_back('['); first_.push_back(true); return *this; }
  JsonWriter& end_array() { out_.push_back(']'); first_.pop_back(); return *this; }
  // An object key; the next value call writes its value.
  JsonWriter& key(std::string_view k) { sep(); append_json_string(out_, k); out_.push_back(':'); after_key_ = true; return *this; }
  JsonWriter& string(std::string_view s) { sep(); append_json_string(out_, s); return *this; }
  JsonWriter& integer(std::int64_t i) { sep(); out_.append(std::to_string(i)); return *this; }
  JsonWriter& number(double d) { sep(); append_json_double(out_, d); return *this; }
  JsonWriter& boolean(bool b) { sep(); out_.append(b ? "true" : "false"); return *this; }
  JsonWriter& null() { sep(); out_.append("null"); return *this; }
  JsonWriter& value(const Value& v) { sep(); append_json_value(out_, v); return *this; }
  // Pre-serialised JSON.
  JsonWriter& raw(std::string_view json) { sep(); out_.append(json); return *this; }

 private:
  void sep() {
    if (after_key_) { after_key_ = false; return; }
    if (first_.empty()) return;
    if (first_.back()) first_.back() = false; else out_.push_back(',');
  }
  std::string& out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace slipway
