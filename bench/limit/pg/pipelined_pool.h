// Model "async": each HTTP loop drives its own PostgreSQL connections with libpq's non-blocking API in pipeline
// mode, on the loop itself (no other thread, no lock). Everything here runs on the owning loop's thread.
#pragma once

#include <libpq-fe.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "statements.h"

namespace pg_limit {

class AsyncPool;

// One connection in pipeline mode, owned by one loop. Queries go out as Bind/Execute; a Sync closes a batch, which
// PostgreSQL runs as one implicit transaction and answers with PGRES_PIPELINE_SYNC after its commit. Requests are
// answered at their batch's Sync, never earlier: a create is acknowledged only once it is durable.
//   --sync query  a Sync after every query: each request its own transaction, as slipway's would be.
//   --sync batch  one Sync for the queries a loop turn sent (a post()ed sync_now()): fewer sends and wake-ups on
//                 both sides, and one commit (one WAL flush) for a batch of creates, i.e. group commit. One batch
//                 in flight per connection: the next one gathers in the pool's queue meanwhile (as LevelDB's writers
//                 queue behind a sync), since batches pipelined on one connection would commit one after another,
//                 each with its own flush. A query that fails rolls its batch back: the others are sent again,
//                 each alone (complete_batch()).
// Invariants, on the loop thread only:
//   1. in_flight_ holds the queries handed to libpq, in order; batches_ the size of each batch whose Sync was sent,
//      oldest first; unsynced_ the queries at the back of in_flight_ sent since the last Sync.
//   2. A read wait is armed whenever a Sync is outstanding; a write wait whenever PQflush left data unsent.
//   3. Every libpq call that may have read from the socket (consume, flush) is followed by drain(): data that
//      libpq already buffered would not wake the socket again.
class PipelinedConnection {
 public:
  PipelinedConnection(boost::asio::io_context& ioc, PgConnPtr conn, AsyncPool& pool, bool sync_each)
      : conn_(std::move(conn)), socket_(ioc, PQsocket(conn_.get())), pool_(pool), sync_each_(sync_each) {
    if (PQsetnonblocking(conn_.get(), 1) != 0 || PQenterPipelineMode(conn_.get()) != 1)
      throw std::runtime_error("cannot enter pipeline mode: " + std::string(PQerrorMessage(conn_.get())));
  }
  ~PipelinedConnection() { socket_.release(); }  // libpq owns the descriptor; PQfinish closes it
  PipelinedConnection(const PipelinedConnection&) = delete;
  PipelinedConnection& operator=(const PipelinedConnection&) = delete;

  std::size_t in_flight() const { return in_flight_.size(); }

  // Whether a query may go out now: a free pipeline slot and, with --sync batch, no batch committing.
  bool open(std::size_t depth) const { return in_flight_.size() < depth && (sync_each_ || batches_.empty()); }

  void send(std::shared_ptr<PendingQuery> s) {
    const Params p = s->params();
    if (PQsendQueryPrepared(conn_.get(), statement(s->stmt()).name, p.count, p.values.data(), p.lengths.data(),
                            p.formats.data(), 1) != 1)
      die("sending a query failed: " + std::string(PQerrorMessage(conn_.get())));
    in_flight_.push_back({std::move(s), nullptr, false});
    ++unsynced_;
    if (sync_each_) {
      sync_now();
    } else if (!sync_posted_) {
      sync_posted_ = true;
      boost::asio::post(socket_.get_executor(), [this] {
        sync_posted_ = false;
        sync_now();
      });
    }
  }

 private:
  struct Query {
    std::shared_ptr<PendingQuery> session;
    PgResultPtr result;
    bool aborted;
  };

  void sync_now() {
    if (unsynced_ == 0) return;
    if (PQpipelineSync(conn_.get()) != 1) die("sync failed: " + std::string(PQerrorMessage(conn_.get())));
    batches_.push_back(unsynced_);
    unsynced_ = 0;
    flush();
    wait_readable();
  }

  void flush() {
    const int r = PQflush(conn_.get());
    if (r < 0) die("flush failed: " + std::string(PQerrorMessage(conn_.get())));
    if (r == 1 && !writing_) {
      writing_ = true;
      socket_.async_wait(boost::asio::posix::descriptor_base::wait_write, [this](boost::system::error_code ec) {
        writing_ = false;
        if (ec) return;
        flush();
        drain();
      });
    }
    if (r == 1) drain();  // PQflush reads when the socket will not take more
  }

