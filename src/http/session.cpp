#include "http/session.h"

#include "core/ascii.h"

#include <openssl/ssl.h>
#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/none.hpp>
#include <exception>

#include "core/json_writer.h"
#include "http/ids.h"
#include "http/response_head.h"
#include "obs/logger.h"
#include "obs/request_metrics.h"

namespace slipway::http {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kFirstReadSize = 8192;
constexpr std::size_t kLingerReadSize = 16384;
// After an error response with unread input (an oversized body), keep reading and discarding for this long so
// closing does not reset the connection before the client has read the response.
constexpr std::chrono::seconds kLingerTime{2};
// While draining, how long a connection accepted before the listener closed may stay silent. A load balancer sends
// its request right after connecting; one that sends nothing is closed after this rather than its header_timeout.
constexpr std::chrono::seconds kDrainGrace{1};
// How long a TLS close waits for its close_notify to be written (a peer that reads nothing gets no longer).
constexpr std::chrono::seconds kCloseNotifyTime{1};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kProblemType = "application/problem+json";

template <class S>
std::string_view sv(const S& s) {
  return {s.data(), s.size()};
}


Method to_method(bhttp::verb v) {
  switch (v) {
    case bhttp::verb::get: return Method::kGet;
    case bhttp::verb::head: return Method::kHead;
    case bhttp::verb::post: return Method::kPost;
    case bhttp::verb::put: return Method::kPut;
    case bhttp::verb::patch: return Method::kPatch;
    case bhttp::verb::delete_: return Method::kDelete;
    case bhttp::verb::options: return Method::kOptions;
    case bhttp::verb::connect: return Method::kConnect;
    case bhttp::verb::trace: return Method::kTrace;
    default: return Method::kOther;
  }
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The RFC 9457 body every session-made error uses (same shape as api/problem_json).
Response problem(int status, std::string_view title, std::string_view slug, std::string_view detail,
                 std::string_view request_id) {
  Response r;
  r.status = status;
  r.content_type = kProblemType;
  std::string& out = r.body;
  out.reserve(160 + detail.size());
  out.append("{\"type\":\"https://slipway.dev/problems/");
  out.append(slug);
  out.append("\",\"title\":");
  append_json_string(out, title);
  out.append(",\"status\":");
  out.append(std::to_string(status));
  out.append(",\"detail\":");
  append_json_string(out, detail);
  out.append(",\"request_id\":");
  append_json_string(out, request_id);
  out.push_back('}');
  return r;
}

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

enum class HeaderScan : std::uint8_t { kIncomplete, kComplete, kFolded };

// Looks for the blank line that ends the header ("\r\n\r\n", the only end Beast accepts) from `pos` on, and for
// a line that starts with SP or HTAB before it: an obs-fold (RFC 9112 §5.2), which Beast would silently join
// into the previous value. `pos` is where to resume on the next call, so a header trickled in byte by byte is
// scanned once, not once per byte. Stops at the end of the header: what follows is body or the next request.
// `line_start`: byte 0 begins a line (the parser has consumed up to and including an LF), so a fold or the blank
// line that ends the header may start right there, with its LF already gone from the buffer.
HeaderScan scan_header(std::string_view bytes, std::size_t& pos, bool line_start) {
  if (line_start && pos == 0 && !bytes.empty()) {
    if (bytes[0] == ' ' || bytes[0] == '\t') return HeaderScan::kFolded;
    if (bytes[0] == '\r') {
      if (bytes.size() < 2) return HeaderScan::kIncomplete;
      if (bytes[1] == '\n') return HeaderScan::kComplete;
    }
  }
  for (std::size_t i = pos; i < bytes.size(); ++i) {
    if (bytes[i] != '\n') continue;
    pos = i;  // the bytes after this LF decide; resume here if they have not arrived
    if (i + 1 >= bytes.size()) return HeaderScan::kIncomplete;
    if (bytes[i + 1] == ' ' || bytes[i + 1] == '\t') return HeaderScan::kFolded;
    if (bytes[i + 1] != '\r' || i == 0 || bytes[i - 1] != '\r') continue;
    if (i + 2 >= bytes.size()) return HeaderScan::kIncomplete;
    if (bytes[i + 2] == '\n') return HeaderScan::kComplete;
  }
  pos = bytes.size();
  return HeaderScan::kIncomplete;
}

// RFC 9112 §6.1 and §6.3: the only transfer coding we decode is chunked, so a Transfer-Encoding field must be
// exactly one `chunked` (any case; Beast has trimmed the OWS). Anything else ("xchunked", "identity",
// "gzip, chunked", two fields) has a length we cannot determine the way every proxy would, and a message with
// both Transfer-Encoding and Content-Length is the classic smuggling setup: both are refused rather than
// framed by one header while a proxy framed it by the other. HTTP/1.0 has no Transfer-Encoding (§6.1).
bool framing_is_unambiguous(const bhttp::request_parser<bhttp::string_body>::value_type& msg) {
  std::size_t codings = 0;
  bool content_length = false;
  std::string_view coding;
  for (const auto& field : msg) {
    if (field.name() == bhttp::field::transfer_encoding) {
      ++codings;
      coding = sv(field.value());
    } else if (field.name() == bhttp::field::content_length) {
      content_length = true;
    }
  }
  if (codings == 0) return true;
  return codings == 1 && !content_length && msg.version() == 11 && ascii_iequals(coding, "chunked");
}

}  // namespace

template <class Stream>
BasicSession<Stream>::BasicSession(ServerCore& core, Loop& loop, tcp::socket&& socket, asio::ip::address client,
                                   std::shared_ptr<ssl::context> tls)
    : gate_(loop.gate),
      core_(core),
      loop_(loop),
      tls_context_(std::move(tls)),
      connected_(Clock::now()),
      client_(client) {
  if constexpr (kTls) {
    stream_.emplace(std::move(socket), *tls_context_);
  } else {
    stream_.emplace(std::move(socket));
  }
  beast::error_code ec;
  const auto endpoint = tcp().socket().remote_endpoint(ec);
  if (!ec) remote_ = endpoint.address().to_string();
  tcp().socket().set_option(tcp::no_delay(true), ec);  // a response is one write; never wait for an ACK
}

template <class Stream>
BasicSession<Stream>::~BasicSession() = default;

template <class Stream>
template <class F>
auto BasicSession<Stream>::track(F next) {
  ++pending_ops_;
  return [self = self(), next = std::move(next)](beast::error_code ec, auto... n) mutable {
    BasicSession& s = *self;
    --s.pending_ops_;
    if (ec) s.stream_failed_ = true;
    if (s.state_ == State::kClosed) return s.release_when_idle();
    next(ec, n...);
  };
}

template <class Stream>
void BasicSession<Stream>::start() {
  loop_.sessions.push_front(weak_from_this());
  registration_ = loop_.sessions.begin();
  registered_ = true;
  if constexpr (!kTls) {
    wait_request();
  } else {
    // The handshake and the first request's header share the connection's header_timeout: a client that never
    // finishes its handshake is closed like a slowloris.
    state_ = State::kHandshake;
    const auto deadline = connected_ + core_.options.header_timeout;
    const bool draining = loop_.draining || core_.draining.load(std::memory_order_relaxed);
    tcp().expires_at(draining ? std::min(deadline, Clock::now() + kDrainGrace) : deadline);
    stream_->async_handshake(ssl::stream_base::server, track([this](beast::error_code ec) { on_handshake(ec); }));
  }
}

template <class Stream>
void BasicSession<Stream>::on_handshake(beast::error_code ec) {
  if (ec) {
    core_.tls_handshakes_failed.inc();
    // Debug only: scanners and health checks that connect and go would flood the log at any other level.
    core_.logger.log(obs::Level::kDebug, "TLS handshake failed", {{"remote", remote_}, {"cause", ec.message()}});
    return close();
  }
  core_.tls_handshakes_ok.inc();
  handshake_done_ = true;
  wait_request();
}

template <class Stream>
void BasicSession<Stream>::on_drain() {
  // Busy: answers with `Connection: close`, then closes.
  if (state_ != State::kIdle && state_ != State::kHandshake) return;
  if (!first_request_) return close();      // keep-alive, between requests: HTTP lets us close it now
  // A connection that has not sent its first request yet was accepted before the listener closed: its request may
  // be on the wire already (a load balancer that has not yet seen /readyz turn 503). Closing it now would reset
  // that request unanswered, so it is served, unless it stays silent (or its TLS handshake does not finish) for
  // kDrainGrace. The read's own deadline cannot be shortened while it is pending; a timer closes it instead.
  auto timer = std::make_shared<asio::steady_timer>(loop_.ioc, kDrainGrace);
  timer->async_wait([weak = weak_from_this(), timer](const beast::error_code& ec) {
    const auto self = std::static_pointer_cast<BasicSession>(weak.lock());
    if (!ec && self && (self->state_ == State::kIdle || self->state_ == State::kHandshake)) self->close();
  });
}

template <class Stream>
bool BasicSession<Stream>::evict() {
  if (!idle_) return false;
  close();
  return true;
}

template <class Stream>
void BasicSession<Stream>::set_idle(bool idle) {
  if (idle == idle_) return;
  idle_ = idle;
  if (idle) {
    loop_.idle.fetch_add(1, std::memory_order_relaxed);
    loop_.sessions.splice(loop_.sessions.end(), loop_.sessions, registration_);  // iterators stay valid
  } else {
    loop_.idle.fetch_sub(1, std::memory_order_relaxed);
  }
}

template <class Stream>
void BasicSession<Stream>::detach() {
  if (!stream_) return;
  beast::error_code ec;
  tcp().socket().close(ec);
  // The loops have stopped: pending operations will never run, only be destroyed with their io_context, so the
  // stream may go under them (invariant 4).
  stream_.reset();
  state_ = State::kClosed;
}

template <class Stream>
void BasicSession<Stream>::wait_request() {
  state_ = State::kIdle;
  const bool draining = loop_.draining || core_.draining.load(std::memory_order_relaxed);
  if (draining && !first_request_) return close();  // see on_drain()
  if (buffer_.size() > 0) {  // pipelined: the next request is already here
    started_ = Clock::now();
    started_epoch_ms_ = epoch_ms();
    return read_header();
  }
  if (first_request_) {
    const auto deadline = connected_ + core_.options.header_timeout;
    tcp().expires_at(draining ? std::min(deadline, Clock::now() + kDrainGrace) : deadline);
  } else {
    tcp().expires_after(core_.options.idle_timeout);
    set_idle(true);
  }
  stream_->async_read_some(buffer_.prepare(kFirstReadSize),
                           track([this](beast::error_code ec, std::size_t n) { on_first_bytes(ec, n); }));
}

template <class Stream>
void BasicSession<Stream>::on_first_bytes(beast::error_code ec, std::size_t n) {
  set_idle(false);
  if (ec) return close();
  buffer_.commit(n);
  started_ = Clock::now();
  started_epoch_ms_ = epoch_ms();
  read_header();
}

template <class Stream>
void BasicSession<Stream>::read_header() {
  state_ = State::kHeader;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(core_.options.header_limit, UINT32_MAX)));
  // No body limit yet: Beast would check Content-Length against its 1 MB default while parsing the header.
  // The route's limit is known once the header is (on_header), and applied there.
  parser_->body_limit(boost::none);
  // The whole header within header_timeout: of the connection for its first request, else of the first byte.
  tcp().expires_at((first_request_ ? connected_ : started_) + core_.options.header_timeout);
  header_scanned_ = 0;
  header_consumed_ = 0;
  header_line_start_ = false;
  req_ready_ = false;  // req_ still describes the previous request, whose parser is gone: reject() must not use it
  parse_header();
}

