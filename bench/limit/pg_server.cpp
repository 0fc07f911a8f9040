// The throughput limit of this box for slipway on PostgreSQL: a hand-written Boost.Beast + libpq server for the
// three blog workloads of bench/http/run.py, on a database seeded by bench/limit/pg_seed.sql, with nothing of
// slipway's (no rules engine, no validation beyond the title, no logs, metrics, caches or sealed cursors). Same HTTP
// threading as hello_server.cpp: N io_contexts, each run by one thread, one acceptor on loop 0 handing sockets
// round-robin to the loops.
//
//   GET  /api/v1/posts/<id>   one post through `published = true` (else 404), with its ETag
//   GET  /api/v1/posts?...    20 published posts, newest first: {"items":[...],"next_cursor":...} (query not read)
//   POST /api/v1/posts        {"title":...,"body":...,"views":...,"published":...}: INSERT ... RETURNING, answered
//                             once committed with synchronous_commit = on (set on every connection), 201
//   GET  /                    {"hello":"world"} without PostgreSQL (readiness)
// Records are shaped like slipway's: id, created, updated, version, then the fields in the concept file's order
// (pg/record_json.h). Every connection prepares the three statements once; results come back in binary.
//
// How requests reach PostgreSQL (--model; bench/README.md has the measurements that chose the defaults):
//   async     each loop drives --conns connections of its own with libpq's non-blocking API in pipeline mode,
//             on the loop, up to --pipeline queries in flight on each (pg/pipelined_pool.h). --sync batch (the
//             default) closes the queries of one loop turn with one Sync: one transaction, one commit, one
//             round of sends for the batch (group commit); --sync query gives each query its own Sync.
//   blocking  --conns worker threads in all, each with a blocking connection (pg/worker_pool.h).
//
// Usage: pg_limit_server PORT URL [--threads N] [--model async|blocking] [--conns N] [--pipeline N]
//                        [--sync batch|query]
//   URL: a libpq URI, e.g. postgres://slipway@127.0.0.1:55433/blog (scripts/pg-cluster createdb prints one)
//   defaults: --threads one per core; async: --conns 1 per loop, --pipeline 16, --sync batch;
//   blocking: --conns 8 in all
// Build: cmake -DSLIPWAY_BENCH=ON → build-bench/bench/pg_limit_server; or one translation unit, e.g.
//   c++ -std=c++20 -O2 -DNDEBUG bench/limit/pg_server.cpp -o pg_limit_server $(pkg-config --cflags --libs libpq)
//   -pthread
#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pg/backend.h"
#include "pg/id_generator.h"
#include "pg/new_post.h"
#include "pg/pipelined_pool.h"
#include "pg/record_json.h"
#include "pg/statements.h"
#include "pg/worker_pool.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace pg_limit;

