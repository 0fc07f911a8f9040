-- Token refresh, a durable write: each refresh spends the presented refresh token and stores its successor
-- (docs/security.md, rotation). A token can be spent once, so every request in flight needs a chain of its own:
-- BENCH_REFRESH_TOKENS holds live refresh tokens (one session each), split between wrk's BENCH_THREADS threads.
-- A thread's tokens wait in a queue: a request takes one, its response puts the successor back. wrk sends a
-- connection's next request only after its response was read (no pipelining), so a thread holding as many tokens
-- as it has connections never runs dry. Give each thread one token more: wrk 4.1 calls request() once on the first
-- thread before the run, to check the script, and never sends that request, so its token (and chain) is lost;
-- on the other threads the spare chain simply takes turns with the rest. A chain that breaks (any answer but 200
-- with a successor) is not replaced: once a thread runs dry, requests go out with a spent token and count in
-- non2xx.
dofile(os.getenv("BENCH_DIR") .. "/report.lua")

local next_thread = 0
function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

local queue, head, tail = {}, 1, 0
function init(args)
  local threads = tonumber(os.getenv("BENCH_THREADS") or "1")
  local n = 0
  for line in io.lines(os.getenv("BENCH_REFRESH_TOKENS")) do
    if n % threads == thread_index then
      tail = tail + 1
      queue[tail] = line
    end
    n = n + 1
  end
end

local headers = {["Content-Type"] = "application/json"}
function request()
  local token = "spent"
  if head <= tail then
    token = queue[head]
    queue[head] = nil
    head = head + 1
  end
  return wrk.format("POST", "/api/v1/auth/refresh", headers, '{"refresh_token":"' .. token .. '"}')
end

function response(status, headers, body)
  local successor = status == 200 and body:match('"refresh_token":"([^"]+)"')
  if successor then
    tail = tail + 1
    queue[tail] = successor
  end
end
