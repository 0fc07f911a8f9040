// The record store (storage/record_store.h) on every engine: each test runs on SQLite and on PostgreSQL.
#include "storage/record_store.h"

#include <gtest/gtest.h>

#include <functional>
#include <future>
#include <optional>
#include <mutex>
#include <set>
#include <thread>

#include "core/concept/loader.h"
#include "storage/sql/dialect.h"
#include "support/engines.h"

namespace slipway::storage {
namespace {

constexpr const char* kConcept = R"(app: test
collections:
  authors:
    fields:
      name: { type: text, required: true }
      email: { type: email, unique: true }
      secret: { type: text, hidden: true }
    rules:
      view: "name != 'Hidden'"
  posts:
    fields:
      title: { type: text, required: true }
      views: { type: int, default: 0 }
      published: { type: bool, default: false }
      author: { type: relation, to: authors, on_delete: cascade }
    rules:
      list: "published = true"
      view: "published = true"
      create: "published = false"
      update: "published = true"
)";

class RecordStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!db_.available()) GTEST_SKIP() << "SLIPWAY_TEST_PG_URL is not set";
    storage_ = db_.open(kConcept, clock_, concept_);
    ASSERT_NE(storage_, nullptr);
    admin_ = Principal::bootstrap_admin();
    posts_ = concept_->find_collection("posts");
    authors_ = concept_->find_collection("authors");
  }

  Result<CreateResult> create(const model::Collection* c, std::vector<Value> values, const Principal& auth,
                              std::string key = {}, std::string fp = {}) {
    std::promise<Result<CreateResult>> p;
    CreateCommand cmd;
    cmd.collection = c;
    cmd.values = std::move(values);
    cmd.idempotency_key = std::move(key);
    cmd.idempotency_fingerprint = std::move(fp);
    storage_->create(std::move(cmd), auth, [&](Result<CreateResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  std::string author(const std::string& name, const std::string& email) {
    auto r = create(authors_, {Value(name), Value(email), Value(std::string("s3cret"))}, admin_);
    EXPECT_TRUE(r.has_value());
    return r->record.id;
  }

  std::string post(const std::string& title, bool published, Value author = Value(Null{})) {
    auto r = create(posts_, {Value(title), Value(std::int64_t{0}), Value(published), std::move(author)}, admin_);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().cause);
    return r->record.id;
  }

  testing::EngineDatabase db_{GetParam()};
  SystemClock clock_;
  std::unique_ptr<model::Concept> concept_;
  std::unique_ptr<RecordStore> storage_;
  Principal admin_;
  Principal anon_;
  const model::Collection* posts_ = nullptr;
  const model::Collection* authors_ = nullptr;
};

TEST_P(RecordStoreTest, CreatedRecordsHaveSystemFieldsAndReadBack) {
  const std::string id = post("Hello", true);
  auto got = storage_->get(*posts_, id, admin_, {});
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->id, id);
  EXPECT_EQ(got->version, 1);
  EXPECT_EQ(got->created, got->updated);
  EXPECT_EQ(got->created.size(), 24u);  // 2026-11-24T14:41:50.123Z
  EXPECT_EQ(std::get<std::string>(got->values[0]), "Hello");
  EXPECT_EQ(std::get<bool>(got->values[2]), true);
}

