// Model "blocking": worker threads, each with a blocking connection (PQexecPrepared); the HTTP loops hand them
// requests through one queue, a worker builds the response and posts its write back to the request's loop.
#pragma once

#include <libpq-fe.h>

#include <boost/asio/post.hpp>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "backend.h"
#include "statements.h"

namespace pg_limit {

class WorkerPool final : public Backend {
 public:
  WorkerPool(const std::string& url, unsigned workers) {
    std::vector<PgConnPtr> conns;
    for (unsigned i = 0; i < workers; ++i) conns.push_back(connect(url));  // failures surface here, in main
    for (auto& c : conns) threads_.emplace_back([this, c = std::move(c)]() mutable { run(c.get()); });
  }
  ~WorkerPool() override {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

  void submit(std::shared_ptr<PendingQuery> s) override {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(s));
    }
    cv_.notify_one();
  }

 private:
  void run(PGconn* conn) {
    for (;;) {
      std::shared_ptr<PendingQuery> s;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        s = std::move(queue_.front());
        queue_.pop_front();
      }
      const Params p = s->params();
      PgResultPtr r(PQexecPrepared(conn, statement(s->stmt()).name, p.count, p.values.data(), p.lengths.data(),
                                   p.formats.data(), 1));
      if (PQstatus(conn) != CONNECTION_OK) die("connection lost: " + std::string(PQerrorMessage(conn)));
      s->on_result(r.get());
      auto ex = s->executor();
      boost::asio::post(ex, [s = std::move(s)] { s->send(); });
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<PendingQuery>> queue_;  // guarded by mu_
  bool stopping_ = false;                            // guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace pg_limit
