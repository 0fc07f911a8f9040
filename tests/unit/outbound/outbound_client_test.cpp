#include "outbound/outbound_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>

#include "fake_clock.h"
#include "loopback_http_server.h"
#include "obs/logger.h"
#include "obs/metrics.h"

namespace slipway::outbound {
namespace {

using testing::FakeClock;
using testing::http_response;
using testing::LoopbackHttpServer;

// Small timeouts and delays keep the suite quick; the breaker is driven by the fake clock.
OutboundOptions test_options() {
  OutboundOptions o;
  o.connect_timeout_ms = 2000;
  o.total_timeout_ms = 2000;
  o.retry = RetryPolicy{3, 1, 5};
  o.breaker = CircuitBreakerOptions{3, 10'000, 30'000};
  return o;
}

struct LogCapture {
  std::mutex mu;
  std::string text;
  obs::LoggerOptions options() {
    obs::LoggerOptions o;
    o.sink = [this](std::string_view s) {
      std::lock_guard lock(mu);
      text.append(s);
    };
    return o;
  }
  std::string get() {
    std::lock_guard lock(mu);
    return text;
  }
};

class OutboundHttp : public ::testing::Test {
 protected:
  explicit OutboundHttp(OutboundOptions options = test_options())
      : logger_(log_.options()), client_(options, clock_, metrics_, logger_) {}

  std::uint64_t calls(std::string_view outcome) {
    return metrics_.counter("slipway_outbound_calls_total", "Outgoing calls by protocol and outcome (retried: one per extra attempt)",
                            {{"protocol", "http"}, {"outcome", outcome}})
        .value();
  }
  bool metrics_show(const std::string& line) { return metrics_.render().find(line) != std::string::npos; }
  std::string logged() {
    logger_.flush();
    return log_.get();
  }

  FakeClock clock_;
  obs::Metrics metrics_;
  LogCapture log_;
  obs::Logger logger_;
  OutboundClient client_;
};

HttpRequest get(const std::string& url) {
  HttpRequest r;
  r.url = url;
  return r;
}

TEST_F(OutboundHttp, GetReturnsStatusHeadersAndBody) {
  LoopbackHttpServer server([](const std::string&) {
    return http_response(200, "OK", R"({"issuer":"x"})",
                         "Content-Type: application/json\r\nCache-Control: max-age=300\r\nRetry-After: 7\r\n");
  });
  HttpRequest request = get(server.url("/.well-known/openid-configuration?x=1"));
  request.headers.push_back({"Accept", "application/json"});
  auto r = client_.http(request);
  ASSERT_TRUE(r) << r.error().detail << " / " << r.error().cause;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"issuer":"x"})");
  EXPECT_EQ(r->header("content-type"), "application/json");
  EXPECT_EQ(r->header("Cache-Control"), "max-age=300");
  EXPECT_EQ(r->header("Retry-After"), "7");
  EXPECT_EQ(r->header("X-Absent"), "");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].starts_with("GET /.well-known/openid-configuration?x=1 HTTP/1.1\r\n")) << requests[0];
  EXPECT_NE(requests[0].find("Accept: application/json\r\n"), std::string::npos);
  EXPECT_EQ(calls("success"), 1u);
}

TEST_F(OutboundHttp, PostSendsItsBody) {
  LoopbackHttpServer server([](const std::string& req) {
    return http_response(400, "Bad Request", req.substr(req.find("\r\n\r\n") + 4));
  });
  HttpRequest request;
  request.method = "POST";
  request.url = server.url("/token");
  request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  request.body = "grant_type=authorization_code&code=abc";
  auto r = client_.http(request);
  ASSERT_TRUE(r) << r.error().cause;
  EXPECT_EQ(r->status, 400);  // an answer is a value, whatever its status
  EXPECT_EQ(r->body, request.body);
  EXPECT_EQ(client_.circuit_state(server.destination()), CircuitState::kClosed);  // a 4xx is not the peer's failure
}

TEST_F(OutboundHttp, RetriesA503ForAGet) {
  std::atomic<int> seen{0};
  LoopbackHttpServer server([&](const std::string&) {
    return ++seen == 1 ? http_response(503, "Service Unavailable", "busy") : http_response(200, "OK", "fine");
  });
  auto r = client_.http(get(server.url()));
  ASSERT_TRUE(r) << r.error().cause;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "fine");
  EXPECT_EQ(server.requests().size(), 2u);
  EXPECT_EQ(calls("retried"), 1u);
  EXPECT_EQ(calls("success"), 1u);
}