// The change feed (storage/change_feed.h): every write's change is published after its commit and before its
// answer, so a cache that consumes the feed can never serve a client the version before its own write.
TEST_P(RecordStoreTest, EveryWriteIsPublishedBeforeItIsAnswered) {
  std::mutex mu;
  std::vector<Change> seen;
  storage_->changes().subscribe([&](const Change& c) {
    std::lock_guard lock(mu);
    seen.push_back(c);
  });
  const std::uint64_t before = storage_->changes().sequence();
  std::uint64_t at_answer = 0;
  std::promise<Result<CreateResult>> created;
  CreateCommand cmd;
  cmd.collection = posts_;
  cmd.values = {Value(std::string("Hello")), Value(std::int64_t{0}), Value(true), Value(Null{})};
  storage_->create(std::move(cmd), admin_, [&](Result<CreateResult> r) {
    at_answer = storage_->changes().sequence();
    created.set_value(std::move(r));
  });
  auto r = created.get_future().get();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(at_answer, before + 1);

  std::promise<Result<Record>> updated;
  UpdateCommand up;
  up.collection = posts_;
  up.id = r->record.id;
  up.changes = {{1, Value(std::int64_t{7})}};
  storage_->update(std::move(up), admin_, [&](Result<Record> rec) {
    at_answer = storage_->changes().sequence();
    updated.set_value(std::move(rec));
  });
  ASSERT_TRUE(updated.get_future().get().has_value());
  EXPECT_EQ(at_answer, before + 2);

  std::promise<Status> removed;
  storage_->remove(RemoveCommand{posts_, r->record.id, std::nullopt, {}}, admin_, [&](Status st) {
    at_answer = storage_->changes().sequence();
    removed.set_value(std::move(st));
  });
  ASSERT_TRUE(removed.get_future().get().has_value());
  EXPECT_EQ(at_answer, before + 3);

  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[0].op, Change::Op::kCreate);
  EXPECT_EQ(seen[0].collection, "posts");
  EXPECT_EQ(seen[0].id, r->record.id);
  EXPECT_EQ(seen[0].version, 1);
  EXPECT_EQ(seen[1].op, Change::Op::kUpdate);
  EXPECT_EQ(seen[1].version, 2);
  EXPECT_EQ(seen[2].op, Change::Op::kDelete);
  EXPECT_EQ(seen[2].id, r->record.id);
  EXPECT_FALSE(seen[2].remote);
}

// Another instance's change (or a lost listener: kReset) reaches the hot-read cache through the same feed.
TEST_P(RecordStoreTest, APublishedChangeDropsTheCachedRecord) {
  if (!storage_->caches_allowed()) GTEST_SKIP() << "no read caches where other processes write (PostgreSQL)";
  const std::string id = post("Hello", true);
  ASSERT_TRUE(storage_->get(*posts_, id, anon_, {}).has_value());  // cached now
  const auto hits = storage_->cache_hits();
  ASSERT_TRUE(storage_->get(*posts_, id, anon_, {}).has_value());
  EXPECT_EQ(storage_->cache_hits(), hits + 1);
  Change remote;
  remote.collection = "posts";
  remote.id = id;
  remote.remote = true;
  storage_->changes().publish(remote);
  const auto misses = storage_->cache_misses();
  ASSERT_TRUE(storage_->get(*posts_, id, anon_, {}).has_value());
  EXPECT_EQ(storage_->cache_misses(), misses + 1);
  ASSERT_TRUE(storage_->get(*posts_, id, anon_, {}).has_value());
  Change reset;
  reset.kind = Change::Kind::kReset;
  storage_->changes().publish(reset);
  const auto misses_after = storage_->cache_misses();
  ASSERT_TRUE(storage_->get(*posts_, id, anon_, {}).has_value());
  EXPECT_EQ(storage_->cache_misses(), misses_after + 1);
}

TEST_P(RecordStoreTest, ViewRuleHidesRowsAsNotFound) {
  const std::string hidden = post("Draft", false);
  auto r = storage_->get(*posts_, hidden, anon_, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ProblemCode::kNotFound);
  EXPECT_TRUE(storage_->get(*posts_, hidden, admin_, {}).has_value());
}

