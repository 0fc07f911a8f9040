// Migrations against a real SQLite file that holds rows (issue 6 items 1 and 2): every path that adds a column gives
// existing rows the declared default, and every change whose harm depends on the data is settled against the rows
// (safe, destructive with a count, or blocked) before it is applied.
#include "storage/sqlite/sqlite_storage.h"

#include <gtest/gtest.h>

#include <future>

#include "core/concept/loader.h"
#include "storage/sql/dialect.h"
#include "storage/sqlite/connection.h"
#include "support/temp_dir.h"

namespace slipway::storage::sqlite {
namespace {

class MigrationData : public ::testing::Test {
 protected:
  // Opens the database with `text` as the concept file, creating or migrating the schema (destructive allowed).
  void open_with(const std::string& text) {
    storage_.reset();
    auto loaded = model::load_concept_string(text, "t.yaml");
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    ASSERT_TRUE(loaded.ok());
    concepts_.push_back(std::move(loaded.concept_file));
    SqliteOptions o;
    o.path = dir_.file("db.sqlite");
    auto opened = open_storage(*concepts_.back(), o, clock_);
    ASSERT_TRUE(opened.has_value()) << opened.error().cause;
    storage_ = std::move(*opened);
  }

  // Plans from the recorded snapshot to the current concept and settles the data checks.
  sql::MigrationPlan plan() {
    auto snap = storage_->current_snapshot();
    EXPECT_TRUE(snap.has_value());
    auto p = sql::plan_migration(*snap, *concepts_.back(), *sql::make_sqlite_dialect());
    EXPECT_TRUE(p.has_value());
    EXPECT_TRUE(storage_->assess(*p, *concepts_.back()).has_value());
    return *p;
  }

  void migrate_to(const std::string& text, bool allow_destructive = true) {
    open_with(text);
    auto p = plan();
    Status st = storage_->apply(p, "test", allow_destructive);
    ASSERT_TRUE(st.has_value()) << p.to_text() << st.error().detail << " " << st.error().cause;
  }

  void insert(const std::string& collection, const std::string& values_sql) {
    // Rows as any earlier version of the file could have left them (nulls in fields not yet required, ...),
    // written by a connection of the test's own while the storage's writer is idle.
    auto conn = Connection::open(dir_.file("db.sqlite"), OpenOptions{});
    ASSERT_TRUE(conn.has_value());
    Status st = (*conn)->exec("INSERT INTO \"" + collection + "\" VALUES (" + values_sql + ")");
    ASSERT_TRUE(st.has_value()) << st.error().cause;
  }

  // The column's values in id order, rendered as text ("NULL" for null).
  std::vector<std::string> column(const std::string& collection, const std::string& field) {
    OpenOptions oo;
    oo.read_only = true;
    auto conn = Connection::open(dir_.file("db.sqlite"), oo);
    EXPECT_TRUE(conn.has_value());
    auto st = (*conn)->prepare_uncached("SELECT quote(\"" + field + "\") FROM \"" + collection + "\" ORDER BY id");
    EXPECT_TRUE(st.has_value()) << st.error().cause;
    std::vector<std::string> out;
    while (*(*st)->step()) out.emplace_back((*st)->column_text(0));
    return out;
  }

  const sql::MigrationStep* step_named(const sql::MigrationPlan& p, std::string_view prefix) {
    for (const auto& s : p.steps)
      if (s.description.starts_with(prefix)) return &s;
    ADD_FAILURE() << "no step starting with '" << prefix << "' in:\n" << p.to_text();
    return nullptr;
  }

