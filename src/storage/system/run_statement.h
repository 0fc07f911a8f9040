// One statement with its parameters, stepped once: the shape of most writes to slipway's own tables.
// Thread safety: on the caller's connection.
#pragma once

#include <initializer_list>
#include <string>

#include "core/result.h"
#include "core/value.h"
#include "storage/driver.h"

namespace slipway::storage {

inline Status run_statement(Connection& conn, const std::string& sql, std::initializer_list<Value> params) {
  auto lease = conn.prepare(sql);
  if (!lease) return std::move(lease).error();
  int i = 0;
  for (const Value& v : params) (*lease)->bind(++i, v);
  if (auto st = (*lease)->step(); !st) return std::move(st).error();
  return {};
}

}  // namespace slipway::storage
