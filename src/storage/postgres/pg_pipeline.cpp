#include "storage/postgres/pg_pipeline.h"

#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <optional>

namespace slipway::storage::postgres {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kMaxBatch = 128;     // reads under one Sync
constexpr std::size_t kMaxPrepared = 256;  // statements prepared per connection (least recently used evicted)

std::atomic<std::uint64_t> g_reads{0}, g_batches{0}, g_expired{0};
constexpr std::chrono::milliseconds kExpiryTick{50};  // how often queued reads are checked while a batch runs

Problem broken(std::string cause, Fault fault = Fault::kConnectionLost) {
  Problem p = Problem::make(ProblemCode::kUnavailable, "The database is unavailable; retry later.", std::move(cause));
  p.fault = fault;
  return p;
}

}  // namespace

PgPipeline::PgPipeline(PgConnectOptions connect, std::size_t max_queued, std::chrono::milliseconds max_wait)
    : options_(std::move(connect)), max_queued_(max_queued), max_wait_(max_wait), thread_([this] { run(); }) {}

PgPipeline::~PgPipeline() { close(); }

bool PgPipeline::read(const std::string& sql, std::vector<Value> params, Done& done) {
  std::lock_guard lock(mu_);
  if (closed_ || queue_.size() >= max_queued_) return false;
  queue_.push_back(Read{sql, std::move(params), std::move(done), Clock::now() + max_wait_});
  if (queue_.size() == 1) cv_.notify_one();
  return true;
}

void PgPipeline::close() {
  std::deque<Read> left;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    left.swap(queue_);
  }
  cv_.notify_one();
  for (auto& r : left) r.done(Problem::make(ProblemCode::kUnavailable, "The database is closed."));
  if (thread_.joinable()) thread_.join();
}

std::uint64_t PgPipeline::total_reads() { return g_reads.load(std::memory_order_relaxed); }
std::uint64_t PgPipeline::total_batches() { return g_batches.load(std::memory_order_relaxed); }
std::uint64_t PgPipeline::total_expired() { return g_expired.load(std::memory_order_relaxed); }

void PgPipeline::expire_queued() {
  std::vector<Read> expired;
  {
    const auto now = Clock::now();
    std::lock_guard lock(mu_);
    while (!queue_.empty() && queue_.front().deadline <= now) {  // FIFO with one max_wait: the oldest first
      expired.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
  }
  if (expired.empty()) return;
  g_expired.fetch_add(expired.size(), std::memory_order_relaxed);
  Problem p = Problem::make(ProblemCode::kUnavailable,
                            "The database is busy: no connection came free in time; retry later.",
                            "pipelined read waited " + std::to_string(max_wait_.count()) + " ms");
  p.fault = Fault::kTimeout;
  for (auto& r : expired) r.done(p);
}

bool PgPipeline::wait_socket(PGconn* pg, short events, Clock::time_point deadline) {
  for (;;) {
    expire_queued();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd fd{PQsocket(pg), events, 0};
    const int n = ::poll(&fd, 1, static_cast<int>(std::min<long long>(left, kExpiryTick.count())));
    if (n > 0) return (fd.revents & (POLLERR | POLLNVAL)) == 0 || (fd.revents & POLLIN) != 0;
    if (n < 0 && errno != EINTR) return false;
  }
}

void PgPipeline::run() {
  std::vector<Read> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return closed_ || !queue_.empty() || !batch.empty(); });
      if (closed_) break;  // close() failed the queue; `batch` holds only reads to send again: fail them below
    }
    expire_queued();  // waited too long already (invariant 3)
    {
      std::lock_guard lock(mu_);
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (batch.empty()) continue;
    if (!conn_ || !conn_->ok()) {
      drop_connection();
      auto conn = PgConnection::connect(options_);
      if (!conn || PQenterPipelineMode((*conn)->raw()) != 1 || PQsetnonblocking((*conn)->raw(), 1) != 0) {
        const Problem p = conn ? broken("could not enter pipeline mode") : conn.error();
        for (auto& r : batch) r.done(p);
        batch.clear();
        continue;
      }
      conn_ = std::move(*conn);
    }
    send_and_answer(batch);
  }
  for (auto& r : batch) r.done(Problem::make(ProblemCode::kUnavailable, "The database is closed."));
  drop_connection();
}

void PgPipeline::drop_connection() {
  conn_.reset();
  prepared_.clear();
  lru_.clear();
}

