// Rows of the limit server's statements (binary results) written as slipway writes records: JSON straight from the
// PGresult, RFC 3339 times with milliseconds, a next_cursor of the same shape. Pure functions.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "statements.h"

namespace pg_limit {

constexpr std::int64_t kPgEpochUnixMs = 946'684'800'000;  // 2000-01-01T00:00:00Z: where PostgreSQL counts from

inline void append_escaped(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  out.push_back('"');
}

inline void append_digits(std::string& out, std::int64_t v, int width) {
  char buf[20];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0 || n < width);
  while (n > 0) out.push_back(buf[--n]);
}

inline std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// RFC 3339 UTC with milliseconds, as slipway writes `created` (docs/formats.md), from Unix milliseconds.
inline void append_timestamp(std::string& out, std::int64_t unix_ms) {
  const std::int64_t days = floor_div(unix_ms, 86'400'000);
  std::int64_t ms_of_day = unix_ms - days * 86'400'000;
  // civil_from_days (H. Hinnant): days since 1970-01-01 → year, month, day.
  const std::int64_t z = days + 719'468;
  const std::int64_t era = floor_div(z, 146'097);
  const std::int64_t doe = z - era * 146'097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2);
  out.push_back('"');
  append_digits(out, y, 4);
  out.push_back('-');
  append_digits(out, m, 2);
  out.push_back('-');
  append_digits(out, d, 2);
  out.push_back('T');
  append_digits(out, ms_of_day / 3'600'000, 2);
  ms_of_day %= 3'600'000;
  out.push_back(':');
  append_digits(out, ms_of_day / 60'000, 2);
  ms_of_day %= 60'000;
  out.push_back(':');
  append_digits(out, ms_of_day / 1000, 2);
  out.push_back('.');
  append_digits(out, ms_of_day % 1000, 3);
  out.append("Z\"");
}

inline std::int64_t read_be64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<std::int64_t>(v);
}

inline void write_be64(char* p, std::int64_t value) {
  auto v = static_cast<std::uint64_t>(value);
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

// A binary timestamptz (microseconds since 2000-01-01 UTC) as Unix milliseconds.
inline std::int64_t unix_ms_of(const PGresult* r, int row, int col) {
  return floor_div(read_be64(PQgetvalue(r, row, col)), 1000) + kPgEpochUnixMs;
}

// One row of PG_LIMIT_POST_COLUMNS (binary format) as slipway's record JSON.
inline void row_json(std::string& out, const PGresult* r, int row) {
  static constexpr std::array<std::string_view, 11> kKeys{
      "{\"id\":",    ",\"created\":",   ",\"updated\":", ",\"version\":", ",\"title\":", ",\"body\":",
      ",\"views\":", ",\"published\":", ",\"author\":",  ",\"tags\":",    ",\"status\":"};
  for (int col = 0; col < static_cast<int>(kKeys.size()); ++col) {
    out.append(kKeys[static_cast<std::size_t>(col)]);
    if (PQgetisnull(r, row, col)) {
      out.append("null");
      continue;
    }
    const char* v = PQgetvalue(r, row, col);
    const auto len = static_cast<std::size_t>(PQgetlength(r, row, col));
    switch (col) {
      case kCreated:
      case kUpdated:
        append_timestamp(out, unix_ms_of(r, row, col));
        break;
      case kVersion:
      case kViews:
        out.append(std::to_string(read_be64(v)));
        break;
      case kPublished:
        out.append(v[0] ? "true" : "false");
        break;
      case kTags:
        out.append(v + 1, len - 1);
        break;  // jsonb binary: a version byte (1), then the JSON text
      default:
        append_escaped(out, {v, len});
    }
  }
  out.push_back('}');
}

// next_cursor's stand-in: base64url of [FNV-1a("-created"), created, id], the JSON slipway seals (docs/formats.md).
// Not sealed (no nonce, no MAC): a little cheaper and shorter than slipway's, as a limit should be.
inline void append_cursor(std::string& out, const PGresult* r, int row) {
  static constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string json = "[111223912,";  // FNV-1a 32 of "-created", the sort signature
  append_timestamp(json, unix_ms_of(r, row, kCreated));
  json.push_back(',');
  append_escaped(json, {PQgetvalue(r, row, kId), static_cast<std::size_t>(PQgetlength(r, row, kId))});
  json.push_back(']');
  out.push_back('"');
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char ch : json) {
    acc = (acc << 8) | static_cast<unsigned char>(ch);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kB64[(acc >> bits) & 63]);
    }
  }
  if (bits > 0) out.push_back(kB64[(acc << (6 - bits)) & 63]);
  out.push_back('"');
}

}  // namespace pg_limit
