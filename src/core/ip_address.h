// IP addresses and networks as slipway compares them: the client address of a request (its bucket in the rate
// limiter) and the trusted proxies' networks (`server: trusted_proxies`). IPv4 is held IPv4-mapped, so one
// comparison serves both families and "::ffff:192.0.2.1" is the same client as "192.0.2.1".
// Thread safety: value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace slipway {

struct IpAddress {
  std::array<std::uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
  bool v4() const;
  // What one client is counted as: an IPv4 address, or the /64 of an IPv6 one (a host is routinely given a whole
  // /64, so single IPv6 addresses would limit nobody). Raw bytes, for hashing.
  std::string client_key() const;
  std::string to_string() const;  // "192.0.2.1", "2001:db8::1"
};

// Dotted IPv4 or RFC 4291 text IPv6 (no zone, no brackets, no port); nullopt otherwise.
std::optional<IpAddress> parse_ip(std::string_view text);

struct IpNetwork {
  IpAddress base;   // with the bits past the prefix cleared
  int prefix = 0;   // of the 128-bit (IPv4-mapped) form
  bool contains(const IpAddress& a) const;
};

// "10.0.0.0/8", "2001:db8::/32", or one address ("127.0.0.1" = /32, "::1" = /128). The address must have no bits
// set past the prefix ("10.0.0.1/8" is refused: the writer meant one address or one network, not both).
std::optional<IpNetwork> parse_network(std::string_view text);

}  // namespace slipway
