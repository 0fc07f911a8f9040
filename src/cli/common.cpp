#include "cli/common.h"

#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "cli/cli.h"
#include "core/concept/loader.h"
#include "storage/postgres/pg_storage.h"
#include "storage/sql/dialect.h"
#include "storage/sqlite/sqlite_storage.h"

namespace slipway::cli {

namespace {

// HOST:PORT (IPv6 in brackets) into host and port; prints the problem naming `flag` and returns false when bad.
bool parse_listen(const std::string& flag, const std::string& l, std::string& host, std::uint16_t& port) {
  std::size_t colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == l.size()) {
    print_error(flag + " must be HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got '" + l + "'");
    return false;
  }
  host = l.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = l.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || std::stoul(p) > 65535) {
    print_error(flag + " port must be a number from 0 to 65535, got '" + p + "'");
    return false;
  }
  port = static_cast<std::uint16_t>(std::stoul(p));
  return true;
}

bool given(const std::vector<CLI::Option*>& options) {
  for (const CLI::Option* opt : options)
    if (opt->count() > 0) return true;  // from the flag or its env var
  return false;
}

}  // namespace

void add_file_flags(CLI::App& app, CommonOptions& o) {
  app.add_option("--config", o.config, "The concept file")->envname("SLIPWAY_CONFIG")->capture_default_str();
  app.add_option("--data", o.data, "The data directory (SQLite database, dev secrets)")
      ->envname("SLIPWAY_DATA")
      ->capture_default_str();
  app.add_option("--database", o.database,
                 "PostgreSQL URL (postgres://user@host:port/db); SQLite in the data directory when absent. "
                 "SLIPWAY_DATABASE_URL_FILE names a file holding it")
      ->envname("SLIPWAY_DATABASE_URL");
}

void add_common_flags(CLI::App& app, CommonOptions& o) {
  add_file_flags(app, o);
  o.listen_options.push_back(
      app.add_option("--listen", o.listen, "HOST:PORT to listen on for plain HTTP (off: TLS only)")
          ->envname("SLIPWAY_LISTEN")
          ->capture_default_str());
  app.add_option("--tls-listen", o.tls_listen, "HOST:PORT to listen on for HTTPS (needs --tls-cert and --tls-key)")
      ->envname("SLIPWAY_TLS_LISTEN");
  app.add_option("--tls-cert", o.tls_cert, "PEM file: the TLS certificate, then its intermediates; reread on SIGHUP")
      ->envname("SLIPWAY_TLS_CERT_FILE");
  app.add_option("--tls-key", o.tls_key, "PEM file: the certificate's private key, unencrypted; reread on SIGHUP")
      ->envname("SLIPWAY_TLS_KEY_FILE");
  o.hsts_options.push_back(
      app.add_option("--hsts-max-age", o.hsts_max_age,
                     "Strict-Transport-Security max-age in seconds on HTTPS responses (0: no header)")
          ->envname("SLIPWAY_HSTS_MAX_AGE")
          ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000000}))
          ->capture_default_str());
  o.hsts_options.push_back(
      app.add_flag("--hsts-include-subdomains", o.hsts_include_subdomains,
                   "Add includeSubDomains to Strict-Transport-Security (every subdomain serves HTTPS)")
          ->envname("SLIPWAY_HSTS_INCLUDE_SUBDOMAINS"));
  o.log_level_options.push_back(app.add_option("--log-level", o.log_level, "debug|info|warn|error")
                                    ->envname("SLIPWAY_LOG_LEVEL")
                                    ->capture_default_str());
  app.add_option("--mode", o.mode, "dev|production")->envname("SLIPWAY_MODE")->capture_default_str();
  app.add_option("--db-pool-size", o.db_pool_size, "PostgreSQL read connections")
      ->envname("SLIPWAY_DB_POOL_SIZE")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--db-pool-wait-ms", o.db_pool_wait_ms,
                 "How long a request waits for a free PostgreSQL connection before 503")
      ->envname("SLIPWAY_DB_POOL_WAIT_MS")
      ->check(CLI::Range(1, 60000))
      ->capture_default_str();
  app.add_option("--db-statement-timeout-ms", o.db_statement_timeout_ms, "PostgreSQL statement timeout (0: none)")
      ->envname("SLIPWAY_DB_STATEMENT_TIMEOUT_MS")
      ->check(CLI::Range(0, 600000))
      ->capture_default_str();
  app.add_option("--db-writers", o.db_writers, "PostgreSQL writer connections (each commits one batch at a time)")
      ->envname("SLIPWAY_DB_WRITERS")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--db-read-pipelines", o.db_read_pipelines,
                 "PostgreSQL connections that send one-statement reads pipelined (0: every read takes a pooled one)")
      ->envname("SLIPWAY_DB_READ_PIPELINES")
      ->check(CLI::Range(0, 16))
      ->capture_default_str();
}

void apply_file_settings(CommonOptions& o, const model::Concept& c) {
  if (c.server.listen && !given(o.listen_options)) o.listen = *c.server.listen;
  if (c.server.log_level && !given(o.log_level_options)) o.log_level = *c.server.log_level;
}

