#include "api/client_address.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace slipway::api {
namespace {

using Header = model::ServerSettings::AddressHeader;

model::ServerSettings behind(std::vector<std::string> networks, Header header = Header::kXForwardedFor) {
  model::ServerSettings s;
  for (const auto& n : networks) s.trusted_proxies.push_back(*parse_network(n));
  s.client_address_header = header;
  return s;
}

// The client of a request from `peer` with these header lines, as text.
std::string client(const ClientAddress& a, std::string_view peer,
                   std::vector<std::pair<std::string_view, std::string_view>> headers) {
  http::Request r;
  r.headers = std::move(headers);
  return a.resolve(*parse_ip(peer), r).to_string();
}

TEST(ClientAddress, WithoutTrustedProxiesThePeerIsTheClientWhateverItClaims) {
  const ClientAddress a{model::ServerSettings{}};
  EXPECT_FALSE(a.trusts_proxies());
  EXPECT_EQ(client(a, "198.51.100.4", {{"X-Forwarded-For", "203.0.113.1"}, {"Forwarded", "for=203.0.113.2"}}),
            "198.51.100.4");
}

TEST(ClientAddress, AnUntrustedPeerIsItsOwnClient) {
  const ClientAddress a{behind({"10.0.0.0/8"})};
  EXPECT_EQ(client(a, "198.51.100.4", {{"X-Forwarded-For", "203.0.113.1"}}), "198.51.100.4");
}

TEST(ClientAddress, TheWalkFromTheRightStopsAtTheFirstAddressThatIsNoProxy) {
  const ClientAddress a{behind({"10.0.0.0/8"})};
  EXPECT_EQ(client(a, "10.0.0.1", {{"X-Forwarded-For", "203.0.113.1"}}), "203.0.113.1");
  // What the client wrote itself, left of what the proxies appended, is never reached.
  EXPECT_EQ(client(a, "10.0.0.1", {{"X-Forwarded-For", "6.6.6.6, 203.0.113.1, 10.0.0.2"}}), "203.0.113.1");
  // Several lines are one list, in order.
  EXPECT_EQ(client(a, "10.0.0.1", {{"x-forwarded-for", "6.6.6.6"}, {"X-FORWARDED-FOR", "203.0.113.9"}}),
            "203.0.113.9");
  // Only proxies: the leftmost is as far as anyone vouched.
  EXPECT_EQ(client(a, "10.0.0.1", {{"X-Forwarded-For", "10.0.0.7, 10.0.0.8"}}), "10.0.0.7");
  // No header at all: the proxy itself.
  EXPECT_EQ(client(a, "10.0.0.1", {}), "10.0.0.1");
}

TEST(ClientAddress, HostileEntriesStopTheWalkAtTheLastVouchedAddress) {
  const ClientAddress a{behind({"10.0.0.0/8"})};
  for (const char* bad : {"garbage", "", "unknown", "_hidden", "1.2.3.4.5", "::g", "[2001:db8::1",
                          "\"203.0.113.1", "203.0.113.1 ; drop"}) {
    EXPECT_EQ(client(a, "10.0.0.1", {{"X-Forwarded-For", bad}}), "10.0.0.1") << bad;
    EXPECT_EQ(client(a, "10.0.0.1", {{"X-Forwarded-For", std::string("203.0.113.5, ") + bad + ", 10.0.0.3"}}),
              "10.0.0.3")
        << bad;
  }
  const std::string many(15000, ',');  // an empty list of thousands of entries: still the proxy
  EXPECT_EQ(client(a, "10.0.0.1", {{"X-Forwarded-For", many}}), "10.0.0.1");
}

TEST(ClientAddress, PortsBracketsAndQuotesAreTakenOff) {
  const ClientAddress x{behind({"10.0.0.0/8"})};
  EXPECT_EQ(client(x, "10.0.0.1", {{"X-Forwarded-For", "203.0.113.1:4711"}}), "203.0.113.1");
  EXPECT_EQ(client(x, "10.0.0.1", {{"X-Forwarded-For", "[2001:db8::1]:4711"}}), "2001:db8::1");
  EXPECT_EQ(client(x, "10.0.0.1", {{"X-Forwarded-For", "2001:db8::2"}}), "2001:db8::2");
  const ClientAddress f{behind({"10.0.0.0/8"}, Header::kForwarded)};
  EXPECT_EQ(client(f, "10.0.0.1", {{"Forwarded", "for=\"[2001:db8::1]:80\";proto=https;by=10.0.0.1"}}), "2001:db8::1");
  EXPECT_EQ(client(f, "10.0.0.1", {{"Forwarded", "proto=https;FOR=192.0.2.60"}}), "192.0.2.60");
  EXPECT_EQ(client(f, "10.0.0.1", {{"Forwarded", "for=192.0.2.1, for=10.0.0.9"}}), "192.0.2.1");
  // A comma inside a quoted value does not split the element.
  EXPECT_EQ(client(f, "10.0.0.1", {{"Forwarded", "for=192.0.2.2;x=\"a,b\""}}), "192.0.2.2");
  // An element without for=, or for=unknown: stop at the proxy.
  EXPECT_EQ(client(f, "10.0.0.1", {{"Forwarded", "proto=https"}}), "10.0.0.1");
  EXPECT_EQ(client(f, "10.0.0.1", {{"Forwarded", "for=unknown"}}), "10.0.0.1");
}

TEST(ClientAddress, OnlyTheConfiguredHeaderIsRead) {
  const ClientAddress x{behind({"10.0.0.0/8"})};
  EXPECT_EQ(client(x, "10.0.0.1", {{"Forwarded", "for=6.6.6.6"}}), "10.0.0.1");
  const ClientAddress f{behind({"10.0.0.0/8"}, Header::kForwarded)};
  EXPECT_EQ(client(f, "10.0.0.1", {{"X-Forwarded-For", "6.6.6.6"}}), "10.0.0.1");
}

}  // namespace
}  // namespace slipway::api
