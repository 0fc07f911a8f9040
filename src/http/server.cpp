// Threading model: N event loops, each an io_context with concurrency hint 1 run by exactly one thread, and one
// acceptor on loop 0 that hands each accepted socket round-robin to a loop. Why, for small keep-alive requests
// on a 2-core box:
//  - A connection lives on one thread: its reads, handler call, write and timers never cross cores, so there
//    are no strands, and Asio's single-threaded scheduler posts from its own thread without taking a lock. One
//    io_context shared by N threads would put every completion through one mutex-protected queue and bounce
//    session state between cores.
//  - Accepting is off the hot path (keep-alive), so one acceptor per listener costs nothing measurable. SO_REUSEPORT
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
#include "http/tls_context.h"
#include "obs/logger.h"
#include "obs/request_metrics.h"

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

namespace {

std::string hsts_value(const ServerOptions& o) {
  if (!o.tls || o.tls->hsts_max_age_s <= 0) return {};
  return "max-age=" + std::to_string(o.tls->hsts_max_age_s) +
         (o.tls->hsts_include_subdomains ? "; includeSubDomains" : "");
}

}  // namespace

ServerCore::ServerCore(ServerOptions o, Handler& h, obs::Logger& l, obs::RequestMetrics& m)
    : options(std::move(o)), handler(h), logger(l), metrics(m), hsts(hsts_value(options)) {
  if (!options.tls) return;  // no TLS series on a server without TLS
  obs::Metrics& registry = metrics.registry();
  constexpr std::string_view kHandshakes = "slipway_tls_handshakes_total";
  constexpr std::string_view kHandshakesHelp = "TLS handshakes on the TLS listener, by outcome";
  tls_handshakes_ok = registry.counter(kHandshakes, kHandshakesHelp, {{"result", "ok"}});
  tls_handshakes_failed = registry.counter(kHandshakes, kHandshakesHelp, {{"result", "failed"}});
  tls_certificate_expiry =
      registry.gauge("slipway_tls_certificate_expiry_timestamp_seconds",
                     "notAfter of the certificate the TLS listener serves, seconds since the epoch");
}

std::shared_ptr<asio::ssl::context> ServerCore::tls_context() const {
  std::lock_guard lock(tls_mu);
  return tls_context_;
}

void ServerCore::set_tls_context(std::shared_ptr<asio::ssl::context> context) {
  std::lock_guard lock(tls_mu);
  tls_context_ = std::move(context);
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
    tls_listener.reset();
    signals.reset();
    hangups.reset();
    shut_loops();
  }

  // Serves `loaded` to new TLS connections, with a log line and the expiry gauge.
  void install(TlsCredentials&& loaded, std::string_view what) {
    const TlsOptions& t = *core.options.tls;
    core.set_tls_context(std::move(loaded.context));
    core.tls_certificate_expiry.set(static_cast<double>(loaded.not_after));
    const std::string not_after = format_utc_seconds(loaded.not_after);
    const bool expired =
        loaded.not_after <=
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    core.logger.log(
        expired ? obs::Level::kWarn : obs::Level::kInfo, expired ? "TLS certificate has expired" : what,
        {{"cert_file", t.cert_file}, {"subject", loaded.subject}, {"serial", loaded.serial}, {"not_after", not_after}});
  }

  // Loop 0: waits for the next SIGHUP, reloads, waits again.
  void wait_hangup(Server& server) {
    hangups->async_wait([this, &server](const boost::system::error_code& ec, int) {
      if (ec) return;             // cancelled: the server is draining
      (void)server.reload_tls();  // logs either way
      wait_hangup(server);
    });
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
  std::unique_ptr<Listener> listener;        // plain HTTP (ServerOptions::plain)
  std::unique_ptr<Listener> tls_listener;    // ServerOptions::tls
  std::unique_ptr<asio::signal_set> signals;
  std::unique_ptr<asio::signal_set> hangups;  // SIGHUP, with TLS only
  std::mutex reload_mu;                       // one reload at a time (SIGHUP and reload_tls() from tests)
  bool ran = false;
};

