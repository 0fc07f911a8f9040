// PgPipeline (storage/postgres/pg_pipeline.h) against the private PostgreSQL cluster: reads queued while a batch is
// in flight go out together, every read gets its own answer exactly once, a failing read fails alone, a broken
// connection fails its batch and the next read reconnects, close() fails what is still queued.
#include "storage/postgres/pg_pipeline.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "support/engines.h"

namespace slipway::storage::postgres {
namespace {

// The answers of reads, gathered until the test has them all.
class Answers {
 public:
  // The callback for read number `i`: its first column (text), or its Problem.
  PgPipeline::Done slot(std::size_t i) {
    std::lock_guard lock(mu_);
    if (got_.size() <= i) got_.resize(i + 1);
    return [this, i](Result<storage::Statement*> rows) {
      std::optional<Result<std::string>> value;
      if (!rows) {
        value = std::move(rows).error();
      } else if (auto more = (*rows)->step(); !more) {
        value = std::move(more).error();
      } else {
        value = *more ? std::string((*rows)->column_text(0)) : std::string("(no row)");
      }
      std::lock_guard lock(mu_);
      EXPECT_FALSE(got_[i].has_value()) << "read " << i << " answered twice";
      got_[i] = std::move(*value);
      ++count_;
      cv_.notify_all();
    };
  }
  // Waits for `n` answers (at most 30 s) and returns them in read order.
  std::vector<std::optional<Result<std::string>>> wait(std::size_t n) {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(30), [&] { return count_ >= n; })) << count_ << " of " << n;
    return got_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::optional<Result<std::string>>> got_;
  std::size_t count_ = 0;
};

class PgPipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::pg_base_url().empty()) GTEST_SKIP() << "SLIPWAY_TEST_PG_URL is not set";
    options_.url = testing::pg_base_url() + "/postgres";
    options_.application_name = "pipeline-test-" + std::to_string(::getpid());
  }
  bool read(PgPipeline& p, const std::string& sql, std::vector<Value> params, PgPipeline::Done done) {
    return p.read(sql, std::move(params), done);
  }
  // Waits until PostgreSQL runs `pg_sleep` for the pipeline: its batch is in flight, its queue empty.
  void wait_until_sleeping() {
    const std::string sql = "SELECT 1 FROM pg_stat_activity WHERE application_name = '" +
                            options_.application_name + "' AND state = 'active' AND query LIKE '%pg_sleep%'";
    for (int i = 0; i < 500; ++i) {
      PGconn* c = PQconnectdb(options_.url.c_str());
      PGresult* r = PQexec(c, sql.c_str());
      const bool sleeping = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
      PQclear(r);
      PQfinish(c);
      if (sleeping) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "the pipeline never ran its pg_sleep";
  }

  PgConnectOptions options_;
  Answers answers_;
};

TEST_F(PgPipelineTest, ReadsQueuedDuringABatchGoOutTogetherAndEachGetsItsOwnRow) {
  PgPipeline pipeline(options_, 1024, std::chrono::seconds(10));
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_sleep(0.3) AS text)", {}, answers_.slot(0)));
  const std::uint64_t batches_before = PgPipeline::total_batches();
  for (std::int64_t i = 1; i <= 100; ++i)  // queued in far less than the 0.3 s the first batch takes
    ASSERT_TRUE(read(pipeline, "SELECT CAST(?1 AS bigint) * 2", {Value(i)}, answers_.slot(static_cast<std::size_t>(i))));
  const auto got = answers_.wait(101);
  for (std::size_t i = 1; i <= 100; ++i) {
    ASSERT_TRUE(got[i].has_value() && got[i]->has_value()) << i;
    EXPECT_EQ(**got[i], std::to_string(2 * i));
  }
  // The 100 went out in one or two batches after the sleeping one, not one each.
  EXPECT_LE(PgPipeline::total_batches() - batches_before, 3u);
}

TEST_F(PgPipelineTest, AFailingReadFailsAloneAndTheRestOfItsBatchIsAnswered) {
  PgPipeline pipeline(options_, 1024, std::chrono::seconds(10));
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_sleep(0.2) AS text)", {}, answers_.slot(0)));
  const char* divide = "SELECT 12 / CAST(?1 AS int)";
  ASSERT_TRUE(read(pipeline, divide, {Value(std::int64_t{3})}, answers_.slot(1)));
  ASSERT_TRUE(read(pipeline, divide, {Value(std::int64_t{0})}, answers_.slot(2)));  // division by zero
  ASSERT_TRUE(read(pipeline, divide, {Value(std::int64_t{4})}, answers_.slot(3)));
  ASSERT_TRUE(read(pipeline, "SELEC 1", {}, answers_.slot(4)));  // cannot even be prepared
  ASSERT_TRUE(read(pipeline, divide, {Value(std::int64_t{6})}, answers_.slot(5)));
  // First seen after the failure: its prepare is aborted with the rest of the batch, and it is prepared again.
  ASSERT_TRUE(read(pipeline, "SELECT CAST(?1 AS bigint) + 100", {Value(std::int64_t{1})}, answers_.slot(6)));
  const auto got = answers_.wait(7);
  EXPECT_EQ(got[1]->value(), "4");
  ASSERT_FALSE(got[2]->has_value());
  EXPECT_EQ(got[2]->error().code, ProblemCode::kInternal);
  EXPECT_EQ(got[3]->value(), "3");
  ASSERT_FALSE(got[4]->has_value());
  EXPECT_EQ(got[4]->error().code, ProblemCode::kInternal);
  EXPECT_EQ(got[5]->value(), "2");
  EXPECT_EQ(got[6]->value(), "101");
}

