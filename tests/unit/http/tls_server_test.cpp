// The real Server with its TLS listener on an ephemeral port, certificates made by the test, spoken to by OpenSSL's
// own client over loopback.
#include "http/server.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <thread>

#include "obs/logger.h"
#include "obs/metrics.h"
#include "obs/request_metrics.h"
#include "support/raw_http_client.h"
#include "support/temp_dir.h"
#include "support/test_certificate.h"
#include "support/tls_client.h"

namespace slipway::http {
namespace {

using testing::RawHttpClient;
using testing::TempDir;
using testing::TlsClient;
using testing::write_test_certificate;

constexpr std::string_view kGetHello = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";

class TlsTestHandler : public Handler {
 public:
  Admission admit(Request& req) override {
    Admission a;
    a.body_limit = req.method == Method::kPost ? 1024 : 0;
    return a;
  }
  void handle(Request& req, Responder respond) override {
    Response r;
    r.route = "/test";
    r.content_type = "text/plain";
    r.body = "hello";
    if (req.path == "/hsts") r.set_header("Strict-Transport-Security", "max-age=1");  // the session's to set
    respond(std::move(r));
  }
};

// Polls `done` until it holds or 5 s pass: for what the server records just after the client has seen its effect.
bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

TlsClient::Options versions(int min, int max) {
  TlsClient::Options o;
  o.min_version = min;
  o.max_version = max;
  return o;
}

TlsClient::Options alpn(std::string protocols) {
  TlsClient::Options o;
  o.alpn = std::move(protocols);
  return o;
}

std::string hex(long n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lX", n);
  return buf;
}

class TlsServerTest : public ::testing::Test {
 protected:
  static constexpr long kSerialA = 0xA1;
  static constexpr long kSerialB = 0xB2;

  TlsServerTest()
      : logger_(obs::LoggerOptions{.sink =
                                       [this](std::string_view s) {
                                         std::lock_guard lock(log_mu_);
                                         log_.append(s);
                                       }}),
        request_metrics_(metrics_) {
    not_after_a_ = write_test_certificate(cert_file(), key_file(), "slipway-a", kSerialA);
  }
  ~TlsServerTest() override { stop(); }

  std::string cert_file() const { return dir_.file("cert.pem"); }
  std::string key_file() const { return dir_.file("key.pem"); }

  // Plain and TLS listeners, both on ephemeral ports.
  ServerOptions options() const {
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    TlsOptions t;
    t.port = 0;
    t.cert_file = cert_file();
    t.key_file = key_file();
    o.tls = t;
    return o;
  }

  void start(const ServerOptions& o) {
    server_ = std::make_unique<Server>(o, handler_, logger_, request_metrics_);
    Status st = server_->start();
    ASSERT_TRUE(st) << st.error().detail;
    runner_ = std::thread([this] { server_->run(); });
  }
  void start() { start(options()); }

  void stop() {
    if (!server_) return;
    server_->request_stop();
    if (runner_.joinable()) runner_.join();
    server_.reset();
  }

  std::string log() {
    logger_.flush();
    std::lock_guard lock(log_mu_);
    return log_;
  }
  bool metrics_show(const std::string& line) {
    return eventually([&] { return metrics_.render().find(line) != std::string::npos; });
  }

