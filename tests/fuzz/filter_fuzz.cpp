// libFuzzer target: any bytes as a ?filter= / ?sort= / ?fields= against the blog example, then SQL for both
// dialects. Must never crash, hang or trip a sanitizer; errors are fine.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "blog_example.h"
#include "core/expr/expr.h"
#include "storage/sql/dialect.h"
#include "storage/sql/expr_compiler.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace slipway;
  const auto& c = slipway::fuzz::blog_example();
  const auto* posts = c.find_collection("posts");
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool admin : {false, true}) {
    auto bound = expr::parse_and_bind(text, *posts, c, {expr::Purpose::kFilter, admin});
    if (bound) {
      static const auto sqlite = sql::make_sqlite_dialect();
      static const auto postgres = sql::make_postgres_dialect();
      for (const sql::Dialect* d : {sqlite.get(), postgres.get()}) {
        sql::SqlBuilder b(*d);
        sql::compile_condition(**bound, b, {"t", admin});
      }
    }
    (void)expr::parse_sort(text, *posts, c, admin);
    (void)expr::parse_fields(text, *posts, admin);
  }
  return 0;
}
