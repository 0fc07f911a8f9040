#include "outbound/outbound_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstring>
#include <random>
#include <stdexcept>
#include <thread>
#include <utility>

#include "core/ascii.h"
#include "core/clock.h"
#include "obs/logger.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "slipway needs libcurl 7.85 or later (CURLOPT_PROTOCOLS_STR)"
#endif

namespace slipway::outbound {

void global_init() {
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) throw std::runtime_error(std::string("libcurl: ") + curl_easy_strerror(rc));
}

namespace {

constexpr std::string_view kCallsName = "slipway_outbound_calls_total";
constexpr std::string_view kCallsHelp = "Outgoing calls by protocol and outcome (retried: one per extra attempt)";
constexpr std::string_view kDurationName = "slipway_outbound_call_duration_seconds";
constexpr std::string_view kDurationHelp = "Outgoing calls from start to result, retries and backoff included";
constexpr std::string_view kStateName = "slipway_outbound_circuit_state";
constexpr std::string_view kStateHelp = "Circuit breaker state per destination: 0 closed, 1 half-open, 2 open";
constexpr std::string_view kTransitionsName = "slipway_outbound_circuit_transitions_total";
constexpr std::string_view kTransitionsHelp = "Circuit breaker state changes per destination";

// Outgoing calls last longer than requests served: the buckets reach past the default total timeout.
const std::vector<double>& duration_buckets() {
  static const std::vector<double> kBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// curl_slist_append returns the (same) head, or null with the list untouched when out of memory.
bool append(Slist& list, const std::string& item) {
  curl_slist* head = curl_slist_append(list.get(), item.c_str());
  if (head == nullptr) return false;
  (void)list.release();
  list.reset(head);
  return true;
}

std::uint64_t random64() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng();
}

bool is_tchar(unsigned char c) {  // RFC 9110 §5.6.2
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

// A DNS name or IPv4 address (letters, digits, '.', '-') or an [IPv6] literal: nothing that could end the
// authority part of the URL we build.
bool is_host(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') return false;
    for (unsigned char c : host.substr(1, host.size() - 2))
      if (!std::isxdigit(c) && c != ':' && c != '.') return false;
    return true;
  }
  if (host.front() == '-' || host.front() == '.') return false;
  for (unsigned char c : host)
    if (!std::isalnum(c) && c != '.' && c != '-') return false;
  return true;
}

bool in_list(std::string_view list, std::string_view item) {
  std::size_t start = 0;
  while (start <= list.size()) {
    const auto comma = std::min(list.find(',', start), list.size());
    if (ascii_iequals(list.substr(start, comma - start), item)) return true;
    start = comma + 1;
  }
  return false;
}

// "scheme://host:port" of a URL (lower-case scheme and host; default port filled in), through libcurl's parser so
// the breaker key names the host libcurl will connect to.
Result<std::string> destination_of(const std::string& url, std::string_view allowed_schemes) {
  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  if (!u) return Problem::make(ProblemCode::kInternal, "out of memory", "curl_url");
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return Problem::make(ProblemCode::kBadRequest, "not a valid absolute URL");
  std::string parts[3];
  const CURLUPart which[3] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
  for (int i = 0; i < 3; ++i) {
    char* text = nullptr;
    if (curl_url_get(u.get(), which[i], &text, CURLU_DEFAULT_PORT) != CURLUE_OK || text == nullptr)
      return Problem::make(ProblemCode::kBadRequest, "URL without a scheme, host or port");
    parts[i] = text;
    curl_free(text);
  }
  ascii_to_lower(parts[0]);
  ascii_to_lower(parts[1]);
  if (!in_list(allowed_schemes, parts[0]))
    return Problem::make(ProblemCode::kBadRequest, "URL scheme " + parts[0] + " is not allowed here");
  return parts[0] + "://" + parts[1] + ":" + parts[2];
}

std::string curl_cause(CURLcode code, const char* error_buffer) {
  return std::string(curl_easy_strerror(code)) + (error_buffer[0] != '\0' ? std::string(": ") + error_buffer : "");
}

bool is_connect_failure(CURLcode code) {
  return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_COULDNT_CONNECT ||
         code == CURLE_SSL_CONNECT_ERROR;
}

bool is_tls_setup_failure(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
         code == CURLE_SSL_CERTPROBLEM || code == CURLE_USE_SSL_FAILED || code == CURLE_SSL_PINNEDPUBKEYNOTMATCH;
}

// Options every attempt shares, whatever the protocol.
void set_common(CURL* h, const OutboundOptions& o, const std::string& url, const std::string& protocols,
                char* error_buffer) {
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols.c_str());
  curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols.c_str());
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // many threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout_ms));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_buffer);
  if (!o.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, o.ca_file.c_str());
}

