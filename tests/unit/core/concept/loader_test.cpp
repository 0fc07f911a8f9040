#include "core/concept/loader.h"

#include "core/concept/rate_limit_parser.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/concept/starter.h"

namespace slipway::model {
namespace {

namespace fs = std::filesystem;

std::string messages(const LoadResult& r) {
  std::string out;
  for (const Diagnostic& d : r.diagnostics) out += d.to_string() + "\n";
  return out;
}

// One diagnostic expected: returns it as "line:col: message".
std::string only_diagnostic(const LoadResult& r) {
  EXPECT_EQ(r.diagnostics.size(), 1U) << messages(r);
  if (r.diagnostics.empty()) return "";
  const Diagnostic& d = r.diagnostics[0];
  return std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message;
}

TEST(Loader, BuildsTheFullModelFromAValidFile) {
  const fs::path path = fs::path(SLIPWAY_CASES_DIR) / "concept" / "valid_full.yaml";
  LoadResult r = load_concept_file(path.string());
  ASSERT_TRUE(r.ok()) << messages(r);
  const Concept& c = *r.concept_file;
  EXPECT_EQ(c.app, "shop-2");
  EXPECT_EQ(c.source_path, path.string());
  ASSERT_EQ(c.collections.size(), 2U);

  const Collection& customers = c.collections[0];
  EXPECT_EQ(customers.name, "customers");
  EXPECT_EQ(customers.loc.line, 5);
  EXPECT_EQ(customers.loc.column, 3);
  ASSERT_EQ(customers.fields.size(), 5U);
  const Field& name = customers.fields[0];
  EXPECT_EQ(name.type, FieldType::kText);
  EXPECT_TRUE(name.required);
  EXPECT_EQ(name.min, 1.0);
  EXPECT_EQ(name.max, 80.0);
  EXPECT_EQ(name.loc.line, 7);
  EXPECT_EQ(name.loc.column, 7);
  EXPECT_EQ(customers.fields[1].type, FieldType::kEmail);
  EXPECT_TRUE(customers.fields[1].unique);
  EXPECT_EQ(customers.fields[1].default_value, Value{std::string("nobody@example.com")});
  EXPECT_EQ(customers.fields[2].type, FieldType::kUrl);
  // Datetime defaults are stored in the canonical form.
  EXPECT_EQ(customers.fields[3].default_value, Value{std::string("2020-01-02T03:04:05.000Z")});
  EXPECT_TRUE(customers.fields[4].hidden);
  EXPECT_TRUE(customers.fields[4].sensitive);
  EXPECT_FALSE(customers.rules.list.has_value());  // absent: admins only
  EXPECT_EQ(customers.body_limit, std::size_t{1} << 20);

  const Collection& orders = c.collections[1];
  ASSERT_EQ(orders.fields.size(), 7U);
  const Field& customer = *orders.find_field("customer");
  EXPECT_EQ(customer.type, FieldType::kRelation);
  EXPECT_EQ(customer.to, "customers");
  EXPECT_EQ(customer.on_delete, OnDelete::kSetNull);
  const Field& total = *orders.find_field("total");
  EXPECT_EQ(total.type, FieldType::kFloat);
  EXPECT_EQ(total.max, 1e6);
  EXPECT_EQ(total.default_value, Value{0.5});
  EXPECT_EQ(orders.find_field("count")->default_value, Value{std::int64_t{-5}});
  EXPECT_EQ(orders.find_field("count")->min, -5.0);
  EXPECT_EQ(orders.find_field("paid")->default_value, Value{true});
  EXPECT_TRUE(orders.find_field("paid")->immutable);
  const Field& status = *orders.find_field("status");
  EXPECT_EQ(status.type, FieldType::kEnum);
  EXPECT_EQ(status.values, (std::vector<std::string>{"new", "paid", "sent"}));
  EXPECT_EQ(status.default_value, Value{std::string("new")});
  EXPECT_EQ(orders.find_field("extra")->default_value, Value{JsonText{R"({"a":[1,"2",true,null],"b":"x"})"}});
  const Field& code = *orders.find_field("code");
  ASSERT_NE(code.pattern, nullptr);
  EXPECT_EQ(code.pattern->source(), "[A-Z]{3}-\\d+");
  EXPECT_TRUE(code.pattern->matches("XYZ-42"));

  ASSERT_EQ(orders.indexes.size(), 2U);
  EXPECT_EQ(orders.indexes[0].fields, (std::vector<std::string>{"customer", "created"}));
  EXPECT_EQ(orders.indexes[1].fields, (std::vector<std::string>{"status"}));
  EXPECT_EQ(orders.body_limit, std::size_t{512} << 10);

  for (const auto* rule :
       {&orders.rules.list, &orders.rules.view, &orders.rules.create, &orders.rules.update, &orders.rules.remove}) {
    ASSERT_TRUE(rule->has_value());
    EXPECT_NE((*rule)->bound, nullptr);
  }
  EXPECT_EQ(orders.rules.list->source, "paid = true");
  EXPECT_EQ(orders.rules.remove->source, "false");
  // The rule's location is its first expression byte, inside the quotes.
  EXPECT_EQ(orders.rules.list->loc.line, 28);
  EXPECT_EQ(orders.rules.list->loc.column, 14);
  EXPECT_EQ(orders.rules.create->loc.column, 15);  // plain scalar: no quote to skip
}

TEST(Loader, StarterFileLoadsWithoutDiagnostics) {
  LoadResult r = load_concept_string(starter_concept(), "slipway.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.concept_file->app, "blog");
  ASSERT_NE(r.concept_file->find_collection("posts"), nullptr);
  EXPECT_TRUE(r.concept_file->find_collection("posts")->rules.list.has_value());
}

TEST(Loader, BlogExampleLoadsWithoutDiagnostics) {
  const fs::path path = fs::path(SLIPWAY_CASES_DIR) / ".." / ".." / "examples" / "blog" / "slipway.yaml";
  LoadResult r = load_concept_file(path.string());
  ASSERT_TRUE(r.ok()) << messages(r);
  const Concept& c = *r.concept_file;
  const Collection* posts = c.find_collection("posts");
  ASSERT_NE(posts, nullptr);
  EXPECT_EQ(posts->find_field("author")->to, "authors");
  EXPECT_EQ(posts->find_field("author")->on_delete, OnDelete::kCascade);
  EXPECT_EQ(posts->indexes.at(0).fields, (std::vector<std::string>{"published", "created"}));
  EXPECT_TRUE(posts->rules.list.has_value());
  EXPECT_TRUE(posts->rules.view.has_value());
  EXPECT_FALSE(posts->rules.create.has_value());
  EXPECT_FALSE(posts->rules.update.has_value());
  EXPECT_FALSE(posts->rules.remove.has_value());
  // No `auth:`: no identity, and no users collection (existing data directories see no new table).
  EXPECT_FALSE(c.auth.has_value());
  EXPECT_EQ(c.users(), nullptr);
  EXPECT_EQ(c.find_collection("users"), nullptr);
  EXPECT_EQ(c.collections.size(), 2U);
}

TEST(LoaderRateLimits, DefaultsAreOnAndAuthIsStricterThanRead) {
  const RateLimitSettings d = RateLimitSettings::defaults();
  EXPECT_TRUE(d.enabled);
  const auto& read = d.classes[RateLimitSettings::class_index("read")];
  const auto& login = d.classes[RateLimitSettings::class_index("login")];
  const auto& health = d.classes[RateLimitSettings::class_index("health")];
  EXPECT_TRUE(read.address.on());
  EXPECT_LT(static_cast<double>(login.address.quota) / static_cast<double>(login.address.window_s),
            static_cast<double>(read.address.quota) / static_cast<double>(read.address.window_s));
  EXPECT_FALSE(health.address.on());  // probes and scrapes
  EXPECT_EQ(RateLimitSettings::class_index("nope"), kRateClassCount);
}

TEST(LoaderRateLimits, ASectionOverridesWhatItNamesAndKeepsTheRest) {
  const fs::path path = fs::path(SLIPWAY_CASES_DIR) / "concept" / "rate_limits_valid.yaml";
  LoadResult r = load_concept_file(path.string());
  ASSERT_TRUE(r.ok()) << messages(r);
  const RateLimitSettings& s = r.concept_file->rate_limits;
  const RateLimitSettings d = RateLimitSettings::defaults();
  auto at = [&](const RateLimitSettings& x, std::string_view cls) { return x.classes[RateLimitSettings::class_index(cls)]; };
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(at(s, "read").address.quota, 1000u);
  EXPECT_EQ(at(s, "read").address.window_s, 10);
  EXPECT_EQ(at(s, "read").user.quota, at(d, "read").user.quota);  // not named: the default
  EXPECT_FALSE(at(s, "read").api_key.on());
  EXPECT_EQ(at(s, "login").address.quota, 5u);
  EXPECT_EQ(at(s, "login").address.window_s, 60);  // a bare unit is one of it
  EXPECT_FALSE(at(s, "write").address.on());
  EXPECT_FALSE(at(s, "write").user.on());
  EXPECT_EQ(at(s, "health").address.quota, 50u);
  EXPECT_EQ(at(s, "auth").address.quota, at(d, "auth").address.quota);
}

TEST(LoaderRateLimits, OffTurnsEveryLimitOff) {
  const fs::path path = fs::path(SLIPWAY_CASES_DIR) / "concept" / "rate_limits_off.yaml";
  LoadResult r = load_concept_file(path.string());
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_FALSE(r.concept_file->rate_limits.enabled);
}

TEST(LoaderRateLimits, ParsesLimitTexts) {
  EXPECT_EQ(parse_rate_limit("300/10s")->quota, 300u);
  EXPECT_EQ(parse_rate_limit("300/10s")->window_s, 10);
  EXPECT_EQ(parse_rate_limit("1000/h")->window_s, 3600);
  EXPECT_EQ(parse_rate_limit("7/1d")->window_s, 86400);
  EXPECT_FALSE(parse_rate_limit("off")->on());
  for (const char* bad : {"", "/s", "10/", "10", "10/0s", "10/2d", "0/s", "1/x", "1 /s", "+1/s", "1.5/s",
                          "1000000001/s", "10/s/s", "10/ss"}) {
    EXPECT_FALSE(parse_rate_limit(bad).has_value()) << bad;
  }
}

TEST(LoaderAuth, BuildsSettingsAndTheUsersCollectionFromAFullSection) {
  const fs::path path = fs::path(SLIPWAY_CASES_DIR) / "concept" / "auth_valid.yaml";
  LoadResult r = load_concept_file(path.string());
  ASSERT_TRUE(r.ok()) << messages(r);
  const Concept& c = *r.concept_file;
  ASSERT_TRUE(c.auth.has_value());
  const AuthSettings& a = *c.auth;
  EXPECT_EQ(a.roles, (std::vector<std::string>{"admin", "editor", "member"}));  // admin added, first
  EXPECT_TRUE(a.has_role("admin"));
  EXPECT_EQ(a.default_role, "member");
  EXPECT_EQ(a.signup, AuthSettings::Signup::kInviteOnly);
  EXPECT_EQ(a.password_min_length, 16);
  EXPECT_EQ(a.access_ttl_s, 900);  // a plain number is seconds
  EXPECT_EQ(a.refresh_ttl_s, 14 * 86400);
  EXPECT_EQ(a.session_idle_s, 12 * 3600);
  EXPECT_EQ(a.session_absolute_s, 90 * 86400);
  EXPECT_EQ(a.issuer, "https://api.example.com");
  EXPECT_EQ(a.audience, "blog");  // not given: the app name
  EXPECT_EQ(a.loc.line, 14);
  EXPECT_EQ(a.loc.column, 1);

  // The built-in collection comes after the declared ones.
  ASSERT_EQ(c.collections.size(), 2U);
  EXPECT_EQ(c.collections[0].name, "posts");
  EXPECT_FALSE(c.collections[0].auth);
  const Collection& users = c.collections[1];
  EXPECT_EQ(c.users(), &users);
  EXPECT_EQ(c.find_collection("users"), &users);
  EXPECT_EQ(users.name, "users");
  EXPECT_TRUE(users.auth);
  EXPECT_EQ(users.loc.line, 27);  // `users:` under auth

  ASSERT_EQ(users.fields.size(), 4U);
  const Field& email = users.fields[0];
  EXPECT_EQ(email.name, "email");
  EXPECT_EQ(email.type, FieldType::kEmail);
  EXPECT_TRUE(email.required);
  EXPECT_TRUE(email.unique);
  EXPECT_EQ(email.max, 254.0);
  EXPECT_FALSE(email.hidden);
  EXPECT_EQ(users.fields[1].name, "name");
  EXPECT_EQ(users.fields[1].max, 100.0);
  EXPECT_EQ(users.find_field("favourite")->to, "posts");
  EXPECT_EQ(users.find_field("mentor")->to, "users");
  ASSERT_EQ(users.indexes.size(), 2U);
  EXPECT_EQ(users.indexes[1].fields, (std::vector<std::string>{"email", "created"}));
  EXPECT_EQ(users.body_limit, std::size_t{64} << 10);

  // Given rules replace the defaults; view keeps its default; create and delete stay admin-only.
  ASSERT_TRUE(users.rules.list.has_value());
  EXPECT_EQ(users.rules.list->source, "id = @auth.id || 'editor' in @auth.roles");
  EXPECT_EQ(users.rules.list->loc.line, 34);
  ASSERT_TRUE(users.rules.view.has_value());
  EXPECT_EQ(users.rules.view->source, "id = @auth.id");
  EXPECT_NE(users.rules.view->bound, nullptr);
  ASSERT_TRUE(users.rules.update.has_value());
  EXPECT_EQ(users.rules.update->source, "id = @auth.id && name != 'root'");
  EXPECT_FALSE(users.rules.create.has_value());
  EXPECT_FALSE(users.rules.remove.has_value());

  // A declared collection relates to users, and its rules follow the relation into it.
  const Collection& posts = c.collections[0];
  EXPECT_EQ(posts.find_field("owner")->to, "users");
  EXPECT_EQ(posts.find_field("owner")->on_delete, OnDelete::kCascade);
  EXPECT_EQ(posts.find_field("editor")->to, "users");
  ASSERT_TRUE(posts.rules.remove.has_value());
  EXPECT_NE(posts.rules.remove->bound, nullptr);
}

TEST(LoaderAuth, AnEmptySectionGivesEveryDefault) {
  LoadResult r = load_concept_file((fs::path(SLIPWAY_CASES_DIR) / "concept" / "auth_defaults.yaml").string());
  ASSERT_TRUE(r.ok()) << messages(r);
  const Concept& c = *r.concept_file;
  ASSERT_TRUE(c.auth.has_value());
  const AuthSettings& a = *c.auth;
  EXPECT_EQ(a.roles, std::vector<std::string>{"admin"});
  EXPECT_FALSE(a.default_role.has_value());
  EXPECT_EQ(a.signup, AuthSettings::Signup::kOpen);
  EXPECT_EQ(a.password_min_length, 12);
  EXPECT_EQ(a.access_ttl_s, 15 * 60);
  EXPECT_EQ(a.refresh_ttl_s, 30 * 86400);
  EXPECT_EQ(a.session_idle_s, 7 * 86400);
  EXPECT_EQ(a.session_absolute_s, 30 * 86400);
  EXPECT_EQ(a.issuer, "slipway:notes");
  EXPECT_EQ(a.audience, "notes");
  EXPECT_TRUE(a.mfa_required_for.empty());
  EXPECT_EQ(a.mfa_issuer, "notes");

  ASSERT_EQ(c.collections.size(), 2U);  // `auth:` comes first in the file; users still comes last
  EXPECT_EQ(c.collections[0].name, "notes");
  const Collection* users = c.users();
  ASSERT_EQ(users, &c.collections[1]);
  ASSERT_EQ(users->fields.size(), 1U);
  EXPECT_EQ(users->fields[0].name, "email");
  EXPECT_TRUE(users->indexes.empty());
  EXPECT_EQ(users->body_limit, std::size_t{1} << 20);
  for (const auto* rule : {&users->rules.view, &users->rules.update}) {
    ASSERT_TRUE(rule->has_value());
    EXPECT_EQ((*rule)->source, "id = @auth.id");
    EXPECT_NE((*rule)->bound, nullptr);
    EXPECT_EQ((*rule)->loc.line, 3);  // a default rule points at `auth:`
  }
  EXPECT_FALSE(users->rules.list.has_value());
  EXPECT_FALSE(users->rules.create.has_value());
  EXPECT_FALSE(users->rules.remove.has_value());
  EXPECT_EQ(c.collections[0].find_field("owner")->to, "users");
}

TEST(LoaderAuth, IssuerAndAudienceDefaultsFollowTheAppWhereverItIsWritten) {
  LoadResult r = load_concept_string(
      "auth: { tokens: { audience: web } }\ncollections: { a: { fields: {} } }\napp: shop\n", "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.concept_file->auth->issuer, "slipway:shop");
  EXPECT_EQ(r.concept_file->auth->audience, "web");
}

TEST(LoaderAuth, MfaNamesRequiredRolesAndTheIssuerAppsShow) {
  LoadResult r = load_concept_string(
      "app: shop\nauth: { roles: [editor, clerk], mfa: { required_for: [clerk, admin], issuer: Shop Ltd } }\n"
      "collections: { a: { fields: {} } }\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  const AuthSettings& a = *r.concept_file->auth;
  EXPECT_EQ(a.mfa_required_for, (std::vector<std::string>{"clerk", "admin"}));
  EXPECT_EQ(a.mfa_issuer, "Shop Ltd");
  EXPECT_TRUE(a.mfa_required({"admin"}));
  EXPECT_TRUE(a.mfa_required({"editor", "clerk"}));
  EXPECT_FALSE(a.mfa_required({"editor"}));
  EXPECT_FALSE(a.mfa_required({}));
}

TEST(LoaderAuth, EmailFlowsReadSmtpAndOutbound) {
  LoadResult r = load_concept_string(
      "app: shop\nauth: { email: { app_url: 'https://app.example.com/account/', verification: required } }\n"
      "smtp: { host: mail.example.com, port: 465, tls: implicit, username: shop, from: no-reply@example.com }\n"
      "outbound: { connect_timeout: 2s, timeout: 10s, circuit: { failures: 3, window: 1m, open_for: 5s } }\n"
      "collections: { a: { fields: {} } }\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  const Concept& c = *r.concept_file;
  EXPECT_EQ(c.auth->email_app_url, "https://app.example.com/account");  // no trailing slash: links append a path
  EXPECT_EQ(c.auth->verification, AuthSettings::Verification::kRequired);
  ASSERT_TRUE(c.smtp.has_value());
  EXPECT_EQ(c.smtp->host, "mail.example.com");
  EXPECT_EQ(c.smtp->port, 465);
  EXPECT_EQ(c.smtp->tls, SmtpSettings::Tls::kImplicit);
  EXPECT_EQ(c.smtp->username, "shop");
  EXPECT_EQ(c.smtp->from, "no-reply@example.com");
  EXPECT_EQ(c.smtp->from_name, "shop");
  EXPECT_EQ(c.outbound.connect_timeout_s, 2);
  EXPECT_EQ(c.outbound.timeout_s, 10);
  EXPECT_EQ(c.outbound.circuit_failures, 3);
  EXPECT_EQ(c.outbound.circuit_window_s, 60);
  EXPECT_EQ(c.outbound.circuit_open_s, 5);
}

TEST(LoaderAuth, OidcProvidersKeepTheirSettingsInFileOrder) {
  LoadResult r = load_concept_string(
      "app: shop\nauth:\n  oidc:\n"
      "    corp: { issuer: 'https://login.corp.example', client_id: shop,"
      " redirect_uri: 'https://api.shop.example/api/v1/auth/oidc/corp/callback' }\n"
      "    local: { issuer: 'http://127.0.0.1:9000', client_id: dev, scopes: [openid, email],"
      " redirect_uri: 'http://127.0.0.1:8080/api/v1/auth/oidc/local/callback' }\n"
      "collections: { a: { fields: {} } }\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  const AuthSettings& a = *r.concept_file->auth;
  ASSERT_EQ(a.oidc.size(), 2u);
  EXPECT_EQ(a.oidc[0].name, "corp");
  EXPECT_EQ(a.oidc[0].issuer, "https://login.corp.example");
  EXPECT_EQ(a.oidc[0].scopes, (std::vector<std::string>{"openid", "email", "profile"}));
  EXPECT_EQ(a.oidc[1].scopes, (std::vector<std::string>{"openid", "email"}));
  EXPECT_EQ(a.find_oidc("local")->client_id, "dev");
  EXPECT_EQ(a.find_oidc("nope"), nullptr);
}

TEST(LoaderAuth, DurationsAcceptEveryFormAndTheBoundsThemselves) {
  LoadResult r = load_concept_string(
      "app: a\ncollections: { a: { fields: {} } }\n"
      "auth:\n  tokens: { access_ttl: 1m, refresh_ttl: 365d }\n"
      "  sessions: { idle_timeout: 60, absolute_timeout: \"60s\" }\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.concept_file->auth->access_ttl_s, 60);
  EXPECT_EQ(r.concept_file->auth->refresh_ttl_s, 365 * 86400);
  EXPECT_EQ(r.concept_file->auth->session_idle_s, 60);
  EXPECT_EQ(r.concept_file->auth->session_absolute_s, 60);
  LoadResult top = load_concept_string(
      "app: a\ncollections: { a: { fields: {} } }\nauth: { tokens: { access_ttl: 24h, refresh_ttl: 1h } }\n", "f.yaml");
  EXPECT_EQ(only_diagnostic(top), "3:49: refresh_ttl (1h) must not be shorter than access_ttl (1d)");
}

TEST(LoaderAuth, PasswordMinLengthAcceptsEightToSixtyFour) {
  for (int n : {8, 64}) {
    LoadResult r = load_concept_string(
        "app: a\ncollections: { a: { fields: {} } }\nauth: { password: { min_length: " + std::to_string(n) + " } }\n",
        "f.yaml");
    ASSERT_TRUE(r.ok()) << messages(r);
    EXPECT_EQ(r.concept_file->auth->password_min_length, n);
  }
}

TEST(LoaderAuth, ABrokenUsersRuleIsReportedAgainstUsers) {
  LoadResult r = load_concept_string(
      "app: a\ncollections: { a: { fields: {} } }\nauth:\n  users:\n    rules: { delete: \"nope = 1\" }\n", "f.yaml");
  EXPECT_EQ(only_diagnostic(r), "5:23: rule 'delete' of collection 'users': unknown field 'nope'");
}

TEST(Loader, ReportsAnUnreadableFileAtLineZero) {
  LoadResult r = load_concept_file("/nonexistent/dir/slipway.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1U);
  EXPECT_EQ(r.diagnostics[0].to_string(),
            "/nonexistent/dir/slipway.yaml:0:0: cannot read file: No such file or directory");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.concept_file, nullptr);
}

TEST(Loader, ReportsADirectoryAsUnreadable) {
  LoadResult r = load_concept_file(fs::temp_directory_path().string());
  ASSERT_EQ(r.diagnostics.size(), 1U);
  EXPECT_EQ(r.diagnostics[0].line, 0);
  EXPECT_TRUE(r.diagnostics[0].message.starts_with("cannot read file: ")) << messages(r);
}

TEST(Loader, UsesThePathGivenForMessages) {
  LoadResult r = load_concept_string("app: blog\n", "conf/app.yaml");
  EXPECT_EQ(messages(r), "conf/app.yaml:1:1: missing required key 'collections' at top level\n");
}

TEST(Loader, SortsDiagnosticsByLineThenColumn) {
  // Rules are bound last but their errors come out in file order with the rest.
  LoadResult r = load_concept_string(
      "app: blog\n"
      "collections:\n"
      "  posts:\n"
      "    rules: { list: \"nope = 1\" }\n"
      "    fields: { a: { type: int, min: x } }\n"
      "  zz: { fields: { b: { type: bool, bad: 1 } } }\n",
      "f.yaml");
  EXPECT_EQ(messages(r),
            "f.yaml:4:21: rule 'list' of collection 'posts': unknown field 'nope'\n"
            "f.yaml:5:36: expected an integer for 'min', got 'x'\n"
            "f.yaml:6:36: unknown key 'bad' in field 'b'\n");
}

TEST(Loader, CountsColumnsInBytesAfterNonAsciiText) {
  // "é" is two bytes: the column of 'nope' is a byte column, like yaml-cpp's marks.
  LoadResult r = load_concept_string(
      "app: blog\ncollections:\n  posts:\n    fields: { t: { type: text } }\n"
      "    rules: { list: \"t = 'é' && nope = 1\" }\n",
      "f.yaml");
  EXPECT_EQ(only_diagnostic(r), "5:33: rule 'list' of collection 'posts': unknown field 'nope'");
}

TEST(Loader, AcceptsWindowsLineEndingsAndAByteOrderMark) {
  LoadResult r = load_concept_string(
      "\xEF\xBB\xBF"
      "app: blog\r\ncollections:\r\n  posts:\r\n    fields: { t: { type: text } }\r\n"
      "    rules: { list: \"t = 'x'\" }\r\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.concept_file->collections[0].rules.list->source, "t = 'x'");
}

TEST(LoaderHostileInput, RejectsAFileLargerThanOneMebibyte) {
  std::string big = "app: blog\n# " + std::string(kMaxFileBytes, 'x') + "\n";
  LoadResult r = load_concept_string(big, "big.yaml");
  EXPECT_EQ(only_diagnostic(r), "1:1: the file is larger than the maximum of 1048576 bytes");
}

TEST(LoaderHostileInput, RejectsALargeFileOnDiskWithoutReadingItAll) {
  const fs::path path = fs::temp_directory_path() / "slipway_concept_big_test.yaml";
  {
    std::ofstream out(path, std::ios::binary);
    out << std::string(3 * kMaxFileBytes, '#');
  }
  LoadResult r = load_concept_file(path.string());
  fs::remove(path);
  EXPECT_EQ(only_diagnostic(r), "1:1: the file is larger than the maximum of 1048576 bytes");
}

TEST(LoaderHostileInput, RejectsInvalidUtf8AtItsPosition) {
  LoadResult r = load_concept_string("app: blog\ncollections:\n  po\xffsts: {}\n", "f.yaml");
  EXPECT_EQ(only_diagnostic(r), "3:5: the file contains invalid UTF-8: it must be UTF-8 text");
}

TEST(LoaderHostileInput, RejectsOverlongUtf8AndSurrogates) {
  EXPECT_FALSE(load_concept_string("app: \xc0\xaf\n", "f").ok());
  EXPECT_FALSE(load_concept_string("app: \xed\xa0\x80\n", "f").ok());
  EXPECT_FALSE(load_concept_string("app: \xe2\x82\n", "f").ok());  // truncated
}

TEST(LoaderHostileInput, RejectsNulBytes) {
  LoadResult r = load_concept_string(std::string("app: b\0log\n", 11), "f.yaml");
  EXPECT_EQ(only_diagnostic(r), "1:7: the file contains a NUL byte: it must be UTF-8 text");
}

TEST(LoaderHostileInput, RejectsAnEmptyFile) {
  EXPECT_EQ(only_diagnostic(load_concept_string("", "f.yaml")),
            "1:1: the file is empty: expected a map with 'app' and 'collections'");
  EXPECT_EQ(only_diagnostic(load_concept_string("\n\n   \n", "f.yaml")),
            "1:1: the file is empty: expected a map with 'app' and 'collections'");
}

TEST(LoaderHostileInput, StopsDeeplyNestedFlowListsWithoutRecursingFurther) {
  std::string deep = "app: " + std::string(100'000, '[') + std::string(100'000, ']') + "\n";
  LoadResult r = load_concept_string(deep, "deep.yaml");
  EXPECT_EQ(only_diagnostic(r), "1:69: YAML nesting is deeper than 64 levels");
}

TEST(LoaderHostileInput, StopsDeeplyNestedBlockMaps) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
  LoadResult r = load_concept_string(deep, "deep.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1U) << messages(r);
  EXPECT_EQ(r.diagnostics[0].message, "YAML nesting is deeper than 64 levels");
}

TEST(LoaderHostileInput, StopsAtTheNodeLimit) {
  std::string many = "app: blog\nx: [";
  for (std::size_t i = 0; i < kMaxNodes; ++i) many += "1,";
  many += "1]\n";
  ASSERT_LE(many.size(), kMaxFileBytes);
  LoadResult r = load_concept_string(many, "many.yaml");
  ASSERT_EQ(r.diagnostics.size(), 1U) << messages(r);
  EXPECT_EQ(r.diagnostics[0].message, "the concept file has more than 100000 YAML nodes");
}

TEST(LoaderHostileInput, RejectsAliasBombsBeforeExpandingThem) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'z'; ++c) {
    const char prev = static_cast<char>(c - 1);
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  LoadResult r = load_concept_string(bomb, "bomb.yaml");
  EXPECT_EQ(only_diagnostic(r), "2:8: YAML aliases ('*') are not supported in the concept file: write the value out");
}

TEST(LoaderLimits, AcceptsTwoHundredCollectionsButNotMore) {
  auto file = [](int n) {
    std::string s = "app: big\ncollections:\n";
    for (int i = 0; i < n; ++i) s += "  c" + std::to_string(i) + ": { fields: { x: { type: int } } }\n";
    return s;
  };
  LoadResult ok = load_concept_string(file(200), "f.yaml");
  EXPECT_TRUE(ok.ok()) << messages(ok);
  EXPECT_EQ(only_diagnostic(load_concept_string(file(201), "f.yaml")),
            "203:3: the concept file has more than 200 collections");
}

TEST(LoaderLimits, AcceptsTwoHundredFieldsButNotMore) {
  auto file = [](int n) {
    std::string s = "app: big\ncollections:\n  c:\n    fields:\n";
    for (int i = 0; i < n; ++i) s += "      f" + std::to_string(i) + ": { type: int }\n";
    return s;
  };
  LoadResult ok = load_concept_string(file(200), "f.yaml");
  ASSERT_TRUE(ok.ok()) << messages(ok);
  EXPECT_EQ(ok.concept_file->collections[0].fields.size(), 200U);
  EXPECT_EQ(only_diagnostic(load_concept_string(file(201), "f.yaml")),
            "205:7: collection 'c' has more than 200 fields");
}

TEST(LoaderLimits, BodyLimitAcceptsBytesKibAndMibUpTo64Mib) {
  LoadResult r = load_concept_string(
      "app: a\ncollections:\n  a: { fields: {}, body_limit: 1000 }\n  b: { fields: {}, body_limit: 64MiB }\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.concept_file->collections[0].body_limit, 1000U);
  EXPECT_EQ(r.concept_file->collections[1].body_limit, std::size_t{64} << 20);
}

TEST(Loader, RelationMayPointToACollectionDeclaredLater) {
  LoadResult r = load_concept_string(
      "app: a\ncollections:\n  posts: { fields: { author: { type: relation, to: authors } } }\n"
      "  authors: { fields: { name: { type: text } } }\n",
      "f.yaml");
  ASSERT_TRUE(r.ok()) << messages(r);
  EXPECT_EQ(r.concept_file->collections[0].fields[0].on_delete, OnDelete::kRestrict);
}

}  // namespace
}  // namespace slipway::model
