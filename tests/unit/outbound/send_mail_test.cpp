// send_mail() against a real SMTP server (aiosmtpd in a child process; see smtp_server.h).
#include "outbound/outbound_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>

#include "fake_clock.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "smtp_server.h"
#include "support/temp_dir.h"

namespace slipway::outbound {
namespace {

using testing::FakeClock;
using testing::SmtpServer;

class SendMail : public ::testing::Test {
 protected:
  static OutboundOptions options() {
    OutboundOptions o;
    o.connect_timeout_ms = 2000;
    o.total_timeout_ms = 5000;
    o.retry = RetryPolicy{2, 1, 5};
    o.breaker = CircuitBreakerOptions{3, 10'000, 30'000};
    return o;
  }

  SendMail() : logger_(quiet()), client_(options(), clock_, metrics_, logger_) {}

  void SetUp() override {
    python_ = SmtpServer::python();
    if (!python_) GTEST_SKIP() << "python3-aiosmtpd is not installed (scripts/install-deps installs it)";
    server_.emplace(*python_, dir_.path());
    ASSERT_TRUE(server_->wait_ready()) << "aiosmtpd did not start:\n" << server_->log();
    settings_.host = "127.0.0.1";
    settings_.port = server_->port();
    settings_.tls = SmtpTls::kNone;  // aiosmtpd here has no certificate; TLS is libcurl's and not ours to test
  }

  static obs::LoggerOptions quiet() {
    obs::LoggerOptions o;
    o.sink = [](std::string_view) {};
    return o;
  }

  MailMessage message(const std::string& to = "ada@example.org") {
    MailDraft d;
    d.from = "noreply@example.com";
    d.from_name = "Slipway";
    d.to = {to};
    d.subject = "Bestätigen Sie Ihre Adresse";
    d.text = "Hello Ada,\n\nyour code is 123456.\n.\nA line with a lone dot above must survive.\n";
    auto m = MailMessage::build(d, clock_);
    EXPECT_TRUE(m);
    return std::move(m).value();
  }

  std::uint64_t calls(std::string_view outcome) {
    return metrics_
        .counter("slipway_outbound_calls_total", "Outgoing calls by protocol and outcome (retried: one per extra attempt)",
                 {{"protocol", "smtp"}, {"outcome", outcome}})
        .value();
  }
  std::string destination() const { return "smtp://127.0.0.1:" + std::to_string(server_->port()); }

