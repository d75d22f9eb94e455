-- Accept referrals still at version 1, each once: thread n takes ids n, n + threads, ...
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["If-Match"] = '"1"'
wrk.body = '{"to": "accepted"}'
setup = common.setup
done = common.done

local ids, step, next_id

function init(args)
  ids = common.lines(os.getenv("BENCH_IDS"))
  step = tonumber(os.getenv("BENCH_THREADS"))
  next_id = thread_number + 1 - step
end

request = function()
  -- Past the end the ids repeat and are refused (412): the driver reports them as errors.
  next_id = next_id + step
  if next_id > #ids then next_id = thread_number + 1 end
  return wrk.format(nil, "/v1/referrals/" .. ids[next_id] .. "/transitions")
end
