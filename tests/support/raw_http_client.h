// RawHttpClient: a small blocking HTTP/1.1 client over POSIX sockets for in-process server tests. It sends bytes
// exactly as given (so tests can send malformed or hostile requests) and parses one response at a time.
// Every read has a timeout (default 5 s) so a broken server fails a test instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace slipway::testing {

struct RawResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // First header with this name (ASCII case-insensitive), or empty.
  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < k.size() && same; ++i) same = std::tolower(static_cast<unsigned char>(k[i])) ==
                                                                std::tolower(static_cast<unsigned char>(name[i]));
      if (same) return v;
    }
    return {};
  }
  bool has_header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (RawResponse{0, {{k, v}}, {}}.header(name) == v) return true;
    }
    return false;
  }
};

// The status line and header fields of a response head (without its final CRLFCRLF); nullopt if it is not one.
inline std::optional<RawResponse> parse_response_head(const std::string& head) {
  std::size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || status_line.compare(0, 5, "HTTP/") != 0) return std::nullopt;
  RawResponse r;
  r.status = std::stoi(status_line.substr(9, 3));
  while (line_end != std::string::npos) {
    const std::size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::size_t v = colon + 1;
    while (v < line.size() && line[v] == ' ') ++v;
    r.headers.emplace_back(line.substr(0, colon), line.substr(v));
  }
  return r;
}

// Reads a response head from `buffer`, calling `fill()` (which appends to it; false on timeout, EOF or error) until
// the head is whole, and consumes it. nullopt when fill() gives up first or the head is not a response.
template <class Fill>
std::optional<RawResponse> read_response_head(std::string& buffer, Fill&& fill) {
  std::size_t end;
  while ((end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (!fill()) return std::nullopt;
  }
  const std::string head = buffer.substr(0, end);
  buffer.erase(0, end + 4);
  return parse_response_head(head);
}

class RawHttpClient {
 public:
  explicit RawHttpClient(std::uint16_t port, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : RawHttpClient(port, nullptr, timeout) {}
  // Connects from the loopback address `from` (e.g. "127.0.0.2": all of 127.0.0.0/8 is local), so a test can be
  // two different clients to the server.
  RawHttpClient(std::uint16_t port, const char* from, std::chrono::milliseconds timeout = std::chrono::seconds(5))
      : timeout_(timeout) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ >= 0 && from != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      if (::inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        return;  // not connected
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    int one = 1;
    if (connected_) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~RawHttpClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawHttpClient(const RawHttpClient&) = delete;
  RawHttpClient& operator=(const RawHttpClient&) = delete;

  bool connected() const { return connected_; }

  // Sends everything; false when the peer closed or reset the connection.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length bodies, or until close without one). nullopt on timeout, EOF or reset
  // before a whole response arrived.
  std::optional<RawResponse> read_response(bool head_request = false) {
    auto parsed = read_response_head(buffer_, [this] { return fill(); });
    if (!parsed) return std::nullopt;
    RawResponse& r = *parsed;
    if (r.status == 100) return read_response(head_request);
    const std::string length = r.header("Content-Length");
    if (head_request || r.status == 204 || r.status == 304) return r;
    if (!length.empty()) {
      const std::size_t n = std::stoul(length);
      while (buffer_.size() < n) {
        if (!fill()) return std::nullopt;
      }
      r.body = buffer_.substr(0, n);
      buffer_.erase(0, n);
    } else {
      while (fill()) {
      }
      r.body = std::move(buffer_);
      buffer_.clear();
    }
    return r;
  }

  // One request and its response.
  std::optional<RawResponse> roundtrip(std::string_view request) {
    if (!send(request)) return std::nullopt;
    return read_response();
  }

  // True when the server closed the connection (EOF or reset) within the timeout; unread data is skipped.
  bool closed_by_peer() {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(timeout_.count()));
      if (rc <= 0) return false;
      char tmp[4096];
      const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET || errno == EPIPE;
    }
  }

  int fd() const { return fd_; }

 private:
  bool fill() {
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(timeout_.count()));
    if (rc <= 0) return false;
    char tmp[16384];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buffer_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::chrono::milliseconds timeout_;
  std::string buffer_;
};

}  // namespace slipway::testing
