#include "auth/sodium_init.h"

#include <sodium.h>

#include <cstdlib>

namespace slipway::auth {

void ensure_sodium() {
  static const bool ready = sodium_init() >= 0;  // 0: initialised now, 1: already was, -1: failed
  if (!ready) std::abort();
}

}  // namespace slipway::auth
