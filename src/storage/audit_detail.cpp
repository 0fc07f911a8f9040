#include "storage/audit_detail.h"

#include "core/json_writer.h"

namespace slipway::storage {
namespace {

void write_state(JsonWriter& w, const model::Collection& c, const Record* r) {
  if (!r) {
    w.null();
    return;
  }
  w.begin_object();
  w.key("id").string(r->id);
  w.key("version").integer(r->version);
  for (std::size_t i = 0; i < c.fields.size() && i < r->values.size(); ++i) {
    const model::Field& f = c.fields[i];
    w.key(f.name);
    if (f.hidden || f.sensitive) w.string("[redacted]"); else w.value(r->values[i]);
  }
  w.end_object();
}

}  // namespace

std::string record_change_json(const model::Collection& c, const Record* before, const Record* after) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("before");
  write_state(w, c, before);
  w.key("after");
  write_state(w, c, after);
  w.end_object();
  return out;
}

}  // namespace slipway::storage
