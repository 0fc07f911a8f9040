// `slipway serve`: where everything is wired (STYLE: no singletons; dependencies go in through constructors).
//   concept file → storage (+ schema check/migration) → logger, metrics → App → HTTP server → run until drained.
#include <CLI/CLI.hpp>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <stop_token>
#include <thread>

#include "api/app.h"
#include "cli/admin_token.h"
#include "api/mail_sender.h"
#include "cli/key_files.h"
#include "core/ascii.h"
#include "outbound/outbound_client.h"
#include "runtime/worker_pool.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "storage/postgres/pg_storage.h"
#include "http/server.h"
#include "obs/logger.h"
#include "obs/metrics.h"
#include "obs/request_metrics.h"
#include "storage/sql/dialect.h"
#include "storage/sql/migration_planner.h"

namespace slipway::cli {
namespace {

struct ServeOptions {
  CommonOptions common;
  bool migrate = false;
  int threads = 0;
  std::int64_t max_connections_per_client = 256;
  std::string rate_limits = "on";  // "off" turns the file's rate limits off (an operator's switch, logged)
};

// Brings the schema in line with the file before serving: a new database is created (and recorded); an existing
// one that differs is migrated only with --migrate and only when every step is safe.
int ensure_schema(storage::RecordStore& storage, const model::Concept& concept_file, const ServeOptions& o,
                  obs::Logger& logger) {
  auto plan = plan_schema(storage, concept_file);
  if (!plan) return kExitRuntime;
  if (plan->empty()) return kExitOk;
  const bool fresh = plan->fresh;
  if (!fresh && !o.migrate) {
    std::cerr << plan->to_text();
    print_error("the database schema differs from " + o.common.config +
                "; review the plan above, then run `slipway migrate apply` or serve with --migrate (safe steps only)");
    return kExitSchemaDiffers;
  }
  if (plan->has_destructive() || plan->has_blocked()) {
    std::cerr << plan->to_text();
    print_error(plan->has_blocked()
                    ? "the plan has a BLOCKED step; fix the data it names, then start again"
                    : "the plan has destructive steps; serve --migrate applies safe steps only: run `slipway migrate apply --allow-destructive`");
    return kExitDestructive;
  }
  if (Status st = storage.apply(*plan, fresh ? "serve (new database)" : "serve --migrate", false); !st) {
    print_error(st.error().detail + " (" + st.error().cause + ")");
    return kExitRuntime;
  }
  logger.log(obs::Level::kInfo, fresh ? "created schema" : "migrated schema",
             {{"checksum", plan->checksum}, {"steps", std::to_string(plan->steps.size())}});
  return kExitOk;
}

int serve(ServeOptions& o) {
  if (o.threads < 0 || o.threads > 256) {
    print_error("--threads must be from 0 (one per core) to 256");
    return kExitUsage;
  }
  if (o.max_connections_per_client < 1 || o.max_connections_per_client > 10000) {
    print_error("--max-connections-per-client must be from 1 to 10000");
    return kExitUsage;
  }
  Listeners listeners;
  int exit_code = kExitOk;
  if (o.rate_limits != "on" && o.rate_limits != "off") {
    print_error("--rate-limits must be on or off, got '" + o.rate_limits + "'");
    return kExitUsage;
  }
  auto concept_file = load_configuration(o.common, listeners, exit_code);
  if (!concept_file) return exit_code;
  const bool dev = o.common.mode == "dev";
  const bool limits_switched_off = o.rate_limits == "off" && concept_file->rate_limits.enabled;
  if (o.rate_limits == "off") concept_file->rate_limits.enabled = false;

  obs::Logger logger;
  logger.set_level(obs::parse_level(o.common.log_level).value_or(obs::Level::kInfo));
  obs::Metrics metrics;
  metrics.build_info(SLIPWAY_VERSION);
  obs::RequestMetrics request_metrics(metrics);
  auto statement_seconds = metrics.histogram("slipway_db_statement_duration_seconds",
                                             "Latency of SQLite read statements", {},
                                             {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25});
  auto commit_seconds = metrics.histogram("slipway_db_commit_duration_seconds",
                                          "Latency of group-commit COMMITs (fsync included)", {},
                                          {0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5});
  auto batch_size = metrics.histogram("slipway_db_commit_batch_size", "Writes committed together by one group commit",
                                      {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512});

  std::string token, error;
  // Identity's signing keys are checked before the database is touched: production without them stops here.
  std::shared_ptr<const auth::KeyRing> jwt_keys;
  if (concept_file->auth || jwt_keys_configured()) {
    jwt_keys = resolve_jwt_keys(dev, o.common.data, /*create=*/false, error);
    if (!jwt_keys && (!dev || jwt_keys_configured())) {
      print_error(error);
      return kExitUsage;
    }
  }
  std::shared_ptr<const auth::DataKeys> data_keys;
  if (concept_file->auth || data_keys_configured()) {
    data_keys = resolve_data_keys(dev, o.common.data, /*create=*/false, error);
    if (!data_keys && (!dev || data_keys_configured())) {
      print_error(error);
      return kExitUsage;
    }
  }
  if (!resolve_admin_token(dev, o.common.data, /*create=*/false, token, error)) {
    token.clear();  // never keep a rejected token
    if (!dev || admin_token_configured()) {
      print_error(error);
      return kExitUsage;
    }
  }
  // The SMTP password (a secret: env or file only), checked before the database is touched like the keys above.
  std::string smtp_password;
  if (concept_file->smtp) {
    if (!resolve_secret("SLIPWAY_SMTP_PASSWORD", smtp_password, error)) {
      print_error(error);
      return kExitUsage;
    }
    if (!concept_file->smtp->username.empty() && smtp_password.empty()) {
      print_error("smtp has a username, so set SLIPWAY_SMTP_PASSWORD or SLIPWAY_SMTP_PASSWORD_FILE to its password");
      return kExitUsage;
    }
    if (concept_file->smtp->username.empty() && !smtp_password.empty()) {
      print_error("SLIPWAY_SMTP_PASSWORD is set but smtp has no username: add `username:` under `smtp:`");
      return kExitUsage;
    }
  }
  // Each OpenID provider's client secret: SLIPWAY_OIDC_<NAME>_CLIENT_SECRET or its _FILE. Without it the provider
  // cannot be used at all, so it is required in every mode.
  std::map<std::string, std::string> oidc_secrets;
  if (concept_file->auth) {
    for (const model::OidcProvider& p : concept_file->auth->oidc) {
      const std::string var = "SLIPWAY_OIDC_" + ascii_upper(p.name) + "_CLIENT_SECRET";
      std::string secret;
      if (!resolve_secret(var, secret, error)) {
        print_error(error);
        return kExitUsage;
      }
      if (secret.empty()) {
        print_error("auth.oidc." + p.name + " needs its client secret: set " + var + " or " + var + "_FILE");
        return kExitUsage;
      }
      oidc_secrets[p.name] = std::move(secret);
    }
  }
  SystemClock clock;
  OpenOptions hooks;
  // On PostgreSQL the connections name the concept this instance serves: a destructive migration waits for them.
  hooks.application_name =
      storage::postgres::serving_application_name(sql::snapshot_checksum(sql::schema_snapshot(*concept_file)));
  hooks.on_statement = [statement_seconds](double s) mutable { statement_seconds.observe(s); };
  hooks.on_commit = [commit_seconds, batch_size](std::size_t n, double s) mutable {
    commit_seconds.observe(s);
    batch_size.observe(static_cast<double>(n));
  };
  auto storage = open_storage(*concept_file, o.common, clock, std::move(hooks));
  if (!storage) return kExitRuntime;
  if (int rc = ensure_schema(*storage, *concept_file, o, logger)) return rc;
  if (token.empty()) {  // dev mode: made once, kept in the data directory, printed once
    if (!resolve_admin_token(true, o.common.data, /*create=*/true, token, error)) {
      print_error(error);
      return kExitRuntime;
    }
    std::cerr << "slipway: dev mode: admin token written to " << o.common.data << "/dev-admin-token\n"
              << "slipway: dev mode: admin token: " << token << "\n";
  }
  if (concept_file->auth && !jwt_keys) {  // dev mode: made once, kept in the data directory
    jwt_keys = resolve_jwt_keys(true, o.common.data, /*create=*/true, error);
    if (!jwt_keys) {
      print_error(error);
      return kExitRuntime;
    }
    std::cerr << "slipway: dev mode: access-token signing key written to " << o.common.data << "/dev-jwt-keys\n";
  }
  if (concept_file->auth && !data_keys) {
    data_keys = resolve_data_keys(true, o.common.data, /*create=*/true, error);
    if (!data_keys) {
      print_error(error);
      return kExitRuntime;
    }
    std::cerr << "slipway: dev mode: data key written to " << o.common.data << "/dev-data-keys\n";
  }
  // Password hashing (argon2id, ~19 MiB and tens of milliseconds each) runs here, never on an event loop; at a
  // lower CPU priority, so a login flood slows logins rather than every other request.
  runtime::WorkerPoolOptions pool_options;
  pool_options.threads = std::max(1u, std::thread::hardware_concurrency());
  pool_options.queue_limit = 64;
  pool_options.nice = 10;
  runtime::WorkerPool hash_pool(pool_options);
  metrics.gauge_callback("slipway_auth_hash_queue_length", "Password hashes waiting for a worker", {},
                         [&hash_pool] { return static_cast<double>(hash_pool.queued()); });
  metrics.gauge_callback("slipway_auth_hash_rejections", "Logins and sign-ups refused (503) because the hash queue was full",
                         {}, [&hash_pool] { return static_cast<double>(hash_pool.rejected()); });
  {
    storage::RecordStore* s = storage.get();
    metrics.gauge_callback("slipway_record_cache_hit_ratio", "Share of GET-by-id reads served from the hot-read cache",
                           {}, [s] {
                             const double hits = static_cast<double>(s->cache_hits());
                             const double total = hits + static_cast<double>(s->cache_misses());
                             return total > 0 ? hits / total : 0.0;
                           });
    metrics.gauge_callback("slipway_db_statement_cache_evictions",
                           "Prepared statements evicted from the bounded per-connection caches since start", {},
                           [s] { return static_cast<double>(s->statement_evictions()); });
  }
  // Expired idempotency keys are deleted at start-up and then hourly (replays are bounded to 24 h by the query
  // itself; this only keeps the table small).
  std::jthread purger([&storage, &logger](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    do {
      if (Status st = storage->purge_idempotency_keys(); !st)
        logger.log(obs::Level::kWarn, "idempotency purge failed", {{"cause", st.error().cause}});
      cv.wait_for(lock, stop, std::chrono::hours(1), [] { return false; });
    } while (!stop.stop_requested());
  });

  // PostgreSQL calls block on the network: handlers that touch storage run on this pool, never on an event loop
  // (docs/decisions/0010). SQLite reads are local and stay on the loops.
  std::unique_ptr<runtime::WorkerPool> storage_pool;
  if (storage->dialect().kind() == sql::DialectKind::kPostgres) {
    runtime::WorkerPoolOptions spo;
    // More threads than read connections: a request beyond the pool then waits for a connection with the pool's own
    // deadline (--db-pool-wait-ms) rather than in the queue.
    spo.threads = static_cast<unsigned>(2 * o.common.db_pool_size + 2);
    spo.queue_limit = 1024;
    storage_pool = std::make_unique<runtime::WorkerPool>(spo);
    runtime::WorkerPool* sp = storage_pool.get();
    metrics.gauge_callback("slipway_db_request_queue_length", "Requests waiting for a storage thread (PostgreSQL)", {},
                           [sp] { return static_cast<double>(sp->queued()); });
    metrics.gauge_callback("slipway_db_request_rejections",
                           "Requests refused (503) because the storage threads' queue was full", {},
                           [sp] { return static_cast<double>(sp->rejected()); });
    metrics.gauge_callback("slipway_db_pool_connections", "PostgreSQL read connections open", {{"state", "open"}},
                           [] { return static_cast<double>(storage::postgres::pg_pool_stats().open); });
    metrics.gauge_callback("slipway_db_pool_connections", "PostgreSQL read connections open", {{"state", "in_use"}},
                           [] { return static_cast<double>(storage::postgres::pg_pool_stats().in_use); });
    metrics.gauge_callback("slipway_db_pool_waits", "Reads that waited for a free PostgreSQL connection", {},
                           [] { return static_cast<double>(storage::postgres::pg_pool_stats().waits); });
    metrics.gauge_callback("slipway_db_pool_timeouts",
                           "Reads refused (503) after waiting --db-pool-wait-ms for a PostgreSQL connection", {},
                           [] { return static_cast<double>(storage::postgres::pg_pool_stats().timeouts); });
    metrics.gauge_callback("slipway_db_reconnects", "PostgreSQL connections replaced after they broke", {},
                           [] { return static_cast<double>(storage::postgres::pg_pool_stats().reconnects); });
    metrics.gauge_callback("slipway_db_pipelined_reads", "Reads answered on a pipelined PostgreSQL connection", {},
                           [] { return static_cast<double>(storage::postgres::pg_pool_stats().pipelined_reads); });
    metrics.gauge_callback("slipway_db_pipelined_batches", "Batches (one Sync each) the pipelined reads went out in",
                           {}, [] { return static_cast<double>(storage::postgres::pg_pool_stats().pipelined_batches); });
    metrics.gauge_callback("slipway_db_write_retries", "Writes run again after a deadlock or serialization failure",
                           {}, [] { return static_cast<double>(storage::postgres::pg_pool_stats().write_retries); });
  }

  // Mail (smtp: and auth: email:): one outbound client for every call out, and the sender of the mail queue on its
  // own thread; requests only queue mail and wake it.
  std::unique_ptr<outbound::OutboundClient> outbound_client;
  std::unique_ptr<api::MailSender> mail_sender;
  std::unique_ptr<runtime::WorkerPool> outbound_pool;  // OpenID Connect sign-ins block on the provider here
  if (concept_file->smtp || !oidc_secrets.empty()) {
    const model::OutboundSettings& ob = concept_file->outbound;
    outbound::OutboundOptions oo;
    oo.connect_timeout_ms = ob.connect_timeout_s * 1000;
    oo.total_timeout_ms = ob.timeout_s * 1000;
    oo.breaker.failure_threshold = ob.circuit_failures;
    oo.breaker.window_ms = ob.circuit_window_s * 1000;
    oo.breaker.open_ms = ob.circuit_open_s * 1000;
    outbound_client = std::make_unique<outbound::OutboundClient>(oo, clock, metrics, logger);
  }
  if (!oidc_secrets.empty()) {
    runtime::WorkerPoolOptions opo;
    opo.threads = 4;
    opo.queue_limit = 256;
    outbound_pool = std::make_unique<runtime::WorkerPool>(opo);
  }
  if (concept_file->smtp && storage->email()) {
    mail_sender = std::make_unique<api::MailSender>(*storage->email(), *data_keys, *outbound_client,
                                                    *concept_file->smtp, std::move(smtp_password), metrics, logger,
                                                    clock,
                                                    // a send with the client's attempts, and a minute to spare
                                                    (3 * concept_file->outbound.timeout_s + 60) * 1000);
    mail_sender->start();
  }

  api::AppOptions app_options;
  if (mail_sender) app_options.mail_queued = [s = mail_sender.get()] { s->wake(); };
  app_options.outbound = outbound_client.get();
  app_options.outbound_pool = outbound_pool.get();
  app_options.oidc_secrets = std::move(oidc_secrets);
  app_options.admin_token = token;
  app_options.keys = jwt_keys;
  app_options.data_keys = data_keys;
  app_options.hash_pool = &hash_pool;
  app_options.storage_pool = storage_pool.get();
  app_options.storage_wait_ms = o.common.db_pool_wait_ms;
  api::App app(*concept_file, *storage, logger, metrics, std::move(app_options));

  // API keys' last-use times are noted in memory and written every 30 s (never a write per request).
  std::jthread usage_flusher([&app](std::stop_token stop) {
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, stop, std::chrono::seconds(30), [] { return false; }) && !stop.stop_requested())
      app.housekeeping();
  });

