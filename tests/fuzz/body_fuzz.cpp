// libFuzzer target: any bytes as a POST and a PATCH body for the blog's posts. Must never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "blog_example.h"
#include "api/record_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto* posts = slipway::fuzz::blog_example().find_collection("posts");
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)slipway::api::parse_create_body(body, *posts);
  (void)slipway::api::parse_patch_body(body, *posts);
  return 0;
}
