// Self-signed certificates for TLS tests, made with OpenSSL in the test itself (no files checked in, none expiring).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdint>
#include <ctime>
#include <string>

namespace slipway::testing {

enum class KeyType { kP256, kRsa2048 };

// Writes a self-signed certificate (CN `common_name`, serial `serial`, valid from a minute ago for `days`) and its
// key as PEM; the key is encrypted with `passphrase` when one is given. Returns the certificate's notAfter (seconds
// since the epoch), or -1 on failure.
inline std::int64_t write_test_certificate(const std::string& cert_file, const std::string& key_file,
                                           const std::string& common_name, long serial, long days = 30,
                                           KeyType type = KeyType::kP256, const std::string& passphrase = {}) {
  EVP_PKEY* key = type == KeyType::kP256 ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
  X509* cert = X509_new();
  std::int64_t not_after = -1;
  if (key && cert) {
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), days * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                               -1, -1, 0);
    X509_set_issuer_name(cert, name);
    std::tm tm{};
    if (X509_sign(cert, key, EVP_sha256()) > 0 && ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) {
      BIO* c = BIO_new_file(cert_file.c_str(), "w");
      BIO* k = BIO_new_file(key_file.c_str(), "w");
      const EVP_CIPHER* cipher = passphrase.empty() ? nullptr : EVP_aes_256_cbc();
      auto* pass =
          passphrase.empty() ? nullptr : reinterpret_cast<unsigned char*>(const_cast<char*>(passphrase.data()));
      if (c && k && PEM_write_bio_X509(c, cert) == 1 &&
          PEM_write_bio_PrivateKey(k, key, cipher, pass, static_cast<int>(passphrase.size()), nullptr, nullptr) == 1) {
        not_after = static_cast<std::int64_t>(::timegm(&tm));
      }
      BIO_free(c);
      BIO_free(k);
    }
  }
  X509_free(cert);
  EVP_PKEY_free(key);
  return not_after;
}

}  // namespace slipway::testing