namespace {

constexpr std::size_t kBodyLimit = 64 * 1024;
constexpr std::string_view kPostsPath = "/api/v1/posts";
constexpr std::size_t kIdLength = 36;

// One per connection, as hello_server's: read a request, answer it (through PostgreSQL or not), read the next.
class Session final : public PendingQuery, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Backend& backend, IdGenerator& ids)
      : stream_(std::move(socket)), backend_(backend), ids_(ids) {
    stream_.socket().set_option(tcp::no_delay(true));
  }
  void start() { read(); }

  Stmt stmt() const override { return stmt_; }

  Params params() const override {
    Params p;
    switch (stmt_) {
      case Stmt::kGet:
        p.add(id_.data(), static_cast<int>(id_.size()), 0);
        break;
      case Stmt::kList:
        break;
      case Stmt::kCreate:
        p.add(id_.data(), static_cast<int>(id_.size()), 0);
        p.add(created_be_.data(), 8, 1);
        p.add(post_.title.data(), static_cast<int>(post_.title.size()), 0);
        if (post_.body)
          p.add(post_.body->data(), static_cast<int>(post_.body->size()), 0);
        else
          p.add(nullptr, 0, 0);
        p.add(views_be_.data(), 8, 1);
        p.add(&published_, 1, 1);
        break;
    }
    return p;
  }

  void on_result(const PGresult* r) override {
    const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK) {
      std::string detail = r ? PQresultErrorMessage(r) : "no result";
      while (!detail.empty() && detail.back() == '\n') detail.pop_back();
      return problem(http::status::internal_server_error, detail);
    }
    const int rows = PQntuples(r);
    body_.clear();
    switch (stmt_) {
      case Stmt::kGet:
        if (rows == 0) return problem(http::status::not_found, "The record does not exist.");
        row_json(body_, r, 0);
        etag_ = "\"" + std::to_string(read_be64(PQgetvalue(r, 0, kVersion))) + "\"";
        return respond(http::status::ok);
      case Stmt::kList: {
        const int shown = std::min(rows, static_cast<int>(kListLimit));
        body_.append("{\"items\":[");
        for (int i = 0; i < shown; ++i) {
          if (i) body_.push_back(',');
          row_json(body_, r, i);
        }
        body_.append("],\"next_cursor\":");
        if (rows > shown)
          append_cursor(body_, r, shown - 1);
        else
          body_.append("null");
        body_.push_back('}');
        return respond(http::status::ok);
      }
      case Stmt::kCreate:
        row_json(body_, r, 0);
        etag_ = "\"1\"";
        return respond(http::status::created);
    }
  }

  void send() override {
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->body_ = std::move(self->response_.body());  // keep the buffer's capacity for the next answer
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  void read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->route();
    });
  }

  void route() {
    const auto& req = parser_->get();
    keep_alive_ = req.keep_alive();
    const std::string_view target = req.target();
    const http::verb method = req.method();
    if (method == http::verb::get && target == "/") {
      body_.assign(R"({"hello":"world"})");
      respond(http::status::ok);
      return send();
    }
    if (target.substr(0, kPostsPath.size()) != kPostsPath) return answer_now(http::status::not_found, "No such route.");
    const std::string_view rest = target.substr(kPostsPath.size());
    if (method == http::verb::get && rest.size() == 1 + kIdLength && rest[0] == '/') {
      id_.assign(rest.substr(1));
      for (char& c : id_) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);  // ids: any case
      stmt_ = Stmt::kGet;
    } else if (method == http::verb::get && (rest.empty() || rest[0] == '?')) {
      stmt_ = Stmt::kList;
    } else if (method == http::verb::post && rest.empty()) {
      post_ = {};
      const std::string error = BodyReader(req.body()).read(post_);
      if (!error.empty()) return answer_now(http::status::unprocessable_entity, error);
      const std::int64_t ms = ids_.next(id_);
      write_be64(created_be_.data(), (ms - kPgEpochUnixMs) * 1000);
      write_be64(views_be_.data(), post_.views);
      published_ = post_.published ? 1 : 0;
      stmt_ = Stmt::kCreate;
    } else {
      return answer_now(http::status::not_found, "No such route.");
    }
    backend_.submit(shared_from_this());
  }

  void answer_now(http::status status, std::string_view detail) {
    problem(status, detail);
    send();
  }

  void problem(http::status status, std::string_view detail) {
    body_.assign("{\"status\":");
    body_.append(std::to_string(static_cast<int>(status)));
    body_.append(",\"detail\":");
    append_escaped(body_, detail);
    body_.push_back('}');
    respond(status);
  }

  void respond(http::status status) {
    response_ = {};
    response_.version(11);
    response_.result(status);
    response_.set(http::field::content_type, "application/json");
    if (!etag_.empty()) response_.set(http::field::etag, etag_);
    etag_.clear();
    response_.keep_alive(keep_alive_);
    response_.body() = std::move(body_);
    response_.prepare_payload();
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  Backend& backend_;
  IdGenerator& ids_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::string body_;
  std::string etag_;
  bool keep_alive_ = true;
  // The query: set by route() before submit(), read by the backend until send().
  Stmt stmt_ = Stmt::kList;
  std::string id_;
  NewPost post_;
  std::array<char, 8> created_be_{};
  std::array<char, 8> views_be_{};
  char published_ = 0;
};

struct Loop {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  IdGenerator ids;
  std::unique_ptr<AsyncPool> pool;  // model async: this loop's connections (destroyed before ioc)
  Backend* backend = nullptr;
};

void accept(tcp::acceptor& acceptor, std::vector<std::unique_ptr<Loop>>& loops, std::size_t next) {
  Loop& target = *loops[next % loops.size()];
  acceptor.async_accept(target.ioc, [&acceptor, &loops, &target, next](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket), *target.backend, target.ids)->start();
    accept(acceptor, loops, next + 1);
  });
}