  testing::TempDir dir_;
  SystemClock clock_;
  std::vector<std::unique_ptr<model::Concept>> concepts_;
  std::unique_ptr<RecordStore> storage_;
};

constexpr const char* kRow1 = "'00000000-0000-7000-8000-000000000001', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1";
constexpr const char* kRow2 = "'00000000-0000-7000-8000-000000000002', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1";
constexpr const char* kRow3 = "'00000000-0000-7000-8000-000000000003', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1";

const std::string kHead = "app: t\ncollections:\n  things:\n    fields:\n";

TEST_F(MigrationData, AddColumnGivesExistingRowsTheDefault) {
  migrate_to(kHead + "      n: { type: int }\n");
  insert("things", std::string(kRow1) + ", 7");
  migrate_to(kHead + "      n: { type: int }\n      archived: { type: bool, default: false }\n"
                     "      label: { type: text, default: \"it's\" }\n");
  EXPECT_EQ(column("things", "archived"), std::vector<std::string>{"0"});
  EXPECT_EQ(column("things", "label"), std::vector<std::string>{"'it''s'"});
}

TEST_F(MigrationData, TableRebuildGivesNewColumnsTheirDefaults) {
  // int → float rebuilds the table on SQLite; the new fields ride along in the same edit.
  migrate_to(kHead + "      n: { type: int }\n");
  insert("things", std::string(kRow1) + ", 7");
  insert("things", std::string(kRow2) + ", NULL");
  open_with(kHead + "      n: { type: float }\n      archived: { type: bool, default: false }\n"
                    "      score: { type: int, default: 5 }\n      note: { type: text }\n");
  auto p = plan();
  ASSERT_NE(step_named(p, "rebuild collection things"), nullptr);
  EXPECT_FALSE(p.has_destructive()) << p.to_text();
  ASSERT_TRUE(storage_->apply(p, "test", false).has_value());
  EXPECT_EQ(column("things", "n"), (std::vector<std::string>{"7.0", "NULL"}));
  EXPECT_EQ(column("things", "archived"), (std::vector<std::string>{"0", "0"}));
  EXPECT_EQ(column("things", "score"), (std::vector<std::string>{"5", "5"}));
  EXPECT_EQ(column("things", "note"), (std::vector<std::string>{"NULL", "NULL"}));
}

TEST_F(MigrationData, RelationRebuildGivesNewColumnsTheirDefaults) {
  const std::string owners = "  owners:\n    fields:\n      name: { type: text }\n";
  migrate_to(kHead + "      owner: { type: relation, to: owners }\n" + owners);
  insert("things", std::string(kRow1) + ", NULL");
  migrate_to(kHead + "      owner: { type: relation, to: owners, on_delete: cascade }\n"
                     "      level: { type: enum, values: [low, high], default: low }\n" + owners, false);
  EXPECT_EQ(column("things", "level"), std::vector<std::string>{"'low'"});
}

TEST_F(MigrationData, RequiredWithADefaultBackfillsRowsWithoutAValue) {
  migrate_to(kHead + "      title: { type: text }\n");
  insert("things", std::string(kRow1) + ", NULL");
  insert("things", std::string(kRow2) + ", ''");
  insert("things", std::string(kRow3) + ", 'kept'");
  open_with(kHead + "      title: { type: text, required: true, default: untitled }\n");
  auto p = plan();
  const auto* s = step_named(p, "make things.title required");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->destructive);
  EXPECT_EQ(s->affected, 2);
  EXPECT_NE(s->description.find("get the default 'untitled' (2 records)"), std::string::npos) << s->description;
  ASSERT_TRUE(storage_->apply(p, "test", false).has_value());
  EXPECT_EQ(column("things", "title"), (std::vector<std::string>{"'untitled'", "'untitled'", "'kept'"}));
}

TEST_F(MigrationData, RequiredWithoutADefaultOverNullsIsDestructiveAndCountsThem) {
  migrate_to(kHead + "      n: { type: int }\n");
  insert("things", std::string(kRow1) + ", NULL");
  insert("things", std::string(kRow2) + ", NULL");
  insert("things", std::string(kRow3) + ", 3");
  open_with(kHead + "      n: { type: int, required: true }\n");
  auto p = plan();
  const auto* s = step_named(p, "make things.n required");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->destructive);
  EXPECT_NE(s->description.find("2 records have no value"), std::string::npos) << s->description;
  EXPECT_NE(p.to_text().find("-- [DESTRUCTIVE] make things.n required"), std::string::npos);
  Status refused = storage_->apply(p, "test", false);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ProblemCode::kConflict);
}

TEST_F(MigrationData, RequiredOverRowsThatAllHaveAValueIsSafe) {
  migrate_to(kHead + "      n: { type: int }\n");
  insert("things", std::string(kRow1) + ", 1");
  open_with(kHead + "      n: { type: int, required: true }\n");
  auto p = plan();
  EXPECT_FALSE(p.has_destructive()) << p.to_text();
  EXPECT_NE(p.to_text().find("no record lacks a value"), std::string::npos);
}

TEST_F(MigrationData, NewRequiredFieldWithoutADefaultIsSafeOnlyOnAnEmptyTable) {
  migrate_to(kHead + "      n: { type: int }\n");
  open_with(kHead + "      n: { type: int }\n      m: { type: int, required: true }\n");
  EXPECT_FALSE(plan().has_destructive());
  migrate_to(kHead + "      n: { type: int }\n");  // back: drop m
  insert("things", std::string(kRow1) + ", 1");
  open_with(kHead + "      n: { type: int }\n      m: { type: int, required: true }\n");
  auto p = plan();
  EXPECT_TRUE(p.has_destructive());
  EXPECT_NE(p.to_text().find("1 record has no value"), std::string::npos) << p.to_text();
}

TEST_F(MigrationData, NewUniqueOverDuplicatesIsBlockedEvenWithAllowDestructive) {
  migrate_to(kHead + "      slug: { type: text }\n");
  insert("things", std::string(kRow1) + ", 'a'");
  insert("things", std::string(kRow2) + ", 'a'");
  insert("things", std::string(kRow3) + ", NULL");
  open_with(kHead + "      slug: { type: text, unique: true }\n");
  auto p = plan();
  EXPECT_TRUE(p.has_blocked());
  EXPECT_NE(p.to_text().find("-- [BLOCKED] add index things__unique__slug: 1 value is shared by several records"),
            std::string::npos)
      << p.to_text();
  EXPECT_FALSE(storage_->apply(p, "test", true).has_value());
  EXPECT_EQ(column("things", "slug"), (std::vector<std::string>{"'a'", "'a'", "NULL"}));  // nothing changed
}