// Our own read loop rather than bhttp::async_read_header: the raw header bytes must be seen before Beast parses
// them, because Beast accepts obs-folds and leaves no trace of them in the parsed values. Beast is still fed every
// read (as async_read_header does), so garbage such as a TLS ClientHello is refused at once; it parses the
// fields only once all of them are buffered, and only consumes the request line before that.
template <class Stream>
void BasicSession<Stream>::parse_header() {
  const auto data = buffer_.data();
  const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
  if (scan_header(bytes, header_scanned_, header_line_start_) == HeaderScan::kFolded) return reject(400);
  beast::error_code ec;
  const std::size_t used = parser_->put(buffer_.data(), ec);
  if (used > 0) header_line_start_ = bytes[used - 1] == '\n';  // what the next scan's byte 0 follows
  buffer_.consume(used);
  header_consumed_ += used;
  header_scanned_ -= std::min(used, header_scanned_);
  if (!ec && !parser_->is_header_done()) ec = bhttp::error::need_more;
  if (ec != bhttp::error::need_more) return on_header(ec);
  // The whole header, consumed or still buffered, against header_limit (Beast checks too; this bounds our buffer
  // and does not depend on how Beast counts consumed fields).
  if (header_consumed_ + buffer_.size() >= core_.options.header_limit) {
    // Beast consumes the request line as soon as it is whole: nothing consumed means the target alone is too long.
    return reject(header_consumed_ == 0 ? 414 : 431);
  }
  stream_->async_read_some(buffer_.prepare(kFirstReadSize), track([this](beast::error_code e, std::size_t n) {
                             if (e) return close();  // the peer left, reset, or timed out: nobody to answer
                             buffer_.commit(n);
                             parse_header();
                           }));
}

