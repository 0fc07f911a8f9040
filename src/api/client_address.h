// ClientAddress: the address a request is limited, throttled, audited and logged under (docs/security.md#client-
// address). Without trusted proxies it is the TCP peer's; forwarding headers are then never read (anyone can write
// them). With `server: trusted_proxies`, a request whose peer is one of them has its client read from the one
// header the file names (X-Forwarded-For or RFC 7239 Forwarded), from the right: each hop appends the address that
// connected to it, so every entry read was written by a trusted proxy, and the first that is not a trusted proxy is
// the client. Entries a client wrote itself sit left of that and are never reached; a malformed entry, `unknown` or
// an obfuscated node stops the walk at the last address a trusted proxy vouched for.
// Thread safety: immutable after construction; resolve() runs on every event loop at once.
#pragma once

#include <string_view>
#include <vector>

#include "core/concept/model.h"
#include "core/ip_address.h"
#include "http/request.h"

namespace slipway::api {

class ClientAddress {
 public:
  explicit ClientAddress(const model::ServerSettings& server);

  bool trusts_proxies() const { return !trusted_.empty(); }
  IpAddress resolve(const IpAddress& peer, const http::Request& request) const;

 private:
  bool trusted(const IpAddress& a) const;

  std::vector<IpNetwork> trusted_;
  bool forwarded_;  // read `Forwarded`, else `X-Forwarded-For`
};

// Every hop a forwarding header lists, left (the original client) to right (the last proxy), across all its lines,
// each as address text: quotes, an IPv6 literal's brackets and a port removed. A Forwarded element without `for=` is
// an empty hop. Views into the request's header values.
std::vector<std::string_view> forwarded_hops(const http::Request& request, bool forwarded);

}  // namespace slipway::api
