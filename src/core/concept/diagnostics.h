// Diagnostic: one problem found in the concept file, as "file:line:col: message". Every "unknown name" message
// appends a suggestion from core/did_you_mean.h (included here for the parsers that build diagnostics).
// Thread safety: plain values and pure functions.
#pragma once

#include <string>

#include "core/did_you_mean.h"

namespace slipway::model {

struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem is with the file as a whole (e.g. unreadable)
  int column = 0;  // 1-based byte column; 0 when unknown
  std::string message;

  // "file:line:col: message"
  std::string to_string() const;
};

}  // namespace slipway::model