template <class Stream>
void BasicSession<Stream>::on_header(beast::error_code ec) {
  if (state_ == State::kClosed) return;
  first_request_ = false;
  req_ready_ = false;
  if (ec) {
    if (ec == bhttp::error::header_limit) return reject(header_consumed_ == 0 ? 414 : 431);
    if (ec == bhttp::error::body_limit) return reject(413);
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || !is_http_error(ec)) {
      return close();  // the peer left or timed out: nobody to answer
    }
    return reject(400);
  }
  begin_request();
  if (!framing_is_unambiguous(parser_->get())) return reject(400);
  if (req_.target.size() > core_.options.target_limit) return reject(414);
  Admission admission = core_.handler.admit(req_);
  if (admission.answer) return answer_early(std::move(*admission.answer));
  const std::size_t limit = admission.body_limit;
  parser_->body_limit(limit);
  bool expect_continue = false;
  if (const std::string_view expect = sv(parser_->get()[bhttp::field::expect]); !expect.empty()) {
    if (!ascii_iequals(expect, "100-continue")) return reject(417);
    expect_continue = true;
  }
  if (const auto length = parser_->content_length(); length && *length > limit) return reject(413);
  if (parser_->is_done()) return dispatch();
  state_ = State::kBody;
  tcp().expires_after(core_.options.body_timeout);
  auto read_body = [this] {
    bhttp::async_read(*stream_, buffer_, *parser_, track([this](beast::error_code ec, std::size_t) { on_body(ec); }));
  };
  if (!expect_continue) return read_body();
  asio::async_write(*stream_, asio::buffer(kContinue.data(), kContinue.size()),
                    track([this, read_body](beast::error_code ec, std::size_t) {
                      if (ec) return close();
                      read_body();
                    }));
}