  void wait_readable() {
    if (reading_ || batches_.empty()) return;
    reading_ = true;
    socket_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this](boost::system::error_code ec) {
      reading_ = false;
      if (ec) return;
      if (PQconsumeInput(conn_.get()) != 1) die("connection lost: " + std::string(PQerrorMessage(conn_.get())));
      drain();
      wait_readable();
    });
  }

  void drain();
  void complete_batch();

  PgConnPtr conn_;
  boost::asio::posix::stream_descriptor socket_;
  AsyncPool& pool_;
  const bool sync_each_;
  std::deque<Query> in_flight_;
  std::deque<std::size_t> batches_;
  std::size_t unsynced_ = 0;
  std::size_t results_ = 0;  // results received for the front batch
  bool sync_posted_ = false;
  bool reading_ = false;
  bool writing_ = false;
  bool draining_ = false;  // drain() → a session's completion → send() → flush() must not re-enter drain()
};

// A loop's connections and the requests waiting for a free pipeline slot.
class AsyncPool final : public Backend {
 public:
  AsyncPool(boost::asio::io_context& ioc, const std::string& url, unsigned conns, std::size_t depth, bool sync_each)
      : depth_(depth) {
    for (unsigned i = 0; i < conns; ++i)
      conns_.push_back(std::make_unique<PipelinedConnection>(ioc, connect(url), *this, sync_each));
  }

  // To the open connection with the fewest queries in flight (spread over PostgreSQL's backends), else queued.
  void submit(std::shared_ptr<PendingQuery> s) override {
    PipelinedConnection* best = nullptr;
    for (const auto& c : conns_)
      if (c->open(depth_) && (!best || c->in_flight() < best->in_flight())) best = c.get();
    if (best)
      best->send(std::move(s));
    else
      waiting_.push_back(std::move(s));
  }

  // Queries on `c` completed: it takes the longest-waiting requests, as many as it may.
  void slots_freed(PipelinedConnection& c) {
    while (!waiting_.empty() && c.open(depth_)) {
      auto s = std::move(waiting_.front());
      waiting_.pop_front();
      c.send(std::move(s));
    }
  }

 private:
  std::size_t depth_;
  std::vector<std::unique_ptr<PipelinedConnection>> conns_;
  std::deque<std::shared_ptr<PendingQuery>> waiting_;
};

inline void PipelinedConnection::drain() {
  if (draining_) return;
  draining_ = true;
  int nulls = 0;
  while (!batches_.empty() && PQisBusy(conn_.get()) == 0) {
    PGresult* r = PQgetResult(conn_.get());
    if (r == nullptr) {  // the end of one query's results
      if (++nulls > 1) break;
      continue;
    }
    nulls = 0;
    const ExecStatusType status = PQresultStatus(r);
    if (status == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      complete_batch();
      continue;
    }
    Query& q = in_flight_[results_++];  // one result per query: each is a single prepared statement
    if (status == PGRES_PIPELINE_ABORTED) {
      q.aborted = true;
      PQclear(r);
    } else {
      q.result.reset(r);
    }
  }
  draining_ = false;
}

// The front batch is committed, or rolled back by one failed query: answer its sessions, or answer the failed one
// and send every other again alone (those before the failure succeeded, but in a transaction that was rolled
// back; those after it were aborted). Then refill the freed slots.
inline void PipelinedConnection::complete_batch() {
  const std::size_t n = batches_.front();
  batches_.pop_front();
  results_ = 0;
  bool failed = false;
  for (std::size_t i = 0; i < n; ++i)
    failed = failed || in_flight_[i].aborted || PQresultStatus(in_flight_[i].result.get()) != PGRES_TUPLES_OK;
  std::vector<std::shared_ptr<PendingQuery>> retry;
  for (std::size_t i = 0; i < n; ++i) {
    Query q = std::move(in_flight_.front());
    in_flight_.pop_front();
    const bool ok = !q.aborted && PQresultStatus(q.result.get()) == PGRES_TUPLES_OK;
    if (q.aborted || (failed && ok && n > 1)) {
      retry.push_back(std::move(q.session));
      continue;
    }
    q.session->on_result(q.result.get());
    q.session->send();
  }
  for (auto& s : retry) {
    sync_now();  // whatever this turn sent so far goes out as its own batch
    send(std::move(s));
    sync_now();
  }
  pool_.slots_freed(*this);
}

}  // namespace pg_limit
