#include "api/record_json.h"

#include "core/ascii.h"

#include <charconv>

#include "core/fnv.h"

namespace slipway::api {

bool Projection::includes(std::string_view name) const {
  if (fields.empty()) return true;
  for (const auto& f : fields)
    if (f == name) return true;
  return false;
}

void write_record(JsonWriter& w, const storage::Record& r, const model::Collection& c, const model::Concept& concept_file,
                  const Projection& p, const RecordExtra& extra) {
  w.begin_object();
  if (p.includes("id")) w.key("id").string(r.id);
  if (p.includes("created")) w.key("created").string(r.created);
  if (p.includes("updated")) w.key("updated").string(r.updated);
  if (p.includes("version")) w.key("version").integer(r.version);
  for (std::size_t i = 0; i < c.fields.size(); ++i) {
    const auto& f = c.fields[i];
    if (f.hidden || !p.includes(f.name)) continue;
    w.key(f.name).value(r.values[i]);
  }
  if (!r.expand.empty()) {
    w.key("expand").begin_object();
    static const Projection kAll;
    for (const auto& [name, rec] : r.expand) {
      const int idx = c.field_index(name);
      const model::Collection* target = idx >= 0 ? concept_file.find_collection(c.fields[static_cast<std::size_t>(idx)].to) : nullptr;
      if (!target) continue;
      w.key(name);
      write_record(w, *rec, *target, concept_file, kAll);
    }
    w.end_object();
  }
  if (extra) extra(w, r);
  w.end_object();
}

std::string record_etag(const storage::Record& r) {
  std::string tag = "\"" + std::to_string(r.version);
  if (!r.expand.empty()) {
    std::uint32_t h = kFnv1aBasis;
    for (const auto& [name, rec] : r.expand) h = fnv1a(std::to_string(rec->version), fnv1a(rec->id, fnv1a(name, h)));
    char buf[16];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, h, 16);
    tag += "-" + std::string(buf, end);
  }
  return tag + "\"";
}

std::optional<storage::IfMatch> if_match_of(const http::Request& request) {
  storage::IfMatch condition;
  bool present = false;
  bool star = false;
  std::size_t tags = 0;
  for (const auto& [name, value] : request.headers) {
    if (!ascii_iequals(name, "If-Match")) continue;
    present = true;
    std::size_t pos = 0;
    while (pos <= value.size()) {
      std::size_t comma = value.find(',', pos);
      if (comma == std::string_view::npos) comma = value.size();
      std::string_view t = value.substr(pos, comma - pos);
      pos = comma + 1;
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (t.empty()) continue;
      ++tags;
      if (t == "*") {
        star = true;
        continue;
      }
      if (t.size() < 3 || t.front() != '"' || t.back() != '"') continue;  // weak or malformed: never matches
      t = t.substr(1, t.size() - 2);
      const std::string_view num = t.substr(0, t.find('-'));
      std::int64_t v = 0;
      auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
      if (ec == std::errc() && ptr == num.data() + num.size() && v >= 1) condition.versions.push_back(v);
    }
  }
  if (!present) return std::nullopt;
  if (star && tags == 1) return std::nullopt;  // `*` alone: any current representation
  return condition;  // `*` inside a list is not valid syntax: it matches nothing
}

bool if_none_match(std::string_view header, std::string_view etag) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view t = header.substr(pos, comma - pos);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.starts_with("W/")) t.remove_prefix(2);
    if (t == "*" || t == etag) return true;
    pos = comma + 1;
  }
  return false;
}

}  // namespace slipway::api
