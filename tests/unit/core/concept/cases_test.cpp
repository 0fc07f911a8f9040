// Data-driven loader cases: each tests/cases/concept/*.yaml file lists, in comment lines at its top,
//   # expect: LINE:COL: MESSAGE
// the exact diagnostics the loader must produce, in order. A file without expect lines must load cleanly.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/concept/loader.h"

namespace slipway::model {
namespace {

namespace fs = std::filesystem;

const fs::path kCasesDir = fs::path(SLIPWAY_CASES_DIR) / "concept";

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCasesDir)) {
    if (entry.path().extension() == ".yaml") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> expected_diagnostics(const std::string& text) {
  constexpr std::string_view kPrefix = "# expect: ";
  std::vector<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(kPrefix)) out.push_back(line.substr(kPrefix.size()));
  }
  return out;
}

class ConceptCase : public testing::TestWithParam<std::string> {};

TEST_P(ConceptCase, ProducesExactlyTheExpectedDiagnostics) {
  const std::string file = GetParam() + ".yaml";
  const std::string text = read_all(kCasesDir / file);
  LoadResult result = load_concept_string(text, file);
  std::vector<std::string> actual;
  for (const Diagnostic& d : result.diagnostics) {
    EXPECT_EQ(d.file, file);
    actual.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
  }
  const std::vector<std::string> expected = expected_diagnostics(text);
  EXPECT_EQ(actual, expected);
  EXPECT_EQ(result.ok(), expected.empty());
  EXPECT_EQ(result.concept_file != nullptr, expected.empty());
}

INSTANTIATE_TEST_SUITE_P(Files, ConceptCase, testing::ValuesIn(case_names()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace_if(
                               name.begin(), name.end(), [](char c) { return !std::isalnum(c); }, '_');
                           return name;
                         });

}  // namespace
}  // namespace slipway::model
