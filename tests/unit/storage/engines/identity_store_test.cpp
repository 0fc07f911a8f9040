// Accounts, sessions and refresh rotation on each engine (a real SQLite file, a real PostgreSQL database): sign-up rows ride the users record, rotation
// decides current / repeated-within-window / reused in one transaction, revocations and password changes end the
// right sessions, and a deleted user takes its identity rows along.
#include <gtest/gtest.h>

#include <future>

#include "core/concept/loader.h"
#include "storage/sql/dialect.h"
#include "storage/sql/migration_planner.h"
#include "storage/sqlite/sqlite_storage.h"
#include "storage/system/email_store.h"
#include "storage/system/mfa_store.h"
#include "support/engines.h"
#include "support/temp_dir.h"

namespace slipway::storage {
using sqlite::SqliteOptions;
using sqlite::open_storage;
namespace {

constexpr const char* kConcept = R"(app: test
auth:
  roles: [editor]
  users:
    fields:
      name: { type: text }
collections:
  notes:
    fields:
      title: { type: text }
  posts:
    fields:
      owner: { type: relation, to: users }
    rules:
      view: "true"
  diaries:
    fields:
      owner: { type: relation, to: users }
      text: { type: text }
    rules:
      view: "owner = @auth.id"
)";

constexpr std::int64_t kMinute = 60'000;

class IdentityStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!db_.available()) GTEST_SKIP() << "SLIPWAY_TEST_PG_URL is not set";
    storage_ = db_.open(kConcept, clock_, concept_);
    ASSERT_NE(storage_, nullptr);
    users_ = concept_->users();
    ASSERT_NE(users_, nullptr);
  }

  // A sign-up: the users record, its account and first session in one create.
  Result<CreateResult> sign_up(const std::string& email, const std::string& session_id, const std::string& refresh) {
    CreateCommand cmd;
    cmd.collection = users_;
    cmd.values = {Value(email), Value(std::string("N"))};
    cmd.account = NewAccount{"$argon2id$stand-in", {"editor"}};
    NewSession s;
    s.id = session_id;
    s.refresh_hash = refresh;
    s.expires_ms = clock_.now_ms() + 30 * 24 * 60 * kMinute;
    s.user_agent = "test";
    cmd.session = s;
    std::promise<Result<CreateResult>> p;
    storage_->create(std::move(cmd), Principal::bootstrap_admin(), [&](Result<CreateResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  // Refreshes session `sid` presenting the token digest `presented`; `next` becomes current if it rotates.
  Result<RefreshOutcome> refresh(const std::string& presented, const std::string& next, std::int64_t at_ms,
                                 const std::string& sid = "s1") {
    RefreshCommand c;
    c.session_id = sid;
    c.presented_hash = presented;
    c.next_hash = next;
    c.next_sealed = "sealed:" + next;
    c.now_ms = at_ms;
    c.idle_timeout_ms = 7 * 24 * 60 * kMinute;
    c.reuse_window_ms = 10'000;
    std::promise<Result<RefreshOutcome>> p;
    storage_->refresh_session(std::move(c), [&](Result<RefreshOutcome> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  Result<std::vector<std::string>> revoke(RevokeCommand c) {
    std::promise<Result<std::vector<std::string>>> p;
    storage_->revoke_sessions(std::move(c), {}, [&](auto r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  testing::EngineDatabase db_{GetParam()};
  SystemClock clock_;
  std::unique_ptr<model::Concept> concept_;
  std::unique_ptr<RecordStore> storage_;
  const model::Collection* users_ = nullptr;
};

TEST_P(IdentityStoreTest, ASignUpCreatesTheRecordAccountAndSessionTogether) {
  auto user = sign_up("ada@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value()) << user.error().cause;
  auto account = storage_->find_account_by_email("ada@example.com");
  ASSERT_TRUE(account.has_value());
  ASSERT_TRUE(account->has_value());
  EXPECT_EQ((*account)->user_id, user->record.id);
  EXPECT_EQ((*account)->password_hash, "$argon2id$stand-in");
  EXPECT_EQ((*account)->roles, std::vector<std::string>{"editor"});
  EXPECT_FALSE((*account)->disabled);
  auto sessions = storage_->list_sessions(user->record.id);
  ASSERT_TRUE(sessions.has_value());
  ASSERT_EQ(sessions->size(), 1u);
  EXPECT_EQ((*sessions)[0].id, "s1");
  EXPECT_EQ((*sessions)[0].user_agent, "test");

  // The same address again: the unique e-mail fails the create, and no second account or session appears.
  auto again = sign_up("ada@example.com", "s2", "r9");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ProblemCode::kConflict);
  EXPECT_EQ(refresh("r9", "x", clock_.now_ms(), "s2")->kind, RefreshOutcome::Kind::kInvalid);
  EXPECT_FALSE(storage_->find_account_by_email("nobody@example.com")->has_value());
}

TEST_P(IdentityStoreTest, RotationRepeatsWithinTheWindowAndRevokesOnReuse) {
  ASSERT_TRUE(sign_up("bo@example.com", "s1", "r0").has_value());
  const std::int64_t t = clock_.now_ms();
  auto first = refresh("r0", "r1", t);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind, RefreshOutcome::Kind::kRotated);
  auto peek = storage_->peek_refresh_token("s1");
  ASSERT_TRUE(peek.has_value() && peek->has_value());
  EXPECT_EQ((*peek)->roles, std::vector<std::string>{"editor"});
  EXPECT_EQ((*peek)->session_id, "s1");
  EXPECT_FALSE(storage_->peek_refresh_token("nope")->has_value());
  // A digest the session never gave changes nothing (no revocation by guessing).
  EXPECT_EQ(refresh("forged", "r9", t + 1)->kind, RefreshOutcome::Kind::kInvalid);
  // A second tab presents r0 five seconds later: the same successor, nothing rotates again.
  auto tab = refresh("r0", "r1-other", t + 5'000);
  ASSERT_TRUE(tab.has_value());
  EXPECT_EQ(tab->kind, RefreshOutcome::Kind::kRepeated);
  EXPECT_EQ(tab->sealed, "sealed:r1");
  EXPECT_EQ(refresh("r1", "r2", t + 6'000)->kind, RefreshOutcome::Kind::kRotated);
  // r0 again, long after it rotated away: someone else holds it. The session ends for everyone, audited.
  const auto before = storage_->verify_audit()->entries;
  auto reuse = refresh("r0", "r9", t + 60'000);
  ASSERT_TRUE(reuse.has_value());
  EXPECT_EQ(reuse->kind, RefreshOutcome::Kind::kReused);
  EXPECT_EQ(storage_->verify_audit()->entries, before + 1);
  EXPECT_EQ(refresh("r2", "r3", t + 61'000)->kind, RefreshOutcome::Kind::kInvalid);
  EXPECT_TRUE(storage_->list_sessions(reuse->session.user_id)->empty());
  auto revoked = storage_->sessions_revoked_since(t);
  ASSERT_TRUE(revoked.has_value());
  EXPECT_EQ(*revoked, std::vector<std::string>{"s1"});
}

TEST_P(IdentityStoreTest, AnIdleOrExpiredSessionDoesNotRefresh) {
  ASSERT_TRUE(sign_up("cy@example.com", "s1", "r0").has_value());
  EXPECT_EQ(refresh("r0", "r1", clock_.now_ms() + 8 * 24 * 60 * kMinute)->kind, RefreshOutcome::Kind::kInvalid);
  EXPECT_EQ(refresh("r0", "r1", clock_.now_ms())->kind, RefreshOutcome::Kind::kInvalid);  // ended for good
}

TEST_P(IdentityStoreTest, RevokeOneOrAllButTheCurrentAndChangePassword) {
  auto user = sign_up("di@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  for (const char* sid : {"s2", "s3", "s4"}) {
    NewSession s;
    s.id = sid;
    s.user_id = uid;
    s.refresh_hash = std::string("h-") + sid;
    s.expires_ms = clock_.now_ms() + 60 * kMinute;
    std::promise<Result<Account>> p;
    storage_->open_session(s, std::nullopt, {}, [&](Result<Account> a) { p.set_value(std::move(a)); });
    ASSERT_TRUE(p.get_future().get().has_value());
  }
  EXPECT_EQ(storage_->list_sessions(uid)->size(), 4u);
  // Another user's session id, or one already ended, is not found.
  auto other = revoke(RevokeCommand{"someone-else", std::string("s2"), "", "revoked", clock_.now_ms()});
  ASSERT_FALSE(other.has_value());
  EXPECT_EQ(other.error().code, ProblemCode::kNotFound);
  EXPECT_EQ(*revoke(RevokeCommand{uid, std::string("s2"), "", "revoked", clock_.now_ms()}),
            std::vector<std::string>{"s2"});
  EXPECT_FALSE(revoke(RevokeCommand{uid, std::string("s2"), "", "revoked", clock_.now_ms()}).has_value());
  auto rest = revoke(RevokeCommand{uid, std::nullopt, "s1", "revoked", clock_.now_ms()});
  ASSERT_TRUE(rest.has_value());
  EXPECT_EQ(rest->size(), 2u);  // s3, s4
  EXPECT_EQ(storage_->list_sessions(uid)->size(), 1u);

  std::promise<Result<std::vector<std::string>>> changed;
  storage_->change_password(uid, "$argon2id$new", "s1", {}, [&](auto r) { changed.set_value(std::move(r)); });
  ASSERT_TRUE(changed.get_future().get().has_value());
  EXPECT_EQ((*storage_->find_account(uid))->password_hash, "$argon2id$new");
  EXPECT_EQ(storage_->list_sessions(uid)->size(), 1u);  // the current one stays
}

TEST_P(IdentityStoreTest, DeletingTheUserRecordDeletesItsIdentityRows) {
  auto user = sign_up("ed@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  RemoveCommand rm;
  rm.collection = users_;
  rm.id = user->record.id;
  std::promise<Status> p;
  storage_->remove(std::move(rm), Principal::bootstrap_admin(), [&](Status st) { p.set_value(st); });
  ASSERT_TRUE(p.get_future().get().has_value());
  EXPECT_FALSE(storage_->find_account(user->record.id)->has_value());
  EXPECT_TRUE(storage_->list_sessions(user->record.id)->empty());
  EXPECT_EQ(refresh("r0", "r1", clock_.now_ms())->kind, RefreshOutcome::Kind::kInvalid);
}

TEST_P(IdentityStoreTest, ARefreshTokenOlderThanItsLifetimeIsRefused) {
  ASSERT_TRUE(sign_up("fa@example.com", "s1", "r0").has_value());
  RefreshCommand c;
  c.session_id = "s1";
  c.presented_hash = "r0";
  c.next_hash = "r1";
  c.now_ms = clock_.now_ms() + 2000;
  c.idle_timeout_ms = 7 * 24 * 60 * kMinute;
  c.refresh_ttl_ms = 1000;  // the token was issued at sign-up, 2 s ago
  std::promise<Result<RefreshOutcome>> p;
  storage_->refresh_session(std::move(c), [&](Result<RefreshOutcome> r) { p.set_value(std::move(r)); });
  EXPECT_EQ(p.get_future().get()->kind, RefreshOutcome::Kind::kInvalid);
}

TEST_P(IdentityStoreTest, ALoginDecidesOnTheAccountAsItIsWhenTheSessionIsWritten) {
  auto user = sign_up("ga@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  // Roles changed and then the user disabled while a login was hashing: the session is refused.
  std::promise<Result<Account>> changed;
  storage_->update_account({uid, std::vector<std::string>{}, true, clock_.now_ms()}, {},
                           [&](Result<Account> a) { changed.set_value(std::move(a)); });
  ASSERT_TRUE(changed.get_future().get().has_value());
  NewSession s;
  s.id = "s2";
  s.user_id = uid;
  s.refresh_hash = "h2";
  s.expires_ms = clock_.now_ms() + kMinute;
  std::promise<Result<Account>> login;
  storage_->open_session(s, std::nullopt, {}, [&](Result<Account> a) { login.set_value(std::move(a)); });
  auto refused = login.get_future().get();
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ProblemCode::kUnauthorized);
  EXPECT_EQ(refresh("h2", "x", clock_.now_ms(), "s2")->kind, RefreshOutcome::Kind::kInvalid);  // nothing written
  // Enabled again: the login gets the roles of this moment (none).
  std::promise<Result<Account>> enabled;
  storage_->update_account({uid, std::nullopt, false, clock_.now_ms()}, {},
                           [&](Result<Account> a) { enabled.set_value(std::move(a)); });
  ASSERT_TRUE(enabled.get_future().get().has_value());
  std::promise<Result<Account>> again;
  storage_->open_session(s, std::nullopt, {}, [&](Result<Account> a) { again.set_value(std::move(a)); });
  auto ok = again.get_future().get();
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->roles.empty());
  // Role changes, disabling and deletion are kept as user revocations, for a restart to reload.
  auto revoked = storage_->users_revoked_since(0);
  ASSERT_TRUE(revoked.has_value());
  ASSERT_EQ(revoked->size(), 1u);
  EXPECT_EQ((*revoked)[0].first, uid);
}

TEST_P(IdentityStoreTest, ARelationToUsersShowsOnlyTheCallersOwnId) {
  // users' default view rule is `id = @auth.id`: masking decides without a query, and must agree with the rule.
  auto ada = sign_up("ada@example.com", "s1", "r0");
  auto bob = sign_up("bob@example.com", "s2", "r1");
  ASSERT_TRUE(ada.has_value() && bob.has_value());
  const model::Collection* posts = concept_->find_collection("posts");
  CreateCommand cmd;
  cmd.collection = posts;
  cmd.values = {Value(ada->record.id)};
  std::promise<Result<CreateResult>> p;
  storage_->create(std::move(cmd), Principal::bootstrap_admin(), [&](Result<CreateResult> r) { p.set_value(std::move(r)); });
  auto post = p.get_future().get();
  ASSERT_TRUE(post.has_value());
  auto as = [](const std::string& id) {
    Principal u;
    u.kind = PrincipalKind::kUser;
    u.id = id;
    return u;
  };
  auto seen_by_ada = storage_->get(*posts, post->record.id, as(ada->record.id), {});
  auto seen_by_bob = storage_->get(*posts, post->record.id, as(bob->record.id), {});
  auto seen_by_nobody = storage_->get(*posts, post->record.id, Principal{}, {});
  ASSERT_TRUE(seen_by_ada && seen_by_bob && seen_by_nobody);
  EXPECT_EQ(seen_by_ada->values[0], Value(ada->record.id));
  EXPECT_EQ(seen_by_bob->values[0], Value(Null{}));
  EXPECT_EQ(seen_by_nobody->values[0], Value(Null{}));
}

TEST_P(IdentityStoreTest, ACachedVerdictOfAnOwnerRuleNeverOutlivesAChangeOrCrossesCallers) {
  auto ada = sign_up("ada2@example.com", "s1", "r0");
  auto bob = sign_up("bob2@example.com", "s2", "r1");
  ASSERT_TRUE(ada.has_value() && bob.has_value());
  const model::Collection* diaries = concept_->find_collection("diaries");
  CreateCommand cmd;
  cmd.collection = diaries;
  cmd.values = {Value(ada->record.id), Value(std::string("dear diary"))};
  std::promise<Result<CreateResult>> p;
  storage_->create(std::move(cmd), Principal::bootstrap_admin(), [&](Result<CreateResult> r) { p.set_value(std::move(r)); });
  auto entry = p.get_future().get();
  ASSERT_TRUE(entry.has_value());
  const std::string id = entry->record.id;
  auto as = [](const std::string& uid) {
    Principal u;
    u.kind = PrincipalKind::kUser;
    u.id = uid;
    return u;
  };
  for (int i = 0; i < 3; ++i) {  // Ada fills the cache; Bob is never served from it
    EXPECT_TRUE(storage_->get(*diaries, id, as(ada->record.id), {}).has_value());
    EXPECT_FALSE(storage_->get(*diaries, id, as(bob->record.id), {}).has_value());
  }
  // The diary changes hands: Ada's cached verdict must not survive the write.
  UpdateCommand upd;
  upd.collection = diaries;
  upd.id = id;
  upd.changes = {{0, Value(bob->record.id)}};
  std::promise<Result<Record>> u;
  storage_->update(std::move(upd), Principal::bootstrap_admin(), [&](Result<Record> r) { u.set_value(std::move(r)); });
  ASSERT_TRUE(u.get_future().get().has_value());
  EXPECT_FALSE(storage_->get(*diaries, id, as(ada->record.id), {}).has_value());
  auto bobs = storage_->get(*diaries, id, as(bob->record.id), {});
  ASSERT_TRUE(bobs.has_value());
  EXPECT_EQ(bobs->values[1], Value(std::string("dear diary")));
  // Deleted: gone for its owner too, cached or not.
  RemoveCommand rm;
  rm.collection = diaries;
  rm.id = id;
  std::promise<Status> d;
  storage_->remove(std::move(rm), Principal::bootstrap_admin(), [&](Status st) { d.set_value(st); });
  ASSERT_TRUE(d.get_future().get().has_value());
  EXPECT_FALSE(storage_->get(*diaries, id, as(bob->record.id), {}).has_value());
}

TEST(IdentityStoreWithoutAuth, IdentityCallsSayItIsNotEnabled) {
  testing::TempDir dir;
  auto loaded = model::load_concept_string("app: t\ncollections:\n  notes:\n    fields:\n      a: { type: text }\n", "t.yaml");
  ASSERT_TRUE(loaded.ok());
  SystemClock clock;
  SqliteOptions o;
  o.path = dir.file("db.sqlite");
  auto storage = open_storage(*loaded.concept_file, o, clock);
  ASSERT_TRUE(storage.has_value());
  auto r = (*storage)->find_account_by_email("a@example.com");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ProblemCode::kNotFound);
}

// --- MFA (storage/system/mfa_store.h) ---

Status wait_status(const std::function<void(std::function<void(Status)>)>& call) {
  std::promise<Status> p;
  call([&](Status st) { p.set_value(std::move(st)); });
  return p.get_future().get();
}

// Confirms the enrolment whose sealed secret is `sealed`; the sessions it ended.
Result<std::vector<std::string>> confirm(MfaStore& mfa, const std::string& uid, const std::string& sealed,
                                         std::int64_t step, std::vector<std::string> digests, const std::string& sid,
                                         std::int64_t t) {
  std::promise<Result<std::vector<std::string>>> p;
  mfa.confirm_totp(uid, sealed, step, std::move(digests), sid, t, {}, [&](auto r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

TEST_P(IdentityStoreTest, TotpEnrolmentIsConfirmedOnceAndRaisesTheSession) {
  auto user = sign_up("mo@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  MfaStore& mfa = *storage_->mfa();
  const std::int64_t t = clock_.now_ms();
  EXPECT_FALSE(mfa.find_totp(uid)->has_value());
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed-1", t, {}, done); }).has_value());
  // Beginning again before confirming replaces the secret.
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed-2", t, {}, done); }).has_value());
  auto pending = mfa.find_totp(uid);
  ASSERT_TRUE(pending.has_value() && pending->has_value());
  EXPECT_EQ((*pending)->secret_sealed, "sealed-2");
  EXPECT_FALSE((*pending)->confirmed_ms.has_value());
  EXPECT_FALSE((*storage_->find_account(uid))->mfa);  // not a factor until confirmed

  EXPECT_EQ(confirm(mfa, uid, "sealed-1", 100, {"d1"}, "s1", t).error().code, ProblemCode::kConflict);  // replaced
  ASSERT_TRUE(confirm(mfa, uid, "sealed-2", 100, {"d1", "d2"}, "s1", t).has_value());
  auto factor = mfa.find_totp(uid);
  EXPECT_TRUE((*factor)->confirmed_ms.has_value());
  EXPECT_EQ((*factor)->last_step, 100);
  EXPECT_EQ((*factor)->recovery_codes_left, 2);
  EXPECT_TRUE((*storage_->find_account(uid))->mfa);
  EXPECT_EQ((*storage_->peek_refresh_token("s1"))->aal, 2);  // the confirming session proved the factor

  // Confirmed: neither a second confirmation nor a new enrolment over it.
  EXPECT_EQ(confirm(mfa, uid, "sealed-2", 101, {}, "s1", t).error().code,
            ProblemCode::kConflict);
  EXPECT_EQ(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed-3", t, {}, done); }).error().code,
            ProblemCode::kConflict);
  EXPECT_EQ((*mfa.find_totp(uid))->secret_sealed, "sealed-2");
}

TEST_P(IdentityStoreTest, AChallengeCompletesOnceAndEachFactorUseIsSpentOnce) {
  auto user = sign_up("cy@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  MfaStore& mfa = *storage_->mfa();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed", t, {}, done); }).has_value());
  ASSERT_TRUE(confirm(mfa, uid, "sealed", 100, {"rc1"}, "s1", t).has_value());

  auto challenge = [&](const std::string& digest) {
    return wait_status([&](auto done) { mfa.open_challenge({digest, uid, t, t + 5 * kMinute, 0}, {}, done); });
  };
  auto complete = [&](const std::string& digest, FactorUse use, const std::string& sid) {
    NewSession s;
    s.id = sid;
    s.user_id = uid;
    s.refresh_hash = "rh-" + sid;
    s.expires_ms = t + 60 * kMinute;
    std::promise<Result<Account>> p;
    mfa.complete_challenge(digest, std::move(use), std::move(s), t, {}, [&](Result<Account> a) { p.set_value(std::move(a)); });
    return p.get_future().get();
  };
  ASSERT_TRUE(challenge("c1").has_value());
  ASSERT_TRUE(mfa.find_challenge("c1", t)->has_value());
  EXPECT_FALSE(mfa.find_challenge("c1", t + 5 * kMinute)->has_value());  // expired

  // A step no later than the last accepted one is a replay.
  auto replay = complete("c1", FactorUse{100, std::nullopt}, "s2");
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, ProblemCode::kUnauthorized);
  EXPECT_TRUE(mfa.find_challenge("c1", t)->has_value());  // nothing was spent by the failed attempt

  auto ok = complete("c1", FactorUse{101, std::nullopt}, "s2");
  ASSERT_TRUE(ok.has_value()) << ok.error().cause;
  EXPECT_EQ((*storage_->peek_refresh_token("s2"))->aal, 2);
  EXPECT_FALSE(mfa.find_challenge("c1", t)->has_value());  // consumed
  EXPECT_EQ(complete("c1", FactorUse{102, std::nullopt}, "s3").error().code, ProblemCode::kUnauthorized);

  // A recovery code works once.
  ASSERT_TRUE(challenge("c2").has_value());
  ASSERT_TRUE(complete("c2", FactorUse{std::nullopt, "rc1"}, "s4").has_value());
  EXPECT_EQ((*mfa.find_totp(uid))->recovery_codes_left, 0);
  ASSERT_TRUE(challenge("c3").has_value());
  EXPECT_EQ(complete("c3", FactorUse{std::nullopt, "rc1"}, "s5").error().code, ProblemCode::kUnauthorized);

  // Wrong codes end a challenge after kMaxChallengeFailures.
  for (int i = 0; i < MfaStore::kMaxChallengeFailures; ++i) {
    ASSERT_TRUE(mfa.find_challenge("c3", t)->has_value()) << i;
    ASSERT_TRUE(wait_status([&](auto done) { mfa.fail_challenge("c3", t, {}, done); }).has_value());
  }
  EXPECT_FALSE(mfa.find_challenge("c3", t)->has_value());
  EXPECT_EQ(complete("c3", FactorUse{200, std::nullopt}, "s6").error().code, ProblemCode::kUnauthorized);
}

TEST_P(IdentityStoreTest, APasswordOnlySessionIsRefusedOnceAFactorIsConfirmed) {
  auto user = sign_up("di@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  MfaStore& mfa = *storage_->mfa();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed", t, {}, done); }).has_value());
  ASSERT_TRUE(confirm(mfa, uid, "sealed", 100, {}, "s1", t).has_value());
  NewSession s;
  s.id = "s2";
  s.user_id = uid;
  s.refresh_hash = "rh";
  s.expires_ms = t + kMinute;
  std::promise<Result<Account>> p;
  storage_->open_session(std::move(s), std::nullopt, {}, [&](Result<Account> a) { p.set_value(std::move(a)); });
  auto r = p.get_future().get();
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ProblemCode::kUnauthorized);
}

TEST_P(IdentityStoreTest, RemovingTheFactorRevokesOtherSessionsAndLowersThisOne) {
  auto user = sign_up("ev@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  MfaStore& mfa = *storage_->mfa();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed", t, {}, done); }).has_value());
  ASSERT_TRUE(confirm(mfa, uid, "sealed", 100, {"rc"}, "s1", t).has_value());
  ASSERT_TRUE(wait_status([&](auto done) { mfa.open_challenge({"c", uid, t, t + kMinute, 0}, {}, done); }).has_value());
  NewSession s;
  s.id = "s2";
  s.user_id = uid;
  s.refresh_hash = "rh";
  s.expires_ms = t + kMinute;
  std::promise<Result<Account>> opened;
  mfa.complete_challenge("c", FactorUse{101, std::nullopt}, std::move(s), t, {}, [&](auto a) { opened.set_value(std::move(a)); });
  ASSERT_TRUE(opened.get_future().get().has_value());

  auto remove = [&](FactorUse proof) {
    std::promise<Result<std::vector<std::string>>> p;
    mfa.remove_totp(uid, std::move(proof), "s1", t, {}, [&](auto r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  EXPECT_EQ(remove(FactorUse{101, std::nullopt}).error().code, ProblemCode::kUnauthorized);  // a spent code
  auto removed = remove(FactorUse{102, std::nullopt});
  ASSERT_TRUE(removed.has_value()) << removed.error().cause;
  EXPECT_EQ(*removed, std::vector<std::string>{"s2"});
  EXPECT_FALSE(mfa.find_totp(uid)->has_value());
  EXPECT_FALSE((*storage_->find_account(uid))->mfa);
  EXPECT_EQ((*storage_->peek_refresh_token("s1"))->aal, 1);
  EXPECT_FALSE(storage_->peek_refresh_token("s2")->has_value());
  EXPECT_EQ(remove(FactorUse{}).error().code, ProblemCode::kNotFound);
}

TEST_P(IdentityStoreTest, DeletingTheUserDeletesItsMfaRows) {
  auto user = sign_up("fy@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  MfaStore& mfa = *storage_->mfa();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed", t, {}, done); }).has_value());
  ASSERT_TRUE(confirm(mfa, uid, "sealed", 100, {"rc"}, "s1", t).has_value());
  ASSERT_TRUE(wait_status([&](auto done) { mfa.open_challenge({"c", uid, t, t + kMinute, 0}, {}, done); }).has_value());
  RemoveCommand rm;
  rm.collection = users_;
  rm.id = uid;
  std::promise<Status> p;
  storage_->remove(std::move(rm), Principal::bootstrap_admin(), [&](Status st) { p.set_value(st); });
  ASSERT_TRUE(p.get_future().get().has_value());
  EXPECT_FALSE(mfa.find_totp(uid)->has_value());
  EXPECT_FALSE(mfa.find_challenge("c", t)->has_value());
}

// --- e-mail tokens and the mail queue (storage/system/email_store.h) ---

EmailToken token_for(const std::string& uid, const std::string& digest, const std::string& purpose,
                     const std::string& email, std::int64_t t) {
  return EmailToken{digest, uid, purpose, email, t, t + 30 * kMinute};
}

QueuedMail mail_to(const std::string& id, const std::string& to, std::int64_t t) {
  QueuedMail m;
  m.id = id;
  m.recipient = to;
  m.kind = "verify";
  m.sealed = "sealed-body";
  m.created_ms = t;
  return m;
}

Result<bool> issue(EmailStore& store, std::optional<EmailToken> token, std::vector<QueuedMail> mail,
                   std::int64_t min_interval_ms = 0) {
  std::promise<Result<bool>> p;
  store.issue(std::move(token), std::move(mail), min_interval_ms, {}, [&](Result<bool> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

TEST_P(IdentityStoreTest, AVerificationTokenWorksOnceAndOnlyForTheAddressItWasSentTo) {
  auto user = sign_up("vi@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  EmailStore& email = *storage_->email();
  const std::int64_t t = clock_.now_ms();
  EXPECT_FALSE((*storage_->find_account(uid))->email_verified);
  ASSERT_TRUE(*issue(email, token_for(uid, "v1", "verify", "vi@example.com", t), {}));
  // A newer link replaces the older one.
  ASSERT_TRUE(*issue(email, token_for(uid, "v2", "verify", "vi@example.com", t), {}));
  auto verify = [&](const std::string& digest, std::int64_t at) {
    std::promise<Result<std::string>> p;
    email.verify_email(digest, at, {}, [&](Result<std::string> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  EXPECT_EQ(verify("v1", t).error().code, ProblemCode::kUnauthorized);
  EXPECT_EQ(verify("v2", t + 31 * kMinute).error().code, ProblemCode::kUnauthorized);  // expired
  auto ok = verify("v2", t);
  ASSERT_TRUE(ok.has_value()) << ok.error().cause;
  EXPECT_EQ(*ok, uid);
  EXPECT_TRUE((*storage_->find_account(uid))->email_verified);
  EXPECT_EQ(verify("v2", t).error().code, ProblemCode::kUnauthorized);  // spent
  // A link mailed to an address the user no longer has proves nothing.
  auto other = sign_up("vo@example.com", "s2", "r2");
  ASSERT_TRUE(other.has_value());
  ASSERT_TRUE(*issue(email, token_for(other->record.id, "v3", "verify", "old@example.com", t), {}));
  EXPECT_EQ(verify("v3", t).error().code, ProblemCode::kUnauthorized);
  EXPECT_FALSE((*storage_->find_account(other->record.id))->email_verified);
}

// A resend answers before its write, and on PostgreSQL another writer may commit the verification first: the write
// must then mail nothing, although verifying spent the token its one-per-minute check looks for.
TEST_P(IdentityStoreTest, AResendWrittenAfterTheVerificationMailsNothing) {
  auto user = sign_up("rv@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  EmailStore& email = *storage_->email();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(*issue(email, token_for(uid, "v1", "verify", "rv@example.com", t), {mail_to("m1", "rv@example.com", t)}));
  std::promise<Result<std::string>> verified;
  email.verify_email("v1", t, {}, [&](Result<std::string> r) { verified.set_value(std::move(r)); });
  ASSERT_TRUE(verified.get_future().get().has_value());
  EXPECT_FALSE(*issue(email, token_for(uid, "v2", "verify", "rv@example.com", t + 1),
                      {mail_to("m2", "rv@example.com", t + 1)}, 60'000));
  EXPECT_FALSE(*issue(email, token_for(uid, "v3", "verify", "rv@example.com", t + 2 * kMinute),
                      {mail_to("m3", "rv@example.com", t + 2 * kMinute)}, 60'000));
  std::promise<Result<std::vector<QueuedMail>>> claimed;
  email.claim(t + 3 * kMinute, kMinute, 10, [&](auto r) { claimed.set_value(std::move(r)); });
  auto due = claimed.get_future().get();
  ASSERT_TRUE(due.has_value());
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].id, "m1");
  EXPECT_FALSE(email.find_token("v2", "verify", t + 1)->has_value());
}

TEST_P(IdentityStoreTest, AResetSetsThePasswordEndsEverySessionAndWorksOnce) {
  auto user = sign_up("re@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  EmailStore& email = *storage_->email();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(*issue(email, token_for(uid, "p1", "reset", "re@example.com", t), {mail_to("m1", "re@example.com", t)}));
  // Within the interval a second request writes nothing.
  EXPECT_FALSE(*issue(email, token_for(uid, "p2", "reset", "re@example.com", t + 1), {}, 60'000));
  EXPECT_TRUE(email.find_token("p1", "reset", t)->has_value());
  EXPECT_FALSE(email.find_token("p2", "reset", t)->has_value());
  EXPECT_FALSE(email.find_token("p1", "verify", t)->has_value());  // a token serves its own purpose only
  auto reset = [&](const std::string& digest) {
    std::promise<Result<EmailStore::ResetOutcome>> p;
    email.reset_password(digest, "$argon2id$new", t, {}, [&](auto r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto done = reset("p1");
  ASSERT_TRUE(done.has_value()) << done.error().cause;
  EXPECT_EQ(done->user_id, uid);
  EXPECT_EQ(done->revoked, std::vector<std::string>{"s1"});
  auto account = storage_->find_account(uid);
  EXPECT_EQ((*account)->password_hash, "$argon2id$new");
  EXPECT_TRUE((*account)->email_verified);  // the mail reached the address
  EXPECT_EQ(refresh("r0", "r1", t)->kind, RefreshOutcome::Kind::kInvalid);
  EXPECT_EQ(reset("p1").error().code, ProblemCode::kUnauthorized);
}

TEST_P(IdentityStoreTest, TheMailQueueLeasesEachMailToOneSenderAndKeepsWhatFailed) {
  auto user = sign_up("mq@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  EmailStore& email = *storage_->email();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(*issue(email, std::nullopt, {mail_to("a", "x@example.com", t), mail_to("b", "y@example.com", t + 1)}));
  auto claim = [&](std::int64_t at, int limit = 10) {
    std::promise<Result<std::vector<QueuedMail>>> p;
    email.claim(at, 60'000, limit, [&](auto r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  EXPECT_EQ(email.stats()->pending, 2);
  EXPECT_EQ(email.stats()->oldest_pending_ms, t);
  auto first = claim(t + 10, 1);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].id, "a");
  EXPECT_EQ((*first)[0].attempts, 1);
  EXPECT_EQ((*first)[0].sealed, "sealed-body");
  auto second = claim(t + 10);
  ASSERT_EQ(second->size(), 1u);  // "a" is leased: only "b"
  EXPECT_EQ((*second)[0].id, "b");
  EXPECT_TRUE(claim(t + 20)->empty());
  ASSERT_TRUE(wait_status([&](auto done) { email.sent("b", done); }).has_value());
  ASSERT_TRUE(wait_status([&](auto done) { email.failed("a", "421 busy", t + 1000, t + 30, done); }).has_value());
  EXPECT_TRUE(claim(t + 999)->empty());
  auto again = claim(t + 1000);
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 2);
  // A lease that ends without an answer (the sender died) makes the mail due again: at least once.
  auto after_lease = claim(t + 1000 + 60'000);
  ASSERT_EQ(after_lease->size(), 1u);
  ASSERT_TRUE(wait_status([&](auto done) { email.failed("a", "550 no such user", std::nullopt, t + 2000, done); }).has_value());
  EXPECT_TRUE(claim(t + 10 * 60'000 * 60)->empty());  // dead: never again
  auto stats = email.stats();
  EXPECT_EQ(stats->pending, 0);
  EXPECT_EQ(stats->dead, 1);
}

TEST_P(IdentityStoreTest, AResetThatFirstProvesTheAddressEndsWhatWasSetUpWithoutProof) {
  // A pre-registration: someone signed up with this address (never verified) and put a factor and a pending
  // change of address on it. The owner's reset link reaches the address: none of that survives.
  auto user = sign_up("pre@example.com", "s1", "r0");
  ASSERT_TRUE(user.has_value());
  const std::string uid = user->record.id;
  MfaStore& mfa = *storage_->mfa();
  EmailStore& email = *storage_->email();
  const std::int64_t t = clock_.now_ms();
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed", t, {}, done); }).has_value());
  ASSERT_TRUE(confirm(mfa, uid, "sealed", 100, {"rc"}, "s1", t).has_value());
  ASSERT_TRUE(*issue(email, token_for(uid, "c1", "change", "thief@example.com", t), {}));
  ASSERT_TRUE(*issue(email, token_for(uid, "p1", "reset", "pre@example.com", t), {}));
  std::promise<Result<EmailStore::ResetOutcome>> p;
  email.reset_password("p1", "$argon2id$owner", t, {}, [&](auto r) { p.set_value(std::move(r)); });
  auto reset = p.get_future().get();
  ASSERT_TRUE(reset.has_value()) << reset.error().cause;
  EXPECT_EQ(reset->revoked, std::vector<std::string>{"s1"});
  EXPECT_FALSE(mfa.find_totp(uid)->has_value());
  EXPECT_FALSE(email.find_token("c1", "change", t)->has_value());
  auto account = storage_->find_account(uid);
  EXPECT_FALSE((*account)->mfa);
  EXPECT_TRUE((*account)->email_verified);
  EXPECT_EQ((*account)->password_hash, "$argon2id$owner");

  // Once the address is proven, a later reset keeps the owner's factor (and still ends pending links).
  ASSERT_TRUE(wait_status([&](auto done) { mfa.begin_totp(uid, "sealed-2", t, {}, done); }).has_value());
  ASSERT_TRUE(confirm(mfa, uid, "sealed-2", 200, {}, "s1", t).has_value());
  ASSERT_TRUE(*issue(email, token_for(uid, "c2", "change", "other@example.com", t), {}));
  ASSERT_TRUE(*issue(email, token_for(uid, "p2", "reset", "pre@example.com", t), {}));
  std::promise<Result<EmailStore::ResetOutcome>> p2;
  email.reset_password("p2", "$argon2id$again", t, {}, [&](auto r) { p2.set_value(std::move(r)); });
  ASSERT_TRUE(p2.get_future().get().has_value());
  EXPECT_TRUE(mfa.find_totp(uid)->has_value());
  EXPECT_FALSE(email.find_token("c2", "change", t)->has_value());
}

INSTANTIATE_TEST_SUITE_P(Engines, IdentityStoreTest, ::testing::ValuesIn(testing::engine_params()),
                         testing::engine_name);

}  // namespace
}  // namespace slipway::storage
