// Writes records as JSON straight from storage::Record (no DOM). Hidden fields never appear; a projection
// (?fields=) keeps only the listed names; expanded relations go under "expand".
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/concept/model.h"
#include "core/json_writer.h"
#include "http/request.h"
#include "storage/storage.h"

namespace slipway::api {

struct Projection {
  std::vector<std::string> fields;  // empty: everything visible
  bool includes(std::string_view name) const;
};

// Members written into a record's object after its fields (e.g. an admin listing's roles); may be empty.
using RecordExtra = std::function<void(JsonWriter& w, const storage::Record& r)>;
void write_record(JsonWriter& w, const storage::Record& r, const model::Collection& c, const model::Concept& concept_file,
                  const Projection& projection, const RecordExtra& extra = {});
// The strong ETag of a record representation: "<version>" or, with expanded relations, "<version>-<hash>" so a
// change in an embedded record changes the tag. If-Match compares the version part only.
std::string record_etag(const storage::Record& r);
// The If-Match condition of a request (every If-Match line, RFC 9110 §13.1.1): nullopt without one or for `*`;
// else the versions its strong entity-tags name (`"3"`, `"3-..."`, a list). Weak (W/) and malformed tags name none:
// they can never match strongly, so such a header fails on any existing record (412), never a 400.
std::optional<storage::IfMatch> if_match_of(const http::Request& request);
// True when an If-None-Match header matches the tag (`*`, a list, weak comparison).
bool if_none_match(std::string_view header, std::string_view etag);

}  // namespace slipway::api