// A GET that one statement answers is read without blocking where the engine pipelines reads (PostgreSQL) and
// answers exactly as get() does; where it cannot (SQLite, expand, a relation whose masking needs a query) get_async
// declines, leaves `done` to the caller, and get() serves.
TEST_P(RecordStoreTest, GetAsyncAnswersAsGetDoesOrDeclines) {
  const bool pipelined = GetParam() == "postgres";
  const std::string ada = author("Ada", "ada@example.com");
  const std::string hidden = author("Hidden", "h@example.com");
  const std::string shown = post("Shown", true, Value(ada));
  auto get_async = [&](const model::Collection& c, const std::string& id, const Principal& who,
                       const std::vector<std::string>& expand) -> std::optional<Result<Record>> {
    std::promise<Result<Record>> p;
    std::function<void(Result<Record>)> done = [&p](Result<Record> r) { p.set_value(std::move(r)); };
    if (!storage_->get_async(c, id, who, expand, done)) {
      EXPECT_TRUE(done) << "declined but took the callback";
      return std::nullopt;
    }
    return p.get_future().get();
  };
  auto r = get_async(*authors_, ada, anon_, {});
  ASSERT_EQ(r.has_value(), pipelined);
  if (!pipelined) return;
  ASSERT_TRUE(r->has_value()) << r->error().cause;
  auto sync = storage_->get(*authors_, ada, anon_, {});
  ASSERT_TRUE(sync.has_value());
  EXPECT_EQ((*r)->id, sync->id);
  EXPECT_EQ((*r)->created, sync->created);
  EXPECT_EQ((*r)->updated, sync->updated);
  EXPECT_EQ((*r)->version, sync->version);
  EXPECT_EQ((*r)->values, sync->values);
  EXPECT_EQ(get_async(*authors_, hidden, anon_, {})->error().code, ProblemCode::kNotFound);  // the view rule
  EXPECT_EQ(get_async(*authors_, "01a22a30-db2d-7036-aca3-8a9927104198", anon_, {})->error().code,
            ProblemCode::kNotFound);
  EXPECT_TRUE(get_async(*authors_, hidden, admin_, {})->has_value());
  EXPECT_EQ(get_async(*posts_, shown, admin_, {})->value().id, shown);  // the admin sees relations unmasked
  EXPECT_FALSE(get_async(*posts_, shown, anon_, {}).has_value());  // masking `author` needs a query
  EXPECT_FALSE(get_async(*authors_, ada, admin_, {"nothing"}).has_value());  // expand reads more than one statement
}

// A page one statement answers is read without blocking on PostgreSQL, page for page as list() reads it (cursor
// included); count, expand and masking queries make list_async decline.
TEST_P(RecordStoreTest, ListAsyncPagesAsListDoesOrDeclines) {
  const bool pipelined = GetParam() == "postgres";
  const std::string ada = author("Ada", "ada@example.com");
  for (int i = 0; i < 5; ++i) post("p" + std::to_string(i), i % 2 == 0, Value(ada));
  auto list_async = [&](const ListQuery& q, const Principal& who) -> std::optional<Result<ListPage>> {
    std::promise<Result<ListPage>> p;
    std::function<void(Result<ListPage>)> done = [&p](Result<ListPage> r) { p.set_value(std::move(r)); };
    if (!storage_->list_async(q, who, done)) {
      EXPECT_TRUE(done) << "declined but took the callback";
      return std::nullopt;
    }
    return p.get_future().get();
  };
  ListQuery q;
  q.collection = posts_;
  q.limit = 2;
  auto first = list_async(q, admin_);
  ASSERT_EQ(first.has_value(), pipelined);
  if (!pipelined) return;
  std::vector<std::string> async_ids, sync_ids;
  for (;;) {  // every page, following the cursors list_async hands out
    auto page = list_async(q, admin_);
    ASSERT_TRUE(page.has_value() && page->has_value());
    for (const auto& r : (*page)->items) async_ids.push_back(r.id);
    if (!(*page)->next_cursor) break;
    q.cursor = *(*page)->next_cursor;
  }
  q.cursor.clear();
  for (;;) {
    auto page = storage_->list(q, admin_);
    ASSERT_TRUE(page.has_value());
    for (const auto& r : page->items) sync_ids.push_back(r.id);
    if (!page->next_cursor) break;
    q.cursor = *page->next_cursor;
  }
  EXPECT_EQ(async_ids.size(), 5u);
  EXPECT_EQ(async_ids, sync_ids);
  q.cursor.clear();
  ListQuery authors;
  authors.collection = authors_;
  auto seen = list_async(authors, anon_);  // the list rule is absent: admin only
  EXPECT_FALSE(seen.has_value());
  EXPECT_FALSE(list_async(q, anon_).has_value());  // masking `author` needs a query
  q.count = true;
  EXPECT_FALSE(list_async(q, admin_).has_value());
  q.count = false;
  q.expand = {"author"};
  EXPECT_FALSE(list_async(q, admin_).has_value());
}

