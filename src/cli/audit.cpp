// `slipway audit verify`: walks the audit log's hash chain and names the first bad entry (docs/operations.md#audit).
// Opens the database read-only, so it runs next to a server that keeps appending.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace slipway::cli {

void add_audit(CLI::App& root, Run& run) {
  auto* audit = root.add_subcommand("audit", "Check the tamper-evident audit log");
  audit->require_subcommand(1);
  auto opts = std::make_shared<CommonOptions>();
  auto* verify = audit->add_subcommand("verify", "Verify the audit log's hash chain and name the first bad entry");
  add_file_flags(*verify, *opts);
  verify->callback([&run, opts] {
    run = [opts]() -> int {
      SystemClock clock;
      auto concept_file = load_concept(opts->config);
      if (!concept_file) return kExitConcept;
      OpenOptions so;
      so.read_only = true;
      auto storage = open_storage(*concept_file, *opts, clock, std::move(so));
      if (!storage) return kExitRuntime;
      auto report = storage->verify_audit();
      if (!report) {
        print_error("cannot read the audit log: " + report.error().detail);
        return kExitRuntime;
      }
      if (report->first_bad) {
        print_error("audit log broken at entry " + std::to_string(*report->first_bad) + ": " + report->why + " (" +
                    std::to_string(report->entries) + " entries before it verify)");
        return kExitAuditBroken;
      }
      std::cout << "ok: " << report->entries << " entries verify; head " << report->head_seq << " "
                << report->head_hash << "\n";
      return kExitOk;
    };
  });
}

}  // namespace slipway::cli
