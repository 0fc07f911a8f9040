#include "core/concept/diagnostics.h"

namespace slipway::model {

std::string Diagnostic::to_string() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

}  // namespace slipway::model