// Writes submitted together share a batch (one transaction); one that fails — here a duplicate of a unique value,
// or a create rule that refuses the row — fails alone: every other write of its batch is committed and answered,
// and nothing of the failed one is stored.
TEST_P(RecordStoreTest, AFailingWriteFailsAloneAndItsBatchCommits) {
  author("Taken", "taken@example.com");
  constexpr int kWrites = 60;
  std::vector<std::promise<Result<CreateResult>>> answers(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    CreateCommand cmd;
    const bool duplicate = i % 4 == 1, refused = i % 4 == 3;
    if (refused) {  // posts' create rule is "published = false"
      cmd.collection = posts_;
      cmd.values = {Value("refused " + std::to_string(i)), Value(std::int64_t{0}), Value(true), Value(Null{})};
    } else {
      cmd.collection = authors_;
      const std::string email = duplicate ? "taken@example.com" : "a" + std::to_string(i) + "@example.com";
      cmd.values = {Value("A" + std::to_string(i)), Value(email), Value(Null{})};
    }
    storage_->create(std::move(cmd), refused ? anon_ : admin_,
                     [&answers, i](Result<CreateResult> r) { answers[static_cast<std::size_t>(i)].set_value(std::move(r)); });
  }
  int ok = 0;
  for (int i = 0; i < kWrites; ++i) {
    auto r = answers[static_cast<std::size_t>(i)].get_future().get();
    if (i % 4 == 1) {
      ASSERT_FALSE(r.has_value()) << i;
      EXPECT_EQ(r.error().code, ProblemCode::kConflict);
    } else if (i % 4 == 3) {
      ASSERT_FALSE(r.has_value()) << i;
      EXPECT_EQ(r.error().code, ProblemCode::kForbidden);
    } else {
      ASSERT_TRUE(r.has_value()) << i << ": " << r.error().cause;
      EXPECT_TRUE(storage_->get(*authors_, r->record.id, admin_, {}).has_value());
      ++ok;
    }
  }
  ListQuery q;
  q.collection = authors_;
  q.count = true;
  EXPECT_EQ(*storage_->list(q, admin_)->total, ok + 1);
  q.collection = posts_;
  EXPECT_EQ(*storage_->list(q, admin_)->total, 0);
}

TEST_P(RecordStoreTest, ListRuleIsAndedIntoTheQuery) {
  post("a", true);
  post("b", false);
  post("c", true);
  ListQuery q;
  q.collection = posts_;
  q.count = true;
  auto page = storage_->list(q, anon_);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_EQ(*page->total, 2);
  auto all = storage_->list(q, admin_);
  EXPECT_EQ(all->items.size(), 3u);
}

TEST_P(RecordStoreTest, AbsentRuleMeansAdminOnly) {
  ListQuery q;
  q.collection = authors_;  // authors has no list rule
  auto r = storage_->list(q, anon_);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ProblemCode::kForbidden);
}

TEST_P(RecordStoreTest, CreateRuleIsCheckedAgainstTheNewRecord) {
  auto denied = create(posts_, {Value(std::string("x")), Value(std::int64_t{0}), Value(true), Value(Null{})}, anon_);
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ProblemCode::kForbidden);
  auto allowed = create(posts_, {Value(std::string("x")), Value(std::int64_t{0}), Value(false), Value(Null{})}, anon_);
  ASSERT_TRUE(allowed.has_value());
  ListQuery q;
  q.collection = posts_;
  EXPECT_EQ(storage_->list(q, admin_)->items.size(), 1u);  // the denied one left nothing behind
}

TEST_P(RecordStoreTest, KeysetPagingIsStableUnderConcurrentInserts) {
  for (int i = 0; i < 50; ++i) post("p" + std::to_string(i), true);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int n = 0;
    while (!stop.load()) post("late" + std::to_string(n++), true);
  });
  std::set<std::string> seen;
  std::vector<std::string> order;
  ListQuery q;
  q.collection = posts_;
  q.limit = 7;
  q.sort = {{"title", true, &posts_->fields[0]}};
  std::set<std::string> initial;
  for (;;) {
    auto page = storage_->list(q, anon_);
    ASSERT_TRUE(page.has_value()) << page.error().detail;
    for (const auto& r : page->items) {
      EXPECT_TRUE(seen.insert(r.id).second) << "duplicate " << r.id;
      order.push_back(std::get<std::string>(r.values[0]));
    }
    if (!page->next_cursor) break;
    q.cursor = *page->next_cursor;
  }
  stop = true;
  writer.join();
  for (std::size_t i = 1; i < order.size(); ++i) EXPECT_GE(order[i - 1], order[i]);
  // Every row that existed before paging started was seen (no skips).
  ListQuery all;
  all.collection = posts_;
  all.limit = 500;
  all.filter = nullptr;
  auto everything = storage_->list(all, admin_);
  int originals = 0;
  for (const auto& r : everything->items)
    if (std::get<std::string>(r.values[0]).rfind("late", 0) != 0) {
      ++originals;
      EXPECT_TRUE(seen.count(r.id)) << "skipped " << std::get<std::string>(r.values[0]);
    }
  EXPECT_EQ(originals, 50);
}

