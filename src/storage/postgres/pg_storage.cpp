#include "storage/postgres/pg_storage.h"

#include <poll.h>
#include <sodium.h>

#include <cerrno>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_pipeline.h"
#include "storage/system/secrets.h"
#include "storage/system/system_migrations.h"

namespace slipway::storage::postgres {
namespace {

// Writes per batch (one transaction, no savepoints): large enough that a commit carries what queued behind the last
// one at the load the bench drives, small enough that one op's failure reruns a bounded amount of work.
constexpr std::size_t kMaxBatch = 256;
constexpr int kSerializationRetries = 3;
// Reads queued on one pipeline at most; past it a read takes a pooled connection instead.
constexpr std::size_t kMaxPipelined = 1024;

struct Counters {
  std::atomic<std::uint64_t> waits{0}, timeouts{0}, in_use{0}, open{0}, reconnects{0}, write_retries{0};
};
Counters g_counters;

Problem unavailable(std::string detail, std::string cause, Fault fault) {
  Problem p = Problem::make(ProblemCode::kUnavailable, std::move(detail), std::move(cause));
  p.fault = fault;
  return p;
}

Problem read_only_problem() {
  return Problem::make(ProblemCode::kUnavailable, "The database is open for inspection only.");
}

class PgEngine final : public Engine {
 public:
  explicit PgEngine(PgOptions o) : options_(std::move(o)) {
    unsigned char bytes[8];
    randombytes_buf(bytes, sizeof bytes);
    char hex[17];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    origin_ = hex;
    connect_.url = options_.url;
    connect_.connect_timeout_s = options_.connect_timeout_s;
    connect_.statement_timeout_ms = options_.statement_timeout_ms;
    connect_.application_name = options_.application_name;
  }
  ~PgEngine() override { close(); }

  Status open(const Clock& clock) {
    auto conn = PgConnection::connect(connect_);
    if (!conn) return std::move(conn).error();
    if (!options_.read_only) {
      if (Status st = apply_system_migrations(**conn, sql::DialectKind::kPostgres, "slipway " SLIPWAY_VERSION,
                                              format_rfc3339_ms(clock.now_ms()));
          !st)
        return st;
      auto key = load_cursor_key(**conn);
      if (!key) return std::move(key).error();
      cursor_key_ = *key;
    }
    {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(*conn));
      ++open_;
      g_counters.open.fetch_add(1);
    }
    if (!options_.read_only) {
      for (int i = 0; i < std::max(1, options_.writers); ++i) writers_.emplace_back([this] { writer_loop(); });
      for (int i = 0; i < options_.read_pipelines; ++i)
        pipelines_.push_back(std::make_unique<PgPipeline>(connect_, kMaxPipelined,
                                                          std::chrono::milliseconds(options_.pool_wait_ms)));
    }
    return {};
  }

  const sql::Dialect& dialect() const override { return *dialect_; }
  bool exists() const override { return true; }
  bool writable() const override { return !options_.read_only; }
  bool shared() const override { return true; }

  Result<ReadLease> reader() override {
    std::unique_ptr<PgConnection> conn;
    {
      std::unique_lock lock(mu_);
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.pool_wait_ms);
      bool waited = false;
      for (;;) {
        if (closed_) return Problem::make(ProblemCode::kUnavailable, "The database is closed.");
        if (!idle_.empty()) {
          conn = std::move(idle_.back());
          idle_.pop_back();
          break;
        }
        if (open_ < static_cast<std::size_t>(std::max(1, options_.pool_size))) {
          ++open_;  // reserved; connected below, outside the lock
          g_counters.open.fetch_add(1);
          break;
        }
        if (!waited) g_counters.waits.fetch_add(1);
        waited = true;
        if (pool_cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
            open_ >= static_cast<std::size_t>(std::max(1, options_.pool_size))) {
          g_counters.timeouts.fetch_add(1);
          return unavailable("The database is busy: no connection came free in time; retry later.",
                             "pool exhausted for " + std::to_string(options_.pool_wait_ms) + " ms", Fault::kTimeout);
        }
      }
    }
    if (conn && !conn->ok()) {  // broke while idle (the server restarted): replace it
      conn.reset();
      g_counters.reconnects.fetch_add(1);
    }
    if (!conn) {
      auto fresh = PgConnection::connect(connect_);
      if (!fresh) {
        forget_one();
        return std::move(fresh).error();
      }
      conn = std::move(*fresh);
    }
    g_counters.in_use.fetch_add(1);
    return ReadLease(conn.release(), &PgEngine::give_back, this);
  }

