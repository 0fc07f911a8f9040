// slipway: entry point. Start-up exceptions are caught once here: one line on stderr and an exit code.
#include <exception>
#include <iostream>

#include "cli/cli.h"

int main(int argc, char** argv) {
  try {
    return slipway::cli::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "slipway: " << e.what() << "\n";
    return slipway::cli::kExitRuntime;
  }
}
