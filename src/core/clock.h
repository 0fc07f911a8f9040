// Clock: the one source of wall time, injectable so tests never sleep.
// Thread safety: implementations must be safe to call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace slipway {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual std::int64_t now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// Formats epoch milliseconds as RFC 3339 UTC with milliseconds: "2026-11-24T14:41:50.123Z".
std::string format_rfc3339_ms(std::int64_t epoch_ms);
// The instants slipway stores: 0001-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z (UTC). Everything
// format_rfc3339_ms writes for them has a four-digit year, so stored text sorts and compares as time does.
inline constexpr std::int64_t kMinEpochMs = -62135596800000;  // 0001-01-01T00:00:00.000Z
inline constexpr std::int64_t kMaxEpochMs = 253402300799999;  // 9999-12-31T23:59:59.999Z

// Parses RFC 3339 ("2026-11-24", "2026-11-24T14:41:50Z", "...T14:41:50.5+02:00") into epoch ms.
// Returns false on anything else: out-of-range fields like month 13, and instants whose UTC form lies outside
// [kMinEpochMs, kMaxEpochMs] (e.g. "0001-01-01T00:00:00+01:00" is year 0 in UTC).
bool parse_rfc3339(std::string_view text, std::int64_t& epoch_ms);

}  // namespace slipway
