#include "core/text_formats.h"

#include <gtest/gtest.h>

#include <string>

namespace slipway {
namespace {

TEST(TextFormats, EmailNeedsOneAtAndADottedDomain) {
  EXPECT_TRUE(valid_email("ada@example.com"));
  for (const char* bad : {"", "a@b", "@example.com", "a@@example.com", "a b@example.com", "a@example.", "a@.com",
                          "<a>@example.com", "a@exa\"mple.com"})
    EXPECT_FALSE(valid_email(bad)) << bad;
  EXPECT_FALSE(valid_email(std::string(250, 'a') + "@example.com"));
}

TEST(TextFormats, UrlNeedsAnHttpSchemeAndAHost) {
  EXPECT_TRUE(valid_url("https://example.com/x?y=1"));
  EXPECT_TRUE(valid_url("HTTP://example.com"));
  for (const char* bad : {"", "ftp://x", "https://", "https:///path", "javascript:alert(1)", "https://a b", "http://<x>"})
    EXPECT_FALSE(valid_url(bad)) << bad;
}

}  // namespace
}  // namespace slipway
