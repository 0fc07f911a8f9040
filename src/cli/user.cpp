// `slipway user create|list|set-roles|disable`: the users of a concept with `auth:`, from the command line (first
// admin, automation). Writes take the database's lock, so they run while no server holds it (or use the admin
// API); `list` only reads and works beside a running server. Passwords are read from stdin (one line) or a file,
// never from the command line (it would show in `ps` and shell history). Every write is audited, actor
// `cli:<user@host>`.
#include <CLI/CLI.hpp>
#include <fstream>
#include <future>
#include <iostream>

#include "api/record_input.h"
#include "auth/password.h"
#include "auth/password_policy.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/ascii.h"
#include "core/json_writer.h"

namespace slipway::cli {
namespace {

struct UserOptions {
  CommonOptions common;
  std::string email;
  std::string roles;  // comma-separated
  std::string password_file;
  std::vector<std::string> fields;  // name=value
  bool enable = false;
};

std::vector<std::string> split_roles(const std::string& text) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= text.size() && !text.empty()) {
    std::size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    std::string r = text.substr(pos, comma - pos);
    if (!r.empty()) out.push_back(r);
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Every role must be declared in the file; prints and returns false otherwise.
bool check_roles(const std::vector<std::string>& roles, const model::AuthSettings& auth) {
  for (const auto& r : roles) {
    if (!auth.has_role(r)) {
      print_error("unknown role '" + r + "': the concept file's auth.roles are " + [&] {
        std::string all;
        for (const auto& d : auth.roles) all += (all.empty() ? "" : ", ") + d;
        return all;
      }());
      return false;
    }
  }
  return true;
}

Principal cli_actor() {
  Principal p = Principal::bootstrap_admin();
  p.id = "cli:" + whoami();
  return p;
}

storage::AuditEntry audit(const std::string& action, const std::string& user_id) {
  storage::AuditEntry e;
  e.action = action;
  e.actor_kind = "admin";
  e.actor_id = "cli:" + whoami();
  e.collection = std::string(model::kUsersCollection);
  e.record_id = user_id;
  return e;
}

// Loads the concept (it must have `auth:`) and opens the database. 0 or an exit code.
int open_identity(const UserOptions& o, bool read_only, std::unique_ptr<model::Concept>& concept_file,
                  std::unique_ptr<storage::RecordStore>& storage, const Clock& clock) {
  concept_file = load_concept(o.common.config);
  if (!concept_file) return kExitConcept;
  if (!concept_file->auth) {
    print_error(o.common.config + " has no `auth:` section: there are no users");
    return kExitUsage;
  }
  storage = open_current_storage(*concept_file, o.common, clock, read_only);
  return storage ? kExitOk : kExitRuntime;
}

Result<storage::Account> account_by_email(storage::Storage& s, const std::string& email) {
  std::string normal = email;
  ascii_to_lower(normal);
  auto account = s.find_account_by_email(normal);
  if (!account) return std::move(account).error();
  if (!*account) return Problem::make(ProblemCode::kNotFound, "no user has the address " + email);
  return std::move(**account);
}

int update(const UserOptions& o, std::optional<std::vector<std::string>> roles, std::optional<bool> disabled) {
  SystemClock clock;
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  if (int rc = open_identity(o, false, concept_file, storage, clock)) return rc;
  if (roles && !check_roles(*roles, *concept_file->auth)) return kExitUsage;
  auto account = account_by_email(*storage, o.email);
  if (!account) {
    print_error(account.error().detail);
    return kExitRuntime;
  }
  std::vector<storage::AuditEntry> entries;
  if (roles) entries.push_back(audit("user.roles.set", account->user_id));
  if (disabled) entries.push_back(audit(*disabled ? "user.disable" : "user.enable", account->user_id));
  std::promise<Result<storage::Account>> done;
  storage->update_account({account->user_id, roles, disabled, clock.now_ms()}, std::move(entries),
                          [&done](Result<storage::Account> r) { done.set_value(std::move(r)); });
  auto updated = done.get_future().get();
  storage->close();
  if (!updated) {
    print_error(updated.error().detail);
    return kExitRuntime;
  }
  std::string roles_text;
  for (const auto& r : updated->roles) roles_text += (roles_text.empty() ? "" : ",") + r;
  std::cout << updated->user_id << "  " << updated->email << "  roles: " << (roles_text.empty() ? "-" : roles_text)
            << (updated->disabled ? "  disabled" : "") << "\n";
  return kExitOk;
}

int create(const UserOptions& o) {
  SystemClock clock;
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  if (int rc = open_identity(o, false, concept_file, storage, clock)) return rc;
  const model::AuthSettings& auth = *concept_file->auth;
  std::vector<std::string> roles = o.roles.empty() && auth.default_role
                                       ? std::vector<std::string>{*auth.default_role}
                                       : split_roles(o.roles);
  if (!check_roles(roles, auth)) return kExitUsage;
  std::string password;
  if (!o.password_file.empty()) {
    std::ifstream in(o.password_file, std::ios::binary);
    if (!in || !std::getline(in, password)) {
      print_error("cannot read a password from " + o.password_file);
      return kExitRuntime;
    }
  } else if (!std::getline(std::cin, password)) {
    print_error("give the password on stdin (one line) or with --password-file");
    return kExitUsage;
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (auto why = auth::check_password(password, {auth.password_min_length, 1024})) {
    print_error("the password " + *why);
    return kExitUsage;
  }
  // The users record is validated like a sign-up's: the e-mail and any --field name=value (JSON, or else text).
  std::string body;
  JsonWriter w(body);
  w.begin_object().key("email").string(o.email).key("password").string(password);
  for (const auto& f : o.fields) {
    const auto eq = f.find('=');
    if (eq == std::string::npos || eq == 0) {
      print_error("--field wants name=value, got '" + f + "'");
      return kExitUsage;
    }
    w.key(f.substr(0, eq));
    const std::string value = f.substr(eq + 1);
    const bool json_like = !value.empty() && (value == "true" || value == "false" || value == "null" ||
                                              value.find_first_not_of("-0123456789.eE+") == std::string::npos);
    if (json_like) w.raw(value); else w.string(value);
  }
  w.end_object();
  const model::Collection& users = *concept_file->users();
  auto parsed = api::parse_sign_up_body(body, users);
  if (!parsed) {
    std::string what = parsed.error().detail;
    for (const auto& e : parsed.error().errors) what += " " + e.field + ": " + e.message + ";";
    print_error(what);
    return kExitUsage;
  }
  auto& stored_email =
      std::get<std::string>(parsed->values[static_cast<std::size_t>(users.field_index(model::kUsersEmailField))]);
  ascii_to_lower(stored_email);
  const std::string email = stored_email;  // the values move into the command below
  auto hash = auth::hash_password(password, {});
  if (!hash) {
    print_error(hash.error().detail);
    return kExitRuntime;
  }
  storage::CreateCommand cmd;
  cmd.collection = &users;
  cmd.values = std::move(parsed->values);
  cmd.account = storage::NewAccount{std::move(*hash), roles};
  cmd.audit.push_back(audit("user.create", ""));
  std::promise<Result<storage::CreateResult>> done;
  storage->create(std::move(cmd), cli_actor(), [&done](Result<storage::CreateResult> r) { done.set_value(std::move(r)); });
  auto created = done.get_future().get();
  storage->close();
  if (!created) {
    print_error(created.error().code == ProblemCode::kConflict ? "a user with the address " + email + " exists already"
                                                               : created.error().detail);
    return kExitRuntime;
  }
  std::cout << created->record.id << "  " << email << "\n";
  return kExitOk;
}

int list(const UserOptions& o) {
  SystemClock clock;
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  if (int rc = open_identity(o, true, concept_file, storage, clock)) return rc;
  std::string cursor;
  do {
    storage::ListQuery q;
    q.collection = concept_file->users();
    q.limit = 500;
    q.cursor = cursor;
    auto page = storage->list(q, Principal::bootstrap_admin());
    if (!page) {
      print_error(page.error().detail);
      return kExitRuntime;
    }
    for (const auto& r : page->items) {
      auto account = storage->find_account(r.id);
      std::string roles;
      bool disabled = false;
      if (account && *account) {
        for (const auto& role : (*account)->roles) roles += (roles.empty() ? "" : ",") + role;
        disabled = (*account)->disabled;
      }
      const auto& email = r.values[static_cast<std::size_t>(q.collection->field_index(model::kUsersEmailField))];
      std::cout << r.id << "  " << std::get<std::string>(email) << "  roles: " << (roles.empty() ? "-" : roles)
                << (disabled ? "  disabled" : "") << "  created " << r.created << "\n";
    }
    cursor = page->next_cursor.value_or("");
  } while (!cursor.empty());
  return kExitOk;
}

}  // namespace

void add_user(CLI::App& root, Run& run) {
  auto* user = root.add_subcommand("user", "Manage the users of a concept file with `auth:`");
  user->require_subcommand(1);
  auto o = std::make_shared<UserOptions>();

  auto* create_cmd = user->add_subcommand("create", "Create a user; the password is read from stdin (one line)");
  add_file_flags(*create_cmd, o->common);
  create_cmd->add_option("--email", o->email, "The user's e-mail address")->required();
  create_cmd->add_option("--roles", o->roles, "Comma-separated roles (default: the file's default_role)");
  create_cmd->add_option("--password-file", o->password_file, "Read the password from this file instead of stdin");
  create_cmd->add_option("--field", o->fields, "Another users field, name=value (repeatable)");
  create_cmd->callback([&run, o] { run = [o] { return create(*o); }; });

  auto* list_cmd = user->add_subcommand("list", "List users with their roles (works beside a running server)");
  add_file_flags(*list_cmd, o->common);
  list_cmd->callback([&run, o] { run = [o] { return list(*o); }; });

  auto* roles_cmd = user->add_subcommand("set-roles", "Replace a user's roles (their tokens refresh into the new ones)");
  add_file_flags(*roles_cmd, o->common);
  roles_cmd->add_option("--email", o->email, "The user's e-mail address")->required();
  roles_cmd->add_option("--roles", o->roles, "Comma-separated roles (empty: none)")->required();
  roles_cmd->callback([&run, o] { run = [o] { return update(*o, split_roles(o->roles), std::nullopt); }; });

  auto* disable_cmd = user->add_subcommand("disable", "Disable a user and end all their sessions (--enable: undo)");
  add_file_flags(*disable_cmd, o->common);
  disable_cmd->add_option("--email", o->email, "The user's e-mail address")->required();
  disable_cmd->add_flag("--enable", o->enable, "Enable the user again");
  disable_cmd->callback([&run, o] { run = [o] { return update(*o, std::nullopt, !o->enable); }; });
}

}  // namespace slipway::cli
