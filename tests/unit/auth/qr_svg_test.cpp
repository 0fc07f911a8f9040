#include "auth/qr_svg.h"

#include <gtest/gtest.h>

namespace slipway::auth {
namespace {

TEST(QrSvg, DrawsAnSvgDocument) {
  auto svg = qr_svg("otpauth://totp/app:a@example.com?secret=MZXW6YTBOI");
  ASSERT_TRUE(svg.has_value());
  EXPECT_TRUE(svg->starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_NE(svg->find("<path"), std::string::npos);
  EXPECT_TRUE(svg->ends_with("</svg>"));
  EXPECT_FALSE(qr_svg(std::string(8000, 'x')).has_value());  // beyond a QR code's capacity
}

}  // namespace
}  // namespace slipway::auth
