#include "storage/system/secrets.h"

#include <sodium.h>

namespace slipway::storage {

Result<sql::CursorKey> load_cursor_key(Connection& conn) {
  const sql::CursorKey fresh = sql::new_cursor_key();
  std::string hex(fresh.size() * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), fresh.data(), fresh.size());
  hex.pop_back();
  {
    auto ins = conn.prepare_uncached("INSERT INTO _slipway_secrets (name, value) VALUES ('cursor_key', ?1) ON CONFLICT DO NOTHING");
    if (!ins) return std::move(ins).error();
    (*ins)->bind(1, Value(hex));
    if (auto st = (*ins)->step(); !st) return std::move(st).error();
  }
  auto sel = conn.prepare_uncached("SELECT value FROM _slipway_secrets WHERE name = 'cursor_key'");
  if (!sel) return std::move(sel).error();
  auto row = (*sel)->step();
  if (!row) return std::move(row).error();
  sql::CursorKey key{};
  const std::string_view stored = *row ? (*sel)->column_text(0) : std::string_view();
  std::size_t n = 0;
  if (stored.size() != key.size() * 2 ||
      sodium_hex2bin(key.data(), key.size(), stored.data(), stored.size(), nullptr, &n, nullptr) != 0 || n != key.size())
    return Problem::make(ProblemCode::kInternal, "The database's cursor key is damaged.", "bad _slipway_secrets.cursor_key");
  return key;
}

}  // namespace slipway::storage
