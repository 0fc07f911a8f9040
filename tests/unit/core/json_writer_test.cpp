#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

std::string quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(JsonWriter, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(quoted("plain text"), "\"plain text\"");
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(quoted(std::string_view("\x01\x1f\0", 3)), "\"\\u0001\\u001f\\u0000\"");
}

TEST(JsonWriter, KeepsValidUtf8AndReplacesInvalidBytes) {
  EXPECT_EQ(quoted("héllo ✓ 😀"), "\"héllo ✓ 😀\"");
  EXPECT_EQ(quoted("a\xff" "b"), "\"a\\ufffdb\"");
  EXPECT_EQ(quoted("\xc0\xaf"), "\"\\ufffd\\ufffd\"");      // overlong '/'
  EXPECT_EQ(quoted("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // a UTF-16 surrogate
  EXPECT_EQ(quoted("\xe2\x9c"), "\"\\ufffd\\ufffd\"");      // truncated sequence
}

TEST(JsonWriter, WritesNestedStructuresWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("a").integer(1).key("b").begin_array().string("x").null().boolean(true).end_array();
  w.key("c").number(1.5).key("d").number(2).key("e").value(Value(JsonText{"{\"k\":[1]}"})).end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,true],"c":1.5,"d":2.0,"e":{"k":[1]}})");
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  std::string out;
  append_json_double(out, 1.0 / 0.0);
  EXPECT_EQ(out, "null");
}

}  // namespace
}  // namespace slipway
