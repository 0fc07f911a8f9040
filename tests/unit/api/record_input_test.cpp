#include "api/record_input.h"

#include <gtest/gtest.h>

#include "core/concept/loader.h"

namespace slipway::api {
namespace {

constexpr const char* kConcept = R"(app: t
collections:
  things:
    fields:
      title: { type: text, required: true, min: 2, max: 5 }
      code:  { type: text, pattern: '^[a-z]+$' }
      n:     { type: int, min: 0, max: 10, default: 3 }
      f:     { type: float }
      b:     { type: bool }
      when:  { type: datetime }
      mail:  { type: email }
      link:  { type: url }
      kind:  { type: enum, values: [a, b] }
      data:  { type: json }
      fixed: { type: text, immutable: true }
)";

class RecordInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = model::load_concept_string(kConcept, "t.yaml");
    for (const auto& d : r.diagnostics) ADD_FAILURE() << d.to_string();
    concept_ = std::move(r.concept_file);
    c_ = concept_->find_collection("things");
  }
  std::vector<FieldError> errors_of(std::string_view body) {
    auto r = parse_create_body(body, *c_);
    EXPECT_FALSE(r.has_value()) << body;
    if (r) return {};
    EXPECT_EQ(r.error().code, ProblemCode::kUnprocessable) << r.error().detail;
    return r.error().errors;
  }
  std::unique_ptr<model::Concept> concept_;
  const model::Collection* c_ = nullptr;
};

TEST_F(RecordInput, AppliesDefaultsAndNormalisesDatetimes) {
  auto r = parse_create_body(R"({"title":"héllo","when":"2026-01-31T13:00:00+01:00","data":{"a":[1,2]}})", *c_);
  ASSERT_TRUE(r.has_value()) << r.error().detail;
  EXPECT_EQ(std::get<std::string>((*r)[0]), "héllo");  // 5 code points, 6 bytes: within max 5
  EXPECT_EQ(std::get<std::int64_t>((*r)[2]), 3);
  EXPECT_EQ(std::get<std::string>((*r)[5]), "2026-01-31T12:00:00.000Z");
  EXPECT_EQ(std::get<JsonText>((*r)[9]).text, R"({"a":[1,2]})");
}

TEST_F(RecordInput, ReportsEveryFailingFieldAtOnce) {
  auto errors = errors_of(
      R"({"code":"ABC","n":11,"f":"x","b":1,"when":"yesterday","mail":"no","link":"ftp://x","kind":"c","id":"x","bogus":1})");
  std::map<std::string, std::string> by_field;
  for (const auto& e : errors) by_field[e.field] = e.code;
  EXPECT_EQ(by_field["title"], "required");
  EXPECT_EQ(by_field["code"], "pattern");
  EXPECT_EQ(by_field["n"], "max");
  EXPECT_EQ(by_field["f"], "type");
  EXPECT_EQ(by_field["b"], "type");
  EXPECT_EQ(by_field["when"], "datetime");
  EXPECT_EQ(by_field["mail"], "email");
  EXPECT_EQ(by_field["link"], "url");
  EXPECT_EQ(by_field["kind"], "enum");
  EXPECT_EQ(by_field["id"], "read_only");
  EXPECT_EQ(by_field["bogus"], "unknown");
  EXPECT_EQ(errors.size(), 11u);
}

TEST_F(RecordInput, TextLengthCountsCodePoints) {
  EXPECT_EQ(errors_of(R"({"title":"é"})")[0].code, "min");
  EXPECT_EQ(errors_of(R"({"title":"éééééé"})")[0].code, "max");
}

TEST_F(RecordInput, EmptyRequiredTextIsMissing) { EXPECT_EQ(errors_of(R"({"title":""})")[0].code, "required"); }

TEST_F(RecordInput, HugeAndFractionalNumbersAreRejectedForInt) {
  EXPECT_EQ(errors_of(R"({"title":"ok","n":99999999999999999999})")[0].code, "range");
  EXPECT_EQ(errors_of(R"({"title":"ok","n":1.5})")[0].code, "type");
  EXPECT_EQ(errors_of(R"({"title":"ok","f":1e400})")[0].code, "range");
}

TEST_F(RecordInput, MalformedBodiesAre400) {
  for (std::string body : {std::string(""), std::string("{"), std::string("[]"), std::string("null"),
                           std::string("{\"title\":\"a\xff\"}"), std::string(10000, '[')}) {
    auto r = parse_create_body(body, *c_);
    ASSERT_FALSE(r.has_value()) << body.substr(0, 40);
    EXPECT_EQ(r.error().code, ProblemCode::kBadRequest) << body.substr(0, 40);
  }
}

TEST_F(RecordInput, PatchRejectsImmutableAndNullingRequired) {
  auto r = parse_patch_body(R"({"fixed":"x","title":null,"n":4})", *c_);
  ASSERT_FALSE(r.has_value());
  ASSERT_EQ(r.error().errors.size(), 2u);
  EXPECT_EQ(r.error().errors[0].code, "required");
  EXPECT_EQ(r.error().errors[1].code, "immutable");
  auto ok = parse_patch_body(R"({"n":4})", *c_);
  ASSERT_TRUE(ok.has_value());
  ASSERT_EQ(ok->size(), 1u);
  EXPECT_EQ((*ok)[0].first, 2);
}

}  // namespace
}  // namespace slipway::api