Server::Server(ServerOptions options, Handler& handler, obs::Logger& logger, obs::RequestMetrics& metrics)
    : impl_(std::make_unique<Impl>(std::move(options), handler, logger, metrics)) {}

Server::~Server() = default;

Status Server::start() {
  Impl& d = *impl_;
  const ServerOptions& o = d.core.options;
  if (d.listener || d.tls_listener) return Problem::make(ProblemCode::kInternal, "the server is already started");
  if (!o.plain && !o.tls)
    return Problem::make(ProblemCode::kInternal, "no listener: plain HTTP is off and TLS is not set");
  if (o.threads < 0) return Problem::make(ProblemCode::kInternal, "threads must be 0 (one per core) or more");
  if (o.header_limit == 0 || o.max_connections == 0 || o.max_connections_per_client == 0) {
    return Problem::make(ProblemCode::kInternal,
                         "header_limit, max_connections and max_connections_per_client must be positive");
  }
  std::optional<TlsCredentials> tls;
  if (o.tls) {
    auto loaded = load_tls_context(*o.tls);
    if (!loaded) return std::move(loaded).error();
    tls = std::move(*loaded);
  }
  const unsigned n = o.threads > 0 ? static_cast<unsigned>(o.threads) : std::max(1u, std::thread::hardware_concurrency());
  d.loops.clear();
  for (unsigned i = 0; i < n; ++i) d.loops.push_back(std::make_unique<Loop>());
  std::unique_ptr<Listener> plain;
  std::unique_ptr<Listener> secure;
  Status st;
  if (o.plain) {
    plain = std::make_unique<Listener>(d.core, d.loops, Listener::Kind::kPlain);
    st = plain->open(o.host, o.port);
  }
  if (st && o.tls) {
    secure = std::make_unique<Listener>(d.core, d.loops, Listener::Kind::kTls);
    st = secure->open(o.tls->host, o.tls->port);
  }
  if (!st) {
    plain.reset();
    secure.reset();
    d.loops.clear();
    return st;
  }
  d.listener = std::move(plain);
  d.tls_listener = std::move(secure);
  if (tls) d.install(std::move(*tls), "TLS certificate loaded");
  return {};
}

std::uint16_t Server::port() const { return impl_->listener ? impl_->listener->port() : 0; }

std::uint16_t Server::tls_port() const { return impl_->tls_listener ? impl_->tls_listener->port() : 0; }

Status Server::reload_tls() {
  Impl& d = *impl_;
  if (!d.core.options.tls || !d.tls_listener) {
    return Problem::make(ProblemCode::kInternal, "TLS is not configured or the server is not started");
  }
  std::lock_guard lock(d.reload_mu);
  auto loaded = load_tls_context(*d.core.options.tls);
  if (!loaded) {
    d.core.logger.log(obs::Level::kError, "TLS reload failed: still serving the previous certificate",
                      {{"cause", loaded.error().detail}});
    return std::move(loaded).error();
  }
  d.install(std::move(*loaded), "TLS certificate reloaded");
  return {};
}

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
  if ((!d.listener && !d.tls_listener) || d.ran) return;
  d.ran = true;
  ServerCore& core = d.core;
  Loop& first = *d.loops.front();

  d.signals = std::make_unique<asio::signal_set>(first.ioc, SIGINT, SIGTERM);
  d.signals->async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) request_stop();
  });
  if (d.tls_listener) {
    d.hangups = std::make_unique<asio::signal_set>(first.ioc, SIGHUP);
    d.wait_hangup(*this);
  }
  for (Listener* listener : {d.listener.get(), d.tls_listener.get()}) {
    if (listener) asio::post(first.ioc, [listener] { listener->start(); });
  }

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
    if (d.listener) d.listener->stop();
    if (d.tls_listener) d.tls_listener->stop();
    boost::system::error_code ec;
    d.signals->cancel(ec);
    if (d.hangups) d.hangups->cancel(ec);
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
  d.hangups.reset();
  d.shut_loops();
}

}  // namespace slipway::http
