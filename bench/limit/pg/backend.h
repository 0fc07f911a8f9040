// The seam between the limit server's HTTP sessions and its two ways of reaching PostgreSQL (pipelined_pool.h,
// worker_pool.h): a request that waits for one query, and whatever runs it.
#pragma once

#include <libpq-fe.h>

#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "statements.h"

namespace pg_limit {

// A request waiting for one query. Between Backend::submit() and send() only the backend touches it.
class PendingQuery {
 public:
  virtual ~PendingQuery() = default;
  virtual Stmt stmt() const = 0;
  virtual Params params() const = 0;  // valid until send()
  // The query's result, or nullptr / an error status when it failed: builds the response. Runs on whichever
  // thread got the result.
  virtual void on_result(const PGresult* r) = 0;
  // Writes the response. REQUIRES: on the request's loop (executor()).
  virtual void send() = 0;
  virtual boost::asio::any_io_executor executor() = 0;
};

// Runs a request's query, then calls its on_result() and, on its loop, send(). submit() is called on the
// request's loop.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual void submit(std::shared_ptr<PendingQuery> q) = 0;
};

}  // namespace pg_limit
