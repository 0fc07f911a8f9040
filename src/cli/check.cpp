#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/admin_token.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace slipway::cli {

void add_check(CLI::App& root, Run& run) {
  auto* cmd = root.add_subcommand("check", "Validate the concept file, flags and environment without starting");
  auto opts = std::make_shared<CommonOptions>();
  add_common_flags(*cmd, *opts);
  cmd->callback([&run, opts] {
    run = [opts]() -> int {
      auto concept_file = load_concept(opts->config);
      if (!concept_file) return kExitConcept;
      apply_file_settings(*opts, *concept_file);
      std::string host;
      std::uint16_t port = 0;
      if (!validate_common(*opts, host, port)) return kExitUsage;
      std::string token, error;
      if (!resolve_admin_token(opts->mode == "dev", opts->data, /*create=*/false, token, error) &&
          (opts->mode != "dev" || admin_token_configured())) {
        print_error(error);
        return kExitUsage;
      }
      std::cout << opts->config << ": ok (" << concept_file->collections.size() << " collections, mode "
                << opts->mode << ", listen " << opts->listen << ")\n";
      return kExitOk;
    };
  });
}

}  // namespace slipway::cli