template <class Stream>
void BasicSession<Stream>::on_body(beast::error_code ec) {
  if (ec) {
    if (ec == bhttp::error::body_limit) return reject(413);
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || !is_http_error(ec)) {
      return close();
    }
    return reject(400);
  }
  dispatch();
}

template <class Stream>
void BasicSession<Stream>::begin_request() {
  auto& msg = parser_->get();
  req_.method = to_method(msg.method());
  req_.target = sv(msg.target());
  const std::size_t q = req_.target.find('?');
  req_.path = req_.target.substr(0, q);
  req_.query = q == std::string_view::npos ? std::string_view() : req_.target.substr(q + 1);
  req_.headers.clear();
  for (const auto& field : msg) req_.headers.emplace_back(sv(field.name_string()), sv(field.value()));
  req_.body.clear();
  req_.remote_addr = remote_;
  req_.response_headers.clear();
  if (const std::string_view id = req_.header("X-Request-Id"); valid_request_id(id)) req_.request_id.assign(id);
  else generate_request_id(req_.request_id);
  TraceParent tp;
  if (parse_traceparent(req_.header("traceparent"), tp)) {
    req_.trace_id.assign(tp.trace_id);
    req_.parent_span.assign(tp.parent_id);
    trace_flags_.assign(tp.flags);
  } else {
    generate_trace_id(req_.trace_id);
    req_.parent_span.clear();
    trace_flags_.assign("01");
  }
  keep_alive_ = msg.keep_alive();
  http10_ = msg.version() == 10;
  req_ready_ = true;
}

