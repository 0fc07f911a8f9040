#include <sqlite3.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"

#ifndef SLIPWAY_VERSION
#define SLIPWAY_VERSION "0.0.0"
#endif

namespace slipway::cli {

void add_version(CLI::App& root, Run& run) {
  auto* cmd = root.add_subcommand("version", "Print the version");
  cmd->callback([&run] {
    run = [] {
      std::cout << "slipway " SLIPWAY_VERSION " (sqlite " << sqlite3_libversion() << ")\n";
      return kExitOk;
    };
  });
}

}  // namespace slipway::cli