// Collects one HTTP answer within a byte budget shared by headers and body.
struct Collector {
  HttpResponse response;
  std::size_t budget = 0;
  bool too_large = false;

  bool take(std::size_t n) {
    if (n > budget) {
      too_large = true;
      return false;
    }
    budget -= n;
    return true;
  }
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto& c = *static_cast<Collector*>(user);
  const std::size_t n = size * count;
  if (!c.take(n)) return 0;  // anything but n: libcurl stops with CURLE_WRITE_ERROR
  c.response.body.append(data, n);
  return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& c = *static_cast<Collector*>(user);
  const std::size_t n = size * count;
  if (!c.take(n)) return 0;
  std::string_view line(data, n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    c.response.headers.clear();  // a new response begins (after a 100 Continue): keep the final one's only
  } else if (const auto colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    c.response.headers.push_back({std::string(line.substr(0, colon)), std::string(value)});
  }
  return n;
}

struct Upload {
  std::string_view data;
  std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& u = *static_cast<Upload*>(user);
  const std::size_t n = std::min(size * count, u.data.size() - u.offset);
  std::memcpy(buffer, u.data.data() + u.offset, n);
  u.offset += n;
  return n;
}

// Retry-After as delta-seconds in ms; -1 when absent or an HTTP-date (then the backoff decides alone).
std::int64_t retry_after_ms(std::string_view value) {
  if (value.empty() || value.size() > 9) return -1;
  std::int64_t seconds = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return -1;
    seconds = seconds * 10 + (c - '0');
  }
  return seconds * 1000;
}

}  // namespace

