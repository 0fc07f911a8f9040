// Secrets slipway keeps in its own database (`_slipway_secrets`, system version 1).
// Thread safety: on the connection of the caller (an engine opening its database).
#pragma once

#include "core/result.h"
#include "storage/driver.h"
#include "storage/sql/cursor.h"

namespace slipway::storage {

// The key that seals list cursors (sql/cursor.h): made by the first process that opens the database and kept in it,
// so cursors stay valid across restarts and instances, and a restored copy keeps its cursors. REQUIRES: a
// connection that may write.
Result<sql::CursorKey> load_cursor_key(Connection& conn);

}  // namespace slipway::storage
