-- GET one path (BENCH_PATH), with the token if one is given.
local common = dofile(os.getenv("BENCH_WRK_DIR") .. "/common.lua")
common.authorise()
wrk.path = os.getenv("BENCH_PATH")
done = common.done
