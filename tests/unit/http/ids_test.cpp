#include "http/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "http/request.h"

namespace slipway::http {
namespace {

TEST(RequestId, AcceptsTheSafeAlphabetUpTo64Chars) {
  EXPECT_TRUE(valid_request_id("a"));
  EXPECT_TRUE(valid_request_id("Az09._-"));
  EXPECT_TRUE(valid_request_id(std::string(64, 'x')));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id(std::string(65, 'x')));
  EXPECT_FALSE(valid_request_id("a b"));
  EXPECT_FALSE(valid_request_id("a\nb"));
  EXPECT_FALSE(valid_request_id("é"));
}

TEST(RequestId, GeneratedIdsAreValidAndDistinct) {
  std::set<std::string> seen;
  std::string id;
  for (int i = 0; i < 1000; ++i) {
    generate_request_id(id);
    EXPECT_EQ(id.size(), 24u);
    EXPECT_TRUE(valid_request_id(id));
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(TraceParent, ParsesVersion00) {
  TraceParent tp;
  ASSERT_TRUE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tp));
  EXPECT_EQ(tp.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(tp.parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(tp.flags, "01");
}

TEST(TraceParent, RejectsZeroIdsUppercaseOtherVersionsAndWrongShapes) {
  TraceParent tp;
  EXPECT_FALSE(parse_traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", tp));
  EXPECT_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-", tp));
  EXPECT_FALSE(parse_traceparent("00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tp));
  EXPECT_FALSE(parse_traceparent("", tp));
}

TEST(TraceParent, GeneratedIdsParse) {
  std::string trace;
  generate_trace_id(trace);
  char span[16];
  generate_span_id(span);
  TraceParent tp;
  EXPECT_TRUE(parse_traceparent("00-" + trace + "-" + std::string(span, 16) + "-01", tp));
}

TEST(Request, HeaderLookupIgnoresCase) {
  Request r;
  r.headers = {{"Content-Type", "a"}, {"X-Two", "first"}, {"x-two", "second"}};
  EXPECT_EQ(r.header("content-type"), "a");
  EXPECT_EQ(r.header("X-TWO"), "first");
  EXPECT_EQ(r.header("missing"), "");
  EXPECT_EQ(method_name(Method::kPatch), "PATCH");
}

}  // namespace
}  // namespace slipway::http