TEST_P(RecordStoreTest, UpdateChecksVersionAndBumpsIt) {
  const std::string id = post("t", true);
  auto update = [&](std::optional<std::int64_t> if_match) {
    std::promise<Result<Record>> p;
    UpdateCommand cmd;
    cmd.collection = posts_;
    cmd.id = id;
    cmd.changes = {{1, Value(std::int64_t{5})}};
    cmd.if_match = if_match;
    storage_->update(std::move(cmd), admin_, [&](Result<Record> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  };
  auto first = update(1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->version, 2);
  auto stale = update(1);
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().code, ProblemCode::kPreconditionFailed);
}

TEST_P(RecordStoreTest, RelationToAMissingRecordIs422AndUniqueViolationIs409) {
  auto bad = create(posts_, {Value(std::string("t")), Value(std::int64_t{0}), Value(true),
                             Value(std::string("01a227c1-502b-7000-8000-000000000001"))},
                    admin_);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ProblemCode::kUnprocessable);
  ASSERT_EQ(bad.error().errors.size(), 1u);
  EXPECT_EQ(bad.error().errors[0].field, "author");
  author("A", "a@example.com");
  auto dup = create(authors_, {Value(std::string("B")), Value(std::string("a@example.com")), Value(Null{})}, admin_);
  ASSERT_FALSE(dup.has_value());
  EXPECT_EQ(dup.error().code, ProblemCode::kConflict);
}

TEST_P(RecordStoreTest, IdempotencyKeyReplaysTheFirstCreate) {
  std::vector<Value> v{Value(std::string("t")), Value(std::int64_t{0}), Value(true), Value(Null{})};
  auto a = create(posts_, v, admin_, "key-1", "fp");
  auto b = create(posts_, v, admin_, "key-1", "fp");
  ASSERT_TRUE(a.has_value());
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(a->record.id, b->record.id);
  EXPECT_FALSE(a->replayed);
  EXPECT_TRUE(b->replayed);
  auto c = create(posts_, v, admin_, "key-1", "other");
  ASSERT_FALSE(c.has_value());
  EXPECT_EQ(c.error().code, ProblemCode::kUnprocessable);
}

TEST_P(RecordStoreTest, AnIdempotentReplayNeverRevealsARowTheCallerMayNotView) {
  // posts: create rule "published = false", view rule "published = true": an anonymous draft is created, but
  // whoever replays its key and body must not be shown the draft.
  std::vector<Value> v{Value(std::string("draft")), Value(std::int64_t{0}), Value(false), Value(Null{})};
  auto first = create(posts_, v, anon_, "shared-key", "fp");
  ASSERT_TRUE(first.has_value()) << first.error().detail;
  auto replay = create(posts_, v, anon_, "shared-key", "fp");
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, ProblemCode::kConflict);
  ListQuery q;
  q.collection = posts_;
  EXPECT_EQ(storage_->list(q, admin_)->items.size(), 1u);  // and no duplicate was created
}

TEST_P(RecordStoreTest, ExpandObeysTheRelatedCollectionsViewRule) {
  const std::string visible = author("Ada", "ada@example.com");
  const std::string hidden = author("Hidden", "h@example.com");
  const std::string p1 = post("a", true, Value(visible));
  const std::string p2 = post("b", true, Value(hidden));
  auto r1 = storage_->get(*posts_, p1, anon_, {"author"});
  ASSERT_TRUE(r1.has_value());
  ASSERT_EQ(r1->expand.size(), 1u);
  EXPECT_EQ(r1->expand[0].second->id, visible);
  auto r2 = storage_->get(*posts_, p2, anon_, {"author"});
  ASSERT_TRUE(r2.has_value());
  EXPECT_TRUE(r2->expand.empty());
  EXPECT_EQ(storage_->get(*posts_, p2, admin_, {"author"})->expand.size(), 1u);
}