  slipway::testing::TempDir dir_;
  FakeClock clock_;
  obs::Metrics metrics_;
  obs::Logger logger_;
  OutboundClient client_;
  std::optional<std::string> python_;
  std::optional<SmtpServer> server_;
  SmtpSettings settings_;
};

TEST_F(SendMail, DeliversTheMessageAsBuilt) {
  const MailMessage m = message();
  const Status sent = client_.send_mail(settings_, m);
  ASSERT_TRUE(sent) << sent.error().detail << " / " << sent.error().cause;
  const auto messages = server_->messages();
  ASSERT_EQ(messages.size(), 1u) << server_->log();
  const std::string& got = messages[0];
  EXPECT_NE(got.find("From: \"Slipway\" <noreply@example.com>"), std::string::npos) << got;
  EXPECT_NE(got.find("To: ada@example.org"), std::string::npos) << got;
  EXPECT_NE(got.find("Subject: =?UTF-8?B?QmVzdMOkdGlnZW4gU2llIElocmUgQWRyZXNzZQ==?="), std::string::npos) << got;
  EXPECT_NE(got.find("Message-ID: " + m.message_id()), std::string::npos) << got;
  EXPECT_NE(got.find("Content-Transfer-Encoding: quoted-printable"), std::string::npos) << got;
  EXPECT_NE(got.find("X-MailFrom: noreply@example.com"), std::string::npos) << got;  // the envelope, as received
  EXPECT_NE(got.find("X-RcptTo: ada@example.org"), std::string::npos) << got;
  EXPECT_NE(got.find("your code is 123456.\n=2E\nA line with a lone dot above must survive."), std::string::npos)
      << got;  // the Maildir stores LF line ends
  EXPECT_EQ(calls("success"), 1u);
}

TEST_F(SendMail, APermanentRefusalIsNotRetriedAndDoesNotOpenTheCircuit) {
  for (int i = 0; i < 4; ++i) {
    const Status sent = client_.send_mail(settings_, message("reject@example.org"));
    ASSERT_FALSE(sent);
    EXPECT_EQ(sent.error().code, ProblemCode::kUnprocessable) << sent.error().cause;
    EXPECT_EQ(sent.error().detail, "the mail server refused the message (550)");
  }
  EXPECT_EQ(calls("retried"), 0u);
  EXPECT_EQ(client_.circuit_state(destination()), CircuitState::kClosed);  // the server is up; the address is not
  EXPECT_TRUE(server_->messages().empty());
}

TEST_F(SendMail, ATransientRefusalIsRetriedThenReportedAsUnavailable) {
  const Status sent = client_.send_mail(settings_, message("defer@example.org"));
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ProblemCode::kUnavailable) << sent.error().cause;
  EXPECT_EQ(sent.error().detail, "the mail server deferred the message (451)");
  EXPECT_EQ(calls("retried"), 1u);  // max_attempts 2
  EXPECT_TRUE(server_->messages().empty());
}

TEST_F(SendMail, AStoppedServerFailsAsTransientThenOpensTheCircuit) {
  ASSERT_TRUE(client_.send_mail(settings_, message()));
  server_->stop();
  // Three refused connections open the circuit: the first call's two attempts and the second call's first (its
  // retry is not made: the circuit is open, and the call ends with its own failure).
  Status sent = client_.send_mail(settings_, message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ProblemCode::kUnavailable);
  EXPECT_EQ(sent.error().detail, "could not reach the mail server");
  EXPECT_EQ(client_.circuit_state(destination()), CircuitState::kClosed);
  sent = client_.send_mail(settings_, message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().detail, "could not reach the mail server");
  EXPECT_EQ(client_.circuit_state(destination()), CircuitState::kOpen);

  const auto started = std::chrono::steady_clock::now();
  sent = client_.send_mail(settings_, message());
  ASSERT_FALSE(sent);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(sent.error().code, ProblemCode::kUnavailable);  // the mail queue offers it again later
  EXPECT_EQ(sent.error().detail, "the circuit for " + destination() + " is open: not calling it for now");
  EXPECT_EQ(calls("rejected_open_circuit"), 1u);
}

TEST_F(SendMail, RefusesSettingsThatWouldLeakOrMisaddress) {
  SmtpSettings s = settings_;
  s.username = "mailer";
  s.password = "hunter2";
  Status sent = client_.send_mail(s, message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ProblemCode::kBadRequest);
  EXPECT_EQ(sent.error().detail, "refusing to send SMTP credentials without TLS");
  EXPECT_EQ(sent.error().cause.find("hunter2"), std::string::npos);
  for (const char* host : {"", "evil.example/x", "user@host", "a b", "-x"}) {
    s = settings_;
    s.host = host;
    EXPECT_FALSE(client_.send_mail(s, message())) << host;
  }
  s = settings_;
  s.port = 0;
  EXPECT_FALSE(client_.send_mail(s, message()));
  EXPECT_TRUE(server_->messages().empty());
}

TEST_F(SendMail, StartTlsIsRequiredWhenAsked) {
  // aiosmtpd without a certificate offers no STARTTLS: the send must fail rather than go out in plain text.
  SmtpSettings s = settings_;
  s.tls = SmtpTls::kStartTls;
  const Status sent = client_.send_mail(s, message());
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, ProblemCode::kUnavailable) << sent.error().cause;
  EXPECT_NE(sent.error().cause.find("Requested SSL level failed"), std::string::npos) << sent.error().cause;
  EXPECT_EQ(calls("retried"), 0u);  // a missing STARTTLS does not appear between attempts
  EXPECT_TRUE(server_->messages().empty());
}

}  // namespace
}  // namespace slipway::outbound
