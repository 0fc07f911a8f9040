// UUIDv7 (RFC 9562): 48-bit Unix ms timestamp + randomness, monotonic within a process so ids created in the
// same millisecond still sort in creation order. Thread safety: generate() is safe from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace slipway {

class Clock;

class Uuid7Generator {
 public:
  explicit Uuid7Generator(const Clock& clock) : clock_(clock) {}
  // Canonical lower-case 36-char form.
  std::string generate();

 private:
  const Clock& clock_;
};

// True for the canonical 8-4-4-4-12 lower/upper hex form of any UUID.
bool is_uuid(std::string_view text);

}  // namespace slipway
