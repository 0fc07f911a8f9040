#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "cli/admin_token.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace slipway::cli {
namespace {

struct CheckOptions {
  CommonOptions common;
  bool strict = false;
};

// Validates what `serve` would read before it opens the database. Errors (a bad file, flag or configured token)
// fail as serve would; what serve would only refuse in production mode, a missing admin token, is a warning:
// `check` runs on developer machines and in CI where no production secret exists (the starter file tells users
// to run it). --strict is for deploy pipelines: there a warning fails the check with serve's exit code.
int check(CheckOptions& o) {
  Listeners listeners;
  int exit_code = kExitOk;
  auto concept_file = load_configuration(o.common, listeners, exit_code);
  if (!concept_file) return exit_code;
  const bool dev = o.common.mode == "dev";
  std::vector<std::string> warnings;
  std::string token, error;
  if (admin_token_configured()) {  // a configured token must be usable in every mode
    if (!resolve_admin_token(dev, o.common.data, /*create=*/false, token, error)) {
      print_error(error);
      return kExitUsage;
    }
  } else if (!dev) {
    warnings.push_back(
        "SLIPWAY_ADMIN_TOKEN is not set (nor SLIPWAY_ADMIN_TOKEN_FILE): serve --mode production will refuse to start");
  }
  for (const std::string& w : warnings) print_error(o.strict ? w + " (--strict)" : "warning: " + w);
  if (o.strict && !warnings.empty()) return kExitUsage;
  std::cout << o.common.config << ": ok (" << concept_file->collections.size() << " collections, mode " << o.common.mode
            << ", listen " << o.common.listen;
  if (listeners.tls)
    std::cout << ", tls listen " << o.common.tls_listen << ", certificate " << listeners.tls->cert_file;
  std::cout << ")\n";
  return kExitOk;
}

}  // namespace

void add_check(CLI::App& root, Run& run) {
  auto* cmd = root.add_subcommand("check", "Validate the concept file, flags and environment without starting");
  auto opts = std::make_shared<CheckOptions>();
  add_common_flags(*cmd, opts->common);
  cmd->add_flag("--strict", opts->strict,
                "Fail (exit 2) on warnings too, e.g. a missing production admin token: for deploy pipelines");
  cmd->callback([&run, opts] { run = [opts] { return check(*opts); }; });
}

}  // namespace slipway::cli
