// Session: one HTTP/1.1 connection, plain or over TLS, owned by one event loop (private to src/http; includes
// Beast). One state machine for both: BasicSession<Stream> is instantiated for beast::tcp_stream (PlainSession) and
// for beast::ssl_stream<beast::tcp_stream> (TlsSession) in session.cpp; what differs is the handshake before the
// first request, HSTS on every response, and close_notify before closing. The loop and the listener see the
// non-template Session.
//
// States (each read arms the stream's deadline first; Beast's tcp_stream closes the socket when it passes):
//
//   kHandshake ──TLS handshake ok──▶ kIdle      TLS only, under the connection's header_timeout (the deadline of
//                                                its first request's header too); a plain session starts in kIdle
//
//   kIdle ──first byte──▶ kHeader ──header ok──▶ kBody ──body ok──▶ kHandling ──Responder──▶ kWriting
//     ▲  (idle_timeout;      │ (header_timeout,      │ (body_timeout)      (no deadline)          │
//     │   header_timeout     │  counted from the     │                                           │
//     │   on a new conn.)    │  first byte)          │                                           │
//     └────────────── keep-alive ◀───────────────────┼───────────────────────────────────────────┘
//                            │ 400 / 431, admit()'s  │ 413                    not keep-alive ──▶ kClosed
//                            └──────────▶ kWriting(error) ──▶ kLinger (shutdown send, discard ≤ 2 s) ──▶ kClosed
//
// Closing over TLS: a connection the server closes (not keep-alive, drain, eviction, linger) first sends a
// close_notify alert (RFC 9112 §9.8) without waiting for the peer's; one that failed, timed out or was closed by
// the peer is just closed. Lingering over TLS reads and discards raw bytes after the close_notify.
//
// Framing (RFC 9112 §6): a request is refused with 400 and closed — never guessed at — when its header has an
// obs-fold (a line starting with SP/HTAB), when Transfer-Encoding is anything but one `chunked`, when it has both
// Transfer-Encoding and Content-Length, or when an HTTP/1.0 request has Transfer-Encoding. A proxy in front may
// frame such a request differently from us; answering it at all is how requests get smuggled.
//
// Invariants:
//  1. Everything but respond() runs on the loop's thread; respond() only posts (through the Gate) or, when
//     already on that thread, calls straight through.
//  2. A Responder holds the session (shared_ptr) and the request generation; a stale or second call is ignored,
//     and so is one that arrives after the connection closed.
//  3. req_'s string_views point into parser_, which lives until the response of that request is written.
//  4. While registered in its loop, a session has a stream. close() shuts the connection at once; the stream is
//     destroyed, and the session unregistered and counted out of ServerCore::open_sessions, only once no operation
//     on it is pending (an SSL stream must not be destroyed under one; close_notify is such an operation). The
//     server sweeps (detach()) the ones left when the loops stop, so no socket outlives its io_context.
//  5. idle_ is true exactly while a keep-alive connection (one that has had a response) waits in kIdle for its next
//     request; it is counted in Loop::idle then, and only then may evict() close it. close() gives back the
//     connection's place in ServerCore's per-client count, once.
//  6. A request admit() answers (http/handler.h) never has its body read: the answer goes out with
//     `Connection: close` when a body follows, and the connection lingers as after a 413, so the unread body is
//     never taken for the next request.
//  7. Every operation on the stream is started with a handler from track(), which counts it in pending_ops_; a
//     completion after close() only counts down (invariant 4), it never continues the state machine. The one
//     exception is send_close_notify(): it counts its shutdown by hand, since what follows it must also run after
//     close().
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>

#include "http/loop.h"
#include "http/request.h"
#include "http/response.h"

namespace slipway::http {

// What the loop (drain, eviction, sweep) and the listener see of a connection, plain or TLS. Loop thread only,
// except detach() (the server thread, after the loops stopped).
class Session : public std::enable_shared_from_this<Session> {
 public:
  virtual ~Session() = default;
  virtual void start() = 0;  // registers in its loop and waits for the first request (TLS: the handshake first)
  // A keep-alive connection between requests closes now; a busy one closes after its response; a new one that has
  // not sent its first request yet is served once (its request may be on the wire) unless silent.
  virtual void on_drain() = 0;
  virtual void detach() = 0;  // drop the socket while its io_context is still alive
  virtual bool evict() = 0;   // closes the connection if it is idle between requests (invariant 5)
};

template <class Stream>
class BasicSession final : public Session {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, boost::beast::tcp_stream>;