TEST_P(RecordStoreTest, DeletingAnAuthorCascadesToPosts) {
  const std::string a = author("Ada", "ada@example.com");
  const std::string p = post("a", true, Value(a));
  std::promise<Status> done;
  storage_->remove(RemoveCommand{authors_, a, std::nullopt, {}}, admin_, [&](Status st) { done.set_value(std::move(st)); });
  ASSERT_TRUE(done.get_future().get().has_value());
  auto gone = storage_->get(*posts_, p, admin_, {});
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ProblemCode::kNotFound);
}

Result<Record> patch(RecordStore& storage, const model::Collection* c, const std::string& id,
                     std::vector<std::pair<int, Value>> changes, const Principal& auth) {
  std::promise<Result<Record>> p;
  UpdateCommand cmd;
  cmd.collection = c;
  cmd.id = id;
  cmd.changes = std::move(changes);
  storage.update(std::move(cmd), auth, [&](Result<Record> r) { p.set_value(std::move(r)); });
  return p.get_future().get();
}

TEST_P(RecordStoreTest, CachedReadsSeeTheirOwnWrites) {
  const std::string id = post("t", true);
  ASSERT_EQ(storage_->get(*posts_, id, anon_, {})->version, 1);  // now cached
  ASSERT_TRUE(patch(*storage_, posts_, id, {{1, Value(std::int64_t{9})}}, admin_).has_value());
  auto after = storage_->get(*posts_, id, anon_, {});
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->version, 2);
  EXPECT_EQ(std::get<std::int64_t>(after->values[1]), 9);
}

TEST_P(RecordStoreTest, CachedVerdictFollowsTheRowNotTheFirstCaller) {
  const std::string id = post("draft", false);
  ASSERT_TRUE(storage_->get(*posts_, id, admin_, {}).has_value());  // cached by the admin
  auto anon = storage_->get(*posts_, id, anon_, {});
  ASSERT_FALSE(anon.has_value());
  EXPECT_EQ(anon.error().code, ProblemCode::kNotFound);
  ASSERT_TRUE(patch(*storage_, posts_, id, {{2, Value(true)}}, admin_).has_value());  // publish it
  EXPECT_TRUE(storage_->get(*posts_, id, anon_, {}).has_value());
}

// A view rule that tests a role is the same for every row of a request but not for every caller: the record cache
// must not keep its verdict with the row (expr::row_only), or one caller's answer would be served to the next.
class RoleRuleStorageTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (!db_.available()) GTEST_SKIP() << "SLIPWAY_TEST_PG_URL is not set";
    storage_ = db_.open(R"(app: test
collections:
  notes:
    fields:
      title: { type: text, required: true }
      published: { type: bool, default: false }
    rules:
      view: "published || 'editor' in @auth.roles"
auth:
  roles: [editor, member]
)", clock_, concept_);
    ASSERT_NE(storage_, nullptr);
    notes_ = concept_->find_collection("notes");
    member_.kind = PrincipalKind::kUser;
    member_.id = "u1";
    member_.set_roles({"member"});
    editor_ = member_;
    editor_.id = "u2";
    editor_.set_roles({"editor", "member"});
  }

  std::string note(const std::string& title, bool published) {
    std::promise<Result<CreateResult>> p;
    CreateCommand cmd;
    cmd.collection = notes_;
    cmd.values = {Value(title), Value(published)};
    storage_->create(std::move(cmd), Principal::bootstrap_admin(),
                     [&](Result<CreateResult> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().cause);
    return r ? r->record.id : std::string();
  }

  bool sees(const std::string& id, const Principal& auth) {
    auto r = storage_->get(*notes_, id, auth, {});
    EXPECT_TRUE(r.has_value() || r.error().code == ProblemCode::kNotFound);
    return r.has_value();
  }

  testing::EngineDatabase db_{GetParam()};
  SystemClock clock_;
  std::unique_ptr<model::Concept> concept_;
  std::unique_ptr<RecordStore> storage_;
  const model::Collection* notes_ = nullptr;
  Principal anon_, member_, editor_;
};

TEST_P(RoleRuleStorageTest, TheEditorsVerdictIsNotServedToOthers) {
  const std::string id = note("draft", false);
  EXPECT_TRUE(sees(id, editor_));
  EXPECT_FALSE(sees(id, anon_));
  EXPECT_FALSE(sees(id, member_));
  EXPECT_TRUE(sees(id, editor_));
}