  bool read_pipelined(const std::string& sql, std::vector<Value> params, RowsDone& done) override {
    if (pipelines_.empty()) return false;
    const std::size_t i = next_pipeline_.fetch_add(1, std::memory_order_relaxed) % pipelines_.size();
    return pipelines_[i]->read(sql, std::move(params), done);
  }

  void submit(WriteOp op) override {
    if (options_.read_only) return op.complete(read_only_problem());
    bool stopping = false;
    {
      std::lock_guard lock(wmu_);
      stopping = stopping_;
      if (!stopping_ && queue_.size() < options_.max_queued_writes) {
        queue_.push_back(std::move(op));
        wcv_.notify_one();
        return;
      }
    }
    op.complete(unavailable("The database cannot accept more writes right now; retry later.",
                            stopping ? "writers stopped" : "write queue full", Fault::kBusy));
  }

  Status run_exclusive(std::function<Status(Connection&)> fn) override {
    auto promise = std::make_shared<std::promise<Status>>();
    auto future = promise->get_future();
    submit(WriteOp{std::move(fn), [promise](Status st) { promise->set_value(std::move(st)); }});
    return future.get();
  }

  // A batch of its own on a writer's connection: its own transaction, under the concept-schema lock so two
  // instances never apply a plan at once (PostgreSQL checks foreign keys as each statement runs: nothing to do
  // before COMMIT).
  Status run_migration(std::function<Status(Connection&)> body) override {
    auto promise = std::make_shared<std::promise<Status>>();
    auto future = promise->get_future();
    WriteOp op;
    op.alone = true;
    op.apply = [&body](Connection& conn) -> Status {
      // No statement timeout for schema changes (an index on a large table) nor for the wait on the lock another
      // instance's migration holds.
      if (Status st = conn.exec("BEGIN; SET LOCAL statement_timeout = 0"); !st) return st;
      auto fail = [&conn](Problem p) -> Status {
        (void)conn.exec("ROLLBACK");
        return p;
      };
      if (Status st = conn.lock_across_processes(LockKey::kConceptSchema); !st) return fail(std::move(st).error());
      if (Status st = body(conn); !st) return fail(std::move(st).error());
      return commit(static_cast<PgConnection&>(conn));
    };
    op.complete = [promise](Status st) { promise->set_value(std::move(st)); };
    submit(std::move(op));
    return future.get();
  }

  void listen(std::function<void(Change)> deliver) override {
    listening_.store(true);
    listener_ = std::thread([this, deliver = std::move(deliver)] { listener_loop(deliver); });
  }