struct Options {
  unsigned short port = 0;
  std::string url;
  unsigned threads = 0;  // 0: one per core
  bool blocking = false;
  unsigned conns = 0;  // 0: the model's default
  unsigned pipeline = 16;
  bool sync_each = false;
};

[[noreturn]] void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s PORT URL [--threads N] [--model async|blocking] [--conns N] [--pipeline N]"
               " [--sync batch|query]\n"
               "  defaults: one thread per core; async: 1 connection per loop, pipeline 16, a Sync per batch;\n"
               "  blocking: 8 worker connections in all\n",
               argv0);
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  if (argc < 3) usage(argv[0]);
  Options o;
  o.port = static_cast<unsigned short>(std::atoi(argv[1]));
  o.url = argv[2];
  for (int i = 3; i < argc; i += 2) {
    if (i + 1 >= argc) usage(argv[0]);
    const std::string_view a = argv[i];
    const std::string_view v = argv[i + 1];
    const int n = std::atoi(argv[i + 1]);
    if (a == "--threads" && n > 0)
      o.threads = static_cast<unsigned>(n);
    else if (a == "--conns" && n > 0)
      o.conns = static_cast<unsigned>(n);
    else if (a == "--pipeline" && n > 0)
      o.pipeline = static_cast<unsigned>(n);
    else if (a == "--sync" && (v == "batch" || v == "query"))
      o.sync_each = v == "query";
    else if (a == "--model" && (v == "async" || v == "blocking"))
      o.blocking = v == "blocking";
    else
      usage(argv[0]);
  }
  if (o.port == 0) usage(argv[0]);
  if (o.threads == 0) o.threads = std::max(1u, std::thread::hardware_concurrency());
  if (o.conns == 0) o.conns = o.blocking ? 8 : 1;
  return o;
}

// Refuses an unseeded database, and says so when the benchmark would not be durable.
void check_database(const std::string& url) {
  PgConnPtr c = open_connection(url);
  PgResultPtr r(PQexec(c.get(), "SELECT (SELECT count(*) FROM posts), current_setting('fsync')"));
  if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
    throw std::runtime_error("no posts (seed: psql -f bench/limit/pg_seed.sql URL): " +
                             std::string(PQerrorMessage(c.get())));
  std::fprintf(stderr, "pg_limit_server: %s posts\n", PQgetvalue(r.get(), 0, 0));
  if (std::string_view(PQgetvalue(r.get(), 0, 1)) != "on")
    std::fprintf(stderr, "pg_limit_server: warning: fsync is off in this cluster: creates are not durable\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse_options(argc, argv);
  try {
    check_database(o.url);
    std::vector<std::unique_ptr<Loop>> loops;
    for (unsigned i = 0; i < o.threads; ++i) loops.push_back(std::make_unique<Loop>());
    std::unique_ptr<WorkerPool> workers;  // declared after loops: joined before the loops it posts to go away
    if (o.blocking) {
      workers = std::make_unique<WorkerPool>(o.url, o.conns);
      for (auto& l : loops) l->backend = workers.get();
    } else {
      for (auto& l : loops) {
        l->pool = std::make_unique<AsyncPool>(l->ioc, o.url, o.conns, o.pipeline, o.sync_each);
        l->backend = l->pool.get();
      }
    }

    tcp::acceptor acceptor(loops[0]->ioc);
    const tcp::endpoint endpoint(asio::ip::make_address("0.0.0.0"), o.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    accept(acceptor, loops, 0);

    asio::signal_set signals(loops[0]->ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) {
      acceptor.close();
      for (auto& l : loops) l->ioc.stop();
    });

    std::vector<std::thread> pool;
    for (unsigned i = 1; i < o.threads; ++i) pool.emplace_back([&loops, i] { loops[i]->ioc.run(); });
    if (o.blocking)
      std::fprintf(stderr, "pg_limit_server: listening on :%u with %u loops; blocking, %u worker connections\n", o.port,
                   o.threads, o.conns);
    else
      std::fprintf(stderr,
                   "pg_limit_server: listening on :%u with %u loops; async, %u connection(s) per loop, pipeline %u,"
                   " a Sync per %s\n",
                   o.port, o.threads, o.conns, o.pipeline, o.sync_each ? "query" : "batch");
    loops[0]->ioc.run();
    for (auto& t : pool) t.join();
  } catch (const std::exception& e) {
    die(e.what());
  }
  return 0;
}
