// The PostgreSQL driver's front door: opens a database by URL as a RecordStore (storage/record_store.h) over the
// PostgreSQL engine — a pool of blocking libpq connections for reads, a few writer threads with a connection each
// running group-committed batches, and slipway's own schema applied under an advisory lock so several instances
// may start at once (docs/decisions/0010).
//
// Reads: a GET by id or a list page that one statement answers is sent on a pipelined connection without waiting
// (pg_pipeline.h). Other
// reads: Engine::reader() checks a connection out of the pool for one storage call, waiting at most
// `pool_wait_ms` (then 503 with kTimeout: never an unbounded queue). The caller must be a thread where blocking is
// harmless (the api hands such requests to its read pool; event loops never call in).
// Writes: up to `writers` batches run at once, each committed in one transaction (single-statement ops pipelined
// under one Sync; a failing op is answered with its error and the rest run again: run_batch, run_singles); an op
// that meets a deadlock or serialization failure is run again (up to 3 times); a batch whose connection broke is
// answered 503 (never acknowledged) and the writer reconnects for the next batch. The queue is bounded
// (`max_queued_writes`; beyond it a write is refused with 503 at once).
// Thread safety: as RecordStore.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "storage/record_store.h"

namespace slipway::storage::postgres {

struct PgOptions {
  std::string url;                  // a libpq connection URI (postgres://user:password@host:port/db?...)
  int pool_size = 8;                // read connections
  int writers = 2;                  // writer connections (each runs one batch at a time)
  int read_pipelines = 1;           // connections sending one-statement reads pipelined (pg_pipeline.h); 0: none
  int pool_wait_ms = 2000;          // a read waits this long for a free connection, then 503
  int statement_timeout_ms = 5000;  // every statement, reads and writes
  int connect_timeout_s = 5;
  std::size_t max_queued_writes = 10000;
  bool read_only = false;           // inspection (`migrate plan|status`): nothing is created or written
  // Names this process's connections (pg_stat_activity.application_name). A serving instance names the concept
  // it serves, "slipway serve <checksum>" (serving_application_name()), so a destructive migration can see it.
  std::string application_name = "slipway";
  std::function<void(double seconds)> on_statement;
  std::function<void(std::size_t batch, double commit_seconds)> on_commit;
};

// Connects, applies slipway's pending system migrations (unless read-only) and returns the store. The concept's
// own schema is applied separately (SchemaManager::apply), under an advisory lock.
Result<std::unique_ptr<RecordStore>> open_storage(const model::Concept& concept_file, PgOptions options,
                                                  const Clock& clock);

// "slipway serve <the first 16 hex digits of the concept snapshot's checksum>".
std::string serving_application_name(std::string_view snapshot_checksum);

// Pool statistics for /metrics (all PostgreSQL stores of the process).
struct PgPoolStats {
  std::uint64_t waits = 0;        // reads that had to wait for a connection
  std::uint64_t timeouts = 0;     // reads refused (503) after pool_wait_ms
  std::uint64_t in_use = 0;       // read connections checked out now
  std::uint64_t open = 0;         // read connections open now
  std::uint64_t reconnects = 0;   // connections replaced after they broke
  std::uint64_t write_retries = 0;  // ops run again after a deadlock or serialization failure
  std::uint64_t pipelined_reads = 0;    // reads answered on a pipelined connection (pg_pipeline.h)
  std::uint64_t pipelined_batches = 0;  // batches (Syncs) they went out in
};
PgPoolStats pg_pool_stats();

}  // namespace slipway::storage::postgres
