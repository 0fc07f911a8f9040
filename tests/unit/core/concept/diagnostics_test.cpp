#include "core/concept/diagnostics.h"

#include <gtest/gtest.h>

namespace slipway::model {
namespace {

TEST(Diagnostic, PrintsFileLineColumnMessage) {
  Diagnostic d{"slipway.yaml", 4, 7, "unknown key 'requird'"};
  EXPECT_EQ(d.to_string(), "slipway.yaml:4:7: unknown key 'requird'");
}

}  // namespace
}  // namespace slipway::model