void Gate::post(std::function<void()> work) const {
  std::lock_guard lock(mu);
  if (!ioc) return;  // the loop has stopped for good
  asio::post(*ioc, std::move(work));
}

template <class Stream>
void BasicSession<Stream>::dispatch() {
  req_.body = std::move(parser_->get().body());
  req_.loop = gate_.get();
  state_ = State::kHandling;
  responded_ = false;
  core_.in_flight.fetch_add(1, std::memory_order_relaxed);
  core_.metrics.inc_in_flight();
  counted_in_flight_ = true;
  const std::uint64_t generation = generation_;
  const char* failure = nullptr;
  std::string what;
  try {
    core_.handler.handle(
        req_, [self = self(), generation](Response&& response) { self->deliver(generation, std::move(response)); });
  } catch (const std::exception& e) {
    failure = "handler threw";
    what = e.what();
  } catch (...) {
    failure = "handler threw";
    what = "a non-standard exception";
  }
  if (!failure) return;
  // The cause goes to the log only; the client sees a generic problem with the request id to quote.
  core_.logger.log(obs::Level::kError, failure, {{"request_id", req_.request_id}, {"cause", what}});
  if (generation == generation_ && state_ == State::kHandling && !responded_) {
    on_response(generation, problem(500, "Internal Server Error", "internal", "An unexpected error occurred.",
                                    req_.request_id));
  }
}

template <class Stream>
void BasicSession<Stream>::deliver(std::uint64_t generation, Response&& response) {
  // Only compares addresses: `loop_` may already be gone when a late Responder runs after the server stopped.
  if (current_loop() == &loop_) return on_response(generation, std::move(response));
  std::lock_guard lock(gate_->mu);
  if (!gate_->ioc) return;  // the loop has stopped for good: nobody left to answer
  asio::post(*gate_->ioc, [self = self(), generation, r = std::move(response)]() mutable {
    self->on_response(generation, std::move(r));
  });
}

template <class Stream>
void BasicSession<Stream>::on_response(std::uint64_t generation, Response&& response) {
  if (generation != generation_ || state_ != State::kHandling || responded_) return;  // stale, twice, or closed
  responded_ = true;
  resp_ = std::move(response);
  if (resp_.status < 200 || resp_.status > 599) {
    core_.logger.log(obs::Level::kError, "handler returned an invalid status",
                     {{"request_id", req_.request_id}, {"status", std::to_string(resp_.status)}});
    const std::string_view route = resp_.route;
    resp_ = problem(500, "Internal Server Error", "internal", "An unexpected error occurred.", req_.request_id);
    resp_.route = route;
  }
  finish_response();
  write();
}

