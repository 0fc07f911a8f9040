#include "outbound/circuit_breaker.h"

#include <cstddef>
#include <stdexcept>
#include <utility>

#include "core/clock.h"

namespace slipway::outbound {

std::string_view circuit_state_name(CircuitState state) {
  switch (state) {
    case CircuitState::kClosed: return "closed";
    case CircuitState::kHalfOpen: return "half_open";
    case CircuitState::kOpen: return "open";
  }
  return "closed";
}

CircuitBreaker::CircuitBreaker(CircuitBreakerOptions options, const Clock& clock, TransitionCallback on_transition)
    : options_(options), clock_(clock), on_transition_(std::move(on_transition)) {
  if (options_.failure_threshold < 1) throw std::invalid_argument("circuit breaker: failure_threshold must be >= 1");
  if (options_.window_ms <= 0) throw std::invalid_argument("circuit breaker: window_ms must be > 0");
  if (options_.open_ms <= 0) throw std::invalid_argument("circuit breaker: open_ms must be > 0");
}

bool CircuitBreaker::allow() {
  std::lock_guard lock(mu_);
  switch (state_) {
    case CircuitState::kClosed:
      return true;
    case CircuitState::kOpen: {
      const std::int64_t now = clock_.now_ms();
      if (now - opened_at_ms_ < options_.open_ms) return false;
      probe_at_ms_ = now;
      move_to(CircuitState::kHalfOpen);
      return true;  // the probe (invariant 2)
    }
    case CircuitState::kHalfOpen: {
      // Invariant 3: one probe at a time, unless the one out is presumed lost.
      const std::int64_t now = clock_.now_ms();
      if (now - probe_at_ms_ < options_.open_ms) return false;
      probe_at_ms_ = now;
      return true;
    }
  }
  return false;
}

void CircuitBreaker::record_success() {
  std::lock_guard lock(mu_);
  if (state_ == CircuitState::kHalfOpen) {
    failures_.clear();
    move_to(CircuitState::kClosed);
  }
  // kClosed: a success does not forgive earlier failures (invariant 1); kOpen: a late result, ignored (invariant 2).
}

void CircuitBreaker::record_failure() {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_ms();
  switch (state_) {
    case CircuitState::kClosed: {
      failures_.push_back(now);
      while (!failures_.empty() && now - failures_.front() >= options_.window_ms) failures_.pop_front();
      // Only the newest failure_threshold times can matter, so the deque never grows past it.
      while (failures_.size() > static_cast<std::size_t>(options_.failure_threshold)) failures_.pop_front();
      if (failures_.size() == static_cast<std::size_t>(options_.failure_threshold)) {
        failures_.clear();
        opened_at_ms_ = now;
        move_to(CircuitState::kOpen);
      }
      break;
    }
    case CircuitState::kHalfOpen:
      opened_at_ms_ = now;
      move_to(CircuitState::kOpen);
      break;
    case CircuitState::kOpen:
      break;  // a late result of a call admitted before it opened (invariant 2)
  }
}

CircuitState CircuitBreaker::state() const {
  std::lock_guard lock(mu_);
  return state_;
}

std::int64_t CircuitBreaker::reopens_at_ms() const {
  std::lock_guard lock(mu_);
  return state_ == CircuitState::kOpen ? opened_at_ms_ + options_.open_ms : 0;
}

void CircuitBreaker::move_to(CircuitState to) {
  const CircuitState from = state_;
  state_ = to;
  if (on_transition_) on_transition_(from, to);  // under mu_: invariant 4
}

}  // namespace slipway::outbound
