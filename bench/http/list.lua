dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local path = "/api/v1/posts?filter=published%20%3D%20true&sort=-created&limit=20"
function request() return wrk.format("GET", path) end
