// WorkerPool: a fixed set of threads for CPU-heavy or blocking work (argon2id password hashing now; SMTP and OIDC
// calls later), so an event loop never runs it (DESIGN.md, "Threads").
//
//   try_submit() ──► queue_ (at most queue_limit waiting) ──► [worker threads] task()
//        └── full ──► false: the caller answers 503 with Retry-After (back-pressure, never an unbounded queue)
//
// Invariants:
//  1. A task accepted by try_submit() runs exactly once, on a worker thread (never on the caller's), unless the
//     pool is destroyed without stop() having drained it — stop() always drains.
//  2. At most queue_limit tasks wait; a task that is running does not count as waiting.
//  3. A task that throws is contained: the worker logs nothing itself (it has no logger), counts it in failures(),
//     and goes on with the next task. Tasks report their own errors through their own callbacks.
//  4. stop() refuses new tasks, runs every task already accepted, then joins the threads. Idempotent.
// Thread safety: every public method may be called from any thread; stop() must not be called from a task.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace slipway::runtime {

struct WorkerPoolOptions {
  std::size_t threads = 2;        // at least 1
  std::size_t queue_limit = 256;  // tasks waiting beyond the running ones; at least 1
  int nice = 0;                   // 0-19: the workers' CPU priority below the rest of the process (Linux, per thread)
};

class WorkerPool {
 public:
  explicit WorkerPool(WorkerPoolOptions options);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`; false (and `task` is dropped unrun) when queue_limit tasks already wait or the pool is stopping.
  [[nodiscard]] bool try_submit(std::function<void()> task);
  void stop();

  std::size_t queued() const;       // tasks waiting now (for the queue-length metric)
  std::uint64_t rejected() const;   // try_submit() calls refused since start
  std::uint64_t failures() const;   // tasks that threw
  std::size_t threads() const { return workers_.size(); }

 private:
  void run();

  const WorkerPoolOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::uint64_t rejected_ = 0;               // GUARDED_BY(mu_)
  std::uint64_t failures_ = 0;               // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;         // started last, joined by stop()
};

}  // namespace slipway::runtime
