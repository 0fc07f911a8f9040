#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/did_you_mean.h"

namespace slipway::cli {
namespace {

// CLI11 reports `slipway frobnicate` as "A subcommand is required": the unknown word counts as an extra argument,
// and extras are checked after the missing subcommand. So the command words (those before the first option) are
// walked here, before parsing, to name an unknown or missing command. nullopt: leave it to CLI11.
std::optional<std::string> command_word_error(const CLI::App& root, int argc, char** argv) {
  const CLI::App* app = &root;
  std::string path;  // the command words so far, for nested commands ("migrate ")
  for (int i = 1;; ++i) {
    const std::vector<const CLI::App*> commands = app->get_subcommands([](const CLI::App*) { return true; });
    if (commands.empty()) return std::nullopt;  // a command's own arguments from here on (init DIR)
    std::vector<std::string_view> names;
    std::string list;
    for (const CLI::App* c : commands) {
      names.push_back(c->get_name());
      list += (list.empty() ? "" : ", ") + c->get_name();
    }
    if (i == argc) {
      return "missing command" + (path.empty() ? "" : " after '" + path.substr(0, path.size() - 1) + "'") +
             ": expected " + list + " (see slipway " + path + "--help)";
    }
    const std::string word = argv[i];
    if (word.empty() || word[0] == '-') return std::nullopt;
    const CLI::App* next = nullptr;
    for (const CLI::App* c : commands) {
      if (c->check_name(word)) next = c;
    }
    if (next == nullptr) {
      const std::string hint = did_you_mean(word, names);
      return "unknown command '" + path + word + "'" + (hint.empty() ? ": expected " + list : hint);
    }
    path += word + " ";
    app = next;
  }
}

}  // namespace

int run(int argc, char** argv) {
  CLI::App root{"slipway: a backend application server for a concept file (slipway.yaml)", "slipway"};
  root.require_subcommand(1);
  Run run;
  add_init(root, run);
  add_check(root, run);
  add_serve(root, run);
  add_migrate(root, run);
  add_version(root, run);
  add_audit(root, run);
  add_user(root, run);
  add_apikey(root, run);
  if (auto error = command_word_error(root, argc, argv)) {
    print_error(*error);
    return kExitUsage;
  }
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
