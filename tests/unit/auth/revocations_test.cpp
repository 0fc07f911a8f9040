// The in-memory revocation list and the API key registry: what stops a token before it expires, without a read.
#include <gtest/gtest.h>

#include "auth/api_keys.h"
#include "auth/authenticator.h"
#include "auth/opaque_token.h"
#include "auth/revocations.h"

namespace slipway::auth {
namespace {

constexpr std::int64_t kT0 = 1'800'000'000'000;

TEST(RevocationList, SessionsAndUsersAreRefusedUntilTheirTokensCannotBeAlive) {
  RevocationList list(60'000);
  EXPECT_FALSE(list.is_revoked("s1", "u1", kT0 / 1000));
  list.revoke_session("s1", kT0);
  EXPECT_TRUE(list.is_revoked("s1", "u1", kT0 / 1000));
  EXPECT_FALSE(list.is_revoked("s2", "u1", kT0 / 1000));
  list.revoke_user("u2", kT0 + 500);
  EXPECT_TRUE(list.is_revoked("s9", "u2", kT0 + 500));        // minted at the same millisecond: refused
  EXPECT_TRUE(list.is_revoked("s9", "u2", kT0 - 60'000));     // minted before
  EXPECT_FALSE(list.is_revoked("s9", "u2", kT0 + 501));       // minted after, even within the same second
  // The minting time comes from the token's jti, or its whole-second iat when it has none.
  EXPECT_EQ(issued_at_ms_of(make_jti(kT0 + 501), (kT0 + 501) / 1000), kT0 + 501);
  EXPECT_EQ(issued_at_ms_of("", kT0 / 1000), kT0);
  EXPECT_EQ(issued_at_ms_of("12.ab", kT0 / 1000), kT0);  // disagrees with iat: the second counts
  // Entries outlive the tokens they could refuse, then go (pruned on later inserts).
  list.revoke_session("s3", kT0 + 200'000);
  EXPECT_FALSE(list.is_revoked("s1", "u1", kT0 / 1000));
  EXPECT_EQ(list.size(), 1u);
}

storage::ApiKey stored(const ApiKeySecret& secret, std::vector<std::string> roles) {
  storage::ApiKey k;
  k.id = "key-" + secret.prefix;
  k.prefix = secret.prefix;
  k.secret_hash = token_digest(secret.full);
  k.name = "test";
  k.roles = std::move(roles);
  return k;
}

TEST(ApiKeyRegistry, ResolvesLiveKeysOnlyAndReportsTheFirstUseOnce) {
  ApiKeyRegistry reg;
  const ApiKeySecret a = generate_api_key(), b = generate_api_key();
  storage::ApiKey expiring = stored(b, {});
  expiring.expires_ms = kT0 + 1000;
  reg.load({stored(a, {"editor"}), expiring});
  auto first = reg.resolve(a.full, kT0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->principal.kind, PrincipalKind::kApiKey);
  EXPECT_EQ(first->principal.roles, std::vector<std::string>{"editor"});
  EXPECT_TRUE(first->first_use);
  EXPECT_FALSE(reg.resolve(a.full, kT0 + 1)->first_use);
  auto used = reg.drain();
  ASSERT_EQ(used.size(), 1u);
  EXPECT_EQ(used[0].second, kT0 + 1);
  EXPECT_TRUE(reg.drain().empty());
  EXPECT_FALSE(reg.resolve(a.full, kT0 + 2)->first_use);
  // A wrong secret under a known id, an unknown id, an expired or revoked key: nothing.
  std::string wrong = a.full;
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(reg.resolve(wrong, kT0));
  EXPECT_FALSE(reg.resolve(generate_api_key().full, kT0));
  EXPECT_TRUE(reg.resolve(b.full, kT0));
  EXPECT_FALSE(reg.resolve(b.full, kT0 + 1000));
  reg.revoke("key-" + a.prefix, kT0);
  EXPECT_FALSE(reg.resolve(a.full, kT0 + 3));
}

}  // namespace
}  // namespace slipway::auth
