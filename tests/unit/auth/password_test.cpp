#include "auth/password.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace slipway::auth {
namespace {

using namespace std::string_literals;

constexpr std::size_t kKiB = 1024;

// Small parameters where a test is not about the parameters: argon2id at 64 KiB and one pass takes well under 1 ms.
constexpr PasswordParams kFast{1, 64 * kKiB};

std::string hash_or_die(std::string_view password, const PasswordParams& params = kFast) {
  Result<std::string> h = hash_password(password, params);
  EXPECT_TRUE(h) << h.error().cause;
  return h ? *h : std::string();
}

TEST(Password, DefaultParametersAreOwaspArgon2idMinimumAndTheHashCarriesThem) {
  const PasswordParams defaults;
  EXPECT_EQ(defaults.ops, 2u);
  EXPECT_EQ(defaults.mem_bytes, 19 * kKiB * kKiB);
  const std::string h = hash_or_die("correct horse battery staple", defaults);
  EXPECT_EQ(h.rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0), 0u) << h;
  EXPECT_EQ(verify_password("correct horse battery staple", h, defaults), Verify::kMatch);
}

TEST(Password, RoundTripMatchesAndAWrongPasswordDoesNot) {
  const std::string h = hash_or_die("correct horse battery staple");
  EXPECT_EQ(verify_password("correct horse battery staple", h, kFast), Verify::kMatch);
  EXPECT_EQ(verify_password("correct horse battery stapl", h, kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("Correct horse battery staple", h, kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("", h, kFast), Verify::kMismatch);
}

TEST(Password, EachHashHasItsOwnSalt) { EXPECT_NE(hash_or_die("same password"), hash_or_die("same password")); }

TEST(Password, NeedsRehashWhenTheStoredParametersAreWeakerThanCurrent) {
  const std::string h = hash_or_die("correct horse battery staple", kFast);
  EXPECT_EQ(verify_password("correct horse battery staple", h, {2, 64 * kKiB}), Verify::kMatchNeedsRehash);
  EXPECT_EQ(verify_password("correct horse battery staple", h, {1, 128 * kKiB}), Verify::kMatchNeedsRehash);
  // Stronger than current in every respect: kept, so lowering the parameters never downgrades stored hashes.
  EXPECT_EQ(verify_password("correct horse battery staple", h, {1, 32 * kKiB}), Verify::kMatch);
  // A wrong password never says "rehash".
  EXPECT_EQ(verify_password("wrong", h, {2, 64 * kKiB}), Verify::kMismatch);
}

TEST(Password, NeedsRehashWhenOneParameterIsWeakerEvenIfTheOtherIsStronger) {
  const std::string h = hash_or_die("pw", {3, 32 * kKiB});
  EXPECT_EQ(verify_password("pw", h, {2, 64 * kKiB}), Verify::kMatchNeedsRehash);
}

TEST(Password, A10KilobytePasswordIsHashedWholeNotTruncated) {
  std::string a(10 * kKiB, 'x');
  std::string b = a;
  b.back() = 'y';
  const std::string h = hash_or_die(a);
  EXPECT_EQ(verify_password(a, h, kFast), Verify::kMatch);
  EXPECT_EQ(verify_password(b, h, kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password(a.substr(0, 72), h, kFast), Verify::kMismatch);  // bcrypt would stop here
}

TEST(Password, NulBytesInsideThePasswordCount) {
  const std::string pw = "abc\0def"s;
  ASSERT_EQ(pw.size(), 7u);
  const std::string h = hash_or_die(pw);
  EXPECT_EQ(verify_password(pw, h, kFast), Verify::kMatch);
  EXPECT_EQ(verify_password("abc", h, kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("abc\0deg"s, h, kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("abc\0def\0"s, h, kFast), Verify::kMismatch);
}

TEST(Password, AMalformedStoredStringIsAMismatch) {
  const std::string h = hash_or_die("pw");
  EXPECT_EQ(verify_password("pw", "", kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("pw", "pw", kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("pw", h.substr(0, h.size() - 1), kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("pw", h + "A", kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("pw", h + std::string(200, 'A'), kFast), Verify::kMismatch);
  EXPECT_EQ(verify_password("pw", h + "\0"s, kFast), Verify::kMismatch);
  std::string other_alg = h;
  other_alg.replace(0, 10, "$argon2i$");  // argon2i is not accepted, even though libsodium could verify it
  EXPECT_EQ(verify_password("pw", other_alg, kFast), Verify::kMismatch);
  std::string tampered = h;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  EXPECT_EQ(verify_password("pw", tampered, kFast), Verify::kMismatch);
}

TEST(Password, ParametersOutsideArgon2idLimitsAreAnInternalProblemWithoutThePassword) {
  Result<std::string> h = hash_password("secret-password", {0, 64 * kKiB});
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code, ProblemCode::kInternal);
  EXPECT_EQ(h.error().cause.find("secret-password"), std::string::npos);
  EXPECT_FALSE(hash_password("pw", {1, 1024}));
}

TEST(Password, DummyHashIsAValidHashWithTheGivenParametersComputedOnce) {
  const std::string& d = dummy_hash(kFast);
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(&d, &dummy_hash(kFast));
  // Same parameters as real hashes, so verifying against it does the same work as a wrong password.
  EXPECT_EQ(crypto_pwhash_str_needs_rehash(d.c_str(), kFast.ops, kFast.mem_bytes), 0);
  EXPECT_EQ(verify_password("", d, kFast), Verify::kMismatch);
  const std::string& other = dummy_hash({2, 64 * kKiB});
  EXPECT_NE(&other, &d);
  EXPECT_EQ(crypto_pwhash_str_needs_rehash(other.c_str(), 2, 64 * kKiB), 0);
}

}  // namespace
}  // namespace slipway::auth
