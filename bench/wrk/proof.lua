-- Inclusion proofs for random leaves of the tree of BENCH_TREE_SIZE leaves.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
setup = common.setup
done = common.done

local size = tonumber(os.getenv("BENCH_TREE_SIZE"))

function init(args)
  math.randomseed(os.time() + thread_number * 7919)
end

request = function()
  local path = string.format("/v1/audit/proofs/inclusion?index=%d&tree_size=%d", math.random(0, size - 1), size)
  return wrk.format(nil, path)
end
