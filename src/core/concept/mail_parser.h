// Internal to the loader: reading the top-level `smtp:` and `outbound:` sections (docs/concept-file.md#smtp).
// Thread safety: one call per load.
#pragma once

#include "core/concept/model.h"
#include "core/concept/parse_context.h"

namespace slipway::model {

void parse_smtp(ParseContext& ctx, const Entry& entry, std::string_view app, std::optional<SmtpSettings>& out);
void parse_outbound(ParseContext& ctx, const Entry& entry, OutboundSettings& out);

}  // namespace slipway::model
