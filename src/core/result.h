// Result<T>: a value or a Problem, shaped like std::expected (C++23) so it can be swapped for it later.
// Success holds only the T: no allocation beyond what T itself needs.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

#include "core/problem.h"

namespace slipway {

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}          // NOLINT: implicit by design
  Result(Problem problem) : v_(std::in_place_index<1>, std::move(problem)) {}  // NOLINT: implicit by design

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { assert(has_value()); return std::get<0>(v_); }
  const T& value() const& { assert(has_value()); return std::get<0>(v_); }
  T&& value() && { assert(has_value()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  Problem& error() & { assert(!has_value()); return std::get<1>(v_); }
  const Problem& error() const& { assert(!has_value()); return std::get<1>(v_); }
  Problem&& error() && { assert(!has_value()); return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Problem> v_;
};

// Result<void>: success is an empty optional-like state.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Problem problem) : p_(std::move(problem)), ok_(false) {}  // NOLINT: implicit by design

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Problem& error() const& { assert(!ok_); return p_; }
  Problem&& error() && { assert(!ok_); return std::move(p_); }

 private:
  Problem p_;
  bool ok_ = true;
};

using Status = Result<void>;

}  // namespace slipway
