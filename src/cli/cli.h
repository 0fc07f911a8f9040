// The command line: one file per command, wired here. Exit codes (docs/operations.md):
//   0 success · 1 runtime failure (cannot listen, database error) · 2 usage error (bad flag or value)
//   3 the concept file is invalid · 4 the database schema differs from the file (serve without --migrate,
//   or `migrate status` when not up to date) · 5 a plan has destructive steps and --allow-destructive was not given
#pragma once

namespace slipway::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntime = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitConcept = 3;
inline constexpr int kExitSchemaDiffers = 4;
inline constexpr int kExitDestructive = 5;
inline constexpr int kExitAuditBroken = 6;  // `audit verify`: the chain is broken

int run(int argc, char** argv);

}  // namespace slipway::cli
