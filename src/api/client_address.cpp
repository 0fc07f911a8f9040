#include "api/client_address.h"

#include <algorithm>

#include "core/ascii.h"

namespace slipway::api {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A node (RFC 7239 §6) as address text: quotes, an IPv6 literal's brackets and a port removed; "unknown" and
// obfuscated identifiers stay as they are (and then fail to parse as an address). X-Forwarded-For entries get the
// same treatment: some proxies write "192.0.2.1:4711" or "[2001:db8::1]" there too.
std::string_view node_address(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (!v.empty() && v.front() == '[') {
    const std::size_t close = v.find(']');
    return close == std::string_view::npos ? std::string_view() : v.substr(1, close - 1);
  }
  if (const std::size_t colon = v.find(':');
      colon != std::string_view::npos && v.find(':', colon + 1) == std::string_view::npos)
    return v.substr(0, colon);  // IPv4 with a port
  return v;
}

// The `for=` node of one Forwarded element ("for=192.0.2.1;proto=https"), or empty.
std::string_view for_node(std::string_view element) {
  std::string_view node;
  std::size_t p = 0;
  while (p <= element.size()) {
    std::size_t semi = element.find(';', p);
    if (semi == std::string_view::npos) semi = element.size();
    const std::string_view pair = trim(element.substr(p, semi - p));
    if (pair.size() > 4 && ascii_istarts_with(pair, "for=")) node = pair.substr(4);
    p = semi + 1;
  }
  return node;
}

}  // namespace

std::vector<std::string_view> forwarded_hops(const http::Request& request, bool forwarded) {
  std::vector<std::string_view> hops;
  const std::string_view name = forwarded ? "Forwarded" : "X-Forwarded-For";
  for (const auto& [header, value] : request.headers) {
    if (!ascii_iequals(header, name)) continue;
    std::size_t start = 0;
    bool quoted = false;
    for (std::size_t i = 0; i <= value.size(); ++i) {
      if (forwarded && i < value.size() && value[i] == '"') quoted = !quoted;  // X-Forwarded-For has no quoting
      if (i < value.size() && (value[i] != ',' || quoted)) continue;
      const std::string_view element = trim(value.substr(start, i - start));
      start = i + 1;
      hops.push_back(node_address(forwarded ? for_node(element) : element));
    }
  }
  return hops;
}

ClientAddress::ClientAddress(const model::ServerSettings& server)
    : trusted_(server.trusted_proxies),
      forwarded_(server.client_address_header == model::ServerSettings::AddressHeader::kForwarded) {}

bool ClientAddress::trusted(const IpAddress& a) const {
  return std::any_of(trusted_.begin(), trusted_.end(), [&](const IpNetwork& n) { return n.contains(a); });
}

IpAddress ClientAddress::resolve(const IpAddress& peer, const http::Request& request) const {
  if (!trusted(peer)) return peer;
  const std::vector<std::string_view> hops = forwarded_hops(request, forwarded_);
  IpAddress client = peer;
  for (auto it = hops.rbegin(); it != hops.rend() && trusted(client); ++it) {
    const auto hop = parse_ip(*it);
    if (!hop) break;
    client = *hop;
  }
  return client;
}

}  // namespace slipway::api
