#include "obs/metrics.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "obs/request_metrics.h"
#include "support/temp_dir.h"

namespace slipway::obs {
namespace {

bool promtool_available() { return std::system("command -v promtool > /dev/null 2>&1") == 0; }

// Runs `promtool check metrics` on the text; returns its exit status and output.
int promtool_check(const std::string& text, std::string& output) {
  testing::TempDir dir;
  const std::string file = dir.file("metrics.txt");
  std::ofstream(file) << text;
  FILE* p = ::popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) output += buf;
  return ::pclose(p);
}

Metrics& populated(Metrics& m) {
  m.build_info("1.2.3");
  m.counter("slipway_test_events_total", "Events with \\ and\nnewline in help", {{"kind", "a\"quoted\\value\nx"}}).inc(3);
  m.counter("slipway_test_plain_total", "A counter without labels").inc();
  m.gauge("slipway_test_queue_depth", "Queue depth", {{"queue", "writer"}}).set(7);
  m.gauge_callback("slipway_test_backup_age_seconds", "Seconds since the last backup", {}, [] { return 12.5; });
  auto h = m.histogram("slipway_test_latency_seconds", "Latency", {{"route", "/api/v1/{collection}"}});
  h.observe(0.0003);
  h.observe(0.0005);  // on a bound: counts in that bucket
  h.observe(0.2);
  h.observe(100);
  RequestMetrics rm(m);
  rm.record("/api/v1/{collection}", "GET", 200, 0.004);
  rm.record("unmatched", "OTHER", 404, 0.0001);
  return m;
}

TEST(Metrics, RenderPassesPromtool) {
  if (!promtool_available()) GTEST_SKIP() << "promtool not installed";
  Metrics m;
  const std::string text = populated(m).render();
  std::string output;
  EXPECT_EQ(promtool_check(text, output), 0) << output << "\n" << text;
}

TEST(Metrics, HistogramBucketsAreCumulativeWithSumAndCount) {
  Metrics m;
  auto h = m.histogram("slipway_x_seconds", "X", {}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.1);
  h.observe(0.5);
  h.observe(5);
  const std::string text = m.render();
  EXPECT_NE(text.find("slipway_x_seconds_bucket{le=\"0.1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("slipway_x_seconds_bucket{le=\"1\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("slipway_x_seconds_bucket{le=\"+Inf\"} 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("slipway_x_seconds_count 4\n"), std::string::npos) << text;
  EXPECT_NE(text.find("slipway_x_seconds_sum 5.65\n"), std::string::npos) << text;
  EXPECT_EQ(h.count(), 4u);
}

TEST(Metrics, LabelValuesAreEscaped) {
  Metrics m;
  m.counter("slipway_e_total", "E", {{"v", "a\"b\\c\nd"}}).inc();
  EXPECT_NE(m.render().find("slipway_e_total{v=\"a\\\"b\\\\c\\nd\"} 1\n"), std::string::npos) << m.render();
}

TEST(Metrics, SameLabelsGiveTheSameSeries) {
  Metrics m;
  m.counter("slipway_s_total", "S", {{"a", "1"}}).inc();
  m.counter("slipway_s_total", "S", {{"a", "1"}}).inc(2);
  m.counter("slipway_s_total", "S", {{"a", "2"}}).inc();
  EXPECT_EQ(m.counter("slipway_s_total", "S", {{"a", "1"}}).value(), 3u);
}

TEST(Metrics, ConcurrentIncrementsFromFourThreadsSumExactly) {
  Metrics m;
  Counter c = m.counter("slipway_concurrent_total", "C");
  Histogram h = m.histogram("slipway_concurrent_seconds", "H", {});
  Gauge g = m.gauge("slipway_concurrent_gauge", "G");
  constexpr int kPerThread = 200000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        c.inc();
        h.observe(0.001);
        g.inc();
        g.dec();
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.value(), 4u * kPerThread);
  EXPECT_EQ(h.count(), 4u * kPerThread);
  EXPECT_EQ(g.value(), 0.0);
  EXPECT_NE(m.render().find("slipway_concurrent_total 800000\n"), std::string::npos);
}

TEST(Metrics, RegistrationMistakesThrow) {
  Metrics m;
  EXPECT_THROW(m.counter("slipway_no_suffix", "x"), std::invalid_argument);
  EXPECT_THROW(m.gauge("slipway_bad_total", "x"), std::invalid_argument);
  EXPECT_THROW(m.counter("9bad_total", "x"), std::invalid_argument);
  EXPECT_THROW(m.counter("slipway_l_total", "x", {{"__reserved", "v"}}), std::invalid_argument);
  EXPECT_THROW(m.histogram("slipway_h_seconds", "x", {}, {1, 0.5}), std::invalid_argument);
  m.counter("slipway_once_total", "help", {{"a", "1"}});
  EXPECT_THROW(m.counter("slipway_once_total", "help", {{"b", "1"}}), std::invalid_argument);
  EXPECT_THROW(m.gauge("slipway_once_total", "help"), std::invalid_argument);
}

TEST(Metrics, CallbackGaugesAreComputedAtScrape) {
  Metrics m;
  double value = 1;
  m.gauge_callback("slipway_cb", "CB", {}, [&] { return value; });
  EXPECT_NE(m.render().find("slipway_cb 1\n"), std::string::npos);
  value = 2.5;
  EXPECT_NE(m.render().find("slipway_cb 2.5\n"), std::string::npos);
}

TEST(RequestMetrics, RecordsCountsAndLatencyPerRoute) {
  Metrics m;
  RequestMetrics rm(m);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) rm.record("/api/v1/{collection}", "GET", i % 2 ? 200 : 404, 0.002);
    });
  }
  for (auto& t : threads) t.join();
  rm.inc_in_flight();
  const std::string text = m.render();
  EXPECT_NE(text.find("slipway_http_requests_total{route=\"/api/v1/{collection}\",method=\"GET\",status=\"200\"} 2000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("slipway_http_request_duration_seconds_count{route=\"/api/v1/{collection}\"} 4000\n"),
            std::string::npos);
  EXPECT_NE(text.find("slipway_http_in_flight_requests 1\n"), std::string::npos);
}

TEST(RequestMetrics, AFreshInstanceDoesNotReuseAnotherOnesCache) {
  for (int round = 0; round < 2; ++round) {
    Metrics m;
    RequestMetrics rm(m);
    rm.record("/r", "GET", 200, 0.001);
    EXPECT_NE(m.render().find("slipway_http_requests_total{route=\"/r\",method=\"GET\",status=\"200\"} 1\n"),
              std::string::npos);
  }
}

}  // namespace
}  // namespace slipway::obs
