// Loading the TLS certificate and key: what an operator sees when a file is right or wrong.
#include "http/tls_context.h"

#include <gtest/gtest.h>

#include <fstream>

#include "support/temp_dir.h"
#include "support/test_certificate.h"

namespace slipway::http {
namespace {

using testing::KeyType;
using testing::TempDir;
using testing::write_test_certificate;

class TlsFiles : public ::testing::Test {
 protected:
  TlsOptions files(const std::string& cert, const std::string& key) const {
    TlsOptions o;
    o.cert_file = dir_.file(cert);
    o.key_file = dir_.file(key);
    return o;
  }
  void write(const std::string& name, const std::string& text) const { std::ofstream(dir_.file(name)) << text; }

  TempDir dir_;
};

TEST_F(TlsFiles, AMatchingPairLoadsWithTheCertificatesIdentity) {
  for (const KeyType type : {KeyType::kP256, KeyType::kRsa2048}) {
    const std::int64_t not_after =
        write_test_certificate(dir_.file("c.pem"), dir_.file("k.pem"), "api.test", 42, 30, type);
    ASSERT_GT(not_after, 0);
    auto loaded = load_tls_context(files("c.pem", "k.pem"));
    ASSERT_TRUE(loaded) << loaded.error().detail;
    EXPECT_NE(loaded->context, nullptr);
    EXPECT_EQ(loaded->subject, "CN=api.test");
    EXPECT_EQ(loaded->serial, "2A");
    EXPECT_EQ(loaded->not_after, not_after);
    EXPECT_TRUE(check_tls_files(files("c.pem", "k.pem")));
  }
  EXPECT_EQ(format_utc_seconds(1798761600), "2027-01-01T00:00:00Z");
}

TEST_F(TlsFiles, EachBadFileIsNamedWithWhatIsWrong) {
  ASSERT_GT(write_test_certificate(dir_.file("c.pem"), dir_.file("k.pem"), "a", 1), 0);
  ASSERT_GT(write_test_certificate(dir_.file("other.pem"), dir_.file("other.key"), "b", 2), 0);
  ASSERT_GT(write_test_certificate(dir_.file("rsa.pem"), dir_.file("rsa.key"), "r", 3, 30, KeyType::kRsa2048), 0);
  // An encrypted key must fail at once: there is nobody to type its passphrase, and OpenSSL would ask the terminal.
  ASSERT_GT(write_test_certificate(dir_.file("e.pem"), dir_.file("e.key"), "e", 4, 30, KeyType::kP256, "secret"), 0);
  write("garbage.pem", "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
  write("empty.pem", "");

  const auto detail = [&](const std::string& cert, const std::string& key) {
    auto loaded = load_tls_context(files(cert, key));
    EXPECT_FALSE(loaded) << cert << " " << key;
    return loaded ? std::string() : loaded.error().detail;
  };
  EXPECT_EQ(detail("missing.pem", "k.pem"),
            "cannot read TLS certificate " + dir_.file("missing.pem") + ": No such file or directory");
  EXPECT_EQ(detail("c.pem", "missing.key"),
            "cannot read TLS private key " + dir_.file("missing.key") + ": No such file or directory");
  EXPECT_EQ(detail("c.pem", "other.key"),
            "TLS private key " + dir_.file("other.key") + " does not match the certificate " + dir_.file("c.pem"));
  EXPECT_EQ(detail("c.pem", "rsa.key"),
            "TLS private key " + dir_.file("rsa.key") + " does not match the certificate " + dir_.file("c.pem"));
  EXPECT_TRUE(detail("garbage.pem", "k.pem").starts_with("cannot load TLS certificate " + dir_.file("garbage.pem")));
  EXPECT_TRUE(detail("empty.pem", "k.pem").starts_with("cannot load TLS certificate " + dir_.file("empty.pem")));
  EXPECT_TRUE(detail("c.pem", "garbage.pem").starts_with("cannot load TLS private key " + dir_.file("garbage.pem")));
  EXPECT_TRUE(detail("e.pem", "e.key").starts_with("cannot load TLS private key " + dir_.file("e.key")));
  EXPECT_FALSE(check_tls_files(files("c.pem", "other.key")));
}

}  // namespace
}  // namespace slipway::http
