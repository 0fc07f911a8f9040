// One writer and one checkpointer per database, enforced (issue 6 items 3 and 11): the lock a storage holds keeps
// a second writer out and names the holder; read-only storage works beside it; reader connections cannot write or
// checkpoint.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/concept/loader.h"
#include "storage/sql/dialect.h"
#include "storage/sqlite/connection.h"
#include "storage/sqlite/sqlite_storage.h"
#include "support/temp_dir.h"

namespace slipway::storage::sqlite {
namespace {

constexpr const char* kConcept = "app: t\ncollections:\n  things:\n    fields:\n      n: { type: int }\n";

class SingleWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loaded = model::load_concept_string(kConcept, "t.yaml");
    ASSERT_TRUE(loaded.ok());
    concept_ = std::move(loaded.concept_file);
  }
  Result<std::unique_ptr<RecordStore>> open(bool read_only = false) {
    SqliteOptions o;
    o.path = dir_.file("db.sqlite");
    o.read_only = read_only;
    return open_storage(*concept_, o, clock_);
  }
  void create_schema(RecordStore& s) {
    auto plan = sql::plan_migration(std::nullopt, *concept_, *sql::make_sqlite_dialect());
    ASSERT_TRUE(plan.has_value());
    ASSERT_TRUE(s.apply(*plan, "test", false).has_value());
  }

  testing::TempDir dir_;
  SystemClock clock_;
  std::unique_ptr<model::Concept> concept_;
};

TEST_F(SingleWriter, ASecondWriterIsRefusedAndToldWhoHoldsTheDatabase) {
  auto first = open();
  ASSERT_TRUE(first.has_value()) << first.error().cause;
  auto second = open();
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, ProblemCode::kUnavailable);
  EXPECT_NE(second.error().cause.find("in use by another slipway process (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << second.error().cause;
  first->reset();  // released with the storage
  auto third = open();
  EXPECT_TRUE(third.has_value()) << (third ? "" : third.error().cause);
}

TEST_F(SingleWriter, AnEditedLockFileCannotPutTextIntoTheMessage) {
  auto first = open();
  ASSERT_TRUE(first.has_value());
  {  // the flock stays with `first`; only the pid text is replaced by something hostile
    std::ofstream f(dir_.file("db.sqlite.lock"), std::ios::trunc);
    f << "\x1b[31m; rm -rf /\n" << std::string(4000, 'A');
  }
  auto second = open();
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().cause.find("rm -rf"), std::string::npos) << second.error().cause;
  EXPECT_EQ(second.error().cause.find('\x1b'), std::string::npos);
  EXPECT_NE(second.error().cause.find("in use by another slipway process: only one process"), std::string::npos)
      << second.error().cause;
}

TEST_F(SingleWriter, ReadOnlyStorageInspectsBesideTheWriterAndCannotWrite) {
  auto writer = open();
  ASSERT_TRUE(writer.has_value());
  create_schema(**writer);
  auto inspector = open(/*read_only=*/true);
  ASSERT_TRUE(inspector.has_value()) << inspector.error().cause;
  auto snap = (*inspector)->current_snapshot();
  ASSERT_TRUE(snap.has_value());
  EXPECT_TRUE(snap->has_value());
  auto plan = sql::plan_migration(*snap, *concept_, *sql::make_sqlite_dialect());
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->empty());
  Status st = (*inspector)->apply(*plan, "test", false);
  EXPECT_FALSE(st.has_value());
}

TEST_F(SingleWriter, ReadOnlyStorageReadsAMissingDatabaseAsEmpty) {
  auto inspector = open(/*read_only=*/true);
  ASSERT_TRUE(inspector.has_value());
  auto snap = (*inspector)->current_snapshot();
  ASSERT_TRUE(snap.has_value());
  EXPECT_FALSE(snap->has_value());
  EXPECT_TRUE((*inspector)->history()->empty());
  EXPECT_NE(::access(dir_.file("db.sqlite").c_str(), F_OK), 0);  // and creates nothing
}

TEST_F(SingleWriter, ReaderConnectionsCannotWriteOrCheckpoint) {
  auto writer = open();
  ASSERT_TRUE(writer.has_value());
  create_schema(**writer);
  OpenOptions ro;
  ro.read_only = true;
  auto reader = Connection::open(dir_.file("db.sqlite"), ro);
  ASSERT_TRUE(reader.has_value());
  EXPECT_FALSE((*reader)->exec("INSERT INTO things VALUES ('x', 'c', 'u', 1, 1)").has_value());
  EXPECT_FALSE((*reader)->exec("PRAGMA wal_checkpoint(TRUNCATE)").has_value());
  EXPECT_FALSE((*reader)->exec("CREATE TABLE x (y)").has_value());
}

}  // namespace
}  // namespace slipway::storage::sqlite
