// The SQLite driver's front door: opens one SQLite database file in WAL mode as a RecordStore
// (storage/record_store.h) over the SQLite engine.
// - Writes go through one GroupCommitWriter (see group_commit_writer.h for the batching invariants).
// - Reads use one read-only connection per calling thread (created on first use) with cached statements; in WAL
//   mode readers never block the writer nor each other.
// - One writer per database, enforced (docs/decisions/0006): the engine takes an exclusive lock on `<path>.lock`
//   (flock) for its whole life, so a second process (another server, `migrate apply`) cannot write the same file
//   and is told which process holds it. Reader connections are read-only and never checkpoint; the writer's
//   connection is the only one that writes or checkpoints, and it closes last.
// Thread safety: as RecordStore.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/clock.h"
#include "storage/record_store.h"

namespace slipway::storage::sqlite {

struct SqliteOptions {
  std::string path;               // the database file
  // Inspection only (`migrate plan|status` next to a running server): no lock, no writer, no schema changes; a
  // missing file reads as an empty database. Writes and apply() fail with kUnavailable.
  bool read_only = false;
  bool synchronous_full = true;   // false: synchronous=NORMAL (survives a crash of slipway, not power loss)
  // Observability hooks (may be empty): statement latency and group-commit batch sizes.
  std::function<void(double seconds)> on_statement;
  std::function<void(std::size_t batch, double commit_seconds)> on_commit;
};

// Opens (creating it unless read-only) the database, applies slipway's pending system migrations and returns the
// store. The concept's own schema is applied separately (SchemaManager::apply).
Result<std::unique_ptr<RecordStore>> open_storage(const model::Concept& concept_file, SqliteOptions options,
                                                  const Clock& clock);

}  // namespace slipway::storage::sqlite