TEST_P(RoleRuleStorageTest, AnotherCallersVerdictIsNotServedToTheEditor) {
  const std::string id = note("draft", false);
  EXPECT_FALSE(sees(id, anon_));
  EXPECT_FALSE(sees(id, member_));
  EXPECT_TRUE(sees(id, editor_));
  const std::string published = note("out", true);
  EXPECT_TRUE(sees(published, anon_));
  EXPECT_TRUE(sees(published, member_));
  EXPECT_TRUE(sees(published, editor_));
}

TEST_P(RecordStoreTest, CascadeDeleteEvictsCachedDependents) {
  const std::string a = author("Ada", "ada@example.com");
  const std::string p = post("a", true, Value(a));
  ASSERT_TRUE(storage_->get(*posts_, p, anon_, {}).has_value());  // cached
  std::promise<Status> done;
  storage_->remove(RemoveCommand{authors_, a, std::nullopt, {}}, admin_, [&](Status st) { done.set_value(std::move(st)); });
  ASSERT_TRUE(done.get_future().get().has_value());
  auto gone = storage_->get(*posts_, p, anon_, {});
  ASSERT_FALSE(gone.has_value());
  EXPECT_EQ(gone.error().code, ProblemCode::kNotFound);
}

TEST_P(RecordStoreTest, NoStaleEntrySurvivesConcurrentReadsAndWrites) {
  const std::string id = post("t", true);
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t)
    readers.emplace_back([&] {
      while (!stop.load()) (void)storage_->get(*posts_, id, anon_, {});
    });
  std::int64_t last = 0;
  for (int i = 1; i <= 300; ++i) {
    auto r = patch(*storage_, posts_, id, {{1, Value(std::int64_t{i})}}, admin_);
    ASSERT_TRUE(r.has_value());
    last = r->version;
    auto seen = storage_->get(*posts_, id, anon_, {});  // read-your-writes, with readers racing the cache
    ASSERT_TRUE(seen.has_value());
    ASSERT_GE(seen->version, last);
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(storage_->get(*posts_, id, anon_, {})->version, last);
  EXPECT_EQ(std::get<std::int64_t>(storage_->get(*posts_, id, anon_, {})->values[1]), 300);
}

TEST_P(RecordStoreTest, MigrationHistoryRecordsTheAppliedPlan) {
  auto h = storage_->history();
  ASSERT_TRUE(h.has_value());
  ASSERT_EQ(h->size(), 1u);
  EXPECT_EQ((*h)[0].version, 1);
  EXPECT_EQ((*h)[0].applied_by, "test");
  EXPECT_NE((*h)[0].plan.find("create collection posts"), std::string::npos);
  auto snap = storage_->current_snapshot();
  ASSERT_TRUE(snap.has_value() && snap->has_value());
  auto plan = sql::plan_migration(*snap, *concept_, storage_->dialect());
  EXPECT_TRUE(plan->empty());
}

// A plan is made outside the migration lock: if another process migrates the database in between, the plan's
// steps were computed for a schema that is gone, and applying it is refused instead of run.
TEST_P(RecordStoreTest, APlanMadeBeforeSomeoneElseMigratedIsRefused) {
  auto snap = storage_->current_snapshot();
  ASSERT_TRUE(snap.has_value() && snap->has_value());
  auto with = [&](const std::string& field) {
    auto loaded = model::load_concept_string(std::string(kConcept) + "  notes:\n    fields:\n      " + field +
                                                 ": { type: text }\n",
                                             "next.yaml");
    EXPECT_TRUE(loaded.ok());
    return std::move(loaded.concept_file);
  };
  const auto mine = with("body");
  const auto theirs = with("text");
  auto my_plan = sql::plan_migration(*snap, *mine, storage_->dialect());
  auto their_plan = sql::plan_migration(*snap, *theirs, storage_->dialect());
  ASSERT_TRUE(my_plan.has_value() && their_plan.has_value());
  ASSERT_TRUE(storage_->apply(*their_plan, "them", false).has_value());
  auto refused = storage_->apply(*my_plan, "me", false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ProblemCode::kConflict);
  EXPECT_EQ(storage_->history()->size(), 2u);
  EXPECT_TRUE(storage_->apply(*their_plan, "them again", false).has_value());  // already applied: nothing to do
  EXPECT_EQ(storage_->history()->size(), 2u);
}

