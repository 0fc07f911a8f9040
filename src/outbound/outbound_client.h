// OutboundClient: the one way slipway calls out — HTTPS (OpenID Connect discovery, JWKS, token calls; webhooks
// later) and SMTP (mail) — with the same timeouts, retry rule and per-destination circuit breakers for all of it.
// The protocols are libcurl's (docs/decisions/0011-outbound-calls.md): nothing here speaks SMTP or TLS itself, and
// <curl/curl.h> stays inside outbound_client.cpp.
//
//   http() / send_mail()
//     │ check the request (URL scheme in the allow-list, header values without CR/LF) ── bad ──▶ kBadRequest
//     ▼
//   breaker(destination).allow() ── open ──▶ kUnavailable "circuit open", no network touched
//     │ admitted                         (on a retry: the previous attempt's result, answer or error, stands)
//     ▼
//   one attempt: a fresh curl easy handle, connect + total timeout, response ≤ max_response_bytes
//     │ classified (retry_policy.h): success / destination failure / answer; the breaker is told which
//     ▼
//   safe to retry and attempts left? ── yes ──▶ sleep the jittered backoff (this thread), back to allow()
//     │ no
//     ▼ the result
//
// Calls BLOCK for up to max_attempts × total_timeout_ms plus the backoff between them: run them on the worker pool
// (runtime/worker_pool.h), never on an HTTP event loop.
//
// Destinations are "scheme://host:port" ("https://idp.example:443", "smtp://mail.example:587"): one breaker each,
// made on first use and kept for the client's lifetime. Neither logs nor metrics ever see a path, query string,
// header value, body or credential: only the destination.
//
// Errors: kBadRequest for a request the caller got wrong (nothing was sent); kUnavailable for every failure that
// may pass (no connection, timeout, circuit open, TLS failure, SMTP 4xx, login refused — a configuration fault,
// not the message's); for mail, kUnprocessable when the server refused this message for good (an SMTP 5xx reply to
// MAIL FROM, RCPT TO or DATA), which a durable mail queue should not offer again; kInternal for a response larger
// than max_response_bytes. An HTTP answer is a value whatever its status: the caller reads a 400 from a token
// endpoint as it reads a 200.
//
// Metrics (obs::Metrics):
//   slipway_outbound_calls_total{protocol="http"|"smtp",outcome}  outcome: success (an answer below 500 / a mail
//       taken), failure (anything else), rejected_open_circuit (not sent: circuit open), retried (one per extra
//       attempt, so a call may count twice: once retried, once for its end)
//   slipway_outbound_circuit_state{destination}                   0 closed, 1 half-open, 2 open
//   slipway_outbound_circuit_transitions_total{destination,to}    to: closed | half_open | open
//   slipway_outbound_call_duration_seconds{protocol}              whole calls, retries and backoff included
// Breaker transitions are logged (obs::Logger): warn when a circuit opens, info otherwise.
//
// Thread safety: every method may be called from many threads at once (each call has its own curl handle; the
// destination map has a mutex; each breaker has its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "obs/metrics.h"
#include "outbound/circuit_breaker.h"
#include "outbound/mail_message.h"
#include "outbound/retry_policy.h"

namespace slipway {
class Clock;
}
namespace slipway::obs {
class Logger;
}

namespace slipway::outbound {

// curl_global_init(CURL_GLOBAL_DEFAULT), exactly once per process however many threads call it (a function-local
// static). The OutboundClient constructor calls it, so it runs at start-up, before any worker calls out. It is
// never undone: curl_global_cleanup() is not thread-safe and the process ends soon enough.
// Throws std::runtime_error when libcurl cannot initialise (start-up only).
void global_init();

struct HttpHeader {
  std::string name;
  std::string value;
};

struct HttpRequest {
  std::string method = "GET";         // an upper-case token
  std::string url;                    // scheme in OutboundOptions::http_protocols
  std::vector<HttpHeader> headers;    // no CR, LF or NUL in names or values
  std::string body;                   // sent for any method but GET and HEAD
  // May the request be sent twice? nullopt: true for GET, HEAD and OPTIONS (safe methods, RFC 9110 §9.2.1), false
  // otherwise: PUT and DELETE are idempotent only if the peer follows RFC 9110, which we cannot check; a POST (a
  // token redemption, a webhook) only when the caller knows the peer deduplicates it.
  std::optional<bool> idempotent;