TEST_F(PgPipelineTest, ABrokenConnectionFailsItsReadWith503AndTheNextReadReconnects) {
  PgPipeline pipeline(options_, 1024, std::chrono::seconds(10));
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_backend_pid() AS text)", {}, answers_.slot(0)));
  const std::string pid = answers_.wait(1)[0]->value();
  ASSERT_TRUE(testing::pg_admin("DO $$ BEGIN PERFORM pg_terminate_backend(" + pid + "); END $$"));
  for (int i = 0; i < 300; ++i) {  // until the backend is gone, so the next read cannot reach it
    PGconn* c = PQconnectdb(options_.url.c_str());
    PGresult* r = PQexec(c, ("SELECT 1 FROM pg_stat_activity WHERE pid = " + pid).c_str());
    const bool gone = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 0;
    PQclear(r);
    PQfinish(c);
    if (gone) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(read(pipeline, "SELECT 'after'", {}, answers_.slot(1)));
  auto got = answers_.wait(2);
  ASSERT_FALSE(got[1]->has_value());
  EXPECT_EQ(got[1]->error().code, ProblemCode::kUnavailable);
  EXPECT_EQ(got[1]->error().fault, Fault::kConnectionLost);
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_backend_pid() AS text)", {}, answers_.slot(2)));
  got = answers_.wait(3);
  ASSERT_TRUE(got[2]->has_value()) << got[2]->error().cause;
  EXPECT_NE(got[2]->value(), pid);
}

TEST_F(PgPipelineTest, CloseFailsWhatIsStillQueuedAndRefusesNewReads) {
  PgPipeline pipeline(options_, 1024, std::chrono::seconds(10));
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_sleep(0.5) AS text)", {}, answers_.slot(0)));
  wait_until_sleeping();
  for (std::size_t i = 1; i <= 5; ++i) ASSERT_TRUE(read(pipeline, "SELECT 1", {}, answers_.slot(i)));
  pipeline.close();
  const auto got = answers_.wait(6);
  EXPECT_TRUE(got[0]->has_value());  // the batch in flight finished
  for (std::size_t i = 1; i <= 5; ++i) {
    ASSERT_FALSE(got[i]->has_value()) << i;
    EXPECT_EQ(got[i]->error().code, ProblemCode::kUnavailable);
  }
  PgPipeline::Done unused = [](Result<storage::Statement*>) { ADD_FAILURE() << "a read after close was answered"; };
  EXPECT_FALSE(pipeline.read("SELECT 1", {}, unused));
  EXPECT_TRUE(unused);  // left to the caller
}

TEST_F(PgPipelineTest, AReadStuckBehindASlowBatchFailsWith503AfterItsWaitNotWhenTheBatchEnds) {
  PgPipeline pipeline(options_, 1024, std::chrono::milliseconds(100));
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_sleep(1) AS text)", {}, answers_.slot(0)));
  wait_until_sleeping();
  ASSERT_TRUE(read(pipeline, "SELECT 1", {}, answers_.slot(1)));
  const auto got = answers_.wait(1);  // the first answer to come
  ASSERT_FALSE(got[0].has_value()) << "the slow batch ended first";
  ASSERT_TRUE(got[1].has_value());
  ASSERT_FALSE(got[1]->has_value());
  EXPECT_EQ(got[1]->error().code, ProblemCode::kUnavailable);
  EXPECT_EQ(got[1]->error().fault, Fault::kTimeout);
  EXPECT_TRUE(answers_.wait(2)[0]->has_value());
}

TEST_F(PgPipelineTest, PreparedStatementsAreBoundedAndAnEvictedOneIsPreparedAgain) {
  PgPipeline pipeline(options_, 1024, std::chrono::seconds(10));
  const std::uint64_t evictions_before = pg_statement_evictions();
  const auto sql = [](int i) { return "SELECT CAST(?1 AS bigint) + " + std::to_string(i); };
  for (int i = 0; i < 300; ++i)  // more distinct statements than a connection keeps prepared (256)
    ASSERT_TRUE(read(pipeline, sql(i), {Value(std::int64_t{1000})}, answers_.slot(static_cast<std::size_t>(i))));
  ASSERT_TRUE(read(pipeline, sql(0), {Value(std::int64_t{1})}, answers_.slot(300)));  // evicted by now
  const auto got = answers_.wait(301);
  for (int i = 0; i < 300; ++i) ASSERT_EQ(got[static_cast<std::size_t>(i)]->value(), std::to_string(1000 + i)) << i;
  EXPECT_EQ(got[300]->value(), "1");
  EXPECT_GE(pg_statement_evictions() - evictions_before, 44u);
}

TEST_F(PgPipelineTest, AFullQueueRefusesAtOnceInsteadOfGrowing) {
  PgPipeline pipeline(options_, 2, std::chrono::seconds(10));
  ASSERT_TRUE(read(pipeline, "SELECT CAST(pg_sleep(0.5) AS text)", {}, answers_.slot(0)));
  wait_until_sleeping();  // taken: the queue is empty again
  ASSERT_TRUE(read(pipeline, "SELECT 1", {}, answers_.slot(1)));
  ASSERT_TRUE(read(pipeline, "SELECT 2", {}, answers_.slot(2)));
  PgPipeline::Done third = answers_.slot(3);
  EXPECT_FALSE(pipeline.read("SELECT 3", {}, third));
  EXPECT_TRUE(third);
  const auto got = answers_.wait(3);
  EXPECT_EQ(got[1]->value(), "1");
  EXPECT_EQ(got[2]->value(), "2");
}

}  // namespace
}  // namespace slipway::storage::postgres
