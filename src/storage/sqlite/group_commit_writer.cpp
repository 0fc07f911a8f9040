#include "storage/sqlite/group_commit_writer.h"

#include <chrono>
#include <future>
#include <vector>

namespace slipway::storage::sqlite {
namespace {

Problem unavailable(std::string cause) {
  return Problem::make(ProblemCode::kUnavailable, "The database cannot accept writes right now.", std::move(cause));
}

}  // namespace

GroupCommitWriter::GroupCommitWriter(std::unique_ptr<Connection> conn, WriterStats stats)
    : conn_(std::move(conn)), stats_(std::move(stats)), thread_([this] { loop(); }) {}

GroupCommitWriter::~GroupCommitWriter() { close(); }

void GroupCommitWriter::submit(WriteOp op) {
  {
    std::lock_guard lock(mu_);
    if (!closing_ && !failed_) {
      queue_.push_back(std::move(op));
      cv_.notify_one();
      return;
    }
  }
  op.complete(unavailable("writer closed or failed"));
}

Status GroupCommitWriter::run_exclusive(std::function<Status(Connection&)> fn) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  submit(WriteOp{[fn = std::move(fn)](storage::Connection& conn) { return fn(static_cast<Connection&>(conn)); },
                 [promise](Status st) { promise->set_value(std::move(st)); }});
  return future.get();
}

Status GroupCommitWriter::run_alone(std::function<Status(Connection&)> fn) {
  auto promise = std::make_shared<std::promise<Status>>();
  auto future = promise->get_future();
  submit(WriteOp{[fn = std::move(fn)](storage::Connection& conn) { return fn(static_cast<Connection&>(conn)); },
                 [promise](Status st) { promise->set_value(std::move(st)); }, true});
  return future.get();
}

bool GroupCommitWriter::connection_is_sound() {
  if (conn_->in_transaction()) {
    (void)conn_->exec("ROLLBACK");
    if (conn_->in_transaction()) return false;
  }
  auto fk = conn_->prepare_uncached("PRAGMA foreign_keys");
  if (!fk) return false;
  auto row = (*fk)->step();
  return row && *row && (*fk)->column_int(0) == 1;
}

bool GroupCommitWriter::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void GroupCommitWriter::close() {
  {
    std::lock_guard lock(mu_);
    if (closing_ && !thread_.joinable()) return;
    closing_ = true;
    cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
}

void GroupCommitWriter::loop() {
  std::deque<WriteOp> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;  // closing and drained (invariant 4)
      // An `alone` op is a batch of its own: it ends the batch before it, and nothing joins it.
      const std::size_t n = std::min(queue_.size(), kMaxBatch);
      for (std::size_t i = 0; i < n && !(queue_.front().alone && !batch.empty()); ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
        if (batch.back().alone) break;
      }
    }
    if (batch.front().alone) {
      WriteOp& op = batch.front();
      Status st = op.apply(*conn_);
      if (conn_->in_transaction() && st) {  // its work was never committed: do not report it was
        st = Problem::make(ProblemCode::kInternal, "A maintenance operation did not finish its transaction.",
                           "run_alone op left a transaction open; rolled back");
      }
      if (!connection_is_sound()) {  // invariant 6: never write on a connection left in a transaction or without FKs
        {
          std::lock_guard lock(mu_);
          failed_ = true;
        }
        if (st) st = unavailable("the writer's connection was left unusable by a maintenance operation");
      }
      op.complete(std::move(st));
    } else {
      run_batch(batch);
    }
    batch.clear();
  }
}

void GroupCommitWriter::run_batch(std::deque<WriteOp>& batch) {
  std::vector<Status> results;
  results.reserve(batch.size());
  Status begin = conn_->exec("BEGIN IMMEDIATE");
  if (!begin) {
    for (auto& op : batch) op.complete(unavailable(begin.error().cause));
    return;
  }
  for (auto& op : batch) {
    Status st = conn_->exec("SAVEPOINT op");
    if (st) {
      st = op.apply(*conn_);
      if (st) {
        if (Status rel = conn_->exec("RELEASE op"); !rel) st = std::move(rel);
      } else {
        (void)conn_->exec("ROLLBACK TO op; RELEASE op");  // invariant 2
      }
    }
    results.push_back(std::move(st));
  }
  const auto t0 = std::chrono::steady_clock::now();
  Status commit = conn_->exec("COMMIT");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!commit) {
    (void)conn_->exec("ROLLBACK");
    {
      std::lock_guard lock(mu_);
      failed_ = true;  // invariant 3
    }
    for (auto& op : batch) op.complete(unavailable(commit.error().cause));
    // Fail what is still queued too: nothing after a failed commit may be acknowledged.
    std::deque<WriteOp> rest;
    {
      std::lock_guard lock(mu_);
      rest.swap(queue_);
    }
    for (auto& op : rest) op.complete(unavailable("writer failed"));
    return;
  }
  if (stats_.on_commit) stats_.on_commit(batch.size(), secs);
  for (std::size_t i = 0; i < batch.size(); ++i) batch[i].complete(std::move(results[i]));  // invariant 1
}

}  // namespace slipway::storage::sqlite
