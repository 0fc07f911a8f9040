// Runs every case in tests/cases/expr/*.txt. Format (see tests/cases/expr/README.md):
//   expr: <filter text, verbatim to the end of the line>
//   [collection: posts] [admin: true] [purpose: rule] [auth: none]
//   sqlite: <SQL>   postgres: <SQL>   params: <rendered params>      (a success case)
//   error: <detail> position: <n>                                   (a failure case)
// Cases are separated by blank lines; lines starting with '#' are comments.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "unit/storage/sql/expr_test_util.h"

namespace slipway::sql {
namespace {

struct Case {
  std::string file;
  int line = 0;
  std::map<std::string, std::string> keys;
};

std::vector<Case> load_cases() {
  std::vector<Case> out;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(SLIPWAY_CASES_DIR) + "/expr")) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int n = 0;
    Case cur;
    auto flush = [&] {
      if (!cur.keys.empty()) out.push_back(cur);
      cur = Case{};
    };
    while (std::getline(in, line)) {
      ++n;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) {
        flush();
        continue;
      }
      if (line[0] == '#') continue;
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) {
        ADD_FAILURE() << path << ":" << n << ": expected 'key: value'";
        continue;
      }
      if (cur.keys.empty()) {
        cur.file = path.filename().string();
        cur.line = n;
      }
      std::string value = line.substr(colon + 1);
      if (!value.empty() && value[0] == ' ') value.erase(0, 1);
      cur.keys[line.substr(0, colon)] = value;
    }
    flush();
  }
  return out;
}

TEST(ExprCases, AllCaseFilesPass) {
  const std::vector<Case> cases = load_cases();
  ASSERT_GE(cases.size(), 20u) << "case files not found under " << SLIPWAY_CASES_DIR;
  auto sqlite = make_sqlite_dialect();
  auto pg = make_postgres_dialect();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file + ":" + std::to_string(c.line));
    auto get = [&](const std::string& k, const std::string& def = "") {
      auto it = c.keys.find(k);
      return it == c.keys.end() ? def : it->second;
    };
    ASSERT_TRUE(c.keys.count("expr")) << "a case needs 'expr:'";
    const std::string text = get("expr");
    const model::Concept& concept_file = get("auth") == "none" ? slipway::testing::blog_concept_without_auth()
                                                               : slipway::testing::blog_concept();
    const model::Collection* coll = nullptr;
    for (const model::Collection& c : concept_file.collections) {
      if (c.name == get("collection", "posts")) coll = &c;
    }
    ASSERT_NE(coll, nullptr) << "no collection " << get("collection");
    const bool admin = get("admin") == "true";
    const auto purpose = get("purpose") == "rule" ? expr::Purpose::kRule : expr::Purpose::kFilter;
    const testing::Compiled a = testing::compile(text, *sqlite, *coll, admin, purpose, concept_file);
    const testing::Compiled b = testing::compile(text, *pg, *coll, admin, purpose, concept_file);
    if (c.keys.count("error")) {
      EXPECT_EQ(a.sql, "error@" + get("position", "?") + ": " + get("error")) << text;
      continue;
    }
    EXPECT_TRUE(c.keys.count("sqlite") || c.keys.count("postgres")) << "a case needs SQL or an error";
    if (c.keys.count("sqlite")) {
      EXPECT_EQ(a.sql, get("sqlite")) << text;
    }
    if (c.keys.count("postgres")) {
      EXPECT_EQ(b.sql, get("postgres")) << text;
    }
    EXPECT_EQ(a.params, get("params")) << text;
    EXPECT_EQ(b.params, get("params")) << text;
  }
}

}  // namespace
}  // namespace slipway::sql
