#include "http/tls_context.h"

#include <boost/asio/ssl/error.hpp>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509err.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace slipway::http {
namespace ssl = boost::asio::ssl;

namespace {

// TLS 1.2: forward secrecy (ECDHE) and AEAD only; ECDSA first, then RSA, so either kind of certificate works.
// TLS 1.3 suites are all AEAD with forward secrecy: OpenSSL's three, named so that a changed default cannot widen them.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr unsigned char kSessionIdContext[] = "slipway";

// ALPN (RFC 7301): a client that offers protocols gets http/1.1 or, when it does not offer that, a fatal
// no_application_protocol alert — the server never lets a connection meant for another protocol (h2 only, or
// another service sharing the certificate: the ALPACA attacks) go on as HTTP/1.1. A client offering none is served.
int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void* /*arg*/) {
  static constexpr unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_len, kHttp11, sizeof kHttp11 - 1, in, in_len) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

// The newest OpenSSL error's reason, for messages ("no start line", "bad base64 decode").
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string reason = ec ? ec.message() : std::string();
  if (const unsigned long e = ERR_peek_last_error(); reason.empty() && e != 0) {
    if (const char* r = ERR_reason_error_string(e)) reason = r;
  }
  ERR_clear_error();
  return reason.empty() ? "unknown OpenSSL error" : reason;
}

// Opening the file first gives the errno of a missing or unreadable file, which OpenSSL reports less clearly.
bool readable(const std::string& path, std::string& why) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) {
    why = std::strerror(errno);
    return false;
  }
  std::fclose(f);
  return true;
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Problem fail(std::string detail) { return Problem::make(ProblemCode::kInternal, std::move(detail)); }

}  // namespace

std::string format_utc_seconds(std::int64_t epoch_s) {
  const std::time_t t = static_cast<std::time_t>(epoch_s);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

Result<TlsCredentials> load_tls_context(const TlsOptions& o) {
  std::string why;
  if (!readable(o.cert_file, why)) return fail("cannot read TLS certificate " + o.cert_file + ": " + why);
  if (!readable(o.key_file, why)) return fail("cannot read TLS private key " + o.key_file + ": " + why);

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||  // 0: the highest this OpenSSL speaks (1.3)
      SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(ctx, kGroups) != 1 ||
      SSL_CTX_set_session_id_context(ctx, kSessionIdContext, sizeof kSessionIdContext - 1) != 1) {
    return fail("cannot set up TLS: " + openssl_reason({}));
  }
  SSL_CTX_set_options(
      ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  // An encrypted key fails to load instead of OpenSSL asking for a passphrase on the terminal.
  context->set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  context->use_certificate_chain_file(o.cert_file, ec);
  if (ec) return fail("cannot load TLS certificate " + o.cert_file + ": " + openssl_reason(ec));
  const std::string mismatch = "TLS private key " + o.key_file + " does not match the certificate " + o.cert_file;
  context->use_private_key_file(o.key_file, ssl::context::pem, ec);
  if (ec && ec.category() == boost::asio::error::get_ssl_category() &&
      ERR_GET_LIB(static_cast<unsigned long>(ec.value())) == ERR_LIB_X509 &&
      (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH ||
       ERR_GET_REASON(static_cast<unsigned long>(ec.value())) == X509_R_KEY_TYPE_MISMATCH)) {
    ERR_clear_error();
    return fail(mismatch);
  }
  if (ec) return fail("cannot load TLS private key " + o.key_file + ": " + openssl_reason(ec));
  // A key of another kind (RSA beside an ECDSA certificate) loads into its own slot: the pair is still unusable,
  // and this is where it shows.
  if (SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return fail(mismatch);
  }

  TlsCredentials out;
  X509* cert = SSL_CTX_get0_certificate(ctx);
  std::tm tm{};
  if (cert == nullptr || ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
    return fail("cannot read the expiry date of TLS certificate " + o.cert_file);
  }
  out.not_after = static_cast<std::int64_t>(::timegm(&tm));
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
    out.subject = bio_text(bio);
    BIO_free(bio);
  }
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      out.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  ERR_clear_error();
  out.context = std::move(context);
  return out;
}

Status check_tls_files(const TlsOptions& options) {
  auto loaded = load_tls_context(options);
  if (!loaded) return std::move(loaded).error();
  return {};
}

}  // namespace slipway::http
