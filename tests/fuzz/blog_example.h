// The blog example concept, loaded once per fuzz process (its path comes from SLIPWAY_EXAMPLE).
#pragma once

#include "core/concept/loader.h"

namespace slipway::fuzz {

inline const model::Concept& blog_example() {
  static auto loaded = model::load_concept_file(SLIPWAY_EXAMPLE);
  if (!loaded.ok()) __builtin_trap();
  return *loaded.concept_file;
}

}  // namespace slipway::fuzz
