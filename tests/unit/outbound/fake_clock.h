// A Clock the test moves by hand, so time-driven behaviour is tested without sleeping.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/clock.h"

namespace slipway::outbound::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::int64_t start_ms = 1'795'963'310'000) : now_(start_ms) {}  // 2026-11-29T14:41:50Z
  std::int64_t now_ms() const override { return now_.load(); }
  void advance(std::int64_t ms) { now_ += ms; }

 private:
  std::atomic<std::int64_t> now_;
};

}  // namespace slipway::outbound::testing
