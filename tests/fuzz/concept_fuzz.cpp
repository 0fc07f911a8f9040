// libFuzzer target: any bytes as a slipway.yaml. Must never crash or blow up memory; diagnostics are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/concept/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto r = slipway::model::load_concept_string(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
  if (r.ok() == r.diagnostics.size() > 0) __builtin_trap();  // exactly one of: a concept, or diagnostics
  return 0;
}