void print_error(const std::string& message) { std::cerr << "slipway: " << message << "\n"; }

std::unique_ptr<model::Concept> load_concept(const std::string& path) {
  model::LoadResult r = model::load_concept_file(path);
  for (const auto& d : r.diagnostics) std::cerr << d.to_string() << "\n";
  if (!r.ok()) {
    if (r.diagnostics.empty()) print_error(path + ": the concept file is invalid");
    return nullptr;
  }
  return std::move(r.concept_file);
}

std::string host_port(const std::string& host, std::uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool validate_common(const CommonOptions& o, Listeners& listeners) {
  if (o.mode != "dev" && o.mode != "production") {
    print_error("--mode must be dev or production, got '" + o.mode + "'");
    return false;
  }
  if (o.log_level != "debug" && o.log_level != "info" && o.log_level != "warn" && o.log_level != "error") {
    print_error("--log-level must be debug, info, warn or error, got '" + o.log_level + "'");
    return false;
  }
  listeners = Listeners{};
  listeners.plain = o.listen != "off";
  if (listeners.plain && !parse_listen("--listen", o.listen, listeners.host, listeners.port)) return false;
  // The TLS listener takes all three or none: a certificate without an address (or the reverse) is a mistake, not
  // a request for a default.
  const int tls_given = !o.tls_listen.empty() + !o.tls_cert.empty() + !o.tls_key.empty();
  if (tls_given > 0 && tls_given < 3) {
    std::string missing;
    for (const auto& [value, flag] : {std::pair{&o.tls_listen, "--tls-listen"}, std::pair{&o.tls_cert, "--tls-cert"},
                                      std::pair{&o.tls_key, "--tls-key"}}) {
      if (value->empty()) missing += (missing.empty() ? "" : ", ") + std::string(flag);
    }
    print_error(
        "TLS needs --tls-listen, --tls-cert and --tls-key together (SLIPWAY_TLS_LISTEN, SLIPWAY_TLS_CERT_FILE, "
        "SLIPWAY_TLS_KEY_FILE); missing: " +
        missing);
    return false;
  }
  if (tls_given == 0) {
    if (!listeners.plain) {
      print_error("--listen off turns plain HTTP off, so --tls-listen is needed: there would be nothing to serve");
      return false;
    }
    if (given(o.hsts_options)) {
      print_error("--hsts-max-age and --hsts-include-subdomains apply to HTTPS responses: give --tls-listen too");
      return false;
    }
    return true;
  }
  http::TlsOptions tls;
  if (!parse_listen("--tls-listen", o.tls_listen, tls.host, tls.port)) return false;
  if (listeners.plain && tls.host == listeners.host && tls.port == listeners.port && tls.port != 0) {
    print_error("--tls-listen and --listen are the same address " + host_port(tls.host, tls.port));
    return false;
  }
  tls.cert_file = o.tls_cert;
  tls.key_file = o.tls_key;
  tls.hsts_max_age_s = o.hsts_max_age;
  tls.hsts_include_subdomains = o.hsts_include_subdomains;
  listeners.tls = std::move(tls);
  return true;
}

std::string redact_url(const std::string& url) {
  std::string out = url;
  // postgres://user:secret@host/db → postgres://user:***@host/db
  const std::size_t scheme = out.find("://");
  const std::size_t at = out.rfind('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    const std::size_t colon = out.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at) out = out.substr(0, colon + 1) + "***" + out.substr(at);
  }
  // …?password=secret&… (a URI parameter) or password=secret (a key=value string)
  for (std::size_t p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const std::size_t start = p + 9;
    const std::size_t end = out.find_first_of("& ", start);
    out.replace(start, (end == std::string::npos ? out.size() : end) - start, "***");
  }
  return out;
}

bool resolve_secret(const std::string& name, std::string& out, std::string& error) {
  const std::string file_name = name + "_FILE";
  const char* env = std::getenv(name.c_str());
  const char* file = std::getenv(file_name.c_str());
  out.clear();
  if (env && *env && file && *file) {
    error = "set " + name + " or " + file_name + ", not both";
    return false;
  }
  if (env && *env) {
    out = env;
    return true;
  }
  if (!file || !*file) return true;
  if (!read_whole_file(file, out)) {
    error = "cannot read " + file_name + " " + file + ": " + std::strerror(errno);
    return false;
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) out.pop_back();
  if (out.empty()) {
    error = file_name + " " + file + " is empty";
    return false;
  }
  return true;
}

namespace {
// --database / SLIPWAY_DATABASE_URL, else the file SLIPWAY_DATABASE_URL_FILE names (one line; a trailing newline is
// not part of it). False, printed, when the file cannot be read or the URL is not a PostgreSQL one.
bool database_url(const CommonOptions& o, std::string& url) {
  url = o.database;
  if (url.empty()) {
    std::string error;
    if (!resolve_secret("SLIPWAY_DATABASE_URL", url, error)) {
      print_error(error);
      return false;
    }
    if (url.empty()) return true;
  }
  if (!url.starts_with("postgres://") && !url.starts_with("postgresql://")) {
    print_error("--database must be a PostgreSQL URL (postgres://user@host:port/database)");  // never echoed: a secret
    return false;
  }
  return true;
}
}  // namespace

std::unique_ptr<storage::RecordStore> open_storage(const model::Concept& concept_file, const CommonOptions& o,
                                                   const Clock& clock, OpenOptions open) {
  std::string url;
  if (!database_url(o, url)) return nullptr;
  if (!url.empty()) {
    // The data directory holds no database on PostgreSQL, only dev-mode secrets: made when missing, quietly (a
    // production instance may run without one; whatever writes there reports its own failure).
    if (!open.read_only) (void)mkdir(o.data.c_str(), 0700);
    storage::postgres::PgOptions po;
    po.url = url;
    po.read_only = open.read_only;
    po.application_name = open.application_name;
    po.pool_size = o.db_pool_size;
    po.pool_wait_ms = o.db_pool_wait_ms;
    po.statement_timeout_ms = o.db_statement_timeout_ms;
    po.writers = o.db_writers;
    po.read_pipelines = o.db_read_pipelines;
    po.on_statement = std::move(open.on_statement);
    po.on_commit = std::move(open.on_commit);
    auto opened = storage::postgres::open_storage(concept_file, std::move(po), clock);
    if (!opened) {
      print_error("cannot open database " + redact_url(url) + ": " + opened.error().cause);
      return nullptr;
    }
    return std::move(*opened);
  }
  struct stat st {};
  if (stat(o.data.c_str(), &st) != 0) {
    // Inspection (`migrate plan|status`) creates nothing: a missing directory reads as an empty database.
    if (!open.read_only && mkdir(o.data.c_str(), 0700) != 0) {
      print_error("cannot create data directory " + o.data + ": " + std::strerror(errno));
      return nullptr;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    print_error("--data " + o.data + " is not a directory");
    return nullptr;
  }
  storage::sqlite::SqliteOptions so;
  so.path = o.data + "/slipway.db";
  so.read_only = open.read_only;
  so.on_statement = std::move(open.on_statement);
  so.on_commit = std::move(open.on_commit);
  auto opened = storage::sqlite::open_storage(concept_file, so, clock);
  if (!opened) {
    print_error("cannot open database " + so.path + ": " + opened.error().cause);
    return nullptr;
  }
  return std::move(*opened);
}

std::unique_ptr<model::Concept> load_configuration(CommonOptions& o, Listeners& listeners, int& exit_code) {
  auto concept_file = load_concept(o.config);
  if (!concept_file) {
    exit_code = kExitConcept;
    return nullptr;
  }
  apply_file_settings(o, *concept_file);
  if (!validate_common(o, listeners)) {
    exit_code = kExitUsage;
    return nullptr;
  }
  // Bad TLS files are a bad value, found before the database is opened (as with the other key files).
  if (listeners.tls) {
    if (Status st = http::check_tls_files(*listeners.tls); !st) {
      print_error(st.error().detail);
      exit_code = kExitUsage;
      return nullptr;
    }
  }
  return concept_file;
}

std::optional<SchemaPlan> plan_schema(storage::RecordStore& storage, const model::Concept& concept_file) {
  auto snapshot = storage.current_snapshot();
  if (!snapshot) {
    print_error("cannot read the migration history: " + snapshot.error().cause);
    return std::nullopt;
  }
  auto plan = sql::plan_migration(*snapshot, concept_file, storage.dialect());
  if (!plan) {
    print_error(plan.error().detail);
    return std::nullopt;
  }
  SchemaPlan out;
  static_cast<sql::MigrationPlan&>(out) = std::move(*plan);
  out.fresh = !snapshot->has_value();
  if (Status st = storage.assess(out, concept_file); !st) {
    print_error("cannot check the data against the plan: " + st.error().detail + " (" + st.error().cause + ")");
    return std::nullopt;
  }
  return out;
}

std::unique_ptr<storage::RecordStore> open_current_storage(const model::Concept& concept_file,
                                                                     const CommonOptions& options, const Clock& clock,
                                                                     bool read_only) {
  OpenOptions open;
  open.read_only = read_only;
  auto storage = open_storage(concept_file, options, clock, std::move(open));
  if (!storage) return nullptr;
  auto plan = plan_schema(*storage, concept_file);
  if (!plan) return nullptr;
  if (!plan->empty()) {
    print_error(plan->fresh ? "the database has no schema yet: run `slipway migrate apply` (or start serve once) first"
                            : "the database differs from " + options.config +
                                  ": run `slipway migrate apply` (or serve --migrate) first");
    return nullptr;
  }
  return storage;
}

bool read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

std::string whoami() {
  const char* user = std::getenv("USER");
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(user && *user ? user : "unknown") + "@" + host;
}

}  // namespace slipway::cli
