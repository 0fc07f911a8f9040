// The audit chain (`_slipway_audit`, system version 2): appended on the writer's connection inside the
// transaction of the change it describes, verified by reading every row in order.
// Thread safety: append() runs on the writer thread only (inside its transaction); verify() on any read connection.
#pragma once

#include <span>
#include <string_view>

#include "core/result.h"
#include "storage/audit.h"
#include "storage/driver.h"
#include "storage/storage.h"

namespace slipway::storage {


// Appends `entries` after the newest row. The head is read from the table each time (not kept in memory), so an
// op whose savepoint rolls back takes its entries with it and the next op links to what is really there.
Status append_audit_rows(Connection& conn, std::span<const AuditEntry> entries, std::string_view at);

// Reads the whole chain in sequence order and reports the first bad entry, if any.
Result<AuditReport> verify_audit_chain(Connection& conn);

}  // namespace slipway::storage
