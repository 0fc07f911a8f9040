#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "storage/sqlite/connection.h"

#ifndef SLIPWAY_VERSION
#define SLIPWAY_VERSION "0.0.0"
#endif

namespace slipway::cli {

void add_version(CLI::App& root, Run& run) {
  auto* cmd = root.add_subcommand("version", "Print the version");
  cmd->callback([&run] {
    run = [] {
      // The SQLite of the shared library actually loaded, not of the headers: what bug reports need.
      std::cout << "slipway " SLIPWAY_VERSION " (sqlite " << storage::sqlite::sqlite_library_version() << ")\n";
      return kExitOk;
    };
  });
}

}  // namespace slipway::cli