TEST_F(OutboundHttp, DoesNotRetryAPostUnlessDeclaredIdempotent) {
  std::atomic<int> seen{0};
  LoopbackHttpServer server([&](const std::string&) {
    return ++seen <= 2 ? http_response(503, "Service Unavailable", "busy") : http_response(200, "OK", "done");
  });
  HttpRequest post;
  post.method = "POST";
  post.url = server.url("/hook");
  post.body = "{}";
  auto r = client_.http(post);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);  // handed back as it came
  EXPECT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(calls("failure"), 1u);

  post.idempotent = true;  // the caller knows the peer deduplicates it
  r = client_.http(post);
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server.requests().size(), 3u);
  EXPECT_EQ(calls("retried"), 1u);
}

TEST_F(OutboundHttp, ARetryAfterLongerThanTheLongestBackoffIsLeftToTheCaller) {
  LoopbackHttpServer server([](const std::string&) {
    return http_response(429, "Too Many Requests", "", "Retry-After: 120\r\n");
  });
  auto r = client_.http(get(server.url()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 429);
  EXPECT_EQ(r->header("Retry-After"), "120");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST_F(OutboundHttp, RefusesARequestItWouldHaveToGuessAtWithoutSendingIt) {
  LoopbackHttpServer server([](const std::string&) { return http_response(200, "OK", ""); });
  HttpRequest r = get(server.url());
  r.headers.push_back({"X-Evil", "a\r\nInjected: yes"});
  auto result = client_.http(r);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ProblemCode::kBadRequest);

  r = get(server.url());
  r.headers.push_back({"Content-Length", "5"});
  EXPECT_FALSE(client_.http(r));
  r = get(server.url());
  r.body = "x";
  EXPECT_FALSE(client_.http(r));
  r = get(server.url());
  r.method = "get";
  EXPECT_FALSE(client_.http(r));
  for (const char* url : {"ftp://127.0.0.1/x", "file:///etc/passwd", "smtp://127.0.0.1/", "not a url", ""}) {
    auto bad = client_.http(get(url));
    ASSERT_FALSE(bad) << url;
    EXPECT_EQ(bad.error().code, ProblemCode::kBadRequest) << url;
  }
  HttpRequest ok = get(server.url());
  ASSERT_TRUE(client_.http(ok));    // the server works...
  EXPECT_EQ(server.connections(), 1);  // ...and saw only that one call
}

TEST_F(OutboundHttp, ARedirectIsHandedBackNotFollowed) {
  LoopbackHttpServer server([](const std::string&) {
    return http_response(302, "Found", "", "Location: http://169.254.169.254/latest/meta-data/\r\n");
  });
  auto r = client_.http(get(server.url()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 302);
  EXPECT_EQ(server.connections(), 1);
}

TEST_F(OutboundHttp, RefusesAResponseLargerThanTheLimit) {
  OutboundOptions o = test_options();
  o.max_response_bytes = 4096;
  OutboundClient small(o, clock_, metrics_, logger_);
  const std::string big(100'000, 'x');
  // With Content-Length libcurl refuses before reading; without it the byte budget stops the transfer.
  LoopbackHttpServer with_length([&](const std::string&) { return http_response(200, "OK", big); });
  LoopbackHttpServer without_length(
      [&](const std::string&) { return "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + big; });
  for (auto* server : {&with_length, &without_length}) {
    auto r = small.http(get(server->url()));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ProblemCode::kInternal);
    EXPECT_EQ(r.error().detail, "the outgoing call's response is larger than 4096 bytes");
    EXPECT_EQ(server->connections(), 1);  // not retried: the same answer would come again
  }
  LoopbackHttpServer fits([&](const std::string&) { return http_response(200, "OK", std::string(3000, 'y')); });
  EXPECT_TRUE(small.http(get(fits.url())));
}

class OutboundHttpTimeout : public OutboundHttp {
 protected:
  static OutboundOptions options() {
    OutboundOptions o = test_options();
    o.total_timeout_ms = 300;
    return o;
  }
  OutboundHttpTimeout() : OutboundHttp(options()) {}
};

TEST_F(OutboundHttpTimeout, APeerThatNeverAnswersTimesOut) {
  LoopbackHttpServer server([](const std::string&) { return std::nullopt; });
  HttpRequest post;
  post.method = "POST";
  post.url = server.url("/hook");
  post.body = "{}";
  const auto started = std::chrono::steady_clock::now();
  auto r = client_.http(post);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ProblemCode::kUnavailable);
  EXPECT_EQ(r.error().detail, "the outgoing call timed out");
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_EQ(server.connections(), 1);  // the POST may have been received: not sent again
}

TEST_F(OutboundHttp, RefusedConnectionsOpenTheCircuitThenCallsFailFastWithoutConnecting) {
  LoopbackHttpServer server([](const std::string&) { return http_response(200, "OK", "back"); },
                            /*listening=*/false);
  // Three refused attempts (one call, retried twice: nothing was sent, so even a POST could be) open the circuit.
  auto r = client_.http(get(server.url()));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ProblemCode::kUnavailable);
  EXPECT_EQ(client_.circuit_state(server.destination()), CircuitState::kOpen);
  EXPECT_TRUE(metrics_show("slipway_outbound_circuit_state{destination=\"" + server.destination() + "\"} 2"));
  EXPECT_TRUE(metrics_show("slipway_outbound_circuit_transitions_total{destination=\"" + server.destination() +
                           "\",to=\"open\"} 1"));
  const std::string log = logged();
  EXPECT_NE(log.find(R"("level":"warn","msg":"outbound circuit opened: calls fail fast","destination":")" +
                     server.destination() + R"(","from":"closed","to":"open")"),
            std::string::npos)
      << log;

  server.listen();  // the peer is back, but the circuit is still open
  const auto started = std::chrono::steady_clock::now();
  r = client_.http(get(server.url("/secret?token=hunter2")));
  ASSERT_FALSE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(r.error().code, ProblemCode::kUnavailable);
  EXPECT_EQ(r.error().detail, "the circuit for " + server.destination() + " is open: not calling it for now");
  EXPECT_EQ(calls("rejected_open_circuit"), 1u);

  clock_.advance(30'000);  // open_ms later: one probe goes out, succeeds and closes the circuit
  r = client_.http(get(server.url()));
  ASSERT_TRUE(r) << r.error().detail;
  EXPECT_EQ(r->body, "back");
  // The server takes connections in order: had the fast failure connected, the probe would be its second.
  EXPECT_EQ(server.connections(), 1);
  EXPECT_EQ(client_.circuit_state(server.destination()), CircuitState::kClosed);
  EXPECT_TRUE(metrics_show("slipway_outbound_circuit_state{destination=\"" + server.destination() + "\"} 0"));
  EXPECT_TRUE(metrics_show("slipway_outbound_circuit_transitions_total{destination=\"" + server.destination() +
                           "\",to=\"half_open\"} 1"));
  const std::string after = logged();
  EXPECT_NE(after.find(R"("level":"info","msg":"outbound circuit closed: calls go out again")"), std::string::npos);
  EXPECT_EQ(after.find("hunter2"), std::string::npos);  // no query string in the log
  EXPECT_EQ(after.find("/secret"), std::string::npos);
}

TEST_F(OutboundHttp, ACircuitOpeningDuringRetriesHandsBackTheLastAnswer) {
  LoopbackHttpServer server([](const std::string&) { return http_response(503, "Service Unavailable", "down"); });
  HttpRequest post;
  post.method = "POST";
  post.url = server.url();
  ASSERT_TRUE(client_.http(post));  // one 503, not retried: the first failure
  // The GET's first two attempts are failures two and three: the circuit opens, and its third attempt is not made.
  auto r = client_.http(get(server.url()));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "down");
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(client_.circuit_state(server.destination()), CircuitState::kOpen);
  EXPECT_EQ(calls("rejected_open_circuit"), 0u);  // the GET was sent: it failed, it was not refused
  EXPECT_EQ(calls("failure"), 2u);
}

TEST_F(OutboundHttp, SendsNoBodyTypeItWasNotGiven) {
  LoopbackHttpServer server([](const std::string&) { return http_response(204, "No Content", ""); });
  HttpRequest r = get(server.url("/x"));
  r.method = "DELETE";
  ASSERT_TRUE(client_.http(r));
  r.method = "POST";
  r.body = "raw";
  ASSERT_TRUE(client_.http(r));
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_TRUE(requests[0].starts_with("DELETE /x HTTP/1.1\r\n")) << requests[0];
  EXPECT_EQ(requests[0].find("Content-"), std::string::npos) << requests[0];
  EXPECT_EQ(requests[1].find("Content-Type"), std::string::npos) << requests[1];
  EXPECT_TRUE(requests[1].ends_with("\r\n\r\nraw")) << requests[1];
}

TEST_F(OutboundHttp, A5xxCountsAgainstTheCircuit) {
  LoopbackHttpServer server([](const std::string&) { return http_response(500, "Internal Server Error", "oops"); });
  auto r = client_.http(get(server.url()));  // a 500 is not retried...
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(server.connections(), 1);
  EXPECT_TRUE(client_.http(get(server.url())));
  EXPECT_TRUE(client_.http(get(server.url())));
  EXPECT_EQ(client_.circuit_state(server.destination()), CircuitState::kOpen);  // ...but three of them open it
}

TEST_F(OutboundHttp, EveryMethodMayBeCalledFromManyThreadsAtOnce) {
  LoopbackHttpServer server([](const std::string&) { return http_response(200, "OK", "ok"); });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      for (int j = 0; j < 5; ++j)
        if (auto r = client_.http(get(server.url())); r && r->status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 20);
  EXPECT_EQ(calls("success"), 20u);
}

}  // namespace
}  // namespace slipway::outbound
