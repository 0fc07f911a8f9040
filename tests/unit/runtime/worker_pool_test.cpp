#include "runtime/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>
#include <set>
#include <stdexcept>
#include <thread>

namespace slipway::runtime {
namespace {

TEST(WorkerPool, RunsTasksOnItsOwnThreadsNeverTheCallers) {
  WorkerPool pool({2, 16});
  std::promise<std::thread::id> ran_on;
  auto f = ran_on.get_future();
  ASSERT_TRUE(pool.try_submit([&] { ran_on.set_value(std::this_thread::get_id()); }));
  EXPECT_NE(f.get(), std::this_thread::get_id());
}

TEST(WorkerPool, RefusesBeyondItsQueueLimitInsteadOfQueueingWithoutBound) {
  WorkerPool pool({1, 3});
  std::latch release(1);
  std::latch started(1);
  ASSERT_TRUE(pool.try_submit([&] {
    started.count_down();
    release.wait();  // the only worker is busy
  }));
  started.wait();
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pool.try_submit([&] { ++ran; })) << i;
  EXPECT_EQ(pool.queued(), 3u);
  EXPECT_FALSE(pool.try_submit([&] { ++ran; }));  // the fourth waiting task: back-pressure
  EXPECT_EQ(pool.rejected(), 1u);
  release.count_down();
  pool.stop();
  EXPECT_EQ(ran.load(), 3);  // every accepted task ran, the refused one never did
}

TEST(WorkerPool, StopRunsEveryAcceptedTaskThenRefusesNewOnes) {
  std::atomic<int> ran{0};
  WorkerPool pool({2, 1000});
  for (int i = 0; i < 500; ++i) ASSERT_TRUE(pool.try_submit([&] { ++ran; }));
  pool.stop();
  EXPECT_EQ(ran.load(), 500);
  EXPECT_FALSE(pool.try_submit([&] { ++ran; }));
  pool.stop();  // idempotent
  EXPECT_EQ(ran.load(), 500);
}

TEST(WorkerPool, ATaskThatThrowsDoesNotStopTheWorker) {
  WorkerPool pool({1, 8});
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("boom"); }));
  std::promise<void> after;
  ASSERT_TRUE(pool.try_submit([&] { after.set_value(); }));
  after.get_future().get();
  EXPECT_EQ(pool.failures(), 1u);
}

TEST(WorkerPool, ManySubmittersAtOnceLoseNothingThatWasAccepted) {
  std::atomic<int> ran{0};
  std::atomic<int> accepted{0};
  {
    WorkerPool pool({2, 64});
    std::vector<std::thread> submitters;
    for (int t = 0; t < 4; ++t) {
      submitters.emplace_back([&] {
        for (int i = 0; i < 2000; ++i)
          if (pool.try_submit([&] { ++ran; })) ++accepted;
      });
    }
    for (auto& s : submitters) s.join();
  }  // the destructor stops (and drains)
  EXPECT_GT(accepted.load(), 0);
  EXPECT_EQ(ran.load(), accepted.load());
}

TEST(WorkerPool, UsesAtLeastOneThreadAndOneQueueSlot) {
  WorkerPool pool({0, 0});
  EXPECT_EQ(pool.threads(), 1u);
  std::promise<void> done;
  ASSERT_TRUE(pool.try_submit([&] { done.set_value(); }));
  done.get_future().get();
}

}  // namespace
}  // namespace slipway::runtime
