// The server's TLS policy, in one place: builds the OpenSSL context the TLS listener's sessions are made with from
// the PEM files of http::TlsOptions. Private to src/http (includes Asio's SSL header).
//
// Policy (docs/security.md#tls says why): TLS 1.2 and 1.3 only; TLS 1.2 suites ECDHE with AES-GCM or
// CHACHA20-POLY1305 only (Mozilla "intermediate" without DHE), the TLS 1.3 defaults; server cipher preference;
// groups X25519, P-256, P-384; no compression, no renegotiation, no session tickets (resumption through the
// per-context session cache, so no long-lived ticket key undoes forward secrecy); ALPN: http/1.1 or nothing.
// The private key must be unencrypted (there is nobody to type a passphrase) and must match the certificate.
//
// Thread safety: load_tls_context() is a plain function (reads the files, builds a new context); a built context is
// only read afterwards (SSL_new from any loop's thread), which OpenSSL allows.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "http/server.h"

namespace slipway::http {

struct TlsCredentials {
  std::shared_ptr<boost::asio::ssl::context> context;
  std::int64_t not_after = 0;  // the certificate's notAfter, seconds since the epoch
  std::string subject;         // RFC 2253, e.g. "CN=api.example.com"
  std::string serial;          // hex
};

// A Problem naming the file and what is wrong with it, e.g.
// "cannot read TLS certificate /etc/slipway/cert.pem: No such file or directory" or
// "TLS private key /etc/slipway/key.pem does not match the certificate /etc/slipway/cert.pem".
Result<TlsCredentials> load_tls_context(const TlsOptions& options);

// "2027-01-31T12:00:00Z"
std::string format_utc_seconds(std::int64_t epoch_s);

}  // namespace slipway::http
