// Internal to the loader: binds the collected rules against the final Concept and maps an expression error's
// byte offset back to a file column.
// Thread safety: one call per load.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "core/concept/collection_parser.h"
#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

// The file position of byte `offset` of a rule's text. Exact when the scalar is written verbatim (plain, or
// quoted without escapes, on one line); otherwise the position of the scalar itself.
SourceLoc expression_loc(const ParseContext& ctx, const YAML::Node& scalar, std::size_t offset);

// REQUIRES: `concept_file` is final (heap-allocated, collections no longer added or moved): bound rules point
// into it. `broken[i]` names the fields of collection i that were skipped; errors about them are not repeated.
void bind_rules(ParseContext& ctx, Concept& concept_file, const std::vector<PendingRule>& rules,
                const std::vector<std::set<std::string, std::less<>>>& broken);

}  // namespace slipway::model