template <class Stream>
void BasicSession<Stream>::finish_response() {
  for (auto& header : req_.response_headers) resp_.headers.push_back(std::move(header));
  req_.response_headers.clear();
  core_.handler.finish_response(req_, resp_);
}

template <class Stream>
void BasicSession<Stream>::answer_early(Response&& response) {
  state_ = State::kHandling;
  responded_ = false;
  counted_in_flight_ = true;  // finish_request() counts it out, like a handled request
  core_.in_flight.fetch_add(1, std::memory_order_relaxed);
  core_.metrics.inc_in_flight();
  if (!parser_->is_done()) {  // a body follows that nobody will read: answer, then close (invariant 6)
    keep_alive_ = false;
    linger_after_write_ = true;
  }
  on_response(generation_, std::move(response));
}

template <class Stream>
void BasicSession<Stream>::reject(int status) {
  if (!req_ready_) {  // the header never parsed: nothing of the client's to trust
    req_.method = Method::kOther;
    generate_request_id(req_.request_id);
    generate_trace_id(req_.trace_id);
    req_.parent_span.clear();
    trace_flags_.assign("01");
    http10_ = false;
  }
  switch (status) {
    case 413:
      resp_ = problem(413, "Content Too Large", "payload-too-large",
                      "The request body exceeds the limit for this route.", req_.request_id);
      break;
    case 417:
      resp_ = problem(417, "Expectation Failed", "expectation-failed", "Only 'Expect: 100-continue' is supported.",
                      req_.request_id);
      break;
    case 414:
      resp_ = problem(414, "URI Too Long", "uri-too-long",
                      "The request target exceeds " + std::to_string(core_.options.target_limit) + " bytes.",
                      req_.request_id);
      break;
    case 431:
      resp_ = problem(431, "Request Header Fields Too Large", "header-too-large",
                      "The request line and headers exceed " + std::to_string(core_.options.header_limit) + " bytes.",
                      req_.request_id);
      break;
    default:
      resp_ = problem(400, "Bad Request", "bad-request", "The request is not valid HTTP/1.1.", req_.request_id);
      break;
  }
  // A 413 or 417 follows a parsed header and admit(): the page that sent it (CORS) must be able to read why it
  // failed, and the RateLimit fields admit() added belong on it too.
  if (req_ready_) finish_response();
  keep_alive_ = false;
  linger_after_write_ = true;
  responded_ = true;
  write();
}

template <class Stream>
void BasicSession<Stream>::write() {
  state_ = State::kWriting;
  if (loop_.draining || core_.draining.load(std::memory_order_relaxed)) keep_alive_ = false;
  head_.clear();
  const HeadOptions options{keep_alive_,   http10_,      req_.request_id,
                            req_.trace_id, trace_flags_, kTls ? std::string_view(core_.hsts) : std::string_view()};
  if (append_response_head(head_, resp_, options) > 0) {
    core_.logger.log(obs::Level::kWarn, "unsafe or reserved response headers dropped",
                     {{"request_id", req_.request_id}, {"route", resp_.route}});
  }
  body_bytes_ = (status_has_body(resp_.status) && req_.method != Method::kHead) ? resp_.body.size() : 0;
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head_), asio::buffer(resp_.body.data(), body_bytes_)};
  tcp().expires_after(core_.options.body_timeout);  // a client that stops reading cannot pin the connection
  asio::async_write(*stream_, buffers, track([this](beast::error_code ec, std::size_t) { on_write(ec); }));
}

template <class Stream>
void BasicSession<Stream>::on_write(beast::error_code ec) {
  finish_request();
  if (ec) return close();
  if (linger_after_write_) return linger();
  if (!keep_alive_) return close();
  parser_.reset();
  ++generation_;
  wait_request();
}

