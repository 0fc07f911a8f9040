#include "runtime/worker_pool.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <exception>

namespace slipway::runtime {

WorkerPool::WorkerPool(WorkerPoolOptions options)
    : options_{std::max<std::size_t>(1, options.threads), std::max<std::size_t>(1, options.queue_limit),
               std::clamp(options.nice, 0, 19)} {
  workers_.reserve(options_.threads);
  for (std::size_t i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { run(); });
}

WorkerPool::~WorkerPool() { stop(); }

bool WorkerPool::try_submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || queue_.size() >= options_.queue_limit) {  // invariant 2
      ++rejected_;
      return false;
    }
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkerPool::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_)
    if (t.joinable()) t.join();  // invariant 4: workers exit only once the queue is empty
}

std::size_t WorkerPool::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::uint64_t WorkerPool::rejected() const {
  std::lock_guard lock(mu_);
  return rejected_;
}

std::uint64_t WorkerPool::failures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

void WorkerPool::run() {
  // Linux applies a nice value per thread: this worker only, never the event loops. Best effort: a container that
  // forbids it leaves the thread at normal priority.
  if (options_.nice > 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), options_.nice);
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    try {
      task();
    } catch (...) {  // invariant 3
      std::lock_guard lock(mu_);
      ++failures_;
    }
  }
}

}  // namespace slipway::runtime