bool HttpRequest::is_idempotent() const {
  if (idempotent) return *idempotent;
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

std::string_view HttpResponse::header(std::string_view name) const {
  for (const auto& h : headers)
    if (ascii_iequals(h.name, name)) return h.value;
  return {};
}

// The result of one attempt, or of a whole call once call() returns it.
struct OutboundClient::Attempt {
  std::optional<HttpResponse> response;   // http(): the answer (any status)
  std::optional<Problem> problem;         // no answer / the mail was not taken
  std::optional<AttemptFailure> failure;  // what went wrong, when another attempt might help
  bool destination_failed = false;        // counts against the destination's breaker
  std::int64_t retry_after_ms = -1;       // the answer's Retry-After, when it is one of is_retryable_http_status
};

struct OutboundClient::Destination {
  Destination(std::string destination, const OutboundOptions& options, const Clock& clock, obs::Metrics& metrics,
              obs::Logger& logger)
      : key(std::move(destination)),
        state(metrics.gauge(kStateName, kStateHelp, {{"destination", key}})),
        to_closed(metrics.counter(kTransitionsName, kTransitionsHelp, {{"destination", key}, {"to", "closed"}})),
        to_half_open(
            metrics.counter(kTransitionsName, kTransitionsHelp, {{"destination", key}, {"to", "half_open"}})),
        to_open(metrics.counter(kTransitionsName, kTransitionsHelp, {{"destination", key}, {"to", "open"}})),
        breaker(options.breaker, clock,
                [this, &logger](CircuitState from, CircuitState to) { on_transition(logger, from, to); }) {
    state.set(0);
  }

  // Runs under the breaker's mutex (its invariant 4), so the gauge ends at the breaker's state.
  void on_transition(obs::Logger& logger, CircuitState from, CircuitState to) {
    state.set(static_cast<double>(static_cast<int>(to)));
    (to == CircuitState::kOpen ? to_open : to == CircuitState::kHalfOpen ? to_half_open : to_closed).inc();
    const std::string_view msg = to == CircuitState::kOpen       ? "outbound circuit opened: calls fail fast"
                                 : to == CircuitState::kHalfOpen ? "outbound circuit half-open: probing"
                                                                 : "outbound circuit closed: calls go out again";
    logger.log(to == CircuitState::kOpen ? obs::Level::kWarn : obs::Level::kInfo, msg,
               {{"destination", key}, {"from", circuit_state_name(from)}, {"to", circuit_state_name(to)}});
  }

  const std::string key;
  obs::Gauge state;
  obs::Counter to_closed, to_half_open, to_open;
  CircuitBreaker breaker;  // last: its callback uses the members above
};

OutboundClient::OutboundClient(OutboundOptions options, const Clock& clock, obs::Metrics& metrics,
                               obs::Logger& logger)
    : options_(std::move(options)),
      clock_(clock),
      metrics_(metrics),
      logger_(logger),
      http_calls_(make_calls("http")),
      smtp_calls_(make_calls("smtp")) {
  if (options_.connect_timeout_ms <= 0 || options_.total_timeout_ms <= 0)
    throw std::invalid_argument("outbound: timeouts must be > 0");
  if (options_.max_response_bytes == 0) throw std::invalid_argument("outbound: max_response_bytes must be > 0");
  if (options_.retry.max_attempts < 1) throw std::invalid_argument("outbound: retry.max_attempts must be >= 1");
  CircuitBreaker check(options_.breaker, clock_);  // throws for breaker options out of range, now, not on first use
  global_init();
}

OutboundClient::~OutboundClient() = default;

OutboundClient::Calls OutboundClient::make_calls(std::string_view protocol) {
  const auto counter = [&](std::string_view outcome) {
    return metrics_.counter(kCallsName, kCallsHelp, {{"protocol", protocol}, {"outcome", outcome}});
  };
  return Calls{counter("success"), counter("failure"), counter("rejected_open_circuit"), counter("retried"),
               metrics_.histogram(kDurationName, kDurationHelp, {{"protocol", protocol}}, duration_buckets())};
}

OutboundClient::Destination& OutboundClient::destination(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = destinations_.find(key);
  if (it == destinations_.end())
    it = destinations_.emplace(key, std::make_unique<Destination>(key, options_, clock_, metrics_, logger_)).first;
  return *it->second;
}

CircuitState OutboundClient::circuit_state(std::string_view destination) const {
  std::lock_guard lock(mu_);
  const auto it = destinations_.find(destination);
  return it == destinations_.end() ? CircuitState::kClosed : it->second->breaker.state();
}

template <class AttemptFn>
OutboundClient::Attempt OutboundClient::call(Destination& d, Calls& calls, bool idempotent, AttemptFn&& attempt_fn) {
  const auto started = std::chrono::steady_clock::now();
  Attempt result;
  for (int n = 1;; ++n) {
    if (!d.breaker.allow()) {
      if (n > 1) {  // the circuit opened under this call: its last attempt's result stands (a 503 stays a 503)
        calls.failure.inc();
        break;
      }
      calls.rejected_open_circuit.inc();
      const std::int64_t reopens = d.breaker.reopens_at_ms();
      result = Attempt{};
      result.problem = Problem::make(
          ProblemCode::kUnavailable, "the circuit for " + d.key + " is open: not calling it for now",
          reopens > 0 ? "a probe may go out at " + format_rfc3339_ms(reopens) : "a probe call is under way");
      break;
    }
    result = attempt_fn();
    if (result.destination_failed) d.breaker.record_failure();
    else d.breaker.record_success();
    const bool retry = n < options_.retry.max_attempts && result.failure &&
                       is_safe_to_retry(*result.failure, idempotent) &&
                       result.retry_after_ms <= options_.retry.max_delay_ms;  // a longer wait is the caller's call
    if (!retry) {
      (result.problem || result.destination_failed ? calls.failure : calls.success).inc();
      break;
    }
    calls.retried.inc();
    const std::int64_t wait = std::max(options_.retry.delay_ms(n, random64()), result.retry_after_ms);
    std::this_thread::sleep_for(std::chrono::milliseconds(wait));
  }
  calls.duration.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  return result;
}

Result<HttpResponse> OutboundClient::http(const HttpRequest& request) {
  if (request.method.empty() ||
      !std::all_of(request.method.begin(), request.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return Problem::make(ProblemCode::kBadRequest, "HTTP method must be an upper-case token");
  if ((request.method == "GET" || request.method == "HEAD") && !request.body.empty())
    return Problem::make(ProblemCode::kBadRequest, request.method + " request with a body");
  for (const auto& h : request.headers) {
    if (h.name.empty() || !std::all_of(h.name.begin(), h.name.end(), [](char c) { return is_tchar(c); }))
      return Problem::make(ProblemCode::kBadRequest, "HTTP header name is not a token");
    if (h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      return Problem::make(ProblemCode::kBadRequest, "HTTP header " + h.name + " contains CR, LF or NUL");
    for (std::string_view framed : {"Host", "Content-Length", "Transfer-Encoding", "Connection", "Expect"})
      if (ascii_iequals(h.name, framed))
        return Problem::make(ProblemCode::kBadRequest, "HTTP header " + h.name + " is set by the client itself");
  }
  auto key = destination_of(request.url, options_.http_protocols);
  if (!key) return std::move(key).error();

  Attempt result = call(destination(*key), http_calls_, request.is_idempotent(),
                        [&] { return perform_http(request); });
  if (result.response) return std::move(*result.response);
  return std::move(*result.problem);
}

OutboundClient::Attempt OutboundClient::perform_http(const HttpRequest& request) const {
  Attempt a;
  EasyHandle h(curl_easy_init());
  Slist headers;
  bool headers_ok = static_cast<bool>(h);
  for (const auto& hd : request.headers)
    headers_ok = headers_ok && append(headers, hd.value.empty() ? hd.name + ";" : hd.name + ": " + hd.value);
  // Never wait for a 100 Continue: our bodies are small and a peer that does not answer it costs a second.
  headers_ok = headers_ok && append(headers, "Expect:");
  // No made-up type for a body: libcurl would label it application/x-www-form-urlencoded.
  if (std::none_of(request.headers.begin(), request.headers.end(),
                   [](const HttpHeader& hd) { return ascii_iequals(hd.name, "Content-Type"); }))
    headers_ok = headers_ok && append(headers, "Content-Type:");
  if (!headers_ok) {
    a.problem = Problem::make(ProblemCode::kInternal, "could not prepare the outgoing call", "out of memory");
    return a;
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  Collector collector;
  collector.budget = options_.max_response_bytes;
  set_common(h.get(), options_, request.url, options_.http_protocols, error_buffer);
  curl_easy_setopt(h.get(), CURLOPT_USERAGENT, "slipway/" SLIPWAY_VERSION);
  curl_easy_setopt(h.get(), CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(h.get(), CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_response_bytes));
  curl_easy_setopt(h.get(), CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h.get(), CURLOPT_WRITEDATA, &collector);
  curl_easy_setopt(h.get(), CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h.get(), CURLOPT_HEADERDATA, &collector);
  if (request.method == "HEAD") {
    curl_easy_setopt(h.get(), CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(h.get(), CURLOPT_HTTPGET, 1L);
  } else {
    if (request.method == "POST" || !request.body.empty()) {
      curl_easy_setopt(h.get(), CURLOPT_POSTFIELDS, request.body.data());
      curl_easy_setopt(h.get(), CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    }
    if (request.method != "POST") curl_easy_setopt(h.get(), CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  const CURLcode code = curl_easy_perform(h.get());
  if (code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &status);
    collector.response.status = static_cast<int>(status);
    a.destination_failed = status >= 500;  // the peer is in trouble; a 4xx is about our request
    if (is_retryable_http_status(collector.response.status)) {
      a.failure = AttemptFailure::kRetryableReply;
      a.retry_after_ms = retry_after_ms(collector.response.header("Retry-After"));
    }
    a.response = std::move(collector.response);
    return a;
  }
  if (code == CURLE_FILESIZE_EXCEEDED || (code == CURLE_WRITE_ERROR && collector.too_large)) {
    a.failure = AttemptFailure::kPermanent;  // the peer answered: not its availability, but useless to repeat
    a.problem = Problem::make(ProblemCode::kInternal,
                              "the outgoing call's response is larger than " +
                                  std::to_string(options_.max_response_bytes) + " bytes",
                              curl_cause(code, error_buffer));
    return a;
  }
  if (code == CURLE_UNSUPPORTED_PROTOCOL || code == CURLE_URL_MALFORMAT) {
    a.problem = Problem::make(ProblemCode::kBadRequest, "URL not allowed for outgoing calls",
                              curl_cause(code, error_buffer));
    return a;
  }
  a.destination_failed = true;
  if (is_connect_failure(code)) {
    a.failure = AttemptFailure::kNotSent;
  } else if (is_tls_setup_failure(code)) {
    a.failure = AttemptFailure::kPermanent;  // a certificate does not fix itself between attempts
  } else {
    // A timeout or a broken connection: did any byte of the request leave?
    long request_bytes = 0;
    curl_easy_getinfo(h.get(), CURLINFO_REQUEST_SIZE, &request_bytes);
    a.failure = request_bytes > 0 ? AttemptFailure::kMaybeReceived : AttemptFailure::kNotSent;
  }
  a.problem = Problem::make(ProblemCode::kUnavailable,
                            code == CURLE_OPERATION_TIMEDOUT ? "the outgoing call timed out"
                                                             : "the outgoing call failed",
                            curl_cause(code, error_buffer));
  return a;
}

Status OutboundClient::send_mail(const SmtpSettings& settings, const MailMessage& message) {
  if (!is_host(settings.host)) return Problem::make(ProblemCode::kBadRequest, "SMTP host is not a host name");
  if (settings.port < 1 || settings.port > 65535)
    return Problem::make(ProblemCode::kBadRequest, "SMTP port out of range");
  if (!settings.helo_name.empty() && (!is_host(settings.helo_name) || settings.helo_name.front() == '['))
    return Problem::make(ProblemCode::kBadRequest, "SMTP HELO name is not a host name");
  if (settings.tls == SmtpTls::kNone && !(settings.username.empty() && settings.password.empty()))
    return Problem::make(ProblemCode::kBadRequest, "refusing to send SMTP credentials without TLS");
  std::string host = settings.host;
  ascii_to_lower(host);
  const std::string scheme = settings.tls == SmtpTls::kImplicit ? "smtps" : "smtp";
  if (!in_list(options_.mail_protocols, scheme))
    return Problem::make(ProblemCode::kBadRequest, scheme + " is not allowed for mail");
  const std::string key = scheme + "://" + host + ":" + std::to_string(settings.port);
  // libcurl takes the EHLO name from the URL's path.
  const std::string url = key + (settings.helo_name.empty() ? "" : "/" + settings.helo_name);

  // Only what the server explicitly refused (4xx) is offered again here; a broken connection after the message
  // may have been handed over is left to the caller's queue (retry_policy.h).
  Attempt result = call(destination(key), smtp_calls_, /*idempotent=*/false,
                        [&] { return perform_smtp(settings, url, message); });
  if (result.problem) return std::move(*result.problem);
  return {};
}

OutboundClient::Attempt OutboundClient::perform_smtp(const SmtpSettings& settings, const std::string& url,
                                                     const MailMessage& message) const {
  Attempt a;
  EasyHandle h(curl_easy_init());
  Slist recipients;
  bool ok = static_cast<bool>(h);
  for (const auto& rcpt : message.recipients()) ok = ok && append(recipients, "<" + rcpt + ">");
  if (!ok) {
    a.problem = Problem::make(ProblemCode::kUnavailable, "could not prepare the mail", "out of memory");
    return a;
  }
  char error_buffer[CURL_ERROR_SIZE] = {};
  Upload upload{message.data()};
  const std::string from = "<" + message.envelope_from() + ">";
  set_common(h.get(), options_, url, options_.mail_protocols, error_buffer);
  curl_easy_setopt(h.get(), CURLOPT_USE_SSL,
                   settings.tls == SmtpTls::kNone ? static_cast<long>(CURLUSESSL_NONE)
                                                  : static_cast<long>(CURLUSESSL_ALL));
  curl_easy_setopt(h.get(), CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h.get(), CURLOPT_MAIL_RCPT, recipients.get());
  curl_easy_setopt(h.get(), CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(h.get(), CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt(h.get(), CURLOPT_READDATA, &upload);
  curl_easy_setopt(h.get(), CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.data().size()));
  if (!settings.username.empty()) {
    curl_easy_setopt(h.get(), CURLOPT_USERNAME, settings.username.c_str());
    curl_easy_setopt(h.get(), CURLOPT_PASSWORD, settings.password.c_str());
  }

  const CURLcode code = curl_easy_perform(h.get());
  if (code == CURLE_OK) return a;
  long reply = 0;  // the server's last reply code, when it gave one
  curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &reply);
  const std::string cause =
      curl_cause(code, error_buffer) + (reply > 0 ? " (server reply " + std::to_string(reply) + ")" : "");
  if (code == CURLE_LOGIN_DENIED) {
    // The server works; our credentials do not. Not this message's fault: it may go once the settings are fixed.
    a.failure = AttemptFailure::kPermanent;
    a.problem = Problem::make(ProblemCode::kUnavailable, "the mail server refused the login", cause);
  } else if (reply >= 500 && reply < 600) {
    a.failure = AttemptFailure::kPermanent;  // a 5xx to MAIL FROM, RCPT TO or DATA: this message, for good
    a.problem = Problem::make(ProblemCode::kUnprocessable,
                              "the mail server refused the message (" + std::to_string(reply) + ")", cause);
  } else if (is_transient_smtp_reply(reply)) {
    a.failure = AttemptFailure::kRefused;
    a.destination_failed = true;
    a.problem = Problem::make(ProblemCode::kUnavailable,
                              "the mail server deferred the message (" + std::to_string(reply) + ")", cause);
  } else {
    a.destination_failed = true;
    if (is_connect_failure(code)) {
      a.failure = AttemptFailure::kNotSent;
    } else if (is_tls_setup_failure(code)) {
      a.failure = AttemptFailure::kPermanent;
    } else {
      curl_off_t connect_us = 0;
      curl_easy_getinfo(h.get(), CURLINFO_CONNECT_TIME_T, &connect_us);
      a.failure = connect_us > 0 ? AttemptFailure::kMaybeReceived : AttemptFailure::kNotSent;
    }
    a.problem = Problem::make(ProblemCode::kUnavailable,
                              code == CURLE_OPERATION_TIMEDOUT ? "the mail server timed out"
                                                               : "could not reach the mail server",
                              cause);
  }
  return a;
}

}  // namespace slipway::outbound
