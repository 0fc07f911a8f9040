#include "core/ip_address.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(IpAddress, ParsesBothFamiliesAndTreatsMappedIpv4AsIpv4) {
  EXPECT_EQ(parse_ip("192.0.2.1")->to_string(), "192.0.2.1");
  EXPECT_TRUE(parse_ip("192.0.2.1")->v4());
  EXPECT_EQ(parse_ip("2001:db8::1")->to_string(), "2001:db8::1");
  EXPECT_FALSE(parse_ip("2001:db8::1")->v4());
  EXPECT_EQ(parse_ip("::ffff:192.0.2.1")->client_key(), parse_ip("192.0.2.1")->client_key());
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:80", "[::1]", "fe80::1%eth0", "::g",
                          " 1.2.3.4", "unknown", "1.2.3.4/8"}) {
    EXPECT_FALSE(parse_ip(bad).has_value()) << bad;
  }
}

TEST(IpAddress, AnIpv6ClientIsItsSlash64) {
  EXPECT_EQ(parse_ip("2001:db8:1:2::1")->client_key(), parse_ip("2001:db8:1:2:ffff::9")->client_key());
  EXPECT_NE(parse_ip("2001:db8:1:2::1")->client_key(), parse_ip("2001:db8:1:3::1")->client_key());
  EXPECT_NE(parse_ip("192.0.2.1")->client_key(), parse_ip("192.0.2.2")->client_key());
}

TEST(IpNetwork, ContainsExactlyItsAddresses) {
  const auto net = parse_network("10.0.0.0/8");
  ASSERT_TRUE(net);
  EXPECT_TRUE(net->contains(*parse_ip("10.255.1.2")));
  EXPECT_TRUE(net->contains(*parse_ip("::ffff:10.0.0.1")));
  EXPECT_FALSE(net->contains(*parse_ip("11.0.0.1")));
  EXPECT_FALSE(net->contains(*parse_ip("::a00:1")));  // IPv4-compatible, not mapped: another address
  const auto one = parse_network("127.0.0.1");
  EXPECT_TRUE(one->contains(*parse_ip("127.0.0.1")));
  EXPECT_FALSE(one->contains(*parse_ip("127.0.0.2")));
  const auto v6 = parse_network("2001:db8::/32");
  EXPECT_TRUE(v6->contains(*parse_ip("2001:db8:ffff::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("2001:db9::1")));
  EXPECT_FALSE(v6->contains(*parse_ip("10.0.0.1")));
  EXPECT_TRUE(parse_network("0.0.0.0/0")->contains(*parse_ip("203.0.113.9")));
  EXPECT_TRUE(parse_network("::/0")->contains(*parse_ip("2001:db8::1")));
  EXPECT_TRUE(parse_network("10.1.2.3/32")->contains(*parse_ip("10.1.2.3")));
}

TEST(IpNetwork, RefusesMalformedPrefixesAndHostBitsPastThem) {
  for (const char* bad : {"10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/", "10.0.0.0/8x", "10.0.0.1/8", "::1/129",
                          "2001:db8::1/32", "10.0.0.0/08a", "/8", "localhost"}) {
    EXPECT_FALSE(parse_network(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace slipway
