// ChangeFeed: every committed change, published after its commit and before the write is answered. The caches of
// this process consume it (the record store's hot-read and verdict caches, the api's list cache), and realtime
// events and webhooks will. On PostgreSQL the same changes cross instances by LISTEN/NOTIFY: another instance's
// changes arrive with `remote` set, and a lost listener connection publishes kReset (everything may have changed)
// before the instance serves again. docs/decisions/0010.
//
// Invariants:
//  1. A write's changes are published on the thread that completes it, after its transaction's fate is known and
//     before its answer is sent: a client never reads around its own write from a cache.
//  2. A write whose outcome is uncertain (the commit failed) is published as if it happened: invalidating too much
//     is harmless, too little is a stale read.
//  3. Subscribers are called synchronously, in subscription order; on the writer thread (local changes) they must
//     be cheap and must not call back into storage. Remote changes arrive on the listener's own thread.
// Thread safety: subscribe() only while wiring (before the first publish); publish() from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace slipway::storage {

struct Change {
  enum class Kind : std::uint8_t {
    kRecord,           // a record was created, updated or deleted (a delete may cascade: see the record store)
    kSessionRevoked,   // id: the session
    kUserRevoked,      // id: the user, whose tokens issued before at_ms are stale (roles changed, disabled, deleted)
    kApiKeys,          // API keys were created or revoked: reload them
    kReset,            // anything may have changed (a lost listener connection): drop every cache
  };
  enum class Op : std::uint8_t { kCreate, kUpdate, kDelete };

  Kind kind = Kind::kRecord;
  Op op = Op::kUpdate;
  std::string collection;  // kRecord: the collection's name
  std::string id;          // the record, session or user
  std::int64_t version = 0;  // kRecord: the version written (0 for a delete or an uncertain write)
  std::int64_t at_ms = 0;    // kUserRevoked: tokens issued before this are stale
  bool remote = false;       // published by another instance (arrived over the listener)
  std::uint64_t sequence = 0;  // set by publish(): this process's order of publication
};

// A change as other instances receive it (a NOTIFY payload, at most a few hundred bytes):
//   <origin>|<kind>|<op>|<version>|<at_ms>|<collection>|<id>
// `origin` names the process that made it, so an instance skips its own. decode_change() refuses anything else.
std::string encode_change(const Change& change, std::string_view origin);
bool decode_change(std::string_view text, Change& change, std::string& origin);

class ChangeFeed {
 public:
  using Subscriber = std::function<void(const Change&)>;

  void subscribe(Subscriber subscriber) { subscribers_.push_back(std::move(subscriber)); }
  void publish(Change change) {
    change.sequence = sequence_.fetch_add(1, std::memory_order_acq_rel) + 1;
    for (const auto& s : subscribers_) s(change);
  }
  // Another instance's change (or kReset): published like a local one, with `remote` set. Subscribers run on the
  // thread that received it (the listener's), which may read storage.
  void publish_remote(Change change) {
    change.remote = true;
    publish(std::move(change));
  }
  // How many changes were published so far.
  std::uint64_t sequence() const { return sequence_.load(std::memory_order_acquire); }

 private:
  std::vector<Subscriber> subscribers_;  // written while wiring only
  std::atomic<std::uint64_t> sequence_{0};
};

}  // namespace slipway::storage
