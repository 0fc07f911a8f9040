// Metrics: a registry of counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4; `promtool check metrics` accepts the output).
//
// Updates are cheap from any thread: every series keeps kShards cache-line-padded slots; a thread is bound to one
// slot for its lifetime (round-robin), updates it with relaxed atomics, and render() merges the slots. So
// "counters are per thread and merged on scrape", and two event loops never write the same cache line.
// Series are created under the registry mutex (get-or-create by label values); callers keep the returned handle
// (a pointer-sized value, valid as long as the Metrics object) and update it without any lock.
//
// Registration errors (a bad name, a counter not ending in _total, a family re-registered with another type,
// help or label names) throw std::invalid_argument: they are programming errors found at start-up.
// Thread safety: every method may be called from any thread. Callback gauges run under the registry mutex during
// render(), so a callback must not call back into this registry.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway::obs {

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

namespace detail {
inline constexpr std::size_t kShards = 16;
// The slot the calling thread writes (assigned round-robin on first use).
std::size_t shard_index();

struct alignas(64) CounterSlot {
  std::atomic<std::uint64_t> value{0};
};
struct alignas(64) GaugeSlot {
  std::atomic<double> value{0};
};
struct CounterSeries {
  std::array<CounterSlot, kShards> slots;
  std::uint64_t total() const;
};
struct GaugeSeries {
  std::array<GaugeSlot, kShards> slots;
  double total() const;
};
struct alignas(64) CacheLine {
  std::atomic<std::uint64_t> v[8];
};
// Bucket counts (not cumulative; render() accumulates), one run of cache lines per shard.
struct HistogramSeries {
  explicit HistogramSeries(const std::vector<double>& b);
  const std::vector<double>& bounds;  // the family's: strictly increasing and finite; +Inf is implicit
  std::size_t lines_per_shard;
  std::unique_ptr<CacheLine[]> counts;
  std::array<GaugeSlot, kShards> sums;
  std::atomic<std::uint64_t>& count(std::size_t shard, std::size_t bucket) {
    return counts[shard * lines_per_shard + bucket / 8].v[bucket % 8];
  }
};
}  // namespace detail

class Counter {
 public:
  Counter() = default;
  void inc(std::uint64_t n = 1) {
    if (s_) s_->slots[detail::shard_index()].value.fetch_add(n, std::memory_order_relaxed);
  }
  std::uint64_t value() const { return s_ ? s_->total() : 0; }  // merged over shards (what a scrape shows)

 private:
  friend class Metrics;
  explicit Counter(detail::CounterSeries* s) : s_(s) {}
  detail::CounterSeries* s_ = nullptr;
};

class Gauge {
 public:
  Gauge() = default;
  void add(double d);
  void sub(double d) { add(-d); }
  void inc() { add(1); }
  void dec() { add(-1); }
  // Replaces the value. Meant for gauges with one writer: a set() racing an add() on another thread may lose it.
  void set(double v);
  double value() const { return s_ ? s_->total() : 0; }

 private:
  friend class Metrics;
  explicit Gauge(detail::GaugeSeries* s) : s_(s) {}
  detail::GaugeSeries* s_ = nullptr;
};

class Histogram {
 public:
  Histogram() = default;
  void observe(double v);
  std::uint64_t count() const;
  double sum() const;

 private:
  friend class Metrics;
  explicit Histogram(detail::HistogramSeries* s) : s_(s) {}
  detail::HistogramSeries* s_ = nullptr;
};

// Default latency buckets (seconds): 0.5 ms … 10 s.
const std::vector<double>& default_latency_buckets();

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // Get-or-create the series with these label values (label names and their order fix the family's shape).
  Counter counter(std::string_view name, std::string_view help, Labels labels = {});
  Gauge gauge(std::string_view name, std::string_view help, Labels labels = {});
  Histogram histogram(std::string_view name, std::string_view help, Labels labels,
                      const std::vector<double>& buckets = default_latency_buckets());
  // A gauge computed at scrape time. Registering the same series again replaces the callback.
  void gauge_callback(std::string_view name, std::string_view help, Labels labels, std::function<double()> fn);
  // slipway_build_info{version="..."} 1
  void build_info(std::string_view version);

  // The text exposition of every family, sorted by name.
  std::string render() const;

 private:
  struct Family;
  Family& family(std::string_view name, std::string_view help, int type, Labels labels,
                 const std::vector<double>* buckets);  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>, std::less<>> families_;  // GUARDED_BY(mu_)
};

}  // namespace slipway::obs
