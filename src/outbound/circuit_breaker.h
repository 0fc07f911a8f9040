// CircuitBreaker: whether slipway may call one destination ("https://idp.example:443", "smtp://mail:587") now, so a
// peer that is down costs each caller a fast "unavailable" instead of a full timeout on a worker thread, and the
// peer gets time to recover instead of a retry storm.
//
//              failure_threshold failures
//              within window_ms
//   kClosed ────────────────────────────▶ kOpen ◀──────────────────┐
//     ▲                                     │                      │ probe failed
//     │                                     │ open_ms passed:      │
//     │ probe succeeded                     │ allow() admits ONE   │
//     │                                     ▼ probe                │
//     └──────────────────────────────── kHalfOpen ─────────────────┘
//
// Invariants:
//  1. kClosed: allow() admits every call. A failure is counted with its time; failures older than window_ms are
//     forgotten; the failure_threshold-th one still inside the window opens the circuit. A success does not wipe
//     the count: the rule is "N failures in a window", so a peer failing every other call still opens it.
//  2. kOpen: allow() refuses every call until open_ms have passed since it opened; the first allow() after that
//     moves to kHalfOpen and is admitted as the probe. Results reported while open are ignored (they come from
//     calls admitted before it opened and must not close it).
//  3. kHalfOpen: exactly one call is out (the probe); allow() refuses the rest. The first result reported decides:
//     success → kClosed with no failures counted, failure → kOpen for another open_ms. A probe whose result never
//     comes (its caller threw) is presumed lost after open_ms, and the next allow() admits a new probe, so the
//     circuit cannot stay half-open forever.
//  4. Every state change calls on_transition exactly once, in the order the changes happened, while the breaker's
//     mutex is held: a metric gauge set there always ends at the current state. The callback must therefore not
//     call back into this breaker.
// Time comes from the injected Clock only (tests drive it; nothing here sleeps).
// Thread safety: every method may be called from any thread (one mutex; a call out costs far more than it).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string_view>

namespace slipway {
class Clock;
}

namespace slipway::outbound {

enum class CircuitState : std::uint8_t {
  kClosed = 0,    // the values are the slipway_outbound_circuit_state gauge's
  kHalfOpen = 1,
  kOpen = 2,
};

// "closed" | "half_open" | "open": the metric label and log value.
std::string_view circuit_state_name(CircuitState state);

struct CircuitBreakerOptions {
  // Failures within window_ms that open the circuit. 5 in 30 s: a lone timeout or a deploy's refused connection
  // does not cut a peer off, a peer that is really down is cut off within seconds under load. At least 1.
  int failure_threshold = 5;
  std::int64_t window_ms = 30'000;  // > 0
  // How long an open circuit refuses calls before letting one probe through: long enough for a restarting peer,
  // short enough that a recovered one is used again soon. > 0.
  std::int64_t open_ms = 30'000;
};

using TransitionCallback = std::function<void(CircuitState from, CircuitState to)>;

class CircuitBreaker {
 public:
  // Throws std::invalid_argument for options out of range (a programming error found at start-up).
  CircuitBreaker(CircuitBreakerOptions options, const Clock& clock, TransitionCallback on_transition = {});
  CircuitBreaker(const CircuitBreaker&) = delete;
  CircuitBreaker& operator=(const CircuitBreaker&) = delete;

  // May a call go out now? Every admitted call must report exactly one record_success() or record_failure().
  [[nodiscard]] bool allow();
  void record_success();
  void record_failure();

  CircuitState state() const;
  // When an open circuit lets its probe through (epoch ms); 0 unless open. For "retry after" messages.
  std::int64_t reopens_at_ms() const;

 private:
  void move_to(CircuitState to);  // REQUIRES: mu_ held

  const CircuitBreakerOptions options_;
  const Clock& clock_;
  const TransitionCallback on_transition_;

  mutable std::mutex mu_;
  CircuitState state_ = CircuitState::kClosed;  // GUARDED_BY(mu_)
  std::deque<std::int64_t> failures_;           // GUARDED_BY(mu_): times of the latest (≤ threshold) failures
  std::int64_t opened_at_ms_ = 0;               // GUARDED_BY(mu_): kOpen: when it opened
  std::int64_t probe_at_ms_ = 0;                // GUARDED_BY(mu_): kHalfOpen: when the probe was admitted
};

}  // namespace slipway::outbound
