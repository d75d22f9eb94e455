-- GET one referral's FHIR Task at a time, cycling through the ids in BENCH_IDS (as get.lua does).
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
wrk.headers["Accept"] = "application/fhir+json"
setup = common.setup
done = common.done

local ids, next_id

function init(args)
  ids = common.lines(os.getenv("BENCH_IDS"))
  next_id = (thread_number * 7919) % #ids
end

request = function()
  next_id = next_id % #ids + 1
  return wrk.format(nil, "/fhir/R4/Task/" .. ids[next_id])
end
