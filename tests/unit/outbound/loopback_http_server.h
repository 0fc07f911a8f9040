// A tiny HTTP/1.1 server on a loopback port, on its own thread, for testing the outbound client against a real
// peer (real sockets, real libcurl; nothing mocked). One connection at a time: it reads a request (head and
// Content-Length body), asks the handler what to answer, writes that and closes.
// The port is bound at construction; with listening=false it refuses connections (bound, not listening) until
// listen() is called, which keeps the port ours for a "refused, then up" test without any race for it.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace slipway::outbound::testing {

class LoopbackHttpServer {
 public:
  // The raw response to write for a request (its head and body as received), or nullopt to accept and never answer.
  using Handler = std::function<std::optional<std::string>(const std::string& request)>;

  explicit LoopbackHttpServer(Handler handler, bool listening = true) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || ::pipe2(stop_, O_CLOEXEC) != 0)
      throw std::runtime_error("loopback server: socket setup failed");
    port_ = ntohs(addr.sin_port);
    if (listening) listen();
  }

  ~LoopbackHttpServer() {
    const char byte = 0;
    (void)!::write(stop_[1], &byte, 1);
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
    ::close(stop_[0]);
    ::close(stop_[1]);
  }

  LoopbackHttpServer(const LoopbackHttpServer&) = delete;
  LoopbackHttpServer& operator=(const LoopbackHttpServer&) = delete;

  void listen() {
    if (::listen(fd_, 16) != 0) throw std::runtime_error("loopback server: listen failed");
    thread_ = std::thread([this] { run(); });
  }

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::string destination() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_.load(); }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  // Waits until `fd` is readable; false when the server is stopping.
  bool wait_readable(int fd) const {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_[0], POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0) {
    }
    return (fds[1].revents & POLLIN) == 0;
  }

  void run() {
    while (wait_readable(fd_)) {
      const int conn = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn < 0) continue;
      ++connections_;
      serve(conn);
      ::close(conn);
    }
  }

  void serve(int conn) {
    std::string request;
    char buf[4096];
    std::size_t want = std::string::npos;  // the whole request's size, once the head is in
    while (request.size() < want) {
      if (!wait_readable(conn)) return;
      const ssize_t n = ::recv(conn, buf, sizeof buf, 0);
      if (n <= 0) break;
      request.append(buf, static_cast<std::size_t>(n));
      const auto head_end = request.find("\r\n\r\n");
      if (want == std::string::npos && head_end != std::string::npos) {
        std::size_t body = 0;
        if (const auto cl = request.find("Content-Length: "); cl != std::string::npos && cl < head_end)
          body = std::strtoul(request.c_str() + cl + 16, nullptr, 10);
        want = head_end + 4 + body;
      }
    }
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    if (request.empty()) return;  // the client gave up before sending anything
    const std::optional<std::string> response = handler_(request);
    if (!response) {
      wait_readable(stop_[0]);  // hang: accepted and never answered, until the test ends
      return;
    }
    for (std::size_t sent = 0; sent < response->size();) {
      const ssize_t n = ::send(conn, response->data() + sent, response->size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;  // the client hung up (a response larger than it takes)
      sent += static_cast<std::size_t>(n);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int stop_[2] = {-1, -1};
  int port_ = 0;
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// A complete response with Content-Length and Connection: close.
inline std::string http_response(int status, const std::string& reason, const std::string& body,
                                 const std::string& extra_headers = "") {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + extra_headers + "\r\n" + body;
}

}  // namespace slipway::outbound::testing
