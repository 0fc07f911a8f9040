// Micro-benchmarks of the functions on the request hot path: binding a client filter, compiling it to SQL,
// writing a record as JSON, and generating ids.
#include <benchmark/benchmark.h>

#include "api/record_json.h"
#include "core/clock.h"
#include "core/concept/loader.h"
#include "core/expr/expr.h"
#include "core/uuid7.h"
#include "storage/sql/dialect.h"
#include "storage/sql/expr_compiler.h"

namespace {

using namespace slipway;

const model::Concept& blog() {
  static auto loaded = model::load_concept_file(BENCH_EXAMPLE);
  if (!loaded.ok()) std::abort();
  return *loaded.concept_file;
}

void BM_ParseAndBindFilter(benchmark::State& state) {
  const auto& c = blog();
  const auto* posts = c.find_collection("posts");
  for (auto _ : state) {
    auto b = expr::parse_and_bind("published = true && (views > 10 || title ~ 'intro') && status in ('draft','live')",
                                  *posts, c, {expr::Purpose::kFilter, false});
    benchmark::DoNotOptimize(b);
  }
}
BENCHMARK(BM_ParseAndBindFilter);

void BM_CompileFilterSqlite(benchmark::State& state) {
  const auto& c = blog();
  const auto* posts = c.find_collection("posts");
  auto bound = expr::parse_and_bind("published = true && (views > 10 || title ~ 'intro')", *posts, c,
                                    {expr::Purpose::kFilter, false});
  auto dialect = sql::make_sqlite_dialect();
  for (auto _ : state) {
    sql::SqlBuilder b(*dialect);
    sql::compile_condition(**bound, b);
    benchmark::DoNotOptimize(b.sql());
  }
}
BENCHMARK(BM_CompileFilterSqlite);

void BM_WriteRecordJson(benchmark::State& state) {
  const auto& c = blog();
  const auto* posts = c.find_collection("posts");
  storage::Record r;
  r.id = "01a227c1-502b-7000-8000-000000000001";
  r.created = r.updated = "2026-11-24T14:41:50.123Z";
  for (const auto& f : posts->fields) {
    (void)f;
    r.values.emplace_back(std::string("a typical value with \"quotes\" and é"));
  }
  std::string out;
  for (auto _ : state) {
    out.clear();
    JsonWriter w(out);
    api::write_record(w, r, *posts, c, {});
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_WriteRecordJson);

void BM_Uuid7(benchmark::State& state) {
  SystemClock clock;
  Uuid7Generator gen(clock);
  for (auto _ : state) benchmark::DoNotOptimize(gen.generate());
}
BENCHMARK(BM_Uuid7);

}  // namespace
