#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/concept/starter.h"

namespace slipway::cli {

void add_init(CLI::App& root, Run& run) {
  auto* cmd = root.add_subcommand("init", "Write a commented starter slipway.yaml into DIR (default: .)");
  auto dir = std::make_shared<std::string>(".");
  cmd->add_option("dir", *dir, "Directory to create the file in")->capture_default_str();
  cmd->callback([&run, dir] {
    run = [dir]() -> int {
      namespace fs = std::filesystem;
      std::error_code ec;
      fs::create_directories(*dir, ec);
      if (ec) {
        print_error("cannot create " + *dir + ": " + ec.message());
        return kExitRuntime;
      }
      const fs::path file = fs::path(*dir) / "slipway.yaml";
      if (fs::exists(file, ec)) {
        print_error(file.string() + " already exists; not overwriting it");
        return kExitRuntime;
      }
      std::ofstream out(file, std::ios::out | std::ios::trunc);
      out << model::starter_concept();
      out.close();
      if (!out) {
        print_error("cannot write " + file.string());
        return kExitRuntime;
      }
      std::cout << "wrote " << file.string() << "\nnext: slipway serve --mode dev --config " << file.string() << "\n";
      return kExitOk;
    };
  });
}

}  // namespace slipway::cli