// --- the audit chain rides the write's transaction --------------------------------------------------------------

CreateCommand audited_create(const model::Collection* c, std::vector<Value> values, AuditEntry e) {
  CreateCommand cmd;
  cmd.collection = c;
  cmd.values = std::move(values);
  cmd.audit = {std::move(e)};
  return cmd;
}

AuditEntry entry(std::string action) {
  AuditEntry e;
  e.action = std::move(action);
  e.actor_kind = "admin";
  e.actor_id = "admin";
  return e;
}

TEST_P(RecordStoreTest, AuditEntriesCommitWithTheirRecordOrNotAtAll) {
  // SetUp applied the schema: one migration.apply entry so far.
  ASSERT_EQ(storage_->verify_audit()->entries, 1);
  std::promise<Result<CreateResult>> ok;
  CreateCommand cmd = audited_create(
      authors_, {Value(std::string("Ada")), Value(std::string("ada@example.com")), Value(Null{})}, entry("record.create"));
  storage_->create(std::move(cmd), admin_, [&](Result<CreateResult> r) { ok.set_value(std::move(r)); });
  auto created = ok.get_future().get();
  ASSERT_TRUE(created.has_value());
  auto report = storage_->verify_audit();
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->entries, 2);
  EXPECT_EQ(report->head_seq, 2);
  EXPECT_FALSE(report->first_bad);

  // The same e-mail again: the unique constraint fails the op, and its audit entry goes with it.
  std::promise<Result<CreateResult>> dup;
  CreateCommand again = audited_create(
      authors_, {Value(std::string("Eve")), Value(std::string("ada@example.com")), Value(Null{})}, entry("record.create"));
  storage_->create(std::move(again), admin_, [&](Result<CreateResult> r) { dup.set_value(std::move(r)); });
  ASSERT_FALSE(dup.get_future().get().has_value());
  EXPECT_EQ(storage_->verify_audit()->entries, 2);

  // A failing update (If-Match of a version the record does not have) writes no entry either.
  std::promise<Result<Record>> stale;
  UpdateCommand upd;
  upd.collection = authors_;
  upd.id = created->record.id;
  upd.changes = {{0, Value(std::string("Ada L."))}};
  upd.if_match = 7;
  upd.audit = {entry("record.update")};
  storage_->update(std::move(upd), admin_, [&](Result<Record> r) { stale.set_value(std::move(r)); });
  ASSERT_FALSE(stale.get_future().get().has_value());
  EXPECT_EQ(storage_->verify_audit()->entries, 2);
}

TEST_P(RecordStoreTest, ConcurrentWritesBuildOneGaplessChain) {
  // Many writers at once: their ops share group-commit batches, some fail (duplicate e-mails), and the chain stays
  // gapless and linked in commit order.
  constexpr int kWriters = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> created{0};
  for (int t = 0; t < kWriters; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        std::promise<Result<CreateResult>> p;
        const std::string email = "w" + std::to_string(t) + "-" + std::to_string(i % 20) + "@example.com";
        CreateCommand cmd = audited_create(authors_, {Value(std::string("W")), Value(email), Value(Null{})},
                                           entry("record.create"));
        storage_->create(std::move(cmd), admin_, [&](Result<CreateResult> r) { p.set_value(std::move(r)); });
        if (p.get_future().get().has_value()) ++created;
      }
    });
  }
  std::promise<Status> appended;
  storage_->append_audit({entry("access.denied"), entry("access.denied")}, [&](Status st) { appended.set_value(st); });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(appended.get_future().get().has_value());
  EXPECT_EQ(created.load(), kWriters * 20);  // 5 duplicates per writer failed
  auto report = storage_->verify_audit();
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->first_bad) << report->why;
  EXPECT_EQ(report->entries, 1 + kWriters * 20 + 2);
  EXPECT_EQ(report->head_seq, report->entries);
}

INSTANTIATE_TEST_SUITE_P(Engines, RecordStoreTest, ::testing::ValuesIn(testing::engine_params()),
                         testing::engine_name);
INSTANTIATE_TEST_SUITE_P(Engines, RoleRuleStorageTest, ::testing::ValuesIn(testing::engine_params()),
                         testing::engine_name);

}  // namespace
}  // namespace slipway::storage