  Result<int> serving_other_versions(std::string_view checksum) override {
    auto conn = reader();
    if (!conn) return std::move(conn).error();
    auto lease = (*conn)->prepare(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND application_name LIKE 'slipway serve %' AND application_name <> ?1");
    if (!lease) return std::move(lease).error();
    (*lease)->bind(1, Value(serving_application_name(checksum)));
    auto row = (*lease)->step();
    if (!row) return std::move(row).error();
    return static_cast<int>((*lease)->column_int(0));
  }

  const sql::CursorKey& cursor_key() const override { return cursor_key_; }

  Result<std::vector<SystemMigrationRecord>> system_history() override {
    auto conn = reader();
    if (!conn) return std::move(conn).error();
    return system_migration_status(**conn, sql::DialectKind::kPostgres);
  }

  Status ping() override {
    if (listening_.load() && !listener_up_.load())
      return unavailable("The database's change notifications are not reaching this instance.",
                         "listener connection down", Fault::kConnectionLost);
    auto conn = reader();
    if (!conn) return std::move(conn).error();
    return ping_connection(**conn);
  }

  void close() override {
    for (auto& p : pipelines_) p->close();
    stop_listener_.store(true);
    if (listener_.joinable()) listener_.join();
    {
      std::lock_guard lock(wmu_);
      if (stopping_ && writers_.empty()) return;
      stopping_ = true;
      wcv_.notify_all();
    }
    for (auto& t : writers_) t.join();  // each drains the queue first
    writers_.clear();
    std::lock_guard lock(mu_);
    closed_ = true;
    g_counters.open.fetch_sub(idle_.size());
    open_ -= idle_.size();
    idle_.clear();
    pool_cv_.notify_all();
  }

  std::uint64_t statement_evictions() const override { return pg_statement_evictions(); }

 private:
  // LISTEN on a dedicated session connection (never a pooled one: a pooler in transaction mode would lose it).
  // Whenever notifications may have been missed — the first connection, and every reconnection after a loss — it
  // delivers kReset, after LISTEN is in place so that nothing falls between; while the connection is down the
  // instance is not ready (ping).
  void listener_loop(const std::function<void(Change)>& deliver) {
    Change reset;
    reset.kind = Change::Kind::kReset;
    while (!stop_listener_.load()) {
      auto opened = PgConnection::connect(connect_);
      if (!opened || !(*opened)->exec("LISTEN " + std::string(kChangesChannel))) {
        for (int i = 0; i < 10 && !stop_listener_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      PgConnection& conn = **opened;
      deliver(reset);
      listener_up_.store(true);
      while (!stop_listener_.load()) {
        pollfd pfd{PQsocket(conn.raw()), POLLIN, 0};
        const int ready = ::poll(&pfd, 1, 200);
        if (ready < 0 && errno != EINTR) break;
        if (ready > 0 && PQconsumeInput(conn.raw()) == 0) break;  // the connection broke
        if (PQstatus(conn.raw()) != CONNECTION_OK) break;
        while (PGnotify* n = PQnotifies(conn.raw())) {
          Change change;
          std::string origin;
          if (decode_change(n->extra, change, origin) && origin != origin_) deliver(std::move(change));
          PQfreemem(n);
        }
      }
      listener_up_.store(false);
      if (!stop_listener_.load()) {
        g_counters.reconnects.fetch_add(1);
        deliver(reset);  // caches (and identity state) drop what they hold before the instance serves again
      }
    }
  }

  static void give_back(void* self, Connection* conn) {
    static_cast<PgEngine*>(self)->release(std::unique_ptr<PgConnection>(static_cast<PgConnection*>(conn)));
  }

  void release(std::unique_ptr<PgConnection> conn) {
    g_counters.in_use.fetch_sub(1);
    std::lock_guard lock(mu_);
    if (closed_ || !conn->ok()) {
      --open_;
      g_counters.open.fetch_sub(1);
      conn.reset();
    } else {
      idle_.push_back(std::move(conn));
    }
    pool_cv_.notify_one();
  }

  void forget_one() {
    std::lock_guard lock(mu_);
    --open_;
    g_counters.open.fetch_sub(1);
    pool_cv_.notify_one();
  }

  void writer_loop() {
    std::unique_ptr<PgConnection> conn;
    std::deque<WriteOp> batch;
    for (;;) {
      {
        std::unique_lock lock(wmu_);
        wcv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping and drained
        const std::size_t n = std::min(queue_.size(), kMaxBatch);
        for (std::size_t i = 0; i < n && !(queue_.front().alone && !batch.empty()); ++i) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (batch.back().alone) break;
        }
      }
      if (!conn || !conn->ok()) {
        if (conn) g_counters.reconnects.fetch_add(1);
        conn.reset();
        auto fresh = PgConnection::connect(connect_);
        if (!fresh) {
          for (auto& op : batch) op.complete(fresh.error());
          batch.clear();
          continue;
        }
        conn = std::move(*fresh);
        conn->set_origin(origin_);
      }
      if (batch.front().alone) {
        conn->forget_transaction();
        Status st = batch.front().apply(*conn);
        if (PQtransactionStatus(conn->raw()) != PQTRANS_IDLE) (void)conn->exec("ROLLBACK");
        conn->forget_transaction();
        batch.front().complete(std::move(st));
      } else {
        // Writes in one batch are concurrent requests none of which is answered yet: any order is theirs. The
        // single-statement ones go pipelined in a transaction of their own, the others one by one.
        std::deque<WriteOp> singles;
        for (auto it = batch.begin(); it != batch.end();) {
          if (it->single) {
            singles.push_back(std::move(*it));
            it = batch.erase(it);
          } else {
            ++it;
          }
        }
        if (!singles.empty()) run_singles(*conn, singles);
        if (!batch.empty()) run_batch(*conn, batch);
      }
      batch.clear();
    }
  }

  // The ops of a batch in one transaction, committed once: nothing is completed before the COMMIT returned (an
  // acknowledged write is committed), and nothing is acknowledged whose COMMIT did not succeed. No savepoint per op
  // (two round trips each): when op k fails, the attempt is rolled back, op k completes with its error — the ops
  // before it succeeded, so it met the state it would have met in any order-keeping scheme — and the others run
  // again. Each op still succeeds or fails alone; the common case (all succeed) costs the ops' own statements plus
  // BEGIN, one NOTIFY statement for the whole batch, and COMMIT. An op that met a deadlock or serialization
  // failure runs again first in the next batch (up to kSerializationRetries times).
  void run_batch(PgConnection& conn, std::deque<WriteOp>& batch) {
    std::vector<WriteOp> retry;
    auto fail_all = [&batch](const Problem& p) {
      for (auto& op : batch) op.complete(p);
      batch.clear();
    };
    auto lost = [](const Status& st) {
      return unavailable("The database is unavailable; retry later.", st ? "" : st.error().cause,
                         Fault::kConnectionLost);
    };
    while (!batch.empty()) {
      conn.buffer_announcements(true);
      conn.forget_transaction();  // the audit head memo lives within one attempt's transaction
      if (Status begin = conn.exec("BEGIN"); !begin) {
        fail_all(begin.error());
        break;
      }
      std::size_t failed = batch.size();
      Status failure;
      for (std::size_t i = 0; i < batch.size() && failed == batch.size(); ++i) {
        if (Status st = batch[i].apply(conn); !st) {
          failed = i;
          failure = std::move(st);
        }
      }
      if (failed == batch.size()) failure = conn.flush_announcements();  // the batch's changes, one statement
      if (!conn.ok()) {  // the connection broke: nothing of this attempt is committed
        fail_all(lost(failure));
        break;
      }
      if (failed < batch.size() || !failure) {
        (void)conn.exec("ROLLBACK");
        conn.discard_announcements();
        if (failed == batch.size()) {  // the NOTIFY itself failed: no op's own fault
          fail_all(failure.error());
          break;
        }
        WriteOp op = std::move(batch[failed]);
        batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(failed));
        if (failure.error().fault == Fault::kSerialization && op.attempts + 1 < kSerializationRetries) {
          g_counters.write_retries.fetch_add(1);
          op.attempts += 1;
          retry.push_back(std::move(op));
        } else {
          op.complete(std::move(failure));
        }
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      Status commit = this->commit(conn);
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!commit) {
        // Connection lost during COMMIT: the outcome is unknown, so it is not acknowledged. Any other COMMIT
        // error: nothing was committed.
        Problem p = commit.error();
        if (p.fault == Fault::kConnectionLost)
          p = unavailable("The database connection was lost while committing; the write may or may not have been "
                          "saved.",
                          p.cause, Fault::kConnectionLost);
        if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE) (void)conn.exec("ROLLBACK");
        fail_all(p);
        break;
      }
      if (options_.on_commit) options_.on_commit(batch.size(), secs);
      for (auto& op : batch) op.complete({});
      batch.clear();
    }
    conn.buffer_announcements(false);
    conn.forget_transaction();
    if (!retry.empty()) {  // first in line for the next batch, after this one's locks are gone
      std::lock_guard lock(wmu_);
      for (auto it = retry.rbegin(); it != retry.rend(); ++it) queue_.push_front(std::move(*it));
      wcv_.notify_one();
    }
  }

