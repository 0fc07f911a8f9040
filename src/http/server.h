// Server: the HTTP/1.1 front door, over plain TCP and over TLS. Owns the event loops, the listeners and every
// connection's session; calls the Handler for each request, then records the access log line and RED metrics.
//
// Threading: N event loops, each an io_context run by exactly one thread; one acceptor per listener (plain, TLS;
// both on loop 0) hands each new connection round-robin to a loop, which then owns it for its whole life (see
// server.cpp for why).
// Lifecycle: construct → start() (load the TLS files, bind + listen) → run() (blocks) → destroy. request_stop() and
// SIGTERM/SIGINT begin the drain; see run(). SIGHUP (with TLS) and reload_tls() reload the certificate. Handlers may
// still hold Responders after run() returns: calling one then is harmless (the response is dropped), even after the
// Server is destroyed.
// Thread safety: port(), tls_port(), in_flight(), request_stop() and reload_tls() may be called from any thread;
// the rest from the owner.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/result.h"
#include "http/handler.h"

namespace slipway::obs {
class Logger;
class RequestMetrics;
}  // namespace slipway::obs

namespace slipway::http {

// The TLS listener. Responses on it carry Strict-Transport-Security; see docs/security.md#tls for the protocol and
// cipher policy (src/http/tls_context.h).
struct TlsOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8443;  // 0: an ephemeral port; tls_port() tells which
  std::string cert_file;      // PEM: the certificate, then the intermediates that chain it to a root
  std::string key_file;       // PEM: its private key, unencrypted
  // Strict-Transport-Security (RFC 6797) on every response over TLS, never over plain HTTP: browsers then use
  // https:// only for this host for that long. 0: no header (e.g. while trying TLS out: a browser keeps the rule
  // for max-age seconds even if TLS is turned off again).
  std::int64_t hsts_max_age_s = 63072000;  // two years
  bool hsts_include_subdomains = false;    // the rule covers every subdomain too: only when all of them serve TLS
};

struct ServerOptions {
  bool plain = true;  // the plain HTTP listener on host:port; false: TLS only
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;                        // 0: an ephemeral port; port() tells which
  std::optional<TlsOptions> tls;                    // set: the TLS listener too
  int threads = 0;                                  // event loops; 0: one per core
  std::size_t header_limit = 16 * 1024;             // request line + headers, bytes; more → 431 and close
  std::size_t target_limit = 8 * 1024;              // the request target (path and query), bytes; more → 414
  std::chrono::milliseconds header_timeout{10000};  // the whole header must arrive within (slowloris) → close
  std::chrono::milliseconds body_timeout{30000};    // the whole body must arrive within → close
  std::chrono::milliseconds idle_timeout{60000};    // keep-alive: wait for the next request's first byte
  std::chrono::milliseconds drain_timeout{20000};   // on stop: longest wait for in-flight requests
  // Open connections (plain and TLS together) beyond this are accepted, answered with a canned 503 (on the TLS
  // listener: closed, since that answer is plaintext) (Connection: close) and closed at
  // once, so a flood cannot exhaust file descriptors or memory; the kernel backlog is not left to fill.
  std::size_t max_connections = 10000;
  // Open connections one client may hold (an IPv4 address, or an IPv6 /64); more are refused with the same 503.
  // Without it, one client opening max_connections idle keep-alive connections would lock everyone else out for
  // idle_timeout. Behind a reverse proxy every connection comes from the proxy: raise it to the proxy's pool size.
  std::size_t max_connections_per_client = 256;
  // When max_connections is reached, the keep-alive connection idle for longest (one waiting for its next
  // request, never one in the middle of a request) is closed to admit the new one; only when none is idle is the
  // new connection refused. A client sees its idle keep-alive connection close, which HTTP allows at any time.
};

class Server {
 public:
  Server(ServerOptions options, Handler& handler, obs::Logger& logger, obs::RequestMetrics& metrics);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Loads the TLS files (load_tls_files() below), binds and listens. A Problem when a file is bad or an address bad
  // or taken, e.g. "cannot listen on 127.0.0.1:8080: Address already in use".
  Status start();
  std::uint16_t port() const;      // the plain listener's port; 0 before start() or without one
  std::uint16_t tls_port() const;  // the TLS listener's port; 0 before start() or without one

  // Loads the certificate and key files again into a new context: connections accepted from then on use it, open
  // ones keep the one they were made with (nothing is dropped). On failure the current certificate stays and the
  // Problem names the file. Either way a log line says what happened (with the new certificate's notAfter), and
  // slipway_tls_certificate_expiry_timestamp_seconds follows the certificate served. SIGHUP calls it.
  // REQUIRES: start() succeeded with TLS.
  Status reload_tls();

  // REQUIRES: start() succeeded. Runs the event loops until drained. With TLS, SIGHUP (installed here, only then)
  // calls reload_tls(). On SIGTERM/SIGINT (installed here) or
  // request_stop(): 1) calls on_drain (e.g. /readyz turns 503), 2) stops accepting (connections the kernel already
  // completed are accepted first, not reset), 3) closes keep-alive connections waiting between requests and lets
  // in-flight requests finish (their responses carry `Connection: close`); a connection that has not sent its first
  // request yet gets one answer, unless it stays silent for a second; all bounded by drain_timeout, 4) returns.
  // A load balancer that still sends new connections until its health check sees 503 therefore gets either a
  // refused connection (safe to retry elsewhere) or an answer, never a request reset mid-way.
  void run(std::function<void()> on_drain = {});
  // Same as a signal. May be called before run() (run() then drains at once) and from any thread.
  void request_stop();
  // Requests read whole (header and body) and handed to the handler, or answered from admit(), whose response has
  // not been written yet. A request still sending its body is not counted (it holds a connection, not a handler).
  std::size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Loads the certificate and key as start() will, and drops them: for `slipway check`, and for `serve` to refuse bad
// files before it opens the database. The Problem names the file, e.g.
// "TLS private key /etc/slipway/key.pem does not match the certificate /etc/slipway/cert.pem".
Status check_tls_files(const TlsOptions& options);

}  // namespace slipway::http
