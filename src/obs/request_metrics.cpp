#include "obs/request_metrics.h"

#include <atomic>
#include <charconv>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

namespace slipway::obs {
namespace {

constexpr std::string_view kRequests = "slipway_http_requests_total";
constexpr std::string_view kRequestsHelp = "HTTP responses by route template, method and status";
constexpr std::string_view kDuration = "slipway_http_request_duration_seconds";
constexpr std::string_view kDurationHelp = "HTTP request latency (first byte read to response written) by route";

std::atomic<std::uint64_t> g_next_instance{1};

struct KeyView {
  std::string_view route;
  std::string_view method;
  int status;
};

struct Key {
  std::string route;
  std::string method;
  int status;
};

struct KeyHash {
  using is_transparent = void;
  std::size_t operator()(const KeyView& k) const {
    const std::size_t h = std::hash<std::string_view>{}(k.route);
    return h ^ (std::hash<std::string_view>{}(k.method) * 31) ^ (static_cast<std::size_t>(k.status) * 0x9e3779b97f4a7c15ULL);
  }
  std::size_t operator()(const Key& k) const { return (*this)(KeyView{k.route, k.method, k.status}); }
};

struct KeyEq {
  using is_transparent = void;
  static KeyView view(const Key& k) { return {k.route, k.method, k.status}; }
  static KeyView view(const KeyView& k) { return k; }
  template <class A, class B>
  bool operator()(const A& a, const B& b) const {
    const KeyView x = view(a), y = view(b);
    return x.status == y.status && x.route == y.route && x.method == y.method;
  }
};

}  // namespace

struct RequestMetrics::Handles {
  Counter requests;
  Histogram duration;
};


RequestMetrics::RequestMetrics(Metrics& metrics)
    : metrics_(metrics), instance_(g_next_instance.fetch_add(1, std::memory_order_relaxed)),
      in_flight_(metrics.gauge("slipway_http_in_flight_requests", "HTTP requests being handled right now")) {}

RequestMetrics::Handles& RequestMetrics::handles(std::string_view route, std::string_view method, int status) {
  // The cache owns its Handles (pointers stay valid across rehashing); a thread's cache is reset when it starts
  // serving another RequestMetrics instance (only tests have more than one).
  struct Cache {
    std::uint64_t instance = 0;
    std::unordered_map<Key, std::unique_ptr<Handles>, KeyHash, KeyEq> map;
  };
  thread_local Cache cache;
  if (cache.instance != instance_) {
    cache.map.clear();
    cache.instance = instance_;
  }
  if (auto it = cache.map.find(KeyView{route, method, status}); it != cache.map.end()) return *it->second;
  char digits[12];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, status);
  const std::string_view status_text(digits, static_cast<std::size_t>(end - digits));
  auto h = std::make_unique<Handles>();
  h->requests = metrics_.counter(kRequests, kRequestsHelp, {{"route", route}, {"method", method}, {"status", status_text}});
  h->duration = metrics_.histogram(kDuration, kDurationHelp, {{"route", route}});
  Handles& ref = *h;
  cache.map.emplace(Key{std::string(route), std::string(method), status}, std::move(h));
  return ref;
}

void RequestMetrics::record(std::string_view route, std::string_view method, int status, double seconds) {
  Handles& h = handles(route, method, status);
  h.requests.inc();
  h.duration.observe(seconds);
}

}  // namespace slipway::obs
