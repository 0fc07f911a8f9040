#include "core/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace slipway {
namespace {

constexpr std::array<std::uint8_t, 12> kMappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

bool IpAddress::v4() const { return std::equal(kMappedPrefix.begin(), kMappedPrefix.end(), bytes.begin()); }

std::string IpAddress::client_key() const {
  if (v4()) return std::string(reinterpret_cast<const char*>(bytes.data()) + 12, 4);
  return std::string(reinterpret_cast<const char*>(bytes.data()), 8);
}

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (v4()) ::inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof buf);
  else ::inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN] = {};
  std::copy(text.begin(), text.end(), buf);
  IpAddress a;
  if (text.find(':') == std::string_view::npos) {
    if (::inet_pton(AF_INET, buf, a.bytes.data() + 12) != 1) return std::nullopt;
    std::copy(kMappedPrefix.begin(), kMappedPrefix.end(), a.bytes.begin());
    return a;
  }
  if (::inet_pton(AF_INET6, buf, a.bytes.data()) != 1) return std::nullopt;
  return a;
}

bool IpNetwork::contains(const IpAddress& a) const {
  int bits = prefix;
  for (std::size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
    if ((a.bytes[i] & mask) != base.bytes[i]) return false;
  }
  return true;
}

std::optional<IpNetwork> parse_network(std::string_view text) {
  const std::size_t slash = text.find('/');
  const auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;
  IpNetwork n;
  n.base = *address;
  const int max = address->v4() ? 32 : 128;
  int prefix = max;
  if (slash != std::string_view::npos) {
    const std::string_view p = text.substr(slash + 1);
    const auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
    if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix < 0 || prefix > max) return std::nullopt;
  }
  n.prefix = address->v4() ? prefix + 96 : prefix;
  IpNetwork probe = n;
  // No bits past the prefix: clear them and compare.
  int bits = n.prefix;
  for (std::size_t i = 0; i < 16; ++i, bits -= 8) {
    const std::uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - bits));
    probe.base.bytes[i] &= mask;
  }
  if (probe.base.bytes != n.base.bytes) return std::nullopt;
  return n;
}

}  // namespace slipway
