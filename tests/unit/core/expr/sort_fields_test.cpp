#include <gtest/gtest.h>

#include "core/expr/expr.h"
#include "unit/core/expr/blog_fixture.h"

namespace slipway::expr {
namespace {

std::string sorted(std::string_view text, bool admin = false) {
  auto s = parse_sort(text, testing::posts(), testing::blog_concept(), admin);
  if (!s) {
    EXPECT_EQ(s.error().parameter, "sort");
    return "error@" + std::to_string(s.error().position) + ": " + s.error().detail;
  }
  std::string out;
  for (const SortKey& k : *s) out += (out.empty() ? "" : ",") + std::string(k.descending ? "-" : "+") + k.field;
  return out;
}

std::string fields(std::string_view text, bool admin = false) {
  auto f = parse_fields(text, testing::posts(), admin);
  if (!f) {
    EXPECT_EQ(f.error().parameter, "fields");
    return "error@" + std::to_string(f.error().position) + ": " + f.error().detail;
  }
  std::string out;
  for (const std::string& n : *f) out += (out.empty() ? "" : ",") + n;
  return out;
}

TEST(ExprSort, ParsesKeysWithDirections) {
  EXPECT_EQ(sorted("-created,title"), "-created,+title");
  EXPECT_EQ(sorted("  -views ,  +title  "), "-views,+title");
  EXPECT_EQ(sorted(""), "");
  EXPECT_EQ(sorted("   "), "");
}

// Review finding on issue 6 item 7: the order of masked relation ids would tell them; posts.author → users is not
// visible to everyone, so only the admin sorts by it.
TEST(ExprSort, ARelationWhoseTargetNotEveryoneMayViewIsSortedByTheAdminOnly) {
  EXPECT_EQ(sorted("title,-author"), "error@7: cannot sort by 'author': it names records of 'users' that not everyone may view");
  EXPECT_EQ(sorted("title,-author", true), "+title,-author");
}

TEST(ExprSort, KeepsFieldDefinitions) {
  auto s = parse_sort("title,id", testing::posts(), testing::blog_concept(), false);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)[0].def, &testing::posts().fields[0]);
  EXPECT_EQ((*s)[1].def, nullptr);
}

TEST(ExprSort, RejectsUnknownHiddenAndJsonFieldsWithPosition) {
  EXPECT_EQ(sorted("-created,titel"), "error@9: unknown field 'titel' (did you mean 'title'?)");
  EXPECT_EQ(sorted("-secret"), "error@1: unknown field 'secret'");
  EXPECT_EQ(sorted("-secret", true), "-secret");
  EXPECT_EQ(sorted("title,tags"), "error@6: cannot sort by json field 'tags'");
  EXPECT_EQ(sorted("author.name"), "error@0: invalid field name 'author.name'");
  EXPECT_EQ(sorted("--title"), "error@1: invalid field name '-title'");
}

TEST(ExprSort, RejectsDuplicatesAndEmptyKeys) {
  EXPECT_EQ(sorted("title,-title"), "error@7: duplicate sort key 'title'");
  EXPECT_EQ(sorted("title,,views"), "error@6: empty name in the list (stray ',')");
  EXPECT_EQ(sorted("title,"), "error@6: empty name in the list (stray ',')");
}

TEST(ExprSort, LimitsTheNumberOfKeys) {
  EXPECT_EQ(sorted("id,created,updated,version,title,body,views,score"),
            "+id,+created,+updated,+version,+title,+body,+views,+score");
  EXPECT_EQ(sorted("id,created,updated,version,title,body,views,score,status"),
            "error@50: too many sort keys (max 8)");
}

TEST(ExprSort, RejectsHostileText) {
  EXPECT_EQ(sorted("title; DROP TABLE posts"), "error@0: invalid field name 'title; DROP TABLE posts'");
  EXPECT_EQ(sorted("\"title\""), "error@0: invalid field name '\"title\"'");
  EXPECT_EQ(sorted("tit\xC3le"), "error@3: invalid UTF-8");
  EXPECT_EQ(sorted(std::string(5000, 'a')), "error@4096: too long (5000 bytes, max 4096)");
}

TEST(ExprFields, KeepsOrderAndDropsDuplicates) {
  EXPECT_EQ(fields("title, id,views,title"), "title,id,views");
  EXPECT_EQ(fields(""), "");
}

TEST(ExprFields, RejectsUnknownAndHiddenWithPosition) {
  EXPECT_EQ(fields("id,titel"), "error@3: unknown field 'titel' (did you mean 'title'?)");
  EXPECT_EQ(fields("id, secret"), "error@4: unknown field 'secret'");
  EXPECT_EQ(fields("id,secret", true), "id,secret");
  EXPECT_EQ(fields("id,,title"), "error@3: empty name in the list (stray ',')");
}

}  // namespace
}  // namespace slipway::expr