template <class Stream>
void BasicSession<Stream>::finish_request() {
  const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  const std::string_view method = method_name(req_ready_ ? req_.method : Method::kOther);
  core_.metrics.record(resp_.route, method, resp_.status, seconds);
  obs::AccessRecord record;
  record.time_ms = started_epoch_ms_;
  record.method = method;
  record.route = resp_.route;
  record.status = resp_.status;
  record.duration_ms = seconds * 1000.0;
  record.bytes = body_bytes_;
  record.request_id = req_.request_id;
  record.trace_id = req_.trace_id;
  record.user_id = resp_.user_id;
  record.remote = req_ready_ ? std::string_view(req_.remote_addr) : std::string_view(remote_);
  core_.logger.access(record);
  if (counted_in_flight_) {
    counted_in_flight_ = false;
    core_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    core_.metrics.dec_in_flight();
  }
}

template <class Stream>
void BasicSession<Stream>::linger() {
  state_ = State::kLinger;
  linger_until_ = Clock::now() + kLingerTime;
  if constexpr (kTls) {
    return send_close_notify([this] {
      if (state_ == State::kClosed) return release_when_idle();
      linger_transport();
    });
  }
  linger_transport();
}

template <class Stream>
void BasicSession<Stream>::linger_transport() {
  beast::error_code ec;
  tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
  linger_read();
}

// Reads the socket itself, also under TLS: the bytes are discarded, and the TLS session has ended (close_notify).
template <class Stream>
void BasicSession<Stream>::linger_read() {
  buffer_.consume(buffer_.size());
  tcp().expires_at(linger_until_);
  tcp().async_read_some(buffer_.prepare(kLingerReadSize), track([this](beast::error_code ec, std::size_t) {
                          if (ec) return close();  // EOF, reset or the linger time is up
                          linger_read();
                        }));
}

template <class Stream>
void BasicSession<Stream>::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  set_idle(false);
  core_.release_client(client_);
  if (counted_in_flight_) {
    counted_in_flight_ = false;
    core_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    core_.metrics.dec_in_flight();
  }
  parser_.reset();  // no operation reads into it now: close() never runs while a body is being read
  if (!stream_) return release_when_idle();  // detached
  if constexpr (kTls) {
    // The server ends a sound TLS session: the peer is told it is a close, not a truncation.
    if (handshake_done_ && !stream_failed_ && !close_notify_sent_)
      return send_close_notify([this] { close_transport(); });
  }
  close_transport();
}

template <class Stream>
template <class F>
void BasicSession<Stream>::send_close_notify(F then) {
  close_notify_sent_ = true;
  // Marked as if the peer's close_notify had come: SSL_shutdown then sends ours and completes once it is written,
  // instead of waiting to read the peer's (which HTTP clients seldom send) — a one-way close, as RFC 8446 §6.1
  // allows. A peer that does not take it within kCloseNotifyTime is closed regardless.
  SSL_set_shutdown(stream_->native_handle(), SSL_get_shutdown(stream_->native_handle()) | SSL_RECEIVED_SHUTDOWN);
  tcp().expires_after(kCloseNotifyTime);
  ++pending_ops_;  // counted like track(), but `then` also runs after close()
  stream_->async_shutdown([self = self(), then = std::move(then)](beast::error_code) mutable {
    --self->pending_ops_;
    then();
  });
}

template <class Stream>
void BasicSession<Stream>::close_transport() {
  if (stream_) {
    beast::error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().socket().close(ec);  // pending operations complete now, with operation_aborted
  }
  release_when_idle();
}

template <class Stream>
void BasicSession<Stream>::release_when_idle() {
  if (pending_ops_ > 0 || !registered_) return;
  stream_.reset();
  loop_.sessions.erase(registration_);
  registered_ = false;
  core_.session_closed();
}

template class BasicSession<beast::tcp_stream>;
template class BasicSession<beast::ssl_stream<beast::tcp_stream>>;

}  // namespace slipway::http
