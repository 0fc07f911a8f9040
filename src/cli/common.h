// What every command shares: the common flags (flags > env SLIPWAY_* > defaults), loading the concept file
// with its diagnostics, and opening the database. Errors are one line on stderr.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/concept/model.h"
#include "http/server.h"
#include "storage/record_store.h"
#include "storage/sql/migration_planner.h"

namespace CLI {
class App;
class Option;
}

namespace slipway::cli {

struct CommonOptions {
  std::string config = "./slipway.yaml";
  std::string data = "./data";
  std::string listen = "127.0.0.1:8080";
  std::string log_level = "info";
  std::string mode = "production";
  // Empty: SQLite in <data>/slipway.db. Else a PostgreSQL URL (postgres://…), from --database,
  // SLIPWAY_DATABASE_URL or the file named by SLIPWAY_DATABASE_URL_FILE (a secret: never printed with its password).
  std::string database;
  int db_pool_size = 8;             // PostgreSQL read connections
  int db_pool_wait_ms = 2000;       // a read waits this long for a free connection, then 503 + Retry-After
  int db_statement_timeout_ms = 5000;
  int db_writers = 2;
  int db_read_pipelines = 1;
  // The TLS listener (--tls-listen with --tls-cert and --tls-key, all three or none) and its HSTS header.
  std::string tls_listen;
  std::string tls_cert;
  std::string tls_key;
  std::int64_t hsts_max_age = 63072000;
  bool hsts_include_subdomains = false;
  std::vector<CLI::Option*> hsts_options;  // --hsts-max-age and --hsts-include-subdomains, to tell whether given
  // The CLI11 options behind listen and log_level (one per subcommand that has them), to tell whether a flag or
  // env var set them: only then does the concept file's `server:` value not apply.
  std::vector<CLI::Option*> listen_options;
  std::vector<CLI::Option*> log_level_options;
};

// Flags > env > file > defaults: takes `server.listen` / `server.log_level` from the file unless given otherwise.
void apply_file_settings(CommonOptions& options, const model::Concept& concept_file);

// Adds --config and --data (with their SLIPWAY_* env names): for commands that read the file and the database
// but serve nothing (migrate plan|apply|status). Each command shows only the flags it uses in its --help.
void add_file_flags(CLI::App& app, CommonOptions& options);

// Adds the file flags and --listen, --log-level, --mode and the TLS flags: what `serve` reads and `check` validates.
void add_common_flags(CLI::App& app, CommonOptions& options);

// The whole file into `out` (secrets mounted as files: admin token, signing keys); false when unreadable.
bool read_whole_file(const std::string& path, std::string& out);

// A secret from the env var `name` or the file its `<name>_FILE` names (one line; trailing newlines and spaces are
// not part of it). Empty `out` when neither is set. False with `error` set when both are, or the file cannot be
// read or is empty. The secret itself is never part of `error`.
bool resolve_secret(const std::string& name, std::string& out, std::string& error);

// Prints "slipway: <message>" to stderr.
void print_error(const std::string& message);

// Loads and validates the concept file; prints every diagnostic to stderr. nullptr on failure.
std::unique_ptr<model::Concept> load_concept(const std::string& path);

// Where serve listens: --listen (or `off`) and the TLS listener with its files and HSTS.
struct Listeners {
  bool plain = true;  // false: --listen off (TLS only)
  std::string host;
  std::uint16_t port = 0;
  std::optional<http::TlsOptions> tls;
};

// Validates mode, log level, the listen addresses and the TLS flags (not the files); prints the problem and returns
// false when one is bad.
bool validate_common(const CommonOptions& options, Listeners& listeners);

// What check and serve both start with: loads the concept file, applies its `server:` settings under flags and
// env, validates the common options, and loads the TLS certificate and key (http::check_tls_files). nullptr on
// failure, the problem printed and `exit_code` set.
std::unique_ptr<model::Concept> load_configuration(CommonOptions& options, Listeners& listeners, int& exit_code);

// "127.0.0.1:8080", "[::1]:8443": a host and port as --listen takes them.
std::string host_port(const std::string& host, std::uint16_t port);

// How a command opens the database: read-only for inspection, and the observability callbacks.
struct OpenOptions {
  bool read_only = false;
  // PostgreSQL: what this process's connections are called (a serving instance names its concept's version).
  std::string application_name = "slipway";
  std::function<void(double seconds)> on_statement;
  std::function<void(std::size_t batch, double commit_seconds)> on_commit;
};

// The PostgreSQL URL with its password replaced by "***", for messages.
std::string redact_url(const std::string& url);

// Opens the database the options name: PostgreSQL when `database` is set (nothing is created in a read-only
// open), else SQLite in <data>/slipway.db (the data directory is created 0700 when missing, unless read-only).
// nullptr on failure, printed.
std::unique_ptr<storage::RecordStore> open_storage(const model::Concept& concept_file, const CommonOptions& options,
                                                   const Clock& clock, OpenOptions open = {});

// A migration plan from the database's recorded snapshot to the file; `fresh`: the database has no history yet.
struct SchemaPlan : sql::MigrationPlan {
  bool fresh = false;
};
// Plans, then settles every data-dependent step against the rows (SchemaManager::assess). Prints the problem and
// returns nullopt on failure.
std::optional<SchemaPlan> plan_schema(storage::RecordStore& storage, const model::Concept& concept_file);

// For commands that work on the data (user, apikey): opens the database and checks that its schema matches the
// file (else one line pointing to `migrate apply`). `read_only`: inspection beside a running server. nullptr on
// failure, printed.
std::unique_ptr<storage::RecordStore> open_current_storage(const model::Concept& concept_file,
                                                                     const CommonOptions& options, const Clock& clock,
                                                                     bool read_only);

// "user@host" for the migration history.
std::string whoami();

}  // namespace slipway::cli
