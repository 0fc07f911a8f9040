// RequestMetrics: the RED metrics of the HTTP layer, recorded once per response by the session.
//   slipway_http_requests_total{route,method,status}   counter
//   slipway_http_request_duration_seconds{route}       histogram, 0.5 ms … 10 s
//   slipway_http_in_flight_requests                    gauge
// The hot path takes no lock: each thread caches the series handles it has used, keyed by (route, method,
// status); only a thread's first sight of a combination goes to the registry (under its mutex).
// Thread safety: all methods may be called from any thread. `metrics` must outlive this object.
#pragma once

#include <cstdint>
#include <string_view>

#include "obs/metrics.h"

namespace slipway::obs {

class RequestMetrics {
 public:
  explicit RequestMetrics(Metrics& metrics);
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // `route` is the route template ("/api/v1/{collection}", "unmatched"), never a raw path: label values must
  // stay few. `method` is the method name ("GET").
  void record(std::string_view route, std::string_view method, int status, double seconds);
  void inc_in_flight() { in_flight_.inc(); }
  void dec_in_flight() { in_flight_.dec(); }
  // The registry these metrics live in, for the HTTP layer's other series (TLS handshakes, certificate expiry).
  Metrics& registry() const { return metrics_; }

 private:
  struct Handles;
  Handles& handles(std::string_view route, std::string_view method, int status);

  Metrics& metrics_;
  const std::uint64_t instance_;  // tells thread-local caches of different instances apart (never reused)
  Gauge in_flight_;
};

}  // namespace slipway::obs
