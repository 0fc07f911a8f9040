// Private to src/http: the state an event loop and its sessions share, and what every session sees of the server.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/handler.h"
#include "http/server.h"  // also declares obs::Logger and obs::RequestMetrics
#include "obs/metrics.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

namespace slipway::http {

class Session;

// How a Responder on a foreign thread reaches a loop. Closed (ioc == nullptr) once the loop has stopped for good,
// so a late Responder drops its response instead of posting to a dead io_context. Shared with sessions, which
// may outlive the Server.
struct Gate final : Continuation {
  mutable std::mutex mu;
  boost::asio::io_context* ioc = nullptr;  // GUARDED_BY(mu)

  void post(std::function<void()> work) const override;
};

struct Loop {
  Loop() : ioc(1), work(ioc.get_executor()), gate(std::make_shared<Gate>()) { gate->ioc = &ioc; }

  boost::asio::io_context ioc;  // concurrency hint 1: one thread runs it
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
  std::shared_ptr<Gate> gate;
  // Owned by the loop's thread (and by the server thread once the loop has stopped). A session moves to the back
  // each time it starts waiting for a next request, so the idle ones nearest the front have waited longest.
  std::list<std::weak_ptr<Session>> sessions;
  bool draining = false;
  // Keep-alive sessions of this loop waiting for their next request. Written by the loop's thread only; read by
  // the listener to find idle connections to close when the server is full.
  std::atomic<std::size_t> idle{0};
};

// The loop whose thread is the caller's, or nullptr (e.g. the storage writer thread).
Loop* current_loop();
void set_current_loop(Loop* loop);

// The client a connection is counted under for max_connections_per_client: its IPv4 address (also when it comes
// as an IPv4-mapped IPv6 one), or the /64 of an IPv6 address — one host is routinely given a whole /64, so
// counting single IPv6 addresses would limit nobody.
boost::asio::ip::address client_of(const boost::asio::ip::address& address);

// What sessions share. Outlives every session callback that runs on a loop (loops stop before it dies).
struct ServerCore {
  ServerCore(ServerOptions o, Handler& h, obs::Logger& l, obs::RequestMetrics& m);

  const ServerOptions options;
  Handler& handler;
  obs::Logger& logger;
  obs::RequestMetrics& metrics;

  // TLS (options.tls set). The context a new TLS connection is made with: reload_tls() swaps it, and each session
  // keeps the one it was made with, so a reload never drops an open connection.
  std::shared_ptr<boost::asio::ssl::context> tls_context() const;
  void set_tls_context(std::shared_ptr<boost::asio::ssl::context> context);
  // The Strict-Transport-Security value of every response over TLS ("max-age=63072000"); empty: none.
  const std::string hsts;
  obs::Counter tls_handshakes_ok;      // slipway_tls_handshakes_total{result="ok"}
  obs::Counter tls_handshakes_failed;  // {result="failed"}: refused (protocol, ciphers, ALPN), broken or timed out
  obs::Gauge tls_certificate_expiry;   // slipway_tls_certificate_expiry_timestamp_seconds of the served certificate

  std::atomic<std::size_t> open_sessions{0};
  std::atomic<std::size_t> in_flight{0};
  // Idle keep-alive sessions the listener has asked a loop to close and that are not closed yet: admitting a
  // connection beyond max_connections is only fair while this is below the number of idle sessions.
  std::atomic<std::size_t> evictions_pending{0};

  // Open connections per client (see client_of()), so one client cannot hold every connection. The listener
  // counts a connection in when it accepts it; its session counts it out when it closes, on any loop.
  // False (and nothing counted) when `client` already holds max_connections_per_client.
  bool acquire_client(const boost::asio::ip::address& client);
  void release_client(const boost::asio::ip::address& client);
  // Set before on_drain() runs: from then on every response carries `Connection: close`, even one written
  // before its loop has swept its sessions.
  std::atomic<bool> draining{false};

  // run() sleeps on `cv` until a stop is requested, then until open_sessions drops to zero.
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;  // GUARDED_BY(mu)

  std::mutex clients_mu;
  std::unordered_map<boost::asio::ip::address, std::size_t> clients;  // GUARDED_BY(clients_mu); no zero counts

  mutable std::mutex tls_mu;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;  // GUARDED_BY(tls_mu)

  void session_closed() {
    if (open_sessions.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard lock(mu);  // pairs with the waiter's predicate check: no lost wake-up
      cv.notify_all();
    }
  }
};

}  // namespace slipway::http
