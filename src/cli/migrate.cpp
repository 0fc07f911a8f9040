#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "storage/sql/migration_planner.h"

namespace slipway::cli {
namespace {

struct Loaded {
  SystemClock clock;  // outlives `storage`, which keeps a reference
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  sql::MigrationPlan plan;
};

// Loads the file, opens the database and plans (each data-dependent step settled against the rows). `plan` and
// `status` only read, so they open the database for inspection and work next to a running server; `apply` takes
// the database's lock, which a running server holds. Returns an exit code != 0 on failure.
int load_and_plan(const CommonOptions& o, bool read_only, Loaded& out) {
  out.concept_file = load_concept(o.config);
  if (!out.concept_file) return kExitConcept;
  OpenOptions so;
  so.read_only = read_only;
  out.storage = open_storage(*out.concept_file, o, out.clock, std::move(so));
  if (!out.storage) return kExitRuntime;
  auto plan = plan_schema(*out.storage, *out.concept_file);
  if (!plan) return kExitRuntime;
  out.plan = std::move(*plan);
  return kExitOk;
}

}  // namespace

void add_migrate(CLI::App& root, Run& run) {
  auto* migrate = root.add_subcommand("migrate", "Compare the concept file with the database and migrate it");
  migrate->require_subcommand(1);
  auto opts = std::make_shared<CommonOptions>();

  auto* plan = migrate->add_subcommand("plan", "Print the SQL a migration would run, each step safe or DESTRUCTIVE");
  add_file_flags(*plan, *opts);
  plan->callback([&run, opts] {
    run = [opts]() -> int {
      Loaded l;
      if (int rc = load_and_plan(*opts, /*read_only=*/true, l)) return rc;
      std::cout << l.plan.to_text();
      return kExitOk;
    };
  });

  auto* apply = migrate->add_subcommand("apply", "Run the plan in one transaction and record it in the history");
  add_file_flags(*apply, *opts);
  auto allow = std::make_shared<bool>(false);
  apply->add_flag("--allow-destructive", *allow, "Allow steps that drop or narrow data");
  apply->callback([&run, opts, allow] {
    run = [opts, allow]() -> int {
      Loaded l;
      if (int rc = load_and_plan(*opts, /*read_only=*/false, l)) return rc;
      if (l.plan.empty()) {
        std::cout << "nothing to do: the database matches " << opts->config << "\n";
        return kExitOk;
      }
      if (l.plan.has_blocked()) {
        std::cerr << l.plan.to_text();
        print_error("the plan has a BLOCKED step that no flag can apply; fix the data it names, then run again");
        return kExitDestructive;
      }
      if (l.plan.has_destructive() && !*allow) {
        std::cerr << l.plan.to_text();
        print_error("the plan has destructive steps; review them and run again with --allow-destructive");
        return kExitDestructive;
      }
      if (Status st = l.storage->apply(l.plan, whoami(), *allow); !st) {
        print_error(st.error().detail + (st.error().cause.empty() ? "" : " (" + st.error().cause + ")"));
        return kExitRuntime;
      }
      std::cout << l.plan.to_text() << "applied (checksum " << l.plan.checksum.substr(0, 12) << ")\n";
      return kExitOk;
    };
  });

  auto* status = migrate->add_subcommand("status", "Show the migration history and whether the database matches the file");
  add_file_flags(*status, *opts);
  status->callback([&run, opts] {
    run = [opts]() -> int {
      Loaded l;
      if (int rc = load_and_plan(*opts, /*read_only=*/true, l)) return rc;
      auto history = l.storage->history();
      if (!history) {
        print_error("cannot read the migration history: " + history.error().cause);
        return kExitRuntime;
      }
      auto system = l.storage->system_history();
      if (!system) {
        print_error("cannot read the system migration history: " + system.error().detail);
        return kExitRuntime;
      }
      std::cout << "system schema (slipway's own tables):\n";
      for (const auto& h : *system) {
        std::cout << "  system " << h.version << "  "
                  << (h.applied_at.empty() ? std::string("pending (applied when slipway next opens the database for writing)")
                                           : h.applied_at + "  by " + h.applied_by)
                  << "  " << h.name << "\n";
      }
      std::cout << "concept schema (" << opts->config << "):\n";
      if (history->empty()) std::cout << "  no migrations applied yet\n";
      for (const auto& h : *history) {
        std::cout << "  version " << h.version << "  " << h.applied_at << "  by " << h.applied_by << "  checksum "
                  << h.checksum.substr(0, 12) << "\n";
      }
      if (l.plan.empty()) {
        std::cout << "up to date: the database matches " << opts->config << "\n";
        return kExitOk;
      }
      std::cout << "pending: the database differs from " << opts->config << " (" << l.plan.steps.size()
                << " steps; see slipway migrate plan)\n";
      return kExitSchemaDiffers;
    };
  });
}

}  // namespace slipway::cli
