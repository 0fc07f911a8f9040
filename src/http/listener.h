// Listener: one acceptor (on loop 0) — the server has one for plain HTTP and one for TLS. Hands each accepted
// connection round-robin to an event loop, where a PlainSession or a TlsSession (with the TLS context current at
// accept) takes it over. Both listeners share the loops, max_connections and the per-client counts. Refuses a
// connection from a client that already holds max_connections_per_client, and one beyond max_connections unless
// an idle keep-alive connection can be closed to make room (the one idle longest on the loop with most idle ones):
// with a canned 503 on the plain listener; on the TLS listener it is just closed (the 503 is plaintext).
// Private to src/http. Thread safety: open() before the loops run; start()/stop() on loop 0's thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "http/loop.h"

namespace slipway::http {

class Listener {
 public:
  enum class Kind : std::uint8_t { kPlain, kTls };
  Listener(ServerCore& core, std::vector<std::unique_ptr<Loop>>& loops, Kind kind);
  Status open(const std::string& host, std::uint16_t port);
  std::uint16_t port() const { return port_; }
  void start();
  void stop();

 private:
  enum class Refusal : std::uint8_t { kFull, kClient };
  void accept();
  // A new connection: served on `target`, or refused (max_connections, per-client limit).
  void admit(boost::asio::ip::tcp::socket socket, Loop& target);
  bool evict_idle();
  void refuse(boost::asio::ip::tcp::socket& socket, Refusal why, const boost::asio::ip::address& client);

  ServerCore& core_;
  std::vector<std::unique_ptr<Loop>>& loops_;
  const Kind kind_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::size_t next_loop_ = 0;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace slipway::http
