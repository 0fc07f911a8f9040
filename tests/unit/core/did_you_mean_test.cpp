#include "core/did_you_mean.h"

#include <gtest/gtest.h>

namespace slipway {
namespace {

TEST(EditDistance, CountsInsertionsDeletionsAndSubstitutions) {
  EXPECT_EQ(edit_distance("", ""), 0U);
  EXPECT_EQ(edit_distance("abc", ""), 3U);
  EXPECT_EQ(edit_distance("requird", "required"), 1U);
  EXPECT_EQ(edit_distance("titel", "title"), 2U);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3U);
}

TEST(DidYouMean, SuggestsTheClosestNameWithinTwoEdits) {
  EXPECT_EQ(did_you_mean("requird", {"type", "required", "unique"}), " (did you mean 'required'?)");
  EXPECT_EQ(did_you_mean("uniq", {"type", "required", "unique"}), " (did you mean 'unique'?)");
}

TEST(DidYouMean, SuggestsNothingWhenEverythingIsFar) {
  EXPECT_EQ(did_you_mean("policies", {"app", "collections"}), "");
}

TEST(DidYouMean, DoesNotCallEveryShortNameClose) {
  EXPECT_EQ(did_you_mean("x", {"to", "id"}), "");
  EXPECT_EQ(did_you_mean("ab", {"to"}), "");
  EXPECT_EQ(did_you_mean("bad", {"max"}), "");  // two edits in three letters is a different word
  EXPECT_EQ(did_you_mean("lst", {"list"}), " (did you mean 'list'?)");
}

TEST(DidYouMean, BreaksTiesByCandidateOrder) { EXPECT_EQ(closest_name("mix", {"min", "max"}).value_or(""), "min"); }

}  // namespace
}  // namespace slipway
