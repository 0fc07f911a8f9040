#include "http/listener.h"

#include <boost/asio/post.hpp>
#include <boost/asio/socket_base.hpp>

#include "http/session.h"
#include "obs/logger.h"

namespace slipway::http {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::string_view kRefusalBody =
    "{\"type\":\"https://slipway.dev/problems/unavailable\",\"title\":\"Service Unavailable\",\"status\":503,"
    "\"detail\":\"Too many open connections; retry shortly.\"}";

const std::string& refusal() {
  static const std::string kText =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\nContent-Length: " +
      std::to_string(kRefusalBody.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" +
      std::string(kRefusalBody);
  return kText;
}

// On the loop's thread: closes its keep-alive session that has waited longest for a next request, if any. Sessions
// move to the back of the list whenever they start waiting, so that is the first idle one from the front.
void close_longest_idle(Loop& loop) {
  for (const auto& weak : loop.sessions) {
    if (auto session = weak.lock(); session && session->evict()) return;  // evict() may have erased `weak`: stop
  }
}

}  // namespace

Listener::Listener(ServerCore& core, std::vector<std::unique_ptr<Loop>>& loops, Kind kind)
    : core_(core), loops_(loops), kind_(kind), acceptor_(loops.front()->ioc), retry_(loops.front()->ioc) {}

Status Listener::open(const std::string& host, std::uint16_t port) {
  const std::string where = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  auto fail = [&](const boost::system::error_code& ec) {
    return Problem::make(ProblemCode::kInternal, "cannot listen on " + where + ": " + ec.message());
  };
  boost::system::error_code ec;
  tcp::endpoint endpoint;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, port);
  } else {  // a host name ("localhost"): its first address
    tcp::resolver resolver(loops_.front()->ioc);
    const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
    if (ec) return fail(ec);
    if (results.empty()) return fail(asio::error::host_not_found);
    endpoint = results.begin()->endpoint();
  }
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) return fail(ec);
  // SO_REUSEADDR only lets a restart bind past TIME_WAIT; on Linux it never lets two listeners share a port.
  acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  acceptor_.bind(endpoint, ec);
  if (ec) return fail(ec);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return fail(ec);
  port_ = acceptor_.local_endpoint(ec).port();
  return {};
}

void Listener::start() { accept(); }

void Listener::stop() {
  stopped_ = true;
  // Connections the kernel has completed but we have not accepted yet would be reset by close(), with their
  // requests already sent (a load balancer keeps connecting until its health check sees /readyz turn 503). Take
  // them first, so each is answered, with `Connection: close` since the server is draining.
  boost::system::error_code ec;
  acceptor_.non_blocking(true, ec);
  while (!ec) {
    Loop& target = *loops_[next_loop_++ % loops_.size()];
    tcp::socket socket = acceptor_.accept(target.ioc, ec);
    if (!ec) admit(std::move(socket), target);
  }
  acceptor_.close(ec);
  retry_.cancel();
}

void Listener::accept() {
  if (stopped_) return;
  Loop& target = *loops_[next_loop_++ % loops_.size()];
  acceptor_.async_accept(target.ioc, [this, &target](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted) return;
    if (ec) {  // EMFILE, ENFILE, ENOBUFS...: back off instead of spinning on the same error
      if (stopped_) return;
      core_.logger.log(obs::Level::kError, "accept failed", {{"cause", ec.message()}});
      retry_.expires_after(std::chrono::milliseconds(100));
      retry_.async_wait([this](boost::system::error_code e) {
        if (!e) accept();
      });
      return;
    }
    admit(std::move(socket), target);  // also after stop(): it was accepted before, and its request is coming
    accept();
  });
}

void Listener::admit(tcp::socket socket, Loop& target) {
  boost::system::error_code peer_ec;
  const tcp::endpoint peer = socket.remote_endpoint(peer_ec);
  if (peer_ec) {  // already reset by the peer: nothing to serve or count
    socket.close(peer_ec);
    return;
  }
  const asio::ip::address client = client_of(peer.address());
  if (!core_.acquire_client(client)) {
    refuse(socket, Refusal::kClient, client);
  } else if (core_.open_sessions.load(std::memory_order_relaxed) >= core_.options.max_connections && !evict_idle()) {
    core_.release_client(client);
    refuse(socket, Refusal::kFull, client);
  } else if (kind_ == Kind::kTls) {
    core_.open_sessions.fetch_add(1, std::memory_order_relaxed);
    asio::post(target.ioc,
               [&core = core_, &target, s = std::move(socket), client, tls = core_.tls_context()]() mutable {
                 std::make_shared<TlsSession>(core, target, std::move(s), client, std::move(tls))->start();
               });
  } else {
    core_.open_sessions.fetch_add(1, std::memory_order_relaxed);
    asio::post(target.ioc, [&core = core_, &target, s = std::move(socket), client]() mutable {
      std::make_shared<PlainSession>(core, target, std::move(s), client)->start();
    });
  }
}

// Asks the loop with the most idle keep-alive sessions to close the longest-idle one, and admits the new connection
// meanwhile (open_sessions may exceed max_connections by the evictions still pending). False when every idle
// session is already spoken for: the new connection is refused instead.
bool Listener::evict_idle() {
  Loop* fullest = nullptr;
  std::size_t idle = 0;
  std::size_t most = 0;
  for (auto& loop : loops_) {
    const std::size_t n = loop->idle.load(std::memory_order_relaxed);
    idle += n;
    if (n > most) {
      most = n;
      fullest = loop.get();
    }
  }
  if (idle <= core_.evictions_pending.load(std::memory_order_relaxed)) return false;
  core_.evictions_pending.fetch_add(1, std::memory_order_relaxed);
  asio::post(fullest->ioc, [loop = fullest, &core = core_] {
    close_longest_idle(*loop);
    core.evictions_pending.fetch_sub(1, std::memory_order_relaxed);
  });
  return true;
}

void Listener::refuse(tcp::socket& socket, Refusal why, const asio::ip::address& client) {
  boost::system::error_code ec;
  if (kind_ == Kind::kPlain) {
    // A fresh socket's send buffer is empty, so this one small non-blocking write goes out whole.
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(refusal()), ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }
  socket.close(ec);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_warning_ >= std::chrono::seconds(1)) {  // at most one line a second under a flood
    last_warning_ = now;
    if (why == Refusal::kClient) {
      core_.logger.log(obs::Level::kWarn, "connection refused: max_connections_per_client reached",
                       {{"client", client.to_string()},
                        {"max_connections_per_client", std::to_string(core_.options.max_connections_per_client)}});
    } else {
      core_.logger.log(obs::Level::kWarn, "connection refused: max_connections reached",
                       {{"max_connections", std::to_string(core_.options.max_connections)}});
    }
  }
}

}  // namespace slipway::http
