dofile(os.getenv("BENCH_DIR") .. "/report.lua")
function request() return wrk.format("GET", "/") end
