-- Durable creates as the admin (the example's create rule is admin-only).
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local token = os.getenv("BENCH_TOKEN")
local n = 0
function request()
  n = n + 1
  local body = '{"title":"bench ' .. n .. '","body":"x","views":' .. n .. ',"published":true}'
  return wrk.format("POST", "/api/v1/posts",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