  // A batch of single-statement writes (WriteOp::single) in libpq's pipeline mode: every INSERT, then one Sync —
  // one implicit transaction that the Sync commits, one round trip for the batch. As
  // in run_batch, an op that fails completes with its error and the rest are sent again (the implicit transaction
  // rolled back at the Sync); nothing is acknowledged before the Sync's answer says the commit happened, and a
  // connection lost before it leaves the outcome unknown: 503, never acknowledged.
  void run_singles(PgConnection& conn, std::deque<WriteOp>& batch) {
    PGconn* pg = conn.raw();
    std::vector<WriteOp> retry;
    std::vector<std::string> text;
    std::vector<const char*> values;
    while (!batch.empty()) {
      // Prepared first (the connection's statement cache; a new text costs one round trip, once), held by their
      // leases until the batch is answered so that none is evicted meanwhile.
      std::vector<StatementLease> leases;
      std::vector<const std::string*> names;
      for (const auto& op : batch) {
        auto lease = conn.prepare(op.single->sql);
        if (!lease) break;
        names.push_back(&static_cast<PgStatement&>(**lease).name());
        leases.push_back(std::move(*lease));
      }
      if (names.size() < batch.size() || PQenterPipelineMode(pg) != 1) {  // run them one by one instead
        leases.clear();
        run_batch(conn, batch);
        break;
      }
      bool ok = true;
      for (std::size_t i = 0; i < batch.size(); ++i) {
        encode_params(batch[i].single->params, text, values);
        ok = ok && PQsendQueryPrepared(pg, names[i]->c_str(), static_cast<int>(values.size()), values.data(),
                                       nullptr, nullptr, 0) == 1;
      }
      ok = ok && PQpipelineSync(pg) == 1 && PQflush(pg) == 0;
      const auto t0 = std::chrono::steady_clock::now();
      // Results in order: one per op, then the Sync's. Each op's results end with a null.
      std::size_t failed = batch.size();
      std::optional<Problem> failure, other;
      for (std::size_t i = 0; ok && i < batch.size(); ++i) {
        PGresult* res = PQgetResult(pg);
        if (!res) {
          ok = false;
          break;
        }
        const ExecStatusType status = PQresultStatus(res);
        if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_PIPELINE_ABORTED) {
          if (failed == batch.size()) {
            failed = i;
            failure = conn.problem(res, "write");
          }
        }
        PQclear(res);
        if (PQgetResult(pg) != nullptr) ok = false;  // lost sync with the pipeline
      }
      bool synced = false;
      if (ok) {
        PGresult* res = PQgetResult(pg);
        const ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
        if (status == PGRES_PIPELINE_SYNC) {
          synced = true;
        } else if (res && !other && failed == batch.size()) {
          other = conn.problem(res, "commit");  // the implicit COMMIT failed: nothing was committed
          PQclear(res);
          res = PQgetResult(pg);
          synced = res && PQresultStatus(res) == PGRES_PIPELINE_SYNC;
        }
        PQclear(res);
      }
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!ok || !synced || PQexitPipelineMode(pg) != 1 || !conn.ok()) {
        // The outcome of the commit is unknown: never acknowledged. The connection is dropped by the writer.
        Problem p = unavailable("The database connection was lost while committing; the write may or may not have "
                                "been saved.",
                                PQerrorMessage(pg), Fault::kConnectionLost);
        for (auto& op : batch) op.complete(p);
        batch.clear();
        conn.mark_broken();
        break;
      }
      if (failed < batch.size()) {
        WriteOp op = std::move(batch[failed]);
        batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(failed));
        if (failure->fault == Fault::kSerialization && op.attempts + 1 < kSerializationRetries) {
          g_counters.write_retries.fetch_add(1);
          op.attempts += 1;
          retry.push_back(std::move(op));
        } else {
          op.complete(std::move(*failure));
        }
        continue;
      }
      if (other) {  // the COMMIT failed: nothing was committed, and no op is to blame
        for (auto& op : batch) op.complete(*other);
        batch.clear();
        break;
      }
      if (options_.on_commit) options_.on_commit(batch.size(), secs);
      for (auto& op : batch) op.complete({});
      batch.clear();
    }
    if (!retry.empty()) {
      std::lock_guard lock(wmu_);
      for (auto it = retry.rbegin(); it != retry.rend(); ++it) queue_.push_front(std::move(*it));
      wcv_.notify_one();
    }
  }

  // COMMIT that is one: PostgreSQL answers COMMIT on a transaction a failed statement aborted with ROLLBACK (and no
  // error), so a transaction in error is rolled back and reported, never acknowledged.
  static Status commit(PgConnection& conn) {
    if (PQtransactionStatus(conn.raw()) == PQTRANS_INERROR) {
      (void)conn.exec("ROLLBACK");
      return unavailable("The database could not save this write; retry later.", "transaction aborted before COMMIT",
                         Fault::kSerialization);
    }
    PGresult* res = PQexec(conn.raw(), "COMMIT");
    const bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK && std::string_view(PQcmdStatus(res)) == "COMMIT";
    Problem p;
    if (!ok) p = res && PQresultStatus(res) == PGRES_COMMAND_OK
                     ? unavailable("The database could not save this write; retry later.", "COMMIT rolled back",
                                   Fault::kSerialization)
                     : conn.problem(res, "commit");
    PQclear(res);
    if (ok) return {};
    return p;
  }

  PgOptions options_;
  PgConnectOptions connect_;
  std::vector<std::unique_ptr<PgPipeline>> pipelines_;  // set in open(), before any read
  std::atomic<std::size_t> next_pipeline_{0};
  std::unique_ptr<sql::Dialect> dialect_ = sql::make_postgres_dialect();
  sql::CursorKey cursor_key_{};

  std::mutex mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;  // GUARDED_BY(mu_)
  std::size_t open_ = 0;                              // GUARDED_BY(mu_): idle + checked out + being connected
  bool closed_ = false;                               // GUARDED_BY(mu_)

  std::mutex wmu_;
  std::condition_variable wcv_;
  std::deque<WriteOp> queue_;  // GUARDED_BY(wmu_)
  bool stopping_ = false;      // GUARDED_BY(wmu_)
  std::vector<std::thread> writers_;

  std::string origin_;  // this process in the changes it announces (random)
  std::thread listener_;
  std::atomic<bool> listening_{false};
  std::atomic<bool> listener_up_{false};
  std::atomic<bool> stop_listener_{false};
};

}  // namespace

std::string serving_application_name(std::string_view snapshot_checksum) {
  return "slipway serve " + std::string(snapshot_checksum.substr(0, 16));
}

PgPoolStats pg_pool_stats() {
  return {g_counters.waits.load(),  g_counters.timeouts.load() + PgPipeline::total_expired(),   g_counters.in_use.load(),
          g_counters.open.load(),   g_counters.reconnects.load(), g_counters.write_retries.load(),
          PgPipeline::total_reads(), PgPipeline::total_batches()};
}

Result<std::unique_ptr<RecordStore>> open_storage(const model::Concept& concept_file, PgOptions options,
                                                  const Clock& clock) {
  static std::once_flag sodium;
  std::call_once(sodium, [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing can be sealed safely
  });
  return open_record_store<PgEngine>(concept_file, std::move(options), clock);
}

}  // namespace slipway::storage::postgres
