#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "cli/common.h"

namespace slipway::cli {

int run(int argc, char** argv) {
  CLI::App root{"slipway: a backend application server for a concept file (slipway.yaml)", "slipway"};
  root.require_subcommand(1);
  Run run;
  add_init(root, run);
  add_check(root, run);
  add_serve(root, run);
  add_migrate(root, run);
  add_version(root, run);
  try {
    root.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return root.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return root.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line on stderr, with the usage hint; exit 2 for every usage error.
    std::string what = e.what();
    if (what.empty()) what = "invalid command line";
    print_error(what + " (see slipway --help)");
    return kExitUsage;
  }
  return run ? run() : kExitUsage;
}

}  // namespace slipway::cli
