-- Logins at the default argon2id parameters: each is a password hash on slipway's niced hashing pool and a new
-- session written. Accounts come from BENCH_LOGIN_EMAILS (one address per line, all with BENCH_PASSWORD); each
-- thread walks them round-robin.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")
local bodies = {}
local password = os.getenv("BENCH_PASSWORD")
for line in io.lines(os.getenv("BENCH_LOGIN_EMAILS")) do
  bodies[#bodies + 1] = '{"email":"' .. line .. '","password":"' .. password .. '"}'
end
local headers = {["Content-Type"] = "application/json"}
local i = 0
function request()
  i = i % #bodies + 1
  return wrk.format("POST", "/api/v1/auth/login", headers, bodies[i])
end