  bool is_idempotent() const;
};

struct HttpResponse {
  int status = 0;
  std::vector<HttpHeader> headers;  // of the final response, in order, names as sent
  std::string body;

  // The first header named `name` (ASCII case-insensitive), or empty: "Content-Type", "Cache-Control",
  // "Retry-After", ...
  std::string_view header(std::string_view name) const;
};

enum class SmtpTls : std::uint8_t {
  kNone,      // plain text: a relay on this host or network only; credentials are refused with it
  kStartTls,  // smtp:// then STARTTLS, required (CURLUSESSL_ALL): a server that does not offer it fails the send
  kImplicit,  // smtps:// (TLS from the first byte; port 465)
};

struct SmtpSettings {
  std::string host;        // a DNS name, IPv4 address or [IPv6] literal
  int port = 587;
  SmtpTls tls = SmtpTls::kStartTls;
  std::string username;    // empty: no AUTH
  std::string password;    // never logged, never in a Problem
  std::string helo_name;   // the name in EHLO; empty: libcurl's default. A real name helps with spam scoring
};

struct OutboundOptions {
  std::int64_t connect_timeout_ms = 5'000;   // TCP + TLS handshake
  std::int64_t total_timeout_ms = 15'000;    // one whole attempt, connect included
  std::size_t max_response_bytes = 1u << 20; // headers + body of one HTTP answer: more is an error, not a truncation
  RetryPolicy retry;
  CircuitBreakerOptions breaker;
  std::string ca_file;                       // PEM bundle to trust instead of the system store (tests); empty: system
  std::string http_protocols = "http,https"; // CURLOPT_PROTOCOLS_STR for http(); redirects are never followed
  std::string mail_protocols = "smtp,smtps"; // CURLOPT_PROTOCOLS_STR for send_mail()
};

class OutboundClient {
 public:
  // Throws std::invalid_argument for options out of range and std::runtime_error when libcurl cannot start
  // (start-up errors). `clock` drives the breakers; the backoff sleeps on the real clock.
  OutboundClient(OutboundOptions options, const Clock& clock, obs::Metrics& metrics, obs::Logger& logger);
  ~OutboundClient();
  OutboundClient(const OutboundClient&) = delete;
  OutboundClient& operator=(const OutboundClient&) = delete;

  // BLOCKS (see above). An answer of any status is a value; a redirect is handed back as its 3xx answer.
  [[nodiscard]] Result<HttpResponse> http(const HttpRequest& request);
  // BLOCKS. kUnavailable: not sent now, offer it again later; kUnprocessable: refused for good; kBadRequest: the
  // settings are wrong (nothing was sent).
  [[nodiscard]] Status send_mail(const SmtpSettings& settings, const MailMessage& message);

  // The breaker state of a destination ("https://idp.example:443"); kClosed for one never called.
  CircuitState circuit_state(std::string_view destination) const;

 private:
  struct Destination;
  struct Attempt;
  struct Calls {  // slipway_outbound_calls_total of one protocol
    obs::Counter success, failure, rejected_open_circuit, retried;
    obs::Histogram duration;
  };

  Destination& destination(const std::string& key);
  Calls make_calls(std::string_view protocol);
  Attempt perform_http(const HttpRequest& request) const;
  Attempt perform_smtp(const SmtpSettings& settings, const std::string& url, const MailMessage& message) const;
  // The loop in the diagram, shared by both protocols; `attempt_fn` runs one attempt.
  template <class AttemptFn>
  Attempt call(Destination& destination, Calls& calls, bool idempotent, AttemptFn&& attempt_fn);

  const OutboundOptions options_;
  const Clock& clock_;
  obs::Metrics& metrics_;
  obs::Logger& logger_;
  Calls http_calls_;
  Calls smtp_calls_;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Destination>, std::less<>> destinations_;  // GUARDED_BY(mu_)
};

}  // namespace slipway::outbound
