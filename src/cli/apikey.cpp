// `slipway apikey create|list|revoke`: API keys for services, from the command line. The key is printed once by
// `create` (only its digest is kept). Writes take the database's lock, so they run while no server holds it (a
// running server learns of keys at its next start; use the admin API to change keys under a running server);
// `list` only reads and works beside it. Every write is audited, actor `cli:<user@host>`.
#include <CLI/CLI.hpp>
#include <future>
#include <iostream>

#include "auth/opaque_token.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/uuid7.h"

namespace slipway::cli {
namespace {

struct KeyOptions {
  CommonOptions common;
  std::string name;
  std::string roles;
  std::string expires;
  std::string id;
};

std::string fmt_optional(const std::optional<std::int64_t>& ms) { return ms ? format_rfc3339_ms(*ms) : "-"; }

int open_keys(const KeyOptions& o, bool read_only, std::unique_ptr<model::Concept>& concept_file,
              std::unique_ptr<storage::RecordStore>& storage, const Clock& clock) {
  concept_file = load_concept(o.common.config);
  if (!concept_file) return kExitConcept;
  storage = open_current_storage(*concept_file, o.common, clock, read_only);
  return storage ? kExitOk : kExitRuntime;
}

storage::AuditEntry audit(const std::string& action, const std::string& key_id) {
  storage::AuditEntry e;
  e.action = action;
  e.actor_kind = "admin";
  e.actor_id = "cli:" + whoami();
  e.detail = "{\"api_key\":\"" + key_id + "\"}";
  return e;
}

int create(const KeyOptions& o) {
  SystemClock clock;
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  if (int rc = open_keys(o, false, concept_file, storage, clock)) return rc;
  if (o.name.empty() || o.name.size() > 100) {
    print_error("--name must be 1 to 100 bytes");
    return kExitUsage;
  }
  storage::ApiKey key;
  std::size_t pos = 0;
  while (pos < o.roles.size()) {
    std::size_t comma = o.roles.find(',', pos);
    if (comma == std::string::npos) comma = o.roles.size();
    std::string r = o.roles.substr(pos, comma - pos);
    if (!r.empty()) {
      if (!concept_file->auth || !concept_file->auth->has_role(r)) {
        print_error("unknown role '" + r + "': roles come from the concept file's auth.roles");
        return kExitUsage;
      }
      key.roles.push_back(r);
    }
    pos = comma + 1;
  }
  std::sort(key.roles.begin(), key.roles.end());
  key.roles.erase(std::unique(key.roles.begin(), key.roles.end()), key.roles.end());
  key.created_ms = clock.now_ms();
  if (!o.expires.empty()) {
    std::int64_t ms = 0;
    if (!parse_rfc3339(o.expires, ms) || ms <= key.created_ms) {
      print_error("--expires must be an RFC 3339 time in the future, like 2027-06-30T00:00:00Z");
      return kExitUsage;
    }
    key.expires_ms = ms;
  }
  Uuid7Generator ids(clock);
  key.id = ids.generate();
  key.name = o.name;
  key.created_by = "cli:" + whoami();
  const auth::ApiKeySecret secret = auth::generate_api_key();
  key.prefix = secret.prefix;
  key.secret_hash = auth::token_digest(secret.full);
  std::promise<Status> done;
  storage->create_api_key(key, {audit("api_key.create", key.id)}, [&done](Status st) { done.set_value(std::move(st)); });
  Status st = done.get_future().get();
  storage->close();
  if (!st) {
    print_error(st.error().detail);
    return kExitRuntime;
  }
  std::cout << "id " << key.id << "\nkey " << secret.full << "\n";
  std::cerr << "slipway: the key is shown once; store it now\n";
  return kExitOk;
}

int list(const KeyOptions& o) {
  SystemClock clock;
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  if (int rc = open_keys(o, true, concept_file, storage, clock)) return rc;
  auto keys = storage->list_api_keys();
  if (!keys) {
    print_error(keys.error().detail);
    return kExitRuntime;
  }
  for (const auto& k : *keys) {
    std::string roles;
    for (const auto& r : k.roles) roles += (roles.empty() ? "" : ",") + r;
    std::cout << k.id << "  slw_" << k.prefix << "_…  " << k.name << "  roles: " << (roles.empty() ? "-" : roles)
              << "  expires " << fmt_optional(k.expires_ms) << "  last used " << fmt_optional(k.last_used_ms)
              << (k.revoked_ms ? "  revoked " + format_rfc3339_ms(*k.revoked_ms) : "") << "\n";
  }
  return kExitOk;
}

int revoke(const KeyOptions& o) {
  SystemClock clock;
  std::unique_ptr<model::Concept> concept_file;
  std::unique_ptr<storage::RecordStore> storage;
  if (int rc = open_keys(o, false, concept_file, storage, clock)) return rc;
  std::promise<Status> done;
  storage->revoke_api_key(o.id, clock.now_ms(), {audit("api_key.revoke", o.id)},
                          [&done](Status st) { done.set_value(std::move(st)); });
  Status st = done.get_future().get();
  storage->close();
  if (!st) {
    print_error(st.error().code == ProblemCode::kNotFound ? "no live API key has the id " + o.id : st.error().detail);
    return kExitRuntime;
  }
  std::cout << "revoked " << o.id << "\n";
  return kExitOk;
}

}  // namespace

void add_apikey(CLI::App& root, Run& run) {
  auto* apikey = root.add_subcommand("apikey", "Manage API keys for services");
  apikey->require_subcommand(1);
  auto o = std::make_shared<KeyOptions>();

  auto* create_cmd = apikey->add_subcommand("create", "Create an API key and print it once");
  add_file_flags(*create_cmd, o->common);
  create_cmd->add_option("--name", o->name, "What the key is for")->required();
  create_cmd->add_option("--roles", o->roles, "Comma-separated roles the key acts with");
  create_cmd->add_option("--expires", o->expires, "RFC 3339 time after which the key stops working");
  create_cmd->callback([&run, o] { run = [o] { return create(*o); }; });

  auto* list_cmd = apikey->add_subcommand("list", "List API keys (never the secrets; works beside a running server)");
  add_file_flags(*list_cmd, o->common);
  list_cmd->callback([&run, o] { run = [o] { return list(*o); }; });

  auto* revoke_cmd = apikey->add_subcommand("revoke", "Revoke an API key by its id");
  add_file_flags(*revoke_cmd, o->common);
  revoke_cmd->add_option("id", o->id, "The key's id (from apikey list)")->required();
  revoke_cmd->callback([&run, o] { run = [o] { return revoke(*o); }; });
}

}  // namespace slipway::cli
