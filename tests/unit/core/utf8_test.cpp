#include "core/utf8.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(Utf8, AcceptsAsciiAndMultibyte) {
  EXPECT_TRUE(valid_utf8(""));
  EXPECT_TRUE(valid_utf8("plain"));
  EXPECT_TRUE(valid_utf8("héllo ✓ 😀 \xf4\x8f\xbf\xbf"));  // U+10FFFF is the last code point
}

TEST(Utf8, FindsTheFirstInvalidByte) {
  EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);
  EXPECT_EQ(first_invalid_utf8("a\xc0\xaf"), 1u);          // overlong '/'
  EXPECT_EQ(first_invalid_utf8("\xe0\x80\xaf"), 0u);       // overlong 3-byte
  EXPECT_EQ(first_invalid_utf8("x\xed\xa0\x80"), 1u);      // UTF-16 surrogate
  EXPECT_EQ(first_invalid_utf8("\xf4\x90\x80\x80"), 0u);   // past U+10FFFF
  EXPECT_EQ(first_invalid_utf8("ok\xe2\x9c"), 2u);         // truncated
  EXPECT_EQ(first_invalid_utf8("\x80"), 0u);               // lone continuation byte
}

TEST(Utf8, CountsCodePointsNotBytes) {
  EXPECT_EQ(utf8_code_points("héllo"), 5u);
  EXPECT_EQ(utf8_code_points("😀"), 1u);
}

}  // namespace
}  // namespace slipway
