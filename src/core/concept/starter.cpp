#include "core/concept/starter.h"

namespace slipway::model {
namespace {

constexpr std::string_view kStarter =
    R"yaml(# slipway.yaml: the concept of your application. slipway serves it as a REST API on SQLite:
#   GET/POST /api/v1/{collection}, GET/PATCH/DELETE /api/v1/{collection}/{id}
# Edit it, then run `slipway check` to validate it and `slipway migrate plan` to see what changes.

app: blog                     # lowercase letters, digits, '_' and '-'

collections:
  # Every record also has the system fields id (UUIDv7, sortable), created, updated and version.
  posts:
    fields:
      title:     { type: text, required: true, max: 200 }   # min/max on text count characters
      body:      { type: text }
      views:     { type: int, min: 0, default: 0 }
      published: { type: bool, default: false }
      status:    { type: enum, values: [draft, live], default: draft }
      tags:      { type: json }                             # any JSON value, stored as is
      slug:      { type: text, unique: true, pattern: '[a-z0-9-]+' }   # RE2, whole value must match
    # Indexes speed up filters and sorts: a list of field lists (system fields allowed).
    indexes:
      - [published, created]
    # Who may do what, in the same expression language as ?filter=.
    # An absent rule means admins only; "true" means everyone.
    rules:
      list: "published = true"
      view: "published = true"
      # create, update and delete are absent: only admins may write.
    body_limit: 256KiB          # largest accepted request body for this collection (default 1MiB)
)yaml";

}  // namespace

std::string_view starter_concept() { return kStarter; }

}  // namespace slipway::model
