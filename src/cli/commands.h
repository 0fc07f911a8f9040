// One add_* per command file. Each registers its subcommand on `root` and, when chosen, sets `run`.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace slipway::cli {

using Run = std::function<int()>;

void add_init(CLI::App& root, Run& run);
void add_check(CLI::App& root, Run& run);
void add_serve(CLI::App& root, Run& run);
void add_migrate(CLI::App& root, Run& run);
void add_version(CLI::App& root, Run& run);
void add_audit(CLI::App& root, Run& run);
void add_user(CLI::App& root, Run& run);
void add_apikey(CLI::App& root, Run& run);

}  // namespace slipway::cli