  TempDir dir_;
  std::int64_t not_after_a_ = 0;
  std::mutex log_mu_;
  std::string log_;
  obs::Logger logger_;
  obs::Metrics metrics_;
  obs::RequestMetrics request_metrics_;
  TlsTestHandler handler_;
  std::unique_ptr<Server> server_;
  std::thread runner_;
};

TEST_F(TlsServerTest, ResponsesOverTlsCarryHstsAndPlainOnesNever) {
  start();
  ASSERT_NE(server_->port(), 0);
  ASSERT_NE(server_->tls_port(), 0);
  TlsClient tls(server_->tls_port());
  ASSERT_TRUE(tls.handshaken()) << tls.error();
  for (const std::string_view path : {"/hello", "/hsts"}) {  // a handler's own HSTS header never goes out
    auto r = tls.roundtrip("GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello");
    EXPECT_EQ(r->header("Strict-Transport-Security"), "max-age=63072000") << path;
    std::size_t count = 0;
    for (const auto& [name, value] : r->headers) count += name == "Strict-Transport-Security";
    EXPECT_EQ(count, 1u) << path;
  }
  RawHttpClient plain(server_->port());
  for (const std::string_view path : {"/hello", "/hsts"}) {
    auto r = plain.roundtrip("GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200);
    EXPECT_FALSE(r->has_header("Strict-Transport-Security")) << path;  // RFC 6797 §7.2
  }
}

TEST_F(TlsServerTest, HstsFollowsItsOptions) {
  ServerOptions o = options();
  o.tls->hsts_max_age_s = 600;
  o.tls->hsts_include_subdomains = true;
  start(o);
  TlsClient c(server_->tls_port());
  auto r = c.roundtrip(kGetHello);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Strict-Transport-Security"), "max-age=600; includeSubDomains");
  stop();
  o.tls->hsts_max_age_s = 0;
  start(o);
  TlsClient off(server_->tls_port());
  r = off.roundtrip(kGetHello);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->has_header("Strict-Transport-Security"));
}

TEST_F(TlsServerTest, TlsOnlyServesWithoutAPlainListener) {
  ServerOptions o = options();
  o.plain = false;
  start(o);
  EXPECT_EQ(server_->port(), 0);
  TlsClient c(server_->tls_port());
  auto r = c.roundtrip(kGetHello);
  ASSERT_TRUE(r) << c.error();
  EXPECT_EQ(r->status, 200);
}

TEST_F(TlsServerTest, Tls12And13AreServedAndTls11IsRefused) {
  start();
  TlsClient v13(server_->tls_port());
  ASSERT_TRUE(v13.handshaken()) << v13.error();
  EXPECT_EQ(v13.version(), "TLSv1.3");
  TlsClient v12(server_->tls_port(), versions(0, TLS1_2_VERSION));
  ASSERT_TRUE(v12.handshaken()) << v12.error();
  EXPECT_EQ(v12.version(), "TLSv1.2");
  ASSERT_TRUE(v12.roundtrip(kGetHello));
  TlsClient v11(server_->tls_port(), versions(TLS1_1_VERSION, TLS1_1_VERSION));
  EXPECT_FALSE(v11.handshaken());
  EXPECT_NE(v11.error().find("protocol version"), std::string::npos) << v11.error();  // the server's alert
  EXPECT_TRUE(metrics_show("slipway_tls_handshakes_total{result=\"failed\"} 1")) << metrics_.render();
  EXPECT_TRUE(metrics_show("slipway_tls_handshakes_total{result=\"ok\"} 2")) << metrics_.render();
}

TEST_F(TlsServerTest, AlpnIsHttp11OrTheHandshakeFails) {
  start();
  TlsClient offered(server_->tls_port(), alpn(std::string("\x02h2\x08http/1.1", 12)));
  ASSERT_TRUE(offered.handshaken()) << offered.error();
  EXPECT_EQ(offered.alpn(), "http/1.1");
  TlsClient h2_only(server_->tls_port(), alpn(std::string("\x02h2", 3)));
  EXPECT_FALSE(h2_only.handshaken());
  EXPECT_NE(h2_only.error().find("no application protocol"), std::string::npos) << h2_only.error();
}

TEST_F(TlsServerTest, AClientThatNeverHandshakesIsClosedAfterTheHeaderTimeout) {
  ServerOptions o = options();
  o.header_timeout = std::chrono::milliseconds(300);
  start(o);
  const auto begin = std::chrono::steady_clock::now();
  RawHttpClient silent(server_->tls_port());
  ASSERT_TRUE(silent.connected());
  EXPECT_TRUE(silent.closed_by_peer());
  const auto took = std::chrono::steady_clock::now() - begin;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(3));
  // Half a ClientHello, then nothing: the same deadline.
  RawHttpClient partial(server_->tls_port());
  ASSERT_TRUE(partial.send(std::string_view("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  EXPECT_TRUE(partial.closed_by_peer());
  EXPECT_TRUE(metrics_show("slipway_tls_handshakes_total{result=\"failed\"} 2")) << metrics_.render();
}

TEST_F(TlsServerTest, AConnectionTheServerEndsGetsACloseNotify) {
  start();
  TlsClient c(server_->tls_port());
  auto r = c.roundtrip("GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header("Connection"), "close");
  EXPECT_EQ(c.ending(), TlsClient::Ending::kCloseNotify);
  // A body over the route's limit: 413, then the connection lingers (reading what is still coming) and ends cleanly.
  TlsClient big(server_->tls_port());
  const std::string body(64 * 1024, 'x');
  ASSERT_TRUE(
      big.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n"));
  auto refused = big.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 413);
  EXPECT_EQ(refused->header("Strict-Transport-Security"), "max-age=63072000");
  EXPECT_EQ(big.ending(), TlsClient::Ending::kCloseNotify);
}

TEST_F(TlsServerTest, StopClosesIdleTlsConnectionsWithACloseNotify) {
  start();
  TlsClient idle(server_->tls_port());
  ASSERT_TRUE(idle.roundtrip(kGetHello));
  stop();
  EXPECT_EQ(idle.ending(), TlsClient::Ending::kCloseNotify);
}

TEST_F(TlsServerTest, ADrainThatTimesOutDropsATlsConnectionMidRequest) {
  ServerOptions o = options();
  o.drain_timeout = std::chrono::milliseconds(200);
  start(o);
  TlsClient slow(server_->tls_port());
  ASSERT_TRUE(slow.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part of it"));
  const auto begin = std::chrono::steady_clock::now();
  stop();  // a read (of the header or of the body) is still pending on the TLS stream when the loops stop
  EXPECT_LT(std::chrono::steady_clock::now() - begin, std::chrono::seconds(3));
  EXPECT_NE(slow.ending(), TlsClient::Ending::kOpen);
}

TEST_F(TlsServerTest, AReloadServesTheNewCertificateToNewConnectionsAndKeepsOpenOnes) {
  start();
  TlsClient before(server_->tls_port());
  ASSERT_TRUE(before.roundtrip(kGetHello));
  EXPECT_EQ(before.peer_serial(), hex(kSerialA));
  EXPECT_TRUE(metrics_show("slipway_tls_certificate_expiry_timestamp_seconds " + std::to_string(not_after_a_)));

  const std::int64_t not_after_b = write_test_certificate(cert_file(), key_file(), "slipway-b", kSerialB, 90);
  ASSERT_GT(not_after_b, not_after_a_);
  Status st = server_->reload_tls();
  ASSERT_TRUE(st) << st.error().detail;

  TlsClient after(server_->tls_port());
  ASSERT_TRUE(after.roundtrip(kGetHello));
  EXPECT_EQ(after.peer_serial(), hex(kSerialB));
  auto again = before.roundtrip(kGetHello);  // the open keep-alive connection goes on, on its own context
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_TRUE(metrics_show("slipway_tls_certificate_expiry_timestamp_seconds " + std::to_string(not_after_b)));
  const std::string lines = log();
  EXPECT_NE(lines.find("\"msg\":\"TLS certificate reloaded\""), std::string::npos) << lines;
  EXPECT_NE(lines.find("\"serial\":\"" + hex(kSerialB) + "\""), std::string::npos) << lines;
}

TEST_F(TlsServerTest, AReloadWithABrokenKeyKeepsTheCurrentCertificate) {
  start();
  {
    std::ofstream broken(key_file(), std::ios::trunc);
    broken << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  }
  Status st = server_->reload_tls();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().detail.find(key_file()), std::string::npos) << st.error().detail;
  TlsClient c(server_->tls_port());
  ASSERT_TRUE(c.roundtrip(kGetHello)) << c.error();
  EXPECT_EQ(c.peer_serial(), hex(kSerialA));
  const std::string lines = log();
  EXPECT_NE(lines.find("\"level\":\"error\",\"msg\":\"TLS reload failed"), std::string::npos) << lines;
  EXPECT_NE(lines.find(key_file()), std::string::npos) << lines;
}

TEST_F(TlsServerTest, StartRefusesMissingOrMismatchedFilesNamingThem) {
  ServerOptions o = options();
  o.tls->cert_file = dir_.file("missing.pem");
  Server missing(o, handler_, logger_, request_metrics_);
  Status st = missing.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().detail,
            "cannot read TLS certificate " + dir_.file("missing.pem") + ": No such file or directory");

  ASSERT_GT(write_test_certificate(dir_.file("other.pem"), dir_.file("other.key"), "other", 7), 0);
  o = options();
  o.tls->key_file = dir_.file("other.key");
  Server mismatched(o, handler_, logger_, request_metrics_);
  st = mismatched.start();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().detail,
            "TLS private key " + dir_.file("other.key") + " does not match the certificate " + cert_file());
  EXPECT_FALSE(check_tls_files(*o.tls));
  EXPECT_TRUE(check_tls_files(*options().tls));
}

}  // namespace
}  // namespace slipway::http
