-- GET one record by id. Ids come from BENCH_IDS (one per line); each thread walks them round-robin.
-- BENCH_PATH: the collection's path (default /api/v1/posts/); BENCH_BEARER: an access token to send (default:
-- anonymous); BENCH_INTERVAL_MS: pace each connection (wrk's delay()) instead of running flat out.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local prefix = os.getenv("BENCH_PATH") or "/api/v1/posts/"
local bearer = os.getenv("BENCH_BEARER")
local headers = bearer and {["Authorization"] = "Bearer " .. bearer} or nil
local i = 0
local interval = tonumber(os.getenv("BENCH_INTERVAL_MS") or "0")
function request()
  i = i % #ids + 1
  return wrk.format("GET", prefix .. ids[i], headers)
end
if interval > 0 then
  function delay() return interval end
end
