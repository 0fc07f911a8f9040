// rule_key: the one key caches and idempotency scopes derive from who asks.
#include "core/principal.h"

#include <gtest/gtest.h>

#include <set>

namespace slipway {
namespace {

Principal user(std::string id, std::vector<std::string> roles = {}) {
  Principal p;
  p.kind = PrincipalKind::kUser;
  p.id = std::move(id);
  p.set_roles(std::move(roles));
  p.aal = 1;
  return p;
}

TEST(Principal, EveryPropertyRulesCanSeeChangesTheKey) {
  // One principal per property a rule can observe (the admin bypass, @auth.id, @auth.roles, @auth.aal); each differs from
  // the base in that property alone. Any two sharing a key would let a cache serve one the other's answer.
  const Principal base = user("0190a0b0-0000-7000-8000-000000000001", {"member"});
  std::vector<Principal> variants = {base, Principal{}, Principal::bootstrap_admin()};
  variants.push_back(user("0190a0b0-0000-7000-8000-000000000002", {"member"}));  // id
  variants.push_back(user(*base.id, {"member", "editor"}));                      // one role more
  variants.push_back(user(*base.id, {}));                                        // no role
  variants.push_back(user(*base.id, {"editor"}));                                // another role
  variants.push_back(user(*base.id, {"admin"}));                                 // the admin role: bypasses rules
  Principal second_factor = base;
  second_factor.aal = 2;  // the same user after MFA
  variants.push_back(second_factor);
  Principal key = base;
  key.kind = PrincipalKind::kApiKey;  // an API key with the same id and roles
  variants.push_back(key);
  std::set<std::string> keys;
  for (const auto& v : variants) keys.insert(rule_key(v));
  EXPECT_EQ(keys.size(), variants.size());
}

TEST(Principal, PropertiesRulesCannotSeeLeaveTheKeyAlone) {
  // Two sessions of one user share cached answers: rules cannot tell them apart.
  Principal a = user("0190a0b0-0000-7000-8000-000000000001", {"member"});
  Principal b = a;
  b.session_id = "another session";
  b.auth_time_ms = 12345;
  EXPECT_EQ(rule_key(a), rule_key(b));
}

TEST(Principal, RolesAreASetAndTheAdminRoleIsTheAdmin) {
  const Principal a = user("u", {"member", "editor", "member"});
  EXPECT_EQ(a.roles, (std::vector<std::string>{"editor", "member"}));
  EXPECT_EQ(rule_key(a), rule_key(user("u", {"editor", "member"})));
  EXPECT_TRUE(a.has_role("editor"));
  EXPECT_FALSE(a.has_role("admin"));
  EXPECT_FALSE(a.admin());
  EXPECT_TRUE(user("u", {"admin"}).admin());
  EXPECT_TRUE(Principal::bootstrap_admin().admin());
  EXPECT_TRUE(Principal{}.anonymous());
  EXPECT_FALSE(Principal{}.admin());
}

TEST(Principal, IdsAndRolesCannotBeSplicedIntoAnotherKey) {
  // "ab" with role "c" must not equal "a" with roles "b", "c" or similar splices.
  EXPECT_NE(rule_key(user("ab", {"c"})), rule_key(user("a", {"bc"})));
  EXPECT_NE(rule_key(user("a", {"b", "c"})), rule_key(user("a", {"bc"})));
}

}  // namespace
}  // namespace slipway
