-- GET one record by id, anonymous. Ids come from BENCH_IDS (one per line); each thread walks them round-robin.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local ids = {}
for line in io.lines(os.getenv("BENCH_IDS")) do ids[#ids + 1] = line end
local i = 0
local interval = tonumber(os.getenv("BENCH_INTERVAL_MS") or "0")
function request()
  i = i % #ids + 1
  return wrk.format("GET", "/api/v1/posts/" .. ids[i])
end
if interval > 0 then
  function delay() return interval end
end
