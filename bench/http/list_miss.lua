-- LIST that always misses the list cache: an always-true predicate whose constant changes per request, so this
-- measures the uncached path (parse, bind, compile, SQLite, JSON) plus the cost of inserting into the cache.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local n = 0
function request()
  n = n + 1
  return wrk.format("GET", "/api/v1/posts?filter=published%20%3D%20true%20%26%26%20views%20%3E%3D%20-" .. n ..
                    "&sort=-created&limit=20")
end
