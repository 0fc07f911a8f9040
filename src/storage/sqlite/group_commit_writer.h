// GroupCommitWriter: the single writer of a SQLite database. Concurrent writes are queued; the writer thread takes
// everything queued (up to kMaxBatch), runs each op inside its own SAVEPOINT of one transaction, commits once
// (one fsync of the WAL with synchronous=FULL) and only then completes every op of the batch.
//
//   submit() ──► queue_ ──► [writer thread] BEGIN IMMEDIATE
//                                 for op: SAVEPOINT op; op.apply(); error ? ROLLBACK TO op : RELEASE op
//                              COMMIT ── ok ──► op.complete(ok | the op's own error)
//                                     └─ err ─► every op.complete(kUnavailable); writer enters `failed_`
//
// Invariants:
//  1. An op is completed exactly once, and never before the COMMIT of its batch returned (an acknowledged write
//     is durable).
//  2. One op's failure (constraint, rule, validation) rolls back only that op's savepoint; its batch-mates commit.
//  3. After a COMMIT error the writer is failed: every later submit completes at once with kUnavailable. A write
//     whose fate is unknown is never acknowledged, and nothing is retried blindly (LevelDB's background error).
//  4. close() stops intake, drains the queue (committing it) and joins the thread.
//  5. This is the only connection of the process that writes or checkpoints the database (readers are read-only
//     and never checkpoint on close; the SQLite engine holds the data directory's lock so no other process writes).
//     Work that needs its own transaction (migrations: foreign_keys=OFF is only honoured outside one) runs here
//     too, alone, through run_alone(), never on a second connection.
//  6. After a run_alone() op the connection is outside any transaction with foreign_keys on; if the op left it
//     otherwise and it cannot be restored, the writer is failed (as after a COMMIT error).
// Thread safety: submit() and close() from any thread; apply()/complete() run on the writer thread only.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/result.h"
#include "storage/driver.h"
#include "storage/sqlite/connection.h"

namespace slipway::storage::sqlite {

struct WriterStats {
  std::function<void(std::size_t batch_size, double commit_seconds)> on_commit;  // may be empty
};

class GroupCommitWriter {
 public:
  static constexpr std::size_t kMaxBatch = 512;

  GroupCommitWriter(std::unique_ptr<Connection> conn, WriterStats stats = {});
  ~GroupCommitWriter();
  GroupCommitWriter(const GroupCommitWriter&) = delete;
  GroupCommitWriter& operator=(const GroupCommitWriter&) = delete;

  void submit(WriteOp op);
  // Runs `fn` alone in its own transaction on the writer thread and waits for it (maintenance).
  Status run_exclusive(std::function<Status(Connection&)> fn);
  // Runs `fn` on the writer thread between batches, with no transaction open, and waits for it: `fn` begins and
  // ends its own (migrations). A failed writer refuses it like any write.
  Status run_alone(std::function<Status(Connection&)> fn);
  bool failed() const;
  void close();

 private:
  void loop();
  void run_batch(std::deque<WriteOp>& batch);
  bool connection_is_sound();  // writer thread: no open transaction (rolled back if any) and foreign_keys on

  std::unique_ptr<Connection> conn_;
  WriterStats stats_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<WriteOp> queue_;  // GUARDED_BY(mu_)
  bool closing_ = false;       // GUARDED_BY(mu_)
  bool failed_ = false;        // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace slipway::storage::sqlite
