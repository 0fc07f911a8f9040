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
// Parses RFC 3339 ("2026-11-24", "2026-11-24T14:41:50Z", "...T14:41:50.5+02:00") into epoch ms.
// Returns false on anything else (including out-of-range fields like month 13).
bool parse_rfc3339(std::string_view text, std::int64_t& epoch_ms);

}  // namespace slipway
