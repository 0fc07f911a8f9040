// PgPipeline: reads of one statement each (a GET by id) sent without waiting for a connection of their own. One
// PostgreSQL connection in libpq's pipeline mode, driven by a thread of its own: callers (event loops) only queue.
// Each turn the thread sends every read queued since the last turn as one batch under one Sync — one round trip
// and one PostgreSQL wake-up for all of them — reads the results in order and hands each to its callback, while
// the next batch gathers. bench/README.md ("PostgreSQL limit") measured why: on this box the loopback round trip
// and the wake-ups around it cost more than the query.
//
//   read() ──▶ queue ──▶ [thread: take batch ▶ send all + Sync ▶ wait ▶ result k → done_k ▶ …] ──▶ next batch
//
// Invariants:
//  1. One batch in flight per pipeline; reads queued meanwhile form the next batch (as the group-commit writer
//     gathers writes). A batch is one implicit read-only transaction: its reads see one snapshot.
//  2. Every `done` is called exactly once, on the pipeline's thread: with the rows (valid during the call only),
//     or with a Problem (its statement failed; the connection broke: kConnectionLost; closed). A read aborted
//     only because an earlier statement of its batch failed is sent again in the next batch.
//  3. read() never blocks and the queue is bounded: past `max_queued` read() returns false at once (the caller
//     reads another way, or answers 503). A read queued longer than `max_wait` (a batch ahead of it is stuck,
//     e.g. on a lock) is failed with kTimeout (503), within ~50 ms of its deadline, like a pool checkout.
//  4. A broken connection fails the batch it carried and is replaced for the next one; while no connection can
//     be made, reads fail at once with kConnectionLost (503) instead of waiting.
// Thread safety: read() and close() from any thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/value.h"
#include "storage/driver.h"
#include "storage/postgres/pg_connection.h"

namespace slipway::storage::postgres {

class PgPipeline {
 public:
  using Done = std::function<void(Result<storage::Statement*>)>;

  PgPipeline(PgConnectOptions connect, std::size_t max_queued, std::chrono::milliseconds max_wait);
  ~PgPipeline();
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  // Queues `sql` (`?N` placeholders) with its parameters. False, `done` untouched: the queue is full or the
  // pipeline closed.
  bool read(const std::string& sql, std::vector<Value> params, Done& done);
  // Fails what is queued (kUnavailable), waits for the batch in flight, joins the thread. Idempotent.
  void close();

  // Reads answered and batches sent by every pipeline of the process since start (metrics).
  static std::uint64_t total_reads();
  static std::uint64_t total_batches();
  static std::uint64_t total_expired();  // reads failed after waiting max_wait in the queue

 private:
  struct Read {
    std::string sql;
    std::vector<Value> params;
    Done done;
    std::chrono::steady_clock::time_point deadline;  // queued at + max_wait
  };

  void run();
  // Sends `batch`, answers its reads, and leaves in it the reads to send again (invariant 2). REQUIRES: conn_.
  void send_and_answer(std::vector<Read>& batch);
  void drop_connection();
  // Waits until the socket is ready for `events` or `deadline` (false then, or on error), failing queued reads
  // past their own deadline meanwhile.
  bool wait_socket(PGconn* pg, short events, std::chrono::steady_clock::time_point deadline);
  void expire_queued();

  const PgConnectOptions options_;
  const std::size_t max_queued_;
  const std::chrono::milliseconds max_wait_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Read> queue_;  // GUARDED_BY(mu_)
  bool closed_ = false;     // GUARDED_BY(mu_)
  // The pipeline thread's own (no lock): its connection, and the statements prepared on it.
  std::unique_ptr<PgConnection> conn_;
  // Statements prepared on conn_, at most kMaxPrepared, the least recently used deallocated to make room (in the
  // same pipeline, after the reads that used it).
  struct Prepared {
    std::string name;
    std::list<std::string>::iterator use;  // in lru_
  };
  std::unordered_map<std::string, Prepared> prepared_;  // SQL text → its statement
  std::list<std::string> lru_;                          // SQL texts, most recently used first
  std::uint64_t next_name_ = 0;
  std::thread thread_;
};

}  // namespace slipway::storage::postgres
