#include "cli/common.h"

#include <fstream>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/cli.h"
#include "core/concept/loader.h"
#include "storage/sql/dialect.h"

namespace slipway::cli {

void add_file_flags(CLI::App& app, CommonOptions& o) {
  app.add_option("--config", o.config, "The concept file")->envname("SLIPWAY_CONFIG")->capture_default_str();
  app.add_option("--data", o.data, "The data directory (database, backups)")
      ->envname("SLIPWAY_DATA")
      ->capture_default_str();
}

void add_common_flags(CLI::App& app, CommonOptions& o) {
  add_file_flags(app, o);
  o.listen_options.push_back(
      app.add_option("--listen", o.listen, "HOST:PORT to listen on")->envname("SLIPWAY_LISTEN")->capture_default_str());
  o.log_level_options.push_back(app.add_option("--log-level", o.log_level, "debug|info|warn|error")
                                    ->envname("SLIPWAY_LOG_LEVEL")
                                    ->capture_default_str());
  app.add_option("--mode", o.mode, "dev|production")->envname("SLIPWAY_MODE")->capture_default_str();
}

void apply_file_settings(CommonOptions& o, const model::Concept& c) {
  auto given = [](const std::vector<CLI::Option*>& options) {
    for (const CLI::Option* opt : options)
      if (opt->count() > 0) return true;  // from the flag or its env var
    return false;
  };
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

bool validate_common(const CommonOptions& o, std::string& host, std::uint16_t& port) {
  if (o.mode != "dev" && o.mode != "production") {
    print_error("--mode must be dev or production, got '" + o.mode + "'");
    return false;
  }
  if (o.log_level != "debug" && o.log_level != "info" && o.log_level != "warn" && o.log_level != "error") {
    print_error("--log-level must be debug, info, warn or error, got '" + o.log_level + "'");
    return false;
  }
  const std::string& l = o.listen;
  std::size_t colon = l.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == l.size()) {
    print_error("--listen must be HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got '" + l + "'");
    return false;
  }
  host = l.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string p = l.substr(colon + 1);
  if (p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos || std::stoul(p) > 65535) {
    print_error("--listen port must be a number from 0 to 65535, got '" + p + "'");
    return false;
  }
  port = static_cast<std::uint16_t>(std::stoul(p));
  return true;
}

std::unique_ptr<storage::RecordStore> open_storage(const model::Concept& concept_file, const CommonOptions& o,
                                                             const Clock& clock, storage::sqlite::SqliteOptions so) {
  struct stat st {};
  if (stat(o.data.c_str(), &st) != 0) {
    // Inspection (`migrate plan|status`) creates nothing: a missing directory reads as an empty database.
    if (!so.read_only && mkdir(o.data.c_str(), 0700) != 0) {
      print_error("cannot create data directory " + o.data + ": " + std::strerror(errno));
      return nullptr;
    }
  } else if (!S_ISDIR(st.st_mode)) {
    print_error("--data " + o.data + " is not a directory");
    return nullptr;
  }
  so.path = o.data + "/slipway.db";
  auto opened = storage::sqlite::open_storage(concept_file, so, clock);
  if (!opened) {
    print_error("cannot open database " + so.path + ": " + opened.error().cause);
    return nullptr;
  }
  return std::move(*opened);
}

std::unique_ptr<model::Concept> load_configuration(CommonOptions& o, std::string& host, std::uint16_t& port,
                                                   int& exit_code) {
  auto concept_file = load_concept(o.config);
  if (!concept_file) {
    exit_code = kExitConcept;
    return nullptr;
  }
  apply_file_settings(o, *concept_file);
  if (!validate_common(o, host, port)) {
    exit_code = kExitUsage;
    return nullptr;
  }
  return concept_file;
}

std::optional<SchemaPlan> plan_schema(storage::RecordStore& storage, const model::Concept& concept_file) {
  auto snapshot = storage.current_snapshot();
  if (!snapshot) {
    print_error("cannot read the migration history: " + snapshot.error().cause);
    return std::nullopt;
  }
  auto plan = sql::plan_migration(*snapshot, concept_file, *sql::make_sqlite_dialect());
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
  storage::sqlite::SqliteOptions so;
  so.read_only = read_only;
  auto storage = open_storage(concept_file, options, clock, std::move(so));
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
