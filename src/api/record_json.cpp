#include "api/record_json.h"

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

bool parse_if_match(std::string_view h, std::optional<std::int64_t>& version) {
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  if (h == "*") {
    version.reset();
    return true;
  }
  if (h.size() < 3 || h.front() != '"' || h.back() != '"') return false;
  h = h.substr(1, h.size() - 2);
  const auto dash = h.find('-');
  std::string_view num = h.substr(0, dash);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
  if (ec != std::errc() || ptr != num.data() + num.size() || v < 1) return false;
  version = v;
  return true;
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
