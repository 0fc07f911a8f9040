// A QR code (libqrencode) as a standalone SVG document, for the otpauth:// URI of a TOTP enrolment: a client shows
// it as an <img> (data: URI) or inline, with no QR library of its own.
// Thread safety: pure function (libqrencode's QRcode_encodeString is reentrant).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace slipway::auth {

// Black modules as one <path> on a white background with the 4-module quiet zone the standard asks for; error
// correction level M. nullopt when the text does not fit a QR code (more than ~2 KB) or libqrencode fails.
std::optional<std::string> qr_svg(std::string_view text);

}  // namespace slipway::auth