  if (limits_switched_off) {
    logger.log(obs::Level::kWarn, "rate limits are off (--rate-limits off / SLIPWAY_RATE_LIMITS=off)",
               {{"mode", o.common.mode}});
  }
  metrics.gauge_callback("slipway_rate_limit_evictions", "Partly used rate-limit buckets forgotten to make room", {},
                         [&app] { return static_cast<double>(app.rate_limit_evictions()); });

  http::ServerOptions so;
  so.plain = listeners.plain;
  so.host = listeners.host;
  so.port = listeners.port;
  so.tls = listeners.tls;
  so.threads = o.threads;
  so.max_connections_per_client = static_cast<std::size_t>(o.max_connections_per_client);
  http::Server server(so, app, logger, request_metrics);
  if (Status st = server.start(); !st) {
    print_error(st.error().detail);
    return kExitRuntime;
  }
  // Everything that consumes the change feed has subscribed and the server runs: other instances' changes may flow
  // now (PostgreSQL). From here on storage is closed before `app` goes (below), so the listener never outlives it.
  storage->start_listening();
  {
    // "address" is the plain HTTP listener's, "tls_address" the TLS one's; each only when it listens.
    const std::string plain = listeners.plain ? host_port(listeners.host, server.port()) : std::string();
    const std::string tls = listeners.tls ? host_port(listeners.tls->host, server.tls_port()) : std::string();
    const std::string collections = std::to_string(concept_file->collections.size());
    if (listeners.plain && listeners.tls) {
      logger.log(obs::Level::kInfo, "listening",
                 {{"address", plain}, {"tls_address", tls}, {"mode", o.common.mode}, {"collections", collections}});
    } else if (listeners.tls) {
      logger.log(obs::Level::kInfo, "listening",
                 {{"tls_address", tls}, {"mode", o.common.mode}, {"collections", collections}});
    } else {
      logger.log(obs::Level::kInfo, "listening",
                 {{"address", plain}, {"mode", o.common.mode}, {"collections", collections}});
    }
  }
  server.run([&app, &logger] {
    app.set_draining();
    logger.log(obs::Level::kInfo, "draining");
  });
  purger.request_stop();
  purger.join();
  usage_flusher.request_stop();
  usage_flusher.join();
  app.housekeeping();
  hash_pool.stop();  // finishes accepted logins (their writes reach the still-open storage)
  if (storage_pool) storage_pool->stop();
  if (mail_sender) mail_sender->stop();  // the send in progress ends; the rest stays queued for the next start
  if (outbound_pool) outbound_pool->stop();  // sign-ins in progress finish (their writes reach the open storage)
  storage->close();
  logger.log(obs::Level::kInfo, "stopped");
  logger.flush();
  return kExitOk;
}

}  // namespace

void add_serve(CLI::App& root, Run& run) {
  auto* cmd = root.add_subcommand("serve", "Serve the concept file as an HTTP API");
  auto opts = std::make_shared<ServeOptions>();
  add_common_flags(*cmd, opts->common);
  cmd->add_flag("--migrate", opts->migrate, "Apply safe migration steps at start-up")->envname("SLIPWAY_MIGRATE");
  cmd->add_option("--threads", opts->threads, "Event loops (0: one per core)")->envname("SLIPWAY_THREADS")->capture_default_str();
  cmd->add_option("--max-connections-per-client", opts->max_connections_per_client,
                  "Open connections one client address (IPv6: one /64) may hold; raise it behind a reverse proxy")
      ->envname("SLIPWAY_MAX_CONNECTIONS_PER_CLIENT")
      ->capture_default_str();
  cmd->add_option("--rate-limits", opts->rate_limits,
                  "on: the concept file's rate limits (default); off: none at all, e.g. behind a proxy that limits")
      ->envname("SLIPWAY_RATE_LIMITS")
      ->capture_default_str();
  cmd->callback([&run, opts] { run = [opts] { return serve(*opts); }; });
}

}  // namespace slipway::cli