void PgPipeline::send_and_answer(std::vector<Read>& batch) {
  PGconn* pg = conn_->raw();
  enum class Kind : std::uint8_t { kRead, kPrepare, kDeallocate };
  struct Sent {
    std::size_t read;  // the read it serves (kDeallocate: none)
    Kind kind;
  };
  std::vector<Sent> sent;
  sent.reserve(batch.size() * 2);
  std::vector<std::string> text;
  std::vector<const char*> values;
  bool ok = true;
  for (std::size_t i = 0; i < batch.size() && ok; ++i) {
    const Read& r = batch[i];
    auto it = prepared_.find(r.sql);
    if (it != prepared_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.use);
    } else {
      if (prepared_.size() >= kMaxPrepared) {  // the reads sent before it that use it run first: order is kept
        const auto victim = prepared_.find(lru_.back());
        ok = PQsendQueryParams(pg, ("DEALLOCATE " + victim->second.name).c_str(), 0, nullptr, nullptr, nullptr,
                               nullptr, 0) == 1;
        sent.push_back({0, Kind::kDeallocate});
        prepared_.erase(victim);
        lru_.pop_back();
        count_statement_eviction();
      }
      std::string name = "p" + std::to_string(++next_name_);
      ok = ok && PQsendPrepare(pg, name.c_str(), to_dollar_placeholders(r.sql).c_str(), 0, nullptr) == 1;
      lru_.push_front(r.sql);
      it = prepared_.emplace(r.sql, Prepared{std::move(name), lru_.begin()}).first;
      sent.push_back({i, Kind::kPrepare});
    }
    encode_params(r.params, text, values);
    const int n = static_cast<int>(values.size());
    ok = ok && PQsendQueryPrepared(pg, it->second.name.c_str(), n, values.data(), nullptr, nullptr, 0) == 1;
    sent.push_back({i, Kind::kRead});
  }
  ok = ok && PQpipelineSync(pg) == 1;
  g_batches.fetch_add(1, std::memory_order_relaxed);
  const int timeout_ms = options_.statement_timeout_ms > 0 ? options_.statement_timeout_ms + 5000 : 60000;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  for (int f = ok ? PQflush(pg) : -1; f != 0; f = PQflush(pg)) {  // non-blocking: send while reading what comes
    if (f < 0 || !wait_socket(pg, POLLOUT | POLLIN, deadline) || PQconsumeInput(pg) != 1) {
      ok = false;
      break;
    }
  }
  // The next result, waiting for it; null when the command's results are done (or the connection failed: !ok).
  auto next = [&]() -> PGresult* {
    while (ok && PQisBusy(pg)) {
      if (!wait_socket(pg, POLLIN, deadline) || PQconsumeInput(pg) != 1) ok = false;
    }
    return ok ? PQgetResult(pg) : nullptr;
  };
  std::vector<bool> answered(batch.size(), false);
  std::vector<std::optional<Problem>> unprepared(batch.size());  // its statement could not be prepared
  std::vector<Read> again;
  for (const Sent& s : sent) {
    Read& r = batch[s.read];
    PGresult* res = next();
    if (!ok || !res) {
      ok = false;
      break;
    }
    const ExecStatusType status = PQresultStatus(res);
    if (s.kind == Kind::kDeallocate) {
      PQclear(res);  // a failure leaves a statement on the server: harmless, and it aborts the rest (sent again)
    } else if (s.kind == Kind::kPrepare) {
      if (status != PGRES_COMMAND_OK) {  // failed or aborted: not prepared (a later read prepares it again)
        if (auto it = prepared_.find(r.sql); it != prepared_.end()) {
          lru_.erase(it->second.use);
          prepared_.erase(it);
        }
        // Its read is aborted next: it fails with this (if the prepare itself failed).
        if (status != PGRES_PIPELINE_ABORTED) unprepared[s.read] = conn_->problem(res, "prepare");
      }
      PQclear(res);
    } else if (status == PGRES_PIPELINE_ABORTED && unprepared[s.read]) {
      PQclear(res);
      answered[s.read] = true;
      r.done(*unprepared[s.read]);
    } else if (status == PGRES_PIPELINE_ABORTED) {
      PQclear(res);
      again.push_back(std::move(r));
      answered[s.read] = true;
    } else if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      PgRows rows(res);
      answered[s.read] = true;
      g_reads.fetch_add(1, std::memory_order_relaxed);
      r.done(&rows);
    } else {
      const Problem p = conn_->problem(res, "read");
      PQclear(res);
      answered[s.read] = true;
      r.done(p);
    }
    if (next() != nullptr) ok = false;  // each command's results end with a null: anything else is lost sync
  }
  if (ok) {  // the Sync's own result closes the batch
    PGresult* res = next();
    if (!res || PQresultStatus(res) != PGRES_PIPELINE_SYNC) ok = false;
    PQclear(res);
  }
  if (!ok) {
    const Problem p = PQstatus(pg) == CONNECTION_OK && Clock::now() >= deadline
                          ? broken("no answer within " + std::to_string(timeout_ms) + " ms", Fault::kTimeout)
                          : conn_->problem(nullptr, "pipelined read");
    for (std::size_t i = 0; i < batch.size(); ++i)
      if (!answered[i]) batch[i].done(p);
    drop_connection();  // its state in the pipeline is unknown now
  }
  batch = std::move(again);
}

}  // namespace slipway::storage::postgres
