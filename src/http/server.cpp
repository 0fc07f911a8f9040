// Threading model: N event loops, each an io_context with concurrency hint 1 run by exactly one thread, and one
// acceptor on loop 0 that hands each accepted socket round-robin to a loop. Why, for small keep-alive requests
// on a 2-core box:
//  - A connection lives on one thread: its reads, handler call, write and timers never cross cores, so there
//    are no strands, and Asio's single-threaded scheduler posts from its own thread without taking a lock. One
//    io_context shared by N threads would put every completion through one mutex-protected queue and bounce
//    session state between cores.
//  - Accepting is off the hot path (keep-alive), so one acceptor costs nothing measurable. SO_REUSEPORT
//    acceptors per loop would do the same job, but they let a second process bind the same port silently (no
//    "Address already in use"), and closing one of them drops connections waiting in its backlog.
// bench/limit/hello_server.cpp uses the same model, so the two are compared like for like.
#include "http/server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <csignal>
#include <future>
#include <thread>
#include <vector>

#include "http/listener.h"
#include "http/loop.h"
#include "http/session.h"
#include "obs/logger.h"

namespace slipway::http {
namespace asio = boost::asio;

namespace {
thread_local Loop* t_current_loop = nullptr;
}  // namespace

Loop* current_loop() { return t_current_loop; }
void set_current_loop(Loop* loop) { t_current_loop = loop; }

asio::ip::address client_of(const asio::ip::address& address) {
  if (address.is_v4()) return address;
  const asio::ip::address_v6 v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6);
  asio::ip::address_v6::bytes_type bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);  // the /64
  return asio::ip::address_v6(bytes);
}

bool ServerCore::acquire_client(const asio::ip::address& client) {
  std::lock_guard lock(clients_mu);
  std::size_t& n = clients[client];
  if (n >= options.max_connections_per_client) return false;  // n > 0 here: the entry existed
  ++n;
  return true;
}

void ServerCore::release_client(const asio::ip::address& client) {
  std::lock_guard lock(clients_mu);
  const auto it = clients.find(client);
  if (it == clients.end()) return;
  if (--it->second == 0) clients.erase(it);  // the map holds only clients with open connections
}

struct Server::Impl {
  Impl(ServerOptions o, Handler& h, obs::Logger& l, obs::RequestMetrics& m) : core(std::move(o), h, l, m) {}
  ~Impl() {
    listener.reset();
    signals.reset();
    shut_loops();
  }

  // After the loops' threads have stopped (or never ran): close the gates so late Responders drop their
  // responses, and take the sockets from sessions that may outlive their io_context.
  void shut_loops() {
    for (auto& loop : loops) {
      {
        std::lock_guard lock(loop->gate->mu);
        loop->gate->ioc = nullptr;
      }
      for (auto& weak : loop->sessions) {
        if (auto session = weak.lock()) session->detach();
      }
      loop->sessions.clear();
    }
  }

  ServerCore core;
  std::vector<std::unique_ptr<Loop>> loops;  // destroyed after everything that runs on them
  std::unique_ptr<Listener> listener;
  std::unique_ptr<asio::signal_set> signals;
  bool ran = false;
};

Server::Server(ServerOptions options, Handler& handler, obs::Logger& logger, obs::RequestMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), handler, logger, metrics)) {}

Server::~Server() = default;

Status Server::start() {
  Impl& d = *impl_;
  const ServerOptions& o = d.core.options;
  if (d.listener) return Problem::make(ProblemCode::kInternal, "the server is already started");
  if (o.threads < 0) return Problem::make(ProblemCode::kInternal, "threads must be 0 (one per core) or more");
  if (o.header_limit == 0 || o.max_connections == 0 || o.max_connections_per_client == 0) {
    return Problem::make(ProblemCode::kInternal,
                         "header_limit, max_connections and max_connections_per_client must be positive");
  }
  const unsigned n = o.threads > 0 ? static_cast<unsigned>(o.threads) : std::max(1u, std::thread::hardware_concurrency());
  d.loops.clear();
  for (unsigned i = 0; i < n; ++i) d.loops.push_back(std::make_unique<Loop>());
  auto listener = std::make_unique<Listener>(d.core, d.loops);
  if (Status st = listener->open(o.host, o.port); !st) {
    listener.reset();
    d.loops.clear();
    return st;
  }
  d.listener = std::move(listener);
  return {};
}

std::uint16_t Server::port() const { return impl_->listener ? impl_->listener->port() : 0; }

std::size_t Server::in_flight() const { return impl_->core.in_flight.load(std::memory_order_relaxed); }

void Server::request_stop() {
  {
    std::lock_guard lock(impl_->core.mu);
    impl_->core.stop_requested = true;
  }
  impl_->core.cv.notify_all();
}

void Server::run(std::function<void()> on_drain) {
  Impl& d = *impl_;
  if (!d.listener || d.ran) return;
  d.ran = true;
  ServerCore& core = d.core;
  Loop& first = *d.loops.front();

  d.signals = std::make_unique<asio::signal_set>(first.ioc, SIGINT, SIGTERM);
  d.signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) request_stop();
  });
  asio::post(first.ioc, [listener = d.listener.get()] { listener->start(); });

  std::vector<std::thread> threads;
  threads.reserve(d.loops.size());
  for (auto& loop : d.loops) {
    threads.emplace_back([l = loop.get()] {
      set_current_loop(l);
      l->ioc.run();
      set_current_loop(nullptr);
    });
  }

  {
    std::unique_lock lock(core.mu);
    core.cv.wait(lock, [&] { return core.stop_requested; });
  }
  const auto deadline = std::chrono::steady_clock::now() + core.options.drain_timeout;
  core.draining.store(true, std::memory_order_relaxed);

  // 1) readiness goes first, so load balancers stop sending before connections start closing.
  if (on_drain) on_drain();
  // 2) stop accepting; wait for it, so no connection slips in after the count below reads zero.
  std::promise<void> accepting_stopped;
  asio::post(first.ioc, [&] {
    d.listener->stop();
    boost::system::error_code ec;
    d.signals->cancel(ec);
    accepting_stopped.set_value();
  });
  accepting_stopped.get_future().wait_until(deadline);
  // 3) idle keep-alive connections close now; busy ones answer with `Connection: close`, then close.
  for (auto& loop : d.loops) {
    asio::post(loop->ioc, [l = loop.get()] {
      l->draining = true;
      std::vector<std::shared_ptr<Session>> sessions;  // close() unregisters: do not iterate the list itself
      sessions.reserve(l->sessions.size());
      for (auto& weak : l->sessions) {
        if (auto s = weak.lock()) sessions.push_back(std::move(s));
      }
      for (auto& s : sessions) s->on_drain();
    });
  }
  {
    std::unique_lock lock(core.mu);
    core.cv.wait_until(lock, deadline, [&] { return core.open_sessions.load(std::memory_order_acquire) == 0; });
  }
  if (const std::size_t left = core.open_sessions.load(); left > 0) {
    core.logger.log(obs::Level::kWarn, "drain timeout: closing connections still open",
                    {{"connections", std::to_string(left)}, {"in_flight", std::to_string(core.in_flight.load())}});
  }
  // 4) stop the loops and return.
  for (auto& loop : d.loops) {
    loop->work.reset();
    loop->ioc.stop();
  }
  for (auto& t : threads) t.join();
  d.signals.reset();  // restores the default SIGINT/SIGTERM disposition
  d.shut_loops();
}

}  // namespace slipway::http
