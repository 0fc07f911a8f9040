#include "storage/sql/sql_builder.h"

#include <gtest/gtest.h>

namespace slipway::sql {
namespace {

TEST(SqlBuilderParams, ResolvesRuntimeParameters) {
  Principal anon;
  Principal user;
  user.id = "u1";
  user.roles = {"editor"};
  EXPECT_EQ(resolve_param(Value(std::int64_t{5}), anon, 0), Value(std::int64_t{5}));
  EXPECT_EQ(resolve_param(AuthIdParam{}, user, 0), Value(std::string("u1")));
  EXPECT_EQ(resolve_param(AuthIdParam{}, anon, 0), Value(Null{}));
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"editor"}, user, 0), Value(std::int64_t{1}));
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"member"}, user, 0), Value(std::int64_t{0}));
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"editor"}, anon, 0), Value(std::int64_t{0}));
  EXPECT_EQ(resolve_param(NowParam{}, anon, 1795963310123), Value(std::string("2026-11-29T14:41:50.123Z")));
}

TEST(SqlBuilderParams, AalTestsCompareTheCallersLevel) {
  Principal anon;
  Principal one;
  one.aal = 1;
  Principal two;
  two.aal = 2;
  const AuthAalParam at_least_two{expr::CompareOp::kGe, 2};
  EXPECT_EQ(resolve_param(at_least_two, anon, 0), Value(std::int64_t{0}));
  EXPECT_EQ(resolve_param(at_least_two, one, 0), Value(std::int64_t{0}));
  EXPECT_EQ(resolve_param(at_least_two, two, 0), Value(std::int64_t{1}));
  EXPECT_EQ(resolve_param(AuthAalParam{expr::CompareOp::kEq, 1}, one, 0), Value(std::int64_t{1}));
  EXPECT_EQ(resolve_param(AuthAalParam{expr::CompareOp::kLt, 1}, anon, 0), Value(std::int64_t{1}));
  EXPECT_EQ(resolve_param(AuthAalParam{expr::CompareOp::kLe, 1}, two, 0), Value(std::int64_t{0}));
  EXPECT_EQ(resolve_param(AuthAalParam{expr::CompareOp::kGt, 1}, two, 0), Value(std::int64_t{1}));
}

TEST(SqlBuilderParams, RoleTestIsMembershipEvenForTheAdmin) {
  // A filter's role test is literally has_role: the admin passes every rule by bypassing it, not through here.
  const Principal admin = Principal::bootstrap_admin();
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"admin"}, admin, 0), Value(std::int64_t{1}));
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"editor"}, admin, 0), Value(std::int64_t{0}));
  Principal many;
  many.set_roles({"member", "editor", "admin"});
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"editor"}, many, 0), Value(std::int64_t{1}));
  EXPECT_EQ(resolve_param(AuthHasRoleParam{"edit"}, many, 0), Value(std::int64_t{0}));
}

TEST(SqlBuilderParams, NumbersPlaceholdersInAppendOrder) {
  auto d = make_postgres_dialect();
  SqlBuilder b(*d);
  b.append("a = ").param(Value(std::int64_t{1})).append(" AND b = ").param(AuthIdParam{});
  EXPECT_EQ(b.sql(), "a = $1 AND b = $2");
  ASSERT_EQ(b.params().size(), 2u);
  EXPECT_EQ(b.params()[1], ParamSource(AuthIdParam{}));
}

}  // namespace
}  // namespace slipway::sql