TEST_F(MigrationData, NewUniqueOverDistinctValuesApplies) {
  migrate_to(kHead + "      slug: { type: text }\n");
  insert("things", std::string(kRow1) + ", 'a'");
  insert("things", std::string(kRow2) + ", NULL");
  insert("things", std::string(kRow3) + ", NULL");
  migrate_to(kHead + "      slug: { type: text, unique: true }\n", false);
}

TEST_F(MigrationData, NewUniqueFieldWithADefaultOverSeveralRowsIsBlocked) {
  migrate_to(kHead + "      n: { type: int }\n");
  insert("things", std::string(kRow1) + ", 1");
  insert("things", std::string(kRow2) + ", 2");
  open_with(kHead + "      n: { type: int }\n      code: { type: text, unique: true, default: x }\n");
  EXPECT_TRUE(plan().has_blocked());
}

TEST_F(MigrationData, NarrowedLimitsCountTheRecordsThatBreakThem) {
  migrate_to(kHead + "      name: { type: text }\n      n: { type: int }\n      kind: { type: enum, values: [a, b, c] }\n");
  insert("things", std::string(kRow1) + ", 'abcd', 1, 'c'");
  insert("things", std::string(kRow2) + ", 'ab', 9, 'a'");
  insert("things", std::string(kRow3) + ", 'AB', NULL, NULL");
  open_with(kHead + "      name: { type: text, max: 3, pattern: '^[a-z]+$' }\n      n: { type: int, min: 5 }\n"
                    "      kind: { type: enum, values: [a, b] }\n");
  auto p = plan();
  const auto* name = step_named(p, "narrow things.name");
  const auto* n = step_named(p, "narrow things.n ");
  const auto* kind = step_named(p, "narrow things.kind");
  ASSERT_TRUE(name && n && kind);
  EXPECT_EQ(name->affected, 2);  // 'abcd' too long, 'AB' breaks the pattern
  EXPECT_EQ(n->affected, 1);
  EXPECT_EQ(kind->affected, 1);
  EXPECT_TRUE(name->destructive && n->destructive && kind->destructive);
  EXPECT_NE(n->description.find("1 record holds values the new limits refuse"), std::string::npos) << n->description;
  EXPECT_FALSE(storage_->apply(p, "test", false).has_value());
  ASSERT_TRUE(storage_->apply(p, "test", true).has_value());  // allowed: the rows keep their values
  EXPECT_EQ(column("things", "n"), (std::vector<std::string>{"1", "9", "NULL"}));
}

TEST_F(MigrationData, NarrowedLimitsThatEveryRecordMeetsAreSafe) {
  migrate_to(kHead + "      n: { type: int, max: 100 }\n");
  insert("things", std::string(kRow1) + ", 10");
  open_with(kHead + "      n: { type: int, min: 0, max: 50 }\n");
  auto p = plan();
  EXPECT_FALSE(p.has_destructive()) << p.to_text();
  EXPECT_NE(p.to_text().find("every record already complies"), std::string::npos);
}

TEST_F(MigrationData, EveryKindOfChangeAtOnceKeepsTheData) {
  const std::string owners = "  owners:\n    fields:\n      name: { type: text }\n";
  migrate_to(kHead + "      n: { type: int }\n      title: { type: text }\n      old: { type: text }\n"
                     "      slug: { type: text }\n    indexes: [[n]]\n" + owners);
  insert("things", std::string(kRow1) + ", 1, NULL, 'x', 'a'");
  insert("things", std::string(kRow2) + ", 2, 'kept', 'y', 'b'");
  // type change (rebuild) + dropped field + new field with default + required with default (backfill) + new unique
  // + changed index, in one edit.
  migrate_to(kHead + "      n: { type: float }\n      title: { type: text, required: true, default: none }\n"
                     "      slug: { type: text, unique: true }\n      flag: { type: bool, default: true }\n"
                     "    indexes: [[title]]\n" + owners);
  EXPECT_EQ(column("things", "n"), (std::vector<std::string>{"1.0", "2.0"}));
  EXPECT_EQ(column("things", "title"), (std::vector<std::string>{"'none'", "'kept'"}));
  EXPECT_EQ(column("things", "slug"), (std::vector<std::string>{"'a'", "'b'"}));
  EXPECT_EQ(column("things", "flag"), (std::vector<std::string>{"1", "1"}));
  open_with(kHead + "      n: { type: float }\n      title: { type: text, required: true, default: none }\n"
                    "      slug: { type: text, unique: true }\n      flag: { type: bool, default: true }\n"
                    "    indexes: [[title]]\n" + owners);
  EXPECT_TRUE(plan().empty());
}

}  // namespace
}  // namespace slipway::storage::sqlite
