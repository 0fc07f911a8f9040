// Listener: the one acceptor (on loop 0). Hands each accepted connection round-robin to an event loop, where a
// Session takes it over; refuses connections beyond max_connections with a canned 503.
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
  Listener(ServerCore& core, std::vector<std::unique_ptr<Loop>>& loops);
  Status open(const std::string& host, std::uint16_t port);
  std::uint16_t port() const { return port_; }
  void start();
  void stop();

 private:
  void accept();
  void refuse(boost::asio::ip::tcp::socket& socket);

  ServerCore& core_;
  std::vector<std::unique_ptr<Loop>>& loops_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  std::size_t next_loop_ = 0;
  std::uint16_t port_ = 0;
  bool stopped_ = false;
  std::chrono::steady_clock::time_point last_warning_{};
};

}  // namespace slipway::http
