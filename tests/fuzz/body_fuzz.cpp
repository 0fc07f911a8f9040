// libFuzzer target: any bytes as a POST and a PATCH body for the blog's posts. Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/record_input.h"
#include "core/concept/loader.h"

namespace {
const slipway::model::Concept& blog() {
  static auto loaded = slipway::model::load_concept_file(SLIPWAY_EXAMPLE);
  if (!loaded.ok()) __builtin_trap();
  return *loaded.concept_file;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* posts = blog().find_collection("posts");
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)slipway::api::parse_create_body(body, *posts);
  (void)slipway::api::parse_patch_body(body, *posts);
  return 0;
}