  // `client`: what the listener counted this connection under (ServerCore::acquire_client); close() releases it.
  // `tls`: the context a TLS session is made with (held for the connection's life); nullptr for a plain one.
  BasicSession(ServerCore& core, Loop& loop, boost::asio::ip::tcp::socket&& socket, boost::asio::ip::address client,
               std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~BasicSession() override;
  BasicSession(const BasicSession&) = delete;
  BasicSession& operator=(const BasicSession&) = delete;

  void start() override;
  void on_drain() override;
  void detach() override;
  bool evict() override;

 private:
  enum class State : std::uint8_t { kHandshake, kIdle, kHeader, kBody, kHandling, kWriting, kLinger, kClosed };
  using Clock = std::chrono::steady_clock;

  std::shared_ptr<BasicSession> self() { return std::static_pointer_cast<BasicSession>(shared_from_this()); }
  boost::beast::tcp_stream& tcp() { return boost::beast::get_lowest_layer(*stream_); }
  // A completion handler for an operation on the stream (invariant 7): keeps the session alive, counts the
  // operation, notes a failed stream, and calls `next` only while the session is open.
  template <class F>
  auto track(F next);

  void on_handshake(boost::beast::error_code ec);
  void wait_request();
  void set_idle(bool idle);  // keeps Loop::idle and the session's place in Loop::sessions (invariant 5)
  void on_first_bytes(boost::beast::error_code ec, std::size_t n);
  void read_header();
  void parse_header();  // feeds the parser once the whole header is buffered and free of obs-folds
  void on_header(boost::beast::error_code ec);
  void on_body(boost::beast::error_code ec);
  void begin_request();  // fills req_ from the parsed header
  void dispatch();
  void deliver(std::uint64_t generation, Response&& response);  // any thread
  void on_response(std::uint64_t generation, Response&& response);
  // The headers admit() added (Request::response_headers), then the handler's finish_response(), on resp_.
  void finish_response();
  void answer_early(Response&& response);  // admit()'s answer, before any body (invariant 6)
  void reject(int status);  // 400/413/414/417/431 before the handler: answer, then close with linger
  void write();
  void on_write(boost::beast::error_code ec);
  void finish_request();
  void linger();
  void linger_transport();  // after any close_notify: shutdown send, then discard what arrives
  void linger_read();
  void close();
  // TLS: sends close_notify (not waiting for the peer's), then calls `then`, also when that failed.
  template <class F>
  void send_close_notify(F then);
  void close_transport();  // closes the socket; the stream goes once no operation is pending
  void release_when_idle();

  // First member: destroyed last, after the stream (invariant 4).
  std::shared_ptr<Gate> gate_;
  ServerCore& core_;
  Loop& loop_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // before stream_: its SSL object refers to it
  std::optional<Stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  std::list<std::weak_ptr<Session>>::iterator registration_;
  bool registered_ = false;
  bool idle_ = false;
  State state_ = State::kIdle;
  std::size_t pending_ops_ = 0;  // operations on the stream not completed yet (invariant 7)
  bool stream_failed_ = false;   // an operation failed (peer gone, reset, timed out): no close_notify
  bool handshake_done_ = false;  // TLS: the handshake succeeded
  bool close_notify_sent_ = false;
  bool first_request_ = true;
  bool keep_alive_ = true;
  bool linger_after_write_ = false;
  bool responded_ = false;
  bool counted_in_flight_ = false;
  bool req_ready_ = false;            // req_ describes the current request (its header parsed)
  bool http10_ = false;
  std::uint64_t generation_ = 0;
  Clock::time_point connected_;
  Clock::time_point started_;         // first byte of the current request
  std::int64_t started_epoch_ms_ = 0;
  Clock::time_point linger_until_;
  std::size_t body_bytes_ = 0;        // body bytes of the response being written
  std::size_t header_scanned_ = 0;    // bytes of the buffered header already checked for its end and obs-folds
  std::size_t header_consumed_ = 0;   // header bytes the parser has consumed (left the buffer) so far
  bool header_line_start_ = false;    // the buffer's first byte begins a header line
  std::string remote_;
  boost::asio::ip::address client_;
  Request req_;
  Response resp_;
  std::string trace_flags_;
  std::string head_;
};

using PlainSession = BasicSession<boost::beast::tcp_stream>;
using TlsSession = BasicSession<boost::beast::ssl_stream<boost::beast::tcp_stream>>;
extern template class BasicSession<boost::beast::tcp_stream>;
extern template class BasicSession<boost::beast::ssl_stream<boost::beast::tcp_stream>>;

}  // namespace slipway::http
