// The `detail` of a record's audit entry in a collection with `audit: true`: the record before and after the
// change, as JSON, with hidden and sensitive fields redacted (`"[redacted]"`: the log shows that such a field
// changed, never its value).
// Thread safety: a pure function.
#pragma once

#include <string>

#include "core/concept/model.h"
#include "storage/storage.h"

namespace slipway::storage {

// {"before": {...} | null, "after": {...} | null}
std::string record_change_json(const model::Collection& c, const Record* before, const Record* after);

}  // namespace slipway::storage
