#include "auth/qr_svg.h"

#include <qrencode.h>

#include <memory>

namespace slipway::auth {

std::optional<std::string> qr_svg(std::string_view text) {
  const std::string input(text);  // NUL-terminated for libqrencode
  std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeString(input.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
  if (!code) return std::nullopt;
  constexpr int kQuiet = 4;
  const int width = code->width;
  const int size = width + 2 * kQuiet;
  std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + std::to_string(size) + " " +
                    std::to_string(size) + "\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" "
                    "fill=\"#fff\"/><path fill=\"#000\" d=\"";
  for (int y = 0; y < width; ++y) {
    for (int x = 0; x < width; ++x) {
      // Bit 0 of each module byte is "dark" (qrencode.h).
      if ((code->data[y * width + x] & 1) == 0) continue;
      int run = 1;  // one horizontal run per path command keeps the document small
      while (x + run < width && (code->data[y * width + x + run] & 1) != 0) ++run;
      svg += "M" + std::to_string(x + kQuiet) + " " + std::to_string(y + kQuiet) + "h" + std::to_string(run) +
             "v1h-" + std::to_string(run) + "z";
      x += run - 1;
    }
  }
  svg += "\"/></svg>";
  return svg;
}

}  // namespace slipway::auth
