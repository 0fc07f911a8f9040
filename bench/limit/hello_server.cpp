// The HTTP limit of this box: a bare Boost.Beast keep-alive server answering `GET /` with {"hello":"world"}.
// Same threading model as slipway's server (src/http/server.cpp): N io_contexts, each run by one thread, and one
// acceptor on loop 0 handing sockets round-robin to the loops. Benchmarks compare slipway against this number.
//
// Usage: hello_server PORT [THREADS]   (THREADS: default one per core)
// Build: one translation unit, Boost headers + Threads, e.g.
//   c++ -std=c++20 -O2 -DNDEBUG bench/limit/hello_server.cpp -o hello_server -pthread
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  explicit Session(tcp::socket&& socket) : stream_(std::move(socket)) {
    stream_.socket().set_option(tcp::no_delay(true));
  }
  void start() { read(); }

 private:
  void read() {
    request_ = {};
    stream_.expires_after(std::chrono::seconds(60));
    http::async_read(stream_, buffer_, request_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return self->close();
      self->respond();
    });
  }

  void respond() {
    const bool found = request_.method() == http::verb::get && request_.target() == "/";
    response_ = {};
    response_.version(11);
    response_.result(found ? http::status::ok : http::status::not_found);
    response_.set(http::field::content_type, "application/json");
    response_.body() = found ? R"({"hello":"world"})" : R"({"error":"not found"})";
    response_.keep_alive(request_.keep_alive());
    response_.prepare_payload();
    http::async_write(stream_, response_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || !self->response_.keep_alive()) return self->close();
      self->read();
    });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::empty_body> request_;
  http::response<http::string_body> response_;
};

struct Loop {
  asio::io_context ioc{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
};

void accept(tcp::acceptor& acceptor, std::vector<std::unique_ptr<Loop>>& loops, std::size_t next) {
  Loop& target = *loops[next % loops.size()];
  acceptor.async_accept(target.ioc, [&acceptor, &loops, next](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (!ec) std::make_shared<Session>(std::move(socket))->start();  // runs on the socket's loop from here on
    accept(acceptor, loops, next + 1);
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [THREADS]\n", argv[0]);
    return 2;
  }
  const auto port = static_cast<unsigned short>(std::atoi(argv[1]));
  unsigned threads = argc > 2 ? static_cast<unsigned>(std::atoi(argv[2])) : std::thread::hardware_concurrency();
  if (threads == 0) threads = 1;

  std::vector<std::unique_ptr<Loop>> loops;
  for (unsigned i = 0; i < threads; ++i) loops.push_back(std::make_unique<Loop>());
  tcp::acceptor acceptor(loops[0]->ioc);
  const tcp::endpoint endpoint(asio::ip::make_address("0.0.0.0"), port);
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
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&loops, i] { loops[i]->ioc.run(); });
  std::fprintf(stderr, "hello_server: listening on :%u with %u loops\n", port, threads);
  loops[0]->ioc.run();
  for (auto& t : pool) t.join();
  return 0;
}
