-- GET one referral at a time, cycling through the ids in BENCH_IDS (each thread from its own place).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
setup = common.setup
done = common.done

local ids, next_id

function init(args)
  ids = common.lines(os.getenv("BENCH_IDS"))
  next_id = (thread_number * 7919) % #ids
end

request = function()
  next_id = next_id % #ids + 1
  return wrk.format(nil, "/v1/referrals/" .. ids[next_id])
end
