// TlsClient: a blocking HTTP/1.1 client over TLS for in-process server tests, straight on OpenSSL (the client side is
// not ours to test, so it is the library's own client with its own defaults). It sends bytes as given and parses one
// response at a time.
// Every read and write has a timeout (default 5 s, SO_RCVTIMEO/SO_SNDTIMEO) so a broken server fails a test
// instead of hanging it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "support/raw_http_client.h"

namespace slipway::testing {

class TlsClient {
 public:
  struct Options {
    int min_version = 0;  // 0: OpenSSL's default
    int max_version = 0;  // e.g. TLS1_1_VERSION to play an outdated client
    std::string alpn;     // wire format ("\x08http/1.1"); empty: no ALPN
    std::chrono::milliseconds timeout{5000};
  };

  explicit TlsClient(std::uint16_t port) : TlsClient(port, Options{}) {}
  TlsClient(std::uint16_t port, const Options& o) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ctx_) return;
    // An outdated client must really offer what it is set to: OpenSSL's own security level would otherwise refuse
    // TLS < 1.2 before anything is sent, and the test would prove nothing about the server.
    if (o.max_version != 0 && o.max_version < TLS1_2_VERSION) {
      SSL_CTX_set_security_level(ctx_, 0);
      SSL_CTX_set_cipher_list(ctx_, "DEFAULT:@SECLEVEL=0");
    }
    if (o.min_version) SSL_CTX_set_min_proto_version(ctx_, o.min_version);
    if (o.max_version) SSL_CTX_set_max_proto_version(ctx_, o.max_version);
    if (!o.alpn.empty()) {
      SSL_CTX_set_alpn_protos(ctx_, reinterpret_cast<const unsigned char*>(o.alpn.data()),
                              static_cast<unsigned>(o.alpn.size()));
    }
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);  // the test's own self-signed certificate
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return;
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(o.timeout.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((o.timeout.count() % 1000) * 1000);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    const int rc = SSL_connect(ssl_);
    if (rc == 1) {
      handshaken_ = true;
    } else {
      unsigned long e = ERR_peek_last_error();
      char buf[256] = {};
      if (e) ERR_error_string_n(e, buf, sizeof buf);
      error_ = buf;
    }
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_) SSL_free(ssl_);
    if (fd_ >= 0) ::close(fd_);
    if (ctx_) SSL_CTX_free(ctx_);
  }
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  bool handshaken() const { return handshaken_; }
  const std::string& error() const { return error_; }  // OpenSSL's reason when the handshake failed
  std::string version() const { return ssl_ ? SSL_get_version(ssl_) : ""; }
  std::string alpn() const {
    const unsigned char* p = nullptr;
    unsigned n = 0;
    if (ssl_) SSL_get0_alpn_selected(ssl_, &p, &n);
    return std::string(reinterpret_cast<const char*>(p), n);
  }
  // The server certificate's serial number in hex ("2A"), empty without one.
  std::string peer_serial() const {
    std::string out;
    X509* cert = ssl_ ? SSL_get1_peer_certificate(ssl_) : nullptr;
    if (!cert) return out;
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
      char* hex = BN_bn2hex(bn);
      out = hex;
      OPENSSL_free(hex);
      BN_free(bn);
    }
    X509_free(cert);
    return out;
  }

  bool send(std::string_view data) {
    while (!data.empty()) {
      const int n = SSL_write(ssl_, data.data(), static_cast<int>(data.size()));
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // One response (Content-Length bodies only, as the server always sends). nullopt on timeout, EOF or error.
  std::optional<RawResponse> read_response() {
    auto parsed = read_response_head(buffer_, [this] { return fill(); });
    if (!parsed) return std::nullopt;
    RawResponse& r = *parsed;
    const std::string length = r.header("Content-Length");
    const std::size_t n = length.empty() ? 0 : std::stoul(length);
    while (buffer_.size() < n) {
      if (!fill()) return std::nullopt;
    }
    r.body = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return r;
  }

  std::optional<RawResponse> roundtrip(std::string_view request) {
    if (!send(request)) return std::nullopt;
    return read_response();
  }

  // How the server ended the connection, read after everything it sent: kCloseNotify (a TLS close_notify alert),
  // kTruncated (the TCP connection closed without one), kOpen (nothing within the timeout).
  enum class Ending { kCloseNotify, kTruncated, kOpen };
  Ending ending() {
    char tmp[4096];
    for (;;) {
      const int n = SSL_read(ssl_, tmp, sizeof tmp);
      if (n > 0) continue;
      const int err = SSL_get_error(ssl_, n);
      ERR_clear_error();
      if (err == SSL_ERROR_ZERO_RETURN) return Ending::kCloseNotify;
      if (err == SSL_ERROR_WANT_READ || errno == EAGAIN || errno == EWOULDBLOCK) return Ending::kOpen;
      return Ending::kTruncated;
    }
  }

 private:
  bool fill() {
    char tmp[16384];
    const int n = SSL_read(ssl_, tmp, sizeof tmp);
    if (n <= 0) {
      ERR_clear_error();
      return false;
    }
    buffer_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }

  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  int fd_ = -1;
  bool handshaken_ = false;
  std::string error_;
  std::string buffer_;
};

}  // namespace slipway::testing
